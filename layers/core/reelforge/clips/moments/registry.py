"""Provider lookup by name: the one place that knows which providers exist."""

from __future__ import annotations

from reelforge.clips.moments.base import MomentProvider
from reelforge.errors import ProviderError

MOMENT_PROVIDERS = ("local", "gemini")


def moment_provider(
    name: str,
    *,
    api_key: str | None = None,
    model: str | None = None,
    base_url: str | None = None,
    timeout_s: float | None = None,
) -> MomentProvider:
    """The moment provider called ``name``.

    ``api_key`` comes from the request header (X-Gemini-Key) or configuration
    (GEMINI_API_KEY); ``model``, ``base_url`` (a proxy, or the fake server in tests) and
    ``timeout_s`` fall back to the provider's defaults when None.
    """
    key = (name or "").strip().lower()
    if key == "local":
        from reelforge.clips.moments.local import LocalMomentProvider

        return LocalMomentProvider()
    if key == "gemini":
        if not (api_key and api_key.strip()):
            raise ProviderError(
                "Gemini provider needs an API key (X-Gemini-Key header or GEMINI_API_KEY)"
            )
        from reelforge.clips.moments.gemini import DEFAULT_MODEL, GeminiMomentProvider

        options: dict[str, float] = {} if timeout_s is None else {"timeout_s": timeout_s}
        return GeminiMomentProvider(
            api_key, model=model or DEFAULT_MODEL, base_url=base_url, **options
        )
    raise ValueError(
        f"unknown moment provider {name!r}; valid names: {', '.join(MOMENT_PROVIDERS)}"
    )
