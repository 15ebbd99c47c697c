"""Per-shot layouts, output shapes and captions, measured on rendered files.

The source is a row of labelled scenes (tests/mediagen.layout_video): each face carries a
magenta marker at its centre, found again in the output frames by colour, so these tests
check where faces landed in the file, not in the plan.
"""

from __future__ import annotations

from pathlib import Path

import av
import mediagen
import numpy as np
import pytest
from mediagen import LabelledScene, SceneFace

from reelforge.media.render import render_clip
from reelforge.models import Word

SCENES = [
    LabelledScene("cut_into_face", 2.0, (SceneFace(0.72, 0.45, 0.22),), "focus"),
    LabelledScene("pan_fast", 2.4, (SceneFace(0.15, 0.5, 0.2, vx=0.25),), "focus"),
    LabelledScene("small_offcentre", 2.0, (SceneFace(0.18, 0.32, 0.08),), "focus"),
    LabelledScene("pip", 2.0, (SceneFace(0.8, 0.75, 0.10),), "focus", pip=(0.64, 0.55, 0.32, 0.4),
                  background=5),
    LabelledScene("two_faces", 2.0, (SceneFace(0.2, 0.45, 0.2), SceneFace(0.8, 0.45, 0.2)), "split"),
    LabelledScene("no_face", 1.6, (), "fit", background=4),
]


@pytest.fixture(scope="module")
def labelled(tmp_path_factory: pytest.TempPathFactory) -> mediagen.LayoutVideo:
    return mediagen.layout_video(tmp_path_factory.mktemp("layouts") / "labelled.mp4", SCENES,
                                 size=(960, 540))


def _frames(path: Path) -> list[tuple[float, np.ndarray]]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return [(float(f.pts * stream.time_base), f.to_ndarray(format="rgb24"))
                for f in container.decode(stream)]


def _words(text: str, start: float, step: float = 0.4) -> list[Word]:
    return [Word(word=w, start=start + i * step, end=start + i * step + step * 0.9)
            for i, w in enumerate(text.split())]


@pytest.fixture(scope="module")
def vertical(labelled: mediagen.LayoutVideo, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("layouts") / "vertical.mp4"
    clip = render_clip(labelled.path, start=0.0, end=labelled.duration, words=[], out_path=out,
                       scene_cuts=labelled.starts[1:], preset="ultrafast")
    return clip, _frames(out)


def test_each_scene_gets_its_layout(labelled: mediagen.LayoutVideo, vertical) -> None:
    clip, _ = vertical
    for index, scene in enumerate(SCENES):
        mid = labelled.starts[index] + scene.seconds / 2
        assert clip.plan.layout_at(mid) == scene.expected, scene.kind
    assert (clip.width, clip.height) == (1080, 1920)
    assert clip.duration == pytest.approx(labelled.duration, abs=0.05)


def test_faces_are_centred_from_the_first_frame_of_every_shot(labelled: mediagen.LayoutVideo,
                                                               vertical) -> None:
    _, frames = vertical
    seen: dict[str, list[bool]] = {}
    for t, rgb in frames:
        index, scene = labelled.scene_at(t + 0.5 / labelled.fps)
        if not scene.faces:
            continue
        h, w = rgb.shape[:2]
        markers = mediagen.find_markers(rgb)
        panels = [(0, h // 2), (h // 2, h)] if scene.expected == "split" else [(0, h)]
        for y0, y1 in panels:
            inside = [m for m in markers if y0 <= m[1] < y1]
            ok = len(inside) == 1 and w / 3 <= inside[0][0] <= 2 * w / 3
            assert ok or round((t - labelled.starts[index]) * labelled.fps) >= 5, \
                f"{scene.kind}: face not centred {t - labelled.starts[index]:.2f} s after the cut"
            seen.setdefault(scene.kind, []).append(ok)
    for kind, oks in seen.items():
        assert sum(oks) / len(oks) >= 0.98, f"{kind}: {sum(oks)}/{len(oks)} frames centred"


def test_the_faceless_shot_shows_the_whole_frame_over_a_blur(labelled, vertical) -> None:
    _, frames = vertical
    start = labelled.starts[-1]
    t, rgb = next((t, f) for t, f in frames if t > start + 0.5)
    # the whole 16:9 frame is 1080x608 in the middle; above and below it, the blurred copy
    middle, top = rgb[700:1200], rgb[100:500]
    assert np.abs(np.diff(top.astype(float), axis=1)).mean() < np.abs(
        np.diff(middle.astype(float), axis=1)).mean() + 1e-6


@pytest.mark.parametrize(("aspect", "size"), [("1:1", (1080, 1080)), ("16:9", (1920, 1080))])
def test_square_and_wide_outputs(labelled: mediagen.LayoutVideo, tmp_path: Path,
                                 aspect: str, size: tuple[int, int]) -> None:
    two = labelled.starts[4]  # two faces far apart, then the faceless shot
    out = tmp_path / f"{aspect.replace(':', 'x')}.mp4"
    clip = render_clip(labelled.path, start=two, end=two + 2.0, words=[], out_path=out,
                       scene_cuts=labelled.starts[1:], preset="ultrafast", aspect=aspect)
    assert (clip.width, clip.height) == size
    t, rgb = _frames(out)[30]
    markers = mediagen.find_markers(rgb)
    assert len(markers) == 2
    if aspect == "1:1":  # two panels of 1080x540, one face centred in each
        assert clip.plan.mode == "split"
        assert sorted(m[1] < 540 for m in markers) == [False, True]
        assert all(1080 / 3 <= m[0] <= 2 * 1080 / 3 for m in markers)
    else:  # a 16:9 source in a 16:9 frame: shown whole, nothing cropped
        assert clip.plan.mode == "fit"
        assert markers[0][0] == pytest.approx(0.2 * 1920, abs=12)
        assert markers[1][0] == pytest.approx(0.8 * 1920, abs=12)


def test_a_forced_layout_applies_to_every_shot(labelled: mediagen.LayoutVideo, tmp_path: Path) -> None:
    out = tmp_path / "fit.mp4"
    clip = render_clip(labelled.path, start=0.0, end=4.0, words=[], out_path=out,
                       scene_cuts=labelled.starts[1:], preset="ultrafast", layout="fit")
    assert clip.plan.mode == "fit"


# --- captions -----------------------------------------------------------------------------


def _text_box(rgb: np.ndarray) -> tuple[int, int, int, int, int] | None:
    """Caption text on a dark flat background, from its bright glyphs (white, and the yellow of
    the spoken word): bounding box (x0, y0, x1, y1) and the height of its tallest row of text."""
    bright = (rgb[..., 0] > 200) & (rgb[..., 1] > 180)
    ys, xs = np.nonzero(bright)
    if len(ys) < 50:
        return None
    rows = np.flatnonzero(bright.any(axis=1))
    runs = np.split(rows, np.flatnonzero(np.diff(rows) > 1) + 1)  # rows of text, blank between
    return int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max()), max(len(r) for r in runs)


@pytest.fixture(scope="module")
def flat(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Abstract scenes only: nothing for the captions to avoid."""
    scenes = [LabelledScene("no_face", 3.0, (), "fit", background=0)]
    return mediagen.layout_video(tmp_path_factory.mktemp("captions") / "flat.mp4", scenes).path


@pytest.mark.parametrize(("style", "height_range", "bottom_range"), [
    ("bold", (0.055, 0.08), (0.72, 0.78)),
    ("karaoke", (0.02, 0.035), (0.68, 0.74)),
    ("minimal", (0.01, 0.025), (0.90, 0.95)),
])
def test_caption_styles_measured_on_the_frames(flat: Path, tmp_path: Path, style: str,
                                               height_range: tuple[float, float],
                                               bottom_range: tuple[float, float]) -> None:
    out = tmp_path / f"{style}.mp4"
    render_clip(flat, start=0.0, end=2.5, words=_words("WHO KNEW THAT", 0.2), out_path=out,
                preset="ultrafast", caption_style=style)
    frames = _frames(out)
    t, rgb = next((t, f) for t, f in frames if t >= 0.3)
    box = _text_box(rgb)
    assert box is not None, style
    x0, y0, x1, y1, row_h = box
    h, w = rgb.shape[:2]
    assert height_range[0] <= row_h / h <= height_range[1], (style, row_h / h)
    assert bottom_range[0] <= y1 / h <= bottom_range[1], (style, y1 / h)
    assert abs((x0 + x1) / 2 - w / 2) < 0.03 * w  # centred
    if style != "minimal":  # the spoken word is lit
        yellow = (rgb[..., 0] > 200) & (rgb[..., 1] > 180) & (rgb[..., 2] < 90)
        assert yellow.sum() > 100


def test_captions_move_off_a_face(labelled: mediagen.LayoutVideo, tmp_path: Path) -> None:
    """In a split shot the lower face sits where captions go: they move out of its way."""
    two = labelled.starts[4]
    out = tmp_path / "split_captions.mp4"
    clip = render_clip(labelled.path, start=two, end=two + 1.9, words=_words("LOOK AT THIS", two + 0.1),
                       out_path=out, scene_cuts=labelled.starts[1:], preset="ultrafast")
    assert clip.plan.mode == "split"
    t, rgb = next((t, f) for t, f in _frames(out) if t >= 0.3)
    yellow = (rgb[..., 0] > 200) & (rgb[..., 1] > 180) & (rgb[..., 2] < 90)
    ys = np.nonzero(yellow)[0]
    assert len(ys) > 100, "no caption found"
    markers = mediagen.find_markers(rgb)
    assert len(markers) == 2, "a face marker is hidden (under the caption?)"
    for _, my in markers:
        # the face box around each marker: 0.2 of the source height, scaled into its panel
        half = 0.1 * 540 / clip.plan.shots[0].windows[0].h * 960
        assert ys.max() < my - half or ys.min() > my + half, "caption over a face"
