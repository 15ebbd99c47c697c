"""The local provider's reference analysis, on videos rendered here with known content:
painted colours cut at known times, a textured picture filmed by media.motion's camera
(pan, zoom), big white text drawn with Pillow, Piper speech muxed in."""

from __future__ import annotations

import json
import re
from pathlib import Path

import cv2
import numpy as np
import pytest
from mediagen import colour_distance, hex_rgb, painted_video, texture
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from reelforge.errors import InvalidMediaError
from reelforge.media import analysis as an
from reelforge.media.analysis import analyze_reference, as_contract, frame_motion, movement_label
from reelforge.media.ffmpeg import run_ffmpeg
from reelforge.media.motion import render_motion
from reelforge.media.tts import synthesize

SIZE = (320, 180)
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
# Three painted shots: (colour, seconds).
PAINTED = [("d03030", 1.5), ("30a050", 2.0), ("3040c0", 2.5)]
# What media.motion's camera does in each 2 s shot of the camera video.
MOVES = ["static", "pan_right", "zoom_in", "pan_left", "zoom_out"]
SPOKEN = "Bright colors help the first frame stand out. Short clips keep people watching."


@pytest.fixture(scope="module")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("analysis")


def _encode(args: list, out: Path) -> Path:
    run_ffmpeg([*args, "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", out])
    return out


def _concat(pieces: list[Path], out: Path) -> Path:
    args: list = []
    for piece in pieces:
        args += ["-i", piece]
    labels = "".join(f"[{i}:v]" for i in range(len(pieces)))
    return _encode([*args, "-filter_complex", f"{labels}concat=n={len(pieces)}:v=1:a=0[v]",
                    "-map", "[v]"], out)


def _still(path: Path, picture: np.ndarray | Image.Image) -> Path:
    if isinstance(picture, np.ndarray):
        cv2.imwrite(str(path), picture)
    else:
        picture.save(path)
    return path


def _card(seed: int, text: str | None) -> Image.Image:
    """A blurred texture (calm, like a product backdrop), with big white outlined text or not."""
    rgb = cv2.cvtColor(texture(seed), cv2.COLOR_BGR2RGB)
    card = Image.fromarray(rgb).filter(ImageFilter.GaussianBlur(6))
    if text:
        ImageDraw.Draw(card).text((480, 270), text, font=ImageFont.truetype(str(FONT), 64),
                                  fill="white", anchor="mm", stroke_width=3, stroke_fill="black")
    return card


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


@pytest.fixture(scope="module")
def painted(media_dir: Path) -> an.ReferenceAnalysis:
    return analyze_reference(painted_video(media_dir / "painted.mp4", PAINTED))


@pytest.fixture(scope="module")
def camera(media_dir: Path) -> an.ReferenceAnalysis:
    pieces = []
    for i, move in enumerate(MOVES):  # a different picture per shot, so every switch is a cut
        still = _still(media_dir / f"texture{i}.png", texture(i))
        pieces.append(render_motion(still, frames=60, size=SIZE, movement=move, strength=0.5,
                                    out=media_dir / f"move{i}.mp4"))
    return analyze_reference(_concat(pieces, media_dir / "camera.mp4"))


@pytest.fixture(scope="module")
def texts(media_dir: Path) -> an.ReferenceAnalysis:
    """Shots: text on a calm backdrop, the calm backdrop alone, a busy texture, text again."""
    stills = [_card(10, "SUMMER SALE"), _card(11, None), texture(12), _card(13, "50% OFF TODAY")]
    pieces = [render_motion(_still(media_dir / f"card{i}.png", s), frames=45, size=SIZE,
                            out=media_dir / f"card{i}.mp4") for i, s in enumerate(stills)]
    return analyze_reference(_concat(pieces, media_dir / "text.mp4"))


def test_painted_cuts_give_the_scenes_and_their_durations(painted: an.ReferenceAnalysis) -> None:
    assert painted.scene_count == 3 == len(painted.scenes)
    start = 0.0
    for scene, (_, seconds) in zip(painted.scenes, PAINTED, strict=True):
        assert scene.start == pytest.approx(start, abs=0.2)
        assert scene.duration == pytest.approx(seconds, abs=0.2)
        start += seconds
    assert [s.index for s in painted.scenes] == [1, 2, 3]
    assert painted.duration == pytest.approx(6.0, abs=0.1)
    assert painted.average_shot_s == pytest.approx(2.0, abs=0.05)
    assert painted.median_shot_s == pytest.approx(2.0, abs=0.2)
    assert painted.cuts == 2
    assert painted.cuts_per_minute == pytest.approx(20.0, abs=0.5)
    assert painted.tempo == "fast"


def test_palette_holds_the_painted_colours_in_proportion(painted: an.ReferenceAnalysis) -> None:
    palette = painted.colours.palette
    assert len(palette) == 3
    assert [s.share for s in palette] == sorted((s.share for s in palette), reverse=True)
    total = sum(seconds for _, seconds in PAINTED)
    for colour, seconds in PAINTED:
        nearest = min(palette, key=lambda s: colour_distance(s.hex, colour))
        assert colour_distance(nearest.hex, colour) < 20, (colour, palette)
        assert nearest.share == pytest.approx(seconds / total, abs=0.05)
    for scene, (colour, _) in zip(painted.scenes, PAINTED, strict=True):
        assert colour_distance(scene.palette[0].hex, colour) < 20
        assert scene.palette[0].share > 0.95
    # A flat colour has nothing to track or read.
    assert all(s.camera.label == "static" and s.camera.pairs == 0 for s in painted.scenes)
    assert all(s.text_overlay_likelihood == 0.0 for s in painted.scenes)
    assert not painted.has_text_overlay
    assert "too little texture" in painted.scenes[0].description


def test_overall_colour_numbers(painted: an.ReferenceAnalysis) -> None:
    rgb = np.array([hex_rgb(c) for c, _ in PAINTED])
    weights = np.array([s for _, s in PAINTED]) / 6.0
    luma = float((rgb @ [0.299, 0.587, 0.114]) @ weights / 255)
    warmth = float((rgb[:, 0] - rgb[:, 2]) @ weights / 255)
    assert painted.colours.brightness == pytest.approx(luma, abs=0.03)
    assert painted.colours.warmth == pytest.approx(warmth, abs=0.03)
    assert painted.colours.saturation > 0.6  # all three are strong colours
    assert painted.colours.words == "mid-tone, vivid, cool"


@pytest.mark.parametrize(
    ("per_minute", "label"),
    [(0.0, "slow"), (7.9, "slow"), (8.0, "moderate"), (15.9, "moderate"), (16.0, "fast"),
     (29.9, "fast"), (30.0, "very fast"), (120.0, "very fast")],
)
def test_tempo_thresholds(per_minute: float, label: str) -> None:
    assert an.tempo_label(per_minute) == label


def test_tempo_follows_the_cut_rate(media_dir: Path) -> None:
    quick = analyze_reference(painted_video(
        media_dir / "quick.mp4", [("d03030", 0.8), ("30a050", 0.8), ("3040c0", 0.8),
                                  ("e0e020", 0.8), ("202020", 0.8)]))
    assert quick.scene_count == 5
    assert quick.cuts_per_minute == pytest.approx(60.0, abs=3)
    assert quick.tempo == "very fast"
    still = analyze_reference(painted_video(media_dir / "still.mp4", [("3040c0", 3.0)]))
    assert (still.scene_count, still.cuts, still.tempo) == (1, 0, "slow")
    assert as_contract(quick)["tempo"] == "fast" and as_contract(still)["tempo"] == "slow"


def test_camera_movement_per_scene(camera: an.ReferenceAnalysis) -> None:
    assert camera.scene_count == len(MOVES)
    for scene, move in zip(camera.scenes, MOVES, strict=True):
        assert scene.camera.label == move, (scene.index, scene.camera)
        assert scene.camera.confidence >= 0.6
        assert scene.camera.pairs >= 6
    pan_right, zoom_in, pan_left, zoom_out = (camera.scenes[i].camera for i in (1, 2, 3, 4))
    # The picture slides the other way from the camera: left for a pan right.
    assert pan_right.pan < -an.MOVE_MIN and pan_left.pan > an.MOVE_MIN
    assert zoom_in.zoom > 0 > zoom_out.zoom
    # media.motion pans 10% of the width over 2 s at strength 0.5 (5%/s; eased ends).
    assert pan_right.magnitude == pytest.approx(0.05, rel=0.3)
    assert "scene 2 pans right" in camera.describe()
    assert "camera pans right" in camera.scenes[1].description
    assert [s["camera_movement"] for s in as_contract(camera)["scenes"]] == [
        "static", "pan right", "zoom in", "pan left", "zoom out"]


@pytest.mark.parametrize(
    ("shift", "zoom", "label"),
    [((0, 0), 1.0, "static"), ((4, 0), 1.0, "pan_left"), ((-4, 0), 1.0, "pan_right"),
     ((0, 4), 1.0, "tilt_up"), ((0, -4), 1.0, "tilt_down"), ((0, 0), 1.03, "zoom_in"),
     ((0, 0), 1 / 1.03, "zoom_out")],
)
def test_sign_convention_of_frame_motion(shift: tuple[int, int], zoom: float, label: str) -> None:
    """Content moving right (+dx) is the camera panning left; moving down, tilting up."""
    big = cv2.cvtColor(texture(7, (480, 270)), cv2.COLOR_BGR2GRAY)
    w, h = 320, 180
    x0, y0 = 80, 45

    def view(dx: float, dy: float, scale: float) -> np.ndarray:
        # The picture, `scale` times bigger and moved by (dx, dy), seen through a fixed window.
        m = np.array([[scale, 0, (1 - scale) * (x0 + w / 2) + dx - x0],
                      [0, scale, (1 - scale) * (y0 + h / 2) + dy - y0]], np.float32)
        return cv2.warpAffine(big, m, (w, h), flags=cv2.INTER_LINEAR)

    prev, cur = view(0, 0, 1.0), view(shift[0], shift[1], zoom)
    dx, dy, log_scale = frame_motion(prev, cur)
    assert dx == pytest.approx(shift[0], abs=0.3)
    assert dy == pytest.approx(shift[1], abs=0.3)
    assert log_scale == pytest.approx(np.log(zoom), abs=0.003)
    rate = an.ANALYSIS_FPS
    assert movement_label(dx / w * rate, dy / w * rate, log_scale * rate) == label


def test_frame_motion_needs_texture() -> None:
    flat = np.full((180, 320), 128, np.uint8)
    assert frame_motion(flat, flat) is None


def test_text_overlay_likelihood(texts: an.ReferenceAnalysis) -> None:
    assert texts.scene_count == 4
    with_text, calm, busy, more_text = (s.text_overlay_likelihood for s in texts.scenes)
    assert with_text >= 0.6 and more_text >= 0.6
    assert calm <= 0.2 and busy <= 0.2
    assert [s.has_text_overlay for s in texts.scenes] == [True, False, False, True]
    assert texts.has_text_overlay and as_contract(texts)["has_text_overlay"] is True
    assert "Text overlay likely in scenes 1, 4." in texts.describe()


def test_contract_shape(camera: an.ReferenceAnalysis) -> None:
    result = as_contract(camera)
    json.dumps(result)  # plain JSON
    assert set(result) == {"scene_count", "overall_tone", "color_palette", "tempo",
                           "has_text_overlay", "scenes", "notes"}
    assert result["scene_count"] == len(result["scenes"]) == 5
    assert result["tempo"] in ("fast", "medium", "slow")
    assert all(re.fullmatch(r"#[0-9a-f]{6}", c) for c in result["color_palette"])
    assert result["color_palette"] == [s.hex for s in camera.colours.palette]
    assert [s["index"] for s in result["scenes"]] == [1, 2, 3, 4, 5]  # 1-based, as AutoVio's
    for scene in result["scenes"]:
        assert set(scene) == {"index", "duration_seconds", "description", "transition",
                              "camera_movement"}
        assert scene["transition"] == "cut"
        assert scene["description"].startswith(f"Scene {scene['index']}, ")
    assert sum(s["duration_seconds"] for s in result["scenes"]) == pytest.approx(10.0, abs=0.1)
    assert any("measured offline" in n for n in result["notes"])
    assert "cutting" in result["overall_tone"]


def test_describe_says_what_was_measured(painted: an.ReferenceAnalysis) -> None:
    text = painted.describe()
    assert text.startswith("3 scenes over 6.0 s, average shot 2.0 s")
    assert "20 cuts per minute: fast cutting" in text
    assert f"Palette dominated by {painted.colours.palette[0].hex} (" in text
    assert "Camera: static throughout." in text
    assert "No text overlay detected." in text
    assert "nothing in the video was recognised" in text
    assert "Speech" not in text  # style transfer does not listen


def test_palette_is_deterministic() -> None:
    rng = np.random.default_rng(3)
    pixels = rng.integers(0, 256, (5000, 3)).astype(np.uint8)
    assert an.palette(pixels) == an.palette(pixels)
    two = np.array([[0, 0, 255]] * 300 + [[255, 0, 0]] * 100, np.uint8)  # BGR: red, blue
    assert [(s.hex, s.share) for s in an.palette(two)] == [("#ff0000", 0.75), ("#0000ff", 0.25)]


@pytest.fixture(scope="module")
def spoken(media_dir: Path) -> Path:
    speech = synthesize(SPOKEN, media_dir / "spoken.wav")
    seconds = speech.duration + 0.5
    return _encode(["-f", "lavfi", "-i", f"color=c=0x3040c0:s={SIZE[0]}x{SIZE[1]}:r=30:d={seconds}",
                    "-i", speech.path, "-map", "0:v", "-map", "1:a", "-c:a", "aac", "-t",
                    f"{seconds}"], media_dir / "spoken.mp4")


def test_content_remix_transcribes_the_speech(spoken: Path) -> None:
    result = analyze_reference(spoken, mode="content_remix", whisper_model="tiny.en")
    assert result.speech is not None
    heard = set(_words(result.speech.text))
    wanted = _words(SPOKEN)
    assert sum(w in heard for w in wanted) / len(wanted) >= 0.7, result.speech.text
    assert result.speech.language == "en"
    assert result.scenes[0].speech and "frame" in _words(result.scenes[0].speech)
    assert 'Speech (en): "' in result.describe()
    assert any(n.startswith("speech: faster-whisper tiny.en") for n in as_contract(result)["notes"])


def test_speech_is_skipped_for_style_transfer_and_without_audio(spoken: Path,
                                                                media_dir: Path) -> None:
    assert analyze_reference(spoken).speech is None  # style_transfer by default
    mute = painted_video(media_dir / "mute.mp4", [("3040c0", 1.0)])
    assert analyze_reference(mute, mode="content_remix").speech is None
    assert analyze_reference(mute, speech=True).speech is None


def test_bad_input(media_dir: Path) -> None:
    notes = media_dir / "notes.mp4"
    notes.write_text("not a video")
    with pytest.raises(InvalidMediaError):
        analyze_reference(notes)
    wav = media_dir / "tone.wav"
    run_ffmpeg(["-f", "lavfi", "-i", "sine=f=440:d=1", wav])
    with pytest.raises(InvalidMediaError, match="no video stream"):
        analyze_reference(wav)
    with pytest.raises(ValueError, match="style_transfer, content_remix"):
        analyze_reference(notes, mode="remix")
    with pytest.raises(ValueError, match="max_frames"):
        analyze_reference(notes, max_frames=0)


def test_progress_reaches_one(media_dir: Path) -> None:
    seen: list[float] = []
    analyze_reference(painted_video(media_dir / "progress.mp4", [("d03030", 1.0)]),
                      on_progress=seen.append)
    assert seen and seen[-1] == 1.0 and seen == sorted(seen)


def test_a_subject_moving_in_a_still_shot_is_not_a_camera_move() -> None:
    background = cv2.cvtColor(texture(8, (320, 180)), cv2.COLOR_BGR2GRAY)
    subject = cv2.cvtColor(texture(9, (70, 70)), cv2.COLOR_BGR2GRAY)
    prev, cur = background.copy(), background.copy()
    prev[50:120, 100:170] = subject
    cur[50:120, 108:178] = subject  # the subject walks 8 px right; the camera holds
    dx, dy, log_scale = frame_motion(prev, cur)
    assert abs(dx) < 0.3 and abs(dy) < 0.3 and abs(log_scale) < 0.003
    assert movement_label(dx / 320 * 5, dy / 320 * 5, log_scale * 5) == "static"
