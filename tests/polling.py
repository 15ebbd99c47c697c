"""Polling a job's status route until it has finished (the integration tests' one way to wait)."""

from __future__ import annotations

import time

import httpx


def wait_for_job(client: httpx.Client, path: str, timeout: float = 240) -> dict:
    """GET `path` until its `status` is completed or failed; returns that body."""
    deadline = time.time() + timeout
    body: dict = {}
    while time.time() < deadline:
        body = client.get(path).json()
        if body["status"] in ("completed", "failed"):
            return body
        time.sleep(0.3)
    raise AssertionError(f"{path} did not finish in {timeout} s: {body}")
