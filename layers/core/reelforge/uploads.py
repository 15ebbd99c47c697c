"""What happens when an object lands in the bucket (the S3 trigger's logic).

Each surface that takes uploads registers a handler for its key prefix (`@handles`); this
module only routes records to them, so it knows no surface.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_plus

UploadHandler = Callable[[str, int], dict[str, Any]]
_handlers: dict[str, UploadHandler] = {}


def handles(prefix: str) -> Callable[[UploadHandler], UploadHandler]:
    """Register the decorated `handler(key, size) -> outcome` for keys under `prefix`."""

    def register(handler: UploadHandler) -> UploadHandler:
        _handlers[prefix] = handler
        return handler

    return register


def handle_s3_event(event: dict[str, Any]) -> list[dict[str, Any]]:
    """Route each record of an S3 ObjectCreated event by key prefix."""
    outcomes = []
    for record in event.get("Records", []):
        obj = record["s3"]["object"]
        key = unquote_plus(obj["key"])  # S3 event keys arrive URL-encoded
        size = int(obj.get("size") or 0)
        # The most specific prefix wins (works-uploads/assets/ before works-uploads/).
        matching = [prefix for prefix in _handlers if key.startswith(prefix)]
        handler = _handlers[max(matching, key=len)] if matching else None
        outcomes.append(handler(key, size) if handler else {"key": key, "outcome": "ignored"})
    return outcomes
