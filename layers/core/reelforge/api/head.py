"""HEAD for every GET route (RFC 9110 9.3.2): the GET's status and headers, without a body.

FastAPI routes a HEAD only where a route declares it (the video route does, to answer with
its own Content-Length and no read of the object); every other GET route would answer 405.
This middleware runs such a HEAD as the GET, forwards the start of the response and ends the
body at once: a streamed answer (an SSE stream, a proxied video) stops being produced there.
The `Allow` of a 405 lists HEAD too, and every method of the path (`allowed_methods`).
"""

from __future__ import annotations

from typing import Any

from fastapi.routing import iter_route_contexts
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class _HeadAnswered(Exception):
    """Raised inside the app's send once the headers have gone: nothing more is produced."""


class HeadAsGet:
    def __init__(self, app: ASGIApp, routes: Any) -> None:
        self.app = app
        self.routes = routes  # the FastAPI app's routes, matched as its router would

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD" or not self._only_get_matches(scope):
            await self.app(scope, receive, send)
            return
        sent_start = False

        async def headers_only(message: Message) -> None:
            nonlocal sent_start
            if message["type"] == "http.response.start":
                sent_start = True
                await send(message)
                return
            if message["type"] == "http.response.body":
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                raise _HeadAnswered

        try:
            await self.app({**scope, "method": "GET"}, receive, headers_only)
        except _HeadAnswered:
            pass
        except BaseExceptionGroup as group:  # a streamed response's task group wraps it
            rest = group.subgroup(lambda exc: not isinstance(exc, _HeadAnswered))
            if rest is not None:
                raise rest from None
        if not sent_start:  # the app sent nothing: an error the outer layers answer
            raise RuntimeError("HEAD: the GET handler sent no response")

    def _only_get_matches(self, scope: Scope) -> bool:
        """No route takes this HEAD itself, and a GET route takes the path."""
        as_get = {**scope, "method": "GET"}
        if any(route.matches(scope)[0] == Match.FULL for route in self.routes):
            return False
        return any(route.matches(as_get)[0] == Match.FULL for route in self.routes)


def allowed_methods(routes: Any, scope: Scope) -> list[str]:
    """The methods of the path, HEAD with GET, as the OpenAPI lists them. Starlette's own 405
    names only the first route that matched, while a path's methods often sit on several
    routes; and where a fixed path (`/export/preview`) also fits a template
    (`/export/{id}`), the fixed one is the path the client meant."""
    by_path: dict[str, set[str]] = {}
    for route in iter_route_contexts(routes):  # the routes inside the included routers
        if route.methods and route.matches(scope)[0] != Match.NONE:
            by_path.setdefault(route.path_format, set()).update(route.methods)
    if not by_path:
        return []
    methods = by_path[min(by_path, key=lambda path: path.count("{"))]
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)
