from __future__ import annotations

import hashlib
import re
import tempfile
import threading
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import av.error
import mediagen
import numpy as np
import pytest

from reelforge.errors import InvalidMediaError, MediaProcessingError
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
# About 21 s of speech: three windows of at most WINDOW_S.
LONG_SENTENCES = [
    *SENTENCES,
    "Short clips keep people watching until the end.",
    "Bright colors help the first frame stand out.",
    "Music sets the mood before anyone speaks.",
    "Good captions make silent viewing possible.",
]
WINDOW_S = 8.0
SR = tr.SAMPLE_RATE


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


def test_release_models_drops_the_cached_models() -> None:
    """The embedded runtime releases whisper after transcription (WHISPER_KEEP_LOADED=false)."""
    kept = load_model("tiny.en")
    tr.get_vad_model()
    tr.release_models()
    assert tr._load.cache_info().currsize == 0
    assert tr.get_vad_model.cache_info().currsize == 0
    assert load_model("tiny.en") is not kept  # loaded afresh


# Windowed transcription: long audio goes to whisper in windows cut at the quietest moment.


@pytest.fixture(scope="module")
def long_talk(media_dir: Path) -> mediagen.TalkVideo:
    return mediagen.talk_video(
        media_dir / "long.mp4",
        sentences=LONG_SENTENCES,
        size=(320, 180),
        scene_cut_every_s=None,
        face=False,
    )


@pytest.fixture(scope="module")
def long_audio(long_talk: mediagen.TalkVideo) -> np.ndarray:
    return np.concatenate(list(tr._decode_audio(long_talk.path)))


def _cut_times(audio: np.ndarray, window_s: float) -> list[float]:
    windows = tr.split_windows([audio], round(window_s * SR))
    return [start / SR for start, _ in windows][1:]


def test_audio_streams_as_faster_whisper_decodes_it(
    long_talk: mediagen.TalkVideo, long_audio: np.ndarray
) -> None:
    from faster_whisper import decode_audio

    chunks = list(tr._decode_audio(long_talk.path))
    assert len(chunks) > 1  # a stream of chunks, not the whole file at once
    assert all(c.dtype == np.float32 and c.ndim == 1 for c in chunks)
    np.testing.assert_array_equal(long_audio, decode_audio(str(long_talk.path)))


def test_windows_hold_every_sample_once_and_are_cut_in_pauses(
    long_talk: mediagen.TalkVideo, long_audio: np.ndarray
) -> None:
    window = round(WINDOW_S * SR)
    windows = list(tr.split_windows([long_audio], window))
    assert len(windows) == 3
    starts = [start for start, _ in windows]
    assert starts == [0, *np.cumsum([len(w) for _, w in windows])[:-1]]
    np.testing.assert_array_equal(np.concatenate([w for _, w in windows]), long_audio)
    assert all(window // 2 <= len(w) <= window for _, w in windows[:-1])
    # However the stream is chunked, the windows are the same.
    chunked = tr.split_windows(iter(np.array_split(long_audio, 57)), window)
    assert [(s, len(w)) for s, w in chunked] == [(s, len(w)) for s, w in windows]

    sentences = long_talk.sentences
    for cut in starts[1:]:
        t = cut / SR
        assert any(a.end <= t <= b.start for a, b in pairwise(sentences)), t
        rms = float(np.sqrt(np.mean(long_audio[cut - 800 : cut + 800] ** 2)))
        assert rms < 1e-3, (t, rms)  # the 100 ms around the cut are silent


def test_split_windows_edges() -> None:
    audio = np.ones(1000, np.float32)
    assert [(s, len(w)) for s, w in tr.split_windows([audio], 1000)] == [(0, 1000)]
    assert [(s, len(w)) for s, w in tr.split_windows([audio[:10], audio[:0]], 1000)] == [(0, 10)]
    empty = list(tr.split_windows([], 1000))  # no audio: one empty window, as whisper had
    assert [(s, len(w)) for s, w in empty] == [(0, 0)]
    # Too short to search for a pause: hard cuts at the window length.
    assert [(s, len(w)) for s, w in tr.split_windows([audio], 300)] == [
        (0, 300),
        (300, 300),
        (600, 300),
        (900, 100),
    ]


def test_quietest_cut_finds_the_pause_near_the_end() -> None:
    rng = np.random.default_rng(0)
    audio = (0.3 * rng.standard_normal(60 * SR)).astype(np.float32)
    audio[10 * SR : 12 * SR] = 0.0  # long, but before the last CUT_SEARCH_S seconds
    audio[int(50.2 * SR) : int(50.6 * SR)] *= 0.01  # quiet, not silent
    cut = tr.quietest_cut(audio)
    assert abs(cut - 50.4 * SR) <= 0.05 * SR, cut / SR

    audio[int(45.0 * SR) : int(45.3 * SR)] = 0.0
    audio[int(55.0 * SR) : int(55.8 * SR)] = 0.0  # the longest silence wins
    assert abs(tr.quietest_cut(audio) - 55.4 * SR) <= 0.05 * SR

    short = audio[: 4 * SR].copy()
    short[int(0.5 * SR) : int(1.5 * SR)] = 0.0  # a window searches its second half at most
    assert 2 * SR <= tr.quietest_cut(short) <= 4 * SR
    assert tr.quietest_cut(audio[:3000]) == 3000  # no room to search: no cut inside
    assert 0 < tr.quietest_cut(np.zeros(30 * SR, np.float32)) < 30 * SR


def _word(word: str, start: float, end: float) -> SimpleNamespace:
    return SimpleNamespace(word=word, start=start, end=end, probability=0.9)


def _piece(
    text: str, start: float, end: float, words: list[SimpleNamespace], **kw: Any
) -> SimpleNamespace:
    return SimpleNamespace(text=text, start=start, end=end, words=words, **kw)


def test_place_keeps_times_monotonic_and_inside_the_window() -> None:
    # A window from 10 s to 18 s; what was kept before ended at 10.3 s.
    piece = _piece(
        " One two three four.",
        0.1,
        8.4,
        [
            _word(" One", 0.1, 0.5),  # starts before the previous segment's end
            _word(" two", 0.4, 0.9),  # starts before the previous word's end
            _word(" three", 7.6, 8.3),  # ends after the window
            _word(" four.", 8.0, 8.4),  # starts at the window's end: no audio for it
        ],
    )
    seg = tr._place(piece, 10.0, 18.0, 10.3)
    assert seg is not None
    assert [(w.word, w.start, w.end) for w in seg.words] == [
        ("One", 10.3, 10.5),
        ("two", 10.5, 10.9),
        ("three", 17.6, 18.0),
    ]
    assert (seg.start, seg.end, seg.text) == (10.3, 18.0, "One two three")

    beyond = _piece(" Gone.", 8.1, 8.5, [_word(" Gone.", 8.1, 8.5)])
    assert tr._place(beyond, 10.0, 18.0, 10.0) is None
    wordless = tr._place(_piece(" Hm.", 0.0, 9.0, []), 10.0, 18.0, 10.2)
    assert wordless is not None and (wordless.start, wordless.end) == (10.2, 18.0)


class _FakeWhisper:
    """Answers each window with `replies[i]`: (language, probability, pieces)."""

    def __init__(self, replies: list[tuple[str, float, list[SimpleNamespace]]]) -> None:
        self.replies = replies
        self.calls: list[tuple[int, dict[str, Any]]] = []

    def transcribe(self, audio: np.ndarray, **kw: Any) -> tuple[Any, Any]:
        self.calls.append((len(audio), kw))
        language, probability, pieces = self.replies[len(self.calls) - 1]
        meta = SimpleNamespace(
            language=kw["language"] or language, language_probability=probability
        )
        return iter(pieces), meta


def test_windows_chain_language_prompt_offsets_and_progress(
    long_talk: mediagen.TalkVideo, long_audio: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    tokens = list(range(1000, 1100))
    fake = _FakeWhisper(
        [
            ("cy", 0.3, []),  # no speech: neither language nor prompt is settled
            ("en", 0.9, [_piece(" Hello.", 1.0, 2.0, [_word(" Hello.", 1.0, 2.0)],
                                tokens=tokens, temperature=0.0)]),
            ("fr", 0.8, [_piece(" Bye.", 0.5, 1.0, [_word(" Bye.", 0.5, 1.0)],
                                tokens=[7], temperature=0.0)]),
        ]
    )  # fmt: skip
    monkeypatch.setattr(tr, "load_model", lambda *a, **kw: fake)
    progress: list[float] = []
    result = transcribe(long_talk.path, window_s=WINDOW_S, on_progress=progress.append)

    cuts = _cut_times(long_audio, WINDOW_S)
    assert [n for n, _ in fake.calls] == [
        round(b * SR) - round(a * SR)
        for a, b in zip([0.0, *cuts], [*cuts, len(long_audio) / SR], strict=True)
    ]
    kws = [kw for _, kw in fake.calls]
    assert [kw["language"] for kw in kws] == [None, None, "en"]
    assert [kw["initial_prompt"] for kw in kws] == [None, None, tokens[-tr.PROMPT_TOKENS :]]
    assert all(kw["word_timestamps"] and kw["vad_filter"] and kw["beam_size"] == 1 for kw in kws)
    assert (result.language, result.language_probability) == ("en", 0.9)
    assert [(s.start, s.end, s.text) for s in result.segments] == [
        (round(cuts[0] + 1.0, 3), round(cuts[0] + 2.0, 3), "Hello."),
        (round(cuts[1] + 0.5, 3), round(cuts[1] + 1.0, 3), "Bye."),
    ]
    assert result.duration == round(len(long_audio) / SR, 3)
    assert progress == sorted(progress) and progress[-1] == 1.0
    assert 0.0 < progress[0] < 0.5

    fake = _FakeWhisper([("de", 1.0, [])] * 3)
    monkeypatch.setattr(tr, "load_model", lambda *a, **kw: fake)
    result = transcribe(long_talk.path, language="de", window_s=WINDOW_S)
    assert [kw["language"] for _, kw in fake.calls] == ["de"] * 3
    assert result.language == "de" and result.segments == []


def test_decode_errors_are_media_processing_errors(
    long_talk: mediagen.TalkVideo, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(path: Any) -> Iterator[np.ndarray]:
        yield np.zeros(SR, np.float32)
        raise av.error.InvalidDataError(1094995529, "Invalid data found when processing input")

    monkeypatch.setattr(tr, "_decode_audio", broken)
    monkeypatch.setattr(tr, "load_model", lambda *a, **kw: _FakeWhisper([("en", 1.0, [])] * 2))
    with pytest.raises(MediaProcessingError, match="cannot decode the audio of long.mp4"):
        transcribe(long_talk.path, window_s=0.5)
    with pytest.raises(ValueError, match="window_s"):
        transcribe(long_talk.path, window_s=0)


@pytest.mark.slow
def test_short_windows_keep_every_word_once_in_order(
    long_talk: mediagen.TalkVideo, long_audio: np.ndarray
) -> None:
    progress: list[float] = []
    result = transcribe(
        long_talk.path, model="tiny.en", window_s=WINDOW_S, on_progress=progress.append
    )
    assert result.duration == pytest.approx(long_talk.duration, abs=0.1)
    _assert_words_are_sane(result, long_talk.duration)
    words = result.words()
    for w1, w2 in pairwise(words):
        assert w1.end <= w2.start, (w1, w2)
    for s1, s2 in pairwise(result.segments):
        assert s1.end <= s2.start, (s1, s2)

    expected = _words(long_talk.text)
    heard = _words(" ".join(w.word for w in words))
    # Nothing doubled or lost: word for word the script, but for a few misheard words.
    assert len(heard) == len(expected), heard
    assert sum(a != b for a, b in zip(heard, expected, strict=True)) <= 3, heard

    cuts = _cut_times(long_audio, WINDOW_S)
    assert len(cuts) == 2
    for t in cuts:
        assert not [w for w in words if w.start < t < w.end], t  # no word spans a cut
        said = sum(len(_words(s.text)) for s in long_talk.sentences if s.end <= t)
        assert len(_words(" ".join(w.word for w in words if w.end <= t))) == said, t

    assert progress == sorted(progress) and progress[-1] == 1.0
    assert len(progress) > 3 and all(0.0 < p <= 1.0 for p in progress)
