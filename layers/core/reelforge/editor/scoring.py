"""Variant scoring for GET /api/variant/{id}/score: measured locally, or judged by Gemini.

Both return the seed's shape (``VariantScore``: four strings, ratings as "N/10 — why").

``score_local`` measures, on frames sampled at the same source instants in the original and
the variant (5 by default): the mean absolute change inside vs outside the box, sharpness
inside the box (variance of the Laplacian), exposure (mean luma, clipped pixels), saturation,
how much of the box's colour points toward a tint colour, fine-detail correlation and hard
steps (pixelation destroys detail but keeps hard block edges; a blur softens them) and, for
a zoom, which crop of the original the variant matches. Fidelity is how far the measured
change goes in the direction the intent implies (blur lowers sharpness, brighten raises
luma...), scaled by how local the change is; quality penalises clipping, damage outside the
box, lost detail and over-sharpening. ``compare_to="prompt"`` weighs fidelity most;
``"original"`` weighs how local and clean the change is.

``score_gemini`` sends the sampled frames of both videos as inline JPEG parts to a Gemini
vision model with a structured JSON response schema, validated with pydantic, one corrective
retry, errors mapped as in ``reelforge.ai.genai_client``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
from google.genai import types
from pydantic import BaseModel, Field, TypeAdapter, field_validator

from reelforge.ai.genai_client import DEFAULT_MODEL, GenaiJsonClient, parse_json_as
from reelforge.editor.region.render import (
    BoundingBox,
    PixelBox,
    RegionIntent,
    Window,
    box_mask,
    frame_window,
    parse_intent,
    read_frames,
    zoom_window,
)
from reelforge.errors import UnsupportedPromptError
from reelforge.media.source import VideoSource, probe_video

CompareTo = Literal["prompt", "original"]
DEFAULT_SAMPLES = 5
GEMINI_FRAMES = 3
GEMINI_IMAGE_SIDE = 768  # long side of the JPEGs sent: enough to judge, small to send
ENCODE_NOISE = 2.5  # mean abs change (0-255) a re-encode alone causes on busy content
_RATING = re.compile(r"^\s*(10|[0-9])(?:\.\d+)?\s*/\s*10\b")


class VariantScore(BaseModel):
    """The seed's score object: every field a string, ratings as "N/10 — reason"."""

    overall_rating: str
    details: str
    fidelity_to_prompt: str
    visual_quality: str


# --------------------------------------------------------------------------- measuring


@dataclass(frozen=True)
class RegionMetrics:
    """Means over the sampled frame pairs; pixel values 0-255, fractions 0-1."""

    samples: int
    duration: float
    change_in: float  # mean |variant - original| inside the box (max over RGB)
    change_out: float  # same outside the box (0 when the box is the whole frame)
    sharp_orig: float  # Laplacian variance of the luma inside the box
    sharp_var: float
    luma_in_orig: float
    luma_in_var: float
    luma_out_orig: float
    luma_out_var: float
    clipped_orig: float  # share of frame pixels at luma <= 2 or >= 253
    clipped_var: float
    sat_orig: float  # mean HSV saturation inside the box
    sat_var: float
    shift_rgb: tuple[float, float, float]  # mean RGB change inside the box
    steps_orig: float  # share of neighbouring pixel pairs inside the box: flat or a hard step
    steps_var: float
    detail_corr: float  # correlation of fine detail (luma minus its blur) inside the box
    edges_orig: float  # share of Canny edge pixels inside the box
    edges_var: float
    tint_align_orig: float | None = None  # colour inside the box pointing toward the tint (-1..1)
    tint_align_var: float | None = None
    zoom_level: float | None = None  # best-matching zoom toward the box (zoom intents)
    zoom_factor: float | None = None
    zoom_mae: float | None = None  # variant vs that zoomed original
    identity_mae: float | None = None  # variant vs the original frame as is

    @property
    def sharp_ratio(self) -> float:
        return self.sharp_var / max(self.sharp_orig, 1e-6)


def measure_variant(
    original: str | Path,
    variant: str | Path,
    *,
    box: BoundingBox,
    start: float,
    end: float,
    samples: int = DEFAULT_SAMPLES,
    intent: RegionIntent | None = None,
) -> RegionMetrics:
    """Measure the variant against the original's [start, end] on ``samples`` frame pairs."""
    video = probe_video(original)
    pbox = box.to_pixels(video.width, video.height)
    window, pairs = sample_pairs(
        original, variant, start=start, end=end, samples=samples, video=video
    )
    origs, variants = [o for _, o, _ in pairs], [v for _, _, v in pairs]
    return _metrics(origs, variants, pbox, window.duration, intent)


def sample_pairs(
    original: str | Path,
    variant: str | Path,
    *,
    start: float,
    end: float,
    samples: int,
    video: VideoSource | None = None,
) -> tuple[Window, list[tuple[float, np.ndarray, np.ndarray]]]:
    """The snapped window, and (variant time, original RGB frame, variant RGB frame) pairs.

    The window snaps exactly as render_variants snapped it, so frame k of the variant is
    compared with the source frame it was made from.
    """
    window = frame_window(original, start, end, video=video)
    times = window.sample_times(samples)
    origs = read_frames(original, [window.source_time(t) for t in times])
    variants = [_fit(v, origs[0].shape) for v in read_frames(variant, times)]
    return window, list(zip(times, origs, variants, strict=True))


def _fit(frame: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """A variant of another size (a generative model's) is compared at the original's size."""
    if frame.shape[:2] == shape[:2]:
        return frame
    return cv2.resize(frame, (shape[1], shape[0]), interpolation=cv2.INTER_AREA)


def _luma(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


def _crop(a: np.ndarray, box: PixelBox) -> np.ndarray:
    return a[box.y : box.y + box.h, box.x : box.x + box.w]


def _stepwise(gray: np.ndarray) -> float:
    """Share of neighbouring pixel pairs that are flat (<= 2) or a hard step (> 8).

    Blocks are flat inside with hard edges (high); a blur leaves soft ramps (low).
    """
    g = gray.astype(np.int16)
    pairs = np.concatenate([np.abs(np.diff(g, axis=1)).ravel(), np.abs(np.diff(g, axis=0)).ravel()])
    return float(((pairs <= 2) | (pairs > 8)).mean()) if pairs.size else 1.0


def _detail_corr(a: np.ndarray, b: np.ndarray) -> float:
    """Correlation of the fine detail of two luma crops: 1 kept, about 0 destroyed."""
    fa = a.astype(np.float32) - cv2.GaussianBlur(a.astype(np.float32), (0, 0), 1.5)
    fb = b.astype(np.float32) - cv2.GaussianBlur(b.astype(np.float32), (0, 0), 1.5)
    sa, sb = float(fa.std()), float(fb.std())
    if sa < 0.5 or sb < 0.5:  # no detail on one side: kept only if neither has any
        return 1.0 if sa < 0.5 and sb < 0.5 else 0.0
    return float(np.corrcoef(fa.ravel(), fb.ravel())[0, 1])


def _metrics(
    origs: list[np.ndarray],
    variants: list[np.ndarray],
    box: PixelBox,
    duration: float,
    intent: RegionIntent | None,
) -> RegionMetrics:
    inside = box_mask(origs[0].shape, box)
    acc: dict[str, list[float]] = {}

    def add(name: str, value: float) -> None:
        acc.setdefault(name, []).append(float(value))

    shifts = []
    for o, v in zip(origs, variants, strict=True):
        diff = np.abs(v.astype(np.int16) - o.astype(np.int16)).max(axis=2)
        add("change_in", diff[inside].mean())
        add("change_out", diff[~inside].mean() if (~inside).any() else 0.0)
        lo, lv = _luma(o), _luma(v)
        bo, bv = _crop(lo, box), _crop(lv, box)
        add("sharp_orig", cv2.Laplacian(bo, cv2.CV_64F).var())
        add("sharp_var", cv2.Laplacian(bv, cv2.CV_64F).var())
        add("luma_in_orig", bo.mean())
        add("luma_in_var", bv.mean())
        add("luma_out_orig", lo[~inside].mean() if (~inside).any() else lo.mean())
        add("luma_out_var", lv[~inside].mean() if (~inside).any() else lv.mean())
        add("clipped_orig", ((lo <= 2) | (lo >= 253)).mean())
        add("clipped_var", ((lv <= 2) | (lv >= 253)).mean())
        add("sat_orig", cv2.cvtColor(_crop(o, box), cv2.COLOR_RGB2HSV)[..., 1].mean() / 255)
        add("sat_var", cv2.cvtColor(_crop(v, box), cv2.COLOR_RGB2HSV)[..., 1].mean() / 255)
        shifts.append(
            _crop(v, box).reshape(-1, 3).mean(axis=0) - _crop(o, box).reshape(-1, 3).mean(axis=0)
        )
        add("steps_orig", _stepwise(bo))
        add("steps_var", _stepwise(bv))
        add("detail_corr", _detail_corr(bo, bv))
        add("edges_orig", (cv2.Canny(bo, 80, 160) > 0).mean())
        add("edges_var", (cv2.Canny(bv, 80, 160) > 0).mean())
    means = {k: float(np.mean(v)) for k, v in acc.items()}
    shift = np.mean(shifts, axis=0)
    extra: dict[str, float | None] = {}
    if intent is not None and intent.kind == "zoom":
        extra = _match_zoom(origs, variants, box)
    if intent is not None and intent.rgb is not None:
        rgb = intent.rgb
        extra["tint_align_orig"] = float(np.mean([_align(_crop(o, box), rgb) for o in origs]))
        extra["tint_align_var"] = float(np.mean([_align(_crop(v, box), rgb) for v in variants]))
    return RegionMetrics(
        samples=len(origs),
        duration=duration,
        shift_rgb=(float(shift[0]), float(shift[1]), float(shift[2])),
        **means,
        **extra,
    )


def _align(rgb: np.ndarray, target: tuple[int, int, int]) -> float:
    """How much of the pixels' colour (chroma, grey removed) points toward ``target``: -1..1.

    A hue measure, not a brightness one: a blue tint over an already blue-ish box may lower
    the blue channel and still make every pixel's colour point at blue.
    """
    px = rgb.reshape(-1, 3).astype(np.float32)
    chroma = px - px.mean(axis=1, keepdims=True)
    t = np.asarray(target, dtype=np.float32)
    u = t - t.mean()
    norm = float(np.linalg.norm(u))
    weight = np.linalg.norm(chroma, axis=1)
    if norm < 1e-6 or float(weight.sum()) < 1e-6:
        return 0.0
    return float((chroma @ (u / norm)).sum() / weight.sum())


def _match_zoom(
    origs: list[np.ndarray], variants: list[np.ndarray], box: PixelBox
) -> dict[str, float | None]:
    """Which crop toward the box (0 = whole frame .. 1 = the box) the variant shows."""
    h, w = origs[0].shape[:2]
    best: tuple[float, float, float] = (float("inf"), 0.0, 1.0)
    identity = float(
        np.mean(
            [np.abs(v.astype(np.int16) - o).mean() for o, v in zip(origs, variants, strict=True)]
        )
    )
    for level in np.linspace(0.1, 1.0, 10):
        c = zoom_window(box, (w, h), float(level))
        errors = []
        for o, v in zip(origs, variants, strict=True):
            expected = cv2.resize(_crop(o, c), (w, h), interpolation=cv2.INTER_LINEAR)
            errors.append(np.abs(v.astype(np.int16) - expected).mean())
        mae = float(np.mean(errors))
        if mae < best[0]:
            best = (mae, float(level), w / c.w)
    return {
        "zoom_mae": best[0],
        "zoom_level": best[1],
        "zoom_factor": best[2],
        "identity_mae": identity,
    }


# --------------------------------------------------------------------------- rating


def _ramp(x: float, lo: float, hi: float) -> float:
    """0 at ``lo``, 1 at ``hi``, linear between, clipped."""
    return float(min(1.0, max(0.0, (x - lo) / (hi - lo))))


def _rating(score: float) -> int:
    return int(min(10, max(1, round(score))))


def _pct(a: float, b: float) -> str:
    return f"{(b - a) / max(abs(a), 1e-6):+.0%}"


def _fidelity(intent: RegionIntent, m: RegionMetrics) -> tuple[float, str]:
    """How far the measured change goes the way the intent implies (0-1), and the evidence."""
    k = intent.kind
    if k == "blur":
        d = _ramp(1 - m.sharp_ratio, 0.1, 0.7)
        why = (
            f"sharpness inside the box {_pct(m.sharp_orig, m.sharp_var)} (Laplacian variance "
            f"{m.sharp_orig:.0f} -> {m.sharp_var:.0f}); blur should lower it"
        )
    elif k == "sharpen":
        d = _ramp(m.sharp_ratio, 1.05, 1.6)
        why = (
            f"sharpness inside the box {_pct(m.sharp_orig, m.sharp_var)} (Laplacian variance "
            f"{m.sharp_orig:.0f} -> {m.sharp_var:.0f}); sharpening should raise it"
        )
    elif k == "pixelate":
        blocky = _ramp(m.steps_var - m.steps_orig, -0.08, -0.01)
        d = _ramp(1 - m.detail_corr, 0.1, 0.6) * blocky
        why = (
            f"fine detail inside the box {m.detail_corr:.2f} correlated with the original "
            f"(pixelation destroys it); flat-or-hard-step pixel pairs {m.steps_orig:.1%} -> "
            f"{m.steps_var:.1%} (blocks keep hard edges, a blur would soften them)"
        )
    elif k in ("brighten", "darken"):
        delta = m.luma_in_var - m.luma_in_orig
        d = _ramp(delta if k == "brighten" else -delta, 3, 25)
        why = (
            f"mean luma inside the box {m.luma_in_orig:.1f} -> {m.luma_in_var:.1f} "
            f"({delta:+.1f}); {k} should {'raise' if k == 'brighten' else 'lower'} it"
        )
    elif k == "greyscale":
        if m.sat_orig < 0.05:
            d = _ramp(0.05 - m.sat_var, 0, 0.05)
        else:
            d = _ramp(1 - m.sat_var / m.sat_orig, 0.3, 0.9)
        why = f"saturation inside the box {m.sat_orig:.2f} -> {m.sat_var:.2f}"
    elif k == "tint":
        before, after = m.tint_align_orig or 0.0, m.tint_align_var or 0.0
        d = _ramp((after - before) / max(1e-3, 1 - before), 0.05, 0.5)  # share of the room
        shift = ", ".join(f"{c:+.1f}" for c in m.shift_rgb)
        why = (
            f"colour inside the box pointing toward {intent.colour}: {before:+.2f} -> "
            f"{after:+.2f} (-1..1); mean RGB shift ({shift})"
        )
    elif k == "spotlight":
        ratio = m.luma_out_var / max(m.luma_out_orig, 1e-6)
        d = _ramp(1 - ratio, 0.1, 0.5) * (1 - 0.5 * _ramp(m.change_in, 4, 15))
        why = (
            f"mean luma outside the box {m.luma_out_orig:.1f} -> {m.luma_out_var:.1f} "
            f"({_pct(m.luma_out_orig, m.luma_out_var)}), inside changed {m.change_in:.1f}/255"
        )
    elif k == "zoom":
        gain = (m.identity_mae or 0.0) - (m.zoom_mae or 0.0)
        d = _ramp(gain, 2, 15) * _ramp(m.zoom_factor or 1.0, 1.05, 1.3)
        why = (
            f"best match: a {m.zoom_factor or 1:.2f}x zoom toward the box (mean error "
            f"{m.zoom_mae or 0:.1f}/255 vs {m.identity_mae or 0:.1f} for the unzoomed frame)"
        )
    elif k == "text":
        d = 0.5 * _ramp(m.change_in, 4, 25) + 0.5 * _ramp(m.edges_var - m.edges_orig, 0.01, 0.08)
        why = (
            f"inside the box mean change {m.change_in:.1f}/255, edge pixels "
            f"{m.edges_orig:.1%} -> {m.edges_var:.1%} (drawn letters add edges)"
        )
    else:  # pragma: no cover - IntentKind is closed
        d, why = 0.0, "no measure for this intent"
    return d, why


def _locality(intent: RegionIntent, m: RegionMetrics) -> tuple[float, str]:
    """Whether the change stayed where the intent puts it (1 = only there)."""
    if intent.kind == "zoom":
        return 1.0, "a zoom changes the whole frame by design"
    if intent.kind == "spotlight":
        leak = _ramp(m.change_in - ENCODE_NOISE, 0, 12)
        return 1 - leak, f"inside the box changed {m.change_in:.1f}/255 (should stay as it was)"
    excess = max(0.0, m.change_out - ENCODE_NOISE)
    score = 1 - _ramp(excess / max(m.change_in, 1.0), 0.05, 0.5)
    return score, f"change inside {m.change_in:.1f}/255 vs outside {m.change_out:.1f}/255"


def _quality(intent: RegionIntent, m: RegionMetrics) -> tuple[float, list[str]]:
    notes: list[str] = []
    score = 10.0
    clip = m.clipped_var - m.clipped_orig
    if clip > 0.01:
        score -= 4 * _ramp(clip, 0.01, 0.15)
        notes.append(f"clipped pixels {m.clipped_orig:.1%} -> {m.clipped_var:.1%}")
    if intent.kind not in ("zoom", "spotlight") and m.change_out > ENCODE_NOISE:
        score -= 3 * _ramp(m.change_out, ENCODE_NOISE, 10)
        notes.append(f"pixels outside the box changed {m.change_out:.1f}/255")
    if intent.kind == "sharpen" and m.sharp_ratio > 2.5:
        score -= 2 * _ramp(m.sharp_ratio, 2.5, 5)
        notes.append(f"sharpness x{m.sharp_ratio:.1f} risks halos")
    if intent.kind in ("brighten", "darken", "tint", "greyscale", "spotlight", "text") and (
        m.sharp_ratio < 0.6
    ):
        score -= 2
        notes.append(f"detail inside the box lost ({_pct(m.sharp_orig, m.sharp_var)})")
    if intent.kind == "zoom" and (m.zoom_factor or 1) > 3:
        score -= 2 * _ramp(m.zoom_factor or 1, 3, 6)
        notes.append(f"a {m.zoom_factor:.1f}x upscale is soft")
    if not notes:
        note = f"no clipping added ({m.clipped_orig:.1%} -> {m.clipped_var:.1%})"
        if intent.kind not in ("zoom", "spotlight"):
            note += f", outside the box unchanged ({m.change_out:.1f}/255, re-encoding noise)"
        notes.append(note)
    return max(1.0, score), notes


def score_metrics(
    m: RegionMetrics, *, intent: RegionIntent, prompt: str, compare_to: CompareTo = "prompt"
) -> VariantScore:
    """Ratings and wording from measurements (split out so it is testable without video)."""
    direction, evidence = _fidelity(intent, m)
    locality, local_note = _locality(intent, m)
    fidelity = 1 + 9 * direction * (0.7 + 0.3 * locality)
    quality, notes = _quality(intent, m)
    if compare_to == "original":
        overall = 0.3 * fidelity + 0.35 * (1 + 9 * locality) + 0.35 * quality
        focus = "compared with the original: how local and clean the change is weighs most"
    else:
        overall = 0.65 * fidelity + 0.35 * quality
        focus = "compared with the prompt: fidelity weighs most"
    verdict = (
        "matches the expected direction"
        if direction >= 0.5
        else "weak"
        if direction > 0.1
        else "not the expected change"
    )
    details = (
        f"local provider (measured on {m.samples} frame pairs over {m.duration:.2f} s, no model); "
        f"prompt {prompt!r} read as {intent.describe()}; {focus}. "
        f"Measured: {evidence} ({verdict}); {local_note}; mean luma inside "
        f"{m.luma_in_orig:.1f} -> {m.luma_in_var:.1f}; clipped pixels {m.clipped_orig:.1%} -> "
        f"{m.clipped_var:.1%}; saturation inside {m.sat_orig:.2f} -> {m.sat_var:.2f}."
    )
    return VariantScore(
        overall_rating=f"{_rating(overall)}/10",
        details=details,
        fidelity_to_prompt=f"{_rating(fidelity)}/10 — {evidence}",
        visual_quality=f"{_rating(quality)}/10 — {'; '.join(notes)}",
    )


def score_local(
    original: str | Path,
    variant: str | Path,
    *,
    box: BoundingBox,
    start: float,
    end: float,
    prompt: str,
    intent: RegionIntent | None = None,
    compare_to: CompareTo = "prompt",
    samples: int = DEFAULT_SAMPLES,
) -> VariantScore:
    """Score ``variant`` (the rendered [start, end] window) against ``original`` by measuring.

    ``intent`` defaults to what ``parse_intent`` reads in ``prompt``; a prompt the local
    vocabulary does not know is still scored on change locality and quality.
    """
    if intent is None:
        try:
            intent = parse_intent(prompt)
        except UnsupportedPromptError:
            intent = None
    m = measure_variant(
        original,
        variant,
        box=box,
        start=start,
        end=end,
        samples=samples,
        intent=intent,
    )
    if intent is None:
        return _score_unknown_intent(m, prompt)
    return score_metrics(m, intent=intent, prompt=prompt, compare_to=compare_to)


def _score_unknown_intent(m: RegionMetrics, prompt: str) -> VariantScore:
    locality = 1 - _ramp(max(0.0, m.change_out - ENCODE_NOISE) / max(m.change_in, 1.0), 0.05, 0.5)
    visible = _ramp(m.change_in, 2, 10)
    clip = m.clipped_var - m.clipped_orig
    quality = 10 - 4 * _ramp(clip, 0.01, 0.15) - 3 * _ramp(m.change_out, ENCODE_NOISE, 10)
    overall = 0.5 * (1 + 9 * visible * locality) + 0.5 * quality
    return VariantScore(
        overall_rating=f"{_rating(overall)}/10",
        details=(
            f"local provider (measured on {m.samples} frame pairs, no model); the prompt "
            f"{prompt!r} is outside the local vocabulary, so only the change itself is rated: "
            f"inside the box {m.change_in:.1f}/255, outside {m.change_out:.1f}/255, clipped "
            f"pixels {m.clipped_orig:.1%} -> {m.clipped_var:.1%}."
        ),
        fidelity_to_prompt=(
            f"{_rating(1 + 9 * visible * locality)}/10 — not measurable for this prompt; "
            f"a visible change inside the box ({m.change_in:.1f}/255) is all that is checked"
        ),
        visual_quality=f"{_rating(quality)}/10 — outside the box {m.change_out:.1f}/255",
    )


# --------------------------------------------------------------------------- Gemini

SYSTEM_INSTRUCTION = (
    "You review AI video edits. You see frames of an original video and the same instants of "
    "an edited variant, where an editor asked for a change inside a rectangular region. You "
    "judge honestly and concretely, and answer with JSON only."
)


class GeminiScore(BaseModel):
    """The score as Gemini returns it; also the response schema sent to the API."""

    overall_rating: str = Field(description="'N/10' (N from 0 to 10), then a short reason")
    details: str = Field(description="two to four sentences: what changed, where, how well")
    fidelity_to_prompt: str = Field(
        description="'N/10' then a short reason: does the edit do what was asked"
    )
    visual_quality: str = Field(
        description="'N/10' then a short reason: artifacts, seams, clipping, blur, legibility"
    )

    @field_validator("overall_rating", "fidelity_to_prompt", "visual_quality")
    @classmethod
    def _rated(cls, value: str) -> str:
        if not _RATING.match(value or ""):
            raise ValueError("must start with a rating like '7/10'")
        return value.strip()

    @field_validator("details")
    @classmethod
    def _said_something(cls, value: str) -> str:
        if not (value or "").strip():
            raise ValueError("must not be empty")
        return value.strip()


_GEMINI_SCORE = TypeAdapter(GeminiScore)


def parse_gemini_score(text: str | None) -> GeminiScore:
    return parse_json_as(_GEMINI_SCORE, text)


def score_gemini(
    api_key: str,
    *,
    original: str | Path,
    variant: str | Path,
    box: BoundingBox,
    start: float,
    end: float,
    prompt: str,
    compare_to: CompareTo = "prompt",
    frames: int = GEMINI_FRAMES,
    model: str = DEFAULT_MODEL,
    base_url: str | None = None,
    timeout_s: float = 120.0,
) -> VariantScore:
    """Gemini's judgement of the variant, from ``frames`` matched frame pairs (JPEG)."""
    caller = GenaiJsonClient(api_key, model=model, base_url=base_url, timeout_s=timeout_s)
    video = probe_video(original)
    pbox = box.to_pixels(video.width, video.height)
    _, pairs = sample_pairs(original, variant, start=start, end=end, samples=frames, video=video)
    contents = [types.Content(role="user", parts=build_parts(pairs, pbox, prompt, compare_to))]
    config = types.GenerateContentConfig(
        system_instruction=SYSTEM_INSTRUCTION,
        response_mime_type="application/json",
        response_schema=GeminiScore,
        temperature=0.2,
    )
    score = caller.ask_json(
        contents,
        config=config,
        parse=parse_gemini_score,
        retry_hint=(
            "Answer again with only a JSON object with the keys overall_rating, details, "
            "fidelity_to_prompt and visual_quality; each rating starts with a score like "
            "'7/10' followed by a short reason."
        ),
        what="scores",
    )
    return VariantScore(
        overall_rating=score.overall_rating,
        details=f"gemini ({model}): {score.details}",
        fidelity_to_prompt=score.fidelity_to_prompt,
        visual_quality=score.visual_quality,
    )


def build_parts(
    pairs: list[tuple[float, np.ndarray, np.ndarray]],
    box: PixelBox,
    prompt: str,
    compare_to: CompareTo,
) -> list[types.Part]:
    """Instructions, then per instant: a label, the original JPEG, a label, the variant JPEG."""
    h, w = pairs[0][1].shape[:2]
    scale = min(1.0, GEMINI_IMAGE_SIDE / max(w, h))
    sw, sh = round(w * scale), round(h * scale)
    bx, by = round(box.x * scale), round(box.y * scale)
    bw, bh = round(box.w * scale), round(box.h * scale)
    if compare_to == "original":
        focus = (
            "Compare the variant with the ORIGINAL: weigh most whether the change stays inside "
            "the region, leaves the rest of the frame as it was, and looks clean."
        )
    else:
        focus = (
            "Compare the variant with the PROMPT: weigh most whether the edit does what was "
            "asked, inside the region."
        )
    parts = [
        types.Part(
            text=(
                f"Edit prompt: {prompt!r}.\n"
                f"Region (pixels of these {sw}x{sh} images): x={bx}, y={by}, width={bw}, "
                f"height={bh}; (0, 0) is the top-left corner.\n{focus}\n"
                f"Below are {len(pairs)} instants, each as the ORIGINAL frame then the "
                "VARIANT frame. Rate overall_rating, fidelity_to_prompt and visual_quality, "
                "each as 'N/10' (0-10) followed by a short reason, and explain in details."
            )
        )
    ]
    for i, (t, original, variant) in enumerate(pairs, 1):
        parts.append(types.Part(text=f"Instant {i} ({t:.2f} s into the variant): ORIGINAL"))
        parts.append(types.Part.from_bytes(data=_jpeg(original, sw, sh), mime_type="image/jpeg"))
        parts.append(types.Part(text=f"Instant {i}: VARIANT"))
        parts.append(types.Part.from_bytes(data=_jpeg(variant, sw, sh), mime_type="image/jpeg"))
    return parts


def _jpeg(rgb: np.ndarray, w: int, h: int) -> bytes:
    if rgb.shape[1] != w or rgb.shape[0] != h:
        rgb = cv2.resize(rgb, (w, h), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(
        ".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 85]
    )
    if not ok:  # pragma: no cover - cv2 encodes any uint8 RGB image
        raise ValueError("could not encode a JPEG frame")
    return buf.tobytes()
