"""Reframe a landscape video for vertical, square or wide output, one layout per shot.

The common case is one call::

    plan = plan_reframe("talk.mp4", start=61.0, end=92.5, scene_cuts=[70.2], aspect="9:16")
    graph = plan.filter("0:v", "v")  # ffmpeg -filter_complex fragment, 1080x1920 out

Each shot (scene cut to scene cut) gets its own layout from the faces sampled in it
(`reelforge.media.faces`): `focus`, a crop that follows one subject (or a group that fits
in one window); `split`, two crops stacked, one per face, when two faces are too far apart
for one window; `fit`, the whole frame over a blurred copy of itself when nobody is there
(or when the source already has the output's shape, a plain scale). `layout` forces one of
them on every shot where it can apply.

The camera path is planned offline over the whole shot, so it can look ahead: centred on
the subject from the shot's first frame (the sampler always looks at it), following a pan
without lag, still inside a dead zone, eased, never faster than `max_pan`. Each shot's path
is a handful of keyframes rendered as one piecewise-linear crop expression, and the shots
are trimmed out of one decoded stream and concatenated again, so a clip is still one
ffmpeg pass and one encode.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from reelforge.errors import InvalidMediaError
from reelforge.media.faces import Face, FaceSample, detect_faces
from reelforge.media.layouts import LAYOUT_CHOICES, Layout, output_size
from reelforge.media.source import VideoSource, probe_video


@dataclass(frozen=True)
class Window:
    """A crop of the source, `w` x `h` source pixels, top at `y`; its centre x follows
    `keyframes` (seconds from the shot start, fraction of the source width)."""

    w: int
    h: int
    y: int
    keyframes: tuple[tuple[float, float], ...]

    def x_at(self, t: float | Sequence[float] | np.ndarray) -> float | np.ndarray:
        ts = np.asarray([k[0] for k in self.keyframes])
        xs = np.asarray([k[1] for k in self.keyframes])
        out = np.interp(np.asarray(t, dtype=float), ts, xs)
        return float(out) if np.ndim(out) == 0 else out


@dataclass(frozen=True)
class Shot:
    """One shot of the clip (clip seconds) and how it is framed: one window for `focus`, two
    (top, bottom) for `split`, none for `fit`."""

    start: float
    end: float
    layout: Layout
    windows: tuple[Window, ...] = ()
    face_ratio: float = 0.0  # share of the shot's samples with a usable face


@dataclass
class ReframePlan:
    """How to turn the clip into `out_w` x `out_h`, shot by shot."""

    shots: list[Shot]
    src_w: int
    src_h: int
    duration: float
    out_w: int = 1080
    out_h: int = 1920
    sar: float = 1.0  # source sample aspect ratio (anamorphic sources)
    frame_rate: float = 30.0
    thumbnail_t: float | None = None  # a clip time with a large face (near 1/3), for the thumbnail
    samples: list[FaceSample] = field(default_factory=list, repr=False)

    @property
    def mode(self) -> str:
        """The layouts used, in order of first use ("focus", "focus+fit", ...)."""
        return "+".join(dict.fromkeys(s.layout for s in self.shots))

    @property
    def face_ratio(self) -> float:
        return sum(s.face_ratio * (s.end - s.start) for s in self.shots) / max(self.duration, 1e-9)

    def shot_at(self, t: float) -> Shot:
        starts = [s.start for s in self.shots]
        return self.shots[max(0, bisect_right(starts, t) - 1)]

    def layout_at(self, t: float) -> Layout:
        return self.shot_at(t).layout

    def x_at(self, t: float | Sequence[float] | np.ndarray) -> float | np.ndarray:
        """Centre (fraction of the source width) of the first window at clip time `t`;
        0.5 where a shot has no window."""
        ts = np.atleast_1d(np.asarray(t, dtype=float))
        out = np.empty_like(ts)
        for i, v in enumerate(ts):
            shot = self.shot_at(float(v))
            out[i] = shot.windows[0].x_at(float(v) - shot.start) if shot.windows else 0.5
        return float(out[0]) if np.ndim(t) == 0 else out

    def face_bands(self, start: float, end: float) -> list[tuple[float, float]]:
        """Vertical bands of the output (fractions of its height, top 0) where a face is
        seen between clip times `start` and `end`: captions keep out of them."""
        bands = []
        for sample in self.samples:
            if not start - 0.34 <= sample.t <= end + 0.01 or not sample.faces:
                continue
            shot = self.shot_at(sample.t)
            for face in sample.faces:
                band = _face_band(self, shot, face)
                if band is not None:
                    bands.append(band)
        return bands

    def filter(self, inp: str = "0:v", out: str = "reframed", rate: float | None = None) -> str:
        return reframe_filter(self, inp=inp, out=out, rate=rate)


def _face_band(plan: ReframePlan, shot: Shot, face: Face) -> tuple[float, float] | None:
    """Where `face` appears in the output, as (top, bottom) fractions of its height."""
    top, bottom = (face.cy - face.h / 2) * plan.src_h, (face.cy + face.h / 2) * plan.src_h
    if shot.layout == "fit":
        shown_h = min(plan.out_h, plan.out_w * plan.src_h / (plan.src_w * plan.sar))
        offset = (plan.out_h - shown_h) / 2
        scale = shown_h / plan.src_h
        return ((offset + top * scale) / plan.out_h, (offset + bottom * scale) / plan.out_h)
    panels = len(shot.windows)
    for k, window in enumerate(shot.windows):
        if panels == 2:  # which person this face is: the window whose centre is nearer
            x = float(window.x_at(0.0))
            other = float(shot.windows[1 - k].x_at(0.0))
            if abs(face.cx - x) > abs(face.cx - other):
                continue
        a = (top - window.y) / window.h
        b = (bottom - window.y) / window.h
        if b <= 0 or a >= 1:
            continue
        a, b = max(a, 0.0), min(b, 1.0)
        return ((k + a) / panels, (k + b) / panels)
    return None


# --------------------------------------------------------------------------- planning


def crop_size(src_w: int, src_h: int, sar: float = 1.0, aspect: float = 9 / 16) -> tuple[int, int]:
    """The `aspect` window at full source height, in source pixels (even, for yuv420p)."""
    crop_h = src_h - src_h % 2
    crop_w = int(round(crop_h * aspect / sar / 2)) * 2
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


def _path(ts: np.ndarray, raw: list[float | None], t1: float, *, cw: float, dead_zone: float,
          smooth: float, max_pan: float, hold: float, tolerance: float,
          max_keyframes: int) -> tuple[tuple[float, float], ...]:
    """Keyframes (shot time, centre x) of a window of width `cw` following `raw` targets."""
    lo, hi = cw / 2, 1 - cw / 2
    if not any(v is not None for v in raw):
        return ((0.0, 0.5), (max(t1, 1e-3), 0.5))  # nobody in this shot: centre it
    grid, xs = _smooth_segment(ts, _fill(ts, raw, hold), 0.0, max(t1, 1e-3), lo=lo, hi=hi,
                               dead_zone=dead_zone * cw, smooth=smooth, max_pan=max_pan, step=0.1)
    return tuple(_reduce([(grid, xs)], max_keyframes, tolerance))


def _two_people(faces: list[Face], cw: float) -> tuple[Face, Face] | None:
    """The two biggest faces when they are too far apart for one window (left first)."""
    if len(faces) < 2:
        return None
    a, b = sorted(sorted(faces, key=lambda f: f.w * f.h, reverse=True)[:2], key=lambda f: f.cx)
    if min(a.w * a.h, b.w * b.h) < 0.4 * max(a.w * a.h, b.w * b.h):
        return None  # a face in the background is not a second speaker
    span = (b.cx + b.w / 2) - (a.cx - a.w / 2)
    return (a, b) if span > 0.9 * cw else None


def _window_size(w: int, h: int, xs: list[float], face_h: float, *, src_w: int,
                 src_h: int) -> tuple[int, int]:
    """Shrink a `w` x `h` window (same shape) when a subject at `xs` (fractions of the width)
    is too near the frame's edge for a window that wide to centre it; never below half its
    size, nor so small that the face (`face_h` of the frame height) would not fit twice."""
    if not xs:
        return w, h
    room = 2 * min(min(xs), 1 - max(xs)) * src_w  # widest window that centres every position
    floor = max(0.5 * w, w * 2 * face_h * src_h / h)
    scale = min(1.0, max(room, floor) / w)
    return int(w * scale) // 2 * 2, int(h * scale) // 2 * 2


def _top(cy: float, h: int, src_h: int, face_at: float = 0.5) -> int:
    """The window's top so that a face centred at `cy` sits at `face_at` of its height."""
    return int(min(max(cy * src_h - face_at * h, 0), src_h - h)) // 2 * 2


def _split_windows(pairs: list[tuple[float, tuple[Face, Face]]], ts: np.ndarray, t1: float, *,
                   src_w: int, src_h: int, sar: float, panel_aspect: float,
                   **path: Any) -> tuple[Window, Window]:
    """One window per person, each following its face; sized so the face fills a panel."""
    heights = [f.h for _, pair in pairs for f in pair]
    crop_h = int(min(src_h, max(0.3 * src_h, 3.0 * float(np.median(heights)) * src_h)))
    crop_w = int(round(crop_h * panel_aspect / sar))
    if crop_w > src_w:
        crop_w, crop_h = src_w, int(round(src_w * sar / panel_aspect))
    windows = []
    by_t = {round(t, 4): pair for t, pair in pairs}
    for side in (0, 1):
        raw = [by_t[round(t, 4)][side].cx if round(t, 4) in by_t else None for t in ts]
        xs = [pair[side].cx for _, pair in pairs]
        w, h = _window_size(crop_w, crop_h, xs, float(np.median(heights)), src_w=src_w, src_h=src_h)
        # the face a little above the panel's middle, where a camera operator puts it
        y = _top(float(np.median([pair[side].cy for _, pair in pairs])), h, src_h, 0.4)
        windows.append(Window(w, h, y, _path(ts, raw, t1, cw=w / src_w, **path)))
    return windows[0], windows[1]


def plan_camera(
    samples: Sequence[FaceSample],
    *,
    src_w: int,
    src_h: int,
    duration: float,
    sar: float = 1.0,
    scene_cuts: Iterable[float] = (),
    frame_rate: float = 30.0,
    aspect: str = "9:16",
    layout: str = "auto",
    min_face_ratio: float = 0.3,
    min_split_ratio: float = 0.5,
    dead_zone: float = 0.08,
    smooth: float = 0.35,
    max_pan: float = 0.6,
    hold: float = 1.0,
    max_keyframes: int = 40,
    tolerance: float = 0.002,
) -> ReframePlan:
    """Turn face samples into a layout and a camera path per shot (pure: no I/O, testable on
    synthetic input).

    `scene_cuts` are clip times (seconds from the clip start) where a new shot begins.
    `dead_zone` is a fraction of the window width; `max_pan` and `tolerance` are fractions of
    the source width (per second, and the allowed keyframe-reduction error).
    """
    if layout not in LAYOUT_CHOICES:
        raise ValueError(f"layout must be one of {', '.join(LAYOUT_CHOICES)}")
    out_w, out_h = output_size(aspect)
    duration = max(duration, 1e-3)
    out_aspect = out_w / out_h
    crop_w, crop_h = crop_size(src_w, src_h, sar, out_aspect)
    cw = crop_w / src_w
    samples = sorted(samples, key=lambda s: s.t)
    base = {"src_w": src_w, "src_h": src_h, "duration": duration, "out_w": out_w, "out_h": out_h,
            "sar": sar, "frame_rate": frame_rate, "samples": list(samples)}
    edges = [0.0, *sorted({c for c in scene_cuts if 0.5 / frame_rate < c < duration - 0.5 / frame_rate}),
             duration]
    src_aspect = src_w * sar / src_h
    if src_aspect <= out_aspect * 1.02:  # the source is no wider than the output: show it whole
        shots = [Shot(a, b, "fit") for a, b in zip(edges[:-1], edges[1:], strict=True)]
        return ReframePlan(shots, **base)

    path = {"dead_zone": dead_zone, "smooth": smooth, "max_pan": max_pan, "hold": hold,
            "tolerance": tolerance, "max_keyframes": max_keyframes}
    can_split = out_aspect <= 1.0  # panels stacked top/bottom
    shots: list[Shot] = []
    strongest: list[tuple[float, float]] = []  # (face height, clip time) for the thumbnail
    for t0, t1 in zip(edges[:-1], edges[1:], strict=True):
        inside = [s for s in samples if t0 - 1e-6 <= s.t < t1 - 1e-6]
        if len(inside) >= 3:
            kept = _consistent(inside, window=1.0, dist=max(0.15, cw / 2))
        else:  # too short to confirm a face by seeing it twice
            kept = [list(s.faces) for s in inside]
        ts = np.asarray([s.t - t0 for s in inside])
        with_face = sum(bool(f) for f in kept)
        ratio = with_face / max(1, len(inside))
        pairs = [(s.t - t0, pair) for s, fs in zip(inside, kept, strict=True)
                 if (pair := _two_people(fs, cw)) is not None]
        strongest += [(max(f.h for f in fs), s.t) for s, fs in zip(inside, kept, strict=True) if fs]
        if layout == "auto":
            if ratio < min_face_ratio:
                chosen: Layout = "fit"
            elif can_split and pairs and len(pairs) >= min_split_ratio * with_face:
                chosen = "split"
            else:
                chosen = "focus"
        elif layout == "split":
            chosen = "split" if can_split and pairs else "focus"
        else:
            chosen = layout  # type: ignore[assignment]
        if chosen == "fit":
            shots.append(Shot(t0, t1, "fit", (), ratio))
            continue
        if chosen == "split":
            panel_aspect = out_w / (out_h / 2)
            windows = _split_windows(pairs, ts, t1 - t0, src_w=src_w, src_h=src_h, sar=sar,
                                     panel_aspect=panel_aspect, **path)
            shots.append(Shot(t0, t1, "split", windows, ratio))
            continue
        raw: list[float | None] = []
        prev: float | None = None
        for fs in kept:
            if fs:
                prev, _far = _subject(fs, prev, cw)
                raw.append(prev)
            else:
                raw.append(None)
        faces_seen = [f for fs in kept for f in fs]
        w, h = _window_size(crop_w, crop_h, [x for x in raw if x is not None],
                            max((f.h for f in faces_seen), default=0.0), src_w=src_w, src_h=src_h)
        cy = float(np.median([f.cy for f in faces_seen])) if faces_seen else 0.5
        keyframes = _path(ts, raw, t1 - t0, cw=w / src_w, **path)
        shots.append(Shot(t0, t1, "focus", (Window(w, h, _top(cy, h, src_h), keyframes),), ratio))
    thumb = None
    if strongest:
        big = max(h for h, _ in strongest) * 0.8
        thumb = min((t for h, t in strongest if h >= big), key=lambda t: abs(t - duration / 3))
    return ReframePlan(shots, thumbnail_t=thumb, **base)


def plan_reframe(
    source: str | Path,
    *,
    start: float,
    end: float,
    scene_cuts: Iterable[float] | None = None,
    sample_fps: float = 3.0,
    video: VideoSource | None = None,
    on_progress: Callable[[float], None] | None = None,
    aspect: str = "9:16",
    layout: str = "auto",
    **options: Any,
) -> ReframePlan:
    """Detect faces in [start, end) of `source` and plan each shot's layout and camera.

    `scene_cuts` are source times (e.g. `[s.start for s in scenes]`); those inside the clip
    start new shots. `on_progress` gets 0..1 as samples are analysed; `options` go to
    `plan_camera`.
    """
    if end <= start:
        raise InvalidMediaError(f"empty clip: start {start} >= end {end}")
    out_w, out_h = output_size(aspect)
    video = video or probe_video(source)
    duration = end - start
    cuts = [c - start for c in scene_cuts or () if start < c < end]
    samples: list[FaceSample] = []
    if video.display_aspect > out_w / out_h * 1.02:  # no wider than the output: nothing to track
        expected = max(1.0, duration * sample_fps)
        for sample in detect_faces(source, start=start, end=end, fps=sample_fps, video=video,
                                   shot_starts=cuts):
            samples.append(sample)
            if on_progress:
                on_progress(min(1.0, len(samples) / expected))
    return plan_camera(samples, src_w=video.width, src_h=video.height, duration=duration,
                       sar=video.sar, scene_cuts=cuts, frame_rate=video.fps or 30.0,
                       aspect=aspect, layout=layout, **options)


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


def _window_chain(window: Window, inp: str, out: str, w: int, h: int) -> str:
    x = f"clip(iw*({x_expression(window.keyframes)})-ow/2,0,iw-ow)"
    return (f"[{inp}]crop=w={window.w}:h={window.h}:x='{x}':y={window.y},"
            f"scale={w}:{h}:flags=bicubic,setsar=1[{out}]")


def _shot_chain(plan: ReframePlan, shot: Shot, inp: str, out: str) -> str:
    ow, oh = plan.out_w, plan.out_h
    if shot.layout == "focus":
        return _window_chain(shot.windows[0], inp, out, ow, oh)
    if shot.layout == "split":
        top, bottom = shot.windows
        return (f"[{inp}]split=2[{out}_a][{out}_b];"
                + _window_chain(top, f"{out}_a", f"{out}_top", ow, oh // 2) + ";"
                + _window_chain(bottom, f"{out}_b", f"{out}_bottom", ow, oh // 2) + ";"
                + f"[{out}_top][{out}_bottom]vstack=inputs=2[{out}]")
    square = "" if abs(plan.sar - 1) < 0.01 else "scale='trunc(iw*sar/2)*2':ih,setsar=1,"
    if abs(plan.src_w * plan.sar / plan.src_h / (ow / oh) - 1) <= 0.02:
        return f"[{inp}]{square}scale={ow}:{oh},setsar=1[{out}]"  # already the output's shape
    # fit: the blur is done small (cheap) and scaled up, which also softens it further
    bw, bh = ow // 4, oh // 4
    return (
        f"[{inp}]{square}split=2[{out}_bg][{out}_fg];"
        f"[{out}_bg]scale={bw}:{bh}:force_original_aspect_ratio=increase,crop={bw}:{bh},"
        f"boxblur=10:2,scale={ow}:{oh},setsar=1[{out}_bgs];"
        f"[{out}_fg]scale={ow}:{oh}:force_original_aspect_ratio=decrease:force_divisible_by=2,"
        f"setsar=1[{out}_fgs];"
        f"[{out}_bgs][{out}_fgs]overlay=x=(W-w)/2:y=(H-h)/2[{out}]"
    )


def reframe_filter(plan: ReframePlan, *, inp: str = "0:v", out: str = "reframed",
                   rate: float | None = None) -> str:
    """A -filter_complex fragment from `[inp]` (frames at `rate`, the first at clip time 0)
    to `[out]` that yields exactly out_w x out_h: each shot trimmed by frame number, framed
    its own way, and the shots concatenated again."""
    shots = plan.shots
    if len(shots) == 1:
        return _shot_chain(plan, shots[0], inp, out)
    rate = rate or plan.frame_rate
    n = len(shots)
    parts = [f"[{inp}]split={n}" + "".join(f"[{out}_in{k}]" for k in range(n))]
    for k, shot in enumerate(shots):
        trim = f"trim=start_frame={round(shot.start * rate)}"
        if k + 1 < n:
            trim += f":end_frame={round(shot.end * rate)}"
        parts.append(f"[{out}_in{k}]{trim},setpts=PTS-STARTPTS[{out}_s{k}]")
        parts.append(_shot_chain(plan, shot, f"{out}_s{k}", f"{out}_o{k}"))
    parts.append("".join(f"[{out}_o{k}]" for k in range(n)) + f"concat=n={n}:v=1:a=0[{out}]")
    return ";".join(parts)
