"""A cap on request bodies, except multipart uploads (they stream to disk with their own limit).

Every JSON body this API takes is small (the longest field is a 5,000-character project
description); without a cap a client could make the server buffer and parse any amount.
API Gateway stops at 10 MB in AWS; this applies the same rule everywhere, and lower.
"""

from __future__ import annotations

from fastapi import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reelforge.api.envelope import error_body

MAX_BODY_BYTES = 1 << 20


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        if headers.get(b"content-type", b"").lower().startswith(b"multipart/form-data"):
            await self.app(scope, receive, send)
            return
        declared = headers.get(b"content-length", b"").decode("latin-1")
        if declared.isdecimal() and int(declared) > self.max_bytes:
            await JSONResponse(error_body(scope.get("path", ""), 413, self._message()),
                               status_code=413)(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:  # a body sent without Content-Length (chunked)
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise HTTPException(413, self._message())
            return message

        await self.app(scope, counted, send)

    def _message(self) -> str:
        return f"Request body is larger than {self.max_bytes // 1024} KB"
