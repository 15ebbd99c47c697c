"""render_timeline on two unlike sources (size, rate, one silent): one uniform MP4 whose
frames, audio and duration prove the pieces are in order, trimmed right and in sync."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from httpserve import RangeServer

from reelforge.errors import InvalidMediaError
from reelforge.media.ffmpeg import run_ffmpeg
from reelforge.media.frames import extract_frames
from reelforge.media.timeline import TimelinePiece, piece_at, render_timeline

# One colour per second (RGB). A: 320x240, 30 fps, a 440 Hz tone in its odd seconds only (so
# the audio tells source time too). B: 480x270, 25 fps, no audio stream.
A_COLORS = [(220, 30, 30), (30, 200, 30), (30, 30, 220), (230, 230, 40), (240, 240, 240)]
B_COLORS = [(200, 40, 200), (40, 200, 200), (240, 140, 20), (120, 120, 120)]


def _hex(rgb: tuple[int, int, int]) -> str:
    return "0x{:02x}{:02x}{:02x}".format(*rgb)


def color_video(path: Path, colors, *, size: str, fps: int, tone: bool) -> Path:
    n = len(colors)
    parts = [f"color=c={_hex(c)}:s={size}:r={fps}:d=1[c{i}]" for i, c in enumerate(colors)]
    graph = ";".join(parts) + ";" + "".join(f"[c{i}]" for i in range(n))
    graph += f"concat=n={n}:v=1:a=0,format=yuv420p[v]"
    args: list[str | Path] = []
    if tone:
        tone_expr = "0.5*sin(2*PI*440*t)*eq(mod(floor(t)\\,2)\\,1)"
        args += ["-f", "lavfi", "-i", f"aevalsrc={tone_expr}:s=44100:d={n}"]
    args += ["-filter_complex", graph, "-map", "[v]"]
    if tone:
        args += ["-map", "0:a", "-c:a", "aac"]
    args += ["-c:v", "libx264", "-preset", "ultrafast", "-g", "48", path]
    run_ffmpeg(args)
    return path


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("timeline")


@pytest.fixture(scope="module")
def src_a(media: Path) -> Path:
    return color_video(media / "a.mp4", A_COLORS, size="320x240", fps=30, tone=True)


@pytest.fixture(scope="module")
def src_b(media: Path) -> Path:
    return color_video(media / "b.mp4", B_COLORS, size="480x270", fps=25, tone=False)


def center_rgb(img: np.ndarray) -> np.ndarray:
    h, w = img.shape[:2]
    return img[h // 3 : 2 * h // 3, w // 3 : 2 * w // 3].reshape(-1, 3).mean(axis=0)[::-1]


def expected(pieces: list[TimelinePiece], t: float, a: Path) -> tuple[int, int, int]:
    i, s = piece_at(pieces, t)
    colors = A_COLORS if Path(pieces[i].source) == a else B_COLORS
    return colors[int(s)]


def audio_rms(path: Path) -> tuple[np.ndarray, int, int, float]:
    """Per-10 ms RMS of the first channel, sample rate, channels, stream duration."""
    with av.open(str(path)) as c:
        stream = c.streams.audio[0]
        rate, channels = stream.codec_context.sample_rate, stream.codec_context.channels
        duration = float(stream.duration * stream.time_base)
        pcm = np.concatenate(
            [f.to_ndarray().reshape(channels, -1)[0] for f in c.decode(audio=0)]
        ).astype(float)
    hop = rate // 100
    frames = pcm[: len(pcm) // hop * hop].reshape(-1, hop)
    return np.sqrt((frames**2).mean(axis=1)), rate, channels, duration


def test_two_unlike_sources_become_one_uniform_export(
    src_a: Path, src_b: Path, media: Path
) -> None:
    pieces = [
        TimelinePiece(src_a, 1.0, 2.5),  # green (tone) then blue (quiet)
        TimelinePiece(src_b, 0.5, 2.2),  # magenta, cyan, orange; no audio
        TimelinePiece(src_a, 3.25, 4.0),  # yellow (tone)
    ]
    seen: list[float] = []
    out = render_timeline(pieces, media / "export.mp4", on_progress=seen.append)
    total = 1.5 + 1.7 + 0.75
    assert (out.width, out.height, out.fps) == (320, 240, 30.0)
    assert out.duration == pytest.approx(total, abs=1 / 30 + 1e-6)
    assert seen and seen[-1] == 1.0

    with av.open(str(out.path)) as c:
        v = c.streams.video[0]
        assert (v.codec_context.width, v.codec_context.height) == (320, 240)
        assert v.sample_aspect_ratio in (None, 0, 1)
        ts = np.array([f.time for f in c.decode(video=0)])
    assert len(ts) == round(total * 30)
    assert np.allclose(np.diff(ts), 1 / 30, atol=1e-3)  # constant rate, no gaps
    assert ts[0] == pytest.approx(0.0, abs=1e-3)

    rms, rate, channels, a_duration = audio_rms(out.path)
    assert (rate, channels) == (48000, 2)
    assert a_duration == pytest.approx(total, abs=0.03)  # audio covers the whole export
    # A's odd seconds carry the tone: source 1..2 s is export 0..1 s, source 3.25..4 s is
    # export 3.2..3.95 s; B's piece gets silence. Edges found to within 20 ms.
    loud = rms > 0.05
    assert loud[2:98].all() and not loud[102:318].any() and loud[322:393].all()
    assert abs(int(np.argmin(loud[:150])) - 100) <= 2  # the tone stops at 1.0 s
    assert abs(300 + int(np.argmax(loud[300:350])) - 320) <= 2  # and returns at 3.2 s

    times = [0.1, 0.9, 1.1, 1.4, 1.6, 2.3, 3.1, 3.3, 3.9]
    frames = extract_frames(out.path, times, media / "check")
    for t, path in zip(times, frames, strict=True):
        img = cv2.imread(str(path))
        want = expected(pieces, t, src_a)
        got = center_rgb(img)
        assert np.abs(got - np.array(want)).max() < 25, f"t={t}: {got.round()} != {want}"
        if piece_at(pieces, t)[0] == 1:  # 16:9 into 4:3: letterboxed, black bars
            assert img[:20].mean() < 8 and img[-20:].mean() < 8


def test_duration_is_the_sum_within_one_frame(src_a: Path, src_b: Path, media: Path) -> None:
    pieces = [
        TimelinePiece(src_b, 0.13, 1.37),
        TimelinePiece(src_a, 0.41, 1.18),
        TimelinePiece(src_b, 2.01, 3.02),
        TimelinePiece(src_a, 4.5, 4.71),
    ]
    out = render_timeline(pieces, media / "odd.mp4", fps=24, width=256, height=144)
    total = sum(p.duration for p in pieces)
    assert (out.width, out.height, out.fps) == (256, 144, 24.0)
    assert out.duration == pytest.approx(total, abs=1 / 24 + 1e-6)
    rms, _, _, a_duration = audio_rms(out.path)
    assert a_duration == pytest.approx(out.duration, abs=0.03)
    # B silent, then A from source 0.41 s: quiet until its second 1 at export 1.83 s
    loud = rms > 0.05
    assert not loud[2:181].any() and loud[185:199].all() and not loud[203:].any()
    # A (4:3) into 16:9: pillarboxed
    img = cv2.imread(str(extract_frames(out.path, [1.6], media / "pb")[0]))
    assert img[:, :20].mean() < 8 and img[:, -20:].mean() < 8
    assert np.abs(center_rgb(img) - np.array(A_COLORS[0])).max() < 25


def test_piece_past_the_source_end_is_cut_there(src_a: Path, media: Path) -> None:
    out = render_timeline([TimelinePiece(src_a, 4.2, 9.0)], media / "tail.mp4")
    assert out.duration == pytest.approx(0.8, abs=1 / 30 + 1e-6)


def test_piece_at_maps_timeline_time_to_source_time(src_a: Path, src_b: Path) -> None:
    pieces = [
        TimelinePiece(src_a, 1.0, 2.5),
        TimelinePiece(src_b, 0.5, 2.2),
        TimelinePiece(src_a, 3.25, 4.0),
    ]
    assert piece_at(pieces, 0.0) == (0, 1.0)
    assert piece_at(pieces, 1.0) == (0, 2.0)
    assert piece_at(pieces, 1.4999) == (0, pytest.approx(2.4999))
    assert piece_at(pieces, 1.5) == (1, 0.5)  # a boundary belongs to the piece starting there
    assert piece_at(pieces, 3.2) == (2, 3.25)
    assert piece_at(pieces, 3.95) == (2, pytest.approx(4.0))  # the end: last piece's end
    assert piece_at(pieces[:1], 1.5) == (0, 2.5)
    for bad in (-0.01, 3.96):
        with pytest.raises(ValueError):
            piece_at(pieces, bad)
    with pytest.raises(ValueError):
        piece_at([], 0.0)


def test_bad_timelines_are_refused(src_a: Path, media: Path) -> None:
    with pytest.raises(InvalidMediaError, match="empty"):
        render_timeline([], media / "x.mp4")
    with pytest.raises(InvalidMediaError, match="after the end"):
        render_timeline([TimelinePiece(src_a, 6.0, 7.0)], media / "x.mp4")
    with pytest.raises(InvalidMediaError):
        render_timeline([TimelinePiece(src_a, 2.0, 1.0)], media / "x.mp4")
    with pytest.raises(InvalidMediaError):
        render_timeline([TimelinePiece(media / "missing.mp4", 0.0, 1.0)], media / "x.mp4")
    assert not (media / "x.mp4").exists()


@pytest.fixture(scope="module")
def http_root(media: Path) -> Iterator[str]:
    with RangeServer(media) as server:
        yield server.url


def test_pieces_from_presigned_style_urls(
    src_a: Path, src_b: Path, http_root: str, media: Path
) -> None:
    sig = "?X-Amz-Signature=s3cr3t&X-Amz-Expires=300"
    pieces = [
        TimelinePiece(f"{http_root}/{src_b.name}{sig}", 2.0, 3.0),
        TimelinePiece(f"{http_root}/{src_a.name}{sig}", 0.0, 1.0),
    ]
    out = render_timeline(pieces, media / "remote.mp4")
    assert (out.width, out.height) == (480, 270)  # the first piece's size
    assert out.fps == 25.0
    assert out.duration == pytest.approx(2.0, abs=0.04 + 1e-6)
    first, second = extract_frames(out.path, [0.5, 1.5], media / "remote")
    assert np.abs(center_rgb(cv2.imread(str(first))) - np.array(B_COLORS[2])).max() < 25
    assert np.abs(center_rgb(cv2.imread(str(second))) - np.array(A_COLORS[0])).max() < 25
