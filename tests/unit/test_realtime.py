"""reelforge.realtime against moto: the WebSocket protocol, publish to local and API Gateway
connections, and the API Gateway WebSocket routes (functions/ws) with recorded-style events.

moto's apigatewaymanagementapi keeps what post_to_connection sent, per connection id, as one
byte string (every post appended), and accepts any connection id: it never answers
GoneException, so a gone connection is simulated with botocore's Stubber.
"""

from __future__ import annotations

import asyncio
import copy
import importlib.util
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import boto3
import pytest
from botocore.stub import Stubber
from moto.apigatewaymanagementapi.models import apigatewaymanagementapi_backends
from moto.core import DEFAULT_ACCOUNT_ID

from reelforge import auth, aws, realtime
from reelforge.local.runtime import EmbeddedAWS
from reelforge.local.template import Resolver, load_template
from reelforge.projects import service as projects
from reelforge.settings import get_settings
from reelforge.store import NotFound, Table

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "tests" / "events" / "ws"
CONNECTIONS = "reelforge-test-connections"
ENDPOINT = "https://abc123defg.execute-api.us-east-1.amazonaws.com/dev"
CLOUD_ID = "Y0pLzeB1oAMCKfQ="


@pytest.fixture
def ws_tables(aws_mock: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The unit tests' table and bucket, plus the template's ConnectionsTable."""
    monkeypatch.setenv("CONNECTIONS_TABLE_NAME", CONNECTIONS)
    monkeypatch.setenv("WEBSOCKET_ENDPOINT", ENDPOINT)
    get_settings.cache_clear()
    template = load_template(ROOT / "template.yaml")
    props = Resolver(template).resolve(template["Resources"]["ConnectionsTable"]["Properties"])
    boto3.client("dynamodb").create_table(**EmbeddedAWS._table_args(props, CONNECTIONS))
    yield
    get_settings.cache_clear()


def _user(email: str) -> tuple[str, str]:
    """(user id, access token) of a new user."""
    user = auth.register(email, "password123", "N")
    return user["id"], auth.issue_tokens(user)["accessToken"]


def _send(connection_id: str, message: dict[str, Any] | str) -> list[dict[str, Any]]:
    text = message if isinstance(message, str) else json.dumps(message)
    return realtime.handle_message(connection_id, text)


def _posted(connection_id: str) -> list[dict[str, Any]]:
    """Every message moto's API Gateway received for the connection, in order. moto keys its
    connections by the id as it appears in the URL path: percent-encoded (API Gateway decodes)."""
    connections = apigatewaymanagementapi_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].connections
    connection = connections.get(quote(connection_id, safe=""))
    text = connection.data.decode() if connection else ""
    decoder, messages, pos = json.JSONDecoder(), [], 0
    while pos < len(text):
        message, pos = decoder.raw_decode(text, pos)
        messages.append(message)
    return messages


def _items(pk_prefix: str) -> list[dict[str, Any]]:
    return [i for i in Table(CONNECTIONS).scan() if i["PK"].startswith(pk_prefix)]


class _Socket:
    """A local socket's receiving end: an event loop and the queue the hub fills."""

    def __init__(self, connection_id: str) -> None:
        self.connection_id = connection_id
        self.loop = asyncio.new_event_loop()
        self.queue: asyncio.Queue[str] = asyncio.Queue()
        realtime.local_hub.register(connection_id, self.loop, self.queue)

    def received(self) -> list[dict[str, Any]]:
        self.loop.run_until_complete(asyncio.sleep(0))  # run the hub's call_soon_threadsafe
        out = []
        while not self.queue.empty():
            out.append(json.loads(self.queue.get_nowait()))
        return out

    def close(self) -> None:
        realtime.local_hub.unregister(self.connection_id)
        self.loop.close()


# --- the protocol ---------------------------------------------------------------------------


def test_malformed_messages_get_the_seed_error_codes(ws_tables: None) -> None:
    realtime.open_connection("local-a", None)
    cases = {
        "not json": "INVALID_MESSAGE",
        "[1, 2]": "INVALID_MESSAGE",
        '"subscribe"': "INVALID_MESSAGE",
        '{"projectId": "p"}': "INVALID_MESSAGE",
        '{"type": 7}': "INVALID_MESSAGE",
        '{"type": "shout"}': "UNKNOWN_MESSAGE_TYPE",
        '{"type": "subscribe"}': "INVALID_PROJECT_ID",
        '{"type": "subscribe", "projectId": ""}': "INVALID_PROJECT_ID",
        '{"type": "subscribe", "projectId": 12}': "INVALID_PROJECT_ID",
        json.dumps({"type": "subscribe", "projectId": "p" * 51}): "INVALID_PROJECT_ID",
        json.dumps({"type": "unsubscribe", "projectId": "p" * 51}): "INVALID_PROJECT_ID",
        '{"type": "auth"}': "INVALID_MESSAGE",
    }
    for text, code in cases.items():
        replies = _send("local-a", text)
        assert len(replies) == 1 and replies[0]["type"] == "error", text
        assert replies[0]["code"] == code, text
        assert replies[0]["message"], text
    assert _send("local-a", {"type": "ping"}) == [{"type": "pong"}]


def test_subscribe_needs_authentication_then_works_after_an_auth_message(ws_tables: None) -> None:
    uid, token = _user("a@example.com")
    pid = projects.create(uid, "mine")["id"]
    realtime.open_connection("local-a", None)

    [refused] = _send("local-a", {"type": "subscribe", "projectId": pid})
    assert refused["code"] == "UNAUTHORIZED"
    [bad] = _send("local-a", {"type": "auth", "token": "not-a-token"})
    assert bad["code"] == "UNAUTHORIZED" and "not-a-token" not in bad["message"]

    assert _send("local-a", {"type": "auth", "token": token}) == [{"type": "authenticated"}]
    assert _send("local-a", {"type": "subscribe", "projectId": pid}) == [
        {"type": "subscribed", "projectId": pid}]
    assert realtime.subscriptions("local-a") == [pid]
    assert [i["SK"] for i in _items(f"TOPIC#{pid}")] == ["CONN#local-a"]
    assert all(i["expires_at"] > 0 for i in _items("CONN#local-a") + _items("TOPIC#"))

    assert _send("local-a", {"type": "unsubscribe", "projectId": pid}) == [
        {"type": "unsubscribed", "projectId": pid}]
    assert realtime.subscriptions("local-a") == [] and _items("TOPIC#") == []
    # Unsubscribing again (or from what was never subscribed) is fine.
    assert _send("local-a", {"type": "unsubscribe", "projectId": pid}) == [
        {"type": "unsubscribed", "projectId": pid}]


def test_another_users_project_reads_as_not_found(ws_tables: None) -> None:
    owner, _ = _user("owner@example.com")
    _, intruder_token = _user("intruder@example.com")
    theirs = projects.create(owner, "theirs")["id"]
    realtime.open_connection("local-b", realtime.user_for_token(intruder_token))

    [other] = _send("local-b", {"type": "subscribe", "projectId": theirs})
    [missing] = _send("local-b", {"type": "subscribe", "projectId": "no-such-project"})
    assert other == missing == {"type": "error", "code": "NOT_FOUND", "message": "Project not found"}
    assert _items("TOPIC#") == []


def test_switching_user_drops_the_old_users_subscriptions(ws_tables: None) -> None:
    a, a_token = _user("a@example.com")
    _, b_token = _user("b@example.com")
    pid = projects.create(a, "a's")["id"]
    realtime.open_connection("local-c", None)
    _send("local-c", {"type": "auth", "token": a_token})
    _send("local-c", {"type": "subscribe", "projectId": pid})
    assert _send("local-c", {"type": "auth", "token": b_token}) == [{"type": "authenticated"}]
    assert realtime.subscriptions("local-c") == [] and _items("TOPIC#") == []


def test_an_api_token_needs_projects_read(ws_tables: None) -> None:
    uid, _ = _user("t@example.com")
    principal = auth.Principal(user_id=uid, email="t@example.com", name="N")
    reader, _ = auth.create_api_token(principal, "r", ["projects:read"], None)
    writer_only, _ = auth.create_api_token(principal, "w", ["works:write"], None)
    realtime.open_connection("local-d", None)
    assert _send("local-d", {"type": "auth", "token": writer_only})[0]["code"] == "UNAUTHORIZED"
    assert _send("local-d", {"type": "auth", "token": reader}) == [{"type": "authenticated"}]


def test_close_connection_removes_its_subscriptions(ws_tables: None) -> None:
    uid, token = _user("a@example.com")
    pids = [projects.create(uid, f"p{i}")["id"] for i in range(2)]
    realtime.open_connection("local-e", realtime.user_for_token(token))
    for pid in pids:
        _send("local-e", {"type": "subscribe", "projectId": pid})
    assert len(_items("TOPIC#")) == 2
    realtime.close_connection("local-e")
    assert list(Table(CONNECTIONS).scan()) == []


# --- publish ----------------------------------------------------------------------------------


def test_publish_reaches_only_the_projects_local_subscribers(ws_tables: None) -> None:
    uid, token = _user("a@example.com")
    pid, other = (projects.create(uid, n)["id"] for n in ("watched", "other"))
    sockets = {name: _Socket(f"local-{name}") for name in ("sub", "left", "elsewhere")}
    try:
        for socket in sockets.values():
            realtime.open_connection(socket.connection_id, realtime.user_for_token(token))
        _send("local-sub", {"type": "subscribe", "projectId": pid})
        _send("local-left", {"type": "subscribe", "projectId": pid})
        _send("local-left", {"type": "unsubscribe", "projectId": pid})
        _send("local-elsewhere", {"type": "subscribe", "projectId": other})

        event = {"type": "progress", "projectId": pid, "jobId": "j1", "jobType": "script",
                 "progress": 25, "message": "Generating script with AI..."}
        assert realtime.publish(pid, event) == 1
        assert sockets["sub"].received() == [event]
        assert sockets["left"].received() == [] and sockets["elsewhere"].received() == []
    finally:
        for socket in sockets.values():
            socket.close()


def test_publish_from_another_thread_reaches_the_local_socket(ws_tables: None) -> None:
    import threading

    uid, token = _user("a@example.com")
    pid = projects.create(uid, "p")["id"]
    socket = _Socket("local-t")
    try:
        realtime.open_connection("local-t", realtime.user_for_token(token))
        _send("local-t", {"type": "subscribe", "projectId": pid})
        counts: list[int] = []
        worker = threading.Thread(target=lambda: counts.append(realtime.publish(pid, {"type": "x"})))
        worker.start()
        worker.join()
        assert counts == [1] and socket.received() == [{"type": "x"}]
    finally:
        socket.close()


def test_publish_to_an_api_gateway_connection_arrives_in_moto(ws_tables: None) -> None:
    uid, token = _user("a@example.com")
    pid = projects.create(uid, "p")["id"]
    realtime.open_connection(CLOUD_ID, realtime.user_for_token(token))
    _send(CLOUD_ID, {"type": "subscribe", "projectId": pid})

    done = {"type": "job_complete", "projectId": pid, "jobId": "j1", "jobType": "script", "result": {}}
    assert realtime.publish(pid, {"type": "progress", "projectId": pid, "progress": 0}) == 1
    assert realtime.publish(pid, done) == 1
    assert _posted(CLOUD_ID) == [{"type": "progress", "projectId": pid, "progress": 0}, done]


def test_a_gone_connection_is_forgotten(ws_tables: None) -> None:
    uid, token = _user("a@example.com")
    pid = projects.create(uid, "p")["id"]
    for cid in (CLOUD_ID, "local-stale"):  # local-stale: a socket of a process that is gone
        realtime.open_connection(cid, realtime.user_for_token(token))
        _send(cid, {"type": "subscribe", "projectId": pid})
    client = aws.client("apigatewaymanagementapi", endpoint_url=ENDPOINT)
    with Stubber(client) as stub:
        stub.add_client_error("post_to_connection", service_error_code="GoneException",
                              http_status_code=410)
        assert realtime.publish(pid, {"type": "progress"}) == 0
        stub.assert_no_pending_responses()
    assert list(Table(CONNECTIONS).scan()) == []


def test_publish_never_raises(ws_tables: None, monkeypatch: pytest.MonkeyPatch) -> None:
    uid, token = _user("a@example.com")
    pid = projects.create(uid, "p")["id"]
    realtime.open_connection(CLOUD_ID, realtime.user_for_token(token))
    _send(CLOUD_ID, {"type": "subscribe", "projectId": pid})
    client = aws.client("apigatewaymanagementapi", endpoint_url=ENDPOINT)
    with Stubber(client) as stub:  # a throttled push: logged, the connection kept
        stub.add_client_error("post_to_connection", service_error_code="LimitExceededException",
                              http_status_code=429)
        assert realtime.publish(pid, {"type": "progress"}) == 0
    assert realtime.subscriptions(CLOUD_ID) == [pid]

    monkeypatch.setenv("CONNECTIONS_TABLE_NAME", "no-such-table")
    get_settings.cache_clear()
    assert realtime.publish(pid, {"type": "progress"}) == 0
    monkeypatch.setenv("CONNECTIONS_TABLE_NAME", "")
    get_settings.cache_clear()
    assert realtime.publish(pid, {"type": "progress"}) == 0  # no table: a no-op


def test_without_a_table_nothing_falls_back_to_the_main_table(ws_tables: None,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONNECTIONS_TABLE_NAME", "")
    get_settings.cache_clear()
    with pytest.raises(RuntimeError, match="CONNECTIONS_TABLE_NAME"):
        realtime.open_connection("local-x", None)


# --- the API Gateway routes (functions/ws) ----------------------------------------------------


class _Context:
    function_name = "reelforge-test-WebSocketFunction"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:reelforge-test-WebSocketFunction"
    memory_limit_in_mb = 512
    aws_request_id = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"
    log_group_name = "/aws/lambda/reelforge-test-WebSocketFunction"
    log_stream_name = "test"

    def get_remaining_time_in_millis(self) -> int:
        return 29_000


def _handler() -> Any:
    spec = importlib.util.spec_from_file_location("ws_app_under_test", ROOT / "functions" / "ws" / "app.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.handler


def _event(name: str, **changes: Any) -> dict[str, Any]:
    event = copy.deepcopy(json.loads((EVENTS / f"{name}.json").read_text()))
    event.update(changes)
    return event


def _connect(token: str | None) -> dict[str, Any]:
    query = {"token": token} if token is not None else None
    return _handler()(_event("connect", queryStringParameters=query,
                             multiValueQueryStringParameters=None), _Context())


def _message(message: dict[str, Any] | str) -> None:
    body = message if isinstance(message, str) else json.dumps(message)
    assert _handler()(_event("default", body=body), _Context()) == {"statusCode": 200}


def test_connect_with_a_good_token_opens_an_authenticated_connection(ws_tables: None) -> None:
    uid, token = _user("a@example.com")
    pid = projects.create(uid, "p")["id"]
    assert _connect(token) == {"statusCode": 200}
    assert Table(CONNECTIONS).get({"PK": f"CONN#{CLOUD_ID}", "SK": "META"})["user_id"] == uid
    _message({"type": "subscribe", "projectId": pid})
    _message({"type": "ping"})
    # `connected` goes out once, with the first reply: API Gateway cannot post during $connect.
    assert _posted(CLOUD_ID) == [{"type": "connected", "clientId": CLOUD_ID},
                                 {"type": "subscribed", "projectId": pid}, {"type": "pong"}]


def test_connect_with_a_bad_token_is_refused(ws_tables: None) -> None:
    assert _connect("garbage") == {"statusCode": 401}
    with pytest.raises(NotFound):
        Table(CONNECTIONS).get({"PK": f"CONN#{CLOUD_ID}", "SK": "META"})


def test_connect_without_a_token_then_auth_by_message(ws_tables: None) -> None:
    uid, token = _user("a@example.com")
    pid = projects.create(uid, "p")["id"]
    assert _connect(None) == {"statusCode": 200}
    _message({"type": "subscribe", "projectId": pid})
    _message({"type": "auth", "token": token})
    _message({"type": "subscribe", "projectId": pid})
    _message("{not json")
    posted = _posted(CLOUD_ID)
    assert posted[0] == {"type": "connected", "clientId": CLOUD_ID}
    assert posted[1]["code"] == "UNAUTHORIZED"
    assert posted[2:4] == [{"type": "authenticated"}, {"type": "subscribed", "projectId": pid}]
    assert posted[4]["code"] == "INVALID_MESSAGE" and len(posted) == 5


def test_binary_frames_are_invalid_messages(ws_tables: None) -> None:
    _connect(None)
    _handler()(_event("default", body="AAEC", isBase64Encoded=True), _Context())
    assert _posted(CLOUD_ID)[1]["code"] == "INVALID_MESSAGE"


def test_replies_go_to_the_configured_endpoint_or_else_the_events_own(
        ws_tables: None, monkeypatch: pytest.MonkeyPatch) -> None:
    configured = "https://zzz999wxyz.execute-api.us-east-1.amazonaws.com/prod"
    urls: list[str] = []
    for endpoint in (configured, ENDPOINT):  # ENDPOINT: the event's domainName and stage
        aws.client("apigatewaymanagementapi", endpoint_url=endpoint).meta.events.register(
            "before-send.apigatewaymanagementapi.PostToConnection",
            lambda request, **_: urls.append(request.url))
    _connect(None)
    monkeypatch.setenv("WEBSOCKET_ENDPOINT", configured)
    get_settings.cache_clear()
    _message({"type": "ping"})
    monkeypatch.setenv("WEBSOCKET_ENDPOINT", "")
    get_settings.cache_clear()
    _message({"type": "ping"})
    path = f"/@connections/{quote(CLOUD_ID, safe='')}"
    assert urls == [configured + path] * 2 + [ENDPOINT + path]


def test_disconnect_forgets_the_connection_and_its_subscriptions(ws_tables: None) -> None:
    uid, token = _user("a@example.com")
    pid = projects.create(uid, "p")["id"]
    _connect(token)
    _message({"type": "subscribe", "projectId": pid})
    assert len(list(Table(CONNECTIONS).scan())) == 3
    assert _handler()(_event("disconnect"), _Context()) == {"statusCode": 200}
    assert list(Table(CONNECTIONS).scan()) == []
    assert realtime.publish(pid, {"type": "progress"}) == 0
