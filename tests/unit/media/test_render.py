"""render_clip end to end on small synthetic sources: format, exact cut, burned-in captions,
face kept in the crop, and the odd sources (no face, tiny, portrait, no audio)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from httpserve import RangeServer

from reelforge.errors import IngestError, InvalidMediaError
from reelforge.media.ffmpeg import run_ffmpeg
from reelforge.media.render import filter_path, render_clip
from reelforge.models import Word

FACE_JPG = Path(__file__).resolve().parents[2] / "data" / "face.jpg"
FPS = 30
# One background colour per second (BGR), so the first frame tells where the cut started.
SECOND_BGR = [(160, 60, 30), (40, 140, 40), (40, 40, 170), (150, 40, 150), (30, 150, 150)]
CAPTION_ROWS = slice(1150, 1480)  # where MarginV puts the caption line in 1080x1920
TOP_ROWS = slice(4, 90)  # background only: the face image starts at 1/18 of the height


def _hex(bgr: tuple[int, int, int]) -> str:
    b, g, r = bgr
    return f"0x{r:02x}{g:02x}{b:02x}"


def _render_source(path: Path, size: str, *, face: bool, audio: bool, seconds: int = 5) -> Path:
    inputs: list[str | Path] = []
    parts = [f"color=c={_hex(c)}:s={size}:r={FPS}:d=1[c{i}]" for i, c in enumerate(SECOND_BGR)]
    parts = parts[:seconds]
    concat = "".join(f"[c{i}]" for i in range(seconds)) + f"concat=n={seconds}:v=1:a=0"
    if face:
        inputs += ["-loop", "1", "-framerate", str(FPS), "-t", str(seconds), "-i", FACE_JPG]
        h = int(size.split("x")[1])
        img = int(h * 0.42)
        graph = (
            ";".join(parts) + f";{concat}[bg];[0:v]scale={img}:{img}[f];"
            f"[bg][f]overlay=x='{h // 4}+{h // 12}*t':y={h // 18}:shortest=1,format=yuv420p[v]"
        )
    else:
        graph = ";".join(parts) + f";{concat},format=yuv420p[v]"
    audio_args: list[str | Path] = []
    if audio:
        audio_args = ["-f", "lavfi", "-t", str(seconds), "-i", "sine=f=440:sample_rate=48000"]
    n_in = 1 if face else 0
    args = [*inputs, *audio_args, "-filter_complex", graph, "-map", "[v]"]
    if audio:
        args += ["-map", f"{n_in}:a", "-c:a", "aac"]
    # one keyframe only: a keyframe-snapping cut would start at second 0's colour
    args += ["-c:v", "libx264", "-preset", "ultrafast", "-g", "1000", path]
    run_ffmpeg(args)
    return path


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("render_src")
    return {
        "face": _render_source(d / "face.mp4", "1280x720", face=True, audio=True),
        "tiny": _render_source(d / "tiny.mp4", "320x240", face=False, audio=True, seconds=3),
        "portrait": _render_source(
            d / "portrait.mp4", "360x640", face=False, audio=False, seconds=3
        ),
    }


WORDS = [
    Word(word=w, start=s, end=s + 0.3)
    for w, s in [("before", 1.2), ("Hello", 2.1), ("world,", 2.4), ("this", 2.7), ("works!", 2.95)]
]


@pytest.fixture(scope="module")
def track_clip(sources: dict[str, Path], tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("render_out") / "clip.mp4"
    progress: list[float] = []
    clip = render_clip(
        sources["face"], start=2.0, end=4.0, words=WORDS, out_path=out,
        preset="ultrafast", on_progress=progress.append, caption_style="karaoke",
    )  # fmt: skip
    return clip, progress


def frames_at(path: Path, times: list[float]) -> dict[float, np.ndarray]:
    want = sorted(times)
    got: dict[float, np.ndarray] = {}
    with av.open(str(path)) as c:
        for frame in c.decode(video=0):
            while want and frame.time is not None and frame.time >= want[0] - 1e-3:
                got[want.pop(0)] = frame.to_ndarray(format="bgr24")
            if not want:
                break
    return got


def assert_vertical_mp4(path: Path, duration: float) -> None:
    with av.open(str(path)) as c:
        v, a = c.streams.video[0], c.streams.audio[0]
        assert v.codec_context.name == "h264" and a.codec_context.name == "aac"
        assert (v.codec_context.width, v.codec_context.height) == (1080, 1920)
        assert v.codec_context.pix_fmt == "yuv420p"
        n = sum(1 for _ in c.decode(v))
        rate = float(v.average_rate)
    assert abs(n / rate - duration) <= 1 / rate + 1e-6, f"{n} frames at {rate} fps"


def caption_pixels(frame: np.ndarray) -> tuple[int, int, int]:
    region = frame[CAPTION_ROWS].astype(int)
    white = np.all(region > 225, axis=2).sum()
    black = np.all(region < 35, axis=2).sum()
    b, g, r = region[..., 0], region[..., 1], region[..., 2]
    yellow = ((r > 200) & (g > 190) & (b < 90)).sum()
    return int(white), int(black), int(yellow)


def test_track_clip_format_and_exact_duration(track_clip) -> None:
    clip, progress = track_clip
    assert clip.mode == "focus"
    assert (clip.width, clip.height) == (1080, 1920)
    assert clip.duration == pytest.approx(2.0, abs=1 / FPS)
    assert_vertical_mp4(clip.video_path, 2.0)
    assert progress[-1] == 1.0 and progress == sorted(progress)


def test_cut_starts_and_ends_on_the_right_frames(track_clip) -> None:
    clip, _ = track_clip
    frames = frames_at(clip.video_path, [0.0, 0.9, 1.0, 1.95])
    for t, second in [(0.0, 2), (0.9, 2), (1.0, 3), (1.95, 3)]:
        top = frames[t][TOP_ROWS].reshape(-1, 3).mean(axis=0)
        assert np.abs(top - SECOND_BGR[second]).max() < 25, (t, top)


def test_captions_are_burned_in_with_the_active_word_highlighted(track_clip) -> None:
    clip, _ = track_clip
    frames = frames_at(clip.video_path, [0.25, 1.85])  # "Hello" is spoken at 2.1-2.4 s (source)
    white, black, yellow = caption_pixels(frames[0.25])
    assert white > 2000 and black > 2000 and yellow > 500, (white, black, yellow)
    white, black, yellow = caption_pixels(frames[1.85])  # after the last word and its linger
    assert white < 50 and black < 50 and yellow < 50, (white, black, yellow)


def test_face_stays_inside_the_crop(track_clip) -> None:
    clip, _ = track_clip
    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
    for t, frame in frames_at(clip.video_path, [0.1, 1.0, 1.9]).items():
        gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        faces = cascade.detectMultiScale(gray[:1100], 1.1, 5, minSize=(100, 100))
        assert len(faces) >= 1, t
        x, _, w, _ = max(faces, key=lambda f: f[2])
        assert 0.25 < (x + w / 2) / 1080 < 0.75, t


def test_sidecars_and_thumbnail(track_clip) -> None:
    clip, _ = track_clip
    srt = clip.srt_path.read_text()
    assert re.match(r"1\n00:00:00,100 --> 00:00:0\d,\d{3}\nHello world,", srt), srt
    assert "before" not in srt
    assert clip.vtt_path.read_text().startswith("WEBVTT\n\n00:00:00.100 --> ")
    assert clip.ass_path is not None and "Hello" in clip.ass_path.read_text()
    thumb = cv2.imread(str(clip.thumbnail_path))
    assert thumb is not None and thumb.shape[:2] == (1920, 1080)


def test_tiny_faceless_source_is_fit_and_survives_an_awkward_output_dir(
    sources: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "we:ird, [dir]'s" / "tiny.mp4"
    words = [Word(word="tiny", start=0.6, end=1.0), Word(word="clip", start=1.0, end=1.4)]
    clip = render_clip(sources["tiny"], start=0.5, end=2.5, words=words, out_path=out,
                       preset="ultrafast")  # fmt: skip
    assert clip.mode == "fit"
    assert_vertical_mp4(clip.video_path, 2.0)
    frame = frames_at(clip.video_path, [0.3])[0.3]
    white, black, _ = caption_pixels(frame)
    assert white > 1000 and black > 1000  # the ass filter found the file in that directory
    # fit: the sharp frame fills the width in the middle; a blurred copy fills the rest
    middle = frame[960].astype(int)
    assert np.abs(middle - SECOND_BGR[0]).max(axis=1).max() < 30


def test_portrait_source_without_audio_is_scaled_and_gets_silence(
    sources: dict[str, Path], tmp_path: Path
) -> None:
    clip = render_clip(sources["portrait"], start=1.0, end=2.5, words=[],
                       out_path=tmp_path / "p.mp4", preset="ultrafast")  # fmt: skip
    assert clip.mode == "fit" and clip.ass_path is None
    assert_vertical_mp4(clip.video_path, 1.5)
    top = frames_at(clip.video_path, [0.1])[0.1][TOP_ROWS].reshape(-1, 3).mean(axis=0)
    assert np.abs(top - SECOND_BGR[1]).max() < 25


def test_bad_inputs_are_named_errors(sources: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(InvalidMediaError):
        render_clip(tmp_path / "missing.mp4", start=0, end=1, words=[], out_path=tmp_path / "x.mp4")
    with pytest.raises(InvalidMediaError):
        render_clip(sources["tiny"], start=2, end=1, words=[], out_path=tmp_path / "x.mp4")
    with pytest.raises(InvalidMediaError):
        render_clip(sources["tiny"], start=30, end=31, words=[], out_path=tmp_path / "x.mp4")
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video" * 100)
    with pytest.raises(InvalidMediaError):
        render_clip(junk, start=0, end=1, words=[], out_path=tmp_path / "x.mp4")


def test_filter_path_escapes_both_levels() -> None:
    assert filter_path("/a/b.ass") == "/a/b.ass"
    assert filter_path("/x:y/it's,[1];z") == "/x\\\\:y/it\\\\\\'s\\,\\[1\\]\\;z"


@pytest.fixture
def served(sources: dict[str, Path]) -> Iterator[str]:
    with RangeServer(sources["tiny"].parent) as server:
        yield server.url


def test_renders_from_a_presigned_style_url_without_leaking_the_signature(
    served: str, tmp_path: Path
) -> None:
    query = "?X-Amz-Signature=s3cr3t"
    clip = render_clip(f"{served}/tiny.mp4{query}", start=0.5, end=1.5, words=[],
                       out_path=tmp_path / "u.mp4", preset="ultrafast")  # fmt: skip
    assert clip.mode == "fit"
    assert_vertical_mp4(clip.video_path, 1.0)
    with pytest.raises(IngestError) as err:
        render_clip(f"{served}/missing.mp4{query}", start=0, end=1, words=[],
                    out_path=tmp_path / "m.mp4")  # fmt: skip
    assert "s3cr3t" not in str(err.value)
