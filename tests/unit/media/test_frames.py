"""extract_frame / extract_frames on a source with one colour per second: the right frame
(the one on screen at t), in the right order, from a file or an http(s) URL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from httpserve import RangeServer

from reelforge.errors import InvalidMediaError
from reelforge.media.ffmpeg import run_ffmpeg
from reelforge.media.frames import extract_frame, extract_frames

FPS = 30
# One colour per second (RGB), far apart so JPEG and YUV rounding cannot confuse them.
COLORS = [(220, 30, 30), (30, 200, 30), (30, 30, 220), (230, 230, 40), (200, 40, 200)]


def _hex(rgb: tuple[int, int, int]) -> str:
    return "0x{:02x}{:02x}{:02x}".format(*rgb)


def color_video(
    path: Path,
    colors: list[tuple[int, int, int]],
    *,
    size: str = "320x240",
    fps: int = FPS,
    audio_s: float | None = None,
) -> Path:
    """One second per colour; a single keyframe, so every seek has to decode its way in."""
    n = len(colors)
    parts = [f"color=c={_hex(c)}:s={size}:r={fps}:d=1[c{i}]" for i, c in enumerate(colors)]
    graph = ";".join(parts) + ";" + "".join(f"[c{i}]" for i in range(n))
    graph += f"concat=n={n}:v=1:a=0,format=yuv420p[v]"
    args: list[str | Path] = []
    if audio_s:
        args += ["-f", "lavfi", "-i", f"sine=f=440:r=48000:d={audio_s}"]
    args += ["-filter_complex", graph, "-map", "[v]"]
    if audio_s:
        args += ["-map", "0:a", "-c:a", "aac"]
    args += ["-c:v", "libx264", "-preset", "ultrafast", "-g", "1000", path]
    run_ffmpeg(args)
    return path


def center_rgb(path: Path) -> np.ndarray:
    img = cv2.imread(str(path))
    h, w = img.shape[:2]
    return img[h // 4 : 3 * h // 4, w // 4 : 3 * w // 4].reshape(-1, 3).mean(axis=0)[::-1]


def assert_color(path: Path, rgb: tuple[int, int, int]) -> None:
    got = center_rgb(path)
    assert np.abs(got - np.array(rgb)).max() < 25, f"{path.name}: {got.round()} != {rgb}"


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("frames")


@pytest.fixture(scope="module")
def colors(media: Path) -> Path:
    return color_video(media / "colors.mp4", COLORS)


@pytest.mark.parametrize(
    ("t", "second"),
    [(0.0, 0), (0.5, 0), (1.99, 1), (2.0, 2), (2.5, 2), (4.98, 4), (5.0, 4)],
)
def test_extract_frame_shows_the_frame_on_screen_at_t(
    colors: Path, tmp_path: Path, t: float, second: int
) -> None:
    # 1.99 is inside frame 59 (second 1): ffmpeg's bare -ss would give frame 60 (second 2).
    # 5.0 is the very end: the last frame, as a paused player shows it.
    out = extract_frame(colors, t, tmp_path / "f.jpg")
    assert_color(out, COLORS[second])


def test_extract_frame_scales_and_keeps_aspect(colors: Path, tmp_path: Path) -> None:
    img = cv2.imread(str(extract_frame(colors, 1.2, tmp_path / "s.jpg", width=160)))
    assert img.shape[:2] == (120, 160)


@pytest.mark.parametrize("t", [5.2, -0.1, float("nan")])
def test_extract_frame_outside_the_video_is_invalid(colors: Path, tmp_path: Path, t: float) -> None:
    with pytest.raises(InvalidMediaError, match="colors.mp4"):
        extract_frame(colors, t, tmp_path / "x.jpg")
    assert not (tmp_path / "x.jpg").exists()


def test_extract_frame_where_audio_outlasts_video_gives_the_last_frame(
    media: Path, tmp_path: Path
) -> None:
    src = color_video(media / "long_audio.mp4", COLORS[:2], audio_s=3.0)
    assert_color(extract_frame(src, 2.5, tmp_path / "f.jpg"), COLORS[1])
    assert_color(extract_frames(src, [0.5, 2.9], tmp_path / "s")[1], COLORS[1])


def test_extract_frame_rejects_non_media(tmp_path: Path) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_text("not a video\n" * 10)
    with pytest.raises(InvalidMediaError):
        extract_frame(bad, 0.0, tmp_path / "x.jpg")


@pytest.mark.parametrize("method", ["select", "seek", "auto"])
def test_strip_returns_frames_in_the_given_order(colors: Path, tmp_path: Path, method: str) -> None:
    times = [0.5, 1.5, 2.5, 3.5, 4.5, 1.0, 0.2, 0.21, 4.99]  # unsorted, one frame twice
    paths = extract_frames(colors, times, tmp_path / "strip", width=96, method=method)
    assert [p.name for p in paths] == [f"frame_{i:04d}.jpg" for i in range(len(times))]
    for t, path in zip(times, paths, strict=True):
        assert_color(path, COLORS[int(t)])
        assert cv2.imread(str(path)).shape[:2] == (72, 96)
    assert sorted(p.name for p in (tmp_path / "strip").iterdir()) == [p.name for p in paths]


def test_strip_edges(colors: Path, tmp_path: Path) -> None:
    assert extract_frames(colors, [], tmp_path / "none") == []
    with pytest.raises(InvalidMediaError):
        extract_frames(colors, [1.0, 6.0], tmp_path / "past")
    with pytest.raises(ValueError):
        extract_frames(colors, [1.0], tmp_path / "m", method="magic")


@pytest.fixture(scope="module")
def http_root(media: Path) -> Iterator[str]:
    with RangeServer(media) as server:
        yield server.url


def test_frames_from_a_presigned_style_url(colors: Path, http_root: str, tmp_path: Path) -> None:
    url = f"{http_root}/{colors.name}?X-Amz-Signature=s3cr3t&X-Amz-Expires=300"
    assert_color(extract_frame(url, 3.4, tmp_path / "u.jpg"), COLORS[3])
    for method in ("select", "seek"):
        paths = extract_frames(url, [4.1, 0.3], tmp_path / method, method=method)
        assert_color(paths[0], COLORS[4])
        assert_color(paths[1], COLORS[0])
    with pytest.raises(InvalidMediaError) as err:
        extract_frame(url, 9.0, tmp_path / "late.jpg")
    assert "s3cr3t" not in str(err.value)
