"""AnthropicClient: the real ``anthropic`` SDK against the fake Anthropic server on loopback."""

from __future__ import annotations

import base64
import io
import socket
from collections.abc import Iterator

import pytest
from fakes.fake_anthropic import FakeAnthropic, FakeResponse
from PIL import Image
from pydantic import BaseModel

from reelforge.ai.anthropic_client import TOOL_NAME, AnthropicClient
from reelforge.errors import ProviderError, TransientError, UnsupportedPromptError

KEY = "sk-ant-test-0123456789abcdefWXYZ"
MODEL = "claude-sonnet-4-5"


class Palette(BaseModel):
    colors: list[str]
    tempo: str


ANSWER = {"colors": ["#ff0000", "#0000ff"], "tempo": "fast"}


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), "orange").save(out, format="JPEG")
    return out.getvalue()


@pytest.fixture
def fake() -> Iterator[FakeAnthropic]:
    with FakeAnthropic(api_key=KEY) as server:
        yield server


def _client(fake: FakeAnthropic, *, key: str = KEY, timeout_s: float = 10) -> AnthropicClient:
    return AnthropicClient(key, model=MODEL, base_url=fake.base_url, timeout_s=timeout_s)


def _keyless(exc: BaseException, key: str = KEY) -> None:
    assert key not in str(exc) and key not in repr(exc)


def test_the_forced_tool_call_is_parsed_and_images_go_as_base64_blocks(fake: FakeAnthropic) -> None:
    fake.reply_tool(ANSWER)
    palette = _client(fake).ask_json("You analyse frames.", "Name the palette.", Palette,
                                     images=[_jpeg()])
    assert palette == Palette.model_validate(ANSWER)
    [request] = fake.requests
    assert request.path == "/v1/messages"
    # This SDK version sends the key as a Bearer token (the API takes it or x-api-key).
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.headers["anthropic-version"]
    body = request.body
    assert body["model"] == MODEL and body["max_tokens"] == 4096
    assert body["system"] == "You analyse frames."
    [tool] = body["tools"]
    assert tool["name"] == TOOL_NAME
    assert tool["input_schema"] == Palette.model_json_schema()
    assert body["tool_choice"] == {"type": "tool", "name": TOOL_NAME}
    [image] = request.image_blocks
    assert image["source"] == {"type": "base64", "media_type": "image/jpeg",
                               "data": base64.b64encode(_jpeg()).decode()}
    assert request.messages[0]["content"][-1] == {"type": "text", "text": "Name the palette."}


def test_an_invalid_tool_input_goes_back_as_an_error_tool_result_once(fake: FakeAnthropic) -> None:
    fake.reply_tool({"colors": "red"}).reply_tool(ANSWER)
    assert _client(fake).ask_json("sys", "palette", Palette).tempo == "fast"
    first, second = fake.requests
    assert second.messages[0] == first.messages[0]
    assistant, correction = second.messages[1:]
    assert assistant["role"] == "assistant"
    [call] = assistant["content"]
    assert call["type"] == "tool_use" and call["input"] == {"colors": "red"}
    [result] = correction["content"]
    assert result["type"] == "tool_result" and result["tool_use_id"] == call["id"]
    assert result["is_error"] is True and "does not match the schema" in result["content"]


def test_a_text_answer_instead_of_the_tool_is_corrected_with_text(fake: FakeAnthropic) -> None:
    fake.reply_text("Sure! The palette is red.").reply_tool(ANSWER)
    assert _client(fake).ask_json("sys", "palette", Palette).colors == ANSWER["colors"]
    correction = fake.requests[1].messages[2]
    assert correction["content"][0]["type"] == "text"
    assert "did not call the answer tool" in correction["content"][0]["text"]


def test_invalid_twice_is_a_provider_error(fake: FakeAnthropic) -> None:
    fake.reply_tool({"colors": 3}).reply_tool({"tempo": None})
    with pytest.raises(ProviderError, match="unusable JSON twice"):
        _client(fake).ask_json("sys", "palette", Palette)
    assert len(fake.requests) == 2


def test_a_refusal_is_unsupported_prompt_and_not_retried(fake: FakeAnthropic) -> None:
    fake.reply_refusal()
    with pytest.raises(UnsupportedPromptError, match="declined the prompt"):
        _client(fake).ask_json("sys", "palette", Palette)
    assert len(fake.requests) == 1


@pytest.mark.parametrize("status", [429, 500, 529])
def test_throttling_overload_and_5xx_are_transient_without_sdk_retries(fake: FakeAnthropic, status: int) -> None:
    if status == 429:
        fake.reply_rate_limit()
    else:
        fake.reply_error(status)
    with pytest.raises(TransientError, match=str(status)) as caught:
        _client(fake).ask_json("sys", "palette", Palette)
    assert len(fake.requests) == 1
    _keyless(caught.value)


def test_a_rejected_key_is_a_provider_error_without_the_key(fake: FakeAnthropic) -> None:
    wrong = "sk-ant-wrong-abcdefghijklmnop9876"
    with pytest.raises(ProviderError, match="rejected the API key .*authentication_error") as caught:
        _client(fake, key=wrong).ask_json("sys", "palette", Palette)
    assert fake.requests[0].api_key == wrong
    _keyless(caught.value, wrong)


def test_a_bad_request_is_a_provider_error(fake: FakeAnthropic) -> None:
    fake.reply_error(400, "messages.0.content.0.image.source.base64: image exceeds 5 MB maximum")
    with pytest.raises(ProviderError, match="rejected the request .*5 MB"):
        _client(fake).ask_json("sys", "palette", Palette)


def test_a_slow_answer_is_a_timeout(fake: FakeAnthropic) -> None:
    fake.reply(FakeResponse(body={"never": "read"}, delay_s=1.5))
    with pytest.raises(TransientError, match="did not answer within 0.3 s"):
        _client(fake, timeout_s=0.3).ask_json("sys", "palette", Palette)


def test_an_unreachable_api_is_transient() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = AnthropicClient(KEY, model=MODEL, base_url=f"http://127.0.0.1:{port}", timeout_s=2)
    with pytest.raises(TransientError, match="could not reach Anthropic") as caught:
        client.ask_json("sys", "palette", Palette)
    _keyless(caught.value)


def test_no_key_and_no_key_in_repr() -> None:
    with pytest.raises(ProviderError, match="needs an API key"):
        AnthropicClient("", model=MODEL)
    assert KEY not in repr(AnthropicClient(KEY, model=MODEL, base_url="http://127.0.0.1:9"))
