"""Health: liveness (no authentication) and provider reachability (authenticated). The
provider list, GET /api/providers, is AutoVio's (works/router.py)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, ConfigDict, Field

from reelforge import __version__
from reelforge.api.deps import key_header, provider_key, require
from reelforge.api.openapi import answers
from reelforge.auth import Principal
from reelforge.settings import get_settings
from reelforge.store import now_iso

router = APIRouter(tags=["system"])


# --- answers (documentation: api/openapi.answers) ---

class Liveness(BaseModel):
    status: Literal["healthy"]
    version: str
    timestamp: str


class LocalProvider(BaseModel):
    configured: Literal[True]
    reachable: Literal[True]
    capabilities: list[str]


class GeminiProvider(BaseModel):
    configured: bool = Field(description="the server has a GEMINI_API_KEY")
    per_request_key: Literal[True] = Field(description="x-api-key / X-Gemini-Key are accepted")
    model: str
    capabilities: list[str]
    reachable: bool | None = Field(description="null: no key to try")
    error: str | None = Field(default=None, description="why it is not reachable")
    note: str | None = Field(default=None, description="why it was not tried")


class Providers(BaseModel):
    local: LocalProvider
    gemini: GeminiProvider


class AiHealth(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "default_provider": "local", "providers": {
            "local": {"configured": True, "reachable": True, "capabilities": ["moment selection"]},
            "gemini": {"configured": False, "per_request_key": True, "model": "gemini-2.5-flash",
                       "capabilities": ["moment selection"], "reachable": None,
                       "note": "no key: send x-api-key or set GEMINI_API_KEY"}}}]})
    default_provider: str
    providers: Providers


@router.get("/api-docs", include_in_schema=False)
def api_docs_alias() -> RedirectResponse:
    """AutoVio's Swagger UI path; the docs live at /api/docs."""
    return RedirectResponse("/api/docs", status_code=307)


@router.get("/health", response_model=Liveness)
@router.get("/api/health", response_model=Liveness)
async def health() -> dict[str, str]:  # async: answered at once, not after the busy thread pool
    return {"status": "healthy", "version": __version__, "timestamp": now_iso()}


@router.get("/api/ai/health", responses=answers(AiHealth))
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
