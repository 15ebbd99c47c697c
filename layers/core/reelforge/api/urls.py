"""Refuse unsafe source URLs at the door (the ingest step checks again when it fetches)."""

from __future__ import annotations

from fastapi import HTTPException

from reelforge.errors import IngestError
from reelforge.ingest import IngestPolicy, validate_url
from reelforge.settings import get_settings


def check_url(url: str) -> None:
    s = get_settings()
    try:
        validate_url(url, IngestPolicy(max_bytes=s.max_file_size_bytes,
                                       allow_hosts=frozenset(s.ingest_allow_host_list)))
    except IngestError as exc:
        raise HTTPException(400, f"URL refused: {exc}") from exc
