"""End-to-end fixtures: the embedded AWS and the API under uvicorn, over real HTTP."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from polling import wait_for_job

from reelforge import aws
from reelforge.cli import start_local_stack


@dataclass
class Stack:
    url: str
    aws: object

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)

    wait = staticmethod(wait_for_job)

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
