"""Provider reachability and configuration, as GET /api/ai/health reports it.

The Gemini check is one ``models.get`` call (no tokens spent) with the caller's key or the
server's, so a client learns whether its key works before it starts a job. Answers are
kept for ``CACHE_S`` per (key, model, endpoint) so a polling dashboard does not turn into
a stream of calls to Google; the cache is keyed by the key's SHA-256, never the key.
"""

from __future__ import annotations

import hashlib
import threading
import time
from typing import Any

from reelforge.errors import ProviderError, TransientError

CACHE_S = 60.0
CHECK_TIMEOUT_S = 5.0
NO_KEY_NOTE = "no key to check with: send x-api-key (or X-Gemini-Key) or set GEMINI_API_KEY"

_cache: dict[str, tuple[float, dict[str, Any]]] = {}
_cache_lock = threading.Lock()


def gemini_reachability(
    api_key: str | None, *, model: str, base_url: str | None = None
) -> dict[str, Any]:
    """``{"reachable": True}``, ``{"reachable": False, "error": ...}`` or, without a key,
    ``{"reachable": None, "note": ...}``. The error never contains the key."""
    api_key = (api_key or "").strip()
    if not api_key:
        return {"reachable": None, "note": NO_KEY_NOTE}
    cache_key = hashlib.sha256(f"{api_key}\n{model}\n{base_url or ''}".encode()).hexdigest()
    now = time.monotonic()
    with _cache_lock:
        hit = _cache.get(cache_key)
        if hit is not None and now - hit[0] < CACHE_S:
            return dict(hit[1])
    result = _check_gemini(api_key, model, base_url)
    with _cache_lock:
        _cache[cache_key] = (now, result)
    return dict(result)


def _check_gemini(api_key: str, model: str, base_url: str | None) -> dict[str, Any]:
    from reelforge.ai.genai_client import GenaiJsonClient

    try:
        GenaiJsonClient(api_key, model=model, base_url=base_url,
                        timeout_s=CHECK_TIMEOUT_S).check_model()
    except (ProviderError, TransientError) as exc:
        return {"reachable": False, "error": str(exc)}
    return {"reachable": True}


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()
