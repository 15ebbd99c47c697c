"""Health: liveness (no authentication) and provider reachability (authenticated). The
provider list, GET /api/providers, is AutoVio's (works/router.py)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import RedirectResponse

from reelforge import __version__
from reelforge.api.deps import key_header, provider_key, require
from reelforge.auth import Principal
from reelforge.settings import get_settings
from reelforge.store import now_iso

router = APIRouter(tags=["system"])

@router.get("/api-docs", include_in_schema=False)
def api_docs_alias() -> RedirectResponse:
    """AutoVio's Swagger UI path; the docs live at /api/docs."""
    return RedirectResponse("/api/docs", status_code=307)


@router.get("/health")
@router.get("/api/health")
async def health() -> dict[str, str]:  # async: answered at once, not after the busy thread pool
    return {"status": "healthy", "version": __version__, "timestamp": now_iso()}


@router.get("/api/ai/health")
def ai_health(
    p: Principal = Depends(require("jobs:read")),
    x_api_key: str | None = key_header(),
    x_gemini_key: str | None = key_header(),
) -> dict[str, Any]:
    """Which providers are configured, and whether Gemini answers with the key this request
    carries (x-api-key or X-Gemini-Key) or, without one, the server's GEMINI_API_KEY."""
    from reelforge.ai.health import gemini_reachability

    s = get_settings()
    server_key = s.gemini_api_key.get_secret_value() if s.gemini_api_key else None
    key = (provider_key(x_api_key, "x-api-key") or provider_key(x_gemini_key, "X-Gemini-Key")
           or server_key)
    gemini = gemini_reachability(key, model=s.gemini_model, base_url=s.gemini_base_url)
    return {
        "default_provider": s.ai_provider,
        "providers": {
            "local": {"configured": True, "reachable": True,
                      "capabilities": ["moment selection", "region edits", "variant scoring"]},
            "gemini": {"configured": bool(server_key), "per_request_key": True,
                       "model": s.gemini_model,
                       "capabilities": ["moment selection", "region edits", "variant scoring"],
                       **gemini},
        },
    }
