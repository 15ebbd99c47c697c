"""Unit-test fixtures: moto's `mock_aws` with the table and bucket built from template.yaml."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from conformance import conform
from fakes.fake_gemini import FakeGemini
from fastapi.testclient import TestClient
from moto import mock_aws

from reelforge import aws
from reelforge.api import create_app
from reelforge.local.runtime import EmbeddedAWS
from reelforge.local.template import Resolver, load_template
from reelforge.settings import get_settings

ROOT = Path(__file__).resolve().parents[2]
TABLE, BUCKET = "reelforge-test-table", "reelforge-test-bucket"
GEMINI_TEST_KEY = "AIzaTEST-not-a-real-key-0123456789"


@pytest.fixture
def fake_gemini() -> Iterator[FakeGemini]:
    """The fake Gemini HTTP server on loopback; the real SDK talks to it with GEMINI_TEST_KEY."""
    with FakeGemini(api_key=GEMINI_TEST_KEY) as fake:
        yield fake


@pytest.fixture
def client(aws_mock: None) -> Iterator[TestClient]:
    """The API app, as the API Lambda builds it, under FastAPI's TestClient on in-process moto."""
    with TestClient(create_app()) as c:
        yield conform(c, "app", c.app.openapi)


@pytest.fixture
def aws_mock(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """In-process moto with the template's table (keys, GSI) and bucket."""
    for key in ("AWS_ENDPOINT_URL", "MOTO_PORT"):
        monkeypatch.delenv(key, raising=False)
    env = {
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1", "TABLE_NAME": TABLE, "BUCKET_NAME": BUCKET,
        "JWT_SECRET": "unit-test-secret-" + "x" * 32,
        "PROCESS_STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:test",
        "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_METRICS_DISABLED": "true",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    aws.reset_clients()
    with mock_aws():
        template = load_template(ROOT / "template.yaml")
        props = Resolver(template).resolve(template["Resources"]["Table"]["Properties"])
        boto3.client("dynamodb").create_table(**EmbeddedAWS._table_args(props, TABLE))
        boto3.client("s3").create_bucket(Bucket=BUCKET)
        yield
    get_settings.cache_clear()
    aws.reset_clients()
    os.environ.pop("MOTO_PORT", None)


@pytest.fixture(scope="module")
def moto_server() -> Iterator[str]:
    """moto over HTTP on loopback with the template's table and a bucket, for the step tests:
    steps hand ffmpeg presigned URLs, which need a server to answer them. Yields the endpoint.

    Module-scoped (one server per test module); its table and bucket have names of their own,
    since moto's backends are shared by every server in this process."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{server.get_host_and_port()[1]}"
    table, bucket = f"steps-{uuid.uuid4().hex[:8]}", f"steps-{uuid.uuid4().hex[:8]}"
    env = {
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": endpoint, "TABLE_NAME": table,
        "BUCKET_NAME": bucket, "JWT_SECRET": "unit-test-secret-" + "x" * 32,
        "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_METRICS_DISABLED": "true",
        "RENDER_PRESET": "ultrafast", "WHISPER_KEEP_LOADED": "false",
    }
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    get_settings.cache_clear()
    aws.reset_clients()
    template = load_template(ROOT / "template.yaml")
    props = Resolver(template).resolve(template["Resources"]["Table"]["Properties"])
    aws.client("dynamodb").create_table(**EmbeddedAWS._table_args(props, table))
    aws.client("s3").create_bucket(Bucket=bucket)
    try:
        yield endpoint
    finally:
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        get_settings.cache_clear()
        aws.reset_clients()
