"""Reframe landscape video to 9:16: follow the speaker's face with a smoothed virtual camera.

The common case is one call::

    plan = plan_reframe("talk.mp4", start=61.0, end=92.5, scene_cuts=[70.2])
    graph = plan.filter("0:v", "v")  # ffmpeg -filter_complex fragment, 1080x1920 out

Faces come from OpenCV's Haar cascades on frames sampled at ~3 fps and decoded small; a
lone face is re-found near where it was between full searches (`track_face`), which is
cheap enough for a Lambda (a few tens of ms per sample on one core). The path is
planned offline over the whole clip, so it can look ahead: it is centred on the subject
without lag, ignores detector jitter inside a dead zone, pans no faster than
`max_pan`, holds when the face is briefly lost and cuts (not pans) at scene cuts. The
result is a handful of keyframes rendered as one piecewise-linear crop expression, so the
render stays a single ffmpeg pass.
"""

from __future__ import annotations

import math
import subprocess
import tempfile
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np

from reelforge.errors import InvalidMediaError, MediaProcessingError
from reelforge.media.ffmpeg import ffmpeg_exe
from reelforge.media.probe import display_name
from reelforge.media.source import VideoSource, input_options, probe_video

OUT_W, OUT_H = 1080, 1920
TARGET_ASPECT = OUT_W / OUT_H

Mode = Literal["track", "fit", "scale"]


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


@dataclass
class ReframePlan:
    """How to turn the clip into 1080x1920.

    `track`: a `crop_w` x `crop_h` window (9:16 at full source height) whose centre follows
    `keyframes` (clip time, centre x as a fraction of the source width), scaled up.
    `fit`: the whole frame over a blurred, zoomed copy of itself (no face, or several far apart).
    `scale`: the source is already 9:16.
    """

    mode: Mode
    keyframes: list[tuple[float, float]]
    crop_w: int
    crop_h: int
    src_w: int
    src_h: int
    duration: float
    out_w: int = OUT_W
    out_h: int = OUT_H
    face_ratio: float = 0.0  # share of samples with a usable face
    spread_ratio: float = 0.0  # share of samples whose faces do not fit one window
    sar: float = 1.0  # source sample aspect ratio (anamorphic sources)
    thumbnail_t: float | None = None  # a clip time with a large face (near 1/3), for the thumbnail
    samples: list[FaceSample] = field(default_factory=list, repr=False)

    def x_at(self, t: float | Sequence[float] | np.ndarray) -> float | np.ndarray:
        """Crop centre (fraction of source width) at clip time `t`, as the filter computes it."""
        ts = np.asarray([k[0] for k in self.keyframes])
        xs = np.asarray([k[1] for k in self.keyframes])
        out = np.interp(np.asarray(t, dtype=float), ts, xs)
        return float(out) if np.ndim(out) == 0 else out

    def filter(self, inp: str = "0:v", out: str = "reframed") -> str:
        return reframe_filter(self, inp=inp, out=out)


# --------------------------------------------------------------------------- detection


# Faces are looked for in frames this wide. 480 px would save ~35% of the sampling CPU (4.5
# vs 7.0 CPU-s per 25 s of 1080p) but Haar finds nothing under ~24 px: at 480 px a face
# 8% of the frame tall (a speaker on a stage) was missed in every sample; at 640 px it is found.
SAMPLE_WIDTH = 640


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


def detect_faces(
    source: str | Path,
    *,
    start: float,
    end: float,
    fps: float = 3.0,
    width: int = SAMPLE_WIDTH,
    profile: bool = True,
    video: VideoSource | None = None,
) -> Iterator[FaceSample]:
    """Yield the faces in [start, end) of `source` every 1/fps seconds (times from `start`).

    With `profile`, a sample right after one with a face also looks for profiles.

    One ffmpeg process decodes, drops to `fps` and shrinks to `width`: much cheaper than
    seeking per sample, and the frames are autorotated exactly like the render sees them.
    """
    video = video or probe_video(source)
    sw, sh = _sample_size(video, width)
    cmd = [
        ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error",
        *input_options(source),
        # sampling needs no exact frame: skipping non-reference frames and the deblocking
        # filter halves the decode cost of a 1080p source
        "-skip_frame:v", "noref", "-skip_loop_filter:v", "all",
        "-ss", f"{start:.3f}", "-t", f"{max(0.0, end - start):.3f}", "-i", str(source),
        "-map", "0:v:0", "-an", "-sn",
        "-vf", f"fps={fps:g},scale={sw}:{sh}:flags=area",
        "-f", "rawvideo", "-pix_fmt", "gray", "pipe:1",
    ]  # fmt: skip
    frame_bytes = sw * sh
    i = 0
    # stderr goes to a file, not a pipe: a chatty ffmpeg cannot block the frame reads
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errors)
        assert proc.stdout is not None
        drained = seen_face = False
        faces: tuple[Face, ...] = ()
        try:
            while len(buf := proc.stdout.read(frame_bytes)) == frame_bytes:
                gray = np.frombuffer(buf, np.uint8).reshape(sh, sw)
                tracked = len(faces) == 1 and i % FULL_SEARCH_EVERY != 0
                faces = track_face(gray, faces[0]) if tracked else ()
                if not faces:
                    # profiles only bridge a face that turned away: two more cascade passes
                    # on every faceless B-roll frame would triple the cost for nothing
                    faces = detect_faces_in(gray, profile=profile and seen_face)
                seen_face = bool(faces)
                yield FaceSample(round(i / fps, 4), faces)
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


# --------------------------------------------------------------------------- planning


def crop_size(src_w: int, src_h: int, sar: float = 1.0) -> tuple[int, int]:
    """The 9:16 window at full source height, in source pixels (even, for yuv420p)."""
    crop_h = src_h - src_h % 2
    crop_w = int(round(crop_h * TARGET_ASPECT / sar / 2)) * 2
    return max(2, min(crop_w, src_w - src_w % 2)), max(2, crop_h)


def _consistent(samples: Sequence[FaceSample], window: float, dist: float) -> list[list[Face]]:
    """Drop one-off detections: a real face is seen again nearby within `window` seconds."""
    times = [s.t for s in samples]
    kept: list[list[Face]] = []
    for i, s in enumerate(samples):
        faces = []
        lo, hi = bisect_left(times, s.t - window), bisect_right(times, s.t + window)
        for f in s.faces:
            for j in range(lo, hi):
                if j == i:
                    continue
                if any(abs(g.cx - f.cx) <= dist for g in samples[j].faces):
                    faces.append(f)
                    break
        kept.append(faces)
    return kept


def _subject(faces: list[Face], prev: float | None, cw: float) -> tuple[float, bool]:
    """Where to aim for one sample, and whether its faces are too far apart for one window."""
    left = min(f.cx - f.w / 2 for f in faces)
    right = max(f.cx + f.w / 2 for f in faces)
    if right - left <= 0.9 * cw:
        return (left + right) / 2, False
    biggest = max(f.w * f.h for f in faces)
    big = [f for f in faces if f.w * f.h >= 0.6 * biggest]
    if prev is not None:
        return min(big, key=lambda f: abs(f.cx - prev)).cx, True
    return max(big, key=lambda f: f.w * f.h).cx, True


def _fill(ts: np.ndarray, raw: list[float | None], hold: float) -> np.ndarray:
    """Fill samples without a face: backfill the start, hold `hold` s, then ease to the next."""
    vals = np.array([np.nan if v is None else v for v in raw], dtype=float)
    known = np.flatnonzero(~np.isnan(vals))
    out = vals.copy()
    for i in np.flatnonzero(np.isnan(vals)):
        k = int(np.searchsorted(known, i))
        if k == 0:
            out[i] = vals[known[0]]
        elif k == len(known):
            out[i] = vals[known[-1]]
        else:
            a, b = known[k - 1], known[k]
            ease_from = ts[a] + hold
            frac = (
                0.0 if ts[b] <= ease_from else max(0.0, (ts[i] - ease_from) / (ts[b] - ease_from))
            )
            out[i] = vals[a] + frac * (vals[b] - vals[a])
    return out


def _smooth_segment(
    ts: np.ndarray,
    targets: np.ndarray,
    t0: float,
    t1: float,
    *,
    lo: float,
    hi: float,
    dead_zone: float,
    smooth: float,
    max_pan: float,
    step: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Camera centre on a regular grid over [t0, t1] for one shot."""
    x = np.clip(targets, lo, hi)
    if len(x) >= 3:  # a one-sample spike is detector noise, not motion
        x = np.concatenate([[x[0]], np.median(np.stack([x[:-2], x[1:-1], x[2:]]), axis=0), [x[-1]]])
    held = np.empty_like(x)
    h = x[0]
    for i, v in enumerate(x):  # dead zone: jitter keeps the camera still, a real move re-centres
        if abs(v - h) > dead_zone:
            h = v
        held[i] = h
    n = max(2, int(math.ceil((t1 - t0) / step)) + 1)
    grid = np.linspace(t0, t1, n)
    path = np.interp(grid, ts, held)
    dt = grid[1] - grid[0]
    if smooth > 0 and n > 2:  # zero-phase Gaussian: no lag, starts easing before the subject moves
        sigma = smooth / dt
        r = int(3 * sigma) + 1
        k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
        # odd reflection continues a pan past the ends instead of flattening it (no end lag)
        padded = (
            np.pad(path, r, mode="reflect", reflect_type="odd")
            if n > r
            else np.pad(path, r, mode="edge")
        )
        path = np.convolve(padded, k / k.sum(), mode="valid")
    if max_pan > 0:
        # the mean of a forward and a backward speed clamp is symmetric and still bounded
        lim = max_pan * dt
        fwd, bwd = path.copy(), path.copy()
        for i in range(1, n):
            fwd[i] = fwd[i - 1] + np.clip(path[i] - fwd[i - 1], -lim, lim)
        for i in range(n - 2, -1, -1):
            bwd[i] = bwd[i + 1] + np.clip(path[i] - bwd[i + 1], -lim, lim)
        path = (fwd + bwd) / 2
    return grid, np.clip(path, lo, hi)


def _rdp(ts: np.ndarray, xs: np.ndarray, eps: float) -> list[int]:
    """Ramer-Douglas-Peucker with vertical distance: the error the crop x actually sees."""
    keep = {0, len(ts) - 1}
    stack = [(0, len(ts) - 1)]
    while stack:
        a, b = stack.pop()
        if b - a < 2:
            continue
        seg_t, seg_x = ts[a + 1 : b], xs[a + 1 : b]
        line = xs[a] + (xs[b] - xs[a]) * (seg_t - ts[a]) / max(ts[b] - ts[a], 1e-9)
        err = np.abs(seg_x - line)
        k = int(np.argmax(err))
        if err[k] > eps:
            m = a + 1 + k
            keep.add(m)
            stack += [(a, m), (m, b)]
    return sorted(keep)


def _reduce(
    segments: list[tuple[np.ndarray, np.ndarray]], max_points: int, eps: float
) -> list[tuple[float, float]]:
    while True:
        kf: list[tuple[float, float]] = []
        for ts, xs in segments:
            kf += [(float(ts[i]), float(xs[i])) for i in _rdp(ts, xs, eps)]
        if len(kf) <= max_points or eps > 0.5:
            return kf
        eps *= 1.5


def plan_camera(
    samples: Sequence[FaceSample],
    *,
    src_w: int,
    src_h: int,
    duration: float,
    sar: float = 1.0,
    scene_cuts: Iterable[float] = (),
    frame_rate: float = 30.0,
    min_face_ratio: float = 0.25,
    max_spread_ratio: float = 0.5,
    dead_zone: float = 0.08,
    smooth: float = 0.35,
    max_pan: float = 0.35,
    hold: float = 1.0,
    max_keyframes: int = 40,
    tolerance: float = 0.002,
) -> ReframePlan:
    """Turn face samples into a camera path (pure: no I/O, so it is testable on synthetic input).

    `scene_cuts` are clip times (seconds from the clip start) where the camera may jump.
    `dead_zone` is a fraction of the crop width; `max_pan` and `tolerance` are fractions of
    the source width (per second, and the allowed keyframe-reduction error).
    """
    crop_w, crop_h = crop_size(src_w, src_h, sar)
    base = {"crop_w": crop_w, "crop_h": crop_h, "src_w": src_w, "src_h": src_h, "sar": sar}
    duration = max(duration, 1e-3)
    aspect = src_w * sar / src_h
    if abs(aspect / TARGET_ASPECT - 1) <= 0.02:
        return ReframePlan("scale", [(0.0, 0.5), (duration, 0.5)], duration=duration, **base)
    if aspect < TARGET_ASPECT:
        return ReframePlan("fit", [(0.0, 0.5), (duration, 0.5)], duration=duration, **base)

    cw = crop_w / src_w
    lo, hi = cw / 2, 1 - cw / 2
    samples = sorted(samples, key=lambda s: s.t)
    faces = _consistent(samples, window=1.0, dist=max(0.15, cw / 2))
    targets: list[float | None] = []
    spread = 0
    prev: float | None = None
    for fs in faces:
        if fs:
            prev, far = _subject(fs, prev, cw)
            spread += far
            targets.append(prev)
        else:
            targets.append(None)
    n = max(1, len(samples))
    with_face = sum(v is not None for v in targets)
    face_ratio, spread_ratio = with_face / n, spread / n
    sizes = [max((f.h for f in fs), default=0.0) for fs in faces]
    thumb = None
    if with_face:
        strong = max(sizes) * 0.8
        strong_ts = [s.t for s, size in zip(samples, sizes, strict=True) if size >= strong]
        thumb = min(strong_ts, key=lambda t: abs(t - duration / 3))  # not the first frame: fades
    stats = {"face_ratio": face_ratio, "spread_ratio": spread_ratio, "thumbnail_t": thumb}
    if face_ratio < min_face_ratio or spread_ratio > max_spread_ratio:
        kf = [(0.0, 0.5), (duration, 0.5)]
        return ReframePlan("fit", kf, duration=duration, samples=list(samples), **base, **stats)

    # A cut lands between the last frame of one shot and the first of the next.
    half = 0.5 / frame_rate
    bounds = sorted({c - half for c in scene_cuts if half < c - half < duration - half})
    edges = [0.0, *bounds, duration]
    ts_all = np.asarray([s.t for s in samples])
    segments: list[tuple[np.ndarray, np.ndarray]] = []
    for k, (t0, t1) in enumerate(zip(edges[:-1], edges[1:], strict=True)):
        idx = [i for i, t in enumerate(ts_all) if t0 <= t < t1]
        seg_raw = [targets[i] for i in idx]
        seg_end = t1 if k == len(edges) - 2 else t1 - 1e-3
        if not any(v is not None for v in seg_raw):
            ts, vals = np.asarray([t0]), np.asarray([0.5])  # no one in this shot: centre it
        else:
            ts = ts_all[idx]
            vals = _fill(ts, seg_raw, hold)
        segments.append(
            _smooth_segment(
                ts, vals, t0, seg_end, lo=lo, hi=hi, dead_zone=dead_zone * cw,
                smooth=smooth, max_pan=max_pan, step=0.1,
            )
        )  # fmt: skip
    keyframes = _reduce(segments, max_keyframes, tolerance)
    return ReframePlan(
        "track", keyframes, duration=duration, samples=list(samples), **base, **stats
    )


def plan_reframe(
    source: str | Path,
    *,
    start: float,
    end: float,
    scene_cuts: Iterable[float] | None = None,
    sample_fps: float = 3.0,
    video: VideoSource | None = None,
    on_progress: Callable[[float], None] | None = None,
    **options: Any,
) -> ReframePlan:
    """Detect faces in [start, end) of `source` and plan the 9:16 camera.

    `scene_cuts` are source times (e.g. `[s.start for s in scenes]`); those inside the clip
    become hard cuts of the camera. `on_progress` gets 0..1 as samples are analysed;
    `options` go to `plan_camera`.
    """
    if end <= start:
        raise InvalidMediaError(f"empty clip: start {start} >= end {end}")
    video = video or probe_video(source)
    duration = end - start
    cuts = [c - start for c in scene_cuts or () if start < c < end]
    samples: list[FaceSample] = []
    if video.display_aspect > TARGET_ASPECT * 1.02:  # portrait already: nothing to track
        expected = max(1.0, duration * sample_fps)
        for sample in detect_faces(source, start=start, end=end, fps=sample_fps, video=video):
            samples.append(sample)
            if on_progress:
                on_progress(min(1.0, len(samples) / expected))
    return plan_camera(
        samples,
        src_w=video.width,
        src_h=video.height,
        duration=duration,
        sar=video.sar,
        scene_cuts=cuts,
        frame_rate=video.fps or 30.0,
        **options,
    )


# --------------------------------------------------------------------------- ffmpeg


def _num(v: float) -> str:
    s = f"{v:.6g}"
    return s if "e" not in s else f"{v:.9f}"


def x_expression(keyframes: Sequence[tuple[float, float]]) -> str:
    """Piecewise-linear centre(t) as a flat sum of clipped ramps: no nesting depth to worry about."""
    t0, x0 = keyframes[0]
    terms = [_num(x0)]
    for (ta, xa), (tb, xb) in zip(keyframes[:-1], keyframes[1:], strict=True):
        span = tb - ta
        if span <= 0 or abs(xb - xa) < 1e-6:
            continue
        terms.append(f"{_num((xb - xa) / span)}*clip(t-{_num(ta)},0,{_num(span)})")
    return "+".join(terms).replace("+-", "-")


def reframe_filter(plan: ReframePlan, *, inp: str = "0:v", out: str = "reframed") -> str:
    """A -filter_complex fragment from `[inp]` to `[out]` that yields exactly out_w x out_h."""
    ow, oh = plan.out_w, plan.out_h
    if plan.mode == "scale":
        body = f"[{inp}]scale={ow}:{oh},setsar=1"
    elif plan.mode == "track":
        x = f"clip(iw*({x_expression(plan.keyframes)})-ow/2,0,iw-ow)"
        y = f"(ih-{plan.crop_h})/2"
        body = (
            f"[{inp}]crop=w={plan.crop_w}:h={plan.crop_h}:x='{x}':y='{y}',"
            f"scale={ow}:{oh}:flags=bicubic,setsar=1"
        )
    else:  # fit: the blur is done small (cheap) and scaled up, which also softens it further
        bw, bh = ow // 4, oh // 4
        square = "" if abs(plan.sar - 1) < 0.01 else "scale='trunc(iw*sar/2)*2':ih,setsar=1,"
        body = (
            f"[{inp}]{square}split=2[{out}_bg][{out}_fg];"
            f"[{out}_bg]scale={bw}:{bh}:force_original_aspect_ratio=increase,crop={bw}:{bh},"
            f"boxblur=10:2,scale={ow}:{oh},setsar=1[{out}_bgs];"
            f"[{out}_fg]scale={ow}:{oh}:force_original_aspect_ratio=decrease:force_divisible_by=2,"
            f"setsar=1[{out}_fgs];"
            f"[{out}_bgs][{out}_fgs]overlay=x=(W-w)/2:y=(H-h)/2"
        )
    return f"{body}[{out}]"
