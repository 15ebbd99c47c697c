"""Word-by-word captions for clips: burned-in ASS in one of three looks, plus SRT/VTT.

All builders take the transcript's words in source time and the clip window, and write
times relative to the clip start, because the rendered clip starts at t=0. They share one
grouping, so the burned-in lines and the sidecars say the same thing at the same time.

The looks (`CAPTION_STYLES`): `bold`, what short-form editors burn in (two to four big
upper-case words at a time, the spoken word lit, a thick outline that reads on any
background); `karaoke`, a line of up to four words with the spoken word lit; `minimal`,
small plain subtitles low in the frame. Captions keep out of the faces: `avoid` says where
faces are on screen while a line shows, and the line moves up (or to the middle) instead.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypedDict, Unpack, get_args

from reelforge.models import Word

_SENTENCE_END = (".", "!", "?", "…", ";", ":")
_SOFT_BREAK = (",", "—", "–")


@dataclass(frozen=True)
class CaptionLine:
    """Words shown together, and when the line is on screen (`start`..`end`)."""

    words: tuple[Word, ...]
    start: float
    end: float

    @property
    def text(self) -> str:
        return " ".join(w.word for w in self.words)


def clip_words(words: Iterable[Word], clip_start: float, clip_end: float) -> list[Word]:
    """Words whose midpoint falls in the clip, shifted to clip time and trimmed to it.

    Times are also made monotonic (no word overlaps the next), which the per-word
    highlight relies on.
    """
    duration = clip_end - clip_start
    out: list[Word] = []
    for w in sorted(words, key=lambda w: (w.start, w.end)):
        text = " ".join(w.word.split())
        if not text or not clip_start <= (w.start + w.end) / 2 < clip_end:
            continue
        start = min(max(w.start - clip_start, 0.0), duration)
        end = min(max(w.end - clip_start, start), duration)
        if out and out[-1].end > start:  # overlapping timestamps: the earlier word yields
            prev = out[-1]
            start = max(start, prev.start)
            out[-1] = prev.model_copy(update={"end": start})
            end = max(end, start)
        out.append(w.model_copy(update={"word": text, "start": start, "end": end}))
    return out


def group_words(
    words: Sequence[Word],
    max_words: int = 4,
    max_chars: int = 22,
    max_gap: float = 0.6,
) -> list[CaptionLine]:
    """Split words into short lines: at most `max_words` / `max_chars`, break on sentence
    punctuation and on pauses longer than `max_gap` (a pause is where a line ends naturally).

    Each line's `start`/`end` are its first word's start and last word's end.
    """
    lines: list[list[Word]] = []
    current: list[Word] = []
    for w in words:
        if current:
            prev = current[-1]
            chars = len(" ".join(x.word for x in current)) + 1 + len(w.word)
            if (
                len(current) >= max_words
                or chars > max_chars
                or w.start - prev.end > max_gap
                or prev.word.endswith(_SENTENCE_END)
                or (prev.word.endswith(_SOFT_BREAK) and len(current) * 2 >= max_words)
            ):
                lines.append(current)
                current = []
        current.append(w)
    if current:
        lines.append(current)
    return [CaptionLine(tuple(ws), ws[0].start, ws[-1].end) for ws in lines]


def caption_lines(
    words: Iterable[Word],
    *,
    clip_start: float,
    clip_end: float,
    max_words: int = 4,
    max_chars: int = 22,
    max_gap: float = 0.6,
    linger: float = 0.5,
) -> list[CaptionLine]:
    """Lines in clip time; each stays up to `linger` s after its last word, never past the next
    line's start, so exactly one line is on screen at a time."""
    duration = clip_end - clip_start
    lines = group_words(clip_words(words, clip_start, clip_end), max_words, max_chars, max_gap)
    out = []
    for i, line in enumerate(lines):
        end = min(line.end + linger, duration)
        if i + 1 < len(lines):
            end = min(end, lines[i + 1].start)
        out.append(CaptionLine(line.words, line.start, max(end, line.end)))
    return out


# --------------------------------------------------------------------------- looks

CaptionStyle = Literal["bold", "karaoke", "minimal"]
CAPTION_STYLE_NAMES: tuple[str, ...] = get_args(CaptionStyle)


@dataclass(frozen=True)
class CaptionLook:
    """How burned-in captions look. Sizes are fractions of the frame: `size` of its height,
    capped at `max_size` of its width (a wide frame does not get giant words); `margin_v`
    lifts the text above the platforms' bottom UI."""

    size: float
    max_size: float
    bold: bool = True
    uppercase: bool = False
    colour: str = "#FFFFFF"
    highlight: str | None = "#FFE600"  # the spoken word; None: no highlight
    outline_colour: str = "#000000"
    outline: float = 0.08  # of the font size
    shadow: float = 0.04
    margin_v: float = 0.28
    max_words: int = 4
    max_chars: int = 22
    max_gap: float = 0.6
    font: str = "DejaVu Sans"

    def font_px(self, width: int, height: int) -> int:
        return round(min(self.size * height, self.max_size * width))

    @property
    def grouping(self) -> dict[str, Any]:
        return {"max_words": self.max_words, "max_chars": self.max_chars, "max_gap": self.max_gap}


# bold: upper-case letters ~6% of the frame's height (measured on rendered frames in
# tests/unit/media/test_layouts.py); at most 3 words and 10 characters at a time, which
# libass wraps onto two rows when they do not fit one. No shadow: the thick outline reads on
# any background, and a shadow of letters this big cost 1.5 CPU-s per 20 s clip.
CAPTION_STYLES: dict[str, CaptionLook] = {
    "bold": CaptionLook(size=0.092, max_size=0.165, uppercase=True, outline=0.1, shadow=0.0,
                        margin_v=0.24, max_words=3, max_chars=10, max_gap=0.5),
    "karaoke": CaptionLook(size=0.0416, max_size=0.074),
    "minimal": CaptionLook(size=0.026, max_size=0.046, bold=False, highlight=None, outline=0.06,
                           shadow=0.0, margin_v=0.07, max_words=7, max_chars=34, max_gap=0.8),
}


def caption_look(style: str = "karaoke", **overrides: Any) -> CaptionLook:
    """The named look, with any field replaced (`font`, `highlight`, `uppercase`, ...)."""
    try:
        look = CAPTION_STYLES[style]
    except KeyError:
        raise ValueError(f"caption style must be one of {', '.join(CAPTION_STYLES)}") from None
    fields = {f.name for f in dataclasses.fields(CaptionLook)}
    unknown = set(overrides) - fields - {"font_size"}
    if unknown:
        raise ValueError(f"unknown caption options {sorted(unknown)}")
    overrides = {k: v for k, v in overrides.items() if v is not None}
    if "font_size" in overrides:  # an absolute size in pixels of a 1920-tall frame
        px = overrides.pop("font_size")
        overrides.update(size=px / 1920, max_size=1.0)
    return dataclasses.replace(look, **overrides)


# Where a line may go, in order of preference: (alignment, vertical position as a fraction of
# the frame height, measured from the bottom for bottom alignment, from the top for top).
Band = tuple[float, float]
FaceBands = Callable[[float, float], list[Band]]


def _placements(look: CaptionLook) -> list[tuple[int, float]]:
    return [(2, look.margin_v), (8, 0.12), (5, 0.5)]


def _line_band(align: int, at: float, box_h: float) -> Band:
    """The (top, bottom) band, fractions of the height, that a line of `box_h` covers."""
    if align == 2:
        return (1 - at - box_h, 1 - at)
    if align == 8:
        return (at, at + box_h)
    return (0.5 - box_h / 2, 0.5 + box_h / 2)


def _overlap(a: Band, b: Band) -> float:
    return max(0.0, min(a[1], b[1]) - max(a[0], b[0]))


def _covering(place: tuple[int, float], *, box_h: float, faces: list[Band]) -> tuple[bool, float]:
    """How much of the faces a line at `place` would cover: (any at all, how much)."""
    covered = sum(_overlap(_line_band(*place, box_h), f) for f in faces)
    return covered > 0, covered


# --------------------------------------------------------------------------- ASS


def _ass_time(t: float) -> str:
    cs = max(0, round(t * 100))
    h, rem = divmod(cs, 360000)
    m, rem = divmod(rem, 6000)
    s, cs = divmod(rem, 100)
    return f"{h}:{m:02d}:{s:02d}.{cs:02d}"


def _ass_colour(rgb: str, alpha: int = 0) -> str:
    """'#RRGGBB' -> ASS '&HAABBGGRR'."""
    h = rgb.lstrip("#")
    if len(h) != 6:
        raise ValueError(f"colour must be #RRGGBB, got {rgb!r}")
    return f"&H{alpha:02X}{h[4:6]}{h[2:4]}{h[0:2]}".upper()


def ass_escape(text: str) -> str:
    """Make transcript text inert in ASS: braces would open override blocks, and a backslash
    before n/N/h would become a line break or hard space."""
    return text.replace("\\", "\\\u2060").replace("{", "\\{").replace("}", "\\}")


def build_ass(
    words: Iterable[Word],
    *,
    clip_start: float,
    clip_end: float,
    width: int = 1080,
    height: int = 1920,
    style: str = "karaoke",
    avoid: FaceBands | None = None,
    **overrides: Any,
) -> str:
    """An ASS script: one event per (line, active word), the active word in the look's
    `highlight`; consecutive events of a line abut, so the line stays still while the colour
    moves. `style` names the look (`CAPTION_STYLES`), `overrides` change its fields.

    `avoid(start, end)` returns the bands of the frame (fractions of its height) where faces
    are while a line is up; the line takes the first place that keeps out of them: its
    look's place near the bottom, then near the top, then the middle.
    """
    look = caption_look(style, **overrides)
    size = look.font_px(width, height)
    outline = max(2, round(size * look.outline))
    shadow = max(0, round(size * look.shadow))
    base = _ass_colour(look.colour)
    hi = _ass_colour(look.highlight) if look.highlight else base
    base_tag, hi_tag = f"&H{base[4:]}&", f"&H{hi[4:]}&"  # override tags take &HBBGGRR&
    margin_lr = round(width * 0.06)
    style_line = ",".join(
        str(v)
        for v in (
            "Caption", look.font, size, base, hi, _ass_colour(look.outline_colour),
            _ass_colour(look.outline_colour, 0x60), -1 if look.bold else 0, 0, 0, 0, 100, 100,
            0, 0, 1, outline, shadow, 2, margin_lr, margin_lr, round(height * look.margin_v), 1,
        )
    )  # fmt: skip
    out = [
        "[Script Info]",
        f"; reelforge captions ({style})",
        "ScriptType: v4.00+",
        f"PlayResX: {width}",
        f"PlayResY: {height}",
        "WrapStyle: 0",
        "ScaledBorderAndShadow: yes",
        "YCbCr Matrix: TV.709",
        "",
        "[V4+ Styles]",
        "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, "
        "BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, "
        "BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding",
        f"Style: {style_line}",
        "",
        "[Events]",
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text",
    ]
    lines = caption_lines(words, clip_start=clip_start, clip_end=clip_end, **look.grouping)
    advance = 0.6 if look.uppercase else 0.55  # average glyph advance, in font sizes
    for line in lines:
        texts = [ass_escape(w.word.upper() if look.uppercase else w.word) for w in line.words]
        rows = max(1, math.ceil(len(" ".join(texts)) * advance * size / (width - 2 * margin_lr)))
        box_h = (rows * size + 2 * outline) / height
        align, at = _placements(look)[0]
        if avoid is not None:
            faces = avoid(line.start, line.end)
            # the first place clear of every face (min keeps the order), else the least covering
            align, at = min(_placements(look), key=functools.partial(_covering, box_h=box_h,
                                                                     faces=faces))
        tag = "" if align == 2 else f"{{\\an{align}}}"
        margin_v = 0 if align == 2 else round(at * height) if align == 8 else 0
        for i in range(len(line.words)):
            start = line.start if i == 0 else line.words[i].start
            end = line.end if i + 1 == len(line.words) else line.words[i + 1].start
            if _ass_time(end) == _ass_time(start):
                continue  # shorter than the format's centisecond: the next word takes over
            shown = [
                f"{{\\1c{hi_tag}}}{t}{{\\1c{base_tag}}}" if j == i and look.highlight else t
                for j, t in enumerate(texts)
            ]
            out.append(f"Dialogue: 0,{_ass_time(start)},{_ass_time(end)},Caption,,0,0,"
                       f"{margin_v},,{tag}{' '.join(shown)}")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- SRT / VTT


def _stamp(t: float, sep: str) -> str:
    ms = max(0, round(t * 1000))
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


SidecarFormat = Literal["srt", "vtt"]


class Grouping(TypedDict, total=False):
    """How words group into lines (see `group_words`; defaults in `caption_lines`)."""

    max_words: int
    max_chars: int
    max_gap: float


def build_sidecar(
    fmt: SidecarFormat,
    words: Iterable[Word],
    clip_start: float,
    clip_end: float,
    **grouping: Unpack[Grouping],
) -> str:
    """A SubRip (`srt`) or WebVTT (`vtt`) sidecar with the same lines as the burned-in captions.

    The formats differ only in framing: SRT numbers its cues and writes `00:00:01,500`;
    WebVTT starts with a `WEBVTT` header, writes `00:00:01.500` and escapes `&`, `<`, `>`.
    """
    cues = caption_lines(words, clip_start=clip_start, clip_end=clip_end, **grouping)
    vtt = fmt == "vtt"
    sep = "." if vtt else ","
    blocks = [
        ("" if vtt else f"{i}\n")
        + f"{_stamp(c.start, sep)} --> {_stamp(c.end, sep)}\n"
        + (_vtt_escape(c.text) if vtt else c.text)
        + "\n"
        for i, c in enumerate(cues, 1)
    ]
    return ("WEBVTT\n\n" if vtt else "") + "\n".join(blocks)


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def build_srt(
    words: Iterable[Word], clip_start: float, clip_end: float, **grouping: Unpack[Grouping]
) -> str:
    """SubRip sidecar with the same lines as the burned-in captions."""
    return build_sidecar("srt", words, clip_start, clip_end, **grouping)


def build_vtt(
    words: Iterable[Word], clip_start: float, clip_end: float, **grouping: Unpack[Grouping]
) -> str:
    """WebVTT sidecar (for <track> in browsers), same lines as `build_srt`."""
    return build_sidecar("vtt", words, clip_start, clip_end, **grouping)
