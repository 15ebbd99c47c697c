"""Colour grading measured on real pixels: each slider moves the statistic it should, in the
direction it should, a neutral grade leaves the video alone, bad values are refused."""

from __future__ import annotations

from pathlib import Path

import av
import cv2
import mediagen
import numpy as np
import pytest
from pydantic import ValidationError

from reelforge.errors import InvalidMediaError
from reelforge.media.ffmpeg import run_ffmpeg
from reelforge.media.grade import GradeParams, grade_filter, grade_frame, grade_video

SLIDERS = ("brightness", "contrast", "saturation", "temperature", "gamma", "hue_shift")


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("grade")


@pytest.fixture(scope="module")
def card(media: Path) -> Path:
    """A natural picture (the test face: skin, hair, background; mid saturation), 2 s with
    a tone, 25 fps, slowly zooming so frames differ."""
    out = media / "card.mp4"
    run_ffmpeg([
        "-loop", "1", "-framerate", "25", "-t", "2", "-i", mediagen.FACE_JPG,
        "-f", "lavfi", "-i", "sine=f=330:r=48000:d=2",
        "-vf", "scale=360:360,crop=320:240:x='20+10*t':y=40,format=yuv420p",
        "-c:v", "libx264", "-preset", "ultrafast", "-crf", "12", "-c:a", "aac", "-shortest", out,
    ])  # fmt: skip
    return out


@pytest.fixture(scope="module")
def red(media: Path) -> Path:
    out = media / "red.mp4"
    run_ffmpeg(["-f", "lavfi", "-i", "color=c=red:s=160x120:r=25:d=1", "-c:v", "libx264",
                "-preset", "ultrafast", "-pix_fmt", "yuv420p", out])  # fmt: skip
    return out


def _bgr(path: Path) -> np.ndarray:
    img = cv2.imread(str(path))
    assert img is not None, path
    return img


def luma(img: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(img, cv2.COLOR_BGR2GRAY).astype(float)


def chroma(img: np.ndarray) -> float:
    """Mean distance from grey in the chroma planes: |Cr - 128| + |Cb - 128|."""
    ycc = cv2.cvtColor(img, cv2.COLOR_BGR2YCrCb).astype(float)
    return float((np.abs(ycc[..., 1] - 128) + np.abs(ycc[..., 2] - 128)).mean())


def red_blue(img: np.ndarray) -> float:
    return float(img[..., 2].mean() / img[..., 0].mean())


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(float) - b.astype(float)) ** 2))
    return 99.0 if mse == 0 else 10 * np.log10(255**2 / mse)


@pytest.fixture(scope="module")
def graded(card: Path, media: Path):
    """Grade-preview frames of the card at t=1, cached per set of params."""
    cache: dict[tuple, np.ndarray] = {}

    def get(**kw: float) -> np.ndarray:
        key = tuple(sorted(kw.items()))
        if key not in cache:
            name = "_".join(f"{k}{v}" for k, v in key) or "neutral"
            cache[key] = _bgr(grade_frame(card, 1.0, media / f"{name}.jpg", GradeParams(**kw)))
        return cache[key]

    return get


def test_brightness_moves_mean_luma(graded) -> None:
    base = luma(graded()).mean()
    assert luma(graded(brightness=40)).mean() > base + 25
    assert luma(graded(brightness=-40)).mean() < base - 25
    assert luma(graded(brightness=10)).mean() > base + 5  # gentle values act gently
    assert luma(graded(brightness=10)).mean() < base + 20


def test_contrast_moves_luma_spread(graded) -> None:
    base = luma(graded()).std()
    assert luma(graded(contrast=50)).std() > base * 1.2  # less than 1.5: clipping
    assert luma(graded(contrast=-50)).std() < base * 0.7
    assert luma(graded(contrast=-100)).std() < 3  # flat grey


def test_saturation_moves_chroma(graded) -> None:
    base = chroma(graded())
    assert chroma(graded(saturation=-60)) < base * 0.5
    assert chroma(graded(saturation=60)) > base * 1.4
    grey = graded(saturation=-100)
    assert np.abs(grey[..., 2].astype(int) - grey[..., 0].astype(int)).mean() < 3


def test_temperature_warms_and_cools(graded) -> None:
    base = red_blue(graded())
    assert red_blue(graded(temperature=50)) > base * 1.1
    assert red_blue(graded(temperature=-50)) < base * 0.9
    assert red_blue(graded(temperature=5)) > base  # no jump at small values
    assert red_blue(graded(temperature=5)) < base * 1.05
    # lightness is preserved: a temperature slider is not a brightness slider
    assert luma(graded(temperature=50)).mean() == pytest.approx(luma(graded()).mean(), abs=12)


def test_gamma_above_one_lifts_midtones(graded) -> None:
    # eq computes v ** (1 / gamma): gamma 2 brightens the midtones, 0.5 darkens them,
    # while pure black and white stay where they are.
    base = luma(graded())
    mid = (base > 60) & (base < 190)
    assert luma(graded(gamma=2.0))[mid].mean() > base[mid].mean() + 20
    assert luma(graded(gamma=0.5))[mid].mean() < base[mid].mean() - 20


def test_hue_shift_turns_red_to_green_and_blue(red: Path, tmp_path: Path) -> None:
    b, g, r = (
        _bgr(grade_frame(red, 0.5, tmp_path / "g.jpg", GradeParams(hue_shift=120)))
        .reshape(-1, 3)
        .mean(axis=0)
    )
    assert g > 120 and g > 3 * r and g > 3 * b
    b, g, r = (
        _bgr(grade_frame(red, 0.5, tmp_path / "b.jpg", GradeParams(hue_shift=-120)))
        .reshape(-1, 3)
        .mean(axis=0)
    )
    assert b > 120 and b > 3 * r and b > 3 * g


def test_seed_body_of_zeros_is_neutral() -> None:
    params = GradeParams(**dict.fromkeys(SLIDERS, 0.0))
    assert params.is_neutral and params.gamma == 1.0
    assert GradeParams().is_neutral and GradeParams(gamma=None).is_neutral
    assert grade_filter(params) == "null"
    assert not GradeParams(hue_shift=1).is_neutral


def test_filter_uses_real_ffmpeg_filters() -> None:
    chain = grade_filter(
        GradeParams(
            brightness=20, contrast=-10, saturation=30, gamma=1.5, temperature=40, hue_shift=-30
        )
    )
    assert chain == (
        "eq=brightness=0.1000:contrast=0.9000:saturation=1.3000:gamma=1.5000,"
        "colortemperature=temperature=5002:pl=1,hue=h=-30.000"
    )
    assert grade_filter(GradeParams(temperature=-100)) == "colortemperature=temperature=13200:pl=1"


@pytest.mark.parametrize(
    "body",
    [
        {"brightness": 101},
        {"contrast": -100.5},
        {"saturation": 250},
        {"temperature": -101},
        {"hue_shift": 181},
        {"gamma": 0.05},
        {"gamma": 11},
        {"gamma": -1},
        {"brightness": float("nan")},
        {"contrast": float("inf")},
        {"saturation": "lots"},
    ],
)
def test_out_of_range_values_are_refused(body: dict) -> None:
    with pytest.raises(ValidationError):
        GradeParams(**body)


@pytest.mark.parametrize("edge", [-1, 1])
def test_extreme_grades_render(card: Path, tmp_path: Path, edge: int) -> None:
    params = GradeParams(
        brightness=100 * edge,
        contrast=100 * edge,
        saturation=100 * edge,
        temperature=100 * edge,
        gamma=10 if edge > 0 else 0.1,
        hue_shift=180 * edge,
    )
    img = _bgr(grade_frame(card, 0.2, tmp_path / "x.jpg", params, width=160))
    assert img.shape[:2] == (120, 160)


def _frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="bgr24") for f in c.decode(video=0)]


def test_neutral_grade_video_is_the_source(card: Path, tmp_path: Path) -> None:
    result = grade_video(card, tmp_path / "same.mp4", GradeParams())
    src, out = _frames(card), _frames(result.path)
    assert len(out) == len(src) == 50
    assert min(psnr(a, b) for a, b in zip(src[::7], out[::7], strict=True)) > 35
    assert (result.width, result.height, result.fps) == (320, 240, 25.0)
    assert result.has_audio and result.duration == pytest.approx(2.0, abs=0.04)


def test_grade_video_window_keeps_format_and_grades(card: Path, tmp_path: Path) -> None:
    seen: list[float] = []
    result = grade_video(
        card,
        tmp_path / "warm.mp4",
        GradeParams(brightness=30, temperature=40),
        start=0.5,
        end=1.5,
        on_progress=seen.append,
    )
    assert result.duration == pytest.approx(1.0, abs=0.041)  # +-1 frame at 25 fps
    assert (result.width, result.height, result.fps) == (320, 240, 25.0)
    assert seen and seen[-1] == 1.0
    with av.open(str(result.path)) as c:
        assert c.streams.video[0].codec_context.name == "h264"
        audio = c.streams.audio[0]
        assert audio.codec_context.name == "aac"
        assert float(audio.duration * audio.time_base) == pytest.approx(1.0, abs=0.05)
    out = _frames(result.path)
    src = _frames(card)[12:37]  # the same window of the source: 0.48 .. 1.44 s
    assert len(out) == len(src)
    assert luma(out[10]).mean() > luma(src[10]).mean() + 15
    assert red_blue(out[10]) > red_blue(src[10]) * 1.05
    # the window starts where asked: the zoom makes every frame differ, frame 12 matches best
    ungraded = grade_video(card, tmp_path / "cut.mp4", GradeParams(), start=0.48, end=0.6)
    first = _frames(ungraded.path)[0]
    whole = _frames(card)
    assert int(np.argmax([psnr(first, f) for f in whole])) == 12


def test_grade_video_rejects_bad_windows_and_sources(card: Path, tmp_path: Path) -> None:
    with pytest.raises(InvalidMediaError):
        grade_video(card, tmp_path / "a.mp4", GradeParams(), start=3.0)
    with pytest.raises(InvalidMediaError):
        grade_video(card, tmp_path / "b.mp4", GradeParams(), start=1.0, end=0.5)
    audio = mediagen.tone_audio(tmp_path / "tone.wav", seconds=1.0)
    with pytest.raises(InvalidMediaError, match="no video"):
        grade_video(audio, tmp_path / "c.mp4", GradeParams())
    assert not any(tmp_path.glob("[abc].mp4"))
