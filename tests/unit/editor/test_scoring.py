"""Variant scoring: local measurements on real renders, and Gemini vision via the fake server."""

from __future__ import annotations

import base64
import dataclasses
import re
from pathlib import Path

import cv2
import numpy as np
import pytest

from reelforge.editor.region.render import BoundingBox, parse_intent, render_variants
from reelforge.editor.scoring import (
    RegionMetrics,
    VariantScore,
    measure_variant,
    score_gemini,
    score_local,
    score_metrics,
)
from reelforge.errors import ProviderError, TransientError
from reelforge.media.ffmpeg import run_ffmpeg

KEY = "AIzaTEST-not-a-real-key-0123456789"  # the fake_gemini fixture's key
W, H = 320, 240
BOX = BoundingBox(x=150, y=120, width=140, height=100)
# The whole source: a stream copy of it is an exactly aligned, unchanged "variant".
START, END = 0.0, 2.0
RATING = re.compile(r"^(10|[1-9])/10\b")


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("scoring")
    source = root / "source.mp4"
    run_ffmpeg(
        [
            "-f", "lavfi", "-i", f"testsrc2=s={W}x{H}:r=25:d=2",
            "-f", "lavfi", "-i", "sine=f=440:r=44100:d=2",
            "-c:v", "libx264", "-preset", "ultrafast", "-crf", "18", "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-shortest", source,
        ]
    )  # fmt: skip
    copy = root / "copy.mp4"
    run_ffmpeg(["-i", source, "-c", "copy", copy])
    found = {"source": source, "copy": copy}
    for prompt in ("blur", "brighten"):
        [variant] = render_variants(
            source, root / prompt, start=START, end=END, box=BOX, intent=parse_intent(prompt),
            count=1,
        )  # fmt: skip
        found[prompt] = variant.path
    return found


def _rating(text: str) -> int:
    m = RATING.match(text)
    assert m, text
    return int(m.group(1))


def _score(clips, variant: str, prompt: str, compare_to: str = "prompt") -> VariantScore:
    return score_local(
        clips["source"], clips[variant], box=BOX, start=START, end=END, prompt=prompt,
        compare_to=compare_to,
    )  # fmt: skip


def test_blur_variant_beats_an_unchanged_copy(clips):
    blurred = _score(clips, "blur", "blur the face")
    unchanged = _score(clips, "copy", "blur the face")
    for score in (blurred, unchanged):
        for rating in (score.overall_rating, score.fidelity_to_prompt, score.visual_quality):
            _rating(rating)
    assert _rating(blurred.fidelity_to_prompt) >= 8
    assert _rating(unchanged.fidelity_to_prompt) <= 2
    assert _rating(blurred.overall_rating) > _rating(unchanged.overall_rating)
    # the details name the provider and give the measurements
    assert blurred.details.startswith("local provider (measured on 5 frame pairs")
    assert "Laplacian variance" in blurred.fidelity_to_prompt
    numbers = re.findall(r"\d+(?:\.\d+)?", blurred.details)
    assert len(numbers) >= 8
    assert "change inside" in blurred.details and "/255" in blurred.details


def test_measurements_follow_the_edit(clips):
    blur = measure_variant(
        clips["source"], clips["blur"], box=BOX, start=START, end=END, intent=parse_intent("blur")
    )
    assert blur.samples == 5 and blur.duration == pytest.approx(2.0)
    assert blur.sharp_ratio < 0.3
    assert blur.change_in > 20 and blur.change_out < 3
    same = measure_variant(clips["source"], clips["copy"], box=BOX, start=START, end=END)
    assert same.change_in < 0.5 and same.change_out < 0.5
    assert same.sharp_ratio == pytest.approx(1.0, abs=0.01)
    bright = measure_variant(clips["source"], clips["brighten"], box=BOX, start=START, end=END)
    assert bright.luma_in_var > bright.luma_in_orig + 10
    assert abs(bright.luma_out_var - bright.luma_out_orig) < 1


def test_the_wrong_edit_scores_low_fidelity(clips):
    # a blurred box is not what "brighten" asked for, nor "sharpen"
    assert _rating(_score(clips, "blur", "brighten the face").fidelity_to_prompt) <= 3
    assert _rating(_score(clips, "blur", "sharpen the face").fidelity_to_prompt) == 1
    assert _rating(_score(clips, "brighten", "brighten the face").fidelity_to_prompt) >= 8


def test_compare_to_original_weighs_locality(clips):
    blur = _score(clips, "blur", "blur the face", "original")
    same = _score(clips, "copy", "blur the face", "original")
    assert "compared with the original" in blur.details
    assert "compared with the prompt" in _score(clips, "blur", "blur the face").details
    # an unchanged copy is perfectly local and clean: it does better against the original
    # than against the prompt, and still below a real edit
    assert _rating(same.overall_rating) > _rating(
        _score(clips, "copy", "blur the face").overall_rating
    )
    assert _rating(blur.overall_rating) > _rating(same.overall_rating)


def test_a_prompt_outside_the_vocabulary_is_still_scored(clips):
    score = _score(clips, "blur", "make it look like a painting")
    assert "outside the local vocabulary" in score.details
    _rating(score.overall_rating)


def _metrics(**changes) -> RegionMetrics:
    base = RegionMetrics(
        samples=5, duration=1.0, change_in=30.0, change_out=1.2, sharp_orig=900.0,
        sharp_var=900.0, luma_in_orig=100.0, luma_in_var=100.0, luma_out_orig=120.0,
        luma_out_var=120.0, clipped_orig=0.0, clipped_var=0.0, sat_orig=0.5, sat_var=0.5,
        shift_rgb=(0.0, 0.0, 0.0), steps_orig=0.9, steps_var=0.9, detail_corr=1.0,
        edges_orig=0.05, edges_var=0.05,
    )  # fmt: skip
    return dataclasses.replace(base, **changes)


@pytest.mark.parametrize(
    ("prompt", "good", "bad"),
    [
        ("brighten", {"luma_in_var": 130.0}, {"luma_in_var": 80.0}),
        ("darken", {"luma_in_var": 70.0}, {"luma_in_var": 130.0}),
        ("black and white", {"sat_var": 0.02}, {"sat_var": 0.6}),
        ("sharpen", {"sharp_var": 2000.0}, {"sharp_var": 300.0}),
        ("spotlight", {"luma_out_var": 50.0, "change_in": 1.0}, {"luma_out_var": 118.0}),
        ("pixelate", {"detail_corr": 0.05, "steps_var": 0.95}, {"detail_corr": 0.05, "steps_var": 0.7}),
        ("tint red", {"tint_align_orig": -0.2, "tint_align_var": 0.8},
         {"tint_align_orig": -0.2, "tint_align_var": -0.25}),
    ],
)  # fmt: skip
def test_direction_of_change_decides_fidelity(prompt, good, bad):
    intent = parse_intent(prompt)
    right = score_metrics(_metrics(**good), intent=intent, prompt=prompt)
    wrong = score_metrics(_metrics(**bad), intent=intent, prompt=prompt)
    assert _rating(right.fidelity_to_prompt) >= 8, right.fidelity_to_prompt
    assert _rating(wrong.fidelity_to_prompt) <= 2, wrong.fidelity_to_prompt


def test_quality_penalises_clipping_and_spill():
    intent = parse_intent("brighten")
    clean = score_metrics(_metrics(luma_in_var=130.0), intent=intent, prompt="brighten")
    clipped = score_metrics(
        _metrics(luma_in_var=130.0, clipped_var=0.2, change_out=12.0), intent=intent, prompt="b"
    )
    assert _rating(clean.visual_quality) == 10
    assert _rating(clipped.visual_quality) <= 4
    assert "clipped pixels 0.0% -> 20.0%" in clipped.visual_quality
    assert "outside the box changed 12.0/255" in clipped.visual_quality


# --------------------------------------------------------------------------- Gemini

VALID = {
    "overall_rating": "8/10 — a convincing blur",
    "details": "The region is blurred evenly; the rest of the frame is untouched.",
    "fidelity_to_prompt": "9/10 — the face is unrecognisable",
    "visual_quality": "7/10 — a visible seam at the box edge",
}


def _b64(data: str) -> bytes:
    """The SDK sends bytes as URL-safe base64, padding stripped."""
    return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))


def _gemini(clips, fake, compare_to="prompt", **kw) -> VariantScore:
    return score_gemini(
        KEY, original=clips["source"], variant=clips["blur"], box=BOX, start=START, end=END,
        prompt="blur the face", compare_to=compare_to, base_url=fake.base_url, timeout_s=5, **kw,
    )  # fmt: skip


def test_gemini_sends_frames_as_inline_images_with_a_schema(clips, fake_gemini):
    fake_gemini.reply_json(VALID)
    score = _gemini(clips, fake_gemini, frames=3)

    assert score.overall_rating == VALID["overall_rating"]
    assert score.details == f"gemini (gemini-2.5-flash): {VALID['details']}"
    [request] = fake_gemini.requests
    assert request.path == "/v1beta/models/gemini-2.5-flash:generateContent"
    assert request.api_key == KEY
    parts = request.body["contents"][0]["parts"]
    images = [p["inlineData"] for p in parts if "inlineData" in p]
    assert len(images) == 6, "an original and a variant frame per sampled instant"
    # proto JSON accepts either spelling; this SDK release sends mime_type
    assert {i.get("mimeType") or i.get("mime_type") for i in images} == {"image/jpeg"}
    decoded = [cv2.imdecode(np.frombuffer(_b64(i["data"]), np.uint8), 1) for i in images]
    assert all(img is not None and img.shape == (H, W, 3) for img in decoded)
    # the original and the variant differ inside the box only
    diff = np.abs(decoded[0].astype(int) - decoded[1]).max(axis=2)
    assert diff[125:215, 155:285].mean() > 20 and diff[:100, :].mean() < 6
    texts = " ".join(p.get("text", "") for p in parts)
    assert "'blur the face'" in texts and "x=150, y=120, width=140, height=100" in texts
    assert "ORIGINAL" in texts and "VARIANT" in texts and "PROMPT" in texts
    config = request.generation_config
    assert config["responseMimeType"] == "application/json"
    schema = config["responseSchema"]
    keys = {"overall_rating", "details", "fidelity_to_prompt", "visual_quality"}
    assert schema["type"] == "OBJECT" and set(schema["properties"]) == keys
    assert set(schema["required"]) == keys


def test_gemini_compare_to_original_changes_the_instruction(clips, fake_gemini):
    fake_gemini.reply_json(VALID)
    _gemini(clips, fake_gemini, compare_to="original", frames=1)
    [request] = fake_gemini.requests
    assert "Compare the variant with the ORIGINAL" in request.prompt_text
    assert sum("inlineData" in p for p in request.body["contents"][0]["parts"]) == 2


def test_gemini_invalid_then_valid_makes_two_requests(clips, fake_gemini):
    fake_gemini.reply_json(dict(VALID, overall_rating="great")).reply_json(VALID)
    score = _gemini(clips, fake_gemini, frames=1)
    assert score.fidelity_to_prompt == VALID["fidelity_to_prompt"]
    assert len(fake_gemini.requests) == 2
    retry = fake_gemini.requests[1].body["contents"]
    assert [c["role"] for c in retry] == ["user", "model", "user"]
    assert "must start with a rating like '7/10'" in retry[2]["parts"][0]["text"]


def test_gemini_invalid_twice_is_a_provider_error(clips, fake_gemini):
    fake_gemini.reply_text("It looks fine to me!").reply_json({"overall_rating": "8/10"})
    with pytest.raises(ProviderError, match="unusable scores twice"):
        _gemini(clips, fake_gemini, frames=1)
    assert len(fake_gemini.requests) == 2


def test_gemini_throttling_is_transient(clips, fake_gemini):
    fake_gemini.reply_error(429)
    with pytest.raises(TransientError, match="429"):
        _gemini(clips, fake_gemini, frames=1)
    assert len(fake_gemini.requests) == 1, "the SDK does not retry; Step Functions does"


def test_gemini_errors_never_echo_the_key(clips, fake_gemini):
    fake_gemini.reply_error(403, f"API key {KEY} is not authorized")
    with pytest.raises(ProviderError) as caught:
        _gemini(clips, fake_gemini, frames=1)
    assert KEY not in str(caught.value) and "X-Gemini-Key" in str(caught.value)


def test_gemini_needs_a_key(clips):
    with pytest.raises(ProviderError, match="needs an API key"):
        score_gemini(
            " ", original=clips["source"], variant=clips["blur"], box=BOX, start=START, end=END,
            prompt="blur",
        )  # fmt: skip
