"""`reelforge serve` in a child process, for the tests and tools that need a server of their own
(a restart, a crash, a fuzzer's load): in-process, moto's backends are global to pytest."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import boto3
import httpx
from conformance import conform


class Server:
    """`reelforge serve` in a child process on `data_dir`."""

    def __init__(self, data_dir: Path, home: Path) -> None:
        self.data_dir, self.home = data_dir, home
        self.proc: subprocess.Popen[str] | None = None
        self.url = self.aws = ""
        self.output: list[str] = []
        self._ready = False

    def start(self, *args: str, timeout: float = 120, env: dict[str, str] | None = None) -> Server:
        env = {**os.environ, "HOME": str(self.home), "PYTHONUNBUFFERED": "1", "NO_COLOR": "1",
               "COLUMNS": "200", **(env or {})}
        env.pop("REELFORGE_DATA_DIR", None)
        self.output, self.url, self.aws, self._ready = [], "", "", False
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "reelforge.cli", "serve", "--port", "0", "--data-dir", str(self.data_dir), *args],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        threading.Thread(target=self._read, daemon=True).start()
        deadline = time.time() + timeout
        while time.time() < deadline and not self._ready:
            if self.proc.poll() is not None:
                time.sleep(0.2)
                raise AssertionError("the server exited:\n" + "".join(self.output))
            time.sleep(0.1)
        assert self._ready, "".join(self.output)
        return self

    def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            self.output.append(line)
            if line.startswith("API:"):
                self.url = line.split()[1]
            elif line.startswith("AWS:"):
                self.aws = line.split()[1]
            elif line.startswith("Ctrl-C"):
                self._ready = True

    def stop(self, sig: int = signal.SIGTERM) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)
        assert self.proc.wait(60) in (0, -signal.SIGKILL), "".join(self.output)

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return conform(httpx.Client(base_url=self.url, headers=headers, timeout=60), "serve", self.openapi)

    def openapi(self) -> dict[str, Any]:
        return httpx.get(f"{self.url}/api/openapi.json", timeout=60).json()

    def aws_client(self, service: str) -> Any:
        """A boto3 client of the server's embedded AWS."""
        return boto3.client(service, endpoint_url=self.aws, region_name="us-east-1",
                            aws_access_key_id="local", aws_secret_access_key="local")

    def dynamodb(self) -> tuple[Any, str]:
        """The server's embedded DynamoDB, and the main table's name."""
        ddb = self.aws_client("dynamodb")
        return ddb, next(t for t in ddb.list_tables()["TableNames"] if t.endswith("-Table"))

    def table_items(self) -> list[dict]:
        ddb, name = self.dynamodb()
        items, kwargs = [], {}
        while True:
            page = ddb.scan(TableName=name, **kwargs)
            items += page["Items"]
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def register(self, name: str = "user") -> str:
        return register(self.url, name)


def register(url: str, name: str = "user") -> str:
    """A fresh user on the server at `url`; returns its access token."""
    email = f"{name}-{uuid.uuid4().hex[:8]}@example.com"
    resp = httpx.post(f"{url}/api/auth/register", timeout=60,
                      json={"email": email, "password": "password123", "name": name})
    resp.raise_for_status()
    return resp.json()["accessToken"]
