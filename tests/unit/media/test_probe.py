from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import mediagen
import pytest
from httpserve import RangeServer

from reelforge.errors import IngestError, InvalidMediaError, TransientError
from reelforge.media.ffmpeg import run_ffmpeg
from reelforge.media.probe import probe, remote_size


@pytest.fixture(scope="module")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("probe")


@pytest.fixture(scope="module")
def talk(media_dir: Path) -> mediagen.TalkVideo:
    return mediagen.talk_video(
        media_dir / "talk.mp4",
        sentences=["Probing reads only the header."],
        size=(480, 270),
        fps=25,
        scene_cut_every_s=1.0,
        min_duration=3.2,
    )


@pytest.fixture
def server(media_dir: Path) -> Iterator[RangeServer]:
    with RangeServer(media_dir) as srv:
        yield srv


def test_probe_matches_what_was_generated(talk: mediagen.TalkVideo) -> None:
    info = probe(talk.path)
    assert info.has_video and info.has_audio
    assert info.duration == pytest.approx(talk.duration, abs=0.1)
    assert (info.width, info.height) == (480, 270)
    assert info.fps == pytest.approx(25.0)
    assert (info.video_codec, info.audio_codec) == ("h264", "aac")
    assert info.audio_sample_rate == 44100
    assert info.size_bytes == talk.path.stat().st_size
    assert info.rotation == 0
    assert "mp4" in info.format_name


def test_probe_audio_only_and_video_only(media_dir: Path) -> None:
    tone = probe(mediagen.tone_audio(media_dir / "tone.wav", seconds=1.5, sample_rate=16000))
    assert (tone.has_audio, tone.has_video) == (True, False)
    assert tone.duration == pytest.approx(1.5, abs=0.05)
    assert tone.audio_sample_rate == 16000
    assert tone.width is None and tone.fps is None

    mute = probe(mediagen.silent_video(media_dir / "mute.mp4", seconds=2.0, size=(320, 180)))
    assert (mute.has_audio, mute.has_video) == (False, True)
    assert mute.duration == pytest.approx(2.0, abs=0.1)
    assert mute.audio_codec is None


@pytest.mark.parametrize(("display_rotation", "expected"), [(90, 270), (-90, 90), (180, 180)])
def test_probe_reads_rotation_as_clockwise_degrees(
    media_dir: Path, display_rotation: int, expected: int
) -> None:
    src = mediagen.silent_video(media_dir / "plain.mp4", seconds=1.0, size=(320, 180))
    rotated = media_dir / f"rot{display_rotation}.mp4"
    # ffmpeg's -display_rotation is counter-clockwise; a phone's portrait tag is rotate=90 (clockwise).
    run_ffmpeg(["-display_rotation", str(display_rotation), "-i", src, "-c", "copy", rotated])
    info = probe(rotated)
    assert info.rotation == expected
    assert (info.width, info.height) == (320, 180)  # coded size; rotation says how to show it


def test_probe_url_reads_same_values_as_local_file(talk: mediagen.TalkVideo, server) -> None:
    local = probe(talk.path)
    remote = probe(f"{server.url}/{talk.path.name}?X-Amz-Signature=deadbeef&X-Amz-Expires=60")
    assert remote == local
    assert any(method == "GET" for method, _ in server.requests)


def test_remote_size_falls_back_to_a_ranged_get_when_head_is_refused(
    talk: mediagen.TalkVideo, server
) -> None:
    server.refuse_head = True
    assert remote_size(f"{server.url}/{talk.path.name}?sig=1") == talk.path.stat().st_size
    assert ("GET", "bytes=0-0") in server.requests


def test_probe_url_errors_are_named_and_hide_the_query_string(server, media_dir: Path) -> None:
    base = server.url
    with pytest.raises(IngestError, match="404") as err:
        probe(f"{base}/missing.mp4?X-Amz-Signature=secret")
    assert "secret" not in str(err.value)

    mediagen.not_media(media_dir / "notes.mp4")
    with pytest.raises(InvalidMediaError, match="not a media file"):
        probe(f"{base}/notes.mp4")


def test_probe_url_does_not_hang_on_a_silent_server() -> None:
    with socket.socket() as silent:  # accepts connections (backlog) but never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        started = time.monotonic()
        with pytest.raises(TransientError, match="no answer within 1s"):
            probe(f"http://127.0.0.1:{silent.getsockname()[1]}/video.mp4", timeout=1.0)
        assert time.monotonic() - started < 5


def test_probe_url_connection_refused_is_transient() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nobody listens there
    with pytest.raises(TransientError):
        probe(f"http://127.0.0.1:{port}/video.mp4", timeout=2.0)


def test_probe_rejects_what_is_not_media(media_dir: Path, talk: mediagen.TalkVideo) -> None:
    text = mediagen.not_media(media_dir / "readme.mp4")
    empty = media_dir / "empty.mp4"
    empty.write_bytes(b"")
    truncated = media_dir / "truncated.mp4"
    truncated.write_bytes(talk.path.read_bytes()[:1500])
    headless = media_dir / "headless.mp4"
    headless.write_bytes(talk.path.read_bytes()[:200])
    garbage = media_dir / "garbage.mov"
    garbage.write_bytes(bytes(range(256)) * 64)

    for path, reason in [
        (text, "not a media file"),
        (empty, "is empty"),
        (truncated, "no decodable frame"),  # the header survived, the frames did not
        (headless, "not a media file"),
        (garbage, "not a media file"),
        (media_dir / "absent.mp4", "does not exist"),
        (mediagen.FACE_JPG, "still image"),
    ]:
        with pytest.raises(InvalidMediaError, match=reason):
            probe(path)


def test_probe_rejects_a_file_without_audio_or_video(media_dir: Path) -> None:
    subs = media_dir / "subs.srt"
    subs.write_text("1\n00:00:00,000 --> 00:00:02,000\nHello there\n")
    with pytest.raises(InvalidMediaError, match="no audio or video stream"):
        probe(subs)
