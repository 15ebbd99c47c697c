"""Run bench/clips.py with candidate fixes patched in, to measure them before anyone edits core.

    .venv/bin/python bench/experiment_clips.py --fix scdet,trim,faces,whisper-windows [clips.py flags]

Each fix is a monkeypatch of this process only (nothing on disk changes):

- `scdet`: scene detection by ffmpeg's `scdet` filter on 256-px frames with deblocking
  skipped, instead of PySceneDetect decoding full-size BGR frames through PyAV;
- `trim`: `malloc_trim(0)` after every embedded Lambda invocation, so heap freed by one step
  is given back before the next (all steps share this one process locally);
- `faces`: face sampling at 480 px wide instead of 640;
- `whisper-windows`: transcription in windows of at most 120 s cut at the quietest moment,
  so whisper's whole-file spectrogram (~1 MB per second of audio) is never built.
"""

from __future__ import annotations

import argparse
import ctypes
import functools
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import clips  # noqa: E402

FIXES = ("scdet", "trim", "faces", "whisper-windows")


def scdet_scenes(
    path: str | Path, *, threshold: float = 10.0, min_scene_len_s: float = 0.6, **_: Any
) -> list[Any]:
    from reelforge.media.ffmpeg import ffmpeg_exe
    from reelforge.media.probe import probe
    from reelforge.models import Scene

    duration = probe(path).duration
    cmd = [
        ffmpeg_exe(), "-hide_banner", "-nostdin", "-skip_loop_filter", "all", "-i", str(path),
        "-map", "0:v:0", "-vf", f"scale=256:-2:flags=area,scdet=threshold={threshold}",
        "-f", "null", "-",
    ]  # fmt: skip
    err = subprocess.run(cmd, capture_output=True, text=True, check=True).stderr
    cuts: list[float] = []
    for t in map(float, re.findall(r"lavfi\.scd\.time: ([\d.]+)", err)):
        if (not cuts or t - cuts[-1] >= min_scene_len_s) and 0 < t < duration:
            cuts.append(t)
    bounds = [0.0, *cuts, duration]
    return [
        Scene(start=round(a, 3), end=round(b, 3)) for a, b in zip(bounds, bounds[1:], strict=False)
    ]


def windowed_transcribe(
    original: Callable[..., Any], window_s: float = 120.0
) -> Callable[..., Any]:
    @functools.wraps(original)
    def transcribe(path: str | Path, *, model: str = "base", device: str = "auto",
                   compute_type: str = "auto", beam_size: int = 1, language: str | None = None,
                   vad: bool = True, on_progress: Callable[[float], None] | None = None,
                   cache_dir: str | Path | None = None) -> Any:  # fmt: skip
        from faster_whisper import decode_audio

        from reelforge.media.transcribe import load_model
        from reelforge.models import Segment, Transcript, Word

        whisper = load_model(model, device, compute_type, cache_dir=cache_dir)
        sr = 16000
        audio = decode_audio(str(path), sampling_rate=sr)
        total = len(audio) / sr
        segments: list[Any] = []
        lang, prob, start = language, 0.0, 0
        while start < len(audio):
            end = min(len(audio), start + int(window_s * sr))
            if end < len(audio):  # cut at the quietest 100 ms of the window's last 20 s
                power = np.concatenate([[0.0], np.cumsum(audio[end - 20 * sr : end] ** 2)])
                energy = (power[1600:] - power[:-1600])[::160]  # 100 ms windows, 10 ms apart
                end = end - 20 * sr + int(np.argmin(energy)) * 160 + 800
            pieces, meta = whisper.transcribe(
                audio[start:end], language=lang, beam_size=beam_size, word_timestamps=True,
                vad_filter=vad,
            )  # fmt: skip
            off = start / sr
            for seg in pieces:
                segments.append(Segment(
                    start=round(seg.start + off, 3), end=round(seg.end + off, 3),
                    text=seg.text.strip(),
                    words=[Word(word=w.word.lstrip(), start=round(w.start + off, 3),
                                end=round(w.end + off, 3), probability=round(w.probability, 4))
                           for w in seg.words or []],
                ))  # fmt: skip
            if lang is None:
                lang, prob = meta.language, meta.language_probability
            if on_progress:
                on_progress(min(1.0, end / len(audio)))
            start = end
        return Transcript(language=lang or "en", language_probability=round(prob, 4),
                          duration=round(total, 3), segments=segments, model=model)  # fmt: skip

    return transcribe


def apply(fixes: set[str]) -> None:
    if "scdet" in fixes:
        import reelforge.media.scenes as scenes

        scenes.detect_scenes = scdet_scenes
    if "trim" in fixes:
        from reelforge.local.runtime import EmbeddedAWS

        libc = ctypes.CDLL("libc.so.6")
        invoke = EmbeddedAWS._invoke_for_moto

        def trimmed(self: Any, function_name: str, event: Any) -> Any:
            try:
                return invoke(self, function_name, event)
            finally:
                libc.malloc_trim(0)

        EmbeddedAWS._invoke_for_moto = trimmed  # type: ignore[method-assign]
    if "faces" in fixes:
        import reelforge.media.reframe as reframe

        reframe.detect_faces = functools.partial(reframe.detect_faces, width=480)
    if "whisper-windows" in fixes:
        import reelforge.media.transcribe as tr

        tr.transcribe = windowed_transcribe(tr.transcribe)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], add_help=False)
    parser.add_argument("--fix", default=",".join(FIXES), help=f"comma list of {FIXES}")
    args, rest = parser.parse_known_args()
    fixes = {f for f in args.fix.split(",") if f}
    unknown = fixes - set(FIXES)
    if unknown:
        parser.error(f"unknown fixes {sorted(unknown)}; choose from {FIXES}")
    apply(fixes)
    if "whisper-windows" in fixes:  # the floor stays plain transcription
        import reelforge.media.transcribe as tr

        windowed, plain = tr.transcribe, tr.transcribe.__wrapped__
        measure = clips.measure_floor

        def measure_floor(*a: Any, **kw: Any) -> Any:
            tr.transcribe = plain
            try:
                return measure(*a, **kw)
            finally:
                tr.transcribe = windowed

        clips.measure_floor = measure_floor
    print(f"experiment: patched in {sorted(fixes)}", flush=True)
    return clips.main(rest)


if __name__ == "__main__":
    sys.exit(main())
