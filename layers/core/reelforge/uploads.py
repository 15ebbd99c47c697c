"""What happens when an object lands in the bucket (the S3 trigger's logic)."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools import Logger

from reelforge import blobs, projects, segments
from reelforge.blobs import Blobs
from reelforge.errors import IngestError, InvalidMediaError
from reelforge.media.probe import probe
from reelforge.settings import get_settings
from reelforge.store import NotFound

logger = Logger(child=True)


def handle_s3_event(event: dict[str, Any]) -> list[dict[str, Any]]:
    """Route each record of an S3 ObjectCreated event by key prefix."""
    outcomes = []
    for record in event.get("Records", []):
        obj = record["s3"]["object"]
        key = unquote_plus(obj["key"])  # S3 event keys arrive URL-encoded
        size = int(obj.get("size") or 0)
        if key.startswith(blobs.UPLOADS_PREFIX):
            outcomes.append(on_project_upload(key, size))
        elif key.startswith(blobs.PROCESS_UPLOADS_PREFIX):
            from reelforge import process

            outcomes.append(process.on_process_upload(key, size))
        else:
            outcomes.append({"key": key, "outcome": "ignored"})
    return outcomes


def on_project_upload(key: str, size: int) -> dict[str, Any]:
    """Probe an uploaded asset and record what it is, or why it is unusable."""
    parts = key[len(blobs.UPLOADS_PREFIX) :].split("/")
    if len(parts) != 4:
        return {"key": key, "outcome": "ignored", "reason": "unexpected key layout"}
    owner, project_id, asset_id, _name = parts
    try:
        asset = projects.get_asset(project_id, asset_id)
    except NotFound:
        # Nobody asked for this upload: don't keep objects we did not presign.
        Blobs().delete(key)
        return {"key": key, "outcome": "deleted", "reason": "no such asset"}
    if asset["s3_key"] != key or asset["owner"] != owner:
        Blobs().delete(key)
        return {"key": key, "outcome": "deleted", "reason": "key does not match the asset"}

    limit = get_settings().max_file_size_bytes
    if size > limit:
        Blobs().delete(key)
        reason = f"file is {size / 2**20:.0f} MB, over the {limit // 2**20} MB limit"
        projects.mark_asset(project_id, asset_id, {"status": projects.ASSET_FAILED, "error": reason})
        return {"key": key, "outcome": "failed", "reason": reason}

    try:
        if size == 0:
            raise InvalidMediaError("the uploaded file is empty")
        info = probe(Blobs().presign_get(key))
    except (InvalidMediaError, IngestError) as exc:  # IngestError: the object is gone (4xx)
        projects.mark_asset(project_id, asset_id, {"status": projects.ASSET_FAILED, "error": str(exc)})
        logger.info("upload is not usable media", extra={"key": key})
        return {"key": key, "outcome": "failed", "reason": str(exc)}
    projects.mark_asset(
        project_id,
        asset_id,
        {"status": projects.ASSET_READY, "error": None, "size_bytes": size or info.size_bytes,
         "media": info.model_dump()},
    )
    if info.has_video:
        # The project's first video becomes its timeline (one segment covering it).
        segments.init_timeline(projects.get(owner, project_id), key, info.duration, info.width, info.height)
    return {"key": key, "outcome": "ready"}
