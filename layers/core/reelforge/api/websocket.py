"""The local end of the WebSocket protocol: a FastAPI WebSocket route body (`serve`).

In the cloud API Gateway holds the sockets and functions/ws runs `realtime.lambda_route`;
here the socket is this process's, so it registers in `realtime.local_hub` and everything
else (connections table, protocol, publish) is the same code as in the cloud.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

from aws_lambda_powertools import Logger
from starlette.concurrency import run_in_threadpool
from starlette.websockets import WebSocket, WebSocketDisconnect

from reelforge import realtime
from reelforge.auth import AuthError

logger = Logger(child=True)
# An application close code (4000-4999) in the spirit of HTTP 401.
CLOSE_UNAUTHORIZED = 4401


async def serve(websocket: WebSocket) -> None:
    """Accept, authenticate by `?token=` (or later by an auth message), then relay both ways
    until the client goes: its frames through `realtime.handle_message`, and what `publish`
    queues for it (from any thread) out to it."""
    await websocket.accept()
    connection_id = f"{realtime.LOCAL_PREFIX}{uuid.uuid4().hex}"
    token = websocket.query_params.get("token") or websocket.query_params.get("access_token")
    outbox: asyncio.Queue[str] = asyncio.Queue()
    try:
        await run_in_threadpool(realtime.open_connection, connection_id, None)
        if token:
            try:
                await run_in_threadpool(realtime.authenticate, connection_id, token)
            except AuthError as exc:
                await _send(websocket, realtime.error_reply(realtime.UNAUTHORIZED, str(exc)))
                await websocket.close(code=CLOSE_UNAUTHORIZED)
                return
        realtime.local_hub.register(connection_id, asyncio.get_running_loop(), outbox)
        await _send(websocket, realtime.connected_reply(connection_id))
        await _relay(websocket, connection_id, outbox)
    except WebSocketDisconnect:
        pass
    finally:
        realtime.local_hub.unregister(connection_id)
        try:
            await run_in_threadpool(realtime.close_connection, connection_id)
        except Exception:  # noqa: BLE001 - the TTL removes what this could not
            logger.exception("could not close websocket connection",
                             extra={"connection_id": connection_id})


async def _send(websocket: WebSocket, message: dict[str, Any]) -> None:
    await websocket.send_text(json.dumps(message))


async def _relay(websocket: WebSocket, connection_id: str, outbox: asyncio.Queue[str]) -> None:
    """Run the receiving and the sending side until either ends (the client left)."""
    tasks = [asyncio.create_task(_receive(websocket, connection_id)),
             asyncio.create_task(_pump(websocket, outbox))]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    for task in done:
        exc = None if task.cancelled() else task.exception()
        if exc is not None and not isinstance(exc, WebSocketDisconnect):
            logger.warning("websocket relay ended by an error", extra={
                "connection_id": connection_id, "error": type(exc).__name__})


async def _receive(websocket: WebSocket, connection_id: str) -> None:
    while True:
        frame = await websocket.receive()
        if frame["type"] == "websocket.disconnect":
            return
        text = frame.get("text")
        if text is None:
            replies = [realtime.error_reply(realtime.INVALID_MESSAGE,
                                            "Binary frames are not supported: send JSON text")]
        else:
            replies = await run_in_threadpool(realtime.handle_message, connection_id, text)
        for reply in replies:
            await _send(websocket, reply)


async def _pump(websocket: WebSocket, outbox: asyncio.Queue[str]) -> None:
    while True:
        await websocket.send_text(await outbox.get())
