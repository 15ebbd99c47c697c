"""The ffmpeg binary shipped by imageio-ffmpeg, and one way to run it."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path

import imageio_ffmpeg

from reelforge.errors import MediaProcessingError

_TIME_RE = re.compile(rb"out_time_us=(\d+)")


@lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    return imageio_ffmpeg.get_ffmpeg_exe()


def run_ffmpeg(
    args: Sequence[str | Path],
    *,
    duration: float | None = None,
    on_progress: Callable[[float], None] | None = None,
    timeout: float | None = None,
) -> None:
    """Run ffmpeg with `args` (without the binary); raise MediaProcessingError with its stderr tail.

    With `duration` and `on_progress`, reports the fraction done (0..1) as ffmpeg encodes.
    """
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", "-loglevel", "error"]
    if on_progress and duration:
        cmd += ["-progress", "pipe:1", "-nostats"]
    cmd += [str(a) for a in args]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if on_progress and duration and proc.stdout:
        for line in proc.stdout:
            m = _TIME_RE.match(line)
            if m:
                on_progress(min(1.0, int(m.group(1)) / 1e6 / duration))
    try:
        _, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        proc.kill()
        raise MediaProcessingError(f"ffmpeg timed out after {timeout}s") from exc
    if proc.returncode != 0:
        tail = stderr.decode("utf-8", "replace").strip().splitlines()[-5:]
        raise MediaProcessingError("ffmpeg failed: " + " | ".join(tail))
