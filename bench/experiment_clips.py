"""Run bench/clips.py with candidate fixes patched in, to measure them before anyone edits core.

    .venv/bin/python bench/experiment_clips.py --fix scdet [clips.py flags]

Each fix is a monkeypatch of this process only (nothing on disk changes):

- `scdet`: scene detection by ffmpeg's `scdet` filter on 256-px frames, instead of
  PySceneDetect's ContentDetector on the same ffmpeg-shrunk frames (the issue names
  PySceneDetect; this measures what dropping it would save).

Fixes measured here earlier and since merged into core: windowed transcription, malloc_trim
after each embedded invocation, 480 px face sampling.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import clips  # noqa: E402

FIXES = ("scdet",)


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


def apply(fixes: set[str]) -> None:
    if "scdet" in fixes:
        import reelforge.media.scenes as scenes

        scenes.detect_scenes = scdet_scenes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], add_help=False)
    parser.add_argument("--fix", default=",".join(FIXES), help=f"comma list of {FIXES}")
    args, rest = parser.parse_known_args()
    fixes = {f for f in args.fix.split(",") if f}
    unknown = fixes - set(FIXES)
    if unknown:
        parser.error(f"unknown fixes {sorted(unknown)}; choose from {FIXES}")
    apply(fixes)
    print(f"experiment: patched in {sorted(fixes)}", flush=True)
    return clips.main(rest)


if __name__ == "__main__":
    sys.exit(main())
