"""The local WebSocket route (api.websocket.serve) on a minimal FastAPI app, against moto:
authentication by query string or first message, subscriptions, and a publish from another
thread arriving on the socket."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from fastapi import FastAPI, WebSocket
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from reelforge import auth, realtime
from reelforge.api import websocket as ws_route
from reelforge.local.runtime import EmbeddedAWS
from reelforge.local.template import Resolver, load_template
from reelforge.projects import service as projects
from reelforge.settings import get_settings
from reelforge.store import Table

ROOT = Path(__file__).resolve().parents[2]
CONNECTIONS = "reelforge-test-connections"


@pytest.fixture
def client(aws_mock: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """A FastAPI app with only the WebSocket route, over the template's ConnectionsTable."""
    monkeypatch.setenv("CONNECTIONS_TABLE_NAME", CONNECTIONS)
    get_settings.cache_clear()
    template = load_template(ROOT / "template.yaml")
    props = Resolver(template).resolve(template["Resources"]["ConnectionsTable"]["Properties"])
    boto3.client("dynamodb").create_table(**EmbeddedAWS._table_args(props, CONNECTIONS))
    app = FastAPI()

    @app.websocket("/api/v1/ws")
    async def websocket(ws: WebSocket) -> None:
        await ws_route.serve(ws)

    with TestClient(app) as test_client:
        yield test_client
    get_settings.cache_clear()


def _user_with_project(email: str) -> tuple[str, str]:
    """(access token, project id) of a new user with one project."""
    user = auth.register(email, "password123", "N")
    return auth.issue_tokens(user)["accessToken"], projects.create(user["id"], "p")["id"]


def _publish_from_another_thread(project_id: str, message: dict) -> int:
    counts: list[int] = []
    worker = threading.Thread(target=lambda: counts.append(realtime.publish(project_id, message)))
    worker.start()
    worker.join()
    return counts[0]


def test_token_in_the_query_string_then_subscribe_and_receive_a_publish(client: TestClient) -> None:
    token, pid = _user_with_project("a@example.com")
    with client.websocket_connect(f"/api/v1/ws?token={token}") as ws:
        hello = ws.receive_json()
        assert hello["type"] == "connected" and hello["clientId"].startswith("local-")
        ws.send_json({"type": "subscribe", "projectId": pid})
        assert ws.receive_json() == {"type": "subscribed", "projectId": pid}

        event = {"type": "progress", "projectId": pid, "jobId": "j1", "jobType": "script",
                 "progress": 50, "message": "Preparing to save script..."}
        assert _publish_from_another_thread(pid, event) == 1
        assert ws.receive_json() == event

        ws.send_json({"type": "unsubscribe", "projectId": pid})
        assert ws.receive_json() == {"type": "unsubscribed", "projectId": pid}
        assert _publish_from_another_thread(pid, event) == 0
        ws.send_json({"type": "ping"})
        assert ws.receive_json() == {"type": "pong"}  # and not the event
    # Closing the socket forgets the connection (the server's side of the close runs on its
    # own thread, so give it a moment under load).
    deadline = time.monotonic() + 30
    while list(Table(CONNECTIONS).scan()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert list(Table(CONNECTIONS).scan()) == []


def test_auth_by_first_message(client: TestClient) -> None:
    token, pid = _user_with_project("b@example.com")
    with client.websocket_connect("/api/v1/ws") as ws:
        assert ws.receive_json()["type"] == "connected"
        ws.send_json({"type": "subscribe", "projectId": pid})
        assert ws.receive_json()["code"] == "UNAUTHORIZED"
        ws.send_json({"type": "auth", "token": token})
        assert ws.receive_json() == {"type": "authenticated"}
        ws.send_json({"type": "subscribe", "projectId": pid})
        assert ws.receive_json() == {"type": "subscribed", "projectId": pid}
        assert _publish_from_another_thread(pid, {"type": "job_complete", "projectId": pid}) == 1
        assert ws.receive_json() == {"type": "job_complete", "projectId": pid}


def test_bad_messages_and_binary_frames_get_errors_and_keep_the_socket(client: TestClient) -> None:
    with client.websocket_connect("/api/v1/ws") as ws:
        ws.receive_json()
        ws.send_text("not json")
        assert ws.receive_json()["code"] == "INVALID_MESSAGE"
        ws.send_bytes(b"\x00\x01")
        assert ws.receive_json()["code"] == "INVALID_MESSAGE"
        ws.send_json({"type": "subscribe", "projectId": ""})
        assert ws.receive_json()["code"] == "INVALID_PROJECT_ID"
        ws.send_json({"type": "dance"})
        assert ws.receive_json()["code"] == "UNKNOWN_MESSAGE_TYPE"


def test_a_bad_token_gets_an_error_frame_and_close_4401(client: TestClient) -> None:
    with client.websocket_connect("/api/v1/ws?token=not-a-token") as ws:
        error = ws.receive_json()
        assert error["type"] == "error" and error["code"] == "UNAUTHORIZED"
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == ws_route.CLOSE_UNAUTHORIZED
    assert list(Table(CONNECTIONS).scan()) == []
