"""Writer lookup by name: the one place that knows which studio writers exist."""

from __future__ import annotations

from reelforge.errors import ProviderError
from reelforge.studio.writers.base import Writer

WRITERS = ("local", "gemini")


def writer(name: str, *, api_key: str | None = None, model: str | None = None,
           base_url: str | None = None, timeout_s: float | None = None) -> Writer:
    """The writer called `name`; the Gemini one needs a key (X-Gemini-Key or GEMINI_API_KEY)."""
    if name == "local":
        from reelforge.studio.writers.local import LocalWriter

        return LocalWriter()
    if name == "gemini":
        if not (api_key and api_key.strip()):
            raise ProviderError("Gemini provider needs an API key (X-Gemini-Key header or GEMINI_API_KEY)")
        from reelforge.studio.writers.gemini import GeminiWriter

        options = {} if timeout_s is None else {"timeout_s": timeout_s}
        return GeminiWriter(api_key, model=model, base_url=base_url, **options)
    raise ValueError(f"unknown writer {name!r}; valid names: {', '.join(WRITERS)}")
