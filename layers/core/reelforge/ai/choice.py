"""Which AI provider a job uses, chosen once when it is submitted and carried in its payload."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from reelforge import keyseal
from reelforge.errors import BadRequest
from reelforge.settings import get_settings


class ProviderChoice(BaseModel):
    name: Literal["local", "gemini"]
    sealed_key: str | None = None  # see keyseal: never the plain key


def choose_provider(header_key: str | None) -> ProviderChoice:
    """X-Gemini-Key selects Gemini for this job; otherwise the server's default provider."""
    if header_key:
        return ProviderChoice(name="gemini", sealed_key=keyseal.seal(header_key))
    if get_settings().require_gemini_key:
        raise BadRequest("Missing X-Gemini-Key header")
    return ProviderChoice(name=get_settings().ai_provider)
