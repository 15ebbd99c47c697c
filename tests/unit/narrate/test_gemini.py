"""The Gemini narrated-video providers (writer, TTS, images): the real google-genai SDK against
the fake Gemini server, no network."""

from __future__ import annotations

import base64
import io
import itertools
import json
import re
import wave

import httpx
import numpy as np
import pytest
from fakes.fake_gemini import FakeResponse, generate_content_body
from PIL import Image

from reelforge.errors import ProviderError, TransientError, UnsupportedPromptError
from reelforge.media.slides import procedural_image
from reelforge.narrate.schemas import Content, Slide
from reelforge.narrate.writers.base import Brief
from reelforge.narrate.writers.gemini import GeminiWriter, native_share
from reelforge.narrate.writers.registry import writer
from reelforge.synth.images import closest_aspect, slide_image
from reelforge.synth.speech import speak

KEY = "AIzaTEST-not-a-real-key-0123456789"  # the fake_gemini fixture's key
SOURCE = ("India added record solar capacity last year. Rooftop panels now power villages. "
          "Storage is the next bottleneck.")
BRIEF = Brief(topic="Solar power in India", num_slides=3, language="hindi", tone="casual",
              source_text=SOURCE, target_duration_s=60)

SLIDES = [
    {"title": "सौर ऊर्जा", "content_text": "• रिकॉर्ड क्षमता\n* गाँवों में रोशनी", "needs_image": True,
     "image_keyword": "solar farm", "needs_animation": False, "animation_description": "",
     "duration": 12},
    {"title": "छत पर पैनल", "content_text": "- गाँवों को बिजली", "needs_image": True, "image_keyword": "",
     "needs_animation": False, "animation_description": "", "duration": 0.2},
    {"title": "आगे क्या", "content_text": "- भंडारण", "needs_image": True, "image_keyword": "battery",
     "needs_animation": True, "animation_description": "a battery filling up", "duration": 14},
]  # fmt: skip
NARRATIONS = [
    {"slide_number": 2, "narration_text": "छतों पर लगे पैनल अब   गाँवों को बिजली देते हैं।"},
    {"slide_number": 1, "narration_text": "भारत ने पिछले साल रिकॉर्ड सौर क्षमता जोड़ी।"},
    {"slide_number": 3, "narration_text": "अब अगली चुनौती भंडारण है, यानी battery."},
]  # fmt: skip


@pytest.fixture(autouse=True)
def _same_key(fake_gemini) -> None:
    assert fake_gemini.api_key == KEY


@pytest.fixture
def gemini(fake_gemini) -> GeminiWriter:
    return GeminiWriter(KEY, base_url=fake_gemini.base_url, timeout_s=5)


def _content() -> Content:
    return Content(topic=BRIEF.topic, total_slides=3, slides=[
        Slide(slide_number=i, title=t, content_text=f"- point {i}") for i, t in
        enumerate(["सौर ऊर्जा", "छत पर पैनल", "आगे क्या"], start=1)])


# --- the writer ------------------------------------------------------------------------------

def test_content_request_and_parsed_slides(fake_gemini, gemini):
    fake_gemini.reply_json({"slides": SLIDES})
    content = gemini.write_content(BRIEF)

    [request] = fake_gemini.requests
    assert request.path == "/v1beta/models/gemini-2.5-flash:generateContent"
    assert request.headers["x-goog-api-key"] == KEY and KEY not in json.dumps(request.body)
    config = request.generation_config
    assert config["responseMimeType"] == "application/json"
    item = config["responseSchema"]["properties"]["slides"]["items"]
    assert {"title", "content_text", "needs_image", "image_keyword", "needs_animation",
            "animation_description", "duration"} == set(item["properties"])
    prompt = request.prompt_text
    assert "exactly 3 slides about: Solar power in India" in prompt
    assert "casual and friendly" in prompt and "Hindi, in the Devanagari script" in prompt
    assert f"<<<SOURCE TEXT BEGINS>>>\n{SOURCE}\n<<<SOURCE TEXT ENDS>>>" in prompt
    assert "about 20 seconds per slide" in prompt and f"about {BRIEF.words_per_slide()} words" in prompt

    assert content.provider == "gemini" and content.topic == BRIEF.topic and content.total_slides == 3
    first, second, third = content.slides
    assert [s.slide_number for s in content.slides] == [1, 2, 3]
    assert first.content_text == "- रिकॉर्ड क्षमता\n- गाँवों में रोशनी", "bullets normalised to '- '"
    assert first.needs_image and first.image_keyword == "solar farm"
    assert second.needs_image and second.image_keyword == "छत पर पैनल", "an empty keyword: the title"
    assert second.duration == 1.0, "clamped into the document's range"
    assert third.needs_animation and not third.needs_image and third.image_keyword == ""
    assert third.animation_description == "a battery filling up"


def test_script_request_and_parsed_narration(fake_gemini, gemini):
    fake_gemini.reply_json({"slide_scripts": NARRATIONS})
    script = gemini.write_script(BRIEF, _content())

    [request] = fake_gemini.requests
    assert request.headers["x-goog-api-key"] == KEY
    assert request.generation_config["responseSchema"]["properties"]["slide_scripts"]["type"] == "ARRAY"
    prompt = request.prompt_text
    budget = BRIEF.words_per_slide()
    assert f"about {budget} words (between {round(budget * 0.85)} and {round(budget * 1.15)})" in prompt
    assert "every narration in Hindi, in the Devanagari script" in prompt
    assert "Slide 2: छत पर पैनल\n    - point 2" in prompt and SOURCE in prompt
    assert "3-slide presentation video about: Solar power in India" in prompt

    assert script.language == "hindi" and script.topic == BRIEF.topic and not script.timed
    texts = [s.narration_text for s in script.slide_scripts]
    assert texts[0].startswith("भारत ने") and texts[1] == "छतों पर लगे पैनल अब गाँवों को बिजली देते हैं।"
    assert [s.slide_number for s in script.slide_scripts] == [1, 2, 3]
    ends = [s.end_time for s in script.slide_scripts]
    assert script.slide_scripts[0].start_time == 0 and ends == sorted(ends)
    assert script.total_duration == ends[-1]


def test_wrong_slide_count_gets_one_corrective_retry(fake_gemini, gemini):
    fake_gemini.reply_json({"slides": SLIDES[:2]}).reply_json({"slides": SLIDES})
    content = gemini.write_content(BRIEF)

    assert len(content.slides) == 3 and len(fake_gemini.requests) == 2
    retry = fake_gemini.requests[1].body["contents"]
    assert [c["role"] for c in retry] == ["user", "model", "user"]
    correction = retry[2]["parts"][0]["text"]
    assert "expected exactly 3 slides, got 2" in correction and "exactly 3" in correction


def test_narration_in_the_wrong_script_is_retried(fake_gemini, gemini):
    english = [{"slide_number": i, "narration_text": f"India added solar power {i}."} for i in (1, 2, 3)]
    fake_gemini.reply_json({"slide_scripts": english}).reply_json({"slide_scripts": NARRATIONS})
    script = gemini.write_script(BRIEF, _content())

    assert script.slide_scripts[0].narration_text.startswith("भारत")
    correction = fake_gemini.requests[1].body["contents"][-1]["parts"][0]["text"]
    assert "not written in Hindi" in correction


def test_invalid_twice_is_a_provider_error(fake_gemini, gemini):
    fake_gemini.reply_json({"slides": SLIDES[:1]}).reply_text("Here are your slides!")
    with pytest.raises(ProviderError, match="unusable slides twice"):
        gemini.write_content(BRIEF)


@pytest.mark.parametrize("refusal", ["blocked", "safety"])
def test_refusal_is_unsupported_prompt(fake_gemini, gemini, refusal):
    if refusal == "blocked":
        fake_gemini.reply_text(None)  # promptFeedback.blockReason SAFETY, no candidate
    else:
        fake_gemini.reply_text("", finish_reason="SAFETY")
    with pytest.raises(UnsupportedPromptError, match=r"declined to write about 'Solar power in India'"
                                                     r" \((blocked: |finish reason )SAFETY\)") as caught:
        gemini.write_content(BRIEF)
    assert len(fake_gemini.requests) == 1, "a refusal is not retried"
    assert KEY not in str(caught.value)


def test_timeout_is_transient(fake_gemini):
    slow = GeminiWriter(KEY, base_url=fake_gemini.base_url, timeout_s=0.3)
    fake_gemini.reply(FakeResponse(body=generate_content_body(json.dumps({"slides": SLIDES})), delay_s=1.5))
    with pytest.raises(TransientError, match="did not answer within 0.3 s"):
        slow.write_content(BRIEF)


def test_throttling_is_transient(fake_gemini, gemini):
    fake_gemini.reply_error(429)
    with pytest.raises(TransientError, match="429"):
        gemini.write_script(BRIEF, _content())
    assert len(fake_gemini.requests) == 1


def test_rejected_key_never_echoes_it(fake_gemini, gemini):
    fake_gemini.reply_error(403, f"API key {KEY} is not authorized")
    with pytest.raises(ProviderError) as caught:
        gemini.write_content(BRIEF)
    assert KEY not in str(caught.value) and KEY not in repr(caught.value) and KEY not in repr(gemini)
    assert "403" in str(caught.value) and caught.value.__cause__ is None


def test_registry_builds_the_gemini_writer(fake_gemini):
    built = writer("gemini", api_key=KEY, base_url=fake_gemini.base_url, timeout_s=5)
    assert built.name == "gemini" and isinstance(built, GeminiWriter)
    fake_gemini.reply_json(SLIDES)  # a bare array is accepted too
    assert len(built.write_content(BRIEF).slides) == 3
    assert fake_gemini.requests[0].model == "gemini-2.5-flash"


def test_english_prompt_and_no_target(fake_gemini, gemini):
    brief = Brief(topic="Tides", num_slides=2, tone="storytelling")
    fake_gemini.reply_json({"slide_scripts": [{"slide_number": i, "narration_text": "The sea rose."}
                                              for i in (1, 2)]})
    content = Content(topic="Tides", total_slides=2, slides=[Slide(slide_number=1, title="A"),
                                                             Slide(slide_number=2, title="B")])
    gemini.write_script(brief, content)
    prompt = fake_gemini.requests[0].prompt_text
    assert "narrative arc" in prompt and "every narration in English." in prompt
    assert "about 30 to 60 words" in prompt and "SOURCE TEXT" not in prompt
    assert native_share("नमस्ते दुनिया", "hindi") == 1.0 and native_share("Hello", "english") is None


# --- speech ----------------------------------------------------------------------------------

def _pcm(lead_s: float, tone_s: float, tail_s: float, rate: int = 24_000) -> bytes:
    t = np.arange(int(tone_s * rate)) / rate
    voiced = (0.3 * np.sin(2 * np.pi * 220 * t) * 32767).astype("<i2")
    silence = lambda s: np.zeros(int(s * rate), dtype="<i2")  # noqa: E731
    return np.concatenate([silence(lead_s), voiced, silence(tail_s)]).tobytes()


def _camel(value):
    if isinstance(value, dict):
        return {re.sub(r"_(\w)", lambda m: m.group(1).upper(), k): _camel(v) for k, v in value.items()}
    return value


def test_gemini_tts_writes_the_pcm_as_wav(fake_gemini, tmp_path):
    pcm = _pcm(0.2, 1.0, 0.3)
    fake_gemini.reply_audio(pcm)
    text = "Solar panels   now power villages."
    speech, note = speak(text, tmp_path / "s1.wav", language="english", voice=None, provider="gemini",
                         api_key=KEY, base_url=fake_gemini.base_url, timeout_s=5)

    assert note is None and speech.voice == "gemini-Kore" and speech.sample_rate == 24_000
    assert speech.duration == pytest.approx(len(pcm) / 2 / 24_000)
    with wave.open(str(speech.path), "rb") as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 24_000)
        assert w.readframes(w.getnframes()) == pcm
    assert [w.word for w in speech.words] == ["Solar", "panels", "now", "power", "villages."]
    assert speech.words[0].start == pytest.approx(0.2, abs=0.011)
    assert speech.words[-1].end == pytest.approx(1.2, abs=0.011)
    assert all(a.end == pytest.approx(b.start, abs=0.002)
               for a, b in itertools.pairwise(speech.words))

    [request] = fake_gemini.requests
    assert request.path == "/v1beta/models/gemini-2.5-flash-preview-tts:generateContent"
    assert request.api_key == KEY
    config = request.generation_config
    assert config["responseModalities"] == ["AUDIO"]
    # SDK 3.4 sends speechConfig's fields snake_case (the API reads both spellings)
    speech_config = _camel(config["speechConfig"])
    assert speech_config["voiceConfig"]["prebuiltVoiceConfig"]["voiceName"] == "Kore"
    assert request.prompt_text == "Solar panels now power villages."


def test_gemini_tts_refused_falls_back_to_piper(fake_gemini, tmp_path):
    fake_gemini.reply_error(403, f"API key {KEY} may not use this model")
    speech, note = speak("Storage is the next bottleneck.", tmp_path / "s.wav", language="english",
                         voice=None, provider="gemini", api_key=KEY, base_url=fake_gemini.base_url)

    assert note.startswith("Gemini TTS unavailable with this key (Gemini rejected the API key (403")
    assert note.endswith(": narrated offline with piper-en_US-joe") and KEY not in note
    assert speech.voice == "piper-en_US-joe" and speech.sample_rate == 22_050
    assert 0.8 < speech.duration < 5 and len(speech.words) == 5
    with wave.open(str(speech.path), "rb") as w:
        assert w.getframerate() == 22_050 and w.getnframes() > 10_000


def test_gemini_tts_throttled_propagates(fake_gemini, tmp_path):
    fake_gemini.reply_error(503)
    with pytest.raises(TransientError, match="503") as caught:
        speak("Hello.", tmp_path / "s.wav", language="english", voice=None, provider="gemini",
              api_key=KEY, base_url=fake_gemini.base_url, timeout_s=5)
    assert KEY not in str(caught.value) and not (tmp_path / "s.wav").exists()


def test_unknown_speech_provider(tmp_path):
    with pytest.raises(ValueError, match="unknown speech provider"):
        speak("Hi.", tmp_path / "s.wav", language="english", voice=None, provider="sarvam", api_key=None)


# --- images ----------------------------------------------------------------------------------

def _png(size: tuple[int, int]) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    image.paste((20, 40, 220), (0, 0, size[0] // 2, size[1]))  # left half blue
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_gemini_image_is_decoded_and_fitted(fake_gemini):
    fake_gemini.reply_image(_png((1024, 576)))
    image, note = slide_image("wind turbines", (640, 480), tone="storytelling", provider="gemini",
                              api_key=KEY, base_url=fake_gemini.base_url, timeout_s=5)

    assert note is None and image.size == (640, 480) and image.mode == "RGB"
    assert image.getpixel((5, 240))[2] > 200 and image.getpixel((634, 240))[0] > 180, "cropped, not squashed"
    [request] = fake_gemini.requests
    assert request.path == "/v1beta/models/gemini-2.5-flash-image:generateContent" and request.api_key == KEY
    config = request.generation_config
    assert config["responseModalities"] == ["IMAGE"] and config["imageConfig"]["aspectRatio"] == "4:3"
    assert "illustration of wind turbines" in request.prompt_text and "text-free" in request.prompt_text
    assert "cinematic" in request.prompt_text


def test_gemini_image_not_found_falls_back_to_procedural(fake_gemini):
    fake_gemini.reply_error(404, f"models/gemini-2.5-flash-image is not found ({KEY})")
    image, note = slide_image("wind turbines", (320, 180), tone="formal", provider="gemini",
                              api_key=KEY, base_url=fake_gemini.base_url, timeout_s=5)

    assert image.size == (320, 180)
    assert image.tobytes() == procedural_image("wind turbines", (320, 180), "formal").tobytes()
    assert note.startswith("Gemini image generation unavailable with this key (Gemini model")
    assert "not found" in note and note.endswith("drew an offline picture for 'wind turbines'")
    assert KEY not in note


def test_gemini_image_blocked_or_unreadable_falls_back(fake_gemini):
    fake_gemini.reply_text(None).reply_image(b"not a png")
    kwargs = dict(tone="casual", provider="gemini", api_key=KEY, base_url=fake_gemini.base_url, timeout_s=5)
    _, blocked = slide_image("cats", (100, 100), **kwargs)
    _, unreadable = slide_image("cats", (100, 100), **kwargs)
    assert blocked.startswith("Gemini returned no image (blocked: SAFETY)")
    assert unreadable.startswith("Gemini's image could not be read")


def test_gemini_image_throttled_propagates(fake_gemini):
    fake_gemini.reply_error(429)
    with pytest.raises(TransientError, match="429"):
        slide_image("cats", (100, 100), tone="casual", provider="gemini", api_key=KEY,
                    base_url=fake_gemini.base_url, timeout_s=5)


def test_local_image_is_procedural():
    image, note = slide_image("cats", (90, 60), tone="casual", provider="local", api_key=None)
    assert note is None and image.tobytes() == procedural_image("cats", (90, 60), "casual").tobytes()


@pytest.mark.parametrize(("size", "aspect"), [((1920, 1080), "16:9"), ((1080, 1920), "9:16"),
                                              ((1000, 1000), "1:1"), ((850, 700), "4:3"),
                                              ((700, 850), "3:4"), ((3000, 1000), "16:9")])
def test_closest_aspect(size, aspect):
    assert closest_aspect(size) == aspect


def test_fake_answers_imagen_predict(fake_gemini):
    """The fake's Imagen shape, for code that calls :predict (the SDK does only on Vertex AI)."""
    png = _png((8, 8))
    fake_gemini.reply_image(png)
    answer = httpx.post(f"{fake_gemini.base_url}/v1beta/models/imagen-4.0-generate-001:predict",
                        headers={"x-goog-api-key": KEY}, json={"instances": [{"prompt": "a cat"}]})
    [prediction] = answer.json()["predictions"]
    assert prediction["mimeType"] == "image/png"
    assert Image.open(io.BytesIO(base64.b64decode(prediction["bytesBase64Encoded"]))).size == (8, 8)
