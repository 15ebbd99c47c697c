"""The `local` works provider on real media: references rendered here with known cuts,
colours, camera moves and speech are measured back; cards' pixels and videos' frames are
measured too. Nothing of ours is mocked."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from mediagen import colour_distance, painted_video, texture
from PIL import Image

from reelforge.errors import ProviderError
from reelforge.media import motion
from reelforge.media.analysis import analyze_reference, palette
from reelforge.media.compose import FPS
from reelforge.media.ffmpeg import run_ffmpeg
from reelforge.media.source import probe_video
from reelforge.media.tts import synthesize
from reelforge.settings import get_settings
from reelforge.works.providers import catalog, local
from reelforge.works.providers.base import (
    Call,
    ImageJob,
    LandingPage,
    ScenarioBrief,
    VideoJob,
)
from reelforge.works.schemas import (
    MAX_SCENES,
    AnalysisResult,
    AnalysisScene,
    Resolution,
    StyleGuide,
    UserIntent,
)

SIZE = (320, 180)
PAINTED = [("d03030", 1.5), ("30a050", 2.0), ("3040c0", 2.5)]  # (colour, seconds) per shot
SPOKEN = ("Bright colors help the first frame stand out. Short clips keep people watching. "
          "Every second counts, so show the product early and end with one clear call to action.")
PORTRAIT = Resolution(width=360, height=640)
GUIDE_TEXT = """Our brand voice is warm and witty. Use a bold, playful tone with #FF6600, #0af and
navy accents. Fast-paced cuts with slow zoom-ins and handheld shots. Must include the logo, the
tagline and a QR code. Always end with the website. Never use red. Don't show competitors'
products; avoid stock photos."""


@pytest.fixture(scope="module", autouse=True)
def settings() -> Iterator[None]:
    """The settings the provider reads (the whisper model that ships whole, offline)."""
    with pytest.MonkeyPatch.context() as patch:
        for key, value in {"TABLE_NAME": "t", "BUCKET_NAME": "b", "JWT_SECRET": "unit-test-secret-" + "x" * 32,
                           "WHISPER_MODEL": "tiny.en"}.items():
            patch.setenv(key, value)
        get_settings.cache_clear()
        yield
    get_settings.cache_clear()


@pytest.fixture(scope="module")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("local-provider")


def _encode(args: list, out: Path) -> Path:
    run_ffmpeg([*args, "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", out])
    return out


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


@pytest.fixture(scope="module")
def painted(media_dir: Path) -> tuple[AnalysisResult, list[float]]:
    seen: list[float] = []
    result = local.vision(Call("local", "local-measure")).analyze(
        painted_video(media_dir / "painted.mp4", PAINTED), mode="style_transfer",
        analyzer_prompt="Describe the hook of every scene", on_progress=seen.append)
    return result, seen


def _moving_analysis() -> AnalysisResult:
    moves = ["pan left", "tilt up", "zoom_out", "handheld", "static"]
    return AnalysisResult(scene_count=5, tempo="fast", color_palette=["#d03030", "#3040c0"], scenes=[
        AnalysisScene(index=i + 1, duration_seconds=d, camera_movement=m, description=f"Scene {i + 1}")
        for i, (d, m) in enumerate(zip([1.0, 2.0, 0.5, 1.5, 3.0], moves, strict=True))])


# --- vision ------------------------------------------------------------------------------------


def test_catalog_makes_every_local_role() -> None:
    for role, kind in (("vision", local.LocalVision), ("llm", local.LocalWriter),
                       ("image", local.LocalImages), ("video", local.LocalVideos)):
        assert isinstance(catalog.make(role, Call("local", catalog.find(role, "local").default_model)), kind)


def test_analysis_measures_the_painted_reference(painted: tuple[AnalysisResult, list[float]]) -> None:
    result, progress = painted
    assert result.scene_count == 3 == len(result.scenes)
    for scene, (colour, seconds) in zip(result.scenes, PAINTED, strict=True):
        assert scene.duration_seconds == pytest.approx(seconds, abs=0.2)
        assert min(colour_distance(c, colour) for c in result.color_palette) < 20, (colour, result.color_palette)
        assert scene.camera_movement == "static"
    assert result.tempo == "fast"
    assert any("measured offline" in n for n in result.notes)
    assert local.NOTE_ANALYZER_PROMPT in result.notes  # asked for, and honestly not followed
    assert progress and progress[-1] == 1.0


def test_content_remix_scenes_carry_what_is_said(media_dir: Path) -> None:
    speech = synthesize(SPOKEN, media_dir / "spoken.wav")
    seconds = speech.duration + 0.5
    video = _encode(["-f", "lavfi", "-i", f"color=c=0x3040c0:s={SIZE[0]}x{SIZE[1]}:r=30:d={seconds}",
                     "-i", speech.path, "-map", "0:v", "-map", "1:a", "-c:a", "aac", "-t", f"{seconds}"],
                    media_dir / "spoken.mp4")
    result = local.vision(Call("local", "local-measure")).analyze(video, mode="content_remix",
                                                                  analyzer_prompt=None)
    assert local.NOTE_ANALYZER_PROMPT not in result.notes
    description = result.scenes[0].description
    heard = _words(description)
    wanted = _words(SPOKEN)
    assert sum(w in heard for w in wanted) / len(wanted) >= 0.7, description
    assert "…" not in description  # the whole speech, past media.analysis's 160-character quote
    scenes = local.writer(Call("local", "local-compose")).scenario(ScenarioBrief(
        intent=UserIntent(mode="content_remix", product_name="Acme"), analysis=result))
    assert len(scenes) == 1
    prompt = _words(scenes[0].image_prompt)
    assert sum(w in prompt for w in wanted) / len(wanted) >= 0.7, scenes[0].image_prompt


# --- writer: scenario --------------------------------------------------------------------------


def test_content_remix_follows_speech_in_any_provider_s_description() -> None:
    analysis = AnalysisResult(scene_count=2, scenes=[
        AnalysisScene(index=1, duration_seconds=2, description='A host at a desk says "Meet the new app".'),
        AnalysisScene(index=2, duration_seconds=3, description="A product close-up, no speech.")])
    scenes = local.writer(None).scenario(ScenarioBrief(
        intent=UserIntent(mode="content_remix", product_name="Acme"), analysis=analysis))
    assert '"Meet the new app"' in scenes[0].image_prompt
    assert scenes[1].image_prompt.startswith("Closing shot of Acme")


def test_style_transfer_keeps_the_reference_rhythm(painted: tuple[AnalysisResult, list[float]]) -> None:
    analysis, _ = painted
    guide = local.writer(None).style_guide(GUIDE_TEXT)
    intent = UserIntent(product_name="Acme Bottle", target_audience="hikers", video_duration=12,
                        product_description="A steel bottle. Keeps drinks cold for 24 hours.")
    scenes = local.writer(None).scenario(ScenarioBrief(intent=intent, analysis=analysis, style_guide=guide))
    assert [s.scene_index for s in scenes] == [0, 1, 2]
    assert sum(s.duration_seconds for s in scenes) == pytest.approx(12.0, abs=1e-9)
    measured = [s.duration_seconds for s in analysis.scenes]
    for scene, seconds in zip(scenes, measured, strict=True):
        assert scene.duration_seconds == pytest.approx(seconds * 12 / sum(measured), abs=0.011)
    assert [s.camera_movement for s in scenes] == ["static"] * 3  # what the painted shots measured
    for scene in scenes:
        assert all(avoid in scene.negative_prompt for avoid in ("red", "stock photos", "competitors' products"))
        assert "Acme Bottle" in scene.image_prompt and "#ff6600" in scene.image_prompt
        assert "the logo" in scene.image_prompt and "lorem" not in scene.image_prompt.lower()
        assert scene.camera_movement in scene.video_prompt.replace("holds still", "").replace("Static", "static")
    assert "Keeps drinks cold for 24 hours" in scenes[1].image_prompt
    assert scenes[0].text_overlay == "Acme Bottle" and scenes[1].text_overlay is None
    assert scenes[2].text_overlay == "Try Acme Bottle today"


def test_camera_movements_and_durations_are_copied_without_a_target() -> None:
    analysis = _moving_analysis()
    writer = local.writer(None)
    brief = ScenarioBrief(intent=UserIntent(product_name="Acme", language="tr"), analysis=analysis,
                          style_guide=StyleGuide(camera_style="slow zoom in"))
    scenes = writer.scenario(brief)
    assert [s.duration_seconds for s in scenes] == [1.0, 2.0, 0.5, 1.5, 3.0]
    # named movements copied; one the schema does not know takes the style's camera
    assert [s.camera_movement for s in scenes] == ["pan left", "tilt up", "zoom out", "zoom in", "static"]
    assert "pans left" in scenes[0].video_prompt and "tilts up" in scenes[1].video_prompt
    assert scenes[-1].text_overlay == "Acme: hemen deneyin"
    assert writer.scenario(brief) == scenes  # deterministic


def test_without_a_reference_the_intent_sets_the_scenes() -> None:
    writer = local.writer(None)
    counted = writer.scenario(ScenarioBrief(intent=UserIntent(scene_count=3, video_duration=10)))
    assert [s.duration_seconds for s in counted] == [3.34, 3.33, 3.33]
    timed = writer.scenario(ScenarioBrief(intent=UserIntent(video_duration=22)))
    assert [s.duration_seconds for s in timed] == [5.5] * 4
    plain = writer.scenario(ScenarioBrief(intent=UserIntent()))
    assert [s.duration_seconds for s in plain] == [5.0] * 4
    assert [s.scene_index for s in plain] == [0, 1, 2, 3]
    assert all(s.text_overlay is None for s in plain)  # no product name, no overlay
    assert len({s.camera_movement for s in plain}) == 4  # varied, never all static
    assert all(s.image_prompt and s.video_prompt for s in plain)


def test_direct_mode_writes_one_scene_per_asset() -> None:
    assets = ("A red sneaker on a white table", "The sneaker's sole, close up", "A runner lacing up")
    scenes = local.writer(None).scenario(ScenarioBrief(
        intent=UserIntent(product_name="Sprint", video_duration=9), analysis=_moving_analysis(),
        asset_descriptions=assets))
    assert len(scenes) == len(assets)
    assert [s.duration_seconds for s in scenes] == [3.0, 3.0, 3.0]
    for scene, asset in zip(scenes, assets, strict=True):
        assert scene.image_prompt.startswith(asset)


def test_a_long_reference_is_merged_to_the_scene_limit() -> None:
    scenes = [AnalysisScene(index=i + 1, duration_seconds=0.5 + (i % 3)) for i in range(75)]
    analysis = AnalysisResult(scene_count=75, scenes=scenes)
    written = local.writer(None).scenario(ScenarioBrief(intent=UserIntent(video_duration=120),
                                                        analysis=analysis))
    assert len(written) == MAX_SCENES
    assert sum(s.duration_seconds for s in written) == pytest.approx(120.0, abs=1e-9)


# --- writer: style guides ----------------------------------------------------------------------


def test_style_guide_from_text() -> None:
    guide = local.writer(None).style_guide(GUIDE_TEXT)
    assert guide.color_palette == ["#ff6600", "#00aaff", "navy"]  # no red: the text says never
    assert guide.tone == "warm, bold, playful"
    assert guide.tempo == "fast"
    assert guide.camera_style == "slow zoom-ins, handheld"
    assert guide.brand_voice == "warm and witty"
    assert guide.must_include == ["the logo", "the tagline", "a QR code", "end with the website"]
    assert guide.must_avoid == ["red", "competitors' products", "stock photos"]
    assert local.writer(None).style_guide("Hello there.") == StyleGuide()
    listed = local.writer(None).style_guide("Rules:\n- Always show the logo\n- Never use red\n"
                                            "- include: tagline, price\nTone: calm and premium. Pace is slow.")
    assert (listed.must_include, listed.must_avoid) == (["the logo", "tagline", "price"], ["red"])
    assert (listed.tone, listed.tempo, listed.color_palette) == ("calm, premium", "slow", None)


PAGE = LandingPage(url="https://www.acme.io/", title="Acme | Ship videos faster",
                   description="Acme turns scripts into videos.",
                   headings=("Ship videos faster", "Templates for every channel", "Team review"),
                   text="Friendly, modern tools for busy teams. Never miss a deadline.",
                   colors=("#123456", "#FFF", "#123456"), fonts=("Inter",))


def test_landing_style_guide_and_product_info() -> None:
    writer = local.writer(None)
    landing = writer.landing(PAGE, include_product_info=False, mode="landing")
    assert set(landing) == {"styleGuide", "notes"}
    assert landing["styleGuide"] == {
        "tone": "friendly, modern", "color_palette": ["#123456", "#ffffff"],
        "brand_voice": 'as the page writes it: "Ship videos faster"',
        "must_include": ["the brand's typeface (Inter)"]}  # and no "miss a deadline" rule
    with_info = writer.landing(PAGE, include_product_info=True, mode="landing")
    product = {"name": "Acme", "description": "Acme turns scripts into videos.",
               "features": ["Templates for every channel", "Team review"]}
    assert with_info["productInfo"] == product
    feature = writer.landing(PAGE, include_product_info=False, mode="feature")
    assert feature["styleGuide"] == {} and feature["productInfo"] == product
    assert "local provider" in feature["notes"][0]
    brand_last = LandingPage(url="https://acme.io", title="Ship videos faster - Acme")
    assert writer.landing(brand_last, include_product_info=True, mode="feature")["productInfo"]["name"] == "Acme"


# --- images ------------------------------------------------------------------------------------


def test_card_is_in_the_style_guide_palette() -> None:
    guide = StyleGuide(color_palette=["#ff6600", "navy", "brand sky blue"])
    job = ImageJob(prompt="Hero shot of Acme Bottle. Mood: bold.", style_guide=guide, size=PORTRAIT)
    picture = local.images(None).image(job)
    assert picture.mime_type == "image/png" and picture.data.startswith(b"\x89PNG")
    assert picture.note == local.NOTE_CARD
    card = Image.open(io.BytesIO(picture.data))
    assert card.size == (360, 640) and card.format == "PNG"
    pixels = np.asarray(card.convert("RGB"))[:, :, ::-1].reshape(-1, 3)
    measured = palette(np.ascontiguousarray(pixels), 5)
    wanted = ["#ff6600", "#000080", "#87ceeb"]
    for colour in wanted:  # each guide colour is on the card, over a fair share of it
        near = [s for s in measured if colour_distance(s.hex, colour) < 25]
        assert near and near[0].share > 0.04, (colour, measured)
    big = [s for s in measured if s.share > 0.1]
    assert all(min(colour_distance(s.hex, c) for c in wanted) < 25 for s in big), measured
    assert local.images(None).image(job).data == picture.data  # deterministic


def test_card_without_a_palette() -> None:
    picture = local.images(None).image(ImageJob(prompt="A mountain lake at dawn",
                                                size=Resolution(width=320, height=180)))
    card = Image.open(io.BytesIO(picture.data))
    assert card.size == (320, 180) and card.format == "PNG"
    assert np.asarray(card).std() > 10  # procedural art, not a flat fill


# --- videos ------------------------------------------------------------------------------------


def _render(tmp_path: Path, seconds: float, **job: object) -> Path:
    start = local.videos(None).start(VideoJob(image=cv2.imencode(".png", texture(5, (360, 640)))[1].tobytes(), duration_s=seconds,
                                              size=PORTRAIT, **job), tmp_path)  # type: ignore[arg-type]
    assert start.operation is None and start.path is not None and start.path.is_file()
    return start.path


@pytest.mark.parametrize(("job", "label"), [
    ({"prompt": "A lake", "camera_movement": "pan left"}, "pan_left"),
    ({"prompt": "Slowly zooming in on the bottle", "camera_movement": None}, "zoom_in"),
    ({"prompt": "The camera tilts up over the scene: a lake", "camera_movement": None}, "tilt_up"),
    ({"prompt": "The camera tilts down to the bottle", "camera_movement": None}, "tilt_down"),
])
def test_video_moves_the_way_it_says(tmp_path: Path, job: dict, label: str) -> None:
    out = _render(tmp_path, 2.0, **job)
    measured = analyze_reference(out)
    assert measured.scene_count == 1
    assert measured.scenes[0].camera.label == label, measured.scenes[0].camera


def test_video_lasts_the_scene_and_plays(tmp_path: Path) -> None:
    out = _render(tmp_path, 2.3, prompt="A quiet shot")  # no movement named: a gentle zoom in
    assert probe_video(out).duration == pytest.approx(2.3, abs=1 / FPS)
    with av.open(str(out)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264" and stream.codec_context.pix_fmt == "yuv420p"
        assert (stream.codec_context.width, stream.codec_context.height) == (360, 640)
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(frames) == round(2.3 * FPS)
    assert np.abs(frames[-1].astype(int) - frames[0].astype(int)).mean() > 5  # it moves
    Image.fromarray(frames[len(frames) // 2]).save(tmp_path / "middle.png")


def test_tilts_keep_the_window_inside_and_go_the_named_way() -> None:
    up, down = motion.camera_path("tilt_up", 1.0, 30), motion.camera_path("tilt_down", 1.0, 30)
    assert up[0].y > up[-1].y and down[0].y < down[-1].y  # the window rises: the picture slides down
    assert all(v.x == 0.5 for v in up + down)


def test_poll_says_local_videos_are_finished_at_once() -> None:
    with pytest.raises(ProviderError, match="finishes its videos in start"):
        local.videos(None).poll("op-1")
