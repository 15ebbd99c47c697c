"""Slide pictures, measured on the rendered PNGs.

Most checks compare a render with one that differs only in its text (same number, tone,
size and image keyword, so the same background and panel): the pixels that differ are the
text, which must be there, stay inside the 5 % safe margins and off the image panel.
"""

from __future__ import annotations

import math
import shutil
import time
import unicodedata
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFont

from reelforge.media import slides
from reelforge.media.slides import (
    PALETTES,
    PANEL_OVERSCAN,
    TONES,
    Box,
    SlideArt,
    SlideDesign,
    SlideFontError,
    contrast_ratio,
    font_for,
    procedural_image,
    render_slide,
)

SIZES = [(1920, 1080), (1080, 1920), (1080, 1080)]
BULLETS = ("- Revenue grew 24% year over year, led by subscriptions\n"
           "- Customer churn fell to its lowest level since launch\n"
           "• Three new regions opened ahead of schedule")
PROSE = ("Every great product starts with a simple question: what problem are we really solving? "
         "The answer shapes everything that follows.")
SAMPLES = {  # language: (sample text, the Noto script its font is named after)
    "hindi": ("नमस्ते दुनिया", "Devanagari"),
    "marathi": ("नमस्कार जग", "Devanagari"),
    "kannada": ("ನಮಸ್ಕಾರ ಜಗತ್ತು", "Kannada"),
    "telugu": ("నమస్కారం ప్రపంచం", "Telugu"),
    "tamil": ("வணக்கம் உலகம்", "Tamil"),
    "bengali": ("নমস্কার বিশ্ব", "Bengali"),
    "gujarati": ("નમસ્તે દુનિયા", "Gujarati"),
    "malayalam": ("നമസ്കാരം ലോകം", "Malayalam"),
    "odia": ("ନମସ୍କାର ବିଶ୍ୱ", "Oriya"),
    "punjabi": ("ਸਤ ਸ੍ਰੀ ਅਕਾਲ ਦੁਨੀਆ", "Gurmukhi"),
}


def _design(**kw) -> SlideDesign:
    base = dict(number=3, total=8, title="Quarterly results at a glance", body=BULLETS, tone="formal",
                topic="Annual Strategy Review")
    return SlideDesign(**{**base, **kw})


def _render(tmp_path: Path, design: SlideDesign, size: tuple[int, int],
            name: str) -> tuple[SlideArt, np.ndarray]:
    art = render_slide(design, size, tmp_path / name)
    with Image.open(art.background) as im:
        return art, np.asarray(im.convert("RGB")).astype(np.int16)


def _ink(a: np.ndarray, b: np.ndarray, threshold: int = 24) -> np.ndarray:
    """Where two renders differ visibly (a boolean mask)."""
    return np.abs(a - b).max(axis=2) > threshold


def _bbox(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    ys, xs = np.nonzero(mask)
    if not len(xs):
        return None
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def _safe(size: tuple[int, int]) -> tuple[int, int, int, int]:
    w, h = size
    mx, my = math.ceil(w * 0.05), math.ceil(h * 0.05)
    return mx, my, w - mx, h - my


def _inside(bbox: tuple[int, int, int, int], outer: tuple[int, int, int, int]) -> bool:
    return bbox[0] >= outer[0] and bbox[1] >= outer[1] and bbox[2] <= outer[2] and bbox[3] <= outer[3]


def _bands(mask: np.ndarray) -> list[tuple[int, int, int]]:
    """Text lines in an ink mask: (top, bottom, leftmost ink x) of each run of inked rows."""
    rows = mask.any(axis=1)
    out, start = [], None
    for y, on in enumerate([*rows, False]):
        if on and start is None:
            start = y
        elif not on and start is not None:
            cols = np.nonzero(mask[start:y].any(axis=0))[0]
            out.append((start, y, int(cols.min())))
            start = None
    return out


def _luminance(px: np.ndarray) -> np.ndarray:
    s = px / 255.0
    lin = np.where(s <= 0.04045, s / 12.92, ((s + 0.055) / 1.055) ** 2.4)
    return lin @ np.array([0.2126, 0.7152, 0.0722])


def _worst_contrast(colour: tuple[int, int, int], background: np.ndarray) -> float:
    """The lowest contrast between `colour` and any pixel of `background` (an HxWx3 crop)."""
    lum = _luminance(background.reshape(-1, 3).astype(float))
    c = slides.relative_luminance(colour)
    ratios = (np.maximum(lum, c) + 0.05) / (np.minimum(lum, c) + 0.05)
    return float(ratios.min())


# ----------------------------------------------------------------------------- layout


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("image", [False, True], ids=["text", "image"])
def test_slide_layout(tmp_path: Path, size: tuple[int, int], image: bool) -> None:
    w, h = size
    tone = TONES[(SIZES.index(size) + image) % len(TONES)]
    keyword = "growth chart" if image else None
    design = _design(tone=tone, image_keyword=keyword)
    art, full = _render(tmp_path, design, size, "full")
    _, no_title = _render(tmp_path, _design(tone=tone, image_keyword=keyword, title=""), size, "no-title")
    _, empty = _render(tmp_path, _design(tone=tone, image_keyword=keyword, title="", body="", topic=""),
                       size, "empty")

    assert full.shape == (h, w, 3)
    assert art.background.name == "slide-003.png"
    title_ink = _ink(full, no_title)
    assert title_ink.sum() > 3000, "the title drew hardly any pixels"
    text = _ink(full, empty)
    bbox = _bbox(text)
    assert bbox is not None and _inside(bbox, _safe(size)), f"text {bbox} outside safe area {_safe(size)}"

    if not image:
        assert art.panel is None and art.panel_box is None
        return
    box = art.panel_box
    assert isinstance(box, Box) and box.w > 0 and box.h > 0
    assert box.x >= 0 and box.y >= 0 and box.x + box.w <= w and box.y + box.h <= h
    with Image.open(art.panel) as panel:
        assert panel.size == (round(box.w * PANEL_OVERSCAN), round(box.h * PANEL_OVERSCAN))
        first = np.asarray(panel.convert("RGB").resize((box.w, box.h), Image.Resampling.BILINEAR))
    shown = full[box.y:box.y + box.h, box.x:box.x + box.w]
    assert np.abs(shown - first).mean() < 3, "the slide does not show the panel's first frame"
    assert not text[box.y:box.y + box.h, box.x:box.x + box.w].any(), "text drawn over the image panel"
    if h > w * 1.2:  # 9:16: the panel is above (or below) the text, not beside it
        assert box.w >= w * 0.85
        assert bbox[1] >= box.y + box.h or bbox[3] <= box.y


def test_a_given_picture_fills_the_panel(tmp_path: Path) -> None:
    picture = Image.new("RGB", (1920, 1080), (200, 30, 40))
    picture.paste((20, 60, 220), (960, 0, 1920, 1080))  # left half red, right half blue
    art = render_slide(_design(image_keyword="a photo"), (1080, 1920), tmp_path, image=picture)
    box = art.panel_box
    with Image.open(art.panel) as panel:
        assert panel.size == (round(box.w * PANEL_OVERSCAN), round(box.h * PANEL_OVERSCAN))
        mid = panel.height // 2
        left, right = panel.getpixel((5, mid)), panel.getpixel((panel.width - 5, mid))
    assert left == (200, 30, 40) and right == (20, 60, 220)
    with Image.open(art.background) as slide:
        assert slide.getpixel((box.x + 5, box.y + box.h // 2)) == (200, 30, 40)


def test_cover_and_content_slides_use_the_whole_text_area(tmp_path: Path) -> None:
    size = (1920, 1080)
    _, cover = _render(tmp_path, _design(number=1, body="How solar and storage reshape the grid"), size, "c")
    _, blank = _render(tmp_path, _design(number=1, title="", body="", topic=""), size, "c0")
    _, content = _render(tmp_path, _design(number=2, body="How solar and storage reshape the grid"), size,
                         "s")
    _, blank2 = _render(tmp_path, _design(number=2, title="", body="", topic=""), size, "s0")
    cover_bands, content_bands = _bands(_ink(cover, blank)), _bands(_ink(content, blank2))
    # the cover's title is bigger than a content slide's
    tallest = max(b - t for t, b, _ in cover_bands)
    assert tallest > max(b - t for t, b, _ in content_bands) * 1.15


def test_bullets_have_markers_and_a_hanging_indent(tmp_path: Path) -> None:
    size = (1920, 1080)
    long = "- " + "a bullet point that runs long enough to wrap onto a second line of text " * 2
    _, bullets = _render(tmp_path, _design(title="", body=long, topic=""), size, "b")
    _, prose = _render(tmp_path, _design(title="", body=long[2:], topic=""), size, "p")
    _, empty = _render(tmp_path, _design(title="", body="", topic=""), size, "e")
    accent = np.array(PALETTES["formal"].accent)
    near_accent = np.abs(bullets - accent).max(axis=2) < 40
    assert (near_accent & _ink(bullets, empty)).sum() > 50, "no bullet marker"
    assert not (np.abs(prose - accent).max(axis=2) < 40)[_ink(prose, empty)].any()
    first, second = _bands(_ink(bullets, empty))[:2]
    assert second[2] > first[2] + 20, "wrapped bullet lines should start under the text, not the marker"
    p_first, p_second = _bands(_ink(prose, empty))[:2]
    assert abs(p_first[2] - p_second[2]) < 8


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_long_text_shrinks_and_still_fits(tmp_path: Path, size: tuple[int, int]) -> None:
    long_body = " ".join([PROSE] * 9) + "\n" + "\n".join(f"- point {i} with more words" for i in range(6))
    kw = dict(image_keyword="data", tone="casual")
    # body only (no title to move about), so the ink bands are the body's lines
    _, short = _render(tmp_path, _design(title="", body="One short line", **kw), size, "short")
    _, long = _render(tmp_path, _design(title="", body=long_body, **kw), size, "long")
    _, no_text = _render(tmp_path, _design(title="", body="", **kw), size, "no-text")
    short_h = np.median([b - t for t, b, _ in _bands(_ink(short, no_text))])
    long_h = np.median([b - t for t, b, _ in _bands(_ink(long, no_text))])
    assert long_h < short_h * 0.9, f"body did not shrink ({short_h} -> {long_h})"

    _, with_title = _render(tmp_path, _design(body=long_body, **kw), size, "with-title")
    _, huge = _render(tmp_path, _design(title="word " * 60, body="lorem ipsum " * 2000, **kw), size, "huge")
    _, empty = _render(tmp_path, _design(title="", body="", topic="", **kw), size, "empty")
    safe = _safe(size)
    footer_top = safe[3] - round(min(size) / 1080 * 30)
    for render in (long, with_title, huge):
        bbox = _bbox(_ink(render, empty))
        assert bbox is not None and _inside(bbox, safe)
        text = _bbox(_ink(render, no_text))  # title and body, not the footer
        assert text is not None and text[3] < footer_top, "text runs into the footer"


# ----------------------------------------------------------------------------- colour


@pytest.mark.parametrize("tone", TONES)
@pytest.mark.parametrize("size", [(1920, 1080), (1080, 1920)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_text_contrast(tmp_path: Path, tone: str, size: tuple[int, int]) -> None:
    pal = PALETTES[tone]
    for name, colour in (("title", pal.title), ("body", pal.body), ("muted", pal.muted)):
        assert contrast_ratio(colour, pal.bg_a) >= 4.5 and contrast_ratio(colour, pal.bg_b) >= 4.5, name
    # against the plain background everywhere in the text's bounding box, glows and all
    kw = dict(tone=tone, image_keyword="ocean", topic="")
    _, title = _render(tmp_path, _design(body="", **kw), size, "title")
    _, body = _render(tmp_path, _design(title="", **kw), size, "body")
    _, topic = _render(tmp_path, _design(title="", body="", tone=tone, image_keyword="ocean"), size, "topic")
    _, empty = _render(tmp_path, _design(title="", body="", **kw), size, "empty")
    for name, colour, render in (("title", pal.title, title), ("body", pal.body, body),
                                 ("footer", pal.muted, topic)):
        x0, y0, x1, y1 = _bbox(_ink(render, empty))
        worst = _worst_contrast(colour, empty[y0:y1, x0:x1])
        assert worst >= 4.5, f"{name}: contrast {worst:.2f}"


# ----------------------------------------------------------------------------- languages


@pytest.mark.parametrize("language", list(SAMPLES))
def test_indic_text_renders_with_its_script_font(tmp_path: Path, language: str) -> None:
    sample, script = SAMPLES[language]
    for bold in (False, True):
        path = font_for(language, bold=bold)
        assert path.name.startswith(f"NotoSans{script}-"), path
        font = ImageFont.truetype(str(path), 40, layout_engine=ImageFont.Layout.BASIC)
        notdef = font.getmask("\uffff")
        for ch in sample:
            if ch.isspace():
                continue
            mask = font.getmask(ch)
            assert (mask.size, bytes(mask)) != (notdef.size, bytes(notdef)), \
                f"{path.name} has no glyph for U+{ord(ch):04X} {unicodedata.name(ch, '')}"
    tone = TONES[list(SAMPLES).index(language) % len(TONES)]
    kw = dict(language=language, tone=tone, topic=sample)
    _, full = _render(tmp_path, _design(title=sample, body=f"- {sample}\n{sample}", **kw), (1920, 1080), "f")
    _, empty = _render(tmp_path, _design(title="", body="", **{**kw, "topic": ""}), (1920, 1080), "e")
    ink = _ink(full, empty)
    assert ink.sum() > 3000
    assert _inside(_bbox(ink), _safe((1920, 1080)))


def test_mixed_script_text_falls_back_to_latin(tmp_path: Path) -> None:
    # "AI" and "5G" are not in Noto Sans Devanagari: drawn with the Latin font, not as boxes
    kw = dict(language="hindi", title="", topic="")
    _, latin = _render(tmp_path, _design(body="भारत में AI", **kw), (1920, 1080), "a")
    _, boxes = _render(tmp_path, _design(body="भारत में \uffff\uffff", **kw), (1920, 1080), "b")
    assert _ink(latin, boxes).sum() > 100


def test_english_fonts_and_languages() -> None:
    assert font_for("english").name in ("NotoSans-Regular.ttf", "DejaVuSans.ttf")
    assert font_for("English", bold=True).name in ("NotoSans-Bold.ttf", "DejaVuSans-Bold.ttf")
    assert font_for("hi") == font_for("hindi")
    with pytest.raises(ValueError, match="unsupported slide language"):
        font_for("klingon")
    with pytest.raises(ValueError, match="tone"):
        render_slide(_design(tone="sarcastic"), (1920, 1080), Path("/nonexistent"))


@pytest.fixture
def font_cache():
    slides._find_font.cache_clear()
    yield
    slides._find_font.cache_clear()


def test_packaged_fonts_win(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, font_cache: None) -> None:
    shutil.copy(font_for("kannada"), tmp_path / "NotoSansKannada-Regular.ttf")
    slides._find_font.cache_clear()
    monkeypatch.setattr(slides, "PACKAGED_FONTS", tmp_path)
    assert font_for("kannada") == tmp_path / "NotoSansKannada-Regular.ttf"


def test_missing_font_names_the_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        font_cache: None) -> None:
    monkeypatch.setattr(slides, "PACKAGED_FONTS", tmp_path / "none")
    monkeypatch.setattr(slides, "SYSTEM_FONT_DIRS", (tmp_path,))
    with pytest.raises(SlideFontError, match="fonts-noto-core") as err:
        font_for("tamil")
    assert isinstance(err.value, ValueError)


# ----------------------------------------------------------------------------- images and speed


def test_procedural_image_is_deterministic_and_keyword_specific() -> None:
    size = (360, 240)
    a = procedural_image("mountain hike", size)
    assert a.size == size and a.mode == "RGB"
    assert a.tobytes() == procedural_image("mountain hike", size).tobytes()
    assert a.tobytes() == procedural_image("  Mountain   HIKE ", size).tobytes()
    keywords = ["mountain hike", "ocean", "city night", "growth chart", "music", "history"]
    images = [np.asarray(procedural_image(k, size), dtype=np.int16) for k in keywords]
    for i in range(len(images)):
        for j in range(i + 1, len(images)):
            diff = np.abs(images[i] - images[j]).mean()
            assert diff > 12, f"{keywords[i]!r} and {keywords[j]!r} look alike ({diff:.1f})"
    # not flat: a composition, with structure
    assert np.asarray(a).std() > 10
    warm, cool = (np.asarray(procedural_image("ocean", size, t), dtype=float) for t in ("casual", "formal"))
    assert warm.mean() > cool.mean() + 30  # casual pictures are bright, formal ones deep


def test_render_time(tmp_path: Path) -> None:
    size = (1920, 1080)
    render_slide(_design(image_keyword="warm up"), size, tmp_path)
    times = {}
    for tone in TONES:
        for keyword in (None, "solar panels"):
            start = time.perf_counter()
            render_slide(_design(tone=tone, image_keyword=keyword), size, tmp_path)
            times[f"{tone}/{'image' if keyword else 'text'}"] = time.perf_counter() - start
    print("slide render times (1920x1080):", {k: f"{v * 1000:.0f} ms" for k, v in times.items()})
    assert max(times.values()) < 2.0
