"""Provider lookup by name."""

from __future__ import annotations

import pytest

from reelforge.clips.moments.base import MomentProvider
from reelforge.clips.moments.gemini import GeminiMomentProvider
from reelforge.clips.moments.local import LocalMomentProvider
from reelforge.clips.moments.registry import MOMENT_PROVIDERS, moment_provider
from reelforge.errors import ProviderError


def test_local_needs_no_key():
    provider = moment_provider("local")
    assert isinstance(provider, LocalMomentProvider) and provider.name == "local"
    assert isinstance(provider, MomentProvider)


def test_gemini_with_key():
    provider = moment_provider(" GEMINI ", api_key="AIza-secret", timeout_s=30)
    assert isinstance(provider, GeminiMomentProvider) and provider.name == "gemini"
    assert provider.timeout_s == 30 and provider.model == "gemini-2.5-flash"
    assert "AIza-secret" not in repr(provider)
    assert isinstance(provider, MomentProvider)


@pytest.mark.parametrize("key", [None, "", "   "])
def test_gemini_without_key(key):
    with pytest.raises(ProviderError) as caught:
        moment_provider("gemini", api_key=key)
    assert str(caught.value) == (
        "Gemini provider needs an API key (X-Gemini-Key header or GEMINI_API_KEY)"
    )


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(ValueError, match="'openai'.*local, gemini"):
        moment_provider("openai")
    assert MOMENT_PROVIDERS == ("local", "gemini")
