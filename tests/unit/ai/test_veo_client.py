"""VeoClient: the real google-genai SDK (Vertex AI express mode) against the fake Gemini
server with the Veo operation handlers of ``fakes.veo``."""

from __future__ import annotations

import base64
import io
import socket
from collections.abc import Iterator

import pytest
from fakes.fake_gemini import FakeResponse
from fakes.veo import FakeVertexGemini, VeoOperations
from google import genai
from google.genai import types
from PIL import Image

from reelforge.ai.veo_client import DEFAULT_MODEL, VeoClient
from reelforge.errors import ProviderError, TransientError, UnsupportedPromptError

KEY = "AQ.test-vertex-express-0123456789WXYZ"


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "teal").save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def ops() -> VeoOperations:
    return VeoOperations()


@pytest.fixture
def fake(ops: VeoOperations) -> Iterator[FakeVertexGemini]:
    with FakeVertexGemini(api_key=KEY, handler=ops) as server:
        yield server


def _client(fake: FakeVertexGemini, *, key: str = KEY, timeout_s: float = 10) -> VeoClient:
    return VeoClient(key, base_url=fake.base_url, timeout_s=timeout_s)


def _keyless(exc: BaseException, key: str = KEY) -> None:
    assert key not in str(exc) and key not in repr(exc)


def test_an_operation_completes_after_several_polls(fake: FakeVertexGemini, ops: VeoOperations) -> None:
    ops.script(running=3, video=b"\x00\x00\x00\x18ftypmp42 veo video")
    client = _client(fake)
    name = client.start_video("the camera orbits the bottle", _png(), 8, "9:16")
    [start] = fake.requests
    assert start.path == f"/v1beta1/publishers/google/models/{DEFAULT_MODEL}:predictLongRunning"
    assert start.api_key == KEY  # x-goog-api-key, as in express mode
    assert start.body == {
        "instances": [{"prompt": "the camera orbits the bottle",
                       "image": {"bytesBase64Encoded": base64.b64encode(_png()).decode(),
                                 "mimeType": "image/png"}}],
        "parameters": {"sampleCount": 1, "durationSeconds": 8, "aspectRatio": "9:16"}}
    states = [client.poll(name) for _ in range(4)]
    assert [s.status for s in states] == ["running", "running", "running", "succeeded"]
    done = states[-1]
    assert done.video_bytes == b"\x00\x00\x00\x18ftypmp42 veo video"
    assert done.mime_type == "video/mp4" and done.video_url is None
    assert "video_bytes" not in done.model_dump()  # never into a state machine payload
    fetches = fake.requests[1:]
    assert {r.action for r in fetches} == {"fetchPredictOperation"}
    assert all(r.body == {"operationName": name} and r.api_key == KEY for r in fetches)


def test_a_text_only_video_and_a_bucket_output(fake: FakeVertexGemini, ops: VeoOperations) -> None:
    ops.script(gcs_uri="gs://bucket/out/sample_0.mp4")
    client = _client(fake)
    name = client.start_video("a sunrise over hills", None, 5.6, "16:9")
    instance = fake.requests[0].body["instances"][0]
    assert instance == {"prompt": "a sunrise over hills"}
    assert fake.requests[0].body["parameters"]["durationSeconds"] == 6
    state = client.poll(name)
    assert state.status == "succeeded" and state.video_url == "gs://bucket/out/sample_0.mp4"


def test_a_safety_filtered_video_is_unsupported_prompt(fake: FakeVertexGemini, ops: VeoOperations) -> None:
    ops.script(running=1, filtered=["Unable to generate videos that violate our Responsible AI practices."])
    client = _client(fake)
    name = client.start_video("something the filters stop")
    assert client.poll(name).status == "running"
    with pytest.raises(UnsupportedPromptError, match="filtered the video for safety"):
        client.poll(name)


def test_a_failed_operation_is_a_failed_state(fake: FakeVertexGemini, ops: VeoOperations) -> None:
    ops.script(error={"code": 13, "message": "Internal error encountered."})
    client = _client(fake)
    state = client.poll(client.start_video("a scene"))
    assert state.status == "failed"
    assert state.error == "Internal error encountered. (INTERNAL: worth starting again)"


def test_an_operation_error_for_safety_is_unsupported_prompt(fake: FakeVertexGemini, ops: VeoOperations) -> None:
    ops.script(error={"code": 3, "message": "The prompt could not be submitted: it violates the usage guidelines."})
    client = _client(fake)
    with pytest.raises(UnsupportedPromptError, match="usage guidelines"):
        client.poll(client.start_video("a scene"))


@pytest.mark.parametrize("status", [429, 500, 503])
def test_throttling_and_5xx_are_transient(fake: FakeVertexGemini, status: int) -> None:
    fake.reply_error(status)
    with pytest.raises(TransientError, match=str(status)) as caught:
        _client(fake).start_video("a scene")
    assert len(fake.requests) == 1  # no SDK retries
    _keyless(caught.value)


def test_a_rejected_key_is_a_provider_error_without_the_key(fake: FakeVertexGemini) -> None:
    wrong = "AQ.wrong-vertex-key-abcdefghijklmnop9876"
    with pytest.raises(ProviderError, match="rejected the API key") as caught:
        _client(fake, key=wrong).start_video("a scene")
    assert fake.requests[0].api_key == wrong
    _keyless(caught.value, wrong)


def test_a_forbidden_key_is_a_provider_error(fake: FakeVertexGemini) -> None:
    fake.reply_error(403, "Permission denied on resource project.")
    with pytest.raises(ProviderError, match="403 PERMISSION_DENIED"):
        _client(fake).start_video("a scene")


def test_an_unknown_operation_is_a_provider_error(fake: FakeVertexGemini) -> None:
    with pytest.raises(ProviderError, match="not found"):
        _client(fake).poll(f"publishers/google/models/{DEFAULT_MODEL}/operations/nope")


def test_a_slow_answer_is_a_timeout(fake: FakeVertexGemini) -> None:
    fake.reply(FakeResponse(body={"name": "never-read"}, delay_s=2.5))
    with pytest.raises(TransientError, match="did not answer within 1 s"):
        _client(fake, timeout_s=1).start_video("a scene")


def test_an_unreachable_api_is_transient() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = VeoClient(KEY, base_url=f"http://127.0.0.1:{port}", timeout_s=2)
    with pytest.raises(TransientError, match="could not reach Vertex AI") as caught:
        client.start_video("a scene")
    _keyless(caught.value)


def test_no_key_and_no_key_in_repr() -> None:
    with pytest.raises(ProviderError, match="needs an API key"):
        VeoClient(" ")
    assert KEY not in repr(VeoClient(KEY, base_url="http://127.0.0.1:9"))


def test_the_developer_api_cannot_start_veo_in_this_sdk(fake: FakeVertexGemini) -> None:
    """Why VeoClient is on Vertex AI: google-genai refuses before sending anything."""
    client = genai.Client(api_key=KEY, http_options=types.HttpOptions(base_url=fake.base_url))
    with pytest.raises(ValueError, match="only supported in Gemini Enterprise Agent Platform"):
        client.models.generate_videos(model=DEFAULT_MODEL,
                                      source=types.GenerateVideosSource(prompt="a scene"))
    assert fake.requests == []
