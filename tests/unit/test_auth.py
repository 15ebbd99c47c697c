"""Users, passwords, JWTs and API tokens."""

from __future__ import annotations

import time

import jwt
import pytest

from reelforge import auth
from reelforge.settings import get_settings
from reelforge.store import Keys, Table


def test_register_hashes_password_and_rejects_duplicate_email(aws_mock: None) -> None:
    user = auth.register("Ann@Example.com", "correct horse", "Ann")
    stored = Table().get(Keys.user(user["id"]))
    assert stored["password_hash"].startswith("$argon2")
    assert "correct horse" not in str(stored)
    with pytest.raises(auth.EmailTaken):
        auth.register("ann@example.com", "another pass", "Ann 2")


def test_login_checks_password(aws_mock: None) -> None:
    auth.register("bob@example.com", "s3cret-pass", "Bob")
    assert auth.login("BOB@example.com", "s3cret-pass")["name"] == "Bob"
    with pytest.raises(auth.AuthError):
        auth.login("bob@example.com", "wrong-pass")
    with pytest.raises(auth.AuthError):
        auth.login("nobody@example.com", "s3cret-pass")


def test_refresh_token_is_not_an_access_token(aws_mock: None) -> None:
    user = auth.register("c@example.com", "password1", "C")
    tokens = auth.issue_tokens(user)
    assert auth.authenticate(tokens["accessToken"]).user_id == user["id"]
    with pytest.raises(auth.AuthError):
        auth.authenticate(tokens["refreshToken"])
    assert auth.refresh(tokens["refreshToken"])["id"] == user["id"]


def test_expired_or_forged_jwt_is_refused(aws_mock: None) -> None:
    user = auth.register("d@example.com", "password1", "D")
    secret = get_settings().jwt_secret.get_secret_value()
    expired = jwt.encode({"sub": user["id"], "email": "d@example.com", "type": "access",
                          "exp": int(time.time()) - 5}, secret, algorithm="HS256")
    forged = jwt.encode({"sub": user["id"], "email": "d@example.com", "type": "access",
                         "exp": int(time.time()) + 60}, "not-the-secret-" * 3, algorithm="HS256")
    for token in (expired, forged):
        with pytest.raises(auth.AuthError):
            auth.authenticate(token)


def test_api_token_carries_its_scopes_and_only_its_hash_is_stored(aws_mock: None) -> None:
    user = auth.register("e@example.com", "password1", "E")
    principal = auth.authenticate(auth.issue_tokens(user)["accessToken"])
    token, meta = auth.create_api_token(principal, "ci", ["projects:read"], None)
    assert token.startswith("rf_") and meta["tokenPrefix"] == token[:11]
    dumped = str(list(Table().scan()))
    assert token not in dumped
    got = auth.authenticate(token)
    assert got.user_id == user["id"] and got.scopes == frozenset({"projects:read"})
    assert auth.list_api_tokens(principal)[0]["lastUsedAt"] is not None
    auth.delete_api_token(principal, meta["id"])
    with pytest.raises(auth.AuthError):
        auth.authenticate(token)


def test_expired_api_token_is_refused(aws_mock: None) -> None:
    user = auth.register("f@example.com", "password1", "F")
    principal = auth.authenticate(auth.issue_tokens(user)["accessToken"])
    token, meta = auth.create_api_token(principal, "short", ["jobs:read"], 1)
    Table().update(Keys.token(auth._hash_token(token)), {"expiresAt": int(time.time()) - 1})
    with pytest.raises(auth.AuthError):
        auth.authenticate(token)
