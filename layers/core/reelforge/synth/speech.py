"""A slide's narration as speech: offline (Piper, espeak-ng) or Gemini TTS.

    speech, note = speak("Short clips work.", out, language="english", voice=None,
                         provider="gemini", api_key=key)

Gemini TTS answers raw 16-bit mono PCM (24 kHz), written here as a WAV; its words are timed
like espeak-ng's, by sharing the voiced span in proportion to their letters. Not every key
may use the TTS model: when Gemini refuses it (a rejected key, an unknown model, a refused
request: `ProviderError`), or answers without audio, the slide is narrated offline and the
note says so, so one slide never fails a whole video over a voice. Throttling, 5xx and
timeouts (`TransientError`) propagate: the state machine retries them.
"""

from __future__ import annotations

import logging
import re
import wave
from pathlib import Path

import numpy as np

from reelforge.errors import ProviderError, short_error
from reelforge.media import tts
from reelforge.media.tts import Speech

log = logging.getLogger(__name__)

PROVIDERS = ("local", "gemini")
TTS_MODEL = "gemini-2.5-flash-preview-tts"
GEMINI_VOICE = "Kore"
PCM_RATE = 24_000  # Gemini TTS's rate when the MIME type does not name one
_RATE = re.compile(r"rate=(\d+)")


def speak(text: str, out: Path, *, language: str, voice: str | None, provider: str,
          api_key: str | None, base_url: str | None = None,
          timeout_s: float = 120) -> tuple[Speech, str | None]:
    """Narrate `text` into the WAV `out`; the note says when Gemini was replaced by a local voice.

    `voice` is a local voice id (media.tts VOICES): what the offline route speaks with; Gemini
    speaks with its own voice, reported as "gemini-Kore".
    """
    out = Path(out)
    if provider == "local":
        return tts.synthesize(text, out, voice=voice, language=language), None
    if provider != "gemini":
        raise ValueError(f"unknown speech provider {provider!r}; valid names: {', '.join(PROVIDERS)}")
    text = " ".join(text.split())
    if not text:
        raise ValueError("nothing to say: the text is empty")
    try:
        pcm, rate, missing = _gemini_pcm(text, api_key, base_url, timeout_s)
    except ProviderError as exc:
        reason = f"unavailable with this key ({short_error(exc)})" if api_key else f"unavailable ({short_error(exc)})"
        return _offline(text, out, voice, language, f"Gemini TTS {reason}")
    if missing:
        return _offline(text, out, voice, language, f"Gemini TTS returned no audio ({missing})")
    return _write_pcm(text, out, pcm, rate), None


def _gemini_pcm(text: str, api_key: str | None, base_url: str | None,
                timeout_s: float) -> tuple[bytes, int, str | None]:
    """Gemini's audio for `text`: PCM bytes, its rate, and why there is none (else None)."""
    # Imported here: google-genai takes ~0.8 s to import, which the offline path never needs.
    from google.genai import types

    from reelforge.ai.genai_client import GenaiJsonClient, empty_reason

    caller = GenaiJsonClient(api_key or "", model=TTS_MODEL, base_url=base_url, timeout_s=timeout_s)
    config = types.GenerateContentConfig(
        response_modalities=["AUDIO"],
        speech_config=types.SpeechConfig(voice_config=types.VoiceConfig(
            prebuilt_voice_config=types.PrebuiltVoiceConfig(voice_name=GEMINI_VOICE))))
    # The shared client's error mapping (TransientError / ProviderError, key scrubbed).
    with caller.named_errors():
        response = caller.client.models.generate_content(model=TTS_MODEL, contents=text, config=config)
    chunks, rate = [], PCM_RATE
    for candidate in (response.candidates or [])[:1]:
        for part in (candidate.content.parts if candidate.content else None) or []:
            blob = part.inline_data
            if blob and blob.data and (blob.mime_type or "").lower().startswith(("audio/l16", "audio/pcm")):
                found = _RATE.search(blob.mime_type or "")
                rate = int(found.group(1)) if found else rate
                chunks.append(blob.data)
    pcm = b"".join(chunks)
    pcm = pcm[: len(pcm) // 2 * 2]
    if pcm:
        return pcm, rate, None
    return b"", rate, empty_reason(response) or "no 16-bit PCM audio in the answer"


def _write_pcm(text: str, out: Path, pcm: bytes, rate: int) -> Speech:
    """The WAV at `out`, its words sharing the voiced span by letters (as tts does for espeak)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(out), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(pcm)
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0
    return Speech(out, len(samples) / rate, rate, f"gemini-{GEMINI_VOICE}", tts.time_words(samples, rate, text))


def _offline(text: str, out: Path, voice: str | None, language: str, why: str) -> tuple[Speech, str]:
    speech = tts.synthesize(text, out, voice=voice, language=language)
    note = f"{why}: narrated offline with {speech.voice}"
    log.warning(note)  # the reason comes from the shared mapping: the key is already scrubbed
    return speech, note

