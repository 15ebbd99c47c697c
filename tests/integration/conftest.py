"""End-to-end fixtures: the embedded AWS and the API under uvicorn, over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from conformance import conform
from polling import wait_for_job
from servers import register

from reelforge import aws
from reelforge.cli import start_local_stack


@dataclass
class Stack:
    url: str
    aws: object

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return conform(httpx.Client(base_url=self.url, headers=headers, timeout=60), "serve",
                       lambda: httpx.get(f"{self.url}/api/openapi.json", timeout=60).json())

    wait = staticmethod(wait_for_job)

    def register(self, name: str = "user") -> str:
        """A fresh user; returns its access token."""
        return register(self.url, name)


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    aws.reset_clients()
    embedded, server, url = start_local_stack(0)
    yield Stack(url=url, aws=embedded)
    server.should_exit = True
    embedded.stop()
    aws.reset_clients()
