"""End-to-end fixtures: the embedded AWS and the API under uvicorn, over real HTTP."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from reelforge import aws
from reelforge.cli import start_local_stack


@dataclass
class Stack:
    url: str
    aws: object

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)

    @staticmethod
    def wait(client: httpx.Client, path: str, timeout: float = 240) -> dict:
        """Poll a status route until the job it describes has finished."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            body = client.get(path).json()
            if body["status"] in ("completed", "failed"):
                return body
            time.sleep(0.3)
        raise AssertionError(f"{path} did not finish in {timeout} s: {body}")

    def register(self, name: str = "user") -> str:
        """A fresh user; returns its access token."""
        email = f"{name}-{uuid.uuid4().hex[:8]}@example.com"
        resp = httpx.post(f"{self.url}/api/auth/register", timeout=60,
                          json={"email": email, "password": "password123", "name": name})
        resp.raise_for_status()
        return resp.json()["accessToken"]


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    aws.reset_clients()
    embedded, server, url = start_local_stack(0)
    yield Stack(url=url, aws=embedded)
    server.should_exit = True
    embedded.stop()
    aws.reset_clients()
