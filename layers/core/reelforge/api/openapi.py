"""The OpenAPI document: FastAPI's own, completed with what every route really answers.

FastAPI documents a route's success and a 422 in its own list-shaped `detail`. This API
answers every error with one body, `{"detail": "..."}` (a validation failure adds
`errors`), and seed 004's `/api/v1` with its envelope (a validation failure there is a 400).
What follows from a route itself is derived here, for every operation of every surface:

- 401 and the bearer security requirement with the scopes it needs (from `deps.require`,
  `deps.require_any`), 403 when it needs a scope;
- 502 and 503 when it takes an AI provider's key (`deps.key_header`);
- 404 when its path names a resource; the validation error when it has parameters or a
  body; 400 (a body that cannot be parsed) and 413 (api/body_limit.py, or an upload's own
  limit) when it takes a body;
- the `Idempotency-Key` header on the POSTs that take it (api/idempotency.py), with its
  409 and 422; 429 with `Retry-After` where the route submits a job (`deps.SUBMITS_JOB`).

A route declares the other errors it can answer with `responses=errors(400, 409)`; the
error bodies' schema is filled in here, so a route never repeats it. A route that builds its
answer as a dict names the answer's model with `responses=answers(Model, 201, 409)`, one that
answers a file its media type with `served(...)`.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts

from reelforge.api import idempotency
from reelforge.api.deps import current_principal
from reelforge.api.envelope import enveloped

DESCRIPTIONS = {
    400: "The request cannot be carried out as given (the message says why)",
    401: "No valid access token or API token",
    403: "The token lacks a scope this route needs",
    404: "Not found, or not the caller's",
    409: "Conflicts with the resource's current state",
    412: "A precondition of the resource is not met",
    413: "The body or upload is too large",
    422: "The body or parameters failed validation",
    429: "Too many requests: retry after `Retry-After` seconds",
    502: "The AI provider refused or answered unusably",
    503: "A provider or service is busy or down: retry later",
}

SECURITY_SCHEME = "bearerAuth"
# The headers of deps.key_header: a route that takes one talks to an AI provider.
PROVIDER_KEY_HEADERS = frozenset({"x-gemini-key", "x-api-key"})

_SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["detail"],
        "properties": {"detail": {"type": "string", "description": "What went wrong, for a person"}},
    },
    "ValidationError": {
        "type": "object",
        "required": ["detail"],
        "properties": {
            "detail": {"type": "string", "description": "Every problem as `field: message`, joined by '; '"},
            "errors": {
                "description": "Each problem of a body or parameters that failed validation; absent "
                               "when an upload is not valid media",
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["loc", "msg", "type"],
                    "properties": {
                        "loc": {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
                        "msg": {"type": "string"},
                        "type": {"type": "string"},
                    },
                },
            },
        },
    },
    "EnvelopeError": {
        "type": "object",
        "required": ["success", "error"],
        "properties": {
            "success": {"const": False},
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
    "Envelope": {
        "type": "object",
        "required": ["success"],
        "properties": {"success": {"const": True}, "data": {}, "message": {"type": "string"}},
    },
}


_IDEMPOTENCY_KEY = {
    "name": idempotency.HEADER, "in": "header", "required": False,
    "description": "Makes a retry safe: the same key with the same body gets the first answer again "
                   "(`Idempotent-Replayed: true`) and does nothing twice; with another body it is a 422, "
                   "and while the first is still running a 409. Kept for IDEMPOTENCY_TTL_S (a day).",
    "schema": {"type": "string", "pattern": idempotency.KEY_PATTERN, "maxLength": 255},
}

# The `responses=` of a route that answers with server-sent events (with response_class=
# StreamingResponse, so FastAPI does not also claim JSON).
EVENT_STREAM: dict[int | str, dict[str, Any]] = {200: {
    "description": "Server-sent events (`event:`/`data:` lines; `data` is JSON)",
    "content": {"text/event-stream": {"schema": {"type": "object"}}}}}


def upload(file_field: str, **fields: dict[str, Any]) -> dict[str, Any]:
    """`openapi_extra=` of a route that streams its own multipart body (api/streaming_form):
    a required file in `file_field`, and these text fields (JSON schemas)."""
    return {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": form(file_field, **fields)}}}}


def form(file_field: str | None, **fields: dict[str, Any]) -> dict[str, Any]:
    """The schema of a multipart form: `file_field` a file (required), the rest text fields."""
    properties = {**({file_field: {"type": "string", "format": "binary"}} if file_field else {}), **fields}
    return {"type": "object", "properties": properties, "required": [file_field] if file_field else []}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of a route for errors it answers beyond the derived ones."""
    return {code: {"description": DESCRIPTIONS[code]} for code in codes}


def answers(model: Any, code: int = 200, *error_codes: int, description: str = "Successful Response",
            ) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of a route that builds its answer as a dict: `model` (a pydantic model,
    or e.g. `list[Model]`) documents it, and the errors it answers beyond the derived ones.
    Documentation only: the route's dict is sent as it is, and the tests check every answer
    they receive against the document (tests/conformance.py)."""
    return {code: {"model": model, "description": description}, **errors(*error_codes)}


def served(*media_types: str, ranges: bool = True, head: bool = False) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of a route that answers a file, not JSON (with `response_class=Response`,
    so FastAPI does not also claim JSON): its bytes, and with `ranges` what api/ranges answers
    (206, 416) and the cloud's redirect to a presigned GET (307). `head`: the HEAD route's."""
    def body(*types: str) -> dict[str, Any]:
        return {} if head else {"content": {t: {"schema": {"type": "string", "format": "binary"}} for t in types}}

    if not ranges:
        return {200: {"description": "The file", **body(*media_types)}}
    return {200: {"description": "The file (`Accept-Ranges: bytes`)", **body(*media_types)},
            206: {"description": "The requested byte range; several come as multipart/byteranges",
                  **body(*media_types, "multipart/byteranges")},
            307: {"description": "In the cloud: a presigned GET of the file (S3 serves the bytes and ranges)",
                  "headers": {"Location": {"schema": {"type": "string", "format": "uri"}}}},
            416: {"description": "No range of the Range header lies within the file (`Content-Range: bytes */size`)"}}


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def document(app: FastAPI) -> dict[str, Any]:
    schema = get_openapi(title=app.title, version=app.version, description=app.description,
                         routes=app.routes)
    components = schema.setdefault("components", {})
    components.setdefault("schemas", {}).update(_SCHEMAS)
    components["securitySchemes"] = {SECURITY_SCHEME: {
        "type": "http", "scheme": "bearer", "bearerFormat": "JWT or rf_ API token",
        "description": "An access token from /api/auth/login or an API token from /api/tokens; "
                       "each route lists the scopes it needs."}}
    for context in iter_route_contexts(app.routes):  # the routes inside the included routers
        route = context.original_route
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        path = context.path_format or route.path_format
        for method in route.methods:
            operation = schema["paths"].get(path, {}).get(method.lower())
            if operation is not None:
                _complete(operation, route, path, method)
    _standard_keywords(components["schemas"])
    for model in components["schemas"].values():
        for example in model.get("examples", []):
            _restore_nulls(example, model, components["schemas"])
    for unused in ("HTTPValidationError",):  # FastAPI's list-shaped 422, answered by no route
        components["schemas"].pop(unused, None)
    return schema


def _complete(operation: dict[str, Any], route: APIRoute, path: str, method: str) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    envelope = enveloped(path)
    authenticated, all_of, any_of, submits_job = _auth(route.dependant)
    derived: list[int] = []
    if submits_job:
        responses["429"] = {"description": DESCRIPTIONS[429], "headers": {"Retry-After": {
            "description": "Seconds until a job may be submitted again", "schema": {"type": "integer"}}}}
    if authenticated:
        operation["security"] = ([{SECURITY_SCHEME: [s]} for s in any_of] if any_of
                                 else [{SECURITY_SCHEME: list(all_of)}])
        derived.append(401)
        if all_of or any_of:
            derived.append(403)
    if route.dependant.path_params:
        derived.append(404)
    if "422" in responses or "requestBody" in operation:
        responses.pop("422", None)  # FastAPI's own
        derived.append(400 if envelope else 422)
    if "requestBody" in operation:
        derived += [400, 413]
    if any(p["in"] == "header" and p["name"] in PROVIDER_KEY_HEADERS for p in operation.get("parameters", [])):
        derived += [502, 503]  # it reaches an AI provider, which may refuse, throttle or be down
    if authenticated and idempotency.applies(method, path):
        operation.setdefault("parameters", []).append(_IDEMPOTENCY_KEY)
        derived += [400, 409]
        if envelope:  # the studio's validation errors are 400s: its only 422 is this one
            responses["422"] = {"description": "The Idempotency-Key was used with another body"}
        else:
            derived.append(422)
    for code in derived:
        responses.setdefault(str(code), {"description": DESCRIPTIONS[code]})
    for code, response in responses.items():
        if code.startswith(("4", "5")):
            ref = "EnvelopeError" if envelope else "ValidationError" if code == "422" else "Error"
            response["content"] = {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}
        elif "content" in response:
            _only_refs(response["content"])  # FastAPI merges `answers()` into the inferred dict schema
        if envelope and code.startswith("2") and code != "204" and set(response.get("content", {})) <= {"application/json"}:
            content = response.setdefault("content", {}).setdefault("application/json", {})
            if not content.get("schema"):
                content["schema"] = {"$ref": "#/components/schemas/Envelope"}


def _only_refs(node: Any) -> None:
    """Where a schema names a model (`$ref`), drop what FastAPI's inferred `dict[str, Any]`
    left beside it: the model says it all."""
    if isinstance(node, dict):
        if "$ref" in node:
            for key in [k for k in node if k != "$ref"]:
                del node[key]
        for value in node.values():
            _only_refs(value)
    elif isinstance(node, list):
        for value in node:
            _only_refs(value)


def _restore_nulls(example: Any, schema: dict[str, Any], schemas: dict[str, Any]) -> None:
    """FastAPI writes the document without nulls (exclude_none), which takes them out of the
    models' examples too: put back each required field that was null, so that an example is
    still a valid answer."""
    while "$ref" in schema:
        schema = schemas[schema["$ref"].rsplit("/", 1)[1]]
    if isinstance(example, list) and "items" in schema:
        for item in example:
            _restore_nulls(item, schema["items"], schemas)
    elif isinstance(example, dict):
        if "properties" not in schema:  # a nullable model: {"anyOf": [{"$ref": ...}, {"type": "null"}]}
            branches = [b for b in schema.get("anyOf", []) if b.get("type") != "null"]
            if len(branches) == 1:
                _restore_nulls(example, branches[0], schemas)
            return
        for name in schema.get("required", []):
            example.setdefault(name, None)
        for name, value in example.items():
            if name in schema["properties"]:
                _restore_nulls(value, schema["properties"][name], schemas)


_KEYWORDS = {"ge": "minimum", "le": "maximum", "gt": "exclusiveMinimum", "lt": "exclusiveMaximum"}


def _standard_keywords(node: Any) -> None:
    """pydantic writes `ge`/`le` for bounds it cannot place inside a validator-wrapped type
    (fields.Integer); JSON Schema calls them minimum/maximum."""
    if isinstance(node, dict):
        if node.get("type") in ("integer", "number"):
            for ours, standard in _KEYWORDS.items():
                if ours in node:
                    node[standard] = node.pop(ours)
        for value in node.values():
            _standard_keywords(value)
    elif isinstance(node, list):
        for value in node:
            _standard_keywords(value)


def _auth(dependant: Dependant) -> tuple[bool, tuple[str, ...], tuple[str, ...], bool]:
    """Whether the route authenticates, the scopes it needs all of, those it needs one of,
    and whether it submits a job."""
    found, all_of, any_of, submits_job = False, [], [], False
    stack = [dependant]
    while stack:
        dep = stack.pop()
        found = found or dep.call is current_principal
        submits_job = submits_job or getattr(dep.call, "limits_jobs", False)
        all_of += getattr(dep.call, "scopes", ())
        any_of += getattr(dep.call, "any_of_scopes", ())
        stack.extend(dep.dependencies)
    return found, tuple(dict.fromkeys(all_of)), tuple(dict.fromkeys(any_of)), submits_job
