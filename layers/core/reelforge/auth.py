"""Users, password hashing, JWTs and scoped API tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import VerificationError, VerifyMismatchError

from reelforge.settings import get_settings
from reelforge.store import ConditionFailed, Keys, NotFound, Table, epoch_in, new_id, now_iso

SCOPES = (
    "projects:read",
    "projects:write",
    "works:read",
    "works:write",
    "ai:analyze",
    "ai:generate",
    "jobs:read",
)
TOKEN_PREFIX = "rf_"
_hasher = PasswordHasher()


class AuthError(Exception):
    """Credentials missing, wrong or expired (-> 401)."""


class ScopeError(Exception):
    """The caller lacks a scope the operation needs (403)."""


class EmailTaken(Exception):
    """An account with this email exists (-> 409)."""


@dataclass(frozen=True)
class Principal:
    """Who is calling and what they may do."""

    user_id: str
    email: str
    name: str
    scopes: frozenset[str] = field(default_factory=lambda: frozenset(SCOPES))
    via: str = "jwt"  # "jwt" or "token"


def public_user(item: dict[str, Any]) -> dict[str, Any]:
    return {k: item[k] for k in ("id", "email", "name", "createdAt", "updatedAt") if k in item}


def register(email: str, password: str, name: str) -> dict[str, Any]:
    uid = new_id()
    ts = now_iso()
    user = {
        **Keys.user(uid),
        "type": "user",
        "id": uid,
        "email": email.lower(),
        "name": name,
        "password_hash": _hasher.hash(password),
        "createdAt": ts,
        "updatedAt": ts,
    }
    guard = {**Keys.email(email), "type": "email", "user_id": uid}
    try:
        Table().transact_put_new([guard, user])
    except ConditionFailed as exc:
        raise EmailTaken("Email already registered") from exc
    return user


def login(email: str, password: str) -> dict[str, Any]:
    table = Table()
    try:
        uid = table.get(Keys.email(email))["user_id"]
        user = table.get(Keys.user(uid))
        _hasher.verify(user["password_hash"], password)
    except (NotFound, VerifyMismatchError, VerificationError) as exc:
        raise AuthError("Invalid email or password") from exc
    return user


def issue_tokens(user: dict[str, Any]) -> dict[str, str]:
    s = get_settings()
    return {
        "accessToken": _jwt(user, "access", s.access_token_ttl_s),
        "refreshToken": _jwt(user, "refresh", s.refresh_token_ttl_s),
    }


def refresh(refresh_token: str) -> dict[str, Any]:
    claims = _decode(refresh_token, "refresh")
    try:
        return Table().get(Keys.user(claims["sub"]))
    except NotFound as exc:
        raise AuthError("Invalid or expired token") from exc


def authenticate(bearer: str) -> Principal:
    """Resolve `Authorization: Bearer <jwt | api token>` to a principal."""
    if bearer.startswith(TOKEN_PREFIX):
        return _authenticate_api_token(bearer)
    claims = _decode(bearer, "access")
    return Principal(user_id=claims["sub"], email=claims["email"], name=claims.get("name", ""))


def _jwt(user: dict[str, Any], kind: str, ttl: int) -> str:
    now = int(time.time())
    claims = {
        "sub": user["id"],
        "email": user["email"],
        "name": user.get("name", ""),
        "type": kind,
        "iat": now,
        "exp": now + ttl,
        "jti": secrets.token_hex(8),
    }
    return jwt.encode(claims, get_settings().jwt_secret.get_secret_value(), algorithm="HS256")


def _decode(token: str, kind: str) -> dict[str, Any]:
    try:
        claims = jwt.decode(
            token,
            get_settings().jwt_secret.get_secret_value(),
            algorithms=["HS256"],
            options={"require": ["sub", "exp", "type"]},
        )
    except jwt.PyJWTError as exc:
        raise AuthError("Invalid or expired token") from exc
    if claims.get("type") != kind:
        raise AuthError("Invalid or expired token")
    return claims


# --- API tokens -----------------------------------------------------------------------


def _hash_token(token: str) -> str:
    # API tokens carry 256 bits of randomness, so a fast hash is enough (no brute force).
    return hashlib.sha256(token.encode()).hexdigest()


def create_api_token(
    principal: Principal, name: str, scopes: list[str], expires_in_days: int | None
) -> tuple[str, dict[str, Any]]:
    """Returns (the token, shown once; its stored metadata)."""
    token = TOKEN_PREFIX + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
    tid = new_id()
    ts = now_iso()
    expires_at = epoch_in(expires_in_days * 86400) if expires_in_days else None
    item = {
        **Keys.token(_hash_token(token)),
        **Keys.owner_index(principal.user_id, "TOKEN", ts),
        "type": "token",
        "id": tid,
        "owner": principal.user_id,
        "name": name,
        "tokenPrefix": token[:11],
        "scopes": sorted(set(scopes)),
        "lastUsedAt": None,
        "expiresAt": expires_at,
        "createdAt": ts,
        # DynamoDB's TTL removes expired tokens some time after expiry; the check below
        # refuses them from the second they expire.
        "expires_at": expires_at,
    }
    Table().put_new(item)
    return token, token_meta(item)


def token_meta(item: dict[str, Any]) -> dict[str, Any]:
    exp = item.get("expiresAt")
    return {
        "id": item["id"],
        "name": item["name"],
        "tokenPrefix": item["tokenPrefix"],
        "scopes": item["scopes"],
        "lastUsedAt": item.get("lastUsedAt"),
        "expiresAt": _iso(exp) if exp else None,
        "createdAt": item["createdAt"],
    }


def list_api_tokens(principal: Principal) -> list[dict[str, Any]]:
    return [token_meta(i) for i in Table().query_owner(principal.user_id, "TOKEN")]


def delete_api_token(principal: Principal, token_id: str) -> None:
    """Revoke one of the caller's tokens. An API token may only revoke tokens whose scopes it
    holds itself (a read-only token must not switch off its owner's deploy token)."""
    table = Table()
    for item in table.query_owner(principal.user_id, "TOKEN"):
        if item["id"] == token_id:
            beyond = sorted(set(item["scopes"]) - principal.scopes)
            if beyond:
                raise ScopeError(f"cannot revoke a token with scopes {', '.join(beyond)}")
            table.delete({"PK": item["PK"], "SK": item["SK"]})
            return
    raise NotFound(token_id)


def _authenticate_api_token(token: str) -> Principal:
    table = Table()
    try:
        item = table.get(Keys.token(_hash_token(token)))
        user = table.get(Keys.user(item["owner"]))
    except NotFound as exc:
        raise AuthError("Invalid or expired token") from exc
    if item.get("expiresAt") and item["expiresAt"] < time.time():
        raise AuthError("Invalid or expired token")
    table.update(Keys.token(_hash_token(token)), {"lastUsedAt": now_iso()})
    return Principal(
        user_id=user["id"],
        email=user["email"],
        name=user.get("name", ""),
        scopes=frozenset(item["scopes"]),
        via="token",
    )


def _iso(epoch: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")


# --- signed links: a URL that works without an Authorization header ------------------------
# A browser's <video src> cannot send a bearer token, so a finished video is also handed out
# as a link carrying `expires` and `sig` (HMAC-SHA256 of owner, path and expiry under the
# server's secret): it grants GET of that one path, for that one owner, until it expires.

def sign_path(owner: str, path: str, ttl_s: int) -> dict[str, str]:
    expires = int(time.time()) + ttl_s
    return {"expires": str(expires), "sig": _path_mac(owner, path, expires)}


def verify_signed_path(owner: str, path: str, expires: str | None, sig: str | None) -> bool:
    if not expires or not sig or not expires.isdecimal() or int(expires) < time.time():
        return False
    return hmac.compare_digest(sig, _path_mac(owner, path, int(expires)))


def _path_mac(owner: str, path: str, expires: int) -> str:
    key = get_settings().jwt_secret.get_secret_value().encode()
    message = f"signed-path\n{owner}\n{path}\n{expires}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()
