"""What every media tool needs to know about a source video, and how ffmpeg should open it.

    video = probe_video("talk.mp4")   # VideoSource(width=1920, height=1080, fps=25.0, ...)
    args = [*input_options(url), "-i", url]
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av

from reelforge.errors import InvalidMediaError
from reelforge.media.probe import DEFAULT_TIMEOUT_S, display_name, is_url, probe


@dataclass(frozen=True)
class VideoSource:
    """What reframing needs to know about a source, in display orientation (rotation applied)."""

    width: int
    height: int
    duration: float
    fps: float
    sar: float = 1.0
    rotation: int = 0
    has_audio: bool = False

    @property
    def display_aspect(self) -> float:
        return self.width * self.sar / self.height



def probe_video(source: str | Path) -> VideoSource:
    """Size, rate and rotation as ffmpeg will present the frames (autorotated).

    `probe` does the checking (local file or http(s) URL, timeouts, named errors); only the
    sample aspect ratio, which `MediaInfo` does not carry, needs a second, best-effort look.
    """
    info = probe(source)
    if not info.has_video or not info.width or not info.height:
        raise InvalidMediaError(f"{display_name(source)}: no video stream")
    width, height, sar = info.width, info.height, _sample_aspect(source)
    if info.rotation % 180 == 90:
        width, height, sar = height, width, 1.0 / sar
    return VideoSource(
        width, height, info.duration, info.fps or 30.0, sar, info.rotation, info.has_audio
    )


def input_options(source: str | Path) -> list[str]:
    """ffmpeg input options for a URL: a stalled read fails after the probe's timeout."""
    return ["-rw_timeout", str(int(DEFAULT_TIMEOUT_S * 1e6))] if is_url(source) else []


def _sample_aspect(source: str | Path) -> float:
    """Pixel aspect of the first real video stream; 1.0 when unknown (almost every source)."""
    try:
        options = {"timeout": (DEFAULT_TIMEOUT_S, DEFAULT_TIMEOUT_S)} if is_url(source) else {}
        with av.open(str(source), **options) as container:
            for stream in container.streams.video:
                if stream.disposition & av.stream.Disposition.attached_pic:
                    continue
                sar = stream.sample_aspect_ratio
                return float(sar) if sar and 0.1 < float(sar) < 10 else 1.0
    except av.FFmpegError:
        pass
    return 1.0
