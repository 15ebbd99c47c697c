"""Health and provider listing (no authentication)."""

from __future__ import annotations

from fastapi import APIRouter

from reelforge import __version__
from reelforge.store import now_iso

router = APIRouter(tags=["system"])

PROVIDERS = [
    {
        "id": "local",
        "name": "Local (offline)",
        "category": "llm",
        "description": "Runs on the server with no network: heuristic moment scoring, "
        "template scripts, ffmpeg region edits, metric-based scoring.",
        "models": [{"id": "local", "name": "local heuristics"}],
    },
    {
        "id": "gemini",
        "name": "Google Gemini",
        "category": "llm",
        "description": "Gemini via google-genai; key from X-Gemini-Key or x-api-key.",
        "models": [{"id": "gemini-2.5-flash", "name": "Gemini 2.5 Flash"},
                   {"id": "gemini-2.5-pro", "name": "Gemini 2.5 Pro"}],
    },
]


@router.get("/health")
@router.get("/api/health")
def health() -> dict[str, str]:
    return {"status": "healthy", "version": __version__, "timestamp": now_iso()}


@router.get("/api/providers")
def providers() -> list[dict]:
    return PROVIDERS
