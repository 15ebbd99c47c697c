"""The local region-edit provider: a prompt's intent, applied inside a box with real ffmpeg filters.

    intent = parse_intent("blur the face")  # RegionIntent(kind="blur")
    box = BoundingBox(x=400, y=120, width=260, height=260)
    variants = render_variants("talk.mp4", "out/", start=3.0, end=6.5, box=box, intent=intent)

No model runs here: the provider understands a fixed set of English edit words (see
``INTENT_WORDS`` and ``CAPABILITIES``) and refuses anything else with
``UnsupportedPromptError`` naming what it can do, rather than returning a video that ignores
the prompt. Each variant is the [start, end] window of the source only (that is what the
editor places on the timeline), frame-exact on the source's frame grid (``frame_window``
snaps the times; ``trim`` on timestamps under -copyts picks the frames, since some
containers seek inexactly), H.264/AAC at the source's size and rate, audio kept (a source
without audio gets a silent track, so timeline segments concatenate). The effect is applied inside the box (crop the box,
filter it, overlay it back) except for two intents whose meaning is about the rest of the
frame: ``spotlight`` dims everything outside the box and leaves the box untouched, and
``zoom`` crops the frame to a window around the box and scales it back up to the full frame.

Every rendered variant is checked against the source on its middle frame: the same graph on
a lossless still of that frame must change the edited region, and the rendered frame must be
nearer that edit than the source (H.264 alone moves a busy box by a few levels, so a plain
"did the pixels move" test on the encoded file would pass a no-op). A variant that fails (a
filter that silently did nothing, a brighten on a white wall) raises ``MediaProcessingError``
instead of being returned.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import os
import re
import tempfile
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, NamedTuple, Protocol, get_args

import av
import cv2
import numpy as np
from pydantic import BaseModel, Field, field_validator, model_validator

from reelforge.errors import InvalidMediaError, MediaProcessingError, UnsupportedPromptError
from reelforge.media.ffmpeg import run_ffmpeg
from reelforge.media.probe import DEFAULT_TIMEOUT_S, display_name, is_url
from reelforge.media.render import SYSTEM_FONTS, default_fonts_dir, filter_path
from reelforge.media.source import VideoSource, input_options, probe_video

IntentKind = Literal[
    "blur",
    "pixelate",
    "brighten",
    "darken",
    "tint",
    "greyscale",
    "sharpen",
    "spotlight",
    "zoom",
    "text",
]
INTENT_KINDS: tuple[str, ...] = get_args(IntentKind)

# What the local provider can do, in the words an error message shows a user.
CAPABILITIES = (
    "blur",
    "pixelate (censor, mosaic)",
    "brighten",
    "darken",
    "tint <colour>",
    "greyscale (black and white)",
    "sharpen",
    "highlight (spotlight)",
    "zoom in",
    'add text "..."',
)

# Tint colours by name (RGB). Grey, black and white are not tints: grey means greyscale.
NAMED_COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (255, 40, 40),
    "orange": (255, 140, 0),
    "yellow": (255, 220, 0),
    "gold": (255, 190, 40),
    "green": (40, 200, 60),
    "lime": (150, 255, 0),
    "teal": (0, 150, 140),
    "turquoise": (64, 224, 208),
    "cyan": (0, 220, 255),
    "blue": (40, 90, 255),
    "navy": (20, 40, 140),
    "purple": (140, 60, 200),
    "violet": (160, 90, 255),
    "magenta": (255, 0, 200),
    "pink": (255, 105, 180),
    "brown": (140, 85, 40),
    "sepia": (170, 130, 80),
}
_COLOUR_ALIASES = {"aqua": "cyan", "indigo": "violet", "crimson": "red", "amber": "gold"}

MIN_BOX_PX = 4
MAX_TEXT_CHARS = 200
MAX_VARIANTS = 3
# A region counts as changed when its mean absolute change (0-255, RGB) on a lossless still
# of the middle frame is above this, or when enough of its pixels changed a lot (sharpen on
# a mostly flat box).
MIN_MEAN_CHANGE = 1.0
STRONG_PIXEL_CHANGE = 16
MIN_STRONG_FRACTION = 0.01
FONT_NAME = "DejaVuSans-Bold.ttf"


# --------------------------------------------------------------------------- the box


class PixelBox(NamedTuple):
    """A box snapped outward to even pixels, so 4:2:0 chroma crops and overlays line up."""

    x: int
    y: int
    w: int
    h: int


class BoundingBox(BaseModel):
    """The region to edit, in PIXELS of the source frame as a player shows it (rotation applied).

    (x, y) is the top-left corner, the origin is the frame's top-left corner; width and height
    extend right and down. Not fractions of the frame: a 0..1 box is refused as too small.
    """

    x: float = Field(allow_inf_nan=False, description="left edge, pixels from the frame's left")
    y: float = Field(allow_inf_nan=False, description="top edge, pixels from the frame's top")
    width: float = Field(gt=0, allow_inf_nan=False, description="pixels")
    height: float = Field(gt=0, allow_inf_nan=False, description="pixels")

    def describe(self) -> str:
        return f"x={self.x:g}, y={self.y:g}, width={self.width:g}, height={self.height:g}"

    def check_inside(self, frame_w: int, frame_h: int) -> None:
        """Raise ValueError unless the box lies inside a ``frame_w`` x ``frame_h`` frame.

        Half a pixel of slack absorbs the rounding of a box drawn on a scaled preview.
        """
        slack = 0.5
        if (
            self.x < -slack
            or self.y < -slack
            or self.x + self.width > frame_w + slack
            or self.y + self.height > frame_h + slack
        ):
            raise ValueError(
                f"bounding box ({self.describe()}) is outside the {frame_w}x{frame_h} frame"
            )
        if self.width < MIN_BOX_PX or self.height < MIN_BOX_PX:
            raise ValueError(
                f"bounding box ({self.describe()}) is smaller than {MIN_BOX_PX}x{MIN_BOX_PX} "
                f"pixels; x, y, width and height are pixels of the {frame_w}x{frame_h} frame, "
                "not fractions of it"
            )

    def to_pixels(self, frame_w: int, frame_h: int) -> PixelBox:
        """Even-aligned integer box inside the frame (grown by at most one pixel per edge)."""
        self.check_inside(frame_w, frame_h)
        max_w, max_h = frame_w - frame_w % 2, frame_h - frame_h % 2
        x0 = min(max(0, math.floor(self.x / 2) * 2), max_w - 2)
        y0 = min(max(0, math.floor(self.y / 2) * 2), max_h - 2)
        x1 = min(max_w, max(x0 + 2, math.ceil((self.x + self.width) / 2) * 2))
        y1 = min(max_h, max(y0 + 2, math.ceil((self.y + self.height) / 2) * 2))
        return PixelBox(x0, y0, x1 - x0, y1 - y0)


# --------------------------------------------------------------------------- intents


class RegionIntent(BaseModel):
    """What a prompt asks for, in the terms the renderer knows."""

    kind: IntentKind
    colour: str | None = Field(default=None, description="tint: a NAMED_COLOURS name or #rrggbb")
    text: str | None = Field(default=None, description="text: the words to draw in the box")
    matched: str = Field(default="", description="the prompt words that chose this intent")

    @field_validator("colour")
    @classmethod
    def _known_colour(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip().lower()
        value = _COLOUR_ALIASES.get(value, value)
        if value in NAMED_COLOURS or re.fullmatch(r"#[0-9a-f]{6}", value):
            return value
        raise ValueError(
            f"unknown colour {value!r}; use #rrggbb or one of: {', '.join(NAMED_COLOURS)}"
        )

    @field_validator("text")
    @classmethod
    def _clean_text(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = " ".join(value.split())
        return value[:MAX_TEXT_CHARS] or None

    @model_validator(mode="after")
    def _needs_params(self) -> RegionIntent:
        if self.kind == "tint" and not self.colour:
            raise ValueError("a tint needs a colour")
        if self.kind == "text" and not self.text:
            raise ValueError("adding text needs the text")
        return self

    @property
    def rgb(self) -> tuple[int, int, int] | None:
        if not self.colour:
            return None
        if self.colour.startswith("#"):
            return tuple(int(self.colour[i : i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]
        return NAMED_COLOURS[self.colour]

    def describe(self) -> str:
        if self.kind == "tint":
            return f"tint {self.colour}"
        if self.kind == "text":
            return f'text "{self.text}"'
        return self.kind


_W = r"(?:\w|-)*"  # the rest of a word: blur -> blurred, pixel -> pixelated, de-blur
# Prompt words per intent (regular expressions, case-insensitive, whole words). Tier 1 names
# a technique, tier 2 a goal ("hide the plate"); a technique anywhere beats a goal, and within
# a tier the earliest word in the prompt wins, then the order below.
INTENT_WORDS: tuple[tuple[int, str, str], ...] = (
    (1, "spotlight", rf"highlight{_W}|spot-?lights?{_W}|spot light|draw (?:the )?(?:attention|eye)|"
     r"focus (?:the )?(?:attention |viewer )?on|emphasi[sz]\w*|stand out|vignette|"
     r"(?:dim|darken) (?:everything|the rest|the background|the surroundings|around|outside)"),
    (1, "sharpen", rf"sharpen{_W}|sharper|crisp{_W}|unblur{_W}|deblur{_W}|de-blur{_W}|"
     r"remove (?:the )?blur|(?:enhance|more) details?|in focus"),
    (1, "blur", rf"blur{_W}|defocus{_W}|out of focus|soften{_W}|soft focus|gaussian|bokeh|"
     rf"smudge{_W}|frost(?:ed)?|fuzz{_W}"),
    (1, "pixelate", rf"pixel{_W}|mosaic{_W}|8-?bit|blocky"),
    (1, "greyscale", r"gr[ae]y[- ]?scale|gr[ae]y|black[- ]and[- ]white|b ?[&/n] ?w|"
     rf"monochrome|mono|desaturat{_W}|de-?colou?ri[sz]{_W}|colou?rless|"
     r"(?:remove|drop|strip|no|without)(?: the| all| any)? colou?rs?"),
    (1, "zoom", rf"zoom{_W}|enlarge{_W}|magnif{_W}|close[- ]?up|punch in|push in|blow up|"
     r"crop (?:in|to|into)|scale up"),
    (1, "brighten", rf"brighten{_W}|brighter|lighten{_W}|lighter|more light|light up|"
     rf"illuminat{_W}|(?:increase|raise|boost|more|up) (?:the )?(?:brightness|exposure)|"
     rf"exposure up|overexpos{_W}|less dark"),
    (1, "darken", r"darken\w*|darker|dim|dimmer|dimmed|"
     r"(?:decrease|reduce|lower|less) (?:the )?(?:brightness|exposure)|underexpos\w*|less bright"),
    (2, "pixelate", r"censor\w*|anonymi[sz]\w*|redact\w*|obscur\w*|hide|hidden|conceal\w*|"
     r"unreadable|illegible|unrecogni[sz]able|private|privacy"),
)  # fmt: skip
_INTENT_RES = [
    (tier, kind, re.compile(rf"\b(?:{words})\b", re.I)) for tier, kind, words in INTENT_WORDS
]
_TINT_WORDS = re.compile(
    r"\b(?:tint\w*|re-?colou?r\w*|colou?r(?:i[sz]e|ed|ing)?|paint\w*|dye\w*|hue|wash|"
    r"turn\w*|make|cast|shade)\b",
    re.I,
)
_COLOUR_RE = re.compile(
    r"(#[0-9a-f]{6})\b|\b("
    + "|".join(sorted([*NAMED_COLOURS, *_COLOUR_ALIASES], key=len, reverse=True))
    + r")\b",
    re.I,
)
_QUOTED = re.compile(r'"([^"]+)"|“([^”]+)”|«([^»]+)»|‘([^’]+)’|(?<!\w)\'([^\']+)\'(?!\w)')
_ADD_TEXT = re.compile(r"\b(?:add|put|write|overlay|insert|place|type|print|burn|stamp)\b", re.I)
_TEXT_NOUN = re.compile(r"\b(?:text|caption|title|label|subtitle|words?|lettering)s?\b", re.I)
_TEXT_AFTER = re.compile(
    r"\b(?:add|put|write|overlay|insert|place|type|print|burn|stamp)\b.*?"
    r"\b(?:text|caption|title|label|subtitle)s?\b\s*"
    r"(?:(?:that|which)\s+(?:says|reads)|saying|reading|of|with)?\s*[:=-]?\s*(?P<text>.*)$",
    re.I | re.S,
)
_TEXT_SAYING = re.compile(
    r"\b(?:saying|says|reading|reads)\b\s*[:=-]?\s*(?P<text>.+)$", re.I | re.S
)
_TEXT_PREFIX = re.compile(r"^\s*(?:text|caption|title|label)\s*:\s*(?P<text>.+)$", re.I | re.S)


def capabilities_text() -> str:
    return ", ".join(CAPABILITIES)


def parse_intent(prompt: str) -> RegionIntent:
    """The edit a prompt asks for, from a fixed vocabulary; UnsupportedPromptError otherwise.

    Quoted words are never read as commands ('add text "blur"' adds the word blur).
    """
    text = " ".join((prompt or "").split())
    if not text:
        raise UnsupportedPromptError(
            f"the prompt is empty; the local provider can: {capabilities_text()}"
        )
    quoted = [
        (m.start(), m.end(), next(g for g in m.groups() if g)) for m in _QUOTED.finditer(text)
    ]
    outside = text
    for start, end, _ in quoted:
        outside = outside[:start] + " " * (end - start) + outside[end:]
    matches = _keyword_matches(outside)
    add_verb, noun = _ADD_TEXT.search(outside), _TEXT_NOUN.search(outside)

    # Text first: quoted words with an add-verb ('add text "SALE"'), or quoted words next
    # to a text noun with no other edit word, or "add a caption: ...", or "caption: ...".
    if quoted and (add_verb or (noun and not matches)):
        words = " ".join(q for _, _, q in quoted)
        return RegionIntent(kind="text", text=words, matched=(add_verb or noun).group(0))  # type: ignore[union-attr]
    explicit = _TEXT_PREFIX.match(text) or (
        (_TEXT_SAYING.search(text) or _TEXT_AFTER.search(text)) if add_verb and noun else None
    )
    if explicit:
        words = explicit.group("text").strip().strip("\"'“”.!?,;")
        if words:
            said = text[explicit.start() : explicit.start("text")].strip(" :=-")
            return RegionIntent(kind="text", text=words, matched=said)
        if not matches:
            raise UnsupportedPromptError(
                "adding text needs the words to write: put them in quotes, for example "
                'add text "SALE"'
            )

    if matches:
        _tier, _pos, _order, kind, word = min(matches)
        return RegionIntent(kind=kind, colour=word if kind == "tint" else None, matched=word)  # type: ignore[arg-type]

    colour, tint = _COLOUR_RE.search(outside), _TINT_WORDS.search(outside)
    if colour and len(outside.split()) <= 3:  # "red", "more blue"
        name = (colour.group(1) or colour.group(2)).lower()
        return RegionIntent(kind="tint", colour=name, matched=name)
    if tint and re.match(r"tint|re-?colou?r", tint.group(0), re.I):
        raise UnsupportedPromptError(
            f"a tint needs a colour; the local provider knows: {', '.join(NAMED_COLOURS)} "
            "(or #rrggbb)"
        )
    raise UnsupportedPromptError(
        f"the local provider cannot do {text!r}; it can: {capabilities_text()}"
    )


def _keyword_matches(text: str) -> list[tuple[int, int, int, str, str]]:
    """(tier, position, table order, kind, word) for every intent word in ``text``."""
    found = []
    for order, (tier, kind, regex) in enumerate(_INTENT_RES):
        m = regex.search(text)
        if m:
            found.append((tier, m.start(), order, kind, m.group(0)))
    # A colour with a tint verb is a technique too ("make it red", "tint the sky blue").
    colour, tint = _COLOUR_RE.search(text), _TINT_WORDS.search(text)
    if colour and tint:
        name = (colour.group(1) or colour.group(2)).lower()
        found.append((1, colour.start(), len(_INTENT_RES), "tint", name))
    return found


# --------------------------------------------------------------------------- rendering


@dataclass(frozen=True)
class Variant:
    """One rendered take of the edit: the [start, end] window with the effect applied."""

    path: Path
    preview_jpg: Path
    label: str
    strength: float  # 0..1 within the intent's presets: subtle -> strong
    filter: str = ""  # the ffmpeg filter graph that made it, for the record
    provider: str = "local"


@dataclass(frozen=True)
class Preset:
    label: str
    strength: float
    graph: str  # a -filter_complex graph from [0:v] to [v]


@dataclass(frozen=True)
class Window:
    """[start, end] snapped to the source's frame grid; what a variant covers exactly."""

    first_frame: int  # index of the first frame, counted from the first video frame
    frames: int
    fps: float
    video_start: float = 0.0  # timestamp (s) of the source's first video frame
    container_start: float = 0.0  # the container's start time (s), what -ss counts from

    @property
    def duration(self) -> float:
        return self.frames / self.fps

    def frame_pts(self, index: int) -> float:
        """Timestamp (s, as ffmpeg sees it with -copyts) of source frame ``index``."""
        return self.video_start + index / self.fps

    def seek(self, index: int) -> float:
        """A -ss value a second before frame ``index``: fast, never past it; trim is exact."""
        return max(0.0, self.frame_pts(index) - self.container_start - 1.0)

    def trim(self, index: int, inp: str = "0:v", out: str = "src") -> str:
        """Filter graph keeping source frames from ``index`` on, retimed to start at 0.

        Timestamps, not the demuxer's seek, decide: with -copyts the first kept frame is the
        one at ``frame_pts(index)`` in every container (MPEG-TS seeks are not frame-exact).
        """
        start = self.frame_pts(index) - 0.5 / self.fps
        return f"[{inp}]trim=start={start:.6f},setpts=PTS-STARTPTS[{out}]"

    def source_time(self, t: float) -> float:
        """Seconds after the source's first video frame of variant time ``t``."""
        return self.first_frame / self.fps + t

    def sample_times(self, count: int) -> list[float]:
        """Variant times at frame centres, spread evenly over the window."""
        count = max(1, min(count, self.frames))
        picks = sorted({int((k + 0.5) * self.frames / count) for k in range(count)})
        return [(i + 0.5) / self.fps for i in picks]


def frame_window(
    source: str | Path, start: float, end: float, *, video: VideoSource | None = None
) -> Window:
    """Snap [start, end] (source seconds) onto the source's frames, as render_variants does."""
    if not (start >= 0 and end > start):
        raise ValueError(f"bad window {start}..{end}: need 0 <= start < end")
    video = video or probe_video(source)
    if start >= video.duration:
        raise ValueError(
            f"window starts at {start:g}s, after the end of {display_name(source)} "
            f"({video.duration:.2f}s)"
        )
    end = min(end, video.duration)
    fps = video.fps or 30.0
    v_start, c_start = _starts(source)
    offset = max(0.0, v_start - c_start)
    # Half up (not Python's half-to-even), and the length rounded on its own: a 1.0 s window
    # is 25 frames at 25 fps wherever it starts.
    first = max(0, math.floor((start - offset) * fps + 0.5 + 1e-9))
    total = max(1, math.floor((video.duration - offset) * fps + 1e-6))
    last = min(total, first + math.floor((end - start) * fps + 0.5 + 1e-9))
    if last <= first:
        raise ValueError(f"window {start:g}..{end:g}s is shorter than one frame")
    v_start, c_start = _starts(source)
    return Window(
        first_frame=first,
        frames=last - first,
        fps=fps,
        video_start=v_start,
        container_start=c_start,
    )


def _starts(source: str | Path) -> tuple[float, float]:
    """(first video timestamp, container start) in seconds; -ss counts from the latter."""
    with _open(source) as c:
        v = c.streams.video[0]
        v_start = float(v.start_time * v.time_base) if v.start_time is not None else 0.0
        c_start = c.start_time / av.time_base if c.start_time is not None else v_start
        return v_start, c_start


def _open(source: str | Path) -> av.container.InputContainer:
    """PyAV open; a URL (presigned S3 GET) gets the probe's timeouts so a stall cannot hang."""
    if is_url(source):
        return av.open(str(source), timeout=(DEFAULT_TIMEOUT_S, DEFAULT_TIMEOUT_S))
    return av.open(str(source))


def render_variants(
    src: str | Path,
    out_dir: str | Path,
    *,
    start: float,
    end: float,
    box: BoundingBox,
    intent: RegionIntent,
    count: int = 3,
    preset: str = "veryfast",
    crf: int = 18,
    timeout: float | None = None,
    only: int | None = None,
) -> list[Variant]:
    """Render ``count`` takes of ``intent`` on the [start, end] window of ``src``.

    ``only`` renders just that take (0-based) of the ``count``: the edit state machine fans
    the takes out over parallel tasks (its Map state).

    Outputs ``<kind>_<n>.mp4`` and ``<kind>_<n>.jpg`` (the middle frame) in ``out_dir``.
    Raises ValueError for a bad window or a box outside the frame, MediaProcessingError when
    ffmpeg fails or a take left its region unchanged.
    """
    if not 1 <= count <= MAX_VARIANTS:
        raise ValueError(f"count must be 1..{MAX_VARIANTS}, got {count}")
    video = probe_video(src)  # InvalidMediaError for a missing or undecodable source
    pbox = box.to_pixels(video.width, video.height)
    window = frame_window(src, start, end, video=video)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    job = _Job(src, window, video.has_audio, intent, pbox, preset, crf, timeout)

    with tempfile.TemporaryDirectory(prefix="reelforge-region-") as tmp:
        presets = _pick(build_presets(intent, pbox, (video.width, video.height), Path(tmp)), count)
        stems = [out / f"{intent.kind}_{i + 1}" for i in range(len(presets))]
        if only is not None:
            if not 0 <= only < len(presets):
                raise ValueError(f"take {only} of {len(presets)} does not exist")
            presets, stems = presets[only : only + 1], stems[only : only + 1]

        workers = max(1, min(len(presets), os.cpu_count() or 1))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(job.render, presets, stems))


def _pick(presets: list[Preset], count: int) -> list[Preset]:
    """``count`` presets spread over the range (one: the middle one)."""
    if count >= len(presets):
        return presets
    if count == 1:
        return [presets[len(presets) // 2]]
    idx = sorted({round(k * (len(presets) - 1) / (count - 1)) for k in range(count)})
    return [presets[i] for i in idx]


@dataclass(frozen=True)
class _Job:
    """What every take of one render_variants call shares."""

    src: str | Path
    window: Window
    has_audio: bool
    intent: RegionIntent
    box: PixelBox
    preset: str
    crf: int
    timeout: float | None

    def render(self, p: Preset, stem: Path) -> Variant:
        return _render_one(self, p, stem)


def _render_one(job: _Job, p: Preset, stem: Path) -> Variant:
    src, window, intent, box, timeout = job.src, job.window, job.intent, job.box, job.timeout
    path, jpg = stem.with_suffix(".mp4"), stem.with_suffix(".jpg")
    duration = f"{window.duration:.6f}"
    first = window.first_frame
    args: list[str | Path] = [
        "-copyts", *input_options(src), "-ss", f"{window.seek(first):.6f}", "-i", str(src),
    ]  # fmt: skip
    graph = f"{window.trim(first)};{p.graph.replace('[0:v]', '[src]', 1)}"
    if job.has_audio:
        at = window.frame_pts(first)
        graph += f";[0:a:0]atrim=start={at:.6f},asetpts=PTS-STARTPTS[a]"
        audio = "[a]"
    else:  # the timeline concatenates segments: every one carries an audio track
        args += ["-f", "lavfi", "-i", "anullsrc=r=48000:cl=stereo"]
        audio = "1:a:0"
    args += [
        "-filter_complex", graph, "-map", "[v]", "-map", audio,
        "-frames:v", str(window.frames), "-t", duration,
        "-c:v", "libx264", "-preset", job.preset, "-crf", str(job.crf), "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", "128k",
        "-movflags", "+faststart", "-map_metadata", "-1", "-sn", "-dn",
        path,
    ]  # fmt: skip
    try:
        run_ffmpeg(args, timeout=timeout)
    except MediaProcessingError as exc:
        path.unlink(missing_ok=True)
        raise MediaProcessingError(str(exc).replace(str(src), display_name(src))) from None

    t = window.sample_times(1)[0]
    (after,) = read_frames(path, [t])
    (before,) = read_frames(src, [window.source_time(t)])
    if after.shape != before.shape:
        path.unlink(missing_ok=True)
        raise MediaProcessingError(
            f"variant {p.label!r} came out {after.shape[1]}x{after.shape[0]}, "
            f"not {before.shape[1]}x{before.shape[0]}"
        )
    # The codec alone changes a busy box by several levels, so the edit is checked on a
    # lossless still of the same frame made by the same graph, then the rendered frame must
    # sit nearer that still than the source (it carries the edit, not just codec noise).
    edited = _still(src, p.graph, window, t, stem.with_suffix(".check.png"), timeout)
    where = guard_region(intent.kind)
    changed, measured = region_changed(before, edited, box, where)
    to_edit, to_source = (
        mean_change(after, edited, box, where),
        mean_change(after, before, box, where),
    )
    if not changed or to_source <= to_edit:
        path.unlink(missing_ok=True)
        raise MediaProcessingError(
            f"{intent.describe()} variant {p.label!r} left the {where} unchanged ({measured}; "
            f"rendered frame {to_source:.2f} from the source, {to_edit:.2f} from the edit); "
            "refusing to return an unchanged video"
        )
    if not cv2.imwrite(
        str(jpg), cv2.cvtColor(after, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90]
    ):
        raise MediaProcessingError(f"could not write the preview {jpg.name}")
    return Variant(path=path, preview_jpg=jpg, label=p.label, strength=p.strength, filter=p.graph)


def _still(
    src: str | Path, graph: str, window: Window, t: float, png: Path, timeout: float | None
) -> np.ndarray:
    """The source frame shown at variant time ``t`` run through ``graph``, losslessly."""
    index = window.first_frame + math.floor(t * window.fps)
    graph = f"{window.trim(index)};{graph.replace('[0:v]', '[src]', 1)}"
    try:
        run_ffmpeg(
            ["-copyts", *input_options(src), "-ss", f"{window.seek(index):.6f}", "-i", str(src),
             "-filter_complex", graph, "-map", "[v]", "-frames:v", "1", "-update", "1", png],
            timeout=timeout,
        )  # fmt: skip
        image = cv2.imread(str(png))
    except MediaProcessingError as exc:
        raise MediaProcessingError(str(exc).replace(str(src), display_name(src))) from None
    finally:
        png.unlink(missing_ok=True)
    if image is None:
        raise MediaProcessingError("ffmpeg wrote no check frame")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


GuardRegion = Literal["box", "outside", "frame"]


def guard_region(kind: str) -> GuardRegion:
    """Where an intent is meant to change pixels."""
    return {"spotlight": "outside", "zoom": "frame"}.get(kind, "box")  # type: ignore[return-value]


def box_mask(shape: tuple[int, ...], box: PixelBox) -> np.ndarray:
    mask = np.zeros(shape[:2], dtype=bool)
    mask[box.y : box.y + box.h, box.x : box.x + box.w] = True
    return mask


def _region(shape: tuple[int, ...], box: PixelBox, where: GuardRegion) -> np.ndarray:
    inside = box_mask(shape, box)
    return {"box": inside, "outside": ~inside, "frame": np.ones_like(inside)}[where]


def mean_change(a: np.ndarray, b: np.ndarray, box: PixelBox, where: GuardRegion = "box") -> float:
    """Mean absolute difference (0-255, largest of R, G, B) over ``where``."""
    diff = np.abs(a.astype(np.int16) - b.astype(np.int16)).max(axis=2)
    values = diff[_region(diff.shape, box, where)]
    return float(values.mean()) if values.size else 0.0


def region_changed(
    before: np.ndarray, after: np.ndarray, box: PixelBox, where: GuardRegion = "box"
) -> tuple[bool, str]:
    """Whether ``where`` changed between two RGB frames (lossless ones: no codec noise)."""
    diff = np.abs(after.astype(np.int16) - before.astype(np.int16)).max(axis=2)
    values = diff[_region(diff.shape, box, where)]
    if values.size == 0:
        return False, f"the {where} is empty"
    mean = float(values.mean())
    strong = float((values > STRONG_PIXEL_CHANGE).mean())
    changed = mean > MIN_MEAN_CHANGE or strong > MIN_STRONG_FRACTION
    return (
        changed,
        f"mean change {mean:.2f}/255, {strong:.1%} of pixels changed by >{STRONG_PIXEL_CHANGE}",
    )


# --------------------------------------------------------------------------- presets


def build_presets(
    intent: RegionIntent, box: PixelBox, frame: tuple[int, int], workdir: Path
) -> list[Preset]:
    """The takes for an intent, subtle to strong (or three styles), as filter graphs."""
    short = min(box.w, box.h)
    if intent.kind == "spotlight":
        return _spotlight(box)
    if intent.kind == "zoom":
        return _zoom(box, frame)
    if intent.kind == "text":
        return _text(intent.text or "", box, workdir)

    effects: list[tuple[str, float, str]]
    if intent.kind == "blur":
        scale = max(1.0, short / 360)
        effects = [
            (f"blur, sigma {s * scale:g}", k, f"gblur=sigma={s * scale:g}:steps=2")
            for s, k in ((6, 0.33), (12, 0.66), (24, 1.0))
        ]
    elif intent.kind == "pixelate":
        effects = []
        for div, k in ((24, 0.33), (12, 0.66), (6, 1.0)):
            block = max(2, round(short / div))
            sw, sh = max(1, round(box.w / block)), max(1, round(box.h / block))
            effects.append(
                (f"pixelate, {block} px blocks", k,
                 f"scale={sw}:{sh}:flags=area,scale={box.w}:{box.h}:flags=neighbor")
            )  # fmt: skip
    elif intent.kind == "brighten":
        effects = [
            (f"brighten +{b:g}, gamma {g:g}", k, f"eq=brightness={b:g}:gamma={g:g}")
            for b, g, k in ((0.06, 1.15, 0.33), (0.12, 1.3, 0.66), (0.2, 1.5, 1.0))
        ]
    elif intent.kind == "darken":
        effects = [
            (f"darken -{b:g}, gamma {g:g}", k, f"eq=brightness=-{b:g}:gamma={g:g}")
            for b, g, k in ((0.06, 0.85, 0.33), (0.12, 0.72, 0.66), (0.2, 0.6, 1.0))
        ]
    elif intent.kind == "tint":
        rgb = intent.rgb or (255, 255, 255)
        effects = [
            (f"tint {intent.colour}, {round(a * 100)}%", k, tint_filter(rgb, a))
            for a, k in ((0.4, 0.33), (0.65, 0.66), (0.9, 1.0))
        ]
    elif intent.kind == "greyscale":
        effects = [
            ("greyscale, faded", 0.33, "hue=s=0,eq=contrast=0.8:brightness=0.04"),
            ("greyscale", 0.66, "hue=s=0"),
            ("greyscale, high contrast", 1.0, "hue=s=0,eq=contrast=1.35"),
        ]
    elif intent.kind == "sharpen":
        effects = [
            (f"sharpen {m}x{m}, amount {a:g}", k, f"unsharp={m}:{m}:{a:g}:{m}:{m}:0")
            for m, a, k in ((5, 0.9, 0.33), (5, 1.6, 0.66), (7, 2.5, 1.0))
        ]
    else:  # pragma: no cover - IntentKind is closed
        raise UnsupportedPromptError(f"no renderer for {intent.kind!r}")
    return [Preset(label, k, in_box_graph(box, fx)) for label, k, fx in effects]


def in_box_graph(box: PixelBox, effect: str) -> str:
    """Crop the box, run ``effect`` on it, overlay it back where it was."""
    x, y, w, h = box
    return (
        f"[0:v]format=yuv420p,split=2[base][roi];[roi]crop={w}:{h}:{x}:{y},{effect}[fx];"
        f"[base][fx]overlay={x}:{y},format=yuv420p[v]"
    )


def tint_filter(rgb: tuple[int, int, int], amount: float) -> str:
    """Blend toward the pixel's luma painted in the colour (like a monochrome print in ``rgb``).

    The colour is scaled so its own luma is at least 0.5: a dark colour (blue) would otherwise
    darken the box as much as it tints it.
    """
    top = max(rgb) or 1
    cr, cg, cb = (c / top for c in rgb)
    gain = 1 / max(0.5, 0.299 * cr + 0.587 * cg + 0.114 * cb)
    cr, cg, cb = cr * gain, cg * gain, cb * gain
    luma = (0.299, 0.587, 0.114)
    rows = []
    for ch, c in zip("rgb", (cr, cg, cb), strict=True):
        for src, weight in zip("rgb", luma, strict=True):
            value = amount * c * weight + ((1 - amount) if src == ch else 0.0)
            rows.append(f"{ch}{src}={value:.4f}")
    return "format=gbrp,colorchannelmixer=" + ":".join(rows) + ",format=yuv420p"


def _spotlight(box: PixelBox) -> list[Preset]:
    """Everything outside the box dimmed (luma and chroma pulled toward neutral); box untouched."""
    x, y, w, h = box

    def dim(k: float) -> str:
        return f"lutyuv=y='16+(val-16)*{k:g}':u='128+(val-128)*{k:g}':v='128+(val-128)*{k:g}'"

    takes = [
        ("spotlight, outside dimmed to 60%", 0.33, dim(0.6)),
        ("spotlight, outside dimmed to 35%", 0.66, dim(0.35)),
        ("spotlight, outside dimmed to 45% and blurred", 1.0, f"{dim(0.45)},gblur=sigma=6"),
    ]
    return [
        Preset(
            label,
            k,
            f"[0:v]format=yuv420p,split=2[base][roi];[roi]crop={w}:{h}:{x}:{y}[keep];[base]{fx}[dim];"
            f"[dim][keep]overlay={x}:{y},format=yuv420p[v]",
        )
        for label, k, fx in takes
    ]


def zoom_window(box: PixelBox, frame: tuple[int, int], level: float) -> PixelBox:
    """The crop a zoom of ``level`` shows: 0 is the whole frame, 1 the box grown to the
    frame's aspect ratio around its centre (so nothing is stretched), clamped inside."""
    fw, fh = frame
    aspect = fw / fh
    tw, th = (box.w, box.w / aspect) if box.w / box.h > aspect else (box.h * aspect, box.h)
    cw = fw + (tw - fw) * level
    ch = fh + (th - fh) * level
    cw, ch = min(fw, max(2, round(cw / 2) * 2)), min(fh, max(2, round(ch / 2) * 2))
    cx, cy = box.x + box.w / 2, box.y + box.h / 2
    x = min(max(0, round((cx - cw / 2) / 2) * 2), fw - cw)
    y = min(max(0, round((cy - ch / 2) / 2) * 2), fh - ch)
    return PixelBox(int(x), int(y), int(cw), int(ch))


def _zoom(box: PixelBox, frame: tuple[int, int]) -> list[Preset]:
    fw, fh = frame
    tight = zoom_window(box, frame, 1.0)
    if tight.w >= fw * 0.95 and tight.h >= fh * 0.95:
        raise UnsupportedPromptError(
            "the box covers (almost) the whole frame, so there is nothing to zoom into; "
            "draw a smaller box around what to enlarge"
        )
    presets = []
    for level, name in ((0.35, "wide"), (0.7, "medium"), (1.0, "tight")):
        c = zoom_window(box, frame, level)
        presets.append(
            Preset(
                f"zoom {fw / c.w:.2g}x ({name})",
                level,
                f"[0:v]crop={c.w}:{c.h}:{c.x}:{c.y},scale={fw}:{fh}:flags=lanczos,"
                f"setsar=1,format=yuv420p[v]",
            )
        )
    return presets


# Advance widths of DejaVu Sans Bold in em, by character class: enough to size text to a
# box without a font library (the crop keeps any misjudged overflow inside the box).
def _text_em(line: str) -> float:
    width = 0.0
    for ch in line:
        if ch == " ":
            width += 0.35
        elif ch in "ilj.,:;'!|":
            width += 0.38
        elif ch in "MWmw@%":
            width += 1.0
        elif ch.isupper():
            width += 0.78
        elif ch.isdigit():
            width += 0.7
        else:
            width += 0.66
    return width


def _wrap(text: str, lines: int) -> list[str]:
    """Greedy word wrap into at most ``lines`` lines of about equal length."""
    words = text.split()
    if lines <= 1 or len(words) <= 1:
        return [text]
    target = len(text) / lines
    out: list[str] = []
    current = ""
    for word in words:
        if current and len(current) + 1 + len(word) > target and len(out) < lines - 1:
            out.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
    out.append(current)
    return out


def fit_text(text: str, w: int, h: int, pad: float = 0.0) -> tuple[list[str], int]:
    """The wrapping and font size (px) that make ``text`` as large as fits in w x h."""
    best: tuple[list[str], float] = ([text], 0.0)
    for n in range(1, 5):
        lines = _wrap(text, n)
        widest = max(_text_em(line) for line in lines) or 1.0
        size = min((w - 2 * pad) / widest, (h - 2 * pad) / (len(lines) * 1.25)) * 0.92
        if size > best[1]:
            best = (lines, size)
    return best[0], max(6, int(best[1]))


def font_file() -> Path:
    for d in (default_fonts_dir(), SYSTEM_FONTS):
        if d and (d / FONT_NAME).is_file():
            return d / FONT_NAME
    raise MediaProcessingError(
        f"font {FONT_NAME} not found (install fonts-dejavu-core or ship it in assets/fonts)"
    )


def _text(text: str, box: PixelBox, workdir: Path) -> list[Preset]:
    """Three looks, each drawn on the box crop (so nothing spills outside the box)."""
    x, y, w, h = box
    font = filter_path(font_file())
    styles = [
        ("text, white outlined", 0.33, "fontcolor=white:borderw={b}:bordercolor=black", 0.0),
        ("text, yellow on dark", 0.66, "fontcolor=0xFFD400:box=1:boxcolor=black@0.6:boxborderw={p}", 0.12),
        ("text, dark on light", 1.0, "fontcolor=0x111111:box=1:boxcolor=white@0.85:boxborderw={p}", 0.12),
    ]  # fmt: skip
    presets = []
    for i, (label, k, look, pad_em) in enumerate(styles):
        lines, size = fit_text(text, w, h, pad=0)
        pad = max(1, round(size * pad_em))
        if pad_em:
            lines, size = fit_text(text, w, h, pad=pad)
            pad = max(1, round(size * pad_em))
        path = workdir / f"text_{i}.txt"
        path.write_text("\n".join(lines), encoding="utf-8")
        style = look.format(b=max(1, size // 12), p=pad)
        draw = (
            f"drawtext=fontfile={font}:textfile={filter_path(path)}:expansion=none:"
            f"fontsize={size}:line_spacing={max(0, size // 8)}:text_align=center:"
            f"{style}:x=(w-text_w)/2:y=(h-text_h)/2"
        )
        presets.append(
            Preset(
                f"{label}, {size}px",
                k,
                f"[0:v]format=yuv420p,split=2[base][roi];[roi]crop={w}:{h}:{x}:{y},{draw}[fx];"
                f"[base][fx]overlay={x}:{y},format=yuv420p[v]",
            )
        )
    return presets


# --------------------------------------------------------------------------- frames


def read_frames(path: str | Path, times: Sequence[float]) -> list[np.ndarray]:
    """RGB frames (H x W x 3, uint8, rotation applied) shown at ``times``.

    Times are seconds after the file's first video frame; pass frame-centre times (as
    ``Window.sample_times`` does) so a source and its variant pick the same frame.
    """
    if not times:
        return []
    result: list[np.ndarray | None] = [None] * len(times)
    try:
        with _open(path) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            tb = stream.time_base
            base = float(stream.start_time * tb) if stream.start_time is not None else 0.0
            frames = None
            last: av.VideoFrame | None = None
            pending: av.VideoFrame | None = None
            for i in sorted(range(len(times)), key=lambda k: times[k]):
                target = base + times[i]
                if frames is None or (last is not None and target - (last.time or 0) > 2.0):
                    frames = _decode_before(container, stream, target, base)
                    last, pending = None, None
                while True:
                    if pending is None:
                        pending = next(frames, None)
                    if pending is None or (pending.time or 0) > target + 1e-6:
                        break
                    last, pending = pending, None
                chosen = last or pending
                if chosen is None:
                    raise InvalidMediaError(
                        f"{display_name(path)} has no video frame at {times[i]:.3f}s"
                    )
                result[i] = _rgb(chosen)
    except av.error.FFmpegError as exc:
        raise InvalidMediaError(
            f"cannot decode {display_name(path)}: {type(exc).__name__}"
        ) from exc
    return [r for r in result if r is not None]


def _decode_before(
    container: av.container.InputContainer, stream: av.VideoStream, target: float, base: float
) -> Iterator[av.VideoFrame]:
    """Decoded frames from a seek that lands at or before ``target`` (seconds).

    Containers without an index (MPEG-TS) can land after the asked time; step further back
    until the first frame is not late, down to the stream start.
    """
    tb = stream.time_base
    back = 0.0
    while True:
        pos = max(base, target - back)
        container.seek(int(pos / tb), stream=stream, backward=True)
        frames = container.decode(stream)
        first = next(frames, None)
        if first is None or (first.time or 0.0) <= target + 1e-6 or pos <= base:
            return itertools.chain([first] if first is not None else [], frames)
        back = 1.0 if back == 0 else back * 4


def _rgb(frame: av.VideoFrame) -> np.ndarray:
    image = frame.to_ndarray(format="rgb24")
    turn = int(-(getattr(frame, "rotation", 0) or 0)) % 360  # clockwise, as ffmpeg autorotates
    return np.ascontiguousarray(np.rot90(image, k=-(turn // 90))) if turn else image


# --------------------------------------------------------------------------- providers


class RegionEditProvider(Protocol):
    """Turns a prompt into variants of a boxed region; ``local`` and ``gemini`` implement it.

    Providers differ in how they read the prompt (``interpret``); a subclass inherits
    ``edit``, which renders that intent with the local ffmpeg renderer and tags the
    variants with the provider's ``name``.
    """

    name: str

    def interpret(self, prompt: str) -> RegionIntent: ...

    def edit(
        self,
        src: str | Path,
        out_dir: str | Path,
        *,
        start: float,
        end: float,
        box: BoundingBox,
        prompt: str,
        count: int = 3,
    ) -> list[Variant]:
        intent = self.interpret(prompt)
        variants = render_variants(
            src, out_dir, start=start, end=end, box=box, intent=intent, count=count
        )
        return [dataclasses.replace(v, provider=self.name) for v in variants]


class LocalRegionProvider(RegionEditProvider):
    """Keyword intents rendered with ffmpeg; no network, no model."""

    name = "local"

    def interpret(self, prompt: str) -> RegionIntent:
        return parse_intent(prompt)
