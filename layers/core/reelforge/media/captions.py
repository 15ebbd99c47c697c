"""Word-by-word captions for vertical clips: burned-in ASS (karaoke highlight) plus SRT/VTT.

All builders take the transcript's words in source time and the clip window, and write
times relative to the clip start, because the rendered clip starts at t=0. They share one
grouping, so the burned-in lines and the sidecars say the same thing at the same time.

Short lines (a few words) are what makes vertical captions readable on a phone; the
active word is recoloured so the viewer can follow the speech.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, TypedDict, Unpack

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
    font: str = "DejaVu Sans",
    font_size: int | None = None,
    colour: str = "#FFFFFF",
    highlight: str = "#FFE600",
    outline_colour: str = "#000000",
    margin_v: float = 0.28,
    uppercase: bool = False,
    max_words: int = 4,
    max_chars: int = 22,
    max_gap: float = 0.6,
) -> str:
    """An ASS script: one event per (line, active word), the active word in `highlight`.

    Consecutive events of a line abut, so the line stays still while the colour moves.
    `margin_v` (fraction of `height`) keeps the text above the platforms' bottom UI.
    """
    size = font_size or round(width * 0.074)
    outline = max(2, round(size * 0.08))
    shadow = max(1, round(size * 0.04))
    base, hi = _ass_colour(colour), _ass_colour(highlight)
    base_tag, hi_tag = f"&H{base[4:]}&", f"&H{hi[4:]}&"  # override tags take &HBBGGRR&
    style = ",".join(
        str(v)
        for v in (
            "Caption", font, size, base, hi, _ass_colour(outline_colour),
            _ass_colour(outline_colour, 0x60), -1, 0, 0, 0, 100, 100, 0, 0, 1,
            outline, shadow, 2, round(width * 0.06), round(width * 0.06),
            round(height * margin_v), 1,
        )
    )  # fmt: skip
    out = [
        "[Script Info]",
        "; reelforge word-by-word captions",
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
        f"Style: {style}",
        "",
        "[Events]",
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text",
    ]
    lines = caption_lines(
        words,
        clip_start=clip_start,
        clip_end=clip_end,
        max_words=max_words,
        max_chars=max_chars,
        max_gap=max_gap,
    )
    for line in lines:
        texts = [ass_escape(w.word.upper() if uppercase else w.word) for w in line.words]
        for i in range(len(line.words)):
            start = line.start if i == 0 else line.words[i].start
            end = line.end if i + 1 == len(line.words) else line.words[i + 1].start
            if _ass_time(end) == _ass_time(start):
                continue  # shorter than the format's centisecond: the next word takes over
            shown = [
                f"{{\\1c{hi_tag}}}{t}{{\\1c{base_tag}}}" if j == i else t
                for j, t in enumerate(texts)
            ]
            out.append(
                f"Dialogue: 0,{_ass_time(start)},{_ass_time(end)},Caption,,0,0,0,,{' '.join(shown)}"
            )
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
