"""Region edits: intent parsing, the ffmpeg renderer on a real clip, and the Gemini reader."""

from __future__ import annotations

import itertools
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from pydantic import ValidationError

from reelforge.editor.region import render as region
from reelforge.editor.region.gemini import GeminiRegionProvider
from reelforge.editor.region.render import (
    BoundingBox,
    LocalRegionProvider,
    RegionIntent,
    box_mask,
    frame_window,
    parse_intent,
    read_frames,
    render_variants,
    zoom_window,
)
from reelforge.errors import (
    MediaProcessingError,
    ProviderError,
    TransientError,
    UnsupportedPromptError,
)
from reelforge.media.ffmpeg import run_ffmpeg
from reelforge.media.probe import probe

KEY = "AIzaTEST-not-a-real-key-0123456789"  # the fake_gemini fixture's key
W, H, FPS = 320, 240, 25
# Over testsrc2's moving diagonal and noise checkers: texture to blur, sharpen and pixelate.
BOX = BoundingBox(x=150, y=120, width=140, height=100)
START, END = 0.5, 1.5
SAMPLES = 5


# --------------------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    ("prompt", "kind"),
    [
        ("blur the face", "blur"),
        ("Make it BLURRY", "blur"),
        ("put the plate out of focus", "blur"),
        ("soften the background", "blur"),
        ("pixelate the licence plate", "pixelate"),
        ("mosaic over the logo", "pixelate"),
        ("censor the face", "pixelate"),
        ("make the logo unreadable", "pixelate"),
        ("anonymise this person", "pixelate"),
        ("brighten the face", "brighten"),
        ("make it lighter", "brighten"),
        ("increase the brightness", "brighten"),
        ("darken the sky", "darken"),
        ("dim it", "darken"),
        ("lower the exposure", "darken"),
        ("black and white", "greyscale"),
        ("make it Grayscale", "greyscale"),
        ("B&W please", "greyscale"),
        ("desaturate the shirt", "greyscale"),
        ("remove the colour", "greyscale"),
        ("sharpen the text", "sharpen"),
        ("make it crisper", "sharpen"),
        ("remove the blur", "sharpen"),
        ("highlight the speaker", "spotlight"),
        ("spotlight on the product", "spotlight"),
        ("dim the background", "spotlight"),
        ("draw attention to the logo", "spotlight"),
        ("zoom in on the logo", "zoom"),
        ("close-up of the face", "zoom"),
        ("magnify this", "zoom"),
        # a technique beats a goal word; otherwise the earliest word wins
        ("censor it with a blur", "blur"),
        ("hide the face by pixelating it", "pixelate"),
        ("make the face blurry and red", "blur"),
    ],
)
def test_parse_intent_words_and_synonyms(prompt, kind):
    intent = parse_intent(prompt)
    assert intent.kind == kind
    assert intent.matched and intent.matched.lower() in prompt.lower()


@pytest.mark.parametrize(
    ("prompt", "colour"),
    [
        ("tint the sky blue", "blue"),
        ("make the shirt RED", "red"),
        ("recolour it to #ff00aa", "#ff00aa"),
        ("colour it aqua", "cyan"),
        ("sepia", "sepia"),
    ],
)
def test_parse_tint_colours(prompt, colour):
    intent = parse_intent(prompt)
    assert (intent.kind, intent.colour) == ("tint", colour)
    assert intent.rgb is not None and len(intent.rgb) == 3


@pytest.mark.parametrize(
    ("prompt", "text"),
    [
        ('add text "SALE 50%"', "SALE 50%"),
        ("add a caption: Hello world", "Hello world"),
        ("add text saying big news!", "big news"),
        ("caption: Hi there", "Hi there"),
        ("put the title “Chapter 2” here", "Chapter 2"),
        ('add text "blur"', "blur"),  # quoted words are never read as commands
        ("write the words 'zoom in' over it", "zoom in"),
    ],
)
def test_parse_text(prompt, text):
    intent = parse_intent(prompt)
    assert (intent.kind, intent.text) == ("text", text)


def test_quoted_words_do_not_pick_the_intent():
    assert parse_intent('blur the sign that says "zoom"').kind == "blur"
    assert parse_intent("blur the text").kind == "blur"
    assert parse_intent("add blur to the text").kind == "blur"


def test_unsupported_prompt_lists_capabilities():
    with pytest.raises(UnsupportedPromptError) as caught:
        parse_intent("replace the sky with fireworks")
    message = str(caught.value)
    assert message.startswith(
        "the local provider cannot do 'replace the sky with fireworks'; it can: blur, pixelate"
    )
    for capability in ("brighten", "darken", "tint <colour>", "greyscale", "sharpen",
                       "highlight", "zoom in", 'add text "..."'):  # fmt: skip
        assert capability in message


@pytest.mark.parametrize(
    ("prompt", "needle"),
    [("tint it", "a tint needs a colour"), ("add text", "put them in quotes"), ("  ", "empty")],
)
def test_incomplete_prompts_say_what_is_missing(prompt, needle):
    with pytest.raises(UnsupportedPromptError, match=needle):
        parse_intent(prompt)


def test_intent_validation():
    with pytest.raises(ValidationError, match="needs a colour"):
        RegionIntent(kind="tint")
    with pytest.raises(ValidationError, match="unknown colour 'chartreuse'"):
        RegionIntent(kind="tint", colour="chartreuse")
    with pytest.raises(ValidationError, match="needs the text"):
        RegionIntent(kind="text", text="   ")
    assert RegionIntent(kind="text", text=" two\n lines ").text == "two lines"


# --------------------------------------------------------------------------- the box


def test_box_fields_are_validated():
    with pytest.raises(ValidationError):
        BoundingBox(x=0, y=0, width=0, height=10)
    with pytest.raises(ValidationError):
        BoundingBox(x=0, y=0, width=10, height=-5)
    with pytest.raises(ValidationError):
        BoundingBox(x=float("nan"), y=0, width=10, height=10)


@pytest.mark.parametrize(
    "box",
    [
        BoundingBox(x=1200, y=10, width=100, height=50),
        BoundingBox(x=-20, y=10, width=100, height=50),
        BoundingBox(x=10, y=700, width=100, height=50),
    ],
)
def test_box_outside_the_frame(box):
    with pytest.raises(ValueError) as caught:
        box.check_inside(1280, 720)
    assert str(caught.value) == (
        f"bounding box (x={box.x:g}, y={box.y:g}, width={box.width:g}, "
        f"height={box.height:g}) is outside the 1280x720 frame"
    )


def test_box_in_fractions_is_refused_with_a_hint():
    with pytest.raises(ValueError, match="pixels of the 1280x720 frame, not fractions"):
        BoundingBox(x=0.1, y=0.1, width=0.5, height=0.5).check_inside(1280, 720)


def test_box_snaps_to_even_pixels_inside_the_frame():
    assert BoundingBox(x=11, y=7, width=31, height=20).to_pixels(320, 240) == (10, 6, 32, 22)
    assert BoundingBox(x=0, y=0, width=320, height=240.4).to_pixels(320, 240) == (0, 0, 320, 240)


def test_zoom_window_keeps_the_aspect_and_stays_inside():
    tight = zoom_window(region.PixelBox(300, 200, 20, 40), (320, 240), 1.0)
    assert tight.w / tight.h == pytest.approx(320 / 240, abs=0.05)
    assert tight.x + tight.w <= 320 and tight.y + tight.h <= 240
    assert zoom_window(region.PixelBox(10, 10, 40, 30), (320, 240), 0.0) == (0, 0, 320, 240)


# --------------------------------------------------------------------------- rendering


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    """2 s of testsrc2 (moving content) with a sine tone, 320x240 at 25 fps."""
    path = tmp_path_factory.mktemp("region") / "source.mp4"
    run_ffmpeg(
        [
            "-f", "lavfi", "-i", f"testsrc2=s={W}x{H}:r={FPS}:d=2",
            "-f", "lavfi", "-i", "sine=f=440:r=44100:d=2",
            "-c:v", "libx264", "-preset", "ultrafast", "-crf", "18", "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-shortest", path,
        ]
    )  # fmt: skip
    return path


_RENDERS: dict[str, list[region.Variant]] = {}


@pytest.fixture(scope="module")
def rendered(source, tmp_path_factory):
    """Variants per prompt, rendered once per module."""
    out = tmp_path_factory.mktemp("variants")

    def get(prompt: str) -> list[region.Variant]:
        if prompt not in _RENDERS:
            intent = parse_intent(prompt)
            _RENDERS[prompt] = render_variants(
                source, out / intent.kind, start=START, end=END, box=BOX, intent=intent
            )
        return _RENDERS[prompt]

    yield get
    _RENDERS.clear()


def _frames(source: Path, variant: Path) -> tuple[list[np.ndarray], list[np.ndarray]]:
    window = frame_window(source, START, END)
    times = window.sample_times(SAMPLES)
    return read_frames(source, [window.source_time(t) for t in times]), read_frames(variant, times)


def _diff(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs(a.astype(np.int16) - b.astype(np.int16)).max(axis=2)


def _crop(a: np.ndarray) -> np.ndarray:
    x, y, w, h = BOX.to_pixels(W, H)
    return a[y : y + h, x : x + w]


def _gray(a: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(a, cv2.COLOR_RGB2GRAY)


def _sharpness(a: np.ndarray) -> float:
    return float(cv2.Laplacian(_gray(_crop(a)), cv2.CV_64F).var())


def _mean(values) -> float:
    return float(np.mean(list(values)))


PROMPTS = {
    "blur": "blur the face",
    "pixelate": "pixelate the plate",
    "brighten": "brighten it",
    "darken": "darken it",
    "tint": "tint it red",
    "greyscale": "black and white",
    "sharpen": "sharpen the text",
    "spotlight": "highlight the speaker",
    "zoom": "zoom in on it",
    "text": 'add text "SALE"',
}


@pytest.mark.parametrize("kind", list(PROMPTS))
def test_variants_are_the_window_with_the_source_format(kind, source, rendered):
    variants = rendered(PROMPTS[kind])
    assert len(variants) == 3
    assert [v.strength for v in variants] == sorted(v.strength for v in variants)
    for v in variants:
        info = probe(v.path)
        assert (info.width, info.height, info.fps) == (W, H, FPS)
        assert info.video_codec == "h264" and info.audio_codec == "aac" and info.has_audio
        with av.open(str(v.path)) as c:
            stream = c.streams.video[0]
            frames = stream.frames
            video_s = float(stream.duration * stream.time_base)
        assert abs(frames - (END - START) * FPS) <= 1
        assert video_s == pytest.approx(END - START, abs=1 / FPS + 1e-6)
        assert info.duration == pytest.approx(END - START, abs=0.06)  # AAC frame granularity
        preview = cv2.imread(str(v.preview_jpg))
        assert preview is not None and preview.shape == (H, W, 3)
        assert v.provider == "local" and v.label and v.filter.startswith("[0:v]")


@pytest.mark.parametrize("kind", [k for k in PROMPTS if k not in ("spotlight", "zoom")])
def test_effect_stays_inside_the_box(kind, source, rendered):
    for v in rendered(PROMPTS[kind]):
        before, after = _frames(source, v.path)
        inside = box_mask(before[0].shape, BOX.to_pixels(W, H))
        diffs = [_diff(a, b) for a, b in zip(before, after, strict=True)]
        changed_in = _mean(d[inside].mean() for d in diffs)
        changed_out = _mean(d[~inside].mean() for d in diffs)
        assert changed_out < 3.0, f"{v.label}: outside the box changed {changed_out:.2f}"
        assert changed_in > 2 * changed_out + 2, f"{v.label}: inside {changed_in:.2f}"


def test_blur_lowers_sharpness_more_with_sigma(source, rendered):
    ratios = []
    for v in rendered(PROMPTS["blur"]):
        before, after = _frames(source, v.path)
        ratios.append(_mean(map(_sharpness, after)) / _mean(map(_sharpness, before)))
    assert all(r < 0.3 for r in ratios), ratios
    assert ratios == sorted(ratios, reverse=True)


def test_sharpen_raises_sharpness(source, rendered):
    for v in rendered(PROMPTS["sharpen"]):
        before, after = _frames(source, v.path)
        assert _mean(map(_sharpness, after)) > 1.5 * _mean(map(_sharpness, before)), v.label


def _flat_pairs(a: np.ndarray) -> float:
    """Share of horizontally neighbouring pixels within 3 levels: blocks are flat inside."""
    g = _gray(_crop(a)).astype(np.int16)
    return float((np.abs(np.diff(g, axis=1)) <= 3).mean())


def test_pixelate_makes_blocks(source, rendered):
    flats = []
    for v in rendered(PROMPTS["pixelate"]):
        before, after = _frames(source, v.path)
        flat_before, flat_after = _mean(map(_flat_pairs, before)), _mean(map(_flat_pairs, after))
        flats.append(flat_after)
        assert flat_after > flat_before + 0.04, v.label
        # the detail below the block size is gone
        assert _mean(map(_sharpness, after)) < 0.5 * _mean(map(_sharpness, before))
    assert flats == sorted(flats), "bigger blocks, flatter box"
    # the block edges are hard, not the soft ramps a blur leaves
    x, y, w, h = BOX.to_pixels(W, H)
    biggest = read_frames(rendered(PROMPTS["pixelate"])[-1].path, [0.5])[0]
    steps = np.abs(np.diff(_gray(_crop(biggest)).astype(np.int16), axis=1))
    assert ((steps <= 3) | (steps > 8)).mean() > 0.95


@pytest.mark.parametrize(("kind", "sign"), [("brighten", 1), ("darken", -1)])
def test_exposure_moves_the_luma_in_the_box(kind, sign, source, rendered):
    deltas = []
    for v in rendered(PROMPTS[kind]):
        before, after = _frames(source, v.path)
        deltas.append(
            _mean(_gray(_crop(a)).mean() for a in after)
            - _mean(_gray(_crop(b)).mean() for b in before)
        )
    assert all(sign * d > 8 for d in deltas), deltas
    assert [sign * d for d in deltas] == sorted(sign * d for d in deltas)


def test_tint_pushes_the_box_toward_the_colour(source, rendered):
    def redness(a: np.ndarray) -> float:
        px = _crop(a).reshape(-1, 3).astype(float)
        return float((px[:, 0] - (px[:, 1] + px[:, 2]) / 2).mean())

    for v in rendered(PROMPTS["tint"]):
        before, after = _frames(source, v.path)
        assert _mean(map(redness, after)) > _mean(map(redness, before)) + 15, v.label


def test_greyscale_removes_the_colour_in_the_box(source, rendered):
    def saturation(a: np.ndarray) -> float:
        return float(cv2.cvtColor(_crop(a), cv2.COLOR_RGB2HSV)[..., 1].mean() / 255)

    for v in rendered(PROMPTS["greyscale"]):
        before, after = _frames(source, v.path)
        assert _mean(map(saturation, before)) > 0.5
        assert _mean(map(saturation, after)) < 0.15, v.label


TEXT_COLOURS = {"white": (255, 255, 255), "yellow": (255, 212, 0), "dark": (17, 17, 17)}


def test_text_draws_letters_in_the_box(source, rendered):
    for v in rendered(PROMPTS["text"]):
        before, after = _frames(source, v.path)

        colour = next(c for name, c in TEXT_COLOURS.items() if name in v.label)

        def letter_pixels(frames: list[np.ndarray], colour=colour) -> float:
            """Share of box pixels in the font colour: the drawn letters."""
            return _mean(
                (np.abs(_crop(a).astype(np.int16) - colour).max(axis=2) < 40).mean() for a in frames
            )

        assert letter_pixels(after) > letter_pixels(before) + 0.03, v.label


def test_spotlight_dims_only_outside_the_box(source, rendered):
    for v in rendered(PROMPTS["spotlight"]):
        before, after = _frames(source, v.path)
        inside = box_mask(before[0].shape, BOX.to_pixels(W, H))
        luma_out = [
            (_gray(a)[~inside].mean(), _gray(b)[~inside].mean())
            for a, b in zip(after, before, strict=True)
        ]
        assert _mean(a / b for a, b in luma_out) < 0.75, v.label
        assert _mean(_diff(a, b)[inside].mean() for a, b in zip(before, after, strict=True)) < 5


def test_zoom_fills_the_frame_with_the_box(source, rendered):
    tight = rendered(PROMPTS["zoom"])[-1]
    before, after = _frames(source, tight.path)
    crop = zoom_window(BOX.to_pixels(W, H), (W, H), 1.0)
    for a, b in zip(after, before, strict=True):
        expected = cv2.resize(b[crop.y : crop.y + crop.h, crop.x : crop.x + crop.w], (W, H))
        assert _diff(a, expected).mean() < 10
        assert _diff(a, b).mean() > 30


@pytest.mark.parametrize("kind", list(PROMPTS))
def test_variants_differ_from_each_other(kind, source, rendered):
    variants = rendered(PROMPTS[kind])
    frames = [read_frames(v.path, [0.5])[0] for v in variants]
    for (va, a), (vb, b) in itertools.combinations(zip(variants, frames, strict=True), 2):
        assert _diff(a, b).mean() > 0.5, (va.label, vb.label)


def test_box_outside_the_frame_is_refused_before_rendering(source, tmp_path):
    with pytest.raises(ValueError, match="is outside the 320x240 frame"):
        render_variants(
            source, tmp_path, start=0, end=1,
            box=BoundingBox(x=300, y=10, width=100, height=50), intent=parse_intent("blur"),
        )  # fmt: skip
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("start", "end"), [(1.0, 1.0), (-1, 1), (5.0, 6.0), (1.0, 1.01)])
def test_bad_windows(source, tmp_path, start, end):
    with pytest.raises(ValueError):
        render_variants(
            source, tmp_path, start=start, end=end, box=BOX, intent=parse_intent("blur")
        )


def test_a_no_op_filter_is_never_returned(source, tmp_path, monkeypatch):
    def no_op(intent, box, frame, workdir):
        return [region.Preset("does nothing", 1.0, region.in_box_graph(box, "null"))]

    monkeypatch.setattr(region, "build_presets", no_op)
    with pytest.raises(MediaProcessingError, match="left the box unchanged"):
        render_variants(source, tmp_path, start=0, end=1, box=BOX, intent=parse_intent("blur"))
    assert not list(tmp_path.glob("*.mp4"))


def test_zoom_into_the_whole_frame_is_refused(source, tmp_path):
    with pytest.raises(UnsupportedPromptError, match="nothing to zoom into"):
        render_variants(
            source, tmp_path, start=0, end=1,
            box=BoundingBox(x=0, y=0, width=W, height=H), intent=parse_intent("zoom in"),
        )  # fmt: skip


def test_count_picks_from_the_presets(source, tmp_path):
    [only] = render_variants(
        source, tmp_path, start=0, end=0.4, box=BOX, intent=parse_intent("blur"), count=1
    )
    assert only.label == "blur, sigma 12" and only.path.name == "blur_1.mp4"
    with pytest.raises(ValueError, match="count must be 1..3"):
        render_variants(
            source, tmp_path, start=0, end=1, box=BOX, intent=parse_intent("blur"), count=4
        )


def test_source_without_audio_gets_a_silent_track(tmp_path):
    silent = tmp_path / "silent.mp4"
    run_ffmpeg(["-f", "lavfi", "-i", "testsrc2=s=160x120:r=30:d=1", "-pix_fmt", "yuv420p", silent])
    [v] = LocalRegionProvider().edit(
        silent, tmp_path / "out", start=0.2, end=0.8,
        box=BoundingBox(x=20, y=20, width=60, height=60), prompt="pixelate", count=1,
    )  # fmt: skip
    info = probe(v.path)
    assert info.has_audio and (info.width, info.height) == (160, 120)


# --------------------------------------------------------------------------- Gemini reads


@pytest.fixture
def gemini(fake_gemini) -> GeminiRegionProvider:
    return GeminiRegionProvider(KEY, base_url=fake_gemini.base_url, timeout_s=5)


def _answer(**kw):
    return {"supported": True, "intent": None, "colour": None, "text": None, "reason": "ok", **kw}


def test_gemini_maps_free_wording_to_an_intent_and_renders(fake_gemini, gemini, source, tmp_path):
    fake_gemini.reply_json(_answer(intent="pixelate", reason="unreadable means pixelate"))
    [v] = gemini.edit(
        source, tmp_path, start=0, end=0.4, box=BOX, prompt="make the logo unreadable", count=1
    )
    assert v.provider == "gemini" and v.label.startswith("pixelate")
    [request] = fake_gemini.requests
    assert request.path == "/v1beta/models/gemini-2.5-flash:generateContent"
    assert "make the logo unreadable" in request.prompt_text
    schema = request.generation_config["responseSchema"]
    assert set(schema["properties"]) == {"supported", "intent", "colour", "text", "reason"}
    assert "pixelate" in schema["properties"]["intent"]["enum"]


def test_gemini_tint_and_text_parameters(fake_gemini, gemini):
    fake_gemini.reply_json(_answer(intent="tint", colour="Orange"))
    assert gemini.interpret("give it a sunset glow").describe() == "tint orange"
    fake_gemini.reply_json(_answer(intent="text", text="SALE"))
    assert gemini.interpret("put SALE in the corner").text == "SALE"


def test_gemini_unsupported_raises_with_its_reason(fake_gemini, gemini):
    fake_gemini.reply_json(
        {"supported": False, "intent": None, "reason": "needs generating new content"}
    )
    with pytest.raises(UnsupportedPromptError) as caught:
        gemini.interpret("replace the sky with fireworks")
    assert "needs generating new content" in str(caught.value)
    assert "it can: blur, pixelate" in str(caught.value)


def test_gemini_invalid_then_valid_retries_once(fake_gemini, gemini):
    fake_gemini.reply_json(_answer(intent="tint", colour="chartreuse")).reply_json(
        _answer(intent="tint", colour="green")
    )
    assert gemini.interpret("make it chartreuse").colour == "green"
    assert len(fake_gemini.requests) == 2
    correction = fake_gemini.requests[1].body["contents"][-1]["parts"][0]["text"]
    assert "unknown colour 'chartreuse'" in correction


def test_gemini_invalid_twice_is_a_provider_error(fake_gemini, gemini):
    fake_gemini.reply_text("Sure, blur it!").reply_json({"supported": True})
    with pytest.raises(ProviderError, match="unusable region intents twice"):
        gemini.interpret("blur it")


def test_gemini_throttling_is_transient_and_keys_stay_secret(fake_gemini, gemini):
    fake_gemini.reply_error(429)
    with pytest.raises(TransientError, match="429"):
        gemini.interpret("blur it")
    fake_gemini.reply_error(403, f"API key {KEY} is not authorized")
    with pytest.raises(ProviderError) as caught:
        gemini.interpret("blur it")
    assert KEY not in str(caught.value) and KEY not in repr(gemini)


def test_brightening_a_white_wall_is_refused(tmp_path):
    white = tmp_path / "white.mp4"
    run_ffmpeg(
        ["-f", "lavfi", "-i", "color=c=white:s=160x120:r=25:d=1", "-pix_fmt", "yuv420p", white]
    )
    with pytest.raises(MediaProcessingError, match="brighten variant .* left the box unchanged"):
        render_variants(
            white, tmp_path / "out", start=0, end=0.5,
            box=BoundingBox(x=20, y=20, width=60, height=60), intent=parse_intent("brighten"),
        )  # fmt: skip
    assert not list((tmp_path / "out").glob("*.mp4"))


def test_a_source_with_a_late_start_time_stays_frame_exact(tmp_path):
    """MPEG-TS starts its clock at ~1.4 s and seeks inexactly: trim on timestamps copes."""
    ts = tmp_path / "source.ts"
    run_ffmpeg(
        [
            "-f", "lavfi", "-i", f"testsrc2=s={W}x{H}:r=25:d=3", "-f", "lavfi", "-i", "sine=d=3",
            "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-c:a", "aac", "-f", "mpegts", ts,
        ]
    )  # fmt: skip
    with av.open(str(ts)) as c:
        assert c.start_time / av.time_base > 1.0
    [v] = render_variants(
        ts, tmp_path / "out", start=1.3, end=2.1, box=BOX, intent=parse_intent("blur"), count=1
    )
    with av.open(str(v.path)) as c:
        assert c.streams.video[0].frames == 20
    window = frame_window(ts, 1.3, 2.1)
    times = window.sample_times(3)
    before = read_frames(ts, [window.source_time(t) for t in times])
    after = read_frames(v.path, times)
    inside = box_mask(before[0].shape, BOX.to_pixels(W, H))
    for a, b in zip(after, before, strict=True):
        assert _diff(a, b)[~inside].mean() < 3 and _diff(a, b)[inside].mean() > 20
