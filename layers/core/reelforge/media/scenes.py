"""Shot boundaries with PySceneDetect's ContentDetector (HSV + edge change between frames).

ffmpeg decodes and shrinks the frames; PySceneDetect only compares them. With PySceneDetect's
PyAV backend, every full-size frame was converted to BGR in Python and then downscaled by
OpenCV: 10 minutes of 1080p30 H.264 cost 83-98 CPU-s (57-66 s wall) on 2 cores, against
50-58 CPU-s (30-35 s) for a plain `ffmpeg -i src -f null -`. Here one single-threaded ffmpeg
child decodes without the deblocking filter (it smooths block edges, which a shot-change
comparison does not need), scales to 256 px wide (what SceneManager's auto-downscale picks)
and pipes raw BGR frames: 51-60 CPU-s (34-39 s wall), 7-9 of them in Python; same cuts.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import IO

import numpy as np
from scenedetect import ContentDetector, FrameTimecode, SceneDetector, SceneManager
from scenedetect.video_stream import SeekError, VideoStream

from reelforge.errors import InvalidMediaError, MediaProcessingError
from reelforge.media.ffmpeg import ffmpeg_exe
from reelforge.media.probe import display_name, probe
from reelforge.models import MediaInfo, Scene

WIDTH = 256  # frames are compared at this width (never upscaled)
_PROGRESS_EVERY_FRAMES = 30
_FALLBACK_FPS = 30.0
_MAX_FPS = 240.0
_LOG_TAGS = re.compile(r"^(\[[^\]]*\]\s*)+")
_LOG_NOISE = re.compile(r"Last message repeated|Task finished|Terminating thread|Conversion failed")


def detect_scenes(
    path: str | Path,
    *,
    threshold: float = 27.0,
    min_scene_len_s: float = 0.6,
    on_progress: Callable[[float], None] | None = None,
) -> list[Scene]:
    """Split a video into shots at hard cuts; the scenes cover 0..duration without gaps.

    A video without cuts is one scene. Rotation metadata is ignored: frames are only compared.
    """
    name = display_name(path)
    info = probe(path)
    if not info.has_video:
        raise InvalidMediaError(f"no video stream in {name}: nothing to split into scenes")

    manager = SceneManager()
    manager.auto_downscale = False  # ffmpeg already scaled the frames
    manager.add_detector(ContentDetector(threshold=threshold, min_scene_len=float(min_scene_len_s)))
    # ffmpeg's stderr goes to a file: a chatty ffmpeg cannot fill a pipe nobody reads and block.
    with tempfile.TemporaryFile() as log, _PipedFrames(path, info, log) as video:
        if on_progress:
            manager.add_detector(_Progress(max(1, video.duration.frame_num), on_progress))
        try:
            manager.detect_scenes(video=video)
        except Exception as exc:  # the decode thread re-raises what read() threw
            raise MediaProcessingError(f"scene detection failed on {name}: {exc}") from exc
        video.check(name)

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


def _ffmpeg_args(path: str, rate: Fraction, size: tuple[int, int]) -> list[str]:
    """Decode the first video stream to `size` BGR frames at a constant `rate` on stdout.

    Constant rate: rawvideo carries no timestamps, so the fps filter puts the frames on a
    1/rate grid from the container start (the timeline `-ss` uses) and frame n is at n/rate,
    as PySceneDetect counts them. CFR sources pass unchanged; a VFR frame lands within half a
    frame of its time (a duplicate scores no change, a drop cannot hide a cut). `-fps_mode cfr`
    would not do: its drop tolerance shifts frames by up to two (measured on a 30/15 fps file).
    The size is explicit, so the frame size is known, whatever the rotation or SAR.
    One decoder thread: decoding, scaling and the Python side already run in parallel; on 2
    cores, ffmpeg's default frame threads cost ~10% more CPU to save ~2 s of ~35 s wall, and
    locally this step shares the cores with transcription.
    """
    w, h = size
    return [
        ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error",
        "-threads", "1", "-skip_loop_filter", "all", "-noautorotate", "-i", path,
        "-map", "0:V:0", "-vf", f"fps={rate}:start_time=0,scale={w}:{h}:flags=area",
        "-fps_mode", "passthrough", "-pix_fmt", "bgr24", "-f", "rawvideo", "pipe:1",
    ]  # fmt: skip


class _PipedFrames(VideoStream):
    """Frames an ffmpeg child decodes and shrinks, read from its stdout; forward only."""

    BACKEND_NAME = "reelforge-ffmpeg-pipe"

    def __init__(self, path: str | Path, info: MediaInfo, log: IO[bytes]):
        super().__init__()
        self._path = str(path)
        fps = info.fps if info.fps and 1.0 <= info.fps <= _MAX_FPS else _FALLBACK_FPS
        self._rate = Fraction(fps).limit_denominator(1000)  # the probe rounds to 0.001
        width, height = info.width or 16, info.height or 9
        w = min(WIDTH, width)
        self._size = (w, max(1, round(height * w / width)))
        self._frame_bytes = self._size[0] * self._size[1] * 3
        self._duration = FrameTimecode(round(info.duration * self._rate), self._rate)
        self._frames = 0
        self._log = log
        try:
            self._proc = subprocess.Popen(
                _ffmpeg_args(self._path, self._rate, self._size),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=log,
            )
        except OSError as exc:
            raise MediaProcessingError(f"cannot start ffmpeg: {exc}") from exc

    def __enter__(self) -> _PipedFrames:
        return self

    def __exit__(self, *exc: object) -> None:
        """Kill ffmpeg if it still runs (an error, or an early stop), and reap it."""
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.wait()
        if self._proc.stdout:
            self._proc.stdout.close()

    def check(self, name: str) -> None:
        """After the last frame: raise if ffmpeg failed, with the tail of what it said."""
        code = self._proc.wait()
        if code == 0:
            return
        said = _last_words(self._log).replace(self._path, name) or f"ffmpeg exit status {code}"
        if self._frames == 0:
            raise InvalidMediaError(f"cannot decode the video of {name}: {said}")
        raise MediaProcessingError(
            f"scene detection failed on {name} after {self._frames} frames: {said}"
        )

    def read(self, decode: bool = True) -> np.ndarray | bool:
        assert self._proc.stdout is not None
        data = self._proc.stdout.read(self._frame_bytes)  # blocks for a whole frame, or EOF
        if len(data) < self._frame_bytes:
            return False
        self._frames += 1
        if not decode:
            return True
        return np.frombuffer(data, np.uint8).reshape(self._size[1], self._size[0], 3)

    @property
    def path(self) -> str:
        return self._path

    @property
    def name(self) -> str:
        return Path(self._path).stem

    @property
    def is_seekable(self) -> bool:
        return False

    @property
    def frame_rate(self) -> Fraction:
        return self._rate

    @property
    def duration(self) -> FrameTimecode:
        return self._duration

    @property
    def frame_size(self) -> tuple[int, int]:
        return self._size

    @property
    def aspect_ratio(self) -> float:
        return 1.0

    @property
    def position(self) -> FrameTimecode:
        return FrameTimecode(max(0, self._frames - 1), self._rate)

    @property
    def position_ms(self) -> float:
        return self.position.seconds * 1000.0

    @property
    def frame_number(self) -> int:
        return self._frames

    def reset(self) -> None:
        raise SeekError("an ffmpeg pipe cannot be rewound")

    def seek(self, target: object) -> None:
        raise SeekError("an ffmpeg pipe cannot seek")


def _last_words(log: IO[bytes]) -> str:
    """ffmpeg's last distinct messages, without `[h264 @ 0x...]` tags and thread chatter."""
    size = log.seek(0, 2)
    log.seek(max(0, size - 8192))
    lines: list[str] = []
    for line in log.read().decode("utf-8", "replace").splitlines():
        line = _LOG_TAGS.sub("", line).strip()
        if line and not _LOG_NOISE.search(line):
            lines = [kept for kept in lines if kept != line] + [line]
    return " | ".join(lines[-3:])


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
