"""Narration voices: Piper's neural English voice and espeak-ng for the other languages, heard
back through whisper."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest
from speech import word_error_rate

from reelforge.media.transcribe import transcribe
from reelforge.media.tts import LANGUAGES, PIPER_EN, get_voice, synthesize, voices_for

SCRIPT = ("Here is the biggest mistake people make with thumbnails, and nobody talks about it. "
          "Why do twenty three percent of small channels get it wrong?")


def _loudness(path: Path) -> float:
    with wave.open(str(path), "rb") as w:
        pcm = np.frombuffer(w.readframes(w.getnframes()), np.int16).astype(float)
    return float(np.sqrt(np.mean(pcm**2)))


def test_piper_speaks_english_that_whisper_hears_back(tmp_path: Path) -> None:
    speech = synthesize(SCRIPT, tmp_path / "line.wav")
    assert speech.voice == PIPER_EN.id and speech.sample_rate == 22050
    words = len(SCRIPT.split())
    assert 0.25 < speech.duration / words < 0.6  # a natural speaking rate, not silence or noise
    assert _loudness(speech.path) > 500
    heard = transcribe(speech.path, model="tiny.en", language="en").text
    assert word_error_rate(SCRIPT, heard) <= 0.10, heard


def test_speed_changes_the_length(tmp_path: Path) -> None:
    normal = synthesize(SCRIPT, tmp_path / "a.wav").duration
    fast = synthesize(SCRIPT, tmp_path / "b.wav", speed=1.25).duration
    assert normal / 1.4 < fast < normal * 0.95  # speech shortens; pauses between sentences less


def test_every_seed_language_has_a_voice_and_espeak_speaks_hindi(tmp_path: Path) -> None:
    for language in ("english", "hindi", "kannada", "telugu", "tamil", "bengali", "gujarati",
                     "malayalam", "marathi", "odia", "punjabi"):
        assert language in LANGUAGES and voices_for(language)
    assert voices_for("english")[0] == PIPER_EN  # the neural voice first
    speech = synthesize("नमस्ते, आज हम छोटे वीडियो के बारे में बात करेंगे।", tmp_path / "hi.wav",
                        language="hindi")
    assert speech.voice == "espeak-hi" and speech.duration > 1.0 and _loudness(speech.path) > 300


def test_bad_requests_name_what_exists(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="voices: piper-en_US-joe"):
        get_voice("nobody")
    with pytest.raises(ValueError, match="languages: english"):
        get_voice(None, "klingon")
    with pytest.raises(ValueError, match="empty"):
        synthesize("   ", tmp_path / "x.wav")
    with pytest.raises(ValueError, match="speed"):
        synthesize("hi", tmp_path / "x.wav", speed=5)
