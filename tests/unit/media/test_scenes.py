from __future__ import annotations

import random
import signal
import subprocess
from pathlib import Path
from typing import Any

import mediagen
import numpy as np
import pytest
from scenedetect import ContentDetector, FrameTimecode

import reelforge.media.scenes as scenes_mod
from reelforge.errors import InvalidMediaError, MediaProcessingError
from reelforge.media.ffmpeg import run_ffmpeg
from reelforge.media.probe import probe
from reelforge.media.scenes import detect_scenes
from reelforge.models import Scene


@pytest.fixture(scope="module")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("scenes")


@pytest.fixture(scope="module")
def cuts_video(media_dir: Path) -> mediagen.TalkVideo:
    return mediagen.talk_video(
        media_dir / "cuts.mp4",
        sentences=[],
        size=(320, 180),
        cut_times=[1.2, 2.5, 4.4, 5.1, 7.0],
        min_duration=8.0,
    )


def _assert_cover(scenes: list[Scene], duration: float) -> None:
    assert scenes[0].start == 0.0
    assert scenes[-1].end == pytest.approx(duration, abs=0.05)
    for a, b in zip(scenes, scenes[1:], strict=False):
        assert a.end == b.start, "gap or overlap between scenes"
        assert a.start < a.end


def test_cuts_are_found_where_they_were_made(media_dir: Path) -> None:
    video = mediagen.talk_video(
        media_dir / "cuts.mp4",
        sentences=[],
        size=(320, 180),
        cut_times=[1.2, 2.5, 4.4, 5.1, 7.0],
        min_duration=8.0,
    )
    progress: list[float] = []
    scenes = detect_scenes(video.path, on_progress=progress.append)
    found = [s.start for s in scenes[1:]]
    assert len(found) == len(video.cut_times), found
    for got, want in zip(found, video.cut_times, strict=True):
        assert got == pytest.approx(want, abs=0.1)
    _assert_cover(scenes, video.duration)
    assert progress == sorted(progress) and progress[-1] == 1.0


def test_every_background_switch_is_a_cut_at_1280x720(media_dir: Path) -> None:
    # One scene per generated background, so every pair of neighbours is tried once.
    every = 0.8
    n = len(mediagen.BACKGROUNDS) + 1
    video = mediagen.talk_video(
        media_dir / "all.mp4",
        sentences=[],
        size=(1280, 720),
        scene_cut_every_s=every,
        min_duration=n * every,
    )
    scenes = detect_scenes(video.path)
    assert [s.start for s in scenes[1:]] == pytest.approx(video.cut_times, abs=0.1)


def test_a_video_without_cuts_is_one_scene(media_dir: Path) -> None:
    video = mediagen.talk_video(
        media_dir / "one.mp4",
        sentences=["One long shot, the face drifts slowly."],
        size=(320, 180),
        scene_cut_every_s=None,
    )
    scenes = detect_scenes(video.path)
    assert len(scenes) == 1
    _assert_cover(scenes, video.duration)


def test_min_scene_len_merges_flashes(media_dir: Path) -> None:
    video = mediagen.talk_video(
        media_dir / "flash.mp4",
        sentences=[],
        size=(320, 180),
        cut_times=[1.0, 1.3, 3.0],
        min_duration=4.0,
    )
    starts = [s.start for s in detect_scenes(video.path, min_scene_len_s=0.6)]
    assert len(starts) == 3  # the 0.3 s flash at 1.0 is not a scene of its own
    assert starts[-1] == pytest.approx(3.0, abs=0.1)


def test_scenes_need_a_video_stream(media_dir: Path) -> None:
    tone = mediagen.tone_audio(media_dir / "tone.m4a", seconds=1.0)
    with pytest.raises(InvalidMediaError, match="no video stream"):
        detect_scenes(tone)
    with pytest.raises(InvalidMediaError, match="not a media file"):
        detect_scenes(mediagen.not_media(media_dir / "notes.mp4"))


def test_frames_reach_the_detector_small_and_in_bgr(
    media_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # ffmpeg shrinks the frames, not OpenCV: at 1280x720 the detector must see 256x144 BGR.
    video = mediagen.talk_video(
        media_dir / "plain.mp4",
        sentences=[],
        size=(1280, 720),
        face=False,
        cut_times=[1.0],
        min_duration=2.0,
    )
    seen: list[np.ndarray] = []

    class Spy(ContentDetector):
        def process_frame(self, timecode: FrameTimecode, frame_img: np.ndarray) -> list:
            seen.append(frame_img)
            return super().process_frame(timecode, frame_img)

    monkeypatch.setattr(scenes_mod, "ContentDetector", Spy)
    scenes = detect_scenes(video.path)
    assert [s.start for s in scenes[1:]] == pytest.approx([1.0], abs=0.05)
    assert len(seen) == round(video.duration * video.fps)
    assert {f.shape for f in seen} == {(144, 256, 3)}
    # The first background is 0x1d3557 (R, G, B): channel order must be B, G, R.
    assert seen[0].reshape(-1, 3).mean(axis=0) == pytest.approx([0x57, 0x35, 0x1D], abs=6)


def test_odd_size_and_rotation_do_not_matter(
    media_dir: Path, cuts_video: mediagen.TalkVideo
) -> None:
    video = cuts_video
    odd = media_dir / "odd.mp4"
    rotated = media_dir / "odd-rotated.mp4"
    run_ffmpeg(
        ["-i", video.path, "-vf", "scale=1279:719", "-an", "-c:v", "libx264",
         "-preset", "ultrafast", "-pix_fmt", "yuv444p", odd]
    )  # fmt: skip
    run_ffmpeg(["-display_rotation", "90", "-i", odd, "-c", "copy", rotated])
    info = probe(rotated)
    assert (info.width, info.height) == (1279, 719) and info.rotation in (90, 270)
    scenes = detect_scenes(rotated)
    assert [s.start for s in scenes[1:]] == pytest.approx(video.cut_times, abs=0.1)
    _assert_cover(scenes, info.duration)


def _corrupt_copy(src: Path, dest: Path, keep_bytes: int) -> Path:
    """`src` with random bytes over its media data after the first `keep_bytes` of it."""
    data = bytearray(src.read_bytes())
    start = data.index(b"mdat") + keep_bytes
    data[start:] = random.Random(1).randbytes(len(data) - start)
    dest.write_bytes(data)
    return dest


# A deadlock here blocks in a lock the default timeout signal cannot break.
@pytest.mark.timeout(60, method="thread")
def test_a_corrupt_video_raises_a_readable_error(
    media_dir: Path, cuts_video: mediagen.TalkVideo
) -> None:
    video = cuts_video
    # Garbage from the first frame on: the probe already finds nothing decodable.
    with pytest.raises(InvalidMediaError, match="cannot be decoded|no decodable frame"):
        detect_scenes(_corrupt_copy(video.path, media_dir / "bad-start.mp4", 0))
    # Garbage after ~1 s: ffmpeg gives up (most packets fail) and says why, at length (its
    # stderr is larger than a pipe buffer, so a pipe nobody reads would block it).
    bad = _corrupt_copy(video.path, media_dir / "bad-later.mp4", 20_000)
    with pytest.raises(MediaProcessingError, match="after \\d+ frames: .*Invalid data") as err:
        detect_scenes(bad)
    assert "@ 0x" not in str(err.value) and str(media_dir) not in str(err.value)


# A deadlock here blocks in a lock the default timeout signal cannot break.
@pytest.mark.timeout(60, method="thread")
def test_ffmpeg_is_killed_and_reaped_when_detection_fails(
    cuts_video: mediagen.TalkVideo, monkeypatch: pytest.MonkeyPatch
) -> None:
    video = cuts_video
    children: list[subprocess.Popen] = []
    real_popen = subprocess.Popen

    def popen(*args: Any, **kwargs: Any) -> subprocess.Popen:
        children.append(real_popen(*args, **kwargs))
        return children[-1]

    def progress(_: float) -> None:
        raise RuntimeError("the caller gave up")

    monkeypatch.setattr(scenes_mod.subprocess, "Popen", popen)
    with pytest.raises(MediaProcessingError, match="the caller gave up"):
        detect_scenes(video.path, on_progress=progress)
    # Frames (110 kB) outgrow the pipe buffer: ffmpeg was still writing when it was killed.
    assert [c.returncode for c in children] == [-signal.SIGKILL]


def test_variable_frame_rate_keeps_cut_times(
    media_dir: Path, cuts_video: mediagen.TalkVideo
) -> None:
    video = cuts_video
    vfr = media_dir / "vfr.mp4"
    # 30 fps for 4 s, then every other frame dropped (15 fps): 22.5 fps on average, so
    # counting frames at that rate would put the cuts 0.3 to 1.2 s late.
    run_ffmpeg(
        ["-i", video.path, "-vf", "select='lt(t,4)+not(mod(n,2))'", "-fps_mode", "vfr", "-an",
         "-c:v", "libx264", "-preset", "ultrafast", vfr]
    )  # fmt: skip
    assert probe(vfr).fps == pytest.approx(22.5, abs=0.5)
    scenes = detect_scenes(vfr)
    # 5.1 s fell on a dropped frame: that cut is at the next kept one, 5.133 s.
    assert [s.start for s in scenes[1:]] == pytest.approx(video.cut_times, abs=0.07)
    _assert_cover(scenes, video.duration)


def test_cut_times_are_on_the_container_timeline(
    media_dir: Path, cuts_video: mediagen.TalkVideo
) -> None:
    # The video starts 0.5 s after the audio: times count from the container start, as `-ss`
    # does when the clips are cut.
    late = media_dir / "late.mp4"
    run_ffmpeg(
        ["-i", cuts_video.path, "-itsoffset", "0.5", "-i", cuts_video.path,
         "-map", "1:v", "-map", "0:a", "-c", "copy", late]
    )  # fmt: skip
    scenes = detect_scenes(late)
    shifted = [t + 0.5 for t in cuts_video.cut_times]
    assert [s.start for s in scenes[1:]] == pytest.approx(shifted, abs=0.05)
    _assert_cover(scenes, probe(late).duration)


def test_ffmpeg_failing_before_any_frame_is_invalid_media(
    tmp_path: Path, cuts_video: mediagen.TalkVideo, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "ffmpeg"
    fake.write_text("#!/bin/sh\necho '[h264 @ 0x1234] no frame for you' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setattr(scenes_mod, "ffmpeg_exe", lambda: str(fake))
    with pytest.raises(
        InvalidMediaError, match=r"cannot decode the video of cuts\.mp4: no frame for you$"
    ):
        detect_scenes(cuts_video.path)
