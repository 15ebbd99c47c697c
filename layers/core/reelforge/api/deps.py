"""Request dependencies: who is calling, and may they do this."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import Depends, Header, HTTPException, Request

from reelforge import auth, quotas
from reelforge.auth import Principal
from reelforge.store import NotFound


def current_principal(request: Request) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        raise HTTPException(401, "Authentication required", {"WWW-Authenticate": "Bearer"})
    try:
        return auth.authenticate(credentials.strip())
    except auth.AuthError as exc:
        raise HTTPException(401, str(exc), {"WWW-Authenticate": "Bearer"}) from exc


def require(*scopes: str) -> Callable[..., Principal]:
    """A dependency that authenticates and checks every scope in `scopes`."""

    def dependency(principal: Principal = Depends(current_principal)) -> Principal:
        missing = [s for s in scopes if s not in principal.scopes]
        if missing:
            raise HTTPException(403, f"Insufficient permissions: requires {', '.join(missing)}")
        return principal

    dependency.scopes = scopes  # type: ignore[attr-defined]  # read by api/openapi.py
    return dependency


def require_any(*scopes: str) -> Callable[..., Principal]:
    """A dependency that authenticates and checks that the caller holds one of `scopes`."""

    def dependency(principal: Principal = Depends(current_principal)) -> Principal:
        if not principal.scopes & set(scopes):
            raise HTTPException(403, f"Insufficient permissions: requires one of {', '.join(scopes)}")
        return principal

    dependency.any_of_scopes = scopes  # type: ignore[attr-defined]  # read by api/openapi.py
    return dependency


def submits_job(principal: Principal = Depends(current_principal)) -> None:
    """The route starts a job: count it against the caller's limit (429 over it)."""
    quotas.admit_job(principal.user_id)


submits_job.limits_jobs = True  # type: ignore[attr-defined]  # read by api/openapi.py
SUBMITS_JOB = Depends(submits_job)


@contextmanager
def found(what: str) -> Iterator[None]:
    """A store NotFound inside becomes the contracts' 404 message (`Project not found`...)."""
    try:
        yield
    except NotFound as exc:
        raise HTTPException(404, f"{what} not found") from exc


def key_header() -> Any:
    """A provider-key header parameter (`x_gemini_key: str | None = key_header()`): printable
    ASCII, a 422 otherwise (the error names the header, never the value)."""
    return Header(default=None, pattern=r"^[\x20-\x7e]{0,512}$")


def provider_key(value: str | None, header: str) -> str | None:
    """An AI provider key from a request header: stripped, None when absent or blank.

    Keys are printable ASCII; anything else would fail deep inside the provider's HTTP
    client, so it is refused here with a 400 (the message never repeats the key).
    """
    key = (value or "").strip()
    if not key:
        return None
    if not (key.isascii() and key.isprintable()) or len(key) > 512:
        raise HTTPException(400, f"{header} is not a valid API key "
                                 "(printable ASCII, at most 512 characters)")
    return key
