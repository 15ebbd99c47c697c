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
_lock = threading.Lock()
_shared: dict[str, Any] = {}  # "session", and the clients (thread-safe), by (service, endpoint)


def _config() -> Config:
    s3 = {"addressing_style": "path"} if os.environ.get("AWS_ENDPOINT_URL") else {}
    return Config(
        s3=s3,
        retries={"max_attempts": 5, "mode": "standard"},
        signature_version="s3v4",
    )


def _session() -> boto3.session.Session:
    """One session for the process, used under `_lock` only (sessions are not thread-safe).
    It loads each service's model once: a session per thread re-parsed them for every new
    thread, a third of the API's time under load (bench/load.py)."""
    if "session" not in _shared:
        _shared["session"] = boto3.session.Session()
    return _shared["session"]


def client(service: str, *, endpoint_url: str | None = None) -> Any:
    """A boto3 client, shared by the threads (clients are thread-safe).

    `endpoint_url` is for services whose endpoint is a deployed resource's own URL (the
    WebSocket API's, for apigatewaymanagementapi); it wins over AWS_ENDPOINT_URL.
    """
    key = ("client", service, endpoint_url or os.environ.get("AWS_ENDPOINT_URL"))
    with _lock:
        if key not in _shared:
            extra = {"endpoint_url": endpoint_url} if endpoint_url else {}
            _shared[key] = _session().client(service, config=_config(), **extra)
        return _shared[key]


def resource(service: str) -> Any:
    """A boto3 resource of this thread's own (resources are not thread-safe)."""
    cache = _local.__dict__.setdefault("resources", {})
    key = (service, os.environ.get("AWS_ENDPOINT_URL"))
    if key not in cache:
        with _lock:
            cache[key] = _session().resource(service, config=_config())
    return cache[key]


def dynamodb_table(name: str) -> Any:
    """This thread's boto3 Table resource for `name` (building one costs more than most of
    the requests made with it: a tenth of the API's time under load, bench/load.py)."""
    cache = _local.__dict__.setdefault("tables", {})
    key = (name, os.environ.get("AWS_ENDPOINT_URL"))
    if key not in cache:
        cache[key] = resource("dynamodb").Table(name)
    return cache[key]


def reset_clients() -> None:
    """Forget the session, clients and this thread's resources (tests switch endpoints, mocks
    and credentials)."""
    with _lock:
        _shared.clear()
    _local.__dict__.clear()
