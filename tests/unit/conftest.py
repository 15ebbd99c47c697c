"""Unit-test fixtures: moto's `mock_aws` with the table and bucket built from template.yaml."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from reelforge import aws
from reelforge.local.runtime import EmbeddedAWS
from reelforge.local.template import Resolver, load_template
from reelforge.settings import get_settings

ROOT = Path(__file__).resolve().parents[2]
TABLE, BUCKET = "reelforge-test-table", "reelforge-test-bucket"


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
