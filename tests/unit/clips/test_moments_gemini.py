"""The Gemini moment provider: the real google-genai SDK against the fake Gemini server."""

from __future__ import annotations

import json
import socket

import pytest
from fakes.fake_gemini import FakeResponse, generate_content_body

from reelforge.clips.moments.gemini import GeminiMomentProvider, build_prompt
from reelforge.clips.moments.registry import moment_provider
from reelforge.clips.moments.select import MomentRequest, Timeline, select_moments
from reelforge.errors import ProviderError, TransientError
from reelforge.models import Scene, Transcript

KEY = "AIzaTEST-not-a-real-key-0123456789"  # the fake_gemini fixture's key

# Sentence k spans [4.5k, 4.5k + 3.9]: 40 sentences, 180 s.
SENTENCES = [f"This is sentence {k} and it has ten words here." for k in range(40)]
DURATION = 181.0
SCENES = [Scene(start=0, end=13.2), Scene(start=13.2, end=90.0), Scene(start=90.0, end=DURATION)]

VALID = [
    {"start": 13.5, "end": 40.0, "title": "The Third Sentence", "hook": "This is sentence 3",
     "score": 88, "reason": "A strong opening."},
    {"start": 54.2, "end": 80.1, "title": "Middle Part", "hook": "This is sentence 12",
     "score": 71.6, "reason": "Clear idea."},
    {"start": 100.0, "end": 140.0, "title": "Late Part", "hook": "This is sentence 22",
     "score": 65, "reason": "Good payoff."},
]  # fmt: skip


@pytest.fixture
def transcript(make_transcript) -> Transcript:
    return make_transcript(SENTENCES)


@pytest.fixture(autouse=True)
def _same_key(fake_gemini) -> None:
    assert fake_gemini.api_key == KEY


@pytest.fixture
def provider(fake_gemini) -> GeminiMomentProvider:
    return GeminiMomentProvider(KEY, base_url=fake_gemini.base_url, timeout_s=5)


def test_valid_answer_is_finalized(fake_gemini, provider, transcript, check_clips):
    fake_gemini.reply_json(VALID)
    selection = select_moments(provider, transcript, SCENES, DURATION, MomentRequest())

    assert selection.provider == "gemini" and selection.notes == ""
    moments = selection.moments
    assert [m.score for m in moments] == [88, 72, 65]
    check_clips(moments, transcript, DURATION, scenes=SCENES)
    first = moments[0]
    assert first.start == 13.2, "snapped from the sentence start onto the scene cut in the pause"
    assert first.end == 39.9, "snapped to the end of sentence 8"
    assert first.text.startswith("This is sentence 3 ") and first.text.endswith(
        "sentence 8 and it has ten words here."
    )
    assert first.title == "The Third Sentence" and first.reason == "gemini: A strong opening."
    assert len(fake_gemini.requests) == 1


def test_request_carries_key_schema_and_prompt(fake_gemini, provider, transcript):
    fake_gemini.reply_json(VALID)
    provider.propose(transcript, SCENES, DURATION, MomentRequest(target_clips=5))

    [request] = fake_gemini.requests
    assert request.method == "POST"
    assert request.path == "/v1beta/models/gemini-2.5-flash:generateContent"
    assert request.headers["x-goog-api-key"] == KEY
    assert KEY not in json.dumps(request.body)
    config = request.generation_config
    assert config["responseMimeType"] == "application/json"
    schema = config["responseSchema"]
    assert schema["type"] == "ARRAY"
    item = schema["items"]
    assert item["type"] == "OBJECT"
    assert set(item["properties"]) == {"start", "end", "title", "hook", "score", "reason"}
    assert set(item["required"]) == {"start", "end", "title", "hook", "score", "reason"}
    assert item["properties"]["score"]["maximum"] == 100
    prompt = request.prompt_text
    assert "[13.5-17.4] This is sentence 3 and it has ten words here." in prompt
    assert "Scene cuts (seconds): 13.2, 90.0" in prompt
    assert "between 15 and 60 seconds" in prompt and "about 5 moments" in prompt


def test_invalid_json_then_valid_retries_once(fake_gemini, provider, transcript):
    fake_gemini.reply_text('[{"start": 13.5, "end": ').reply_json(VALID)
    moments = provider.propose(transcript, SCENES, DURATION, MomentRequest())

    assert len(moments) == 3
    assert len(fake_gemini.requests) == 2
    retry = fake_gemini.requests[1].body["contents"]
    assert [c["role"] for c in retry] == ["user", "model", "user"]
    assert retry[1]["parts"][0]["text"] == '[{"start": 13.5, "end": '
    assert (
        "not valid" in retry[2]["parts"][0]["text"] and "not JSON" in retry[2]["parts"][0]["text"]
    )


def test_schema_violation_then_valid(fake_gemini, provider, transcript):
    broken = [dict(VALID[0], end=5.0), {k: v for k, v in VALID[1].items() if k != "title"}]
    fake_gemini.reply_json(broken).reply_json(VALID)
    moments = provider.propose(transcript, SCENES, DURATION, MomentRequest())
    assert len(moments) == 3
    correction = fake_gemini.requests[1].body["contents"][-1]["parts"][0]["text"]
    assert "end (5.0) must be after start" in correction and "1.title" in correction


def test_invalid_twice_raises_provider_error(fake_gemini, provider, transcript):
    fake_gemini.reply_text("Sure! Here are some moments: ...").reply_json({"clips": "none"})
    with pytest.raises(ProviderError, match="unusable moments twice"):
        provider.propose(transcript, SCENES, DURATION, MomentRequest())
    assert len(fake_gemini.requests) == 2


def test_blocked_answers_count_as_invalid(fake_gemini, provider, transcript):
    fake_gemini.reply_text(None).reply_text(None)
    with pytest.raises(ProviderError, match=r"empty \(blocked: SAFETY\)"):
        provider.propose(transcript, SCENES, DURATION, MomentRequest())
    assert len(fake_gemini.requests) == 2


@pytest.mark.parametrize("status", [429, 500, 503])
def test_throttling_and_server_errors_are_transient(fake_gemini, provider, transcript, status):
    fake_gemini.reply_error(status)
    with pytest.raises(TransientError, match=str(status)):
        provider.propose(transcript, SCENES, DURATION, MomentRequest())
    assert len(fake_gemini.requests) == 1, "the SDK does not retry; Step Functions does"


@pytest.mark.parametrize("status", [401, 403])
def test_auth_errors_never_echo_the_key(fake_gemini, provider, transcript, status):
    fake_gemini.reply_error(status, f"API key {KEY} is not authorized")
    with pytest.raises(ProviderError) as caught:
        provider.propose(transcript, SCENES, DURATION, MomentRequest())
    message = str(caught.value)
    assert KEY not in message and KEY not in repr(caught.value)
    assert str(status) in message and "X-Gemini-Key" in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_wrong_key_is_a_provider_error(fake_gemini, transcript):
    wrong = GeminiMomentProvider("AIza-wrong-key", base_url=fake_gemini.base_url, timeout_s=5)
    with pytest.raises(ProviderError, match="API key") as caught:
        wrong.propose(transcript, SCENES, DURATION, MomentRequest())
    assert "AIza-wrong-key" not in str(caught.value)
    assert fake_gemini.requests[0].api_key == "AIza-wrong-key"


def test_bad_request_is_a_provider_error(fake_gemini, provider, transcript):
    fake_gemini.reply_error(400, "Invalid JSON payload received.")
    with pytest.raises(ProviderError, match="rejected the request .*Invalid JSON payload"):
        provider.propose(transcript, SCENES, DURATION, MomentRequest())


def test_timeout_is_transient(fake_gemini, transcript):
    slow = GeminiMomentProvider(KEY, base_url=fake_gemini.base_url, timeout_s=0.3)
    fake_gemini.reply(FakeResponse(body=generate_content_body(json.dumps(VALID)), delay_s=1.5))
    with pytest.raises(TransientError, match="did not answer within 0.3 s"):
        slow.propose(transcript, SCENES, DURATION, MomentRequest())


def test_unreachable_server_is_transient(transcript):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    provider = GeminiMomentProvider(KEY, base_url=f"http://127.0.0.1:{port}", timeout_s=2)
    with pytest.raises(TransientError, match="could not reach Gemini"):
        provider.propose(transcript, SCENES, DURATION, MomentRequest())


def test_too_few_moments_are_topped_up_locally(fake_gemini, provider, transcript, check_clips):
    fake_gemini.reply_json(VALID[:1])
    selection = select_moments(provider, transcript, SCENES, DURATION, MomentRequest())
    assert len(selection.moments) == 3
    assert sum(m.reason.startswith("gemini:") for m in selection.moments) == 1
    assert (
        selection.notes == "gemini proposed 1 usable clip(s); 2 more came from the local provider"
    )
    check_clips(selection.moments, transcript, DURATION, scenes=SCENES)


def test_silent_video_skips_the_call(fake_gemini, provider):
    silent = Transcript(language="en", duration=120.0)
    selection = select_moments(provider, silent, SCENES[:2] + [Scene(start=90, end=120)], 120.0)
    assert fake_gemini.requests == []
    assert selection.provider == "gemini" and not selection.has_speech
    assert len(selection.moments) >= 3 and all(m.text == "" for m in selection.moments)


def test_handler_callback_answers_per_request(fake_gemini, provider, transcript):
    seen: list[str] = []

    def handler(request):
        seen.append(request.model)
        return FakeResponse(body=generate_content_body(json.dumps(VALID[:2])))

    fake_gemini.handler = handler
    assert len(provider.propose(transcript, SCENES, DURATION, MomentRequest())) == 2
    assert seen == ["gemini-2.5-flash"]


def test_registry_builds_a_working_gemini_provider(fake_gemini, transcript):
    provider = moment_provider(
        "Gemini", api_key=KEY, base_url=fake_gemini.base_url, model="gemini-2.5-pro"
    )
    assert KEY not in repr(provider)
    fake_gemini.reply_json(VALID)
    provider.propose(transcript, SCENES, DURATION, MomentRequest())
    assert fake_gemini.requests[0].model == "gemini-2.5-pro"


def test_prompt_is_compact_per_sentence(transcript):
    prompt = build_prompt(Timeline(transcript, [], DURATION), "en", MomentRequest())
    lines = [line for line in prompt.splitlines() if line.startswith("[")]
    assert len(lines) == len(SENTENCES)
    assert "Scene cuts (seconds): none detected" in prompt
