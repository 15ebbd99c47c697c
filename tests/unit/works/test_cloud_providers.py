"""The cloud providers of the works surface, each with its real SDK against the fake vendor
servers on loopback (``tests/fakes``): nothing in an SDK or in reelforge is mocked.

The three chat vendors (Gemini, OpenAI, Claude) run the same tests through ``Chat``, which
knows how each fake is told to answer and where each request keeps its prompt and images.
"""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fakes.fake_anthropic import FakeAnthropic
from fakes.fake_gemini import FakeGemini, FakeResponse, generate_content_body
from fakes.fake_openai import FakeOpenAI
from fakes.fake_runway import FakeRunway
from fakes.veo import FakeVertexGemini, VeoOperations
from PIL import Image

from reelforge.ai.runway_client import MAX_DATA_URI
from reelforge.errors import ProviderError, TransientError, UnsupportedPromptError
from reelforge.media.ffmpeg import ffmpeg_exe
from reelforge.works.providers import catalog, claude, gemini, openai, runway
from reelforge.works.providers.base import Call, ImageJob, LandingPage, ScenarioBrief, VideoJob
from reelforge.works.schemas import AnalysisResult, Resolution, StyleGuide, UserIntent

KEYS = {"gemini": "AIza-test-gemini-key-0123456789WXYZ", "openai": "sk-test-openai-0123456789abcdWXYZ",
        "claude": "sk-ant-test-claude-0123456789WXYZ", "vertex": "AQ.test-vertex-express-0123456789WXYZ",
        "runway": "key_test-runway-0123456789WXYZ"}
PORTRAIT = Resolution(width=1080, height=1920)

ANALYSIS_ANSWER = {
    "scenes": [
        {"duration_seconds": 3, "description": "A red bottle on a table.", "transition": "Fade",
         "text_overlay": "NEW", "camera_movement": "Zoom In"},
        {"duration_seconds": 1, "description": "A hand lifts it.", "transition": "cut",
         "text_overlay": "", "camera_movement": " "},
    ],
    "overall_tone": "energetic", "color_palette": ["#ff0000", "ff0000", "#0a0", "teal"],
    "tempo": "fast", "has_text_overlay": False,
}
STYLE_ANSWER = {"tone": "calm", "color_palette": ["#112233"], "tempo": "slow", "camera_style": "",
                "brand_voice": "warm and plain", "must_include": ["the logo"], "must_avoid": []}


def _scene(seconds: float, n: int) -> dict[str, Any]:
    return {"duration_seconds": seconds, "image_prompt": f"picture {n}", "negative_prompt": "",
            "video_prompt": f"motion {n}", "camera_movement": "pan left", "text_overlay": "",
            "transition": " Dissolve "}


def _png(size: tuple[int, int], color: str = "teal") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return out.getvalue()


def _keyless(exc: BaseException, key: str) -> None:
    assert key not in str(exc) and key not in repr(exc)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2 s, 10 fps, 320x240 video: 20 frames, of which the vision providers sample 12."""
    out = tmp_path_factory.mktemp("works") / "reference.mp4"
    subprocess.run([ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=10",
                    "-t", "2", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(out)],
                   check=True)
    return out


# --- the chat vendors -----------------------------------------------------------------------

@dataclass
class Chat:
    """One chat vendor's fake, and how its tests talk to it."""

    name: str
    module: Any
    fake: Any
    model: str

    @property
    def key(self) -> str:
        return KEYS[self.name]

    def call(self) -> Call:
        return Call(provider=self.name, model=self.model, api_key=self.key, base_url=self.fake.base_url)

    def reply(self, value: Any) -> None:
        if self.name == "claude":
            self.fake.reply_tool(value)
        else:
            self.fake.reply_json(value)

    def refuse(self) -> None:
        if self.name == "gemini":
            self.fake.reply_text(None)  # no candidate, promptFeedback.blockReason SAFETY
        else:
            self.fake.reply_refusal()

    def rate_limit(self) -> None:
        if self.name == "gemini":
            self.fake.reply_error(429)
        else:
            self.fake.reply_rate_limit()

    def prompt(self, request: Any) -> str:
        return request.prompt_text

    def images(self, request: Any) -> list[tuple[str, bytes]]:
        """The (MIME type, bytes) of every image the request carried, in order."""
        if self.name == "openai":
            found = [url.removeprefix("data:").split(";base64,") for url in request.image_urls]
        elif self.name == "claude":
            found = [(b["source"]["media_type"], b["source"]["data"]) for b in request.image_blocks]
        else:  # google-genai writes the blob's mime_type in snake case, its bytes URL-safe
            blobs = [p["inlineData"] for content in request.body["contents"] for p in content["parts"]
                     if "inlineData" in p]
            found = [(blob.get("mimeType") or blob.get("mime_type"), blob["data"]) for blob in blobs]
        return [(mime, base64.urlsafe_b64decode(data)) for mime, data in found]

    def schema_name(self, request: Any) -> str:
        """Which answer schema the request asked for."""
        if self.name == "openai":
            return request.body["response_format"]["json_schema"]["name"]
        if self.name == "claude":
            assert request.body["tool_choice"] == {"type": "tool", "name": "answer"}
            return request.body["tools"][0]["description"].split(" object")[0].split()[-1]
        config = request.generation_config
        assert config["responseMimeType"] == "application/json"
        schema = config.get("responseSchema") or config.get("responseJsonSchema")
        return schema.get("title", "")


CHATS = {"gemini": (gemini, FakeGemini, "gemini-2.5-flash"), "openai": (openai, FakeOpenAI, "gpt-4.1-mini"),
         "claude": (claude, FakeAnthropic, "claude-sonnet-4-5")}


@pytest.fixture(params=sorted(CHATS))
def chat(request: pytest.FixtureRequest) -> Iterator[Chat]:
    module, fake_type, model = CHATS[request.param]
    with fake_type(api_key=KEYS[request.param]) as fake:
        yield Chat(request.param, module, fake, model)


def test_vision_reads_twelve_frames_and_answers_the_contracts_analysis(chat: Chat, reference: Path) -> None:
    chat.reply(ANALYSIS_ANSWER)
    progress: list[float] = []
    result = chat.module.vision(chat.call()).analyze(
        reference, mode="content_remix", analyzer_prompt="Count the products shown.",
        on_progress=progress.append)
    [request] = chat.fake.requests
    frames = chat.images(request)
    assert len(frames) == 12 and {mime for mime, _ in frames} == {"image/jpeg"}
    assert all(Image.open(io.BytesIO(data)).size == (320, 240) for _, data in frames)
    prompt = chat.prompt(request)
    assert "The video is 2.0 s long" in prompt and "0.08, 0.25, 0.42" in prompt and "1.92" in prompt
    assert "storytelling flow" in prompt  # content_remix's focus, not style_transfer's
    assert prompt.rstrip().endswith("Count the products shown.")
    assert chat.schema_name(request) == "VideoAnalysis"
    assert progress == [0.2, 1.0]
    assert isinstance(result, AnalysisResult)
    assert result.scene_count == 2 and [s.index for s in result.scenes] == [0, 1]
    assert [s.duration_seconds for s in result.scenes] == [1.5, 0.5]  # 3:1, scaled to the 2 s
    first, second = result.scenes
    assert (first.transition, first.text_overlay, first.camera_movement) == ("fade", "NEW", "zoom in")
    assert (second.text_overlay, second.camera_movement) == (None, None)
    assert result.color_palette == ["#FF0000", "#00AA00", "teal"]
    assert result.tempo == "fast" and result.has_text_overlay is True  # a scene shows text
    assert result.notes and f"({chat.model}) read 12 frames" in result.notes[0]


def test_style_transfer_focuses_on_style(chat: Chat, reference: Path) -> None:
    chat.reply(ANALYSIS_ANSWER)
    chat.module.vision(chat.call()).analyze(reference, mode="style_transfer", analyzer_prompt=None)
    prompt = chat.prompt(chat.fake.requests[0])
    assert "visual style" in prompt and "storytelling flow" not in prompt


def test_a_scenario_is_written_from_the_whole_brief(chat: Chat) -> None:
    analysis = AnalysisResult.model_validate({**ANALYSIS_ANSWER, "scene_count": 3, "scenes": [
        {"index": i, "duration_seconds": 4, "description": f"shot {i}"} for i in range(3)]})
    brief = ScenarioBrief(
        intent=UserIntent(mode="style_transfer", product_name="Glow Serum", product_description="a face serum",
                          target_audience="runners", language="de", video_duration=12),
        analysis=analysis, system_prompt="You write ads for Acme.", knowledge="Acme sells skincare.",
        style_guide=StyleGuide(tone="calm", color_palette=["#112233"], must_avoid=["rivals"]),
        image_system_prompt="Photorealistic product shots.", video_system_prompt="Slow, smooth motion.")
    chat.reply({"scenes": [_scene(2, 1), _scene(6, 2), _scene(-1, 3)]})
    scenes = chat.module.writer(chat.call()).scenario(brief)
    [request] = chat.fake.requests
    prompt = chat.prompt(request)
    for expected in ("You write ads for Acme.", "Acme sells skincare.", "Tone: calm", "Must avoid: rivals",
                     "Photorealistic product shots.", "Slow, smooth motion.", "Glow Serum", "runners",
                     "SAME visual style", "its 3 scenes", '"description": "shot 2"', "language: de",
                     "12 seconds in all"):
        assert expected in prompt, expected
    assert chat.schema_name(request) == "Scenario"
    assert [s.scene_index for s in scenes] == [0, 1, 2]
    assert [s.duration_seconds for s in scenes] == [2, 6, 4]  # the missing one: the others' mean
    assert scenes[1].image_prompt == "picture 2" and scenes[1].video_prompt == "motion 2"
    assert scenes[0].transition == "dissolve" and scenes[0].camera_movement == "pan left"
    assert scenes[0].text_overlay is None and scenes[0].negative_prompt == ""


def test_direct_assets_get_one_scene_each_and_a_wrong_count_goes_back_once(chat: Chat) -> None:
    brief = ScenarioBrief(intent=UserIntent(mode="content_remix", product_name="Glow"),
                          asset_descriptions=("a bottle on sand", "the label up close"))
    chat.reply({"scenes": [_scene(4, 1)]})
    chat.reply({"scenes": [_scene(4, 1), _scene(3, 2)]})
    scenes = chat.module.writer(chat.call()).scenario(brief)
    assert len(scenes) == 2 and [s.scene_index for s in scenes] == [0, 1]
    first, second = chat.fake.requests
    assert "1. a bottle on sand\n2. the label up close" in chat.prompt(first)
    assert "Write exactly 2 scenes." in chat.prompt(first)
    assert "write exactly 2 scenes, not 1" in json.dumps(second.body)  # the corrective turn


def test_a_style_guide_keeps_only_what_the_text_says(chat: Chat) -> None:
    chat.reply(STYLE_ANSWER)
    guide = chat.module.writer(chat.call()).style_guide("Calm, slow videos in navy #112233; show the logo.")
    [request] = chat.fake.requests
    assert "<<<TEXT BEGINS>>>\nCalm, slow videos in navy #112233; show the logo.\n<<<TEXT ENDS>>>" in chat.prompt(request)
    assert chat.schema_name(request) == "StyleAnswer"
    assert guide == StyleGuide(tone="calm", color_palette=["#112233"], tempo="slow",
                               brand_voice="warm and plain", must_include=["the logo"])
    assert guide.camera_style is None and guide.must_avoid is None


def test_a_landing_page_gives_a_style_guide_and_the_product(chat: Chat) -> None:
    page = LandingPage(url="https://glow.example/", title="Glow Serum", description="Skin that glows",
                       headings=("Why Glow", "Pricing"), text="Made for runners.", colors=("#FF6600",),
                       fonts=("Inter",))
    chat.reply({"style_guide": STYLE_ANSWER,
                "product_info": {"name": "Glow Serum", "description": "A serum.", "target_audience": ""}})
    answer = chat.module.writer(chat.call()).landing(page, include_product_info=True, mode="landing")
    prompt = chat.prompt(chat.fake.requests[0])
    for expected in ("URL: https://glow.example/", "- Why Glow", "most used first: #FF6600", "Fonts: Inter",
                     "Visible text:\nMade for runners."):
        assert expected in prompt, expected
    assert answer == {"styleGuide": {"tone": "calm", "color_palette": ["#112233"], "tempo": "slow",
                                     "brand_voice": "warm and plain", "must_include": ["the logo"]},
                      "productInfo": {"name": "Glow Serum", "description": "A serum."}}


def test_the_feature_mode_reads_only_the_product(chat: Chat) -> None:
    chat.reply({"name": "Glow", "description": "It glows.", "target_audience": "runners"})
    answer = chat.module.writer(chat.call()).landing(LandingPage(url="https://glow.example/features"),
                                                     include_product_info=False, mode="feature")
    assert chat.schema_name(chat.fake.requests[0]) == "ProductAnswer"
    assert answer == {"styleGuide": {}, "productInfo": {"name": "Glow", "description": "It glows.",
                                                        "targetAudience": "runners"}}


def test_a_refusal_is_an_unsupported_prompt(chat: Chat) -> None:
    chat.refuse()
    with pytest.raises(UnsupportedPromptError) as caught:
        chat.module.writer(chat.call()).style_guide("something")
    assert len(chat.fake.requests) == 1  # the same prompt would be refused again
    _keyless(caught.value, chat.key)


def test_a_vision_refusal_is_an_unsupported_prompt(chat: Chat, reference: Path) -> None:
    chat.refuse()
    with pytest.raises(UnsupportedPromptError) as caught:
        chat.module.vision(chat.call()).analyze(reference, mode="style_transfer", analyzer_prompt=None)
    _keyless(caught.value, chat.key)


def test_a_rate_limit_is_transient(chat: Chat) -> None:
    chat.rate_limit()
    with pytest.raises(TransientError, match="429") as caught:
        chat.module.writer(chat.call()).scenario(ScenarioBrief(intent=UserIntent()))
    assert len(chat.fake.requests) == 1  # no SDK retries: the state machine's Retry decides
    _keyless(caught.value, chat.key)


def test_a_rejected_key_is_a_provider_error_without_the_key(chat: Chat) -> None:
    wrong = "sk-wrong-key-abcdefghijklmnop9876"
    call = Call(provider=chat.name, model=chat.model, api_key=wrong, base_url=chat.fake.base_url)
    with pytest.raises(ProviderError) as caught:
        chat.module.writer(call).style_guide("something")
    _keyless(caught.value, wrong)
    assert wrong[-4:] not in str(caught.value)


# --- images ---------------------------------------------------------------------------------

JOB = ImageJob(prompt="A red bottle on white sand", negative_prompt="people",
               instruction="Photorealistic product shot.", size=PORTRAIT,
               style_guide=StyleGuide(tone="calm", color_palette=["#112233"], must_avoid=["rivals"]))


def _picture_size(data: bytes) -> tuple[str | None, tuple[int, int]]:
    with Image.open(io.BytesIO(data)) as image:
        return image.format, image.size


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(api_key=KEYS["openai"]) as fake:
        yield fake


def _dalle(fake: FakeOpenAI, model: str = "gpt-image-1") -> openai.DalleImages:
    return openai.images(Call(provider="dalle", model=model, api_key=KEYS["openai"], base_url=fake.base_url))


@pytest.mark.parametrize(("model", "size"), [("gpt-image-1", "1024x1536"), ("dall-e-3", "1024x1792"),
                                             ("dall-e-2", "1024x1024")])
def test_dalle_asks_for_the_nearest_size_and_fits_the_picture(fake_openai: FakeOpenAI, model: str,
                                                              size: str) -> None:
    fake_openai.reply_image(_png((int(size.split("x")[0]), int(size.split("x")[1]))))
    picture = _dalle(fake_openai, model).image(JOB)
    [request] = fake_openai.requests
    assert request.path == "/v1/images/generations"
    assert request.body["model"] == model and request.body["size"] == size
    prompt = request.body["prompt"]
    assert prompt.startswith("A red bottle on white sand\n\nPhotorealistic product shot.")
    assert "calm tone; colour palette #112233" in prompt and "Avoid: people; rivals." in prompt
    assert picture.mime_type == "image/png" and _picture_size(picture.data) == ("PNG", (1080, 1920))


def test_dalle_2_prompts_are_cut_to_its_limit(fake_openai: FakeOpenAI) -> None:
    fake_openai.reply_image(_png((64, 64)))
    _dalle(fake_openai, "dall-e-2").image(ImageJob(prompt="sand " * 400, size=Resolution(width=640, height=640)))
    assert len(fake_openai.requests[0].body["prompt"]) == 1000


def test_dalle_refusal_and_rate_limit(fake_openai: FakeOpenAI) -> None:
    fake_openai.reply_content_policy()
    with pytest.raises(UnsupportedPromptError) as refused:
        _dalle(fake_openai).image(JOB)
    fake_openai.reply_rate_limit()
    with pytest.raises(TransientError, match="429") as throttled:
        _dalle(fake_openai).image(JOB)
    for caught in (refused, throttled):
        _keyless(caught.value, KEYS["openai"])


def test_an_unreadable_picture_is_a_provider_error(fake_openai: FakeOpenAI) -> None:
    fake_openai.reply_image(b"\x89PNG\r\n\x1a\n not really")
    with pytest.raises(ProviderError, match="cannot be read"):
        _dalle(fake_openai).image(JOB)


@pytest.fixture
def fake_gemini() -> Iterator[FakeGemini]:
    with FakeGemini(api_key=KEYS["gemini"]) as fake:
        yield fake


def _flash(fake: FakeGemini) -> gemini.FlashImages:
    return gemini.images(Call(provider="gemini", model="gemini-2.5-flash-image", api_key=KEYS["gemini"],
                              base_url=fake.base_url))


def test_gemini_flash_image(fake_gemini: FakeGemini) -> None:
    fake_gemini.reply_image(_png((768, 1344)))
    picture = _flash(fake_gemini).image(JOB)
    [request] = fake_gemini.requests
    assert request.path == "/v1beta/models/gemini-2.5-flash-image:generateContent"
    assert request.api_key == KEYS["gemini"]
    assert request.generation_config["responseModalities"] == ["IMAGE"]
    assert request.generation_config["imageConfig"] == {"aspectRatio": "9:16"}
    assert request.prompt_text.startswith("A red bottle on white sand")
    assert _picture_size(picture.data) == ("PNG", (1080, 1920))


@pytest.mark.parametrize("answer", [generate_content_body(None),  # the prompt blocked
                                    generate_content_body("", finish_reason="IMAGE_SAFETY")])
def test_gemini_flash_image_refusals(fake_gemini: FakeGemini, answer: dict[str, Any]) -> None:
    fake_gemini.reply(FakeResponse(body=answer))
    with pytest.raises(UnsupportedPromptError, match="declined to draw"):
        _flash(fake_gemini).image(JOB)


def test_gemini_flash_image_without_an_image_is_a_provider_error(fake_gemini: FakeGemini) -> None:
    fake_gemini.reply_text("I drew nothing")
    with pytest.raises(ProviderError, match="returned no image"):
        _flash(fake_gemini).image(JOB)


def test_gemini_flash_image_rate_limit(fake_gemini: FakeGemini) -> None:
    fake_gemini.reply_error(429)
    with pytest.raises(TransientError, match="429") as caught:
        _flash(fake_gemini).image(JOB)
    _keyless(caught.value, KEYS["gemini"])


@pytest.fixture
def ops() -> VeoOperations:
    return VeoOperations()


@pytest.fixture
def fake_vertex(ops: VeoOperations) -> Iterator[FakeVertexGemini]:
    with FakeVertexGemini(api_key=KEYS["vertex"], handler=ops) as fake:
        yield fake


def _imagen(fake: FakeVertexGemini) -> gemini.ImagenImages:
    return gemini.images(Call(provider="gemini", model="imagen-4.0-generate-001", api_key=KEYS["vertex"],
                              base_url=fake.base_url))


def test_imagen_on_vertex_express_mode(fake_vertex: FakeVertexGemini) -> None:
    fake_vertex.reply_image(_png((1536, 2816)))
    picture = _imagen(fake_vertex).image(JOB)
    [request] = fake_vertex.requests
    assert request.path == "/v1beta1/publishers/google/models/imagen-4.0-generate-001:predict"
    assert request.api_key == KEYS["vertex"]
    assert request.body["instances"][0]["prompt"].startswith("A red bottle on white sand")
    assert request.body["parameters"] == {"sampleCount": 1, "aspectRatio": "9:16", "includeRaiReason": True}
    assert _picture_size(picture.data) == ("PNG", (1080, 1920))


def test_imagen_safety_filter_and_rate_limit(fake_vertex: FakeVertexGemini) -> None:
    fake_vertex.reply(FakeResponse(body={"predictions": [
        {"raiFilteredReason": "The prompt violates our usage guidelines."}]}))
    with pytest.raises(UnsupportedPromptError, match="usage guidelines") as refused:
        _imagen(fake_vertex).image(JOB)
    fake_vertex.reply_error(429)
    with pytest.raises(TransientError, match="429") as throttled:
        _imagen(fake_vertex).image(JOB)
    for caught in (refused, throttled):
        _keyless(caught.value, KEYS["vertex"])


# --- videos ---------------------------------------------------------------------------------

def _video_job(seconds: float, size: Resolution = PORTRAIT) -> VideoJob:
    return VideoJob(image=_png((72, 128)), prompt="The bottle turns slowly", duration_s=seconds,
                    instruction="Keep it smooth.", camera_movement="zoom in", size=size,
                    style_guide=StyleGuide(camera_style="handheld", tempo="slow"))


def _veo(fake: FakeVertexGemini, model: str = "veo-3.0-generate-001") -> gemini.VeoVideos:
    return gemini.videos(Call(provider="gemini", model=model, api_key=KEYS["vertex"], base_url=fake.base_url))


def test_veo_runs_as_an_operation_polled_to_completion(fake_vertex: FakeVertexGemini, ops: VeoOperations,
                                                       tmp_path: Path) -> None:
    ops.script(running=2, video=b"\x00\x00\x00\x18ftypmp42 the scene")
    videos = _veo(fake_vertex)
    started = videos.start(_video_job(5), tmp_path)
    assert started.operation and started.path is None
    [request] = fake_vertex.requests
    assert request.path == "/v1beta1/publishers/google/models/veo-3.0-generate-001:predictLongRunning"
    instance = request.body["instances"][0]
    assert instance["image"] == {"bytesBase64Encoded": base64.b64encode(_png((72, 128))).decode(),
                                 "mimeType": "image/png"}
    assert instance["prompt"] == ("The bottle turns slowly\n\nCamera: zoom in.\n\nKeep it smooth.\n\n"
                                  "Style: camera style: handheld; slow pace.")
    assert request.body["parameters"] == {"sampleCount": 1, "durationSeconds": 6, "aspectRatio": "9:16"}
    states = [videos.poll(started.operation) for _ in range(3)]
    assert [s.status for s in states] == ["running", "running", "succeeded"]
    assert states[-1].video_bytes == b"\x00\x00\x00\x18ftypmp42 the scene"


@pytest.mark.parametrize(("model", "seconds", "size", "expected"), [
    ("veo-3.0-fast-generate-001", 9, Resolution(width=1920, height=1080), (8, "16:9")),
    ("veo-2.0-generate-001", 3, PORTRAIT, (5, "9:16"))])
def test_veo_lengths_and_aspects_per_model(fake_vertex: FakeVertexGemini, tmp_path: Path, model: str,
                                           seconds: float, size: Resolution, expected: tuple[int, str]) -> None:
    _veo(fake_vertex, model).start(_video_job(seconds, size), tmp_path)
    parameters = fake_vertex.requests[0].body["parameters"]
    assert (parameters["durationSeconds"], parameters["aspectRatio"]) == expected


def test_veo_safety_filter_and_rate_limit(fake_vertex: FakeVertexGemini, ops: VeoOperations,
                                          tmp_path: Path) -> None:
    ops.script(running=1, filtered=["The image violates our Responsible AI practices."])
    videos = _veo(fake_vertex)
    operation = videos.start(_video_job(4), tmp_path).operation
    assert videos.poll(operation).status == "running"
    with pytest.raises(UnsupportedPromptError, match="filtered the video for safety") as refused:
        videos.poll(operation)
    fake_vertex.reply_error(429)
    with pytest.raises(TransientError, match="429") as throttled:
        videos.start(_video_job(4), tmp_path)
    for caught in (refused, throttled):
        _keyless(caught.value, KEYS["vertex"])


@pytest.fixture
def fake_runway() -> Iterator[FakeRunway]:
    with FakeRunway(api_key=KEYS["runway"]) as fake:
        yield fake


def _runway(fake: FakeRunway, model: str = "gen4_turbo") -> runway.RunwayVideos:
    return runway.videos(Call(provider="runway", model=model, api_key=KEYS["runway"], base_url=fake.base_url))


def test_runway_runs_as_a_task_polled_to_completion(fake_runway: FakeRunway, tmp_path: Path) -> None:
    fake_runway.script_task(running=2)
    videos = _runway(fake_runway)
    started = videos.start(_video_job(4.2), tmp_path)
    [request] = fake_runway.requests
    assert request.path == "/v1/image_to_video"
    assert request.body["model"] == "gen4_turbo" and request.body["ratio"] == "720:1280"
    assert request.body["duration"] == 5
    assert request.body["promptImage"] == "data:image/png;base64," + base64.b64encode(_png((72, 128))).decode()
    assert request.body["promptText"].startswith("The bottle turns slowly\n\nCamera: zoom in.")
    states = [videos.poll(started.operation) for _ in range(3)]
    assert [s.status for s in states] == ["running", "running", "succeeded"]
    assert states[-1].video_url == fake_runway.video_url(started.operation)


@pytest.mark.parametrize(("model", "seconds", "size", "expected"), [
    ("gen4_turbo", 7, Resolution(width=1000, height=1000), (10, "960:960")),
    ("gen4_turbo", 30, Resolution(width=1920, height=1080), (10, "1280:720")),
    ("gen3a_turbo", 2, PORTRAIT, (5, "768:1280"))])
def test_runway_lengths_and_ratios_per_model(fake_runway: FakeRunway, tmp_path: Path, model: str, seconds: float,
                                             size: Resolution, expected: tuple[int, str]) -> None:
    _runway(fake_runway, model).start(_video_job(seconds, size), tmp_path)
    body = fake_runway.requests[0].body
    assert (body["duration"], body["ratio"]) == expected


def test_runway_prompts_are_cut_to_its_limit(fake_runway: FakeRunway, tmp_path: Path) -> None:
    job = VideoJob(image=_png((72, 128)), prompt="the waves roll " * 100, duration_s=5)
    _runway(fake_runway).start(job, tmp_path)
    assert len(fake_runway.requests[0].body["promptText"]) == 1000


def test_a_picture_over_runways_inline_limit_goes_as_jpeg(fake_runway: FakeRunway, tmp_path: Path) -> None:
    noise = Image.frombytes("RGB", (1080, 1920), os.urandom(1080 * 1920 * 3))
    out = io.BytesIO()
    noise.save(out, format="PNG", compress_level=1)
    assert len(out.getvalue()) > MAX_DATA_URI  # as a PNG data URI, Runway would refuse it
    job = VideoJob(image=out.getvalue(), prompt="static noise", duration_s=5)
    _runway(fake_runway).start(job, tmp_path)
    sent = fake_runway.requests[0].body["promptImage"]
    assert sent.startswith("data:image/jpeg;base64,") and len(sent) <= MAX_DATA_URI


def test_runway_moderation_and_rate_limit(fake_runway: FakeRunway, tmp_path: Path) -> None:
    fake_runway.script_task(running=1, failure="The prompt was flagged.", failure_code="SAFETY.INPUT.TEXT")
    videos = _runway(fake_runway)
    task = videos.start(_video_job(5), tmp_path).operation
    assert videos.poll(task).status == "running"
    with pytest.raises(UnsupportedPromptError, match="moderation") as refused:
        videos.poll(task)
    fake_runway.reply_rate_limit()
    with pytest.raises(TransientError, match="429") as throttled:
        videos.start(_video_job(5), tmp_path)
    for caught in (refused, throttled):
        _keyless(caught.value, KEYS["runway"])


# --- the catalog's providers ----------------------------------------------------------------

@pytest.mark.parametrize("provider", [p for p in catalog.PROVIDERS if p.vendor != "local"],
                         ids=lambda p: f"{p.role}-{p.id}")
def test_every_cloud_provider_in_the_catalog_has_its_factory(provider: catalog.Provider) -> None:
    made: Any = catalog.make(provider.role, Call(provider=provider.id, model=provider.default_model,
                                                 api_key="k-0123456789", base_url="http://127.0.0.1:9"))
    method = {"vision": "analyze", "llm": "scenario", "image": "image", "video": "poll"}[provider.role]
    assert callable(getattr(made, method))
    assert "k-0123456789" not in repr(made)


def test_the_answer_schemas_are_strict_json_schema_compatible() -> None:
    """OpenAI's strict mode wants every property required and no extras (the SDK's own converter)."""
    from openai.lib._pydantic import to_strict_json_schema

    from reelforge.works.providers import prompts

    for schema in (prompts.VideoAnalysis, prompts.Scenario, prompts.scenario_schema(4), prompts.StyleAnswer,
                   prompts.LandingAnswer, prompts.LandingAndProduct, prompts.ProductAnswer):
        converted = json.dumps(to_strict_json_schema(schema))
        assert '"default"' not in converted and '"minItems"' not in converted
        for model in [schema.model_json_schema(), *schema.model_json_schema().get("$defs", {}).values()]:
            assert set(model.get("required", [])) == set(model["properties"]), schema.__name__
