"""Transcript accuracy: word error rate per voice and decoding setting, with its CPU cost.

    .venv/bin/python bench/wer.py [--seconds 250] [--model base]

A known script (the talk of bench/clips.py) is spoken by the Piper voice of the narration
(en_US joe) and by several espeak-ng voices (American, British RP and Caribbean English), so the recording is long enough for the windowed
transcription to cut it at least twice (windows of <= 120 s); each recording is transcribed
by the real `reelforge.media.transcribe.transcribe` with each decoding setting, and the
transcript is compared word by word with the script (tests/speech.py: case, punctuation and
number spelling normalised). It prints the WER and the CPU seconds of each run relative to
the default setting (beam 1, VAD on, each window conditioned on the one before), measured in
the same run. (That no word is lost or doubled at a window seam is asserted word for word in
tests/unit/media/test_transcribe.py.)
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

import mediagen  # noqa: E402
from speech import word_errors  # noqa: E402

VOICES = ("piper-en_US-joe", "en-us", "en-gb-x-rp", "en-029")
SETTINGS = {
    "default (beam 1, vad)": {"beam_size": 1, "vad": True},
    "beam 5, vad": {"beam_size": 5, "vad": True},
    "beam 1, no vad": {"beam_size": 1, "vad": False},
}


def _cpu() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=250.0, help="speech per voice")
    parser.add_argument("--model", default="base")
    parser.add_argument("--voices", default=",".join(VOICES), help="comma-separated, of: " + ", ".join(VOICES))
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    from clips import talk_sentences

    from reelforge.media.transcribe import load_model, transcribe
    from reelforge.media.tts import synthesize

    load_model(args.model, "auto", "auto")  # loaded once, outside the timings
    results = []
    with tempfile.TemporaryDirectory() as scratch:
        sentences = talk_sentences(args.seconds, Path(scratch))
        script = " ".join(sentences)
        for voice in args.voices.split(","):
            if voice.startswith("piper"):
                spoken = synthesize(script, args.out / "wer-piper.wav", voice=voice)
                audio, seconds = spoken.path, spoken.duration
            else:
                talk = mediagen.talk_video(args.out / f"wer-{voice}.mp4", sentences=sentences,
                                           size=(320, 180), fps=10, scene_cut_every_s=None,
                                           face=False, voice=voice)
                audio, seconds = talk.path, talk.duration
            base_cpu = None
            for name, setting in SETTINGS.items():
                c0, t0 = _cpu(), time.perf_counter()
                transcript = transcribe(audio, model=args.model, language="en", **setting)
                cpu, wall = _cpu() - c0, time.perf_counter() - t0
                base_cpu = base_cpu or cpu
                errors, words = word_errors(script, transcript.text)
                results.append({"voice": voice, "setting": name, "wer": errors / words,
                                "errors": errors, "words": words, "cpu_s": cpu, "wall_s": wall,
                                "cpu_vs_default": cpu / base_cpu,
                                "audio_s": seconds})
                print(f"{voice:<11} {name:<22} WER {100 * errors / words:5.1f}%  "
                      f"({errors}/{words} words)  cpu {cpu:6.1f} s ({cpu / base_cpu:4.2f}x)  "
                      f"wall {wall:5.1f} s for {seconds:.0f} s of speech", flush=True)
    print("\nper voice, default setting (what the pipeline runs):")
    for r in results:
        if r["setting"].startswith("default"):
            print(f"  {r['voice']:<11} WER {100 * r['wer']:.1f}%")
    (args.out / "wer.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
