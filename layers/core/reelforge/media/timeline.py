"""Render an editor timeline (ordered source segments) into one MP4: the export.

    pieces = [TimelinePiece("a.mp4", 2.0, 6.5), TimelinePiece(url_b, 0.0, 3.0)]
    result = render_timeline(pieces, "export.mp4")

One ffmpeg run with one filter graph: each piece is its own input, seeked with `-ss`/`-t`
so only its window is read and decoded (ranged reads for presigned URLs), then
normalised (frame rate, size with letterbox/pillarbox, SAR 1, 48 kHz stereo audio, silence
where a source has none) and joined with the `concat` filter. Piece boundaries are placed
on the output frame grid first and every piece gets exactly its frames and the matching
number of audio samples, so rounding never accumulates: the export lasts the sum of the
piece durations to within a frame, and audio stays in sync to the sample.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

from reelforge.errors import InvalidMediaError
from reelforge.media.frames import run_ffmpeg_on
from reelforge.media.probe import display_name, is_url
from reelforge.media.source import VideoSource, input_options, probe_video

SAMPLE_RATE = 48000
# Read this much past a piece's end: the trims cut exactly, the slack only covers a last
# frame that starts just before the end.
READ_SLACK_S = 0.25


@dataclass(frozen=True)
class TimelinePiece:
    """`source` seconds [start, end) on the timeline; source is a path or an http(s) URL."""

    source: str | Path
    start: float
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class RenderedTimeline:
    path: Path
    duration: float
    width: int
    height: int
    fps: float


def piece_at(pieces: Sequence[TimelinePiece], t: float) -> tuple[int, float]:
    """The piece on screen at timeline time `t` and the source time shown there.

    A boundary belongs to the piece that starts there; the very end maps to the last piece's
    end (its last frame). Raises ValueError outside [0, total].
    """
    if not pieces:
        raise ValueError("empty timeline")
    starts = _starts(pieces)
    total = starts[-1] + pieces[-1].duration
    if not (0 <= t <= total + 1e-9):
        raise ValueError(f"time {t} is outside the timeline (0..{total:.3f}s)")
    i = min(bisect_right(starts, t + 1e-9) - 1, len(pieces) - 1)
    piece = pieces[i]
    return i, min(piece.start + max(0.0, t - starts[i]), piece.end)


def render_timeline(
    pieces: Sequence[TimelinePiece],
    out: str | Path,
    *,
    width: int | None = None,
    height: int | None = None,
    fps: float | None = None,
    preset: str = "veryfast",
    crf: int = 20,
    on_progress: Callable[[float], None] | None = None,
    timeout: float | None = None,
) -> RenderedTimeline:
    """Join `pieces` in order into one H.264/AAC MP4 (faststart) and describe it.

    Size and rate default to the first piece's; other pieces are scaled to fit inside and
    padded (black), with square pixels. A piece whose end runs past its source is cut at
    the source's end (the timeline is then shorter by that much).
    """
    if not pieces:
        raise InvalidMediaError("nothing to render: the timeline is empty")
    sources = [_checked(p, probe_video(p.source)) for p in pieces]
    first = sources[0][1]
    w, h = _even(width or first.width), _even(height or first.height)
    if w < 2 or h < 2:
        raise ValueError(f"bad output size {width}x{height}")
    rate = _rate(fps or first.fps)
    spans = [p.duration for p, _ in sources]
    # Boundaries on the frame grid and on the sample grid, both from the same cumulative sum.
    bounds = [0.0]
    for d in spans:
        bounds.append(bounds[-1] + d)
    frames = [round(b * rate) for b in bounds]
    samples = [round(Fraction(f) / rate * SAMPLE_RATE) for f in frames]
    if any(b <= a for a, b in zip(frames[:-1], frames[1:], strict=True)):
        raise InvalidMediaError(f"a piece is shorter than one frame at {float(rate):g} fps")

    args: list[str | Path] = []
    graph: list[str] = []
    concat = ""
    for i, (piece, video) in enumerate(sources):
        n_frames = frames[i + 1] - frames[i]
        n_samples = samples[i + 1] - samples[i]
        read = piece.duration + READ_SLACK_S
        args += [*_input_options(piece.source), "-ss", f"{piece.start:.6f}", "-t", f"{read:.6f}"]
        args += ["-i", str(piece.source)]
        graph.append(f"[{i}:v:0]{_video_chain(video, rate, w, h, n_frames)}[v{i}]")
        audio = f"[{i}:a:0]" if video.has_audio else f"anullsrc=r={SAMPLE_RATE}:cl=stereo,"
        graph.append(f"{audio}{_audio_chain(n_samples)}[a{i}]")
        concat += f"[v{i}][a{i}]"
    graph.append(f"{concat}concat=n={len(sources)}:v=1:a=1[v][a]")
    total = frames[-1] / rate
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    args += [
        "-filter_complex", ";".join(graph), "-map", "[v]", "-map", "[a]",
        "-c:v", "libx264", "-preset", preset, "-crf", str(crf), "-pix_fmt", "yuv420p",
        "-r", f"{rate.numerator}/{rate.denominator}",
        "-c:a", "aac", "-b:a", "192k", "-ar", str(SAMPLE_RATE), "-ac", "2",
        "-movflags", "+faststart", "-map_metadata", "-1", "-sn", "-dn", out,
    ]  # fmt: skip
    try:
        run_ffmpeg_on(
            [p.source for p, _ in sources],
            args,
            duration=float(total),
            on_progress=on_progress,
            timeout=timeout,
        )
    except Exception:
        out.unlink(missing_ok=True)  # a half-written MP4 must not look like a result
        raise
    if on_progress:
        on_progress(1.0)
    return RenderedTimeline(
        path=out, duration=_video_duration(out), width=w, height=h, fps=float(rate)
    )


def _video_chain(video: VideoSource, rate: Fraction, w: int, h: int, n_frames: int) -> str:
    """Exactly `n_frames` frames at `rate`, fitted into w x h, square pixels, yuv420p.

    After the input seek the window starts at t=0; `start_time=0` keeps every frame at its
    own time (a reset to the first frame's time would shift the piece by up to a frame
    against its audio). tpad clones the last frame in case the source's last frame ends a
    little early (or the video stream ends before the container); trim then cuts exactly.
    """
    steps = [f"fps={rate.numerator}/{rate.denominator}:start_time=0"]
    steps += [f"tpad=stop_mode=clone:stop={n_frames}", f"trim=end_frame={n_frames}"]
    steps.append("setpts=PTS-STARTPTS")
    if abs(video.sar - 1.0) > 1e-3:  # anamorphic: to square pixels before fitting
        steps.append("scale=trunc(iw*sar/2)*2:ih,setsar=1")
    steps += [
        f"scale={w}:{h}:force_original_aspect_ratio=decrease:force_divisible_by=2",
        f"pad={w}:{h}:(ow-iw)/2:(oh-ih)/2:color=black",
        "setsar=1",
        "format=yuv420p",
    ]
    return ",".join(steps)


def _audio_chain(n_samples: int) -> str:
    """Exactly `n_samples` of 48 kHz stereo from t=0, silence-filled where the source has none.

    `async=1:first_pts=0` fills a late start (and gaps) with silence, so audio keeps its
    place against the video; apad covers a track that ends early.
    """
    return (
        f"aresample={SAMPLE_RATE}:async=1:first_pts=0,"
        "aformat=sample_fmts=fltp:channel_layouts=stereo,"
        f"apad=whole_len={n_samples},atrim=end_sample={n_samples},asetpts=N/SR/TB"
    )


def _input_options(source: str | Path) -> list[str]:
    """A URL input waits, connection open, until concat reaches its piece: let it reconnect."""
    args = input_options(source)
    if is_url(source):
        args += ["-reconnect", "1", "-reconnect_on_network_error", "1"]
        args += ["-reconnect_max_retries", "3", "-reconnect_delay_total_max", "10"]
    return args


def _checked(piece: TimelinePiece, video: VideoSource) -> tuple[TimelinePiece, VideoSource]:
    name = display_name(piece.source)
    if not (math.isfinite(piece.start) and math.isfinite(piece.end)):
        raise InvalidMediaError(f"piece of {name} has a non-finite start or end")
    if piece.start < 0 or piece.end <= piece.start:
        raise InvalidMediaError(f"bad piece window {piece.start:g}..{piece.end:g}s of {name}")
    if piece.start >= video.duration:
        raise InvalidMediaError(
            f"piece starts at {piece.start:g}s, after the end of {name} ({video.duration:.2f}s)"
        )
    end = min(piece.end, video.duration)
    return TimelinePiece(piece.source, piece.start, end), video


def _starts(pieces: Sequence[TimelinePiece]) -> list[float]:
    starts = [0.0]
    for p in pieces[:-1]:
        starts.append(starts[-1] + p.duration)
    return starts


def _even(v: int) -> int:
    return int(v) // 2 * 2


def _rate(fps: float) -> Fraction:
    """29.97 stays 30000/1001 (probes round it), anything else as a small fraction."""
    for ntsc in (Fraction(24000, 1001), Fraction(30000, 1001), Fraction(60000, 1001)):
        if abs(fps - ntsc) < 0.005:
            return ntsc
    return Fraction(fps).limit_denominator(1001)


def _video_duration(path: Path) -> float:
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        if v.duration:
            return float(v.duration * v.time_base)
        return c.duration / av.time_base
