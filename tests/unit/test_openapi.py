"""The OpenAPI document says what the routes answer (api/openapi.py); schemathesis checks the
rest over HTTP (tests/integration/test_api_fuzz.py)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from conformance import Conformance
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator
from pydantic import BaseModel, ValidationError
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from reelforge.fields import Integer

METHODS = ("get", "put", "post", "delete", "patch")


@pytest.fixture
def document(client: TestClient) -> dict[str, Any]:
    resp = client.get("/api/openapi.json")
    assert resp.status_code == 200
    return resp.json()


def _operations(document: dict[str, Any]):
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def test_every_error_has_the_real_shape(document: dict[str, Any]) -> None:
    assert "HTTPValidationError" not in document["components"]["schemas"]
    for path, method, op in _operations(document):
        for code, response in op["responses"].items():
            if not code.startswith(("4", "5")):
                continue
            ref = response["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
            if path.startswith("/api/v1"):
                assert ref == "EnvelopeError", (method, path, code)
                # the studio answers validation with 400; a 422 is only a reused Idempotency-Key
                assert code != "422" or "Idempotency-Key" in response["description"], (method, path)
            else:
                assert ref == ("ValidationError" if code == "422" else "Error"), (method, path, code)


def _loose(schema: dict[str, Any], components: dict[str, Any], seen: tuple[str, ...] = ()) -> bool:
    """Whether `schema` leaves an object untyped (no properties), here or inside a list."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        return name not in seen and (name == "Envelope" or _loose(components[name], components, (*seen, name)))
    if not schema:
        return True
    if schema.get("type") == "object" and "properties" not in schema and not isinstance(
            schema.get("additionalProperties"), dict):
        return True
    return any(_loose(s, components, seen) for s in [*([schema["items"]] if "items" in schema else []),
                                                     *schema.get("anyOf", []), *schema.get("oneOf", [])])


def test_every_json_answer_is_typed(document: dict[str, Any]) -> None:
    """A success answered as JSON names its model (api/openapi.answers for a route that builds
    a dict; the studio's in its envelope), and the main ones carry an example."""
    components = document["components"]["schemas"]
    loose = [(method, path, code) for path, method, op in _operations(document)
             for code, response in op["responses"].items()
             if code.startswith("2") and "application/json" in response.get("content", {})
             and _loose(response["content"]["application/json"].get("schema", {}), components)]
    assert not loose, loose
    examples = [name for name, schema in components.items() if schema.get("examples")]
    assert len(examples) >= 30, examples


def test_every_example_is_valid(document: dict[str, Any]) -> None:
    """Each model's example validates against the model as the document states it (the document
    is written without nulls: api/openapi.py puts the examples' back)."""
    registry = Registry().with_resource("urn:doc", DRAFT202012.create_resource(document))
    for name, schema in document["components"]["schemas"].items():
        for example in schema.get("examples", []):
            validator = Draft202012Validator({"$ref": f"urn:doc#/components/schemas/{name}"}, registry=registry)
            assert not [e.message for e in validator.iter_errors(example)], (name, example)


def test_security_names_the_scopes_each_route_needs(document: dict[str, Any]) -> None:
    ops = {(m, p): op for p, m, op in _operations(document)}
    process = ops[("post", "/api/process")]
    assert process["security"] == [{"bearerAuth": ["ai:generate"]}]
    assert {"401", "403", "400", "413", "422"} <= set(process["responses"])
    # one of several scopes: one requirement object per scope (OpenAPI's "or")
    job = ops[("get", "/api/job/{job_id}")]
    assert len(job["security"]) > 1 and all(len(r["bearerAuth"]) == 1 for r in job["security"])
    assert "404" in job["responses"]
    me = ops[("get", "/api/auth/me")]
    assert me["security"] == [{"bearerAuth": []}] and "403" not in me["responses"]
    assert "security" not in ops[("post", "/api/auth/login")]
    secured = [op for op in ops.values() if "security" in op]
    assert len(secured) > 100 and all("401" in op["responses"] for op in secured)


def test_streams_and_uploads_are_documented_as_what_they_are(document: dict[str, Any]) -> None:
    ops = {(m, p): op for p, m, op in _operations(document)}
    sse = ops[("get", "/api/progress/{job_id}")]["responses"]["200"]["content"]
    assert list(sse) == ["text/event-stream"]
    analyze = ops[("post", "/api/analyze")]["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert analyze["required"] == ["video"] and analyze["properties"]["video"]["format"] == "binary"
    process = ops[("post", "/api/process")]["requestBody"]["content"]
    assert set(process) == {"application/json", "multipart/form-data"}


def test_a_blank_optional_field_is_documented(document: dict[str, Any]) -> None:
    video_url = document["components"]["schemas"]["reelforge__projects__schemas__ProjectBody"][
        "properties"]["video_url"]
    assert {"type": "string", "pattern": r"^\s*$", "description": "blank: the field is left out"} in video_url["anyOf"]


def test_405_lists_every_method_of_the_path(client: TestClient) -> None:
    resp = client.request("OPTIONS", "/api/project/abc")  # GET and DELETE sit on two routes
    assert resp.status_code == 405
    assert resp.headers["allow"] == "DELETE, GET, HEAD"
    assert resp.json() == {"detail": "Method Not Allowed"}
    # a fixed path that a template also fits: the fixed path's methods only
    assert client.request("OPTIONS", "/api/export/preview").headers["allow"] == "POST"


def test_integer_takes_whole_numbers_only() -> None:
    class Body(BaseModel):
        n: Integer

    assert Body.model_validate_json('{"n": 3.0}').n == 3
    for bad in ('"3"', "true", "3.5"):
        with pytest.raises(ValidationError):
            Body.model_validate_json(f'{{"n": {bad}}}')


def test_the_conformance_hook_refuses_what_the_document_does_not_say(document: dict[str, Any]) -> None:
    """tests/conformance.py checks every answer the suite receives: it must catch a missing
    field, a wrong type and an undeclared status, and let a right answer through."""
    checker = Conformance(document)

    def answer(status: int, body: Any, path: str = "/api/ai/timeline") -> list[str]:
        return checker.problems(httpx.Response(status, json=body, request=httpx.Request("GET", f"http://x{path}")))

    good = {"job_id": "j1", "kind": "process", "status": "running", "stage": None, "progress": 40,
            "message": None, "error": None, "project_id": None, "created_at": None, "updated_at": None}
    assert answer(200, {"operations": [good], "count": 1}) == []
    assert "count" in answer(200, {"operations": [good]})[0]
    assert "'soon' is not one of" in answer(200, {"operations": [{**good, "status": "soon"}], "count": 1})[0]
    assert "418 is not declared" in answer(418, {"detail": "teapot"})[0]
    assert answer(404, {"nope": 1}, "/api/job/j1")  # the error model needs `detail`
    assert answer(200, {"anything": 1}, "/not/in/the/document") == []
