from __future__ import annotations

import hashlib
import re
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import mediagen
import pytest

from reelforge.errors import InvalidMediaError
from reelforge.media import transcribe as tr
from reelforge.media.transcribe import (
    WhisperModelError,
    ensure_base_model,
    join_parts,
    load_model,
    model_cache_dir,
    resolve_model,
    transcribe,
)
from reelforge.models import Transcript

SENTENCES = [
    "Every great video starts with a single question.",
    "The answer is surprisingly simple.",
]


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def _recall(expected: str, heard: str) -> float:
    """Share of the expected words that were heard (order-free, case and punctuation ignored)."""
    heard_words = set(_words(heard))
    wanted = _words(expected)
    return sum(w in heard_words for w in wanted) / len(wanted)


@pytest.fixture(scope="module")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("transcribe")


@pytest.fixture(scope="module")
def model_cache() -> Iterator[Path]:
    """One joined base model for the module, deleted afterwards (145 MB)."""
    with tempfile.TemporaryDirectory(prefix="reelforge-models-") as tmp:
        yield Path(tmp)


@pytest.fixture(scope="module")
def talk(media_dir: Path) -> mediagen.TalkVideo:
    return mediagen.talk_video(
        media_dir / "talk.mp4", sentences=SENTENCES, size=(320, 180), scene_cut_every_s=None
    )


def _assert_words_are_sane(result: Transcript, duration: float) -> None:
    words = result.words()
    assert words, "no words"
    starts = [w.start for w in words]
    assert starts == sorted(starts), "word starts go backwards"
    for w in words:
        assert 0.0 <= w.start <= w.end <= duration + 0.05
        assert w.word == w.word.strip() and w.word
        assert 0.0 <= w.probability <= 1.0
    for seg in result.segments:
        assert seg.start <= seg.end
        assert seg.text == seg.text.strip()


@pytest.fixture(scope="module")
def tiny(talk: mediagen.TalkVideo) -> tuple[Transcript, list[float]]:
    progress: list[float] = []
    return transcribe(talk.path, model="tiny.en", on_progress=progress.append), progress


@pytest.mark.slow
def test_tiny_en_transcribes_espeak_speech(talk: mediagen.TalkVideo, tiny) -> None:
    result, progress = tiny
    assert result.model == "tiny.en"
    assert result.language == "en"
    assert result.duration == pytest.approx(talk.duration, abs=0.1)
    for sentence in SENTENCES:
        assert _recall(sentence, result.text) >= 0.8, result.text
    _assert_words_are_sane(result, talk.duration)
    assert progress == sorted(progress) and progress[-1] == 1.0


@pytest.mark.slow
def test_words_land_near_the_sentence_that_was_spoken(talk: mediagen.TalkVideo, tiny) -> None:
    result, _ = tiny
    second = talk.sentences[1]
    question = next(w for w in result.words() if _words(w.word) == ["question"])
    answer = next(w for w in result.words() if _words(w.word) == ["answer"])
    assert question.end <= second.start + 0.3
    assert second.start - 0.5 <= answer.start <= second.end


@pytest.mark.slow
def test_base_model_detects_english_and_transcribes(media_dir: Path, model_cache: Path) -> None:
    wav = mediagen.speech_wav(
        "Scene detection finds every hard cut in the video.", media_dir / "speech.wav"
    )
    result = transcribe(wav, model="base", language=None, cache_dir=model_cache)
    assert (model_cache / "whisper-base" / "model.bin").stat().st_size == tr.BASE_MODEL_SIZE
    assert result.model == "base"
    assert result.language == "en" and result.language_probability > 0.5
    assert _recall("Scene detection finds every hard cut in the video.", result.text) >= 0.8
    _assert_words_are_sane(result, mediagen.wav_duration(wav))


@pytest.mark.slow
def test_silence_gives_an_empty_transcript(media_dir: Path) -> None:
    quiet = mediagen.silent_video(media_dir / "quiet.mp4", seconds=3.0, audio=True)
    result = transcribe(quiet, model="tiny.en", language="en")
    assert result.segments == []
    assert result.text == ""
    assert result.duration == pytest.approx(3.0, abs=0.1)


def test_no_audio_stream_is_invalid_media(media_dir: Path) -> None:
    mute = mediagen.silent_video(media_dir / "mute.mp4", seconds=1.0)
    with pytest.raises(InvalidMediaError, match="no audio stream"):
        transcribe(mute, model="tiny.en")
    with pytest.raises(InvalidMediaError, match="not a media file"):
        transcribe(mediagen.not_media(media_dir / "notes.mp3"), model="tiny.en")


def _fake_parts(tmp_path: Path) -> tuple[list[Path], int, str]:
    parts = []
    blob = b""
    for i, chunk in enumerate([b"alpha" * 1000, b"beta" * 777]):
        part = tmp_path / f"model.bin.part{i + 1}"
        part.write_bytes(chunk)
        parts.append(part)
        blob += chunk
    return parts, len(blob), hashlib.sha256(blob).hexdigest()


def test_join_parts_builds_once_and_rebuilds_a_corrupt_file(tmp_path: Path) -> None:
    parts, size, digest = _fake_parts(tmp_path)
    dest = tmp_path / "cache" / "model.bin"
    dest.parent.mkdir()
    join_parts(parts, dest, size=size, sha256=digest)
    assert hashlib.sha256(dest.read_bytes()).hexdigest() == digest
    inode = dest.stat().st_ino
    join_parts(parts, dest, size=size, sha256=digest)
    assert dest.stat().st_ino == inode  # verified, not rewritten

    data = bytearray(dest.read_bytes())
    data[10] ^= 0xFF  # same size, wrong hash
    dest.write_bytes(bytes(data))
    join_parts(parts, dest, size=size, sha256=digest)
    assert hashlib.sha256(dest.read_bytes()).hexdigest() == digest

    dest.write_bytes(b"short")
    join_parts(parts, dest, size=size, sha256=digest)
    assert dest.stat().st_size == size
    assert [p.name for p in dest.parent.iterdir()] == ["model.bin"]  # no temp files left


def test_join_parts_refuses_parts_that_do_not_match(tmp_path: Path) -> None:
    parts, size, _ = _fake_parts(tmp_path)
    dest = tmp_path / "model.bin"
    with pytest.raises(WhisperModelError, match="do not match"):
        join_parts(parts, dest, size=size, sha256="0" * 64)
    assert not dest.exists()
    assert not list(tmp_path.glob(".model.bin*"))


def test_join_parts_is_safe_when_racing(tmp_path: Path) -> None:
    parts, size, digest = _fake_parts(tmp_path)
    dest = tmp_path / "model.bin"
    errors: list[BaseException] = []

    def join() -> None:
        try:
            join_parts(parts, dest, size=size, sha256=digest)
        except BaseException as exc:  # noqa: BLE001 - collected for the assert below
            errors.append(exc)

    threads = [threading.Thread(target=join) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert hashlib.sha256(dest.read_bytes()).hexdigest() == digest


def test_base_model_is_joined_and_verified_in_the_cache(
    model_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REELFORGE_MODEL_CACHE", str(model_cache))
    assert model_cache_dir() == model_cache
    model_dir = ensure_base_model()
    assert model_dir == model_cache / "whisper-base"
    assert sorted(p.name for p in model_dir.iterdir()) == [
        "config.json",
        "model.bin",
        "tokenizer.json",
        "vocabulary.txt",
    ]
    model_bin = model_dir / "model.bin"
    assert model_bin.stat().st_size == tr.BASE_MODEL_SIZE
    assert tr._sha256(model_bin) == tr.BASE_MODEL_SHA256
    assert resolve_model("base") == model_dir


def test_model_names_resolve_to_directories(tmp_path: Path) -> None:
    tiny = resolve_model("tiny.en")
    assert tiny.is_dir() and (tiny / "model.bin").is_file()
    assert resolve_model(str(tiny)) == tiny  # any model directory works
    with pytest.raises(WhisperModelError, match="unknown whisper model"):
        resolve_model("large-v3")  # a hub name must never reach WhisperModel
    with pytest.raises(WhisperModelError, match="no CTranslate2 model.bin"):
        resolve_model(str(tmp_path))


def test_load_model_is_cached_and_picks_cpu_int8_without_a_gpu() -> None:
    if tr.ctranslate2.get_cuda_device_count() > 0:
        pytest.skip("a GPU is present")
    assert tr.resolve_device("auto") == "cpu"
    assert tr.resolve_compute_type("auto", "cpu") == "int8"
    assert tr.resolve_compute_type("auto", "cuda") == "float16"
    assert load_model("tiny.en") is load_model("tiny.en", "cpu", "int8")
