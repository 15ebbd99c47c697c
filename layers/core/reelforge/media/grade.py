"""Colour grading for the editor: six sliders turned into one ffmpeg filter chain.

    params = GradeParams(brightness=10, contrast=15, temperature=-20)
    grade_video("segment.mp4", "graded.mp4", params, start=4.0, end=9.5)
    grade_frame("segment.mp4", 6.0, "preview.jpg", params, width=640)

The sliders use the editor's scale (-100..100, 0 is "unchanged"; gamma is a multiplier and
hue a rotation in degrees) and map onto real filters:

| slider        | filter                      | mapping                                              |
|---------------|-----------------------------|------------------------------------------------------|
| brightness b  | `eq=brightness`             | b / 200: -0.5..0.5, a shift of up to half the luma range |
| contrast c    | `eq=contrast`               | 1 + c / 100: 0 (flat grey) .. 2                      |
| saturation s  | `eq=saturation`             | 1 + s / 100: 0 (greyscale) .. 2                      |
| gamma g       | `eq=gamma`                  | g as is (0.1..10); eq computes v**(1/g), so g > 1 lifts midtones |
| temperature t | `colortemperature`          | 6600 K * 2**(-t / 100): 3300 K (warm) .. 13200 K (cool), lightness kept |
| hue_shift h   | `hue=h`                     | h degrees                                            |

6600 K is the filter's exact neutral point (its black-body colour is white there), so a
small temperature is a small change. The preview and the render share the chain, so the
preview frame is what the graded segment will look like.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import av
from pydantic import BaseModel, ConfigDict, Field, field_validator

from reelforge.errors import InvalidMediaError
from reelforge.media.frames import extract_frame, run_ffmpeg_on
from reelforge.media.probe import display_name, probe
from reelforge.media.source import input_options

NEUTRAL_KELVIN = 6600.0
GAMMA_RANGE = (0.1, 10.0)  # eq's own limits


class GradeParams(BaseModel):
    """The color-grade / grade-preview body; out-of-range values fail validation (422)."""

    # strict: a JSON number, not a bool (true would read as 1) or a numeric string
    model_config = ConfigDict(frozen=True, allow_inf_nan=False, strict=True)

    brightness: float = Field(0.0, ge=-100, le=100)
    contrast: float = Field(0.0, ge=-100, le=100)
    saturation: float = Field(0.0, ge=-100, le=100)
    temperature: float = Field(0.0, ge=-100, le=100, description="> 0 warmer, < 0 cooler")
    gamma: float | None = Field(1.0, description="multiplier, 1 neutral; 0 or null: neutral",
                                json_schema_extra={"anyOf": [  # what _gamma takes
                                    {"type": "number", "minimum": GAMMA_RANGE[0], "maximum": GAMMA_RANGE[1]},
                                    {"const": 0}, {"type": "null"}]})
    hue_shift: float = Field(0.0, ge=-180, le=180, description="degrees")

    @field_validator("gamma")
    @classmethod
    def _gamma(cls, v: float | None) -> float:
        # The editor sends every slider as 0 when untouched, gamma included.
        if v is None or v == 0:
            return 1.0
        lo, hi = GAMMA_RANGE
        if not lo <= v <= hi:
            raise ValueError(f"gamma must be 0 (neutral) or within {lo:g}..{hi:g}")
        return v

    @property
    def is_neutral(self) -> bool:
        return (
            self.brightness == self.contrast == self.saturation == 0
            and self.temperature == self.hue_shift == 0
            and self.gamma == 1.0
        )


def grade_filter(params: GradeParams) -> str:
    """The ffmpeg filter chain for `params` ("null" when neutral); see the module table."""
    parts: list[str] = []
    eq: list[str] = []
    if params.brightness:
        eq.append(f"brightness={params.brightness / 200:.4f}")
    if params.contrast:
        eq.append(f"contrast={1 + params.contrast / 100:.4f}")
    if params.saturation:
        eq.append(f"saturation={1 + params.saturation / 100:.4f}")
    if params.gamma != 1.0:
        eq.append(f"gamma={params.gamma:.4f}")
    if eq:
        parts.append("eq=" + ":".join(eq))
    if params.temperature:
        kelvin = NEUTRAL_KELVIN * 2 ** (-params.temperature / 100)
        parts.append(f"colortemperature=temperature={kelvin:.0f}:pl=1")
    if params.hue_shift:
        parts.append(f"hue=h={params.hue_shift:.3f}")
    return ",".join(parts) or "null"


@dataclass(frozen=True)
class GradedVideo:
    path: Path
    duration: float
    width: int
    height: int
    fps: float
    has_audio: bool


def grade_video(
    src: str | Path,
    out: str | Path,
    params: GradeParams,
    *,
    start: float | None = None,
    end: float | None = None,
    preset: str = "veryfast",
    crf: int = 20,
    on_progress: Callable[[float], None] | None = None,
    timeout: float | None = None,
) -> GradedVideo:
    """Render `src` (or its [start, end) window, source seconds) graded, as H.264/AAC MP4.

    Size and frame timing are kept (no scaling, frames passed through); the audio is copied
    when the whole AAC track is kept, re-encoded when a window cuts it. The graded segment
    replaces the original on the timeline, so it starts at 0.
    """
    info = probe(src)  # InvalidMediaError for a missing or undecodable source
    if not info.has_video:
        raise InvalidMediaError(f"{display_name(src)}: no video stream to grade")
    t0 = 0.0 if start is None else float(start)
    t1 = info.duration if end is None else min(float(end), info.duration)
    if not (0 <= t0 < info.duration and t1 > t0):
        raise InvalidMediaError(
            f"grade window {t0:g}..{t1:g}s is outside {display_name(src)} ({info.duration:.2f}s)"
        )
    windowed = t0 > 0 or t1 < info.duration
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)

    args: list[str | Path] = [*input_options(src)]
    if windowed:
        args += ["-ss", f"{t0:.6f}", "-t", f"{t1 - t0:.6f}"]
    args += ["-i", str(src), "-map", "0:v:0", "-vf", f"{grade_filter(params)},format=yuv420p"]
    args += ["-c:v", "libx264", "-preset", preset, "-crf", str(crf), "-fps_mode", "passthrough"]
    if info.has_audio:
        args += ["-map", "0:a:0"]
        if not windowed and info.audio_codec == "aac":
            args += ["-c:a", "copy"]
        else:
            args += ["-c:a", "aac", "-b:a", "192k"]
    args += ["-movflags", "+faststart", "-map_metadata", "-1", "-sn", "-dn", out]
    try:
        run_ffmpeg_on([src], args, duration=t1 - t0, on_progress=on_progress, timeout=timeout)
    except Exception:
        out.unlink(missing_ok=True)  # a half-written MP4 must not look like a result
        raise
    if on_progress:
        on_progress(1.0)
    return _describe(out, info.has_audio)


def grade_frame(
    src: str | Path,
    t: float,
    out_jpg: str | Path,
    params: GradeParams,
    width: int | None = None,
) -> Path:
    """One graded JPEG of the frame at `t` (the grade preview), scaled first: cheaper, same look."""
    return extract_frame(src, t, out_jpg, width=width, vf=grade_filter(params))


def _describe(path: Path, has_audio: bool) -> GradedVideo:
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        duration = float(v.duration * v.time_base) if v.duration else c.duration / av.time_base
        rate = v.average_rate or v.guessed_rate
        return GradedVideo(
            path=path,
            duration=duration,
            width=v.codec_context.width,
            height=v.codec_context.height,
            fps=round(float(rate), 3) if rate else 0.0,
            has_audio=has_audio,
        )
