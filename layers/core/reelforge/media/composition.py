"""Render a composed timeline (AutoVio's export): clips with transitions, text and image
overlays and a music track, in one ffmpeg run, on an exact frame grid.

    comp = Composition(clips=[Clip("s0.mp4", 0.0, 4.0),
                              Clip("s1.mp4", 3.5, 8.0, transition=Transition("fade", 0.5))],
                       texts=[TextOverlay("Hello", 0.5, 3.0, center_x=540, center_y=400,
                                          font_size=96)],
                       audio=[AudioTrack("music.mp3", volume=0.6)])
    render_composition(comp, "export.mp4")          # RenderedComposition(path, duration, frames)
    preview_frame(comp, 3.7, "preview.jpg")         # the same frame, from the same graph

Times are seconds on the output timeline and are snapped to the output frame grid first
(a thing starting at `s` starts on frame `round(s * fps)`, halves rounded up), so the export
has exactly `round(duration * fps)` frames and nothing drifts. A transition is an explicit
overlap: the clip that fades in starts `duration` before the previous one ends, nothing is
shortened or moved; it lasts `round(duration * fps)` frames wherever it falls. Frame k of a d-frame transition shows the incoming clip at (k + 1) / (d + 1), so every
frame of the window is a blend and the frames on either side are clean.

The graph (`filter_graph`, pure) cuts the timeline into segments: background gaps, stretches
where one clip plays, and transitions (ffmpeg's `xfade` on the two clips' overlapping
frames); each clip is one input, seeked to what the segments need and split between them;
the segments are concatenated, then images and texts (`drawtext`, once, on a transparent
canvas) are laid over their frame windows with `overlay`. Audio: every clip's own sound (faded across its transitions) and the
music tracks, placed on the sample grid and summed with `amix`. `preview_frame` builds the
graph for a one-frame window of the same timeline, so the preview is the export's frame
without rendering the rest.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Literal

import av

from reelforge.errors import BadRequest, InvalidMediaError
from reelforge.media.frames import frame_index, run_ffmpeg_on
from reelforge.media.probe import display_name, is_url, probe
from reelforge.media.render import default_fonts_dir, filter_path
from reelforge.media.source import VideoSource, probe_video
from reelforge.media.timeline import READ_SLACK_S, SAMPLE_RATE
from reelforge.media.timeline import _input_options as source_options
from reelforge.media.timeline import _rate as frame_rate

# Transition kinds (AutoVio's names) -> ffmpeg xfade transitions. "cut" is no transition.
TRANSITIONS: dict[str, str | None] = {
    "cut": None,
    **{name: name for name in (
        "fade", "dissolve", "fadeblack", "fadewhite", "fadegrays", "fadefast", "fadeslow",
        "wipeleft", "wiperight", "wipeup", "wipedown", "wipetl", "wipetr", "wipebl", "wipebr",
        "slideleft", "slideright", "slideup", "slidedown",
        "smoothleft", "smoothright", "smoothup", "smoothdown",
        "coverleft", "coverright", "coverup", "coverdown",
        "revealleft", "revealright", "revealup", "revealdown",
        "circleopen", "circleclose", "circlecrop", "rectcrop", "radial", "distance",
        "vertopen", "vertclose", "horzopen", "horzclose",
        "diagtl", "diagtr", "diagbl", "diagbr", "hlslice", "hrslice", "vuslice", "vdslice",
        "hlwind", "hrwind", "vuwind", "vdwind", "pixelize", "hblur", "squeezeh", "squeezev",
        "zoomin",
    )},
    "crossfade": "fade",  # common alias
}
FitMode = Literal["cover", "contain"]
# The previous clip's end may miss `start + transition.duration` by this much (float noise).
TRANSITION_TOLERANCE_S = 1e-3
# A preview seeks this many frames before its frame: the frame-rate conversion then sees
# the same neighbouring source frames as the export does.
PREVIEW_LEAD_FRAMES = 2
DEFAULT_FONT = "DejaVuSans-Bold.ttf"
_HEX_COLOR = re.compile(r"^(?:#|0x)?([0-9a-fA-F]{6}(?:[0-9a-fA-F]{2})?)$")
_NAMED_COLOR = re.compile(r"^[A-Za-z]{3,30}$")


class CompositionError(BadRequest, ValueError):
    """The composition cannot be rendered as given (times, overlaps, a missing file) -> 400."""


class UnknownTransitionError(CompositionError):
    """A transition kind that is not in TRANSITIONS; the message lists the valid kinds."""


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class Transition:
    """The transition INTO a clip from the previous one, `duration` seconds of overlap."""

    kind: str = "fade"
    duration: float = 0.5

    def __post_init__(self) -> None:
        kind = str(self.kind).strip().lower()
        if kind not in TRANSITIONS:
            raise UnknownTransitionError(
                f"unknown transition {self.kind!r}; valid kinds: {', '.join(sorted(TRANSITIONS))}"
            )
        object.__setattr__(self, "kind", kind)
        _finite(self.duration, "transition duration")
        if self.duration < 0 or (self.duration == 0 and kind != "cut"):
            raise CompositionError(f"transition duration must be positive, got {self.duration:g}")

    @property
    def xfade(self) -> str | None:
        return TRANSITIONS[self.kind]


@dataclass(frozen=True)
class Clip:
    """`source` played from `trim_start` for end - start seconds at timeline [start, end).

    A source shorter than that holds its last frame (and goes silent). `fit`: "cover" fills
    the frame (cropping), "contain" fits inside it (background bars)."""

    source: str | Path
    start: float
    end: float
    trim_start: float = 0.0
    transition: Transition | None = None
    fit: FitMode = "cover"

    def __post_init__(self) -> None:
        _window(self.start, self.end, f"clip {display_name(self.source)}")
        _finite(self.trim_start, "clip trim_start")
        if self.trim_start < 0:
            raise CompositionError(f"clip trim_start must be >= 0, got {self.trim_start:g}")
        if self.fit not in ("cover", "contain"):
            raise CompositionError(f"clip fit must be 'cover' or 'contain', got {self.fit!r}")

    @property
    def blend(self) -> Transition | None:
        """The transition that actually blends (a "cut" is none)."""
        return self.transition if self.transition and self.transition.xfade else None


@dataclass(frozen=True)
class TextOverlay:
    """`text` (newlines allowed) centred at (center_x, center_y), `font_size` pixels high
    (the em size), in `font` (a TTF/OTF file; bundled DejaVu Sans Bold by default), with an
    optional outline of `outline_width` pixels."""

    text: str
    start: float
    end: float
    center_x: float
    center_y: float
    font_size: float = 64
    color: str = "#ffffff"
    font: str | Path | None = None
    outline_width: float = 0
    outline_color: str = "#000000"

    def __post_init__(self) -> None:
        _window(self.start, self.end, "text overlay")
        _finite(self.center_x, "text center_x")
        _finite(self.center_y, "text center_y")
        _finite(self.font_size, "text font_size")
        _finite(self.outline_width, "text outline_width")
        if not 1 <= self.font_size <= 2000:
            raise CompositionError(f"text font_size must be 1..2000, got {self.font_size:g}")
        if self.outline_width < 0:
            raise CompositionError("text outline_width must be >= 0")
        _color(self.color)
        _color(self.outline_color)


@dataclass(frozen=True)
class ImageOverlay:
    """An image scaled to width x height (keep_aspect: fit inside it), rotated `rotation`
    degrees clockwise (the corners stay transparent), at `opacity`, centred."""

    source: str | Path
    start: float
    end: float
    center_x: float
    center_y: float
    width: float
    height: float
    opacity: float = 1.0
    rotation: float = 0.0
    keep_aspect: bool = True

    def __post_init__(self) -> None:
        _window(self.start, self.end, f"image overlay {display_name(self.source)}")
        for name in ("center_x", "center_y", "width", "height", "opacity", "rotation"):
            _finite(getattr(self, name), f"image {name}")
        if self.width < 1 or self.height < 1:
            raise CompositionError(f"image size must be at least 1x1, got {self.width:g}x{self.height:g}")
        if not 0 <= self.opacity <= 1:
            raise CompositionError(f"image opacity must be 0..1, got {self.opacity:g}")


@dataclass(frozen=True)
class AudioTrack:
    """`source` from `trim_start`, starting at timeline `start`, at `volume` (1 = as is)."""

    source: str | Path
    start: float = 0.0
    volume: float = 1.0
    trim_start: float = 0.0

    def __post_init__(self) -> None:
        for name in ("start", "volume", "trim_start"):
            _finite(getattr(self, name), f"audio {name}")
            if getattr(self, name) < 0:
                raise CompositionError(f"audio {name} must be >= 0")


@dataclass(frozen=True)
class Composition:
    """A timeline: clips in order (gaps show `background`), overlays on top (images, then
    texts, each in the order given), music mixed with the clips' own sound.

    Validated on construction: clips in timeline order, an overlap only where the later clip
    has a transition that covers it exactly, at most two clips at any moment. Files are
    checked when rendering."""

    width: int = 1080
    height: int = 1920
    fps: float = 30.0
    clips: Sequence[Clip] = ()
    texts: Sequence[TextOverlay] = ()
    images: Sequence[ImageOverlay] = ()
    audio: Sequence[AudioTrack] = ()
    clip_audio_volume: float = 1.0
    background: str = "black"

    def __post_init__(self) -> None:
        for name in ("clips", "texts", "images", "audio"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        if not (isinstance(self.width, int) and isinstance(self.height, int)):
            raise CompositionError("width and height must be whole pixels")
        if not (16 <= self.width <= 8192 and 16 <= self.height <= 8192):
            raise CompositionError(f"bad output size {self.width}x{self.height}")
        _finite(self.fps, "fps")
        if not 1 <= self.fps <= 120:
            raise CompositionError(f"fps must be 1..120, got {self.fps:g}")
        _finite(self.clip_audio_volume, "clip_audio_volume")
        if self.clip_audio_volume < 0:
            raise CompositionError("clip_audio_volume must be >= 0")
        _color(self.background)
        if self.duration <= 0:
            raise CompositionError("nothing to render: no clip or overlay")
        _check_clips(self.clips)
        if self.frames < 1:
            raise CompositionError(f"the timeline is shorter than one frame at {self.fps:g} fps")
        segments(self)  # the same checks on the frame grid (a clip shorter than a frame...)

    @property
    def rate(self) -> Fraction:
        return frame_rate(self.fps)

    @property
    def size(self) -> tuple[int, int]:
        """The output size, rounded down to even numbers (yuv420p)."""
        return self.width // 2 * 2, self.height // 2 * 2

    @property
    def duration(self) -> float:
        """The end of the last clip or overlay (music does not lengthen the timeline)."""
        return max((x.end for x in (*self.clips, *self.texts, *self.images)), default=0.0)

    @property
    def frames(self) -> int:
        return frame_at(self.duration, self.rate)


@dataclass(frozen=True)
class RenderedComposition:
    path: Path
    duration: float
    frames: int


def _finite(v: float, what: str) -> None:
    if not isinstance(v, int | float) or not math.isfinite(v):
        raise CompositionError(f"{what} must be a finite number, got {v!r}")


def _window(start: float, end: float, what: str) -> None:
    _finite(start, f"{what} start")
    _finite(end, f"{what} end")
    if start < 0 or end <= start:
        raise CompositionError(f"{what}: bad time window {start:g}..{end:g}s")


def _color(c: str) -> str:
    """An ffmpeg colour: '#rrggbb[aa]' / '0xrrggbb[aa]' -> '0xrrggbb[aa]', or a colour name."""
    s = str(c).strip()
    m = _HEX_COLOR.match(s)
    if m:
        return "0x" + m.group(1)
    if _NAMED_COLOR.match(s):
        return s
    raise CompositionError(f"bad colour {c!r}: use #rrggbb, #rrggbbaa or a colour name")


def _check_clips(clips: Sequence[Clip]) -> None:
    eps = 1e-9
    for i, clip in enumerate(clips):
        if i == 0:
            continue
        prev = clips[i - 1]
        where = f"clip {i} ({display_name(clip.source)})"
        if clip.start < prev.start - eps:
            raise CompositionError(f"{where} starts before clip {i - 1}: clips must be in timeline order")
        if clip.end <= prev.end + eps and clip.start < prev.end - eps:
            raise CompositionError(f"{where} ends inside clip {i - 1}")
        blend = clip.blend
        if blend is None:
            if clip.start < prev.end - eps:
                raise CompositionError(
                    f"{where} overlaps clip {i - 1} ({clip.start:g}s < {prev.end:g}s) "
                    "without a transition"
                )
            continue
        if abs(prev.end - (clip.start + blend.duration)) > TRANSITION_TOLERANCE_S:
            raise CompositionError(
                f"{where}: a {blend.duration:g}s {blend.kind} transition needs clip {i - 1} to "
                f"end at {clip.start + blend.duration:g}s (start + duration); it ends at "
                f"{prev.end:g}s"
            )
        if i >= 2 and clip.start < clips[i - 2].end - eps:
            raise CompositionError(f"{where} starts before clip {i - 2} ends: three clips overlap")


# --------------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class Segment:
    """Timeline frames [f0, f1): a gap, one clip (`a`), or a transition from `a` to `b`."""

    f0: int
    f1: int
    a: int | None = None
    b: int | None = None
    xfade: str | None = None


def frame_at(t: float, rate: Fraction) -> int:
    """The frame a time snaps to: the nearest, halves up (so two times a whole number of
    frames apart stay that far apart, which round-half-even does not promise)."""
    return math.floor(t * rate + 0.5 + 1e-9)


def clip_frames(comp: Composition) -> list[tuple[int, int]]:
    """Each clip's [first, end) frame on the output grid. A clip with a transition starts
    the transition's frame count before the previous clip's end frame."""
    rate = comp.rate
    spans: list[tuple[int, int]] = []
    for i, c in enumerate(comp.clips):
        f1 = frame_at(c.end, rate)
        blend = c.blend
        if blend is not None and i > 0:
            spans.append((spans[i - 1][1] - frame_at(blend.duration, rate), f1))
        else:
            spans.append((frame_at(c.start, rate), f1))
    return spans


def segments(comp: Composition) -> list[Segment]:
    """The timeline cut into gaps, single-clip stretches and transitions, covering every frame."""
    spans = clip_frames(comp)
    out: list[Segment] = []
    cursor = 0
    for i, (clip, (f0, f1)) in enumerate(zip(comp.clips, spans, strict=True)):
        if f1 <= f0:
            raise CompositionError(f"clip {i} is shorter than one frame at {comp.fps:g} fps")
        if f0 < cursor:
            raise CompositionError(f"clip {i} starts inside the previous clip's transition")
        blend = clip.blend
        if blend is not None:
            overlap = spans[i - 1][1] - f0
            if overlap < 1:
                raise CompositionError(f"clip {i}: the transition is shorter than one frame")
            out.append(Segment(f0, f0 + overlap, i - 1, i, blend.xfade))
            cursor = f0 + overlap
        elif f0 > cursor:
            out.append(Segment(cursor, f0))
            cursor = f0
        nxt = comp.clips[i + 1] if i + 1 < len(comp.clips) else None
        body_end = spans[i + 1][0] if nxt is not None and nxt.blend is not None else f1
        if body_end < cursor:
            raise CompositionError(f"clip {i} is shorter than its transitions")
        if body_end > cursor:
            out.append(Segment(cursor, body_end, i))
            cursor = body_end
    if comp.frames > cursor:
        out.append(Segment(cursor, comp.frames))
    return out


def _samples(frame: int, rate: Fraction) -> int:
    return round(Fraction(frame) / rate * SAMPLE_RATE)


# --------------------------------------------------------------------------- the graph


@dataclass(frozen=True)
class FilterGraph:
    """ffmpeg's inputs and `-filter_complex` for frames [first, first + frames) of a timeline."""

    inputs: tuple[tuple[str, ...], ...]  # per input: its options and `-i source`
    graph: str
    video: str  # output label, e.g. "[v]"
    audio: str | None
    first: int
    frames: int
    sources: tuple[str, ...]  # every file or URL it reads, for error messages

    def args(self) -> list[str]:
        return [*(a for opts in self.inputs for a in opts), "-filter_complex", self.graph]


def filter_graph(
    comp: Composition,
    media: Sequence[VideoSource] | None = None,
    *,
    window: tuple[int, int] | None = None,
    audio: bool = True,
) -> FilterGraph:
    """The inputs and filter graph that draw timeline frames `window` = [first, end) (the
    whole timeline by default), with the mixed audio when `audio` (whole timeline only).

    `media` is what `probe_video` says about each clip's source, in clip order; without it
    every source is taken to have sound, square pixels and enough frames. Pure: nothing is
    read or run."""
    rate = comp.rate
    total = comp.frames
    w0, w1 = window or (0, total)
    if not 0 <= w0 < w1 <= total:
        raise CompositionError(f"frame window {w0}..{w1} is outside the timeline (0..{total})")
    if audio and (w0, w1) != (0, total):
        raise ValueError("audio is built for the whole timeline only")
    if media is not None and len(media) != len(comp.clips):
        raise ValueError("media must describe every clip")
    width, height = comp.size
    bg = _color(comp.background)
    spans = clip_frames(comp)
    tb = f"{rate.denominator}/{rate.numerator}"
    fr = f"{rate.numerator}/{rate.denominator}"

    # Which local frames of each clip the window needs, and for what.
    uses: dict[int, list[tuple[int, int]]] = {}
    pieces: list[tuple[Segment, int, int]] = []  # segment, its window part [a, b)
    for seg in segments(comp):
        a, b = max(seg.f0, w0), min(seg.f1, w1)
        if a >= b:
            continue
        pieces.append((seg, a, b))
        if seg.a is not None and seg.b is not None:  # a transition: both clips' frames
            uses.setdefault(seg.a, []).append((a - spans[seg.a][0], b - spans[seg.a][0]))
            uses.setdefault(seg.b, []).append((a - seg.f0, b - seg.f0))
        elif seg.a is not None:
            f0 = spans[seg.a][0]
            uses.setdefault(seg.a, []).append((a - f0, b - f0))

    inputs: list[tuple[str, ...]] = []
    sources: list[str] = []
    graph: list[str] = []
    use_labels: dict[tuple[int, int, int], str] = {}
    input_of: dict[int, int] = {}
    for ci in sorted(uses):
        clip = comp.clips[ci]
        video = media[ci] if media is not None else None
        ranges = sorted(set(uses[ci]))
        lo, hi = min(r[0] for r in ranges), max(r[1] for r in ranges)
        # Seek to a frame of the output grid (so the rate conversion sees the source frames
        # that the export sees), a little before the first needed frame, never past the
        # source's last frame.
        seek_frame = max(0, lo - PREVIEW_LEAD_FRAMES)
        if video is not None:
            last = math.floor((video.duration - clip.trim_start) * rate) - 1
            seek_frame = max(0, min(seek_frame, last - PREVIEW_LEAD_FRAMES))
        seek = clip.trim_start + float(Fraction(seek_frame) / rate)
        read = float(Fraction(hi - seek_frame) / rate) + READ_SLACK_S
        k = len(inputs)
        input_of[ci] = k
        opts = [*source_options(clip.source), "-ss", f"{seek:.6f}", "-t", f"{read:.6f}"]
        inputs.append((*opts, "-i", str(clip.source)))
        sources.append(str(clip.source))
        first = lo - seek_frame
        timing = [f"fps={fr}:start_time=0", f"tpad=stop_mode=clone:stop={hi - seek_frame}",
                  f"trim=start_frame={first}:end_frame={hi - seek_frame}", "setpts=PTS-STARTPTS"]
        fit = _fit(clip.fit, video, width, height, bg)
        # Scale the fewer frames: a 24 fps source before the rate goes up to 30 (the repeats
        # are then references to scaled frames), a 60 fps one after it comes down.
        fewer_first = video is not None and video.fps <= float(rate) + 1e-3
        chain = [*fit, *timing] if fewer_first else [*timing, *fit]
        label = f"c{ci}"
        if len(ranges) == 1:
            graph.append(f"[{k}:v:0]{','.join(chain)}[{label}u0]")
        else:
            outs = "".join(f"[{label}s{j}]" for j in range(len(ranges)))
            graph.append(f"[{k}:v:0]{','.join(chain)},split={len(ranges)}{outs}")
        for j, (a, b) in enumerate(ranges):
            if len(ranges) > 1:
                graph.append(f"[{label}s{j}]trim=start_frame={a - lo}:end_frame={b - lo},"
                             f"setpts=PTS-STARTPTS[{label}u{j}]")
            use_labels[(ci, a, b)] = f"[{label}u{j}]"

    seg_labels: list[str] = []
    for n, (seg, a, b) in enumerate(pieces):
        out = f"[g{n}]"
        if seg.a is not None and seg.b is not None:
            d = seg.f1 - seg.f0
            fa = spans[seg.a][0]
            left = use_labels[(seg.a, a - fa, b - fa)]
            right = use_labels[(seg.b, a - seg.f0, b - seg.f0)]
            # Frame k of the window shows the incoming clip at (k + 1) / (d + 1): xfade over
            # d + 1 frames, started one frame before the window (a negative offset), so no
            # frame is a clean copy; a window that starts later starts that much earlier.
            offset = -Fraction(1 + a - seg.f0) / rate
            graph.append(
                f"{left}{right}xfade=transition={seg.xfade}:duration={float((d + 1) / rate):.6f}"
                f":offset={float(offset):.6f},setpts=PTS-STARTPTS{out}"
            )
        elif seg.a is not None:
            f0 = spans[seg.a][0]
            graph.append(f"{use_labels[(seg.a, a - f0, b - f0)]}null{out}")
        else:
            graph.append(f"color=c={bg}:s={width}x{height}:r={fr},trim=end_frame={b - a},"
                         f"format=yuv420p,setsar=1{out}")
        seg_labels.append(out)
    count = w1 - w0
    joined = "".join(seg_labels)
    if len(seg_labels) > 1:
        joined = f"{joined}concat=n={len(seg_labels)}:v=1:a=0,"
    else:
        joined = f"{joined}null,"
    graph.append(f"{joined}settb={tb},setpts=N[m0]")
    main = "[m0]"

    for j, image in enumerate(comp.images):
        a, b = _frames_of(image.start, image.end, rate, total)
        a, b = max(a, w0), min(b, w1)
        if a >= b:
            continue
        k = len(inputs)
        inputs.append((*source_options(image.source), "-i", str(image.source)))
        sources.append(str(image.source))
        size = f"{max(1, round(image.width))}:{max(1, round(image.height))}"
        fit = ":force_original_aspect_ratio=decrease" if image.keep_aspect else ""
        chain = [f"trim=end_frame=1,format=rgba,scale={size}{fit}"]
        if image.opacity < 1:
            chain.append(f"colorchannelmixer=aa={image.opacity:.4f}")
        if image.rotation % 360:
            rad = f"{math.radians(image.rotation):.8f}"
            chain.append(f"rotate={rad}:ow=rotw({rad}):oh=roth({rad}):c=none")
        # Converted once, then the one picture repeated (overlay would convert every frame).
        chain += ["format=yuva420p", f"loop=loop={b - a - 1}:size=1:start=0", f"settb={tb}",
                  f"setpts=N+{a - w0}"]
        graph.append(f"[{k}:v:0]{','.join(chain)}[i{j}]")
        x, y = f"{image.center_x:.2f}-overlay_w/2", f"{image.center_y:.2f}-overlay_h/2"
        enable = f"between(n\\,{a - w0}\\,{b - w0 - 1})"
        graph.append(f"{main}[i{j}]overlay=x={x}:y={y}:eof_action=pass:enable={enable}[m{j + 1}i]")
        main = f"[m{j + 1}i]"

    for j, text in enumerate(comp.texts):
        a, b = _frames_of(text.start, text.end, rate, total)
        a, b = max(a, w0), min(b, w1)
        box = _text_box(text, width, height)
        if a >= b or not text.text.strip() or box is None:
            continue
        # Drawn once on a transparent canvas (of the text's colour, so the antialiased
        # edges keep it), then laid over its frames: drawtext on every frame costs more.
        left, top, cw, ch = box
        ground = _color(text.outline_color if text.outline_width > 0 else text.color)
        ground = ground[:8] if ground.startswith("0x") else ground  # its own alpha: 0
        graph.append(
            f"color=c={ground}@0:s={cw}x{ch}:r={fr},trim=end_frame=1,format=rgba,"
            f"{_drawtext(text, text.center_x - left, text.center_y - top)},format=yuva420p,"
            f"loop=loop={b - a - 1}:size=1:start=0,settb={tb},setpts=N+{a - w0}[t{j}]"
        )
        enable = f"between(n\\,{a - w0}\\,{b - w0 - 1})"
        graph.append(f"{main}[t{j}]overlay=x={left}:y={top}:eof_action=pass:enable={enable}[m{j + 1}t]")
        main = f"[m{j + 1}t]"
    graph.append(f"{main}format=yuv420p[v]")

    audio_label = None
    if audio:
        audio_label = "[a]"
        graph += _audio_graph(comp, media, spans, input_of, inputs, sources)
    return FilterGraph(tuple(inputs), ";".join(graph), "[v]", audio_label, w0, count,
                       tuple(sources))


def _frames_of(start: float, end: float, rate: Fraction, total: int) -> tuple[int, int]:
    return frame_at(start, rate), min(total, frame_at(end, rate))


def _fit(fit: str, video: VideoSource | None, w: int, h: int, bg: str) -> list[str]:
    """Square pixels, then cover (scale up and crop the middle) or contain (fit and pad)."""
    steps = []
    if video is not None and abs(video.sar - 1.0) > 1e-3:
        steps.append("scale=trunc(iw*sar/2)*2:ih,setsar=1")
    if fit == "contain":
        steps += [f"scale={w}:{h}:force_original_aspect_ratio=decrease:force_divisible_by=2",
                  f"pad={w}:{h}:(ow-iw)/2:(oh-ih)/2:color={bg}"]
    else:  # crop the source to the frame's shape first: a landscape clip is not scaled 3x wide
        steps += [f"crop=w='min(iw,trunc(ih*{w}/{h}/2)*2)':h='min(ih,trunc(iw*{h}/{w}/2)*2)'",
                  f"scale={w}:{h}"]
    return [*steps, "setsar=1", "format=yuv420p"]


def font_file(font: str | Path | None) -> Path:
    """The TTF/OTF to draw with: the one given, else the bundled DejaVu Sans Bold."""
    if font is not None:
        return Path(font)
    fonts = default_fonts_dir()
    if fonts is not None:
        bold = fonts / DEFAULT_FONT
        if bold.is_file():
            return bold
        found = sorted(fonts.glob("*.[ot]tf"))
        if found:
            return found[0]
    raise CompositionError("no font to draw text with: give TextOverlay.font a TTF/OTF file")


def escape_text(text: str) -> str:
    """drawtext's `text=` value inside -filter_complex: `expansion=none` makes '%' literal,
    and the two levels of escaping (option value, then graph) keep quotes, colons,
    backslashes, commas and brackets; a newline is passed as is (drawtext breaks the line)."""
    return filter_path(text.replace("\r\n", "\n").replace("\r", "\n"))


def _text_box(t: TextOverlay, width: int, height: int) -> tuple[int, int, int, int] | None:
    """(left, top, width, height) of a canvas that holds the drawn text, cut to the frame
    (None when it is all off screen). Generous on purpose: 1.3 em a character (the widest
    Latin glyphs are about 1 em) and 1.7 em a line, plus the outline and an em of margin."""
    lines = t.text.replace("\t", "    ").split("\n")
    margin = 2 * t.outline_width + t.font_size
    est_w = max(len(line) for line in lines) * 1.3 * t.font_size + margin
    est_h = len(lines) * 1.7 * t.font_size + margin
    left = max(0, math.floor((t.center_x - est_w / 2) / 2) * 2)
    top = max(0, math.floor((t.center_y - est_h / 2) / 2) * 2)
    right = min(width, math.ceil((t.center_x + est_w / 2) / 2) * 2)
    bottom = min(height, math.ceil((t.center_y + est_h / 2) / 2) * 2)
    if right <= left or bottom <= top:
        return None
    return left, top, right - left, bottom - top


def _drawtext(t: TextOverlay, cx: float, cy: float) -> str:
    """drawtext for `t`, centred at (cx, cy) of the frame it draws on."""
    opts = [
        f"fontfile={filter_path(font_file(t.font))}",
        f"text={escape_text(t.text)}",
        "expansion=none",
        f"fontsize={t.font_size:g}",
        f"fontcolor={_color(t.color)}",
        "text_align=C",  # lines centred on each other
        f"x={cx:.2f}-text_w/2",
        f"y={cy:.2f}-text_h/2",
    ]
    if t.outline_width > 0:
        opts += [f"borderw={round(t.outline_width)}", f"bordercolor={_color(t.outline_color)}"]
    return "drawtext=" + ":".join(opts)


def _audio_graph(
    comp: Composition,
    media: Sequence[VideoSource] | None,
    spans: list[tuple[int, int]],
    input_of: Mapping[int, int],
    inputs: list[tuple[str, ...]],
    sources: list[str],
) -> list[str]:
    """Every clip's sound on its own samples (faded in and out across its transitions) and
    every music track, delayed to their places, summed without rescaling, cut to the video."""
    rate = comp.rate
    total = _samples(comp.frames, rate)
    fmt = f"aresample={SAMPLE_RATE}:async=1:first_pts=0,aformat=sample_fmts=fltp:channel_layouts=stereo"
    graph: list[str] = []
    mix: list[str] = []
    for i, clip in enumerate(comp.clips):
        if (media is not None and not media[i].has_audio) or comp.clip_audio_volume == 0:
            continue  # silence: nothing to add
        f0, f1 = spans[i]
        s0, n = _samples(f0, rate), _samples(f1, rate) - _samples(f0, rate)
        chain = [fmt, f"apad=whole_len={n}", f"atrim=end_sample={n}", "asetpts=N/SR/TB"]
        if comp.clip_audio_volume != 1:
            chain.append(f"volume={comp.clip_audio_volume:.4f}")
        if clip.blend is not None:
            fade = _samples(spans[i - 1][1], rate) - s0
            chain.append(f"afade=t=in:ss=0:ns={fade}")
        nxt = comp.clips[i + 1] if i + 1 < len(comp.clips) else None
        if nxt is not None and nxt.blend is not None:
            fade = _samples(f1, rate) - _samples(spans[i + 1][0], rate)
            chain.append(f"afade=t=out:ss={n - fade}:ns={fade}")
        if s0:
            chain.append(f"adelay=delays={s0}S:all=1")
        label = f"[ac{i}]"
        graph.append(f"[{input_of[i]}:a:0]{','.join(chain)}{label}")
        mix.append(label)
    for j, track in enumerate(comp.audio):
        s0 = round(track.start * SAMPLE_RATE)
        n = total - s0
        if n <= 0 or track.volume == 0:
            continue
        k = len(inputs)
        read = n / SAMPLE_RATE + READ_SLACK_S
        opts = [*source_options(track.source), "-ss", f"{track.trim_start:.6f}", "-t", f"{read:.6f}"]
        inputs.append((*opts, "-i", str(track.source)))
        sources.append(str(track.source))
        chain = [fmt, f"atrim=end_sample={n}"]
        if track.volume != 1:
            chain.append(f"volume={track.volume:.4f}")
        if s0:
            chain.append(f"adelay=delays={s0}S:all=1")
        label = f"[am{j}]"
        graph.append(f"[{k}:a:0]{','.join(chain)}{label}")
        mix.append(label)
    tail = f"apad=whole_len={total},atrim=end_sample={total},asetpts=N/SR/TB[a]"
    if not mix:
        graph.append(f"anullsrc=r={SAMPLE_RATE}:cl=stereo,{tail}")
    elif len(mix) == 1:
        graph.append(f"{mix[0]}{tail}")
    else:
        graph.append(f"{''.join(mix)}amix=inputs={len(mix)}:normalize=0:duration=longest"
                     f":dropout_transition=0,{tail}")
    return graph


# --------------------------------------------------------------------------- running it


def render_composition(
    comp: Composition,
    out: str | Path,
    *,
    preset: str = "veryfast",
    crf: int = 23,
    on_progress: Callable[[float], None] | None = None,
    timeout: float | None = None,
) -> RenderedComposition:
    """Render the whole timeline to an H.264 (yuv420p) + AAC stereo 48 kHz MP4 (faststart),
    in one ffmpeg run with one encode; return what was written. `on_progress` gets the
    fraction done (0..1) as ffmpeg encodes."""
    media = _check_sources(comp, range(len(comp.clips)), images=True, audio=True)
    fg = filter_graph(comp, media)
    rate = comp.rate
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    args = [
        *fg.args(), "-map", fg.video, "-map", str(fg.audio),
        "-c:v", "libx264", "-preset", preset, "-crf", str(crf), "-pix_fmt", "yuv420p",
        "-r", f"{rate.numerator}/{rate.denominator}", "-frames:v", str(fg.frames),
        "-c:a", "aac", "-b:a", "192k", "-ar", str(SAMPLE_RATE), "-ac", "2",
        "-movflags", "+faststart", "-map_metadata", "-1", "-sn", "-dn", str(out),
    ]  # fmt: skip
    try:
        run_ffmpeg_on(fg.sources, args, duration=comp.frames / float(rate),
                      on_progress=on_progress, timeout=timeout)
    except Exception:
        out.unlink(missing_ok=True)  # a half-written MP4 must not look like a result
        raise
    with av.open(str(out)) as c:
        frames = c.streams.video[0].frames
    return RenderedComposition(out, float(Fraction(frames) / rate), frames)


def preview_frame(
    comp: Composition, t: float, out: str | Path, *, quality: int = 2,
    timeout: float | None = None,
) -> Path:
    """The export's frame on screen at `t` seconds, as a JPEG, from a one-frame window of
    the same graph (only the clips and overlays on screen then are read)."""
    _finite(t, "preview time")
    if t < 0 or t > comp.duration + 1e-6:
        raise CompositionError(f"preview time {t:g}s is outside the timeline (0..{comp.duration:g}s)")
    k = min(frame_index(t, float(comp.rate)), comp.frames - 1)
    on_screen = [i for i, seg_clips in enumerate(_clips_at(comp, k)) if seg_clips]
    media = _check_sources(comp, on_screen, images=True, audio=False)
    fg = filter_graph(comp, media, window=(k, k + 1), audio=False)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)
    args = [*fg.args(), "-map", fg.video, "-frames:v", "1", "-q:v", str(quality),
            "-update", "1", str(out)]
    run_ffmpeg_on(fg.sources, args, timeout=timeout)
    if not out.is_file() or out.stat().st_size == 0:
        raise InvalidMediaError(f"no frame at {t:g}s")
    return out


def _clips_at(comp: Composition, k: int) -> list[bool]:
    """Per clip: does the one-frame window at k read it (a transition reads both clips)."""
    used = [False] * len(comp.clips)
    for seg in segments(comp):
        if seg.f0 <= k < seg.f1:
            for i in (seg.a, seg.b):
                if i is not None:
                    used[i] = True
    return used


def _check_sources(
    comp: Composition, clips: Sequence[int] | range, *, images: bool, audio: bool
) -> list[VideoSource]:
    """Probe the clips to be read (others get a placeholder), check overlay and music files."""
    placeholder = VideoSource(2, 2, math.inf, 30.0, has_audio=False)
    media = [placeholder] * len(comp.clips)
    for i in clips:
        clip = comp.clips[i]
        _exists(clip.source, f"clip {i}")
        try:
            media[i] = probe_video(clip.source)
        except InvalidMediaError as exc:
            raise InvalidMediaError(f"clip {i}: {exc}") from exc
        if clip.trim_start >= media[i].duration:
            raise CompositionError(
                f"clip {i}: trim_start {clip.trim_start:g}s is past the end of "
                f"{display_name(clip.source)} ({media[i].duration:.2f}s)"
            )
    if images:
        for j, image in enumerate(comp.images):
            _exists(image.source, f"image overlay {j}")
    for j, text in enumerate(comp.texts):
        if text.font is not None:
            _exists(text.font, f"text overlay {j} font")
    if audio:
        for j, track in enumerate(comp.audio):
            _exists(track.source, f"audio track {j}")
            try:
                info = probe(track.source)
            except InvalidMediaError as exc:
                raise InvalidMediaError(f"audio track {j}: {exc}") from exc
            if not info.has_audio:
                raise InvalidMediaError(f"audio track {j}: {display_name(track.source)} has no sound")
    return media


def _exists(source: str | Path, what: str) -> None:
    if not is_url(source) and not Path(source).is_file():
        raise CompositionError(f"{what}: {display_name(source)} does not exist")


__all__ = [
    "TRANSITIONS", "AudioTrack", "Clip", "Composition", "CompositionError", "FilterGraph",
    "ImageOverlay", "RenderedComposition", "Segment", "TextOverlay", "Transition",
    "UnknownTransitionError", "clip_frames", "escape_text", "filter_graph", "font_file",
    "preview_frame", "render_composition", "segments",
]
