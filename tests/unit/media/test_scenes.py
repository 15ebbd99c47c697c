from __future__ import annotations

from pathlib import Path

import mediagen
import pytest

from reelforge.errors import InvalidMediaError
from reelforge.media.scenes import detect_scenes
from reelforge.models import Scene


@pytest.fixture(scope="module")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("scenes")


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
