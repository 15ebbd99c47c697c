"""Render one vertical clip: cut, reframe to 1080x1920 and burn captions in a single ffmpeg pass.

    clip = render_clip("talk.mp4", start=61.0, end=92.5, words=transcript.words(),
                       out_path="out/clip1.mp4", scene_cuts=[s.start for s in scenes])

One pass matters on Lambda: decoding the 1080p source and encoding 1080x1920 dominate the
cost, so the cut (`-ss` before `-i`, re-encoded, frame-accurate), the crop and the subtitles
all happen on the same decoded frames. The SRT/VTT sidecars and a thumbnail come along.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from reelforge.errors import InvalidMediaError, MediaProcessingError
from reelforge.media.captions import build_ass, build_srt, build_vtt, caption_lines, caption_look
from reelforge.media.ffmpeg import run_ffmpeg
from reelforge.media.probe import display_name
from reelforge.media.reframe import ReframePlan, plan_reframe
from reelforge.media.source import input_options, probe_video
from reelforge.models import Word

SYSTEM_FONTS = Path("/usr/share/fonts/truetype/dejavu")
PACKAGED_FONTS = Path(__file__).resolve().parent.parent / "assets" / "fonts"


@dataclass(frozen=True)
class RenderedClip:
    video_path: Path
    thumbnail_path: Path
    srt_path: Path
    vtt_path: Path
    ass_path: Path | None  # None when no word falls inside the clip
    duration: float
    width: int
    height: int
    mode: str
    plan: ReframePlan


def default_fonts_dir() -> Path | None:
    """Fonts shipped with the package win, so a Lambda layer renders the same as a laptop."""
    for d in (PACKAGED_FONTS, SYSTEM_FONTS):
        if d.is_dir() and any(d.glob("*.[ot]tf")):
            return d
    return None


def filter_path(path: str | Path) -> str:
    """Escape a path for a filter option inside -filter_complex (two levels: the option value,
    then the graph), so ':' ',' quotes and brackets in directory names are harmless."""
    s = str(path)
    for ch in ("\\", "'", ":"):
        s = s.replace(ch, "\\" + ch)
    for ch in ("\\", "'", "[", "]", ",", ";"):
        s = s.replace(ch, "\\" + ch)
    return s


def _out_rate(fps: float, cap: float) -> Fraction:
    """The source rate (29.97 stays 30000/1001), capped: 60 fps buys nothing on a phone feed."""
    rate = min(fps, cap) if fps > 0 else cap
    for ntsc in (Fraction(24000, 1001), Fraction(30000, 1001), Fraction(60000, 1001)):
        if abs(rate - ntsc) < 0.005:
            return ntsc
    return Fraction(rate).limit_denominator(1001)


def _probe_output(path: Path) -> tuple[float, int, int]:
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        duration = float(v.duration * v.time_base) if v.duration else c.duration / av.time_base
        return duration, v.codec_context.width, v.codec_context.height


def render_clip(
    source: str | Path,  # a local path or an http(s) URL (a presigned S3 GET)
    *,
    start: float,
    end: float,
    words: Iterable[Word],
    out_path: str | Path,
    scene_cuts: Iterable[float] | None = None,
    preset: str = "veryfast",
    crf: int = 23,
    fonts_dir: str | Path | None = None,
    on_progress: Callable[[float], None] | None = None,
    plan: ReframePlan | None = None,
    max_fps: float = 30.0,
    caption_style: str = "bold",
    caption_options: dict[str, Any] | None = None,
    burn_captions: bool = True,
    timeout: float | None = None,
    aspect: str = "9:16",
    layout: str = "auto",
) -> RenderedClip:
    """Render [start, end) of `source` (source seconds) as a captioned H.264/AAC MP4 of `aspect`
    (9:16 1080x1920, 1:1 1080x1080, 16:9 1920x1080), each shot framed by `layout` (see reframe).

    `words` are transcript words in source time (only those inside the clip are used);
    `scene_cuts` are source times where the virtual camera may jump; `plan` skips face
    detection when the caller already has one. Sidecars land next to `out_path`
    (.srt, .vtt, .ass, .jpg). `caption_style` names the burned-in look (bold, karaoke,
    minimal) and `caption_options` change its fields (font, colours, uppercase, max_words...);
    the captions keep out of the faces the plan saw. `burn_captions=False` writes only the
    sidecars. `on_progress` gets 0..1 over detection and encoding.
    """
    out = Path(out_path)
    if not (start >= 0 and end > start):
        raise InvalidMediaError(f"bad clip window {start}..{end}")
    video = probe_video(source)  # raises InvalidMediaError for a missing or undecodable source
    if start >= video.duration:
        raise InvalidMediaError(
            f"clip starts at {start}s, after the end of {display_name(source)} "
            f"({video.duration:.2f}s)"
        )
    end = min(end, video.duration)
    duration = end - start
    rate = _out_rate(video.fps, max_fps)
    out.parent.mkdir(parents=True, exist_ok=True)
    progress = on_progress or (lambda _f: None)

    if plan is None:
        plan = plan_reframe(
            source,
            start=start,
            end=end,
            scene_cuts=scene_cuts,
            video=video,
            on_progress=lambda f: progress(0.15 * f),
            aspect=aspect,
            layout=layout,
        )
    progress(0.15)

    words = list(words)
    look = caption_look(caption_style, **(caption_options or {}))
    srt_path, vtt_path = out.with_suffix(".srt"), out.with_suffix(".vtt")
    srt_path.write_text(build_srt(words, start, end, **look.grouping), encoding="utf-8")
    vtt_path.write_text(build_vtt(words, start, end, **look.grouping), encoding="utf-8")
    ass_path: Path | None = None
    if burn_captions and caption_lines(words, clip_start=start, clip_end=end, **look.grouping):
        ass_path = out.with_suffix(".ass")
        ass = build_ass(words, clip_start=start, clip_end=end, width=plan.out_w, height=plan.out_h,
                        style=caption_style, avoid=plan.face_bands, **(caption_options or {}))
        ass_path.write_text(ass, encoding="utf-8")

    # round=down: the first frame after the seek lands on t=0 instead of leaving a gap that
    # the muxer fills with a duplicate (one frame too many), and crop's t is the output time.
    graph = f"[0:v]fps={rate.numerator}/{rate.denominator}:round=down[src];"
    graph += plan.filter("src", "rf", rate=float(rate))
    # limited range: full-range (JPEG-style) sources would otherwise stay full range, which
    # many phone players show with crushed blacks
    tail = "scale=out_range=tv,format=yuv420p"
    if ass_path is not None:
        fonts = Path(fonts_dir) if fonts_dir else default_fonts_dir()
        ass_opt = f"ass=filename={filter_path(ass_path)}"
        if fonts:
            ass_opt += f":fontsdir={filter_path(fonts)}"
        tail = f"{tail},{ass_opt}"
    graph += f";[rf]{tail}[v]"

    args: list[str | Path] = [
        *input_options(source),
        "-ss",
        f"{start:.3f}",
        "-t",
        f"{duration:.3f}",
    ]
    args += ["-i", str(source)]
    if video.has_audio:
        audio_map = "0:a:0"
    else:  # platforms and players expect an audio track; give it silence
        args += ["-f", "lavfi", "-t", f"{duration:.3f}", "-i", "anullsrc=r=48000:cl=stereo"]
        audio_map = "1:a:0"
    args += [
        "-filter_complex", graph, "-map", "[v]", "-map", audio_map,
        "-c:v", "libx264", "-preset", preset, "-crf", str(crf), "-pix_fmt", "yuv420p",
        "-r", f"{rate.numerator}/{rate.denominator}",
        "-c:a", "aac", "-b:a", "128k", "-ac", "2",
        "-movflags", "+faststart", "-map_metadata", "-1", "-sn", "-dn",
        out,
    ]  # fmt: skip
    try:
        run_ffmpeg(
            args,
            duration=duration,
            on_progress=(lambda f: progress(0.15 + 0.8 * f)) if on_progress else None,
            timeout=timeout,
        )
    except MediaProcessingError as exc:
        out.unlink(missing_ok=True)  # a half-written MP4 must not look like a result
        # ffmpeg names its input in errors; a presigned URL's signature must not leak
        raise MediaProcessingError(str(exc).replace(str(source), display_name(source))) from None

    out_duration, width, height = _probe_output(out)
    thumb = out.with_suffix(".jpg")
    t = plan.thumbnail_t if plan.thumbnail_t is not None else out_duration / 3
    t = min(max(t, 0.0), max(0.0, out_duration - 2 / float(rate)))
    run_ffmpeg(["-ss", f"{t:.3f}", "-i", out, "-frames:v", "1", "-q:v", "3", "-update", "1", thumb])
    if not thumb.is_file():
        raise MediaProcessingError(f"no thumbnail written for {out.name}")
    progress(1.0)
    return RenderedClip(
        video_path=out,
        thumbnail_path=thumb,
        srt_path=srt_path,
        vtt_path=vtt_path,
        ass_path=ass_path,
        duration=out_duration,
        width=width,
        height=height,
        mode=plan.mode,
        plan=plan,
    )
