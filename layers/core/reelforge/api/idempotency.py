"""`Idempotency-Key` on POST: a retried request gets the first answer, and does nothing twice.

A client that did not hear back (a timeout, a dropped connection) sends the same POST again
with the same key. The first request with a key is recorded before it runs and its answer
after (powertools' idempotency persistence layer, in the table under `IDEMPOTENCY#<user>`);
a retry with the same key and the same body is answered from the record, with
`Idempotent-Replayed: true`, and creates no second job or resource. The same key with a
different body is a 422; a retry while the first is still running is a 409.

Keys belong to the caller (user id) and the route, so two users cannot collide. Answers
that are not worth replaying are not kept, and a retry runs again: a 5xx, a stream, a
non-JSON body (a preview image) or one too big for an item. The auth routes are left out:
their answers are tokens, which are never stored.

The body is read whole before the route runs (to hash it; a multipart body without its
boundary, which every client draws anew): JSON bodies are capped by api/body_limit.py; an
upload spools to a temporary file past 1 MiB, and is then handed to the route as it came.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import tempfile
from typing import Any

import anyio.to_thread
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyItemAlreadyExistsError,
    IdempotencyItemNotFoundError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reelforge import auth, aws
from reelforge.api.envelope import enveloped, error_body
from reelforge.settings import get_settings
from reelforge.store import Keys

HEADER = "Idempotency-Key"
KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"
# Paths where the header is ignored: their answers carry tokens.
EXEMPT_PREFIXES = ("/api/auth/", "/api/tokens", "/api/v1/inngest")
# How long a first request may run before a retry may take its key over (API Gateway gives
# up at 29 s; a long upload through the embedded server can take longer).
IN_PROGRESS_MS = 15 * 60 * 1000
# The largest answer kept: an item is at most 400 KB, and a replay should be cheap.
MAX_STORED_BYTES = 64 * 1024
_CHUNK = 1 << 16


def applies(method: str, path: str) -> bool:
    """Whether a request to this operation takes an Idempotency-Key (the OpenAPI says so too)."""
    return method == "POST" and not path.startswith(EXEMPT_PREFIXES)


class Idempotency:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope) if scope["type"] == "http" else None
        key = headers.get(HEADER) if headers is not None else None
        if key is None or not applies(scope["method"], scope["path"]):
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if not _valid_key(key):
            await _error(path, 400, f"{HEADER} must be 1-255 visible ASCII characters")(scope, receive, send)
            return
        user_id = await anyio.to_thread.run_sync(_caller, headers.get("authorization", ""))  # API tokens: a read
        if user_id is None:  # the route answers 401 itself
            await self.app(scope, receive, send)
            return
        with tempfile.SpooledTemporaryFile(max_size=1 << 20) as body:
            digest = await _spool(receive, body, _BodyHash(headers.get("content-type", "")))
            record = _Record(user_id, path, key, digest)
            try:
                previous = await anyio.to_thread.run_sync(record.claim)
            except IdempotencyValidationError:
                await _error(path, 422, f"This {HEADER} was used with a different request body")(
                    scope, receive, send)
                return
            if previous is not None:
                await _answer_again(previous, path)(scope, receive, send)
                return
            await self._run_and_record(scope, _replay(body, receive), send, record)

    async def _run_and_record(self, scope: Scope, receive: Receive, send: Send, record: _Record) -> None:
        start: Message | None = None
        chunks: list[bytes] = []
        size = 0

        async def capture(message: Message) -> None:
            nonlocal start, size
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body" and size <= MAX_STORED_BYTES:
                chunks.append(message.get("body", b""))
                size += len(chunks[-1])
            await send(message)

        try:
            await self.app(scope, receive, capture)
        except BaseException:
            await anyio.to_thread.run_sync(record.release)
            raise
        answer = _storable(start, b"".join(chunks)) if size <= MAX_STORED_BYTES else None
        if answer is None:
            await anyio.to_thread.run_sync(record.release)
        else:
            await anyio.to_thread.run_sync(record.keep, answer)


class _Record:
    """One key's record, through powertools' persistence layer (its calls block: run them in
    a thread)."""

    def __init__(self, user_id: str, path: str, key: str, body_sha256: str) -> None:
        self.data = {"key": f"POST {path} {key}", "body": body_sha256}
        self.layer = DynamoDBPersistenceLayer(
            table_name=get_settings().table_name, key_attr="PK", sort_key_attr="SK",
            static_pk_value=Keys.idempotency_partition(user_id), expiry_attr="expires_at",
            boto3_client=aws.client("dynamodb"))
        self.layer.configure(IdempotencyConfig(
            event_key_jmespath="key", payload_validation_jmespath="body", hash_function="sha256",
            expires_after_seconds=get_settings().idempotency_ttl_s), key_prefix="request")

    def claim(self) -> DataRecord | None:
        """Record the request as in progress; or the earlier request's record, when there is
        one (IdempotencyValidationError when its body was another)."""
        try:
            self.layer.save_inprogress(self.data, remaining_time_in_millis=IN_PROGRESS_MS)
            return None
        except IdempotencyItemAlreadyExistsError:
            pass
        try:
            return self.layer.get_record(self.data)  # compares the bodies' hashes
        except IdempotencyItemNotFoundError:  # released since: this one runs
            return self.claim()

    def keep(self, answer: dict[str, Any]) -> None:
        self.layer.save_success(self.data, answer)

    def release(self) -> None:
        self.layer.delete_record(self.data, RuntimeError("not kept"))


def _valid_key(key: str) -> bool:
    return 0 < len(key) <= 255 and all(0x21 <= ord(c) <= 0x7E for c in key)


def _caller(authorization: str) -> str | None:
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        return None
    try:
        return auth.authenticate(credentials.strip()).user_id
    except auth.AuthError:
        return None


class _BodyHash:
    """SHA-256 of a body; of a multipart one without its boundary, which a client draws anew
    for each request (a retried upload with the same parts is the same request)."""

    def __init__(self, content_type: str) -> None:
        match = re.search(r'boundary="?([^";]+)"?', content_type) if "multipart/" in content_type else None
        self.boundary = match.group(1).encode("latin-1") if match else b""
        self.sha = hashlib.sha256()
        self.pending = b""  # the tail that may be the start of a boundary

    def update(self, chunk: bytes) -> None:
        if not self.boundary:
            self.sha.update(chunk)
            return
        data = (self.pending + chunk).replace(self.boundary, b"")
        keep = len(self.boundary) - 1
        self.sha.update(data[:-keep] if keep else data)
        self.pending = data[-keep:] if keep else b""

    def hexdigest(self) -> str:
        self.sha.update(self.pending)
        self.pending = b""
        return self.sha.hexdigest()


async def _spool(receive: Receive, body: Any, digest: _BodyHash) -> str:
    """Read the request body into `body`; its hash."""
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        digest.update(chunk)
        body.write(chunk)
        more = message.get("more_body", False)
    body.seek(0)
    return digest.hexdigest()


def _replay(body: Any, receive: Receive) -> Receive:
    """The spooled body as the route's `receive`, then the client's own messages."""
    done = False

    async def replayed() -> Message:
        nonlocal done
        if done:
            return await receive()
        chunk = body.read(_CHUNK)
        more = len(chunk) == _CHUNK
        done = not more
        return {"type": "http.request", "body": chunk, "more_body": more}

    return replayed


def _storable(start: Message | None, body: bytes) -> dict[str, Any] | None:
    """The answer as a record keeps it, or None when it is not kept (see the module doc)."""
    if start is None or start["status"] >= 500 or start["status"] == 429:  # worth retrying
        return None
    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in start.get("headers", [])]
    content_type = next((v for k, v in headers if k.lower() == "content-type"), "")
    if body and not content_type.startswith("application/json"):
        return None
    kept = [(k, v) for k, v in headers if k.lower() not in ("content-length", "date", "server")]
    return {"status": start["status"], "headers": kept, "body": base64.b64encode(body).decode()}


def _answer_again(record: DataRecord, path: str) -> JSONResponse | _Stored:
    if record.status != "COMPLETED":
        return _error(path, 409, f"A request with this {HEADER} is still being carried out; retry later")
    return _Stored(json.loads(record.response_data))


class _Stored:
    """A kept answer, sent again."""

    def __init__(self, answer: dict[str, Any]) -> None:
        self.answer = answer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = base64.b64decode(self.answer["body"])
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in self.answer["headers"]]
        headers += [(b"content-length", str(len(body)).encode()), (b"idempotent-replayed", b"true")]
        await send({"type": "http.response.start", "status": self.answer["status"], "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _error(path: str, status: int, message: str) -> JSONResponse:
    body = error_body(path, status, message, "IDEMPOTENCY_KEY_REUSED" if status == 422 else None)
    if status == 422 and not enveloped(path):  # the shape of every 422 here
        body["errors"] = [{"loc": ["header", HEADER], "msg": message, "type": "idempotency_key_reused"}]
    return JSONResponse(body, status_code=status)
