"""Every answer a test receives is checked against the OpenAPI document: its status code must be
declared for the operation, and a JSON body must match the declared schema.

The suite's real flows (uploads, jobs run to the end, edits) reach answers a fuzzer cannot, since
it has no rendered clip or finished generation to ask about; this hook makes each of them a
check on the document. `conform(client, document)` installs it on any httpx client.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from typing import Any

import httpx
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

METHODS = ("get", "put", "post", "delete", "patch")
DOCUMENT = "urn:reelforge:openapi"  # the schemas' `#/components/...` refs resolve against it


class Conformance:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self._registry = Registry().with_resource(DOCUMENT, DRAFT202012.create_resource(document))
        routes = []
        for template, item in document["paths"].items():
            pattern = re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$")
            for method in METHODS:
                if method in item:
                    routes.append((template.count("{"), pattern, method, template, item[method]))
        # a literal segment wins over a parameter (/api/process/upload-url vs /api/process/{id})
        self._routes = sorted(routes, key=lambda r: r[0])
        self._validators: dict[tuple[str, str, str], Draft202012Validator | None] = {}

    def operation(self, method: str, path: str) -> tuple[str, dict[str, Any]] | None:
        for _, pattern, m, template, op in self._routes:
            if m == method and pattern.match(path):
                return template, op
        return None

    def _validator(self, template: str, method: str, code: str) -> Draft202012Validator | None:
        key = (template, method, code)
        if key not in self._validators:
            self._validators[key] = self._build(template, method, code)
        return self._validators[key]

    def _build(self, template: str, method: str, code: str) -> Draft202012Validator | None:
        op = self.document["paths"][template][method]
        if op["responses"][code].get("content", {}).get("application/json", {}).get("schema") is None:
            return None
        pointer = "/".join(p.replace("~", "~0").replace("/", "~1") for p in (
            "paths", template, method, "responses", code, "content", "application/json", "schema"))
        return Draft202012Validator({"$ref": f"{DOCUMENT}#/{pointer}"}, registry=self._registry)

    def problems(self, response: httpx.Response) -> list[str]:
        method, path, status = response.request.method, response.request.url.path, response.status_code
        found = self.operation(method.lower(), path)
        if found is None:  # a hidden alias, a file URL, a route outside the document
            return []
        template, op = found
        code = str(status)
        if code not in op["responses"]:
            if status in (405, 500):  # the ASGI stack's (a 500 fails the test by itself)
                return []
            return [f"{method} {template}: {status} is not declared ({sorted(op['responses'])})"]
        if "json" not in response.headers.get("content-type", ""):
            return []
        validator = self._validator(template, method.lower(), code)
        if validator is None:
            return []
        body = response.read()
        if not body:
            return []
        errors = sorted(validator.iter_errors(json.loads(body)), key=lambda e: list(e.absolute_path))
        return [f"{method} {template} {status}: {'/'.join(map(str, e.absolute_path)) or '(body)'}: "
                f"{e.message[:300]}" for e in errors[:5]]


_checkers: dict[str, Conformance] = {}
_lock = threading.Lock()


def conform(client: httpx.Client, source: str, document: Callable[[], dict[str, Any]]) -> httpx.Client:
    """Check every answer `client` receives; a mismatch fails the request with what is wrong.
    `source` names the kind of server ("app", "serve"); `document()` reads its OpenAPI document
    (once per session, and not through `client`, which may not be open yet)."""
    with _lock:
        if source not in _checkers:
            _checkers[source] = Conformance(document())
        checker = _checkers[source]

    def check(response: httpx.Response) -> None:
        if response.request.method == "HEAD" or response.headers.get("content-type", "").startswith(
                "text/event-stream"):
            return
        found = checker.problems(response)
        if found:
            raise AssertionError("the answer does not match the OpenAPI document:\n" + "\n".join(found))

    client.event_hooks["response"] = [*client.event_hooks.get("response", []), check]
    return client
