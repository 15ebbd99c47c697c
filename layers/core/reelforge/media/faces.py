"""Faces in video frames, sampled cheaply enough for a Lambda.

    for sample in detect_faces("talk.mp4", start=61.0, end=92.5, shot_starts=[70.2]):
        sample.t, sample.faces  # clip seconds; faces normalised to the frame (0..1)

Faces come from OpenCV's Haar cascades on frames decoded small (deblocking and non-reference
frames skipped) by one ffmpeg process; a lone face is re-found near where it was between
full searches (`track_face`). Samples fall on a grid that restarts at every shot: the first
frame of each shot is always looked at, so a camera can be right from a cut's first frame.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from reelforge.errors import MediaProcessingError
from reelforge.media.ffmpeg import ffmpeg_exe
from reelforge.media.probe import display_name
from reelforge.media.source import VideoSource, input_options, probe_video


@dataclass(frozen=True)
class Face:
    """A detected face, normalised to the frame (0..1) so it is independent of the sample size."""

    cx: float
    cy: float
    w: float
    h: float


@dataclass(frozen=True)
class FaceSample:
    t: float  # seconds from the clip start
    faces: tuple[Face, ...] = ()


# Frames are decoded this wide and searched at COARSE_WIDTH first. Haar's frontal cascade
# needs ~40 px for a steady detection: at 640 px (360 tall) a face 8% of the frame tall (a
# speaker on a stage, a picture-in-picture box) was missed in every sample of
# bench/reframe.py, at 960 px found in every one. A full search at 960 px costs 1.4-2.3x one
# at 640, so only small faces are looked for at 960 px, and only where 640 px found nobody,
# on every FULL_SEARCH_EVERY-th sample and at each shot's start.
SAMPLE_WIDTH = 960
COARSE_WIDTH = 640
SMALL_FACE_MAX = 72  # px at SAMPLE_WIDTH: bigger faces are found at COARSE_WIDTH


@lru_cache(maxsize=4)
def _cascade(name: str) -> cv2.CascadeClassifier:
    cascade = cv2.CascadeClassifier(str(Path(cv2.data.haarcascades) / name))
    if cascade.empty():
        raise MediaProcessingError(f"OpenCV Haar cascade {name} not found")
    return cascade


def _sample_size(src: VideoSource, width: int) -> tuple[int, int]:
    w = min(width, src.width)
    w -= w % 2
    h = max(2, round(w / src.display_aspect / 2) * 2)
    return max(2, w), h


def _detect(cascade: cv2.CascadeClassifier, gray: np.ndarray, **kw: object) -> list[tuple]:
    boxes, _levels, weights = cascade.detectMultiScale3(gray, outputRejectLevels=True, **kw)
    return [(*map(int, b), float(w)) for b, w in zip(boxes, np.ravel(weights), strict=False)]


def detect_small_faces(gray: np.ndarray, max_side: int = SMALL_FACE_MAX) -> tuple[Face, ...]:
    """Frontal faces no taller than `max_side` px: the ones a coarser search cannot see."""
    fh, fw = gray.shape[:2]
    min_side = max(20, int(0.05 * fh))
    if max_side <= min_side:
        return ()
    boxes = _detect(_cascade("haarcascade_frontalface_default.xml"), gray, scaleFactor=1.1,
                    minNeighbors=5, minSize=(min_side, min_side), maxSize=(max_side, max_side))
    if not boxes:
        return ()
    best = max(b[4] for b in boxes)
    return tuple(Face((x + w / 2) / fw, (y + h / 2) / fh, w / fw, h / fh)
                 for x, y, w, h, score in boxes if score >= 0.3 * best)


def detect_faces_in(gray: np.ndarray, *, profile: bool = True) -> tuple[Face, ...]:
    """Faces in one grayscale frame; profiles (both sides) only when no frontal face is found.

    Detections far weaker than the frame's best one (the cascade's final-stage weight) are
    dropped: Haar likes collars and logos next to a real face, and those pull the camera.
    """
    fh, fw = gray.shape[:2]
    min_side = max(20, int(0.05 * fh))
    kw = {"scaleFactor": 1.1, "minNeighbors": 5, "minSize": (min_side, min_side)}
    boxes = _detect(_cascade("haarcascade_frontalface_default.xml"), gray, **kw)
    if not boxes and profile:
        side = _cascade("haarcascade_profileface.xml")
        boxes = _detect(side, gray, **kw)
        boxes += [
            (fw - x - w, y, w, h, s) for x, y, w, h, s in _detect(side, cv2.flip(gray, 1), **kw)
        ]
    if not boxes:
        return ()
    best = max(b[4] for b in boxes)
    return tuple(
        Face((x + w / 2) / fw, (y + h / 2) / fh, w / fw, h / fh)
        for x, y, w, h, score in boxes
        if score >= 0.3 * best
    )


# Between full searches, a lone face is looked for only around where it was, at sizes
# near its own: a fraction of a full search's cost. A full search every few samples still
# notices a second person walking in (at 3 fps: within a second).
FULL_SEARCH_EVERY = 3


def track_face(gray: np.ndarray, last: Face) -> tuple[Face, ...]:
    """The frontal face near `last` (one face-size around it, 0.7-1.4x its size), or ()."""
    fh, fw = gray.shape[:2]
    side = max(last.w * fw, last.h * fh)
    x0, x1 = max(0, int(last.cx * fw - 1.5 * side)), min(fw, int(last.cx * fw + 1.5 * side))
    y0, y1 = max(0, int(last.cy * fh - 1.5 * side)), min(fh, int(last.cy * fh + 1.5 * side))
    lo, hi = max(20, int(0.7 * side)), int(1.4 * side) + 1
    if x1 - x0 < lo or y1 - y0 < lo or hi <= lo:
        return ()
    boxes = _detect(_cascade("haarcascade_frontalface_default.xml"), gray[y0:y1, x0:x1],
                    scaleFactor=1.1, minNeighbors=5, minSize=(lo, lo), maxSize=(hi, hi))
    if not boxes:
        return ()
    x, y, w, h, _score = max(boxes, key=lambda b: b[4])
    return (Face((x0 + x + w / 2) / fw, (y0 + y + h / 2) / fh, w / fw, h / fh),)


def sample_times(duration: float, *, fps: float, shot_starts: Iterable[float] = (),
                 frame_rate: float = 30.0) -> list[float]:
    """Clip times to look at: every 1/fps s, restarting at each shot's first frame, plus each
    shot's last frame (so a pan is measured to the end of its shot, not extrapolated).

    A grid point closer than two frames to the next shot's start is dropped, so two wanted
    times never map to the same decoded frame."""
    half = 0.5 / frame_rate
    starts = sorted({0.0, *(s for s in shot_starts if 2 * half < s < duration - 2 * half)})
    times: list[float] = []
    for a, b in zip(starts, [*starts[1:], duration], strict=True):
        k = 0
        while (t := a + k / fps) < b - 4 * half or k == 0:
            times.append(round(t + (half if k == 0 and a > 0 else 0.0), 4))
            k += 1
        last = round(b - 3 * half, 4)  # selects the shot's last frame
        if last - times[-1] > 4 * half:
            times.append(last)
    return times


def _select_expression(times: list[float]) -> str:
    """ffmpeg `select`: the first frame at or after each wanted time, once."""
    terms = [f"isnan(prev_selected_t)*gte(t,{times[0]:.4f})"]
    terms += [f"gte(t,{t:.4f})*lt(prev_selected_t,{t:.4f})" for t in times[1:]]
    return _balanced_sum(terms)


def _balanced_sum(terms: list[str]) -> str:
    """`a+b+c+...` as a balanced tree of sums: ffmpeg's expression parser recurses per operator
    and refuses ~100 levels (a 35 s clip sampled 3 times a second failed with ENOMEM)."""
    if len(terms) <= 2:
        return "+".join(terms)
    mid = len(terms) // 2
    return f"({_balanced_sum(terms[:mid])})+({_balanced_sum(terms[mid:])})"


def detect_faces(
    source: str | Path,
    *,
    start: float,
    end: float,
    fps: float = 3.0,
    width: int = SAMPLE_WIDTH,
    profile: bool = True,
    video: VideoSource | None = None,
    shot_starts: Iterable[float] = (),
) -> Iterator[FaceSample]:
    """Yield the faces in [start, end) of `source` at `sample_times` (clip seconds).

    `shot_starts` are clip times where a shot begins (scene cuts). With `profile`, a sample
    right after one with a face also looks for profiles. One ffmpeg process decodes, picks
    the wanted frames and shrinks them to `width`: the frames are autorotated exactly like
    the render sees them.
    """
    video = video or probe_video(source)
    duration = max(0.0, end - start)
    times = sample_times(duration, fps=fps, shot_starts=shot_starts, frame_rate=video.fps or 30.0)
    sw, sh = _sample_size(video, width)
    cw, ch = _sample_size(video, min(width, COARSE_WIDTH))
    cmd = [
        ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error",
        *input_options(source),
        # sampling needs no exact frame: skipping non-reference frames and the deblocking
        # filter halves the decode cost of a 1080p source
        "-skip_frame:v", "noref", "-skip_loop_filter:v", "all",
        "-ss", f"{start:.3f}", "-t", f"{duration:.3f}", "-i", str(source),
        "-map", "0:v:0", "-an", "-sn",
        "-vf", f"select='{_select_expression(times)}',scale={sw}:{sh}:flags=area",
        "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "gray", "pipe:1",
    ]  # fmt: skip
    frame_bytes = sw * sh
    i = 0
    # stderr goes to a file, not a pipe: a chatty ffmpeg cannot block the frame reads
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errors)
        assert proc.stdout is not None
        drained = seen_face = False
        faces: tuple[Face, ...] = ()
        shots = set(times[:1]) | {t for t in times if any(abs(t - s) < 1 / fps for s in shot_starts)}
        try:
            while i < len(times) and len(buf := proc.stdout.read(frame_bytes)) == frame_bytes:
                fine = np.frombuffer(buf, np.uint8).reshape(sh, sw)
                coarse = cv2.resize(fine, (cw, ch), interpolation=cv2.INTER_AREA) if cw < sw else fine
                # a new shot, or every FULL_SEARCH_EVERY samples: look everywhere
                full = i % FULL_SEARCH_EVERY == 0 or times[i] in shots
                faces = () if full or len(faces) != 1 else track_face(
                    fine if faces[0].h * ch < 40 else coarse, faces[0])
                if not faces:
                    # profiles only bridge a face that turned away: two more cascade passes
                    # on every faceless B-roll frame would triple the cost for nothing
                    faces = detect_faces_in(coarse, profile=profile and seen_face)
                if not faces and full and coarse is not fine:
                    faces = detect_small_faces(fine)
                seen_face = bool(faces)
                yield FaceSample(times[i], faces)
                i += 1
            drained = True
        finally:
            proc.stdout.close()
            if not drained:
                proc.kill()  # the consumer stopped early, or detection raised
            proc.wait()
        if proc.returncode != 0 and i == 0:
            errors.seek(0)
            tail = errors.read().decode("utf-8", "replace").strip().splitlines()[-3:]
            message = " | ".join(tail).replace(str(source), display_name(source))
            raise MediaProcessingError("frame sampling failed: " + message)
