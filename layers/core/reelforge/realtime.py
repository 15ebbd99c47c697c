"""Real-time pushes over WebSockets: one event producer for the cloud and for one machine.

DESIGN ("Facts"): in the cloud a WebSocket is an API Gateway WebSocket API whose $connect,
$disconnect and $default routes reach a Lambda (functions/ws: `lambda_route`), and a push is
`apigatewaymanagementapi.post_to_connection`; locally the same events reach a FastAPI
WebSocket route (api/websocket.py). Both keep connections and subscriptions in the
connections table, so `publish` (called by services and by step Lambdas, on any thread) is
the same code in both places; only the last hop differs, chosen by the connection id:
`local-...` is a socket of this process (`local_hub`), anything else is API Gateway's.

Connections table (PK / SK), every item with `expires_at` (TTL, ~2 h: API Gateway closes a
connection after 2 hours, and a $disconnect that never came must not leave items forever):
  CONN#<id>     META          a connection: user_id (absent until authenticated), created_at,
                              greeted (the Lambda sent its `connected` message)
  CONN#<id>     TOPIC#<pid>   a subscription seen from the connection (closing removes them)
  TOPIC#<pid>   CONN#<id>     the same subscription seen from the project (publish reads these)

Protocol (seed 004, CONTRACTS "WebSocket /ws"): client `{type: subscribe|unsubscribe,
projectId}`, plus ours `{type: auth, token}` (a browser cannot set headers on a WebSocket)
and `{type: ping}`. Subscribing needs an authenticated connection that owns the project.
"""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from reelforge import auth, aws
from reelforge.projects import service as projects
from reelforge.settings import get_settings
from reelforge.store import ConditionFailed, NotFound, Table, epoch_in, now_iso

logger = Logger(child=True)

LOCAL_PREFIX = "local-"
CONNECTION_TTL_S = 2 * 3600
MAX_PROJECT_ID_LENGTH = 50
# What a token must grant to watch a project's events (an API token may carry fewer scopes).
SUBSCRIBE_SCOPE = "projects:read"

INVALID_MESSAGE = "INVALID_MESSAGE"
UNKNOWN_MESSAGE_TYPE = "UNKNOWN_MESSAGE_TYPE"
INVALID_PROJECT_ID = "INVALID_PROJECT_ID"
UNAUTHORIZED = "UNAUTHORIZED"
NOT_FOUND = "NOT_FOUND"
INTERNAL_ERROR = "INTERNAL_ERROR"


def error_reply(code: str, message: str) -> dict[str, Any]:
    return {"type": "error", "code": code, "message": message}


def connected_reply(connection_id: str) -> dict[str, Any]:
    return {"type": "connected", "clientId": connection_id}


# --- keys and table ---------------------------------------------------------------------------


def _meta_key(connection_id: str) -> dict[str, str]:
    return {"PK": f"CONN#{connection_id}", "SK": "META"}


def _subscription_keys(connection_id: str, project_id: str) -> tuple[dict[str, str], dict[str, str]]:
    """(the connection's side, the project's side) of one subscription."""
    return ({"PK": f"CONN#{connection_id}", "SK": f"TOPIC#{project_id}"},
            {"PK": f"TOPIC#{project_id}", "SK": f"CONN#{connection_id}"})


def _table() -> Table:
    name = get_settings().connections_table_name
    if not name:  # Table("") would silently fall back to the main table
        raise RuntimeError("CONNECTIONS_TABLE_NAME is not set: no WebSocket connections table")
    return Table(name)


# --- connections --------------------------------------------------------------------------------


def user_for_token(token: str) -> str:
    """The user a bearer token (JWT or API token) stands for; auth.AuthError if it is no good."""
    token = token.removeprefix("Bearer ").strip()
    principal = auth.authenticate(token)
    if SUBSCRIBE_SCOPE not in principal.scopes:
        raise auth.AuthError(f"Insufficient permissions: {SUBSCRIBE_SCOPE} required")
    return principal.user_id


def open_connection(connection_id: str, user_id: str | None) -> None:
    """Record a new connection, authenticated (user_id) or not yet (None)."""
    _table().put({**_meta_key(connection_id), "connection_id": connection_id, "user_id": user_id,
                  "created_at": now_iso(), "expires_at": epoch_in(CONNECTION_TTL_S)})


def authenticate(connection_id: str, token: str) -> str:
    """Authenticate an open connection by token; returns the user id, raises auth.AuthError.

    A connection that switches user loses its subscriptions: they were checked for the other one.
    """
    user_id = user_for_token(token)
    table = _table()
    try:
        previous = table.get(_meta_key(connection_id)).get("user_id")
    except NotFound:
        open_connection(connection_id, user_id)
        return user_id
    if previous and previous != user_id:
        _drop_subscriptions(table, connection_id)
    try:
        table.update(_meta_key(connection_id), {"user_id": user_id})
    except ConditionFailed:  # closed in between: start it afresh
        open_connection(connection_id, user_id)
    return user_id


def close_connection(connection_id: str) -> None:
    """Forget a connection and every subscription it holds."""
    table = _table()
    _drop_subscriptions(table, connection_id)
    table.delete(_meta_key(connection_id))


def _drop_subscriptions(table: Table, connection_id: str) -> None:
    for item in table.query_partition(f"CONN#{connection_id}", "TOPIC#"):
        _, project_side = _subscription_keys(connection_id, item["SK"].removeprefix("TOPIC#"))
        table.delete(project_side)
        table.delete({"PK": item["PK"], "SK": item["SK"]})


def _user_of(connection_id: str) -> str | None:
    try:
        return _table().get(_meta_key(connection_id)).get("user_id")
    except NotFound:
        return None


def subscriptions(connection_id: str) -> list[str]:
    """The project ids a connection is subscribed to."""
    return [i["SK"].removeprefix("TOPIC#")
            for i in _table().query_partition(f"CONN#{connection_id}", "TOPIC#")]


# --- the protocol -------------------------------------------------------------------------------


def handle_message(connection_id: str, text: str) -> list[dict[str, Any]]:
    """One client text frame -> the replies to send back on that connection."""
    try:
        message = json.loads(text)
    except (TypeError, ValueError):
        return [error_reply(INVALID_MESSAGE, "Message is not valid JSON")]
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        return [error_reply(INVALID_MESSAGE, "Message must be a JSON object with a string type")]
    handler = _HANDLERS.get(message["type"])
    if handler is None:
        return [error_reply(UNKNOWN_MESSAGE_TYPE, f"Unknown message type: {message['type'][:50]}")]
    try:
        return handler(connection_id, message)
    except Exception:  # noqa: BLE001 - the socket stays open; the failure is logged
        logger.exception("websocket message failed", extra={"connection_id": connection_id,
                                                            "message_type": message["type"]})
        return [error_reply(INTERNAL_ERROR, "Internal error")]


def _project_id(message: dict[str, Any]) -> str | None:
    pid = message.get("projectId")
    return pid if isinstance(pid, str) and 0 < len(pid) <= MAX_PROJECT_ID_LENGTH else None


def _invalid_project_id() -> list[dict[str, Any]]:
    return [error_reply(INVALID_PROJECT_ID,
                        f"projectId must be a non-empty string of at most {MAX_PROJECT_ID_LENGTH} characters")]


def _on_subscribe(connection_id: str, message: dict[str, Any]) -> list[dict[str, Any]]:
    project_id = _project_id(message)
    if project_id is None:
        return _invalid_project_id()
    user_id = _user_of(connection_id)
    if not user_id:
        return [error_reply(UNAUTHORIZED, "Authentication required: send {type: auth, token} first")]
    try:
        projects.get(user_id, project_id)
    except NotFound:  # another user's project reads the same, so ids do not leak
        return [error_reply(NOT_FOUND, "Project not found")]
    table = _table()
    expires_at = epoch_in(CONNECTION_TTL_S)
    connection_side, project_side = _subscription_keys(connection_id, project_id)
    table.put({**connection_side, "project_id": project_id, "expires_at": expires_at})
    table.put({**project_side, "connection_id": connection_id, "expires_at": expires_at})
    return [{"type": "subscribed", "projectId": project_id}]


def _on_unsubscribe(connection_id: str, message: dict[str, Any]) -> list[dict[str, Any]]:
    project_id = _project_id(message)
    if project_id is None:
        return _invalid_project_id()
    table = _table()
    for key in _subscription_keys(connection_id, project_id):
        table.delete(key)  # deleting what is not there is fine: unsubscribe is idempotent
    return [{"type": "unsubscribed", "projectId": project_id}]


def _on_auth(connection_id: str, message: dict[str, Any]) -> list[dict[str, Any]]:
    token = message.get("token")
    if not isinstance(token, str) or not token:
        return [error_reply(INVALID_MESSAGE, "An auth message needs a token string")]
    try:
        authenticate(connection_id, token)
    except auth.AuthError as exc:
        return [error_reply(UNAUTHORIZED, str(exc))]
    return [{"type": "authenticated"}]


def _on_ping(connection_id: str, message: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"type": "pong"}]


_HANDLERS = {"subscribe": _on_subscribe, "unsubscribe": _on_unsubscribe, "auth": _on_auth,
             "ping": _on_ping}


# --- delivery -----------------------------------------------------------------------------------


class LocalHub:
    """The sockets of this process (api/websocket.py), by connection id.

    `deliver` is called from worker threads (step Lambdas run in-process in the embedded
    runtime), so the text is handed to the socket's event loop, never sent from here.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sockets: dict[str, tuple[asyncio.AbstractEventLoop, asyncio.Queue[str]]] = {}

    def register(self, connection_id: str, loop: asyncio.AbstractEventLoop,
                 queue: asyncio.Queue[str]) -> None:
        with self._lock:
            self._sockets[connection_id] = (loop, queue)

    def unregister(self, connection_id: str) -> None:
        with self._lock:
            self._sockets.pop(connection_id, None)

    def deliver(self, connection_id: str, text: str) -> bool:
        """Queue `text` for the socket; False if it is not (or no longer) open here."""
        with self._lock:
            entry = self._sockets.get(connection_id)
        if entry is None:
            return False
        loop, queue = entry
        try:
            loop.call_soon_threadsafe(queue.put_nowait, text)
        except RuntimeError:  # the loop is closed: the socket is gone
            self.unregister(connection_id)
            return False
        return True


local_hub = LocalHub()


def _post(endpoint: str, connection_id: str, text: str) -> bool:
    """Push to an API Gateway connection; False if it is gone (GoneException)."""
    client = aws.client("apigatewaymanagementapi", endpoint_url=endpoint)
    try:
        client.post_to_connection(ConnectionId=connection_id, Data=text.encode())
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "GoneException":
            return False
        raise
    return True


def _deliver(connection_id: str, text: str) -> bool:
    if connection_id.startswith(LOCAL_PREFIX):
        return local_hub.deliver(connection_id, text)
    endpoint = get_settings().websocket_endpoint
    if not endpoint:
        raise RuntimeError("WEBSOCKET_ENDPOINT is not set: cannot reach API Gateway connections")
    return _post(endpoint, connection_id, text)


def _forget(connection_id: str) -> None:
    try:
        close_connection(connection_id)
    except Exception:  # noqa: BLE001 - the TTL removes what this could not
        logger.exception("could not remove a gone connection", extra={"connection_id": connection_id})


def publish(project_id: str, message: dict[str, Any]) -> int:
    """Send `message` to every connection subscribed to the project; returns how many got it.

    Never raises: a step that reports progress must not fail because a socket went away.
    Without a connections table (unit tests of other modules) it does nothing.
    """
    if not get_settings().connections_table_name:
        return 0
    try:
        text = json.dumps(message, default=str)
        connection_ids = [i["SK"].removeprefix("CONN#")
                          for i in _table().query_partition(f"TOPIC#{project_id}", "CONN#")]
    except Exception:  # noqa: BLE001 - see the docstring
        logger.exception("publish failed", extra={"project_id": project_id})
        return 0
    delivered = 0
    for connection_id in connection_ids:
        try:
            if _deliver(connection_id, text):
                delivered += 1
            else:
                _forget(connection_id)
        except Exception:  # noqa: BLE001 - one bad connection must not stop the others
            logger.exception("push failed", extra={"project_id": project_id,
                                                   "connection_id": connection_id})
    return delivered


# --- the cloud: API Gateway WebSocket API routes (functions/ws) --------------------------------


def _greet_once(connection_id: str) -> bool:
    """True the first time only: API Gateway cannot post during $connect, so the `connected`
    message goes out with the first reply (concurrent $default calls race on a condition)."""
    try:
        _table().update(_meta_key(connection_id), {"greeted": True},
                        condition="attribute_not_exists(greeted)")
    except ConditionFailed:
        return False
    return True


def lambda_route(event: dict[str, Any]) -> dict[str, Any]:
    """One API Gateway WebSocket event ($connect, $disconnect, $default) -> the Lambda result."""
    context = event["requestContext"]
    route, connection_id = context["routeKey"], context["connectionId"]
    if route == "$connect":
        query = event.get("queryStringParameters") or {}
        token = query.get("token") or query.get("access_token")
        user_id = None
        if token:
            try:
                user_id = user_for_token(token)
            except auth.AuthError:
                logger.info("websocket connect refused: bad token", extra={"connection_id": connection_id})
                return {"statusCode": 401}
        open_connection(connection_id, user_id)
        return {"statusCode": 200}
    if route == "$disconnect":
        close_connection(connection_id)
        return {"statusCode": 200}
    if event.get("isBase64Encoded"):
        replies = [error_reply(INVALID_MESSAGE, "Binary frames are not supported: send JSON text")]
    else:
        replies = handle_message(connection_id, event.get("body") or "")
    if _greet_once(connection_id):
        replies.insert(0, connected_reply(connection_id))
    endpoint = get_settings().websocket_endpoint or f"https://{context['domainName']}/{context['stage']}"
    for reply in replies:
        if not _post(endpoint, connection_id, json.dumps(reply)):
            _forget(connection_id)
            break
    return {"statusCode": 200}
