"""The response envelope of the routes under an enveloped prefix (seed 004's `/api/v1`):
`{success: true, data, message?}` and `{success: false, error: {code, message}}`.

The rest of the API answers errors as `{"detail": ...}`; app.py's error handlers ask
`error_body` which shape a path gets, so one handler serves both.
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse, Response

ENVELOPED_PREFIXES = ("/api/v1/", "/api/v1")

# The code an error of each status carries when the route gave none of its own.
_CODES = {400: "VALIDATION_ERROR", 401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND",
          405: "METHOD_NOT_ALLOWED", 409: "CONFLICT", 413: "PAYLOAD_TOO_LARGE",
          415: "UNSUPPORTED_MEDIA_TYPE", 422: "VALIDATION_ERROR", 429: "RATE_LIMITED",
          500: "INTERNAL_ERROR", 502: "PROVIDER_ERROR", 503: "SERVICE_UNAVAILABLE"}


def enveloped(path: str) -> bool:
    return path == ENVELOPED_PREFIXES[1] or path.startswith(ENVELOPED_PREFIXES[0])


def error_body(path: str, status: int, message: str, code: str | None = None) -> dict[str, Any]:
    if enveloped(path):
        return {"success": False, "error": {"code": code or _CODES.get(status, "ERROR"), "message": message}}
    return {"detail": message}


def ok(data: Any = None, *, message: str | None = None, status: int = 200) -> JSONResponse:
    """A success envelope; `data` None is left out (seed 004's reorder answers carry none)."""
    body: dict[str, Any] = {"success": True}
    if data is not None:
        body["data"] = data
    if message:
        body["message"] = message
    return JSONResponse(body, status_code=status)


def no_content() -> Response:
    return Response(status_code=204)
