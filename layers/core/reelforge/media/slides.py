"""Slide pictures for narrated presentation videos: one designed still per narrated slide.

`render_slide` draws a slide (background, title, body, footer, and an image panel when the
slide has an image keyword) as a PNG; the panel is also written on its own, larger than its
box, so the encoder can move slowly inside it (Ken Burns) while the narration plays.

Three tones (`TONES`) each have their own palette and typography: `formal` (deep navy, white,
a cool accent, clean sans titles), `casual` (warm cream and coral, friendly shapes) and
`storytelling` (dark and cinematic, serif titles, a warm amber accent, a vignette). Text is
measured and shaped with raqm (so Indic scripts join correctly), wrapped to its column and
shrunk until it fits; nothing is drawn outside the 5 % safe margins. Images are offline and
abstract (`procedural_image`, or `palette_image` in given colours): seeded by the keyword, so a
slide renders the same every time.

Everything smooth (gradients, glows, vignette, blur) is drawn at a quarter of the size and
scaled up, and there are no per-pixel Python loops: a 1920x1080 slide takes well under 0.3 s.
"""

from __future__ import annotations

import colorsys
import functools
import hashlib
import math
import random
import unicodedata
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont, ImageOps, features

from reelforge.errors import MediaProcessingError

TONES = ("formal", "casual", "storytelling")
LANGUAGES = ("english", "hindi", "kannada", "telugu", "tamil", "bengali", "gujarati", "malayalam",
             "marathi", "odia", "punjabi")
SAFE_MARGIN = 0.05  # of the width (left/right) and of the height (top/bottom)
PANEL_OVERSCAN = 1.25  # the panel PNG is this much larger than its box, in both dimensions

PACKAGED_FONTS = Path(__file__).resolve().parent.parent / "assets" / "fonts"
SYSTEM_FONT_DIRS = (Path("/usr/share/fonts/truetype/noto"), Path("/usr/share/fonts/opentype/noto"),
                    Path("/usr/share/fonts/noto"), Path("/usr/share/fonts/truetype/dejavu"))

RGB = tuple[int, int, int]

# language -> Noto script name ("" = Latin)
_SCRIPTS = {"english": "", "hindi": "Devanagari", "marathi": "Devanagari", "kannada": "Kannada",
            "telugu": "Telugu", "tamil": "Tamil", "bengali": "Bengali", "gujarati": "Gujarati",
            "malayalam": "Malayalam", "odia": "Oriya", "punjabi": "Gurmukhi"}
_ALIASES = {"en": "english", "hi": "hindi", "mr": "marathi", "kn": "kannada", "te": "telugu",
            "ta": "tamil", "bn": "bengali", "bangla": "bengali", "gu": "gujarati", "ml": "malayalam",
            "or": "odia", "od": "odia", "oriya": "odia", "pa": "punjabi", "panjabi": "punjabi"}
# A letter of each script whose ink sits where the script's text sits (to centre bullets on).
_SCRIPT_SAMPLE = {"": "x", "Devanagari": "क", "Kannada": "ಕ", "Telugu": "క", "Tamil": "க",
                  "Bengali": "ক", "Gujarati": "ક", "Malayalam": "ക", "Oriya": "କ", "Gurmukhi": "ਕ"}
_BULLETS = ("- ", "• ", "* ", "– ")
_PNG_LEVEL = 1  # fast deflate: these are intermediates for the encoder, read once
_LAYOUT = ImageFont.Layout.RAQM if features.check_feature("raqm") else ImageFont.Layout.BASIC


class SlideFontError(MediaProcessingError, ValueError):
    """No font with the glyphs of the slide's language is installed (or shipped)."""


@dataclass(frozen=True)
class SlideDesign:
    """What one slide says; `body` is prose or lines, lines starting with "- " or "• " are bullets."""

    number: int  # 1-based; slide 1 is drawn as the cover
    total: int
    title: str
    body: str
    tone: str = "formal"
    language: str = "english"
    image_keyword: str | None = None  # when set, the slide has an image panel
    topic: str = ""  # the small kicker/footer text


@dataclass(frozen=True)
class Box:
    """A rectangle on the slide, in pixels."""

    x: int
    y: int
    w: int
    h: int

    @property
    def right(self) -> int:
        return self.x + self.w

    @property
    def bottom(self) -> int:
        return self.y + self.h


@dataclass(frozen=True)
class SlideArt:
    """The rendered slide.

    `background` is the whole slide, text included; where there is a panel it already shows
    the panel's first frame (the whole panel scaled down into `panel_box`, i.e. zoom 1.0, where
    a zoom-in starts), so the PNG alone is a correct still. `panel` is PANEL_OVERSCAN times the
    box in both dimensions, for the encoder to crop and scale into `panel_box` as it moves.
    """

    background: Path
    panel: Path | None
    panel_box: Box | None


@dataclass(frozen=True)
class Palette:
    """A tone's colours. Text colours keep a contrast of at least 4.5 with the background."""

    bg_a: RGB  # gradient start (top left)
    bg_b: RGB  # gradient end (bottom right)
    glows: tuple[RGB, ...]  # soft light blobs on the background
    title: RGB
    body: RGB
    muted: RGB  # footer
    accent: RGB  # bars, bullets, progress
    on_accent: RGB  # text drawn on an accent fill
    panel_edge: RGB  # the frame/offset block behind an image panel


PALETTES: dict[str, Palette] = {
    "formal": Palette(bg_a=(9, 22, 46), bg_b=(17, 41, 80), glows=((36, 78, 140), (22, 58, 110)),
                      title=(255, 255, 255), body=(211, 222, 238), muted=(150, 170, 200),
                      accent=(84, 196, 255), on_accent=(9, 22, 46), panel_edge=(84, 196, 255)),
    "casual": Palette(bg_a=(255, 249, 240), bg_b=(255, 233, 214),
                      glows=((255, 206, 170), (255, 226, 150), (255, 196, 205)),
                      title=(40, 26, 22), body=(72, 54, 46), muted=(122, 88, 70),
                      accent=(255, 107, 74), on_accent=(40, 26, 22), panel_edge=(255, 107, 74)),
    "storytelling": Palette(bg_a=(12, 10, 12), bg_b=(28, 19, 20), glows=((92, 52, 24), (60, 30, 26)),
                            title=(250, 243, 232), body=(220, 209, 194), muted=(168, 152, 134),
                            accent=(245, 168, 52), on_accent=(18, 12, 10), panel_edge=(245, 168, 52)),
}


@dataclass(frozen=True)
class _Style:
    """A tone's typography and layout feel (sizes are pixels at 1080 on the short side)."""

    title_fonts: tuple[str, ...]  # preferred files for English titles (before font_for)
    serif: bool  # Indic titles/body in Noto Serif <Script> when installed
    body_fonts: tuple[str, ...]
    title_px: int
    cover_px: int
    body_px: int
    leading: float  # body line pitch, in ems
    bullet: str  # "dot" | "square" | "diamond"
    rule: str  # "above" | "below" | "numeral": the accent mark near the title
    bleed: bool  # image panel runs to the slide's edge instead of sitting in the margins
    center_cover: bool  # cover text centred (when there is no image)


_STYLES = {
    "formal": _Style(("NotoSansDisplay-Bold.ttf",), False, (), 76, 100, 42, 1.42, "square", "above",
                     False, False),
    "casual": _Style(("NotoSans-Bold.ttf",), False, (), 78, 104, 42, 1.45, "dot", "below", False,
                     False),
    "storytelling": _Style(("NotoSerifDisplay-Bold.ttf", "NotoSerif-Bold.ttf"), True,
                           ("NotoSerif-Regular.ttf",), 78, 108, 42, 1.5, "diamond", "numeral", True,
                           True),
}


# ----------------------------------------------------------------------------- fonts


def _font_dirs() -> tuple[Path, ...]:
    return (PACKAGED_FONTS, *SYSTEM_FONT_DIRS)


@functools.lru_cache(maxsize=128)
def _find_font(name: str) -> Path | None:
    """The first font file called `name` in the packaged fonts, then the system's."""
    for d in _font_dirs():
        p = d / name
        if p.is_file():
            return p
    return None


def _language(language: str) -> str:
    key = (language or "english").strip().lower()
    key = _ALIASES.get(key, key)
    if key not in _SCRIPTS:
        raise ValueError(f"unsupported slide language {language!r}; one of {', '.join(LANGUAGES)}")
    return key


def font_for(language: str, *, bold: bool = False) -> Path:
    """A font file with the glyphs of `language`'s script: Noto Sans <Script> for the Indic
    languages (Marathi is Devanagari, Odia is Oriya, Punjabi is Gurmukhi), Noto Sans or DejaVu
    Sans for English. Fonts shipped in reelforge/assets/fonts win over the system's."""
    script = _SCRIPTS[_language(language)]
    weight = "Bold" if bold else "Regular"
    names = [f"NotoSans{script}-{weight}.ttf", f"NotoSans{script}UI-{weight}.ttf"]
    if not script:
        names.append("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")
    for name in names:
        path = _find_font(name)
        if path:
            return path
    raise SlideFontError(
        f"no font for {script or 'Latin'} text ({names[0]}): install the Debian package "
        f"fonts-noto-core or ship the font in {PACKAGED_FONTS}")


@functools.lru_cache(maxsize=512)
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size, layout_engine=_LAYOUT)


@functools.lru_cache(maxsize=64)
def _probe(path: str) -> tuple[ImageFont.FreeTypeFont, tuple[tuple[int, int], bytes]]:
    """A small unshaped instance of the font, and what its .notdef (tofu) glyph looks like."""
    font = ImageFont.truetype(path, 24, layout_engine=ImageFont.Layout.BASIC)
    mask = font.getmask("\uffff")
    return font, (mask.size, bytes(mask))


@functools.lru_cache(maxsize=16384)
def _covers(path: str, ch: str) -> bool:
    """Whether the font has a glyph for `ch` (its mask differs from the .notdef box)."""
    font, notdef = _probe(path)
    mask = font.getmask(ch)
    return (mask.size, bytes(mask)) != notdef


def _neutral(ch: str) -> bool:
    """Characters that belong to the run around them: spaces, combining marks, joiners."""
    return ch.isspace() or unicodedata.category(ch) in ("Mn", "Mc", "Me", "Cf")


@dataclass(frozen=True)
class _Face:
    """A font chain at one size: the first font that has a character draws it."""

    chain: tuple[str, ...]
    size: int
    script: str = ""

    def font(self, i: int = 0) -> ImageFont.FreeTypeFont:
        return _font(self.chain[i], self.size)

    def runs(self, text: str) -> list[tuple[str, ImageFont.FreeTypeFont]]:
        return [(t, self.font(i)) for t, i in _runs(self.chain, text)]

    def length(self, text: str) -> float:
        return _length(self.chain, self.size, text)

    @functools.cached_property
    def ascent(self) -> int:  # room above the baseline, over the primary and Latin fonts
        return max(self.font(i).getmetrics()[0] for i in range(min(2, len(self.chain))))

    @functools.cached_property
    def descent(self) -> int:
        return max(self.font(i).getmetrics()[1] for i in range(min(2, len(self.chain))))

    @functools.cached_property
    def natural(self) -> int:  # the primary font's own line height
        a, d = self.font().getmetrics()
        return a + d

    @functools.cached_property
    def mid(self) -> float:  # how far above the baseline the script's letters are centred
        top, bottom = self.font().getbbox(_SCRIPT_SAMPLE[self.script], anchor="ls")[1::2]
        return -(top + bottom) / 2


@functools.lru_cache(maxsize=8192)
def _length(chain: tuple[str, ...], size: int, text: str) -> float:
    return sum(_font(chain[i], size).getlength(t) for t, i in _runs(chain, text))


@functools.lru_cache(maxsize=8192)
def _runs(chain: tuple[str, ...], text: str) -> tuple[tuple[str, int], ...]:
    """Split text into (text, font index) runs; characters no font has (emoji) are dropped."""
    out: list[list] = []
    for ch in text:
        if _neutral(ch):
            idx = out[-1][1] if out else 0
        else:
            idx = next((i for i, p in enumerate(chain) if _covers(p, ch)), None)
            if idx is None:
                if unicodedata.category(ch)[0] in "SC":
                    continue
                idx = 0
        if out and out[-1][1] == idx:
            out[-1][0] += ch
        else:
            out.append([ch, idx])
    return tuple((t, i) for t, i in out)


def _chain(language: str, bold: bool, preferred: tuple[str, ...] = (),
           serif: bool = False) -> tuple[str, ...]:
    """Font files to draw a language with: tone preference, the script's font, then fallbacks."""
    lang = _language(language)
    script = _SCRIPTS[lang]
    weight = "Bold" if bold else "Regular"
    names: list[str] = []
    if not script:
        names += preferred
    elif serif:
        names.append(f"NotoSerif{script}-{weight}.ttf")
    paths = [p for p in map(_find_font, names) if p]
    paths.append(font_for(lang, bold=bold))
    for name in (f"NotoSans-{weight}.ttf", "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"):
        p = _find_font(name)
        if p:
            paths.append(p)
    for other in dict.fromkeys(_SCRIPTS.values()):  # other scripts, for mixed-language text
        p = _find_font(f"NotoSans{other}-{weight}.ttf") if other and other != script else None
        if p:
            paths.append(p)
    return tuple(dict.fromkeys(str(p) for p in paths))


# ----------------------------------------------------------------------------- text layout


_VIRAMA_LIKE = ("VIRAMA", "HALANT")


def _break_ok(text: str, i: int) -> bool:
    """Whether a too-long word may be broken before index i without splitting a cluster."""
    ch, prev = text[i], text[i - 1]
    if _neutral(ch) or unicodedata.category(prev) == "Cf":
        return False
    return not any(v in unicodedata.name(prev, "") for v in _VIRAMA_LIKE)


def _break_word(face: _Face, word: str, width: float) -> list[str]:
    pieces: list[str] = []
    start = 0
    while start < len(word):
        end = start + 1
        for i in range(start + 1, len(word) + 1):
            if i < len(word) and not _break_ok(word, i):
                continue
            if face.length(word[start:i]) > width and end > start + 1:
                break
            end = i
        pieces.append(word[start:end])
        start = end
    return pieces


def _wrap(face: _Face, text: str, width: float) -> list[str]:
    """Greedy word wrap on measured widths; a word wider than the line is broken."""
    width -= face.size * 0.06  # room for glyphs that overhang their advance (and the left clamp)
    space = face.length(" ")
    lines: list[str] = []
    cur: list[str] = []
    cur_w = 0.0
    for word in text.split():
        ww = face.length(word)  # words are measured once (cached); shaping never crosses a space
        if (cur_w + space + ww if cur else ww) <= width:
            cur_w = cur_w + space + ww if cur else ww
            cur.append(word)
            continue
        if cur:
            lines.append(" ".join(cur))
        if ww > width:
            *full, last = _break_word(face, word, width)
            lines += full
            cur, cur_w = [last], face.length(last)
        else:
            cur, cur_w = [word], ww
    if cur:
        lines.append(" ".join(cur))
    return lines


def _wrap_balanced(face: _Face, text: str, width: float) -> list[str]:
    """Wrap into as few lines as greedy wrapping, but with lines of similar length (titles)."""
    lines = _wrap(face, text, width)
    if len(lines) < 2:
        return lines
    lo, hi = width * 0.4, width
    for _ in range(8):
        mid = (lo + hi) / 2
        if len(_wrap(face, text, mid)) <= len(lines):
            hi = mid
        else:
            lo = mid
    return _wrap(face, text, hi)


def _ellipsize(face: _Face, text: str, width: float) -> str:
    if face.length(text) <= width:
        return text
    words = text.split()
    while words:
        cand = " ".join(words).rstrip(".,;:!?—–-") + "…"
        if face.length(cand) <= width:
            return cand
        words.pop()
    return "…"


@dataclass(frozen=True)
class _Para:
    text: str
    bullet: bool


def _paragraphs(body: str) -> list[_Para]:
    """Each non-empty line is a paragraph; "- " / "• " lines are bullets."""
    out = []
    for raw in (body or "").splitlines():
        line = " ".join(raw.split())
        if not line:
            continue
        marker = next((m for m in _BULLETS if line.startswith(m.strip() + " ")), None)
        if marker:
            out.append(_Para(line[len(marker.strip()):].strip(), True))
        elif line in ("-", "•", "*"):
            continue
        else:
            out.append(_Para(line, False))
    return out


@dataclass(frozen=True)
class _Line:
    text: str
    x: int  # offset from the block's left edge
    y: int  # baseline, from the block's top
    bullet: bool = False  # draw a bullet marker before this line


@dataclass(frozen=True)
class _Block:
    face: _Face
    lines: tuple[_Line, ...]
    height: int
    pitch: int
    cut: bool = False  # text was dropped (ellipsis) to stay within the line limit


def _title_block(face: _Face, text: str, width: float, max_lines: int) -> _Block:
    lines = _wrap_balanced(face, text, width)
    cut = len(lines) > max_lines
    if cut:
        lines = lines[:max_lines - 1] + [_ellipsize(face, " ".join(lines[max_lines - 1:]), width)]
    pitch = max(round(face.size * 1.14), round(face.natural * 0.98))
    rows = tuple(_Line(t, 0, face.ascent + i * pitch) for i, t in enumerate(lines))
    height = face.ascent + face.descent + pitch * (len(rows) - 1) if rows else 0
    return _Block(face, rows, height, pitch, cut)


def _body_block(face: _Face, paras: list[_Para], width: float, leading: float,
                max_height: float | None = None, balanced: bool = False) -> _Block:
    """Lay paragraphs out; bullets hang (wrapped lines start under the text, not the marker).
    `balanced` evens out the line lengths of prose (for centred subtitles).

    With `max_height`, lines that do not fit are dropped and the last one ends in an ellipsis.
    """
    pitch = max(round(face.size * leading), round(face.natural * 1.06))
    indent = round(face.size * 1.15) if any(p.bullet for p in paras) else 0
    gap = round(pitch * 0.42)
    rows: list[_Line] = []
    y = face.ascent
    for p in paras:
        x = indent if p.bullet else 0
        wrapped = (_wrap_balanced if balanced and not p.bullet else _wrap)(face, p.text, width - x)
        for j, t in enumerate(wrapped):
            rows.append(_Line(t, x, y, p.bullet and j == 0))
            y += pitch
        y += gap
    height = (rows[-1].y + face.descent) if rows else 0
    if max_height is not None and height > max_height:
        keep = [r for r in rows if r.y + face.descent <= max_height]
        if keep:
            last = keep[-1]
            keep[-1] = _Line(_ellipsize(face, last.text + " …", width - last.x), last.x, last.y,
                             last.bullet)
            height = keep[-1].y + face.descent
        else:
            height = 0
        rows = keep
    return _Block(face, tuple(rows), height, pitch)


def _fit(make: Callable[[int], _Block], lo: int, hi: int, limit: float) -> tuple[_Block, bool]:
    """The block at the largest size in [lo, hi] that is within `limit` and not cut short
    (binary search); (the block at `lo`, False) when even that does not fit."""
    def fits(b: _Block) -> bool:
        return b.height <= limit and not b.cut

    best = make(hi)
    if fits(best):
        return best, True
    low = make(lo)
    if not fits(low):
        return low, False
    best = low
    while hi - lo > 1:
        mid = (lo + hi) // 2
        cand = make(mid)
        if fits(cand):
            lo, best = mid, cand
        else:
            hi = mid
    return best, True


# ----------------------------------------------------------------------------- drawing helpers


def _lerp(a: RGB, b: RGB, t: float) -> RGB:
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b, strict=True))  # type: ignore[return-value]


def relative_luminance(c: RGB) -> float:
    """WCAG relative luminance of an sRGB colour."""
    def lin(v: int) -> float:
        s = v / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4
    r, g, b = (lin(v) for v in c[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: RGB, b: RGB) -> float:
    """WCAG contrast ratio (1..21) between two colours; 4.5 is the bar for body text."""
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def _diagonal(size: tuple[int, int], c1: RGB, c2: RGB, corner: int = 0) -> Image.Image:
    """c1 in one corner fading to c2 in the opposite one (corner 0..3 picks which)."""
    v = Image.linear_gradient("L")
    mask = Image.blend(v, v.transpose(Image.Transpose.ROTATE_90), 0.5)
    if corner & 1:
        mask = mask.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    if corner & 2:
        mask = mask.transpose(Image.Transpose.FLIP_TOP_BOTTOM)
    mask = mask.resize(size, Image.Resampling.BILINEAR)
    return Image.composite(Image.new("RGB", size, c2), Image.new("RGB", size, c1), mask)


@functools.lru_cache(maxsize=8)
def _glow_mask(power: float) -> Image.Image:
    """A round soft spot: 255 in the middle falling smoothly to 0 at the edge."""
    # radial_gradient is 0 in the middle and 181 at the edge of the inscribed circle
    lut = [round(255 * max(0.0, 1 - (v / 181) ** 2) ** power) for v in range(256)]
    return Image.radial_gradient("L").point(lut)


def _glow(img: Image.Image, cx: float, cy: float, rx: float, ry: float, color: RGB,
          strength: float, power: float = 1.8) -> None:
    w, h = max(1, round(2 * rx)), max(1, round(2 * ry))
    mask = _glow_mask(power).resize((w, h), Image.Resampling.BILINEAR)
    if strength < 1:
        mask = mask.point(lambda v: round(v * strength))
    img.paste(color, (round(cx - rx), round(cy - ry)), mask)


def _vignette(img: Image.Image, strength: float) -> None:
    lut = [round(255 * strength * min(1.0, max(0.0, (v - 90) / 165)) ** 1.6) for v in range(256)]
    mask = Image.radial_gradient("L").resize(img.size, Image.Resampling.BILINEAR).point(lut)
    img.paste((0, 0, 0), (0, 0), mask)


def _aa(size: tuple[int, int], draw: Callable[[ImageDraw.ImageDraw, int], None], ss: int = 3) -> Image.Image:
    """An antialiased L mask: drawn `ss` times larger, then box-reduced."""
    big = Image.new("L", (max(1, size[0] * ss), max(1, size[1] * ss)), 0)
    draw(ImageDraw.Draw(big), ss)
    return big.reduce(ss)


def _rounded(img: Image.Image, box: tuple[int, int, int, int], radius: float, color: RGB,
             alpha: int = 255) -> None:
    x0, y0, x1, y1 = box
    mask = _aa((x1 - x0, y1 - y0), lambda d, s: d.rounded_rectangle(
        (0, 0, (x1 - x0) * s - 1, (y1 - y0) * s - 1), radius=radius * s, fill=alpha))
    img.paste(color, (x0, y0), mask)


def _marker(img: Image.Image, kind: str, cx: float, cy: float, r: float, color: RGB) -> None:
    d = math.ceil(r * 2) + 2
    x0, y0 = round(cx - d / 2), round(cy - d / 2)
    ox, oy = cx - x0, cy - y0

    def draw(dr: ImageDraw.ImageDraw, s: int) -> None:
        c, rr = (ox * s, oy * s), r * s
        if kind == "dot":
            dr.ellipse((c[0] - rr, c[1] - rr, c[0] + rr, c[1] + rr), fill=255)
        elif kind == "diamond":
            dr.polygon([(c[0], c[1] - rr * 1.15), (c[0] + rr * 1.15, c[1]), (c[0], c[1] + rr * 1.15),
                        (c[0] - rr * 1.15, c[1])], fill=255)
        else:
            q = rr * 0.9
            dr.rounded_rectangle((c[0] - q, c[1] - q, c[0] + q, c[1] + q), radius=q * 0.3, fill=255)

    img.paste(color, (x0, y0), _aa((d, d), draw, 4))


def _draw_text(draw: ImageDraw.ImageDraw, face: _Face, x: float, baseline: float, text: str,
               fill: RGB) -> None:
    """Draw a line from `x` (its ink never starts left of x, even for glyphs that overhang)."""
    runs = face.runs(text)
    if runs:
        x += max(0, -runs[0][1].getbbox(runs[0][0], anchor="ls")[0])
    for run, font in runs:
        draw.text((x, baseline), run, font=font, fill=fill, anchor="ls")
        x += font.getlength(run)


# ----------------------------------------------------------------------------- procedural images


def _hsv(h: float, s: float, v: float) -> RGB:
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, min(1.0, max(0.0, s)), min(1.0, max(0.0, v)))
    return round(r * 255), round(g * 255), round(b * 255)


# (tone) -> hue centre, hue reach (+-), then (saturation, value) of the dark base, the mid
# tones and the light highlights: formal stays cool and deep, casual warm and bright,
# storytelling takes any hue but low-key, like a night shot.
_TONE_COLOURS = {
    "formal": (0.60, 0.16, (0.80, 0.20), (0.62, 0.58), (0.25, 0.98)),
    "casual": (0.03, 0.13, (0.55, 0.92), (0.62, 1.00), (0.18, 1.00)),
    "storytelling": (0.08, 0.50, (0.75, 0.10), (0.70, 0.42), (0.35, 1.00)),
}
_MOTIFS = ("rings", "waves", "halftone", "horizon", "orbits", "ridges", "stripes")
MAX_PALETTE_DOTS = 6  # palette_image shows at most this many colours past its first three


def procedural_image(keyword: str, size: tuple[int, int], tone: str = "formal") -> Image.Image:
    """An offline stand-in for a stock picture of `keyword`: an abstract composition (colour
    fields, one geometric motif, bokeh, a light leak) seeded by the keyword, so the same keyword
    always gives the same picture and different keywords give clearly different ones; `tone`
    keeps its colours in the slide's family (cool, warm or low-key)."""
    centre, reach, (sd, vd), (sm, vm), (sl, vl) = _TONE_COLOURS.get(tone, _TONE_COLOURS["formal"])
    w, h = max(16, int(size[0])), max(16, int(size[1]))
    digest = hashlib.sha256(" ".join(keyword.lower().split()).encode()).digest()
    rng = random.Random(int.from_bytes(digest[:8], "big"))
    hue = centre + (rng.random() * 2 - 1) * reach
    spread = rng.choice((0.06, 0.1, 0.16, 0.5)) * rng.choice((-1, 1))
    dark, mid = _hsv(hue, sd, vd), _hsv(hue + spread * 0.5, sm, vm)
    other, light = _hsv(hue + spread, sm * 1.1, vm), _hsv(hue - spread * 0.3, sl, vl)

    # colour fields, soft light and vignette at a sixth of the size: they have no detail
    lw, lh = max(8, w // 6), max(8, h // 6)
    img = _diagonal((lw, lh), dark, _lerp(dark, mid, 0.55), rng.randrange(4))
    m = min(lw, lh)
    for colour in (mid, other, mid, _lerp(mid, light, 0.5))[: rng.randint(2, 4)]:
        r = rng.uniform(0.3, 0.65) * m
        _glow(img, rng.uniform(0, lw), rng.uniform(0, lh), r * rng.uniform(1, 1.7), r, colour,
              rng.uniform(0.55, 0.9), 1.2)
    _glow(img, rng.choice((0, lw)), rng.choice((0, lh)), 0.9 * lw, 0.9 * lh, light,
          0.25 if vd < 0.5 else 0.5, 2.0)
    for _ in range(rng.randint(4, 8)):  # far bokeh: big, blurred out-of-focus lights
        r = rng.uniform(0.05, 0.11) * m
        _soft_dot(img, rng.uniform(0, lw), rng.uniform(0, lh), r, max(0.6, r * 0.45), light,
                  rng.randint(30, 60))
    _vignette(img, 0.5 if vd < 0.5 else 0.2)
    img = img.resize((w, h), Image.Resampling.BICUBIC)

    _MOTIF_DRAW[_MOTIFS[digest[8] % len(_MOTIFS)]](img, rng, light, other, dark)

    mm = min(w, h)
    for _ in range(rng.randint(5, 10)):  # near bokeh: smaller and crisper
        r = rng.uniform(0.012, 0.035) * mm
        _soft_dot(img, rng.uniform(0, w), rng.uniform(0, h), r, max(1.0, r * 0.2), light,
                  rng.randint(60, 120))
    return img


def palette_image(keyword: str, size: tuple[int, int], palette: Sequence[RGB]) -> Image.Image:
    """An abstract composition in the given colours and only those (plus a faint tint of the
    first for texture): the first fills the ground, the next two draw one large shape and a
    band, any others a row of dots. The keyword seeds the layout, as in `procedural_image`."""
    if not palette:
        raise ValueError("palette_image needs at least one colour")
    colours = [tuple(int(v) for v in c[:3]) for c in palette]
    ground = colours[0]
    # One colour: the shapes are its tints, toward white on a dark ground, toward black on a light one.
    toward = (255, 255, 255) if relative_luminance(ground) < 0.4 else (0, 0, 0)
    while len(colours) < 3:
        colours.append(_lerp(ground, toward, 0.35 * len(colours)))
    w, h = max(16, int(size[0])), max(16, int(size[1]))
    digest = hashlib.sha256(" ".join(keyword.lower().split()).encode()).digest()
    rng = random.Random(int.from_bytes(digest[:8], "big"))
    img = Image.new("RGB", (w, h), ground)
    m = min(w, h)
    texture, step = _lerp(ground, toward, 0.12), max(6.0, 0.045 * m)

    def dots(d: ImageDraw.ImageDraw, s: int) -> None:
        r = step * 0.12 * s
        for gy in np.arange(step / 2, h, step):
            for gx in np.arange(step / 2, w, step):
                d.ellipse((gx * s - r, gy * s - r, gx * s + r, gy * s + r), fill=255)
    img.paste(texture, (0, 0), _aa((w, h), dots, 2))

    layout = digest[8] % 3
    big, band = colours[1], colours[2]
    if layout == 0:  # a large disc off-centre, a ring around it
        cx, cy, r = rng.uniform(0.55, 0.7) * w, rng.uniform(0.5, 0.65) * h, rng.uniform(0.3, 0.38) * m
        ring = max(2.0, 0.04 * m)
        img.paste(band, (0, 0), _aa((w, h), lambda d, s: d.ellipse(
            ((cx - r - 2 * ring) * s, (cy - r - 2 * ring) * s, (cx + r + 2 * ring) * s, (cy + r + 2 * ring) * s),
            outline=255, width=round(ring * s))))
        img.paste(big, (0, 0), _aa((w, h), lambda d, s: d.ellipse(
            ((cx - r) * s, (cy - r) * s, (cx + r) * s, (cy + r) * s), fill=255)))
    elif layout == 1:  # a wide diagonal band and a narrow one beside it
        rise, y0 = rng.uniform(0.25, 0.45) * h, rng.uniform(0.5, 0.6) * h
        thick, thin = 0.22 * h, 0.05 * h

        def strip(top: float, height: float) -> Callable[[ImageDraw.ImageDraw, int], None]:
            return lambda d, s: d.polygon([(0, (top + rise / 2) * s), (w * s, (top - rise / 2) * s),
                                           (w * s, (top - rise / 2 + height) * s),
                                           (0, (top + rise / 2 + height) * s)], fill=255)
        img.paste(big, (0, 0), _aa((w, h), strip(y0, thick)))
        img.paste(band, (0, 0), _aa((w, h), strip(y0 + thick + 0.04 * h, thin)))
    else:  # a lower block, and a square standing on its edge
        top = rng.uniform(0.58, 0.68) * h
        img.paste(big, (0, round(top), w, h))
        side, left = 0.34 * m, rng.uniform(0.45, 0.6) * w
        img.paste(band, (round(left), round(top - side * 0.6), round(left + side), round(top + side * 0.4)))
    r = max(3.0, 0.025 * m)
    for i, colour in enumerate(colours[3:MAX_PALETTE_DOTS + 3]):  # the rest: a row of swatches
        cx, cy = 0.13 * w + r + i * 3 * r, 0.85 * h
        img.paste(colour, (0, 0), _aa((w, h), lambda d, s, cx=cx, cy=cy: d.ellipse(
            ((cx - r) * s, (cy - r) * s, (cx + r) * s, (cy + r) * s), fill=255)))
    return img


def _soft_dot(img: Image.Image, cx: float, cy: float, r: float, blur: float, colour: RGB,
              alpha: int) -> None:
    pad = math.ceil(r + 2 * blur + 2)
    tile = Image.new("L", (2 * pad, 2 * pad), 0)
    ImageDraw.Draw(tile).ellipse((pad - r, pad - r, pad + r, pad + r), fill=alpha)
    img.paste(colour, (round(cx) - pad, round(cy) - pad), tile.filter(ImageFilter.GaussianBlur(blur)))


def _motif_rings(img: Image.Image, rng: random.Random, light: RGB, other: RGB, dark: RGB) -> None:
    """Concentric rings around a point near or off the picture's edge."""
    w, h = img.size
    m = min(w, h)
    cx, cy = rng.choice((rng.uniform(-0.1, 0.25), rng.uniform(0.75, 1.1))) * w, rng.uniform(0, 1) * h
    n, step, r0 = rng.randint(6, 10), rng.uniform(0.05, 0.09) * m, rng.uniform(0.05, 0.15) * m
    width = max(1.0, 0.005 * m)

    def draw(d: ImageDraw.ImageDraw, s: int) -> None:
        for i in range(n):
            r = (r0 + i * step * (1 + i * 0.06)) * s
            d.ellipse((cx * s - r, cy * s - r, cx * s + r, cy * s + r), outline=max(40, 170 - i * 12),
                      width=round(width * s * (2.2 if i % 3 == 0 else 1)))
        r = r0 * 0.55 * s
        d.ellipse((cx * s - r, cy * s - r, cx * s + r, cy * s + r), fill=150)
    img.paste(light, (0, 0), _aa((w, h), draw, 2))


def _motif_waves(img: Image.Image, rng: random.Random, light: RGB, other: RGB, dark: RGB) -> None:
    """Flowing parallel lines, like contour lines of a dune."""
    w, h = img.size
    n = rng.randint(10, 18)
    amp, freq = rng.uniform(0.04, 0.09) * h, rng.uniform(0.8, 2.0)
    phase, drift = rng.uniform(0, 6.3), rng.uniform(0.1, 0.35)
    y0, y1 = rng.uniform(0.1, 0.4) * h, rng.uniform(0.65, 0.95) * h
    width = max(1.0, 0.0035 * min(w, h))
    xs = np.linspace(0, w, 72)

    def draw(d: ImageDraw.ImageDraw, s: int) -> None:
        for i in range(n):
            base = y0 + (y1 - y0) * i / (n - 1)
            ys = base + amp * np.sin(freq * 2 * np.pi * xs / w + phase + i * drift) \
                + 0.4 * amp * np.sin(3.3 * np.pi * xs / w + i * 0.5)
            d.line([(x * s, y * s) for x, y in zip(xs, ys, strict=True)], fill=60 + round(150 * i / n),
                   width=round(width * s), joint="curve")
    img.paste(light, (0, 0), _aa((w, h), draw, 2))


def _motif_halftone(img: Image.Image, rng: random.Random, light: RGB, other: RGB, dark: RGB) -> None:
    """A halftone dot field that swells toward a focus and fades away from it."""
    w, h = img.size
    step = rng.uniform(0.03, 0.045) * min(w, h)
    fx, fy = rng.uniform(0.2, 0.8) * w, rng.uniform(0.2, 0.8) * h
    reach = rng.uniform(0.35, 0.6) * math.hypot(w, h)

    def draw(d: ImageDraw.ImageDraw, s: int) -> None:
        for gy in np.arange(step / 2, h, step):
            for gx in np.arange(step / 2, w, step):
                t = 1 - min(1.0, math.hypot(gx - fx, gy - fy) / reach)
                r = step * 0.36 * t ** 0.8 * s
                if r > 0.5 * s:
                    d.ellipse((gx * s - r, gy * s - r, gx * s + r, gy * s + r), fill=round(30 + 130 * t))
    img.paste(light, (0, 0), _aa((w, h), draw, 2))


def _motif_horizon(img: Image.Image, rng: random.Random, light: RGB, other: RGB, dark: RGB) -> None:
    """A perspective grid running to a horizon, with a low sun on it."""
    w, h = img.size
    hy, vx = rng.uniform(0.4, 0.62) * h, rng.uniform(0.3, 0.7) * w
    width = max(1.0, 0.003 * min(w, h))
    _soft_dot(img, vx, hy, rng.uniform(0.12, 0.2) * min(w, h), 0.03 * min(w, h), light, 150)
    img.paste(dark, (0, round(hy), w, h), Image.linear_gradient("L").resize((w, h - round(hy))).point(
        lambda v: 120 + v // 3))

    def draw(d: ImageDraw.ImageDraw, s: int) -> None:
        spokes = rng.randint(14, 22)
        for i in range(spokes + 1):
            x = -w + 3 * w * i / spokes
            d.line(((vx * s, hy * s), (x * s, h * s)), fill=110, width=round(width * s))
        y, gap = hy, 0.012 * h
        while y < h:
            d.line(((0, y * s), (w * s, y * s)), fill=min(200, round(60 + 400 * (y - hy) / h)),
                   width=round(width * s))
            gap *= 1.35
            y += gap
        d.rectangle((0, 0, w * s, hy * s), fill=0)
    img.paste(light, (0, 0), _aa((w, h), draw, 2))


def _motif_orbits(img: Image.Image, rng: random.Random, light: RGB, other: RGB, dark: RGB) -> None:
    """Tilted elliptical orbits with small bodies on them around a glowing centre."""
    w, h = img.size
    m = min(w, h)
    cx, cy = rng.uniform(0.3, 0.7) * w, rng.uniform(0.3, 0.7) * h
    tilt, width = rng.uniform(-0.6, 0.6), max(1.0, 0.0035 * m)
    orbits = [(rng.uniform(0.2, 0.8) * m, rng.uniform(0.25, 0.5), rng.uniform(0, 6.3))
              for _ in range(rng.randint(3, 5))]
    ts = np.linspace(0, 2 * np.pi, 120)

    def at(a: float, squash: float, t: np.ndarray | float) -> tuple:
        x, y = a * np.cos(t), a * squash * np.sin(t)
        return cx + x * math.cos(tilt) - y * math.sin(tilt), cy + x * math.sin(tilt) + y * math.cos(tilt)

    def draw(d: ImageDraw.ImageDraw, s: int) -> None:
        for a, squash, t0 in orbits:
            xs, ys = at(a, squash, ts)
            d.line([(x * s, y * s) for x, y in zip(xs, ys, strict=True)], fill=120, width=round(width * s))
            px, py = at(a, squash, t0)
            r = 0.018 * m * s
            d.ellipse((px * s - r, py * s - r, px * s + r, py * s + r), fill=235)
    img.paste(light, (0, 0), _aa((w, h), draw, 2))
    _soft_dot(img, cx, cy, 0.07 * m, 0.05 * m, light, 200)


def _motif_ridges(img: Image.Image, rng: random.Random, light: RGB, other: RGB, dark: RGB) -> None:
    """Layered ridgelines, lighter with distance, like hills at dusk."""
    w, h = img.size
    colours = Image.new("RGB", (w * 2, h * 2))
    cover = Image.new("L", (w * 2, h * 2), 0)
    dc, dm = ImageDraw.Draw(colours), ImageDraw.Draw(cover)
    xs = np.linspace(0, w, 80)
    layers = rng.randint(3, 5)
    for i in range(layers):
        t = i / max(1, layers - 1)
        base, amp = h * (0.42 + 0.42 * t), h * rng.uniform(0.05, 0.14) * (1 - 0.4 * t)
        f1, f2, p1, p2 = rng.uniform(0.8, 2), rng.uniform(2.5, 5), rng.uniform(0, 6.3), rng.uniform(0, 6.3)
        ys = base - amp * (0.65 * np.sin(f1 * np.pi * xs / w + p1) + 0.35 * np.sin(f2 * np.pi * xs / w + p2))
        poly = [(2 * x, 2 * y) for x, y in zip(xs, ys, strict=True)] + [(2 * w, 2 * h), (0, 2 * h)]
        dc.polygon(poly, fill=_lerp(_lerp(other, light, 0.3), dark, 0.2 + 0.75 * t))
        dm.polygon(poly, fill=255)
    img.paste(colours.reduce(2), (0, 0), cover.reduce(2))


def _motif_stripes(img: Image.Image, rng: random.Random, light: RGB, other: RGB, dark: RGB) -> None:
    """Bold diagonal bands of light."""
    w, h = img.size
    slope = rng.choice((-1, 1)) * rng.uniform(0.35, 1.0)
    band = rng.uniform(0.06, 0.12) * (w + h)
    bands = [(rng.uniform(-0.2, 1.2) * w, band * rng.uniform(0.15, 0.9), rng.randint(30, 100))
             for _ in range(rng.randint(4, 7))]

    def draw(d: ImageDraw.ImageDraw, s: int) -> None:
        for x0, bw, alpha in bands:
            poly = [(x0, 0), (x0 + bw, 0), (x0 + bw - slope * h, h), (x0 - slope * h, h)]
            d.polygon([(x * s, y * s) for x, y in poly], fill=alpha)
    img.paste(light, (0, 0), _aa((w, h), draw, 2))


_MOTIF_DRAW: dict[str, Callable[..., None]] = {
    "rings": _motif_rings, "waves": _motif_waves, "halftone": _motif_halftone, "horizon": _motif_horizon,
    "orbits": _motif_orbits, "ridges": _motif_ridges, "stripes": _motif_stripes}


# ----------------------------------------------------------------------------- slide layout


def _round4(v: float) -> int:
    return max(4, int(v) // 4 * 4)


@dataclass(frozen=True)
class _Frame:
    """Where things go on a slide of one size."""

    size: tuple[int, int]
    u: float  # scale: pixels per design pixel (1.0 at 1080 on the short side)
    safe: Box
    text: Box  # kicker, title and body
    footer: Box
    panel: Box | None
    stacked: bool  # panel above the text (portrait, square) instead of beside it
    portrait: bool


def _frame(size: tuple[int, int], style: _Style, image: bool) -> _Frame:
    w, h = size
    mx, my = math.ceil(w * SAFE_MARGIN), math.ceil(h * SAFE_MARGIN)
    u = min(w, h) / 1080
    safe = Box(mx, my, w - 2 * mx, h - 2 * my)
    portrait = h > w * 1.2
    foot_h = round(30 * u)
    footer = Box(mx, safe.bottom - foot_h, safe.w, foot_h)
    bottom = footer.y - round(44 * u)
    stacked = w < h * 1.3
    panel: Box | None = None
    text = Box(mx, my, safe.w, bottom - my)
    if image and not stacked:
        gap = round(w * 0.045)
        if style.bleed:
            pw = _round4(w * 0.46)
            panel = Box(w - pw, 0, pw, _round4(h))
            footer = Box(mx, footer.y, panel.x - gap - mx, foot_h)
        else:
            pw, ph = _round4(safe.w * 0.43), _round4(bottom - my)
            panel = Box(safe.right - pw, my, pw, ph)
        text = Box(mx, my, panel.x - gap - mx, bottom - my)
    elif image:
        gap = round(h * (0.035 if portrait else 0.045))
        share = 0.40 if portrait else 0.42
        if style.bleed:
            panel = Box(0, 0, _round4(w), _round4(h * share))
        else:
            panel = Box(mx, my, _round4(safe.w), _round4(h * (share - 0.05)))
        text = Box(mx, max(my, panel.bottom + gap), safe.w, bottom - max(my, panel.bottom + gap))
    return _Frame(size, u, safe, text, footer, panel, stacked, portrait)


def _background(frame: _Frame, tone: str) -> Image.Image:
    """Gradient, soft light and the tone's ornaments: the same for every slide of a layout, so a
    deck looks like one template (and the picture is made once per deck, see `_cached_background`)."""
    pal = PALETTES[tone]
    w, h = frame.size
    lw, lh = max(8, w // 4), max(8, h // 4)
    rng = random.Random(f"{tone}:{w}x{h}")
    img = _diagonal((lw, lh), pal.bg_a, pal.bg_b, 0)
    m = min(lw, lh)
    if tone == "formal":
        _glow(img, lw * 0.92, lh * 0.1, m * 0.9, m * 0.75, pal.glows[0], 0.55)
        _glow(img, lw * 0.05, lh * 1.0, m * 0.8, m * 0.6, pal.glows[1], 0.5)
    elif tone == "casual":
        _glow(img, lw * rng.uniform(0.85, 1.0), lh * rng.uniform(-0.05, 0.15), m * 0.8, m * 0.7,
              pal.glows[0], 0.9)
        _glow(img, lw * rng.uniform(-0.05, 0.1), lh * 1.0, m * 0.75, m * 0.6, pal.glows[1], 0.8)
        _glow(img, lw * 0.55, lh * 1.1, m * 0.6, m * 0.35, pal.glows[2], 0.55)
    else:
        _glow(img, lw * 0.2, lh * 0.15, m * 1.1, m * 0.8, pal.glows[0], 0.45)
        _glow(img, lw * 0.9, lh * 0.95, m * 0.9, m * 0.6, pal.glows[1], 0.4)
        _vignette(img, 0.75)
    img = img.resize((w, h), Image.Resampling.BICUBIC)
    u = frame.u
    if tone == "formal" and frame.panel is None:
        cx, cy = w * 0.93, h * 0.98  # fine concentric arcs, bottom right
        reach = (0.22 + 0.11 * 5) * min(w, h) + 4 * u
        x0, y0 = max(0, math.floor(cx - reach)), max(0, math.floor(cy - reach))
        region = Box(x0, y0, w - x0, h - y0)

        def rings(d: ImageDraw.ImageDraw, s: int) -> None:
            for i in range(6):
                r = (0.22 + 0.11 * i) * min(w, h) * s
                x, y = (cx - region.x) * s, (cy - region.y) * s
                d.ellipse((x - r, y - r, x + r, y + r), outline=34 - 4 * i, width=max(1, round(2 * u * s)))
        img.paste((150, 200, 255), (region.x, region.y), _aa((region.w, region.h), rings, 2))
    if tone == "casual":
        r = 0.14 * min(w, h)  # a solid sun peeking in at the top right
        cx, cy = w - frame.safe.x * 0.2, -r * 0.25
        sun = Box(round(cx - r), 0, round(2 * r) + 2, round(cy + r) + 2)
        img.paste((255, 186, 120), (sun.x, sun.y), _aa((sun.w, sun.h), lambda d, s: d.ellipse(
            ((cx - r - sun.x) * s, (cy - r) * s, (cx + r - sun.x) * s, (cy + r) * s), fill=150)))
    return img


@functools.lru_cache(maxsize=8)
def _cached_background(frame: _Frame, tone: str) -> Image.Image:
    return _background(frame, tone)


def _panel_frame(img: Image.Image, frame: _Frame, tone: str) -> None:
    """The ornament behind the panel: a soft shadow and an offset outline or block."""
    box, pal, u = frame.panel, PALETTES[tone], frame.u
    if box is None or _STYLES[tone].bleed:
        if box is not None:  # a hairline of accent where the picture meets the page
            if frame.stacked:
                img.paste(pal.accent, (box.x, box.bottom, box.right, box.bottom + max(2, round(4 * u))))
            else:
                img.paste(pal.accent, (box.x - max(2, round(4 * u)), box.y, box.x, box.bottom))
        return
    off = round(18 * u)
    # shadow
    sw, sh = box.w // 4 + 24, box.h // 4 + 24
    shadow = Image.new("L", (sw, sh), 0)
    ImageDraw.Draw(shadow).rectangle((12, 12 + 3 * u, sw - 12, sh - 12 + 3 * u),
                                     fill=130 if tone == "formal" else 60)
    shadow = shadow.filter(ImageFilter.GaussianBlur(6 * u))
    shadow = shadow.resize((sw * 4, sh * 4), Image.Resampling.BILINEAR)
    img.paste((0, 0, 0) if tone == "formal" else (150, 80, 40), (box.x - 48, box.y - 48 + round(10 * u)),
              shadow)
    if tone == "formal":
        x0, y0 = box.x + off, box.y + off
        d = ImageDraw.Draw(img)
        lw = max(2, round(3 * u))
        d.rectangle((x0, y0, box.right + off - 1, box.bottom + off - 1), outline=pal.panel_edge, width=lw)
    else:
        _rounded(img, (box.x - off, box.y + off, box.right - off, box.bottom + off), 14 * u, pal.panel_edge)


def render_slide(design: SlideDesign, size: tuple[int, int], out_dir: Path, *,
                 image: Image.Image | None = None) -> SlideArt:
    """Draw one slide as `out_dir`/slide-NNN.png (and slide-NNN-panel.png when it has an image).

    The panel shows `image` when one is given (a fetched or generated picture, cropped to fill
    it), else `procedural_image(design.image_keyword)`. Text is fitted, never clipped: the title
    shrinks to at most three lines, then the body down to about half size, and only then are
    the body's last lines cut with an ellipsis.
    """
    if design.tone not in TONES:
        raise ValueError(f"unknown slide tone {design.tone!r}; one of {', '.join(TONES)}")
    w, h = int(size[0]), int(size[1])
    if w < 64 or h < 64:
        raise ValueError(f"slide size {w}x{h} is too small")
    tone, style = design.tone, _STYLES[design.tone]
    lang = _language(design.language)
    script = _SCRIPTS[lang]
    keyword = (design.image_keyword or "").strip()
    frame = _frame((w, h), style, bool(keyword) or image is not None)
    cover = design.number == 1

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"slide-{max(0, design.number):03d}"
    background, panel_path = out_dir / f"{stem}.png", None
    img = _cached_background(frame, tone).copy()
    # PNG encoding is most of the time and Pillow lets go of the GIL while it deflates, so the
    # panel is written on a worker thread while the text is drawn.
    with ThreadPoolExecutor(max_workers=1) as pool:
        saving = None
        if frame.panel is not None:
            box = frame.panel
            _panel_frame(img, frame, tone)
            panel_size = (round(box.w * PANEL_OVERSCAN), round(box.h * PANEL_OVERSCAN))
            if image is not None:
                panel = ImageOps.fit(image.convert("RGB"), panel_size, Image.Resampling.LANCZOS)
            else:
                panel = procedural_image(keyword, panel_size, tone)
            panel_path = out_dir / f"{stem}-panel.png"
            saving = pool.submit(panel.save, panel_path, compress_level=_PNG_LEVEL)
            img.paste(panel.resize((box.w, box.h), Image.Resampling.BILINEAR), (box.x, box.y))
        draw = ImageDraw.Draw(img)
        _footer(img, draw, frame, design, lang, script)
        _content(img, draw, frame, design, lang, script, cover)
        img.save(background, compress_level=_PNG_LEVEL)
        if saving is not None:
            saving.result()
    return SlideArt(background, panel_path, frame.panel)


def _footer(img: Image.Image, draw: ImageDraw.ImageDraw, frame: _Frame, design: SlideDesign, lang: str,
            script: str) -> None:
    """Progress hairline, the topic on the left and "n / N" on the right."""
    pal, u, box = PALETTES[design.tone], frame.u, frame.footer
    size = max(10, round(24 * u))
    face = _Face(_chain(lang, False), size, script)
    bold = _Face(_chain(lang, True), size, script)
    base = box.bottom - face.descent
    n, total = max(0, design.number), max(1, design.total, design.number)
    num, rest = f"{n}", f" / {total}"
    rest_w = face.length(rest)
    num_w = bold.length(num)
    _draw_text(draw, face, box.right - rest_w, base, rest, pal.muted)
    _draw_text(draw, bold, box.right - rest_w - num_w, base, num, pal.title)
    # progress: a hairline track with the done part in the accent colour
    ty = box.y - round(16 * u)
    th = max(2, round(3 * u))
    track = _lerp(pal.muted, _lerp(pal.bg_a, pal.bg_b, 0.5), 0.6)
    draw.rectangle((box.x, ty, box.right - 1, ty + th - 1), fill=track)
    done = round(box.w * min(1.0, n / total))
    if done > 0:
        draw.rectangle((box.x, ty, box.x + done - 1, ty + th - 1), fill=pal.accent)
    topic = " ".join(design.topic.split())
    if topic and design.number != 1:  # the cover shows the topic above its title
        width = box.w - rest_w - num_w - round(40 * u)
        _draw_text(draw, face, box.x, base, _ellipsize(face, topic, width), pal.muted)


def _content(img: Image.Image, draw: ImageDraw.ImageDraw, frame: _Frame, design: SlideDesign, lang: str,
             script: str, cover: bool) -> None:
    """Kicker, title, accent mark and body, fitted into the text box."""
    tone, pal, style, u = design.tone, PALETTES[design.tone], _STYLES[design.tone], frame.u
    box = frame.text
    title = " ".join(design.title.split())
    paras = _paragraphs(design.body)
    topic = " ".join(design.topic.split())
    no_image = frame.panel is None
    centred = cover and style.center_cover and no_image
    landscape = not frame.stacked
    # measure: a readable line length when the text has the whole slide
    title_w = box.w * (0.86 if no_image and landscape and not centred else 1.0)
    body_w = box.w * (0.72 if no_image and landscape and not centred else 1.0)
    if centred:
        title_w, body_w = box.w * 0.86, box.w * 0.7
    scale = (1.08 if frame.panel else 1.2) if frame.portrait else 1.0  # vertical video: room to be bigger

    # kicker (cover: the topic; storytelling slides: the slide number)
    kicker = topic if cover else (f"{design.number:02d}" if style.rule == "numeral" and title else "")
    k_face = _Face(_chain(lang, True, style.title_fonts if style.rule == "numeral" and not cover else (),
                          False), max(10, round(26 * u * scale)), script)
    kicker = _ellipsize(k_face, kicker.upper() if not script else kicker, box.w * 0.9) if kicker else ""
    pill = cover and tone == "casual"
    k_h = (k_face.ascent + k_face.descent + (round(20 * u) if pill else 0)) if kicker else 0
    k_gap = round(30 * u) if kicker else 0
    rule_h, rule_gap = 0, 0
    if title and style.rule in ("above", "below"):
        rule_h, rule_gap = max(3, round((6 if style.rule == "above" else 10) * u)), round(28 * u)

    t_chain = _chain(lang, True, style.title_fonts, style.serif)
    b_chain = _chain(lang, False, style.body_fonts, style.serif)
    t_max = round((style.cover_px if cover else style.title_px) * u * scale)
    b_max = round((style.body_px + (4 if cover else 0)) * u * scale)
    max_lines = 4 if frame.portrait else 3
    fixed = k_h + k_gap + rule_h + rule_gap
    gap = round((44 if cover else 36) * u * scale)
    avail = box.h - fixed

    t_block = None
    if title:
        limit = avail * (0.5 if paras else 1.0)
        t_block, _ = _fit(lambda s: _title_block(_Face(t_chain, s, script), title, title_w, max_lines),
                          max(12, round(t_max * 0.5)), t_max, limit)
        if t_block.height > limit:
            t_block = _title_block(t_block.face, title, title_w, max(1, int(limit // t_block.pitch)))
    t_h = t_block.height if t_block else 0
    b_block = None
    if paras:
        b_avail = avail - t_h - (gap if t_block else 0)
        b_hi = min(b_max, round(t_block.face.size * 0.78)) if t_block else b_max
        b_lo = max(10, round(b_max * 0.5))
        b_hi = max(b_hi, b_lo)
        b_block, ok = _fit(lambda s: _body_block(_Face(b_chain, s, script), paras, body_w, style.leading,
                                                 balanced=centred), b_lo, b_hi, b_avail)
        if not ok:
            b_block = _body_block(_Face(b_chain, b_lo, script), paras, body_w, style.leading, b_avail,
                                  balanced=centred)
    b_h = b_block.height if b_block and b_block.lines else 0
    total = fixed + t_h + (gap if t_block and b_h else 0) + b_h

    free = max(0, box.h - total)
    # optically centred (a little above the middle); landscape content slides sit higher
    y = box.y + round(free * (0.45 if cover or frame.portrait else 0.25))
    x = box.x

    def left(width: float) -> float:
        return x + (box.w - width) / 2 if centred else x

    if kicker:
        if pill:
            kw = round(k_face.length(kicker) + 44 * u)
            _rounded(img, (x, y, x + kw, y + k_h), k_h / 2, pal.accent)
            _draw_text(draw, k_face, x + 22 * u, y + round(10 * u) + k_face.ascent, kicker, pal.on_accent)
        else:
            kw = k_face.length(kicker)
            dash, space = (round(60 * u), round(20 * u)) if style.rule == "numeral" else (0, 0)
            kx = left(kw) if centred else x
            _draw_text(draw, k_face, kx, y + k_face.ascent, kicker, pal.accent)
            ly, t = y + k_face.ascent - k_face.mid, max(1, round(u))
            if dash:  # "03 ——", or "—— TOPIC ——" when centred
                starts = [kx + kw + space] + ([kx - space - dash] if centred else [])
                for lx in starts:
                    draw.rectangle((lx, ly - t, lx + dash, ly + t), fill=pal.accent)
        y += k_h + k_gap
    if style.rule == "above" and title:
        rw = round((120 if cover else 72) * u)
        draw.rectangle((left(rw), y, left(rw) + rw - 1, y + rule_h - 1), fill=pal.accent)
        y += rule_h + rule_gap
    if t_block:
        for line in t_block.lines:
            lw = t_block.face.length(line.text)
            _draw_text(draw, t_block.face, left(lw), y + line.y, line.text, pal.title)
        y += t_h
    if style.rule == "below" and title:
        y += rule_gap
        rw = round((140 if cover else 96) * u)
        rx = round(left(rw))
        _rounded(img, (rx, y, rx + rw, y + rule_h), rule_h / 2, pal.accent)
        y += rule_h
    if b_block and b_block.lines:
        y += gap
        face = b_block.face
        bullets = any(line.x for line in b_block.lines)
        # centred prose is centred line by line; centred bullets keep their indent, as a block
        bx = left(max(line.x + face.length(line.text) for line in b_block.lines)) if bullets else x
        for line in b_block.lines:
            lx = left(face.length(line.text)) if centred and not bullets else bx + line.x
            _draw_text(draw, face, lx, y + line.y, line.text, pal.body)
            if line.bullet:
                r = max(2.0, face.size * (0.16 if style.bullet == "dot" else 0.14))
                _marker(img, style.bullet, bx + r + face.size * 0.08, y + line.y - face.mid, r, pal.accent)


def designed_card(prompt: str, size: tuple[int, int], tone: str = "formal", *,
                  label: str = "Offline card (no AI image)",
                  palette: Sequence[RGB] | None = None) -> Image.Image:
    """A stand-in picture for an image prompt: the procedural art the prompt seeds, with a
    small panel at the top left that says what it is and what the picture should show, so
    nobody mistakes it for a generated image.

    Given a `palette` (a style guide's colours), the art is `palette_image` and the prompt is
    the card's headline, in the palette's colour that reads best on its ground."""
    art = palette_image(prompt, size, palette) if palette else procedural_image(prompt, size, tone)
    card = art.convert("RGBA")
    width, height = card.size
    unit = max(12, round(min(width, height) * 0.028))
    head = ImageFont.truetype(str(font_for("english", bold=True)), unit, layout_engine=_LAYOUT)
    body = ImageFont.truetype(str(font_for("english")), round(unit * 0.85), layout_engine=_LAYOUT)
    # Inside the part every camera move keeps in frame (a full-strength zoom crops ~12 %).
    left, top, pad = round(width * 0.13), round(height * 0.13), round(unit * 0.6)
    box_width = round(width * 0.42)
    lines = [] if palette else _wrap_lines(prompt, body, box_width - 2 * pad, 3)
    line_h = round(unit * 1.15)
    box_height = 2 * pad + line_h + len(lines) * line_h
    overlay = Image.new("RGBA", card.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    draw.rounded_rectangle((left, top, left + box_width, top + box_height), radius=pad, fill=(10, 12, 18, 170))
    draw.text((left + pad, top + pad), label, font=head, fill=(255, 214, 102, 255))
    for n, line in enumerate(lines):
        draw.text((left + pad, top + pad + line_h * (n + 1)), line, font=body, fill=(235, 238, 245, 255))
    if palette:
        ground = tuple(int(v) for v in palette[0][:3])
        ink = _readable_on(ground, palette[1:])
        px = round(unit * 2.2)
        big = ImageFont.truetype(str(font_for("english", bold=True)), px, layout_engine=_LAYOUT)
        y = top + box_height + unit
        for n, line in enumerate(_wrap_lines(prompt, big, round(width * 0.74), 3)):
            # outlined in the ground colour, so the line reads over the shapes too
            draw.text((left, y + round(px * 1.15) * n), line, font=big, fill=(*ink, 255),
                      stroke_width=max(1, px // 16), stroke_fill=(*ground, 255))
    return Image.alpha_composite(card, overlay).convert("RGB")


def _readable_on(ground: RGB, colours: Sequence[RGB]) -> RGB:
    """The colour with the most contrast on `ground`; white or black when none reaches 3:1."""
    best = max(colours, key=lambda c: contrast_ratio(c, ground), default=None)
    if best is not None and contrast_ratio(best, ground) >= 3.0:
        return tuple(int(v) for v in best[:3])  # type: ignore[return-value]
    return max(((255, 255, 255), (0, 0, 0)), key=lambda c: contrast_ratio(c, ground))


def _wrap_lines(text: str, font: ImageFont.FreeTypeFont, width: int, most: int) -> list[str]:
    """`text` wrapped to `width`, at most `most` lines, the last one ending in "…" if cut."""
    wrapped = _wrap_words(text, font, width)
    lines = wrapped[:most]
    if len(wrapped) > most:
        lines[-1] = lines[-1].rstrip(". ") + "…"
    return lines


def _wrap_words(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    lines: list[str] = []
    for word in " ".join(text.split()).split(" "):
        trial = f"{lines[-1]} {word}" if lines else word
        if lines and font.getlength(trial) <= width:
            lines[-1] = trial
        else:
            lines.append(word)
    return lines
