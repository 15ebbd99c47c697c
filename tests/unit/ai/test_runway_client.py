"""RunwayClient: the real ``runwayml`` SDK against the fake Runway API on loopback."""

from __future__ import annotations

import base64
import io
import socket
from collections.abc import Iterator

import httpx
import pytest
from fakes.fake_runway import FakeResponse, FakeRunway
from PIL import Image

from reelforge.ai.runway_client import RunwayClient
from reelforge.errors import (
    InvalidMediaError,
    ProviderError,
    TransientError,
    UnsupportedPromptError,
)

KEY = "key_test-runway-0123456789abcdefWXYZ"


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "purple").save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def fake() -> Iterator[FakeRunway]:
    with FakeRunway(api_key=KEY) as server:
        yield server


def _client(fake: FakeRunway, *, key: str = KEY, timeout_s: float = 10) -> RunwayClient:
    return RunwayClient(key, base_url=fake.base_url, timeout_s=timeout_s)


def _keyless(exc: BaseException, key: str = KEY) -> None:
    assert key not in str(exc) and key not in repr(exc)


def test_a_task_completes_after_several_polls_and_its_video_is_served(fake: FakeRunway) -> None:
    fake.script_task(throttled=1, pending=1, running=2, video=b"\x00\x00\x00\x18ftypmp42 video")
    client = _client(fake)
    task_id = client.start_image_to_video(_png(), "slow push-in on the product", 5, "9:16")
    [create] = fake.requests
    assert create.method == "POST" and create.path == "/v1/image_to_video"
    assert create.headers["authorization"] == f"Bearer {KEY}"
    assert create.headers["x-runway-version"] == "2024-11-06"
    assert create.body == {
        "model": "gen4_turbo", "promptText": "slow push-in on the product", "ratio": "720:1280",
        "duration": 5, "promptImage": "data:image/png;base64," + base64.b64encode(_png()).decode()}
    states = [client.poll(task_id) for _ in range(5)]
    assert [s.status for s in states] == ["pending", "pending", "running", "running", "succeeded"]
    assert not any(s.done for s in states[:4]) and states[-1].done
    url = states[-1].video_url
    assert url == fake.video_url(task_id)
    assert httpx.get(url).content == b"\x00\x00\x00\x18ftypmp42 video"
    polls = [r for r in fake.requests if r.path.startswith("/v1/tasks/")]
    assert [r.path for r in polls] == [f"/v1/tasks/{task_id}"] * 5
    assert all(r.api_key == KEY for r in fake.requests if r.is_api)


def test_an_image_url_and_a_runway_ratio_go_as_given(fake: FakeRunway) -> None:
    _client(fake).start_image_to_video("https://cdn.example/scene.png", "pan left", 9.6, "1280:720")
    body = fake.requests[0].body
    assert body["promptImage"] == "https://cdn.example/scene.png"
    assert body["ratio"] == "1280:720" and body["duration"] == 10


def test_a_failed_task_is_a_failed_state_with_the_reason(fake: FakeRunway) -> None:
    fake.script_task(running=1, failure="An unexpected error occurred.",
                     failure_code="INTERNAL.BAD_OUTPUT.CODE01")
    client = _client(fake)
    task_id = client.start_image_to_video(_png(), "a scene", 5)
    assert client.poll(task_id).status == "running"
    state = client.poll(task_id)
    assert state.status == "failed" and state.video_url is None
    assert state.error == "An unexpected error occurred. (INTERNAL.BAD_OUTPUT.CODE01)"


def test_a_moderation_failure_is_unsupported_prompt(fake: FakeRunway) -> None:
    fake.script_task(failure="The input image did not pass moderation.",
                     failure_code="SAFETY.INPUT.IMAGE")
    client = _client(fake)
    task_id = client.start_image_to_video(_png(), "a scene", 5)
    with pytest.raises(UnsupportedPromptError, match="SAFETY.INPUT.IMAGE"):
        client.poll(task_id)


def test_a_cancelled_task_is_failed(fake: FakeRunway) -> None:
    client = _client(fake)
    task_id = client.start_image_to_video(_png(), "a scene", 5)
    client.client.tasks.delete(task_id)
    assert client.poll(task_id).error == "the Runway task was cancelled"


@pytest.mark.parametrize("status", [429, 500, 502])
def test_throttling_and_5xx_are_transient_without_sdk_retries(fake: FakeRunway, status: int) -> None:
    if status == 429:
        fake.reply_rate_limit()
    else:
        fake.reply_error(status, "Internal server error")
    with pytest.raises(TransientError, match=str(status)) as caught:
        _client(fake).start_image_to_video(_png(), "a scene", 5)
    assert len(fake.requests) == 1
    _keyless(caught.value)


def test_a_poll_that_is_throttled_is_transient(fake: FakeRunway) -> None:
    client = _client(fake)
    task_id = client.start_image_to_video(_png(), "a scene", 5)
    fake.reply_rate_limit()
    with pytest.raises(TransientError):
        client.poll(task_id)


def test_a_rejected_key_is_a_provider_error_without_the_key(fake: FakeRunway) -> None:
    wrong = "key_wrong-abcdefghijklmnop9876"
    with pytest.raises(ProviderError, match="rejected the API key") as caught:
        _client(fake, key=wrong).start_image_to_video(_png(), "a scene", 5)
    assert fake.requests[0].api_key == wrong
    _keyless(caught.value, wrong)


def test_a_bad_request_is_a_provider_error(fake: FakeRunway) -> None:
    fake.reply_error(400, "Validation of body failed", issues=[{"path": ["duration"]}])
    with pytest.raises(ProviderError, match="rejected the request .*Validation of body failed"):
        _client(fake).start_image_to_video(_png(), "a scene", 50)


def test_an_unknown_task_is_a_provider_error(fake: FakeRunway) -> None:
    with pytest.raises(ProviderError, match="not found"):
        _client(fake).poll("00000000-0000-0000-0000-000000000000")


def test_a_slow_answer_is_a_timeout(fake: FakeRunway) -> None:
    fake.reply(FakeResponse(body={"id": "never-read"}, delay_s=1.5))
    with pytest.raises(TransientError, match="did not answer within 0.3 s"):
        _client(fake, timeout_s=0.3).start_image_to_video(_png(), "a scene", 5)


def test_an_unreachable_api_is_transient() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = RunwayClient(KEY, base_url=f"http://127.0.0.1:{port}", timeout_s=2)
    with pytest.raises(TransientError, match="could not reach Runway") as caught:
        client.poll("some-task")
    _keyless(caught.value)


def test_images_are_checked_before_any_call(fake: FakeRunway) -> None:
    client = _client(fake)
    with pytest.raises(InvalidMediaError):
        client.start_image_to_video(b"not an image", "a scene", 5)
    with pytest.raises(InvalidMediaError):
        client.start_image_to_video("http://169.254.169.254/latest", "a scene", 5)
    assert fake.requests == []


def test_no_key_and_no_key_in_repr() -> None:
    with pytest.raises(ProviderError, match="needs an API key"):
        RunwayClient("")
    assert KEY not in repr(RunwayClient(KEY, base_url="http://127.0.0.1:9"))
