"""OpenAIClient: the real ``openai`` SDK against the fake OpenAI server on loopback."""

from __future__ import annotations

import base64
import io
import socket
from collections.abc import Iterator

import pytest
from fakes.fake_openai import FakeOpenAI, FakeResponse
from PIL import Image
from pydantic import BaseModel

from reelforge.ai.openai_client import OpenAIClient
from reelforge.errors import (
    InvalidMediaError,
    ProviderError,
    TransientError,
    UnsupportedPromptError,
)

KEY = "sk-test-openai-0123456789abcdefWXYZ"
MODEL = "gpt-4.1-mini"


class Scene(BaseModel):
    title: str
    seconds: float


class Plan(BaseModel):
    scenes: list[Scene]
    tone: str | None = None


PLAN = {"scenes": [{"title": "Open", "seconds": 2.5}], "tone": "calm"}


def _png(color: str = "red") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), color).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(api_key=KEY) as server:
        yield server


def _client(fake: FakeOpenAI, *, model: str = MODEL, key: str = KEY, timeout_s: float = 10) -> OpenAIClient:
    return OpenAIClient(key, model=model, base_url=fake.base_url, timeout_s=timeout_s)


def _keyless(exc: BaseException, key: str = KEY) -> None:
    assert key not in str(exc) and key not in repr(exc)
    assert key[-4:] not in str(exc)  # not even OpenAI's masked echo of it


def test_structured_answer_is_parsed_and_sent_as_the_sdk_sends_it(fake: FakeOpenAI) -> None:
    fake.reply_json(PLAN)
    plan = _client(fake).ask_json("You plan videos.", "Plan a teaser.", Plan,
                                  images=[_png(), _png("blue")])
    assert plan == Plan.model_validate(PLAN)
    [request] = fake.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.body["model"] == MODEL
    assert request.messages[0] == {"role": "system", "content": "You plan videos."}
    assert "Plan a teaser." in request.prompt_text
    fmt = request.body["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["name"] == "Plan"
    assert fmt["json_schema"]["strict"] is True
    assert fmt["json_schema"]["schema"]["additionalProperties"] is False
    assert set(fmt["json_schema"]["schema"]["required"]) == {"scenes", "tone"}  # strict: all
    assert len(request.image_urls) == 2
    assert request.image_urls[0] == "data:image/png;base64," + base64.b64encode(_png()).decode()


def test_invalid_json_gets_one_corrective_retry(fake: FakeOpenAI) -> None:
    fake.reply_text("here you go: {scenes").reply_json(PLAN)
    assert _client(fake).ask_json("sys", "plan", Plan) == Plan.model_validate(PLAN)
    first, second = fake.requests
    assert second.messages[:2] == first.messages
    assert second.messages[2] == {"role": "assistant", "content": "here you go: {scenes"}
    assert "not valid" in second.messages[3]["content"] and "not JSON" in second.messages[3]["content"]


def test_invalid_twice_is_a_provider_error(fake: FakeOpenAI) -> None:
    fake.reply_text("nope").reply_json({"scenes": "not a list"})
    with pytest.raises(ProviderError, match="unusable JSON twice: does not match the schema"):
        _client(fake).ask_json("sys", "plan", Plan)
    assert len(fake.requests) == 2


def test_a_cut_off_answer_is_retried(fake: FakeOpenAI) -> None:
    fake.reply_text('{"scenes": [', finish_reason="length").reply_json(PLAN)
    assert _client(fake).ask_json("sys", "plan", Plan).scenes[0].title == "Open"


def test_a_refusal_is_unsupported_prompt_and_not_retried(fake: FakeOpenAI) -> None:
    fake.reply_refusal("I can't help with that request.")
    with pytest.raises(UnsupportedPromptError, match="declined the prompt: I can't help"):
        _client(fake).ask_json("sys", "plan", Plan)
    assert len(fake.requests) == 1


def test_a_content_filter_stop_is_unsupported_prompt(fake: FakeOpenAI) -> None:
    fake.reply_text(None, finish_reason="content_filter")
    with pytest.raises(UnsupportedPromptError, match="content policy"):
        _client(fake).ask_json("sys", "plan", Plan)


@pytest.mark.parametrize("status", [429, 500, 503])
def test_throttling_and_5xx_are_transient_and_the_sdk_does_not_retry(fake: FakeOpenAI, status: int) -> None:
    if status == 429:
        fake.reply_rate_limit()
    else:
        fake.reply_error(status, "The server had an error while processing your request.")
    with pytest.raises(TransientError, match=str(status)) as caught:
        _client(fake).ask_json("sys", "plan", Plan)
    assert len(fake.requests) == 1  # max_retries=0: the state machine's Retry decides
    _keyless(caught.value)


def test_out_of_quota_is_not_transient(fake: FakeOpenAI) -> None:
    fake.reply_error(429, "You exceeded your current quota.", code="insufficient_quota",
                     type_="insufficient_quota")
    with pytest.raises(ProviderError, match="out of quota"):
        _client(fake).ask_json("sys", "plan", Plan)


def test_a_rejected_key_is_a_provider_error_without_the_key(fake: FakeOpenAI) -> None:
    wrong = "sk-wrong-key-abcdefghijklmnop9876"
    with pytest.raises(ProviderError, match="rejected the API key") as caught:
        _client(fake, key=wrong).ask_json("sys", "plan", Plan)
    assert fake.requests[0].api_key == wrong
    _keyless(caught.value, wrong)
    assert "Incorrect API key provided" in str(caught.value)


def test_a_bad_request_is_a_provider_error(fake: FakeOpenAI) -> None:
    fake.reply_error(400, "Invalid schema for response_format 'Plan'.", code="invalid_json_schema")
    with pytest.raises(ProviderError, match="rejected the request .*Invalid schema"):
        _client(fake).ask_json("sys", "plan", Plan)


def test_a_slow_answer_is_a_timeout(fake: FakeOpenAI) -> None:
    fake.reply(FakeResponse(body={"never": "read"}, delay_s=1.5))
    with pytest.raises(TransientError, match="did not answer within 0.3 s"):
        _client(fake, timeout_s=0.3).ask_json("sys", "plan", Plan)


def test_an_unreachable_api_is_transient() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = OpenAIClient(KEY, model=MODEL, base_url=f"http://127.0.0.1:{port}/v1", timeout_s=2)
    with pytest.raises(TransientError, match="could not reach OpenAI") as caught:
        client.ask_json("sys", "plan", Plan)
    _keyless(caught.value)


def test_no_key_and_no_key_in_repr() -> None:
    with pytest.raises(ProviderError, match="needs an API key"):
        OpenAIClient("  ", model=MODEL)
    assert KEY not in repr(OpenAIClient(KEY, model=MODEL, base_url="http://127.0.0.1:9/v1"))


def test_images_that_are_not_images_are_refused_before_any_call(fake: FakeOpenAI) -> None:
    with pytest.raises(InvalidMediaError):
        _client(fake).ask_json("sys", "plan", Plan, images=[b"%PDF-1.7"])
    assert fake.requests == []


def test_image_generation_returns_the_bytes(fake: FakeOpenAI) -> None:
    fake.reply_image(_png("green"))
    assert _client(fake, model="gpt-image-1").image("a green square", "1024x1536") == _png("green")
    [request] = fake.requests
    assert request.path == "/v1/images/generations"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.body == {"model": "gpt-image-1", "prompt": "a green square",
                            "size": "1024x1536", "n": 1}  # GPT image models answer b64 anyway


def test_dalle_is_asked_for_b64(fake: FakeOpenAI) -> None:
    fake.reply_image(_png())
    _client(fake, model="dall-e-3").image("a red square", "1024x1792")
    assert fake.requests[0].body["response_format"] == "b64_json"


def test_an_image_prompt_blocked_by_policy_is_unsupported_prompt(fake: FakeOpenAI) -> None:
    fake.reply_content_policy()
    with pytest.raises(UnsupportedPromptError, match="content_policy_violation") as caught:
        _client(fake, model="dall-e-3").image("something not allowed")
    _keyless(caught.value)


def test_an_image_answer_without_data_is_a_provider_error(fake: FakeOpenAI) -> None:
    fake.reply(FakeResponse(body={"created": 1, "data": [{"url": "https://example.invalid/x.png"}]}))
    with pytest.raises(ProviderError, match="no image data"):
        _client(fake, model="dall-e-3").image("a cat")
