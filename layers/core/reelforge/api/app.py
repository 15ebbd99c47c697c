"""FastAPI application: routers per surface, JSON errors as {"detail": "..."}."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from reelforge import __version__, quotas
from reelforge.api import openapi, routes_auth, routes_export, routes_jobs, routes_system
from reelforge.api.body_limit import BodyLimit
from reelforge.api.envelope import enveloped, error_body
from reelforge.api.head import HeadAsGet, allowed_methods
from reelforge.api.idempotency import Idempotency
from reelforge.clips import router as clips
from reelforge.editor import router as editor
from reelforge.errors import (
    BadRequest,
    Conflict,
    IngestError,
    InvalidMediaError,
    Missing,
    PreconditionFailed,
    ProviderError,
    ReelforgeError,
    TooLarge,
    TransientError,
    UnsupportedPromptError,
)
from reelforge.narrate import router as narrate
from reelforge.projects import router as projects
from reelforge.quotas import RateLimited
from reelforge.settings import get_settings
from reelforge.store import NotFound
from reelforge.studio import router as studio
from reelforge.works import router as works

# WIRING: every surface's routes. Importing a surface's router also registers its job
# presenters, upload handlers and project fields (see jobs.presents, uploads.handles).
ROUTERS = (routes_system.router, routes_auth.router, routes_jobs.router, projects.router,
           clips.router, editor.router, narrate.router, studio.router, works.router, routes_export.router)

# Our named errors carry messages meant for the user; in a synchronous route they become
# these statuses (the first matching class in this order wins) instead of a bare 500.
_ERROR_STATUS: tuple[tuple[type[ReelforgeError], int], ...] = (
    (BadRequest, 400),
    (Missing, 404),
    (Conflict, 409),
    (PreconditionFailed, 412),
    (TooLarge, 413),
    (RateLimited, 429),
    (InvalidMediaError, 422),
    (IngestError, 400),
    (UnsupportedPromptError, 400),
    (TransientError, 503),  # a provider or service is throttling or down: retry later
    (ProviderError, 502),  # the AI provider refused or answered unusably
)


def _readable(err: dict[str, Any]) -> str:
    """One validation error as `field: message`, without pydantic's internals."""
    loc = [p for p in err.get("loc", ()) if p not in ("body", "query", "path", "header")]
    if err.get("type") == "json_invalid":
        return "Malformed JSON body"
    if err.get("type") == "missing" and not loc:
        return "A JSON body is required"
    message = str(err.get("msg")).removeprefix("Value error, ")
    where = ".".join(str(p) for p in loc)
    return f"{where}: {message}" if where else message


class RequestScope:
    """Every request runs inside quotas.in_request() (a job made outside a SUBMITS_JOB route
    is caught there)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with quotas.in_request():
            await self.app(scope, receive, send)


class JsonCORSMiddleware(CORSMiddleware):
    """Starlette's CORS, with refused preflights answered like every other error here."""

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code < 400:
            return response
        headers = {k: v for k, v in response.headers.items()
                   if k.lower() not in ("content-length", "content-type")}
        return JSONResponse({"detail": response.body.decode()}, status_code=response.status_code,
                            headers=headers)


def create_app() -> FastAPI:
    settings = get_settings()
    app = FastAPI(
        title="reelforge",
        version=__version__,
        description="Serverless AI video backend: clips, editor, narrated videos, scripts and AutoVio "
                    "works. Long work runs as jobs (GET /api/job/{id}, SSE /api/progress/{id}); AutoVio's "
                    "synchronous AI routes answer in the original's shape when their job ends within "
                    "WORKS_SYNC_WAIT_S seconds, else 202 with the job (always with `Prefer: respond-async`).",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.add_middleware(RequestScope)
    app.add_middleware(HeadAsGet, routes=app.router.routes)  # the routers are included below
    app.add_middleware(Idempotency)
    app.add_middleware(BodyLimit)
    app.add_middleware(
        JsonCORSMiddleware,
        allow_origins=settings.cors_origin_list,
        allow_credentials=True,
        allow_methods=["*"],
        allow_headers=["*"],
        expose_headers=["content-type", "accept-ranges", "content-length", "content-range",
                        "content-encoding", "etag"],
    )
    for router in ROUTERS:
        app.include_router(router)
    _install_error_handlers(app)
    openapi.install(app)
    return app


def _install_error_handlers(app: FastAPI) -> None:
    def error(request: Request, status: int, message: str, code: str | None = None,
              headers: Any = None, **extra: Any) -> JSONResponse:
        body = error_body(request.url.path, status, message, code)
        if "detail" in body:
            body.update(extra)
        return JSONResponse(status_code=status, content=body, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        parts = [_readable(err) for err in errors]
        if enveloped(request.url.path):  # seed 004: 400 VALIDATION_ERROR, messages joined by ", "
            return error(request, 400, ", ".join(parts) or "Invalid request")
        return error(request, 422, "; ".join(parts) or "Invalid request",
                     errors=[{"loc": e.get("loc"), "msg": e.get("msg"), "type": e.get("type")}
                             for e in errors])

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound) -> JSONResponse:
        return error(request, 404, "Not found")

    @app.exception_handler(ReelforgeError)
    async def _named(request: Request, exc: ReelforgeError) -> JSONResponse:
        status = next((code for kind, code in _ERROR_STATUS if isinstance(exc, kind)), 500)
        headers = {"Retry-After": str(exc.retry_after_s)} if isinstance(exc, RateLimited) else None
        return error(request, status, str(exc), getattr(exc, "code", None), headers=headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Starlette re-raises it after this response, so the server (uvicorn, Mangum) logs
        # the traceback; the client gets JSON without internals.
        return error(request, 500, "Internal server error")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = str(exc.detail)
        if exc.status_code == 404 and message == "Not Found" and enveloped(request.url.path):
            message = f"Route {request.method} {request.url.path} not found"  # no route matched
        headers = exc.headers
        if exc.status_code == 405:
            headers = {**(headers or {}), "Allow": ", ".join(allowed_methods(app.routes, request.scope))}
        return error(request, exc.status_code, message, headers=headers)
