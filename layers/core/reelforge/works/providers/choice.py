"""Which provider, model and key each role of a request uses, from AutoVio's headers.

    x-vision-provider / x-llm-provider / x-image-provider / x-video-provider   who
    x-model-id, x-image-model-id, x-video-model-id                             which model
    x-api-key, or per role x-vision-api-key / x-llm-api-key / x-image-api-key / x-video-api-key

A role's choice is made once, in the request, and travels to the steps sealed (keyseal): the
plain key is never stored, logged or put in an execution's history. Unknown providers and
models are a 400 naming what exists. Without a provider header a request with a key gets the
contract's default provider for the role; a request without one gets the server's offline
default (`local`), so the embedded runtime works with no account anywhere.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel

from reelforge import keyseal
from reelforge.errors import BadRequest
from reelforge.settings import get_settings
from reelforge.workflow import unseal_provider_key
from reelforge.works.providers import catalog
from reelforge.works.providers.base import Call
from reelforge.works.providers.catalog import Role

# The contract's defaults when a key comes without a provider header ("route": the
# standalone /api/generate routes, "work": a work's scene generation).
KEYED_DEFAULTS = {"route": {"vision": "gemini", "llm": "gemini", "image": "dalle", "video": "runway"},
                  "work": {"vision": "gemini", "llm": "gemini", "image": "gemini", "video": "gemini"}}
MODEL_HEADERS = {"vision": "x-model-id", "llm": "x-model-id", "image": "x-image-model-id",
                 "video": "x-video-model-id"}


class RoleChoice(BaseModel):
    role: Role
    provider: str
    model: str
    sealed_key: str | None = None  # see keyseal: never the plain key

    def call(self) -> Call:
        """The Call a request or step makes: the key unsealed, the vendor's URL."""
        provider = catalog.find(self.role, self.provider)
        key = unseal_provider_key(self.sealed_key) or catalog.server_key(provider.vendor)
        return Call(provider=self.provider, model=self.model, api_key=key,
                    base_url=catalog.base_url(provider, self.model))


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = (headers.get(name) or "").strip()
    if not value:
        return None
    if not (value.isascii() and value.isprintable()) or len(value) > 512:
        raise BadRequest(f"{name} is not valid (printable ASCII, at most 512 characters)")
    return value


def choose(role: Role, headers: Mapping[str, str], *, context: str = "route") -> RoleChoice:
    """The role's choice for a request with these (lower-case) headers."""
    key = _header(headers, f"x-{role}-api-key") or _header(headers, "x-api-key")
    named = _header(headers, f"x-{role}-provider")
    if named:
        provider = catalog.find(role, named.lower())
    elif key:
        provider = catalog.find(role, KEYED_DEFAULTS[context][role])
    else:
        fallback = get_settings().ai_provider
        served = {p.id for p in catalog.providers_for(role)}
        provider = catalog.find(role, fallback if fallback in served and catalog.server_key(fallback) else "local")
    model = provider.model(_model_id(role, provider, headers, context))
    if provider.vendor != "local" and not key and catalog.server_key(provider.vendor) is None:
        raise BadRequest(f"API key required (x-api-key or x-{role}-api-key header) for the "
                         f"{provider.id} {role} provider")
    return RoleChoice(role=role, provider=provider.id, model=model,
                      sealed_key=keyseal.seal(key) if key and provider.vendor != "local" else None)


def _model_id(role: Role, provider: catalog.Provider, headers: Mapping[str, str], context: str) -> str | None:
    """x-model-id names the model of a route's one role. In a work's scene generation the
    image and video roles have their own headers, and x-model-id (sent for the llm too)
    counts for them only when it is one of that provider's models."""
    own = _header(headers, MODEL_HEADERS[role])
    if own or role in ("vision", "llm"):
        return own
    if context == "route":
        return _header(headers, "x-model-id")
    shared = _header(headers, "x-model-id")
    return shared if shared and any(m.id == shared for m in provider.models) else None


def choose_all(headers: Mapping[str, str], roles: tuple[Role, ...], *, context: str = "route") -> dict[str, RoleChoice]:
    """Several roles' choices; an x-model-id that is none of their providers' models is a 400."""
    choices = {role: choose(role, headers, context=context) for role in roles}
    shared = _header(headers, "x-model-id")
    if shared:
        providers = [catalog.find(c.role, c.provider) for c in choices.values()]
        if not any(m.id == shared for p in providers for m in p.models):
            known = ", ".join(f"{p.id} {p.role}: {', '.join(m.id for m in p.models)}" for p in providers)
            raise BadRequest(f"unknown model {shared!r} (x-model-id) for these providers; models: {known}")
    return choices
