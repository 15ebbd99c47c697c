"""Shot boundaries with PySceneDetect's ContentDetector (HSV + edge change between frames)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from scenedetect import ContentDetector, FrameTimecode, SceneDetector, SceneManager, open_video
from scenedetect.video_stream import VideoOpenFailure

from reelforge.errors import InvalidMediaError, MediaProcessingError
from reelforge.media.probe import display_name, probe
from reelforge.models import Scene

# PyAV with frame threads: ~10% faster than the OpenCV backend on 1080p H.264 (2 cores).
BACKEND = "pyav"
_PROGRESS_EVERY_FRAMES = 30


def detect_scenes(
    path: str | Path,
    *,
    threshold: float = 27.0,
    min_scene_len_s: float = 0.6,
    on_progress: Callable[[float], None] | None = None,
) -> list[Scene]:
    """Split a video into shots at hard cuts; the scenes cover 0..duration without gaps.

    A video without cuts is one scene. Frames are downscaled automatically (about 256 px wide)
    before comparison, which keeps 1080p fast without missing hard cuts.
    """
    name = display_name(path)
    info = probe(path)
    if not info.has_video:
        raise InvalidMediaError(f"no video stream in {name}: nothing to split into scenes")
    try:
        options = {"threading_mode": "AUTO"} if BACKEND == "pyav" else {}
        video = open_video(str(path), backend=BACKEND, **options)
    except VideoOpenFailure as exc:
        raise InvalidMediaError(f"cannot open the video of {name}: {exc}") from exc

    manager = SceneManager()
    manager.auto_downscale = True
    manager.add_detector(ContentDetector(threshold=threshold, min_scene_len=float(min_scene_len_s)))
    if on_progress:
        total = max(1.0, info.duration * float(video.frame_rate))
        manager.add_detector(_Progress(total, on_progress))
    try:
        manager.detect_scenes(video=video)
    except Exception as exc:  # the decode thread re-raises whatever the backend threw
        raise MediaProcessingError(f"scene detection failed on {name}: {exc}") from exc

    duration = info.duration
    shots = manager.get_scene_list(start_in_scene=True)
    scenes = [Scene(start=round(a.seconds, 3), end=round(b.seconds, 3)) for a, b in shots]
    if not scenes:  # no frame decoded at all
        scenes = [Scene(start=0.0, end=round(duration, 3))]
    # Close the cover: the detector's last frame end may differ from the container duration.
    scenes[0] = Scene(start=0.0, end=scenes[0].end)
    scenes[-1] = Scene(start=scenes[-1].start, end=round(max(duration, scenes[-1].start), 3))
    if on_progress:
        on_progress(1.0)
    return scenes


class _Progress(SceneDetector):
    """A detector that finds nothing and reports how far decoding got."""

    def __init__(self, total_frames: float, on_progress: Callable[[float], None]):
        super().__init__()
        self._total = total_frames
        self._on_progress = on_progress

    def process_frame(self, timecode: FrameTimecode, frame_img: np.ndarray) -> list[FrameTimecode]:
        if timecode.frame_num % _PROGRESS_EVERY_FRAMES == 0:
            self._on_progress(min(1.0, timecode.frame_num / self._total))
        return []
