"""Seal per-request provider keys (X-Gemini-Key) for the trip through a workflow.

A key must reach the step that calls the provider, but Step Functions keeps execution
input in its history. So the API seals it (AES-GCM, key derived from the server
secret, with an expiry) and only the step unseals it; the plain key is never written
to DynamoDB, S3, execution history or logs.
"""

from __future__ import annotations

import base64
import json
import os
import time

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from reelforge.settings import get_settings

_VERSION = "v1"


class SealError(Exception):
    """The sealed value is corrupt, forged or expired."""


def _key() -> bytes:
    secret = get_settings().jwt_secret.get_secret_value().encode()
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"reelforge provider key").derive(secret)


def seal(plaintext: str, *, ttl_s: int = 24 * 3600) -> str:
    nonce = os.urandom(12)
    body = json.dumps({"k": plaintext, "exp": int(time.time()) + ttl_s}).encode()
    ct = AESGCM(_key()).encrypt(nonce, body, _VERSION.encode())
    return f"{_VERSION}.{base64.urlsafe_b64encode(nonce + ct).decode()}"


def unseal(sealed: str) -> str:
    try:
        version, blob = sealed.split(".", 1)
        raw = base64.urlsafe_b64decode(blob)
        body = json.loads(AESGCM(_key()).decrypt(raw[:12], raw[12:], version.encode()))
    except Exception as exc:  # noqa: BLE001 - any failure means "not a valid sealed key"
        raise SealError("provider key could not be unsealed") from exc
    if version != _VERSION or body["exp"] < time.time():
        raise SealError("provider key expired; submit the job again")
    return body["k"]
