"""Clients of the studio's `/api/v1` for the tests: the envelope, jobs, SSE and a WebSocket."""

from __future__ import annotations

import json
import threading
import time

import httpx
from websockets.sync.client import connect


def _ok(resp: httpx.Response, status: int = 200) -> dict:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["success"] is True, body
    return body.get("data")


def _wait_job(client: httpx.Client, job_id: str, timeout: float = 600) -> dict:
    deadline = time.time() + timeout
    while time.time() < deadline:
        job = _ok(client.get(f"/api/v1/jobs/{job_id}"))
        if job["status"] in ("completed", "failed"):
            return job
        time.sleep(0.3)
    raise AssertionError(f"job {job_id} did not finish: {job}")


class SocketLog:
    """A WebSocket client that records every frame in a thread."""

    def __init__(self, url: str) -> None:
        self.socket = connect(url)
        self.frames: list[dict] = []
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            for text in self.socket:
                self.frames.append(json.loads(text))
        except Exception:  # noqa: BLE001 - the socket closed
            return

    def send(self, message: dict) -> None:
        self.socket.send(json.dumps(message))

    def wait_for(self, predicate, timeout: float = 30) -> dict:  # noqa: ANN001
        deadline = time.time() + timeout
        while time.time() < deadline:
            for frame in self.frames:
                if predicate(frame):
                    return frame
            time.sleep(0.05)
        raise AssertionError(f"no such frame in {self.frames[-10:]}")

    def close(self) -> None:
        self.socket.close()


def _sse(client: httpx.Client, project_id: str) -> list[tuple[str, dict]]:
    events, name = [], None
    with client.stream("GET", f"/api/v1/projects/{project_id}/generation-status", timeout=300) as resp:
        assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/event-stream")
        assert resp.headers["x-accel-buffering"] == "no"
        for line in resp.iter_lines():
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                events.append((name, json.loads(line[5:])))
    return events
