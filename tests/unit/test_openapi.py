"""The OpenAPI document says what the routes answer (api/openapi.py); schemathesis checks the
rest over HTTP (tests/integration/test_api_fuzz.py)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel, ValidationError

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
