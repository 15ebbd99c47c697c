"""Veo's long-running operations for the fake Gemini server (``fake_gemini.FakeGemini``).

``VeoOperations`` is a ``handler`` for FakeGemini: it answers Vertex AI's

    POST /{version}/publishers/google/models/{model}:predictLongRunning    -> {"name": op}
    POST /{version}/publishers/google/models/{model}:fetchPredictOperation -> the operation

and each started operation follows the next script queued with ``script``: not done for
``running`` polls, then done with the video (inline ``bytesBase64Encoded``, as Vertex AI
answers without an output bucket, or a ``gcsUri``), an ``error``, or a safety filter.

google-genai sends Veo only in Vertex AI mode, whose paths start ``publishers/google/``;
FakeGemini's router knows only ``/{version}/models/{model}``. ``FakeVertexGemini`` is
FakeGemini with that one difference (it reads the model and action out of Vertex paths);
auth (``x-goog-api-key``), queued replies (``reply_error``) and recording are FakeGemini's.

    ops = VeoOperations()
    with FakeVertexGemini(api_key=KEY, handler=ops) as fake:
        ops.script(running=3)
"""

from __future__ import annotations

import base64
import re
import threading
import uuid
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from fakes.fake_gemini import FakeGemini, FakeResponse, RecordedRequest, error_body

_VERTEX_PATH = re.compile(
    r"^/(?P<version>[^/]+)/publishers/(?P<publisher>[^/]+)/models/(?P<model>[^/:]+)"
    r"(?::(?P<action>[A-Za-z]+))?$"
)
RESPONSE_TYPE = "type.googleapis.com/cloud.ai.large_models.vision.GenerateVideoResponse"
DEFAULT_VIDEO = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom veo" + b"\x00" * 64


@dataclass
class VeoScript:
    """How one operation behaves: not done for ``running`` polls, then one of: ``error``
    (a google.rpc.Status dict), ``filtered`` (RAI reasons, no video), or the video."""

    running: int = 0
    video: bytes = DEFAULT_VIDEO
    gcs_uri: str | None = None
    mime_type: str = "video/mp4"
    error: dict[str, Any] | None = None
    filtered: list[str] | None = None


@dataclass
class VeoOperation:
    name: str
    model: str
    script: VeoScript
    request: Any
    polls: int = 0


@dataclass
class VeoOperations:
    """The operations a fake Veo has started; call it as FakeGemini's ``handler``."""

    operations: dict[str, VeoOperation] = field(default_factory=dict)
    _scripts: deque[VeoScript] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def script(self, script: VeoScript | None = None, **kwargs: Any) -> VeoOperations:
        """Queue how the next started operation behaves (``VeoScript`` or its fields)."""
        with self._lock:
            self._scripts.append(script or VeoScript(**kwargs))
        return self

    def __call__(self, request: RecordedRequest) -> FakeResponse | None:
        if request.action == "predictLongRunning":
            return self._start(request)
        if request.action == "fetchPredictOperation":
            return self._fetch(request)
        return None  # not Veo's: FakeGemini answers "no response configured"

    def _start(self, request: RecordedRequest) -> FakeResponse:
        body = request.body if isinstance(request.body, dict) else {}
        if not body.get("instances"):
            return FakeResponse(400, error_body(400, "instances is required"))
        with self._lock:
            script = self._scripts.popleft() if self._scripts else VeoScript()
            name = f"publishers/google/models/{request.model}/operations/{uuid.uuid4()}"
            self.operations[name] = VeoOperation(name, request.model or "", script, body)
        return FakeResponse(body={"name": name})

    def _fetch(self, request: RecordedRequest) -> FakeResponse:
        name = (request.body or {}).get("operationName") if isinstance(request.body, dict) else None
        with self._lock:
            operation = self.operations.get(name or "")
            if operation is None:
                return FakeResponse(404, error_body(404, f"Operation {name} not found."))
            operation.polls += 1
            polls = operation.polls
        script = operation.script
        if polls <= script.running:
            return FakeResponse(body={"name": operation.name})
        if script.error is not None:
            return FakeResponse(body={"name": operation.name, "done": True, "error": script.error})
        if script.filtered is not None:
            return FakeResponse(body={"name": operation.name, "done": True, "response": {
                "@type": RESPONSE_TYPE, "raiMediaFilteredCount": 1,
                "raiMediaFilteredReasons": script.filtered}})
        video: dict[str, Any] = {"mimeType": script.mime_type}
        if script.gcs_uri:
            video["gcsUri"] = script.gcs_uri
        else:
            video["bytesBase64Encoded"] = base64.b64encode(script.video).decode("ascii")
        return FakeResponse(body={"name": operation.name, "done": True, "response": {
            "@type": RESPONSE_TYPE, "raiMediaFilteredCount": 0, "videos": [video]}})


class FakeVertexGemini(FakeGemini):
    """FakeGemini that also routes Vertex AI paths (``publishers/{p}/models/{model}``)."""

    def _record(self, http: BaseHTTPRequestHandler) -> RecordedRequest:
        request = super()._record(http)
        match = _VERTEX_PATH.match(request.path)
        if match:
            request.version, request.model, request.action = (
                match["version"], match["model"], match["action"])
        return request
