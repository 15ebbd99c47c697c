"""boto3 clients and resources, built one way for the cloud and the embedded AWS.

On AWS the endpoint is the default; locally `AWS_ENDPOINT_URL` points boto3 at the
embedded moto server and S3 uses path-style URLs (no wildcard DNS on loopback).
"""

from __future__ import annotations

import os
import threading
from typing import Any

import boto3
from botocore.config import Config

_local = threading.local()


def _config() -> Config:
    s3 = {"addressing_style": "path"} if os.environ.get("AWS_ENDPOINT_URL") else {}
    return Config(
        s3=s3,
        retries={"max_attempts": 5, "mode": "standard"},
        signature_version="s3v4",
    )


def client(service: str, *, endpoint_url: str | None = None) -> Any:
    """A per-thread boto3 client (boto3 sessions are not thread-safe).

    `endpoint_url` is for services whose endpoint is a deployed resource's own URL (the
    WebSocket API's, for apigatewaymanagementapi); it wins over AWS_ENDPOINT_URL.
    """
    cache = _local.__dict__.setdefault("clients", {})
    key = (service, endpoint_url or os.environ.get("AWS_ENDPOINT_URL"))
    if key not in cache:
        extra = {"endpoint_url": endpoint_url} if endpoint_url else {}
        cache[key] = boto3.session.Session().client(service, config=_config(), **extra)
    return cache[key]


def resource(service: str) -> Any:
    cache = _local.__dict__.setdefault("resources", {})
    key = (service, os.environ.get("AWS_ENDPOINT_URL"))
    if key not in cache:
        cache[key] = boto3.session.Session().resource(service, config=_config())
    return cache[key]


def reset_clients() -> None:
    """Forget this thread's cached clients (tests switch endpoints and mocks)."""
    _local.__dict__.clear()
