"""Virtual camera: follows a real (Haar-detected) moving face, stays still on a static one,
cuts at scene cuts, one layout per shot (focus, split, fit), and renders through ffmpeg."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from reelforge.media import faces
from reelforge.media.faces import Face, FaceSample, detect_faces, sample_times
from reelforge.media.ffmpeg import run_ffmpeg
from reelforge.media.reframe import crop_size, plan_camera, plan_reframe, x_expression
from reelforge.media.source import probe_video

FACE_JPG = Path(__file__).resolve().parents[2] / "data" / "face.jpg"
FACE_CX_IN_JPG = (177 + 95 / 2) / 512  # Haar's face centre in face.jpg, as a fraction of its width

W, H, FPS = 640, 360, 30
IMG = 200  # face.jpg is scaled to IMG x IMG in the test video
CUT = 3.5  # hard cut: blue background + moving face, then green background + static face
STATIC_X = 400


def true_face_x(t: float) -> float:
    left = 20 + 80 * t if t < CUT else STATIC_X
    return (left + FACE_CX_IN_JPG * IMG) / W


@pytest.fixture(scope="module")
def moving_face(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("reframe") / "moving_face.mp4"
    d2 = 6 - CUT
    graph = (
        f"color=c=0x1d3557:s={W}x{H}:r={FPS}:d={CUT}[b1];"
        f"color=c=0x2a9d8f:s={W}x{H}:r={FPS}:d={d2}[b2];"
        f"[0:v]scale={IMG}:{IMG},split[f1][f2];"
        "[b1][f1]overlay=x='20+80*t':y=60:shortest=1[a];"
        f"[b2][f2]overlay=x={STATIC_X}:y=60:shortest=1[b];"
        "[a][b]concat=n=2:v=1:a=0,format=yuv420p[v]"
    )
    run_ffmpeg(
        ["-loop", "1", "-framerate", str(FPS), "-t", "6", "-i", FACE_JPG,
         "-filter_complex", graph, "-map", "[v]",
         "-c:v", "libx264", "-preset", "ultrafast", "-g", "300", out]
    )  # fmt: skip
    return out


@pytest.fixture(scope="module")
def no_face(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("reframe") / "no_face.mp4"
    graph = (
        f"color=c=0x6a4c93:s={W}x{H}:r={FPS}:d=3[bg];color=c=white:s=80x80:r={FPS}:d=3[box];"
        "[bg][box]overlay=x='50+100*t':y=140,format=yuv420p[v]"
    )
    run_ffmpeg(
        ["-filter_complex", graph, "-map", "[v]", "-c:v", "libx264", "-preset", "ultrafast", out]
    )
    return out


@pytest.fixture(scope="module")
def plan(moving_face: Path):
    return plan_reframe(moving_face, start=0.0, end=6.0, scene_cuts=[CUT])


def frame_times(duration: float) -> np.ndarray:
    return np.arange(0, duration, 1 / FPS)


# ----------------------------------------------------------------------------- on real video


def test_probe_video(moving_face: Path) -> None:
    v = probe_video(moving_face)
    assert (v.width, v.height, round(v.fps)) == (W, H, FPS)
    assert v.duration == pytest.approx(6.0, abs=0.05)
    assert not v.has_audio


def test_rotated_source_is_seen_upright(moving_face: Path, tmp_path: Path) -> None:
    rotated = tmp_path / "rotated.mp4"
    run_ffmpeg(["-display_rotation:v:0", "90", "-i", moving_face, "-c", "copy", rotated])
    v = probe_video(rotated)
    assert (v.width, v.height) == (H, W) and v.rotation in (90, 270)
    plan = plan_reframe(rotated, start=0, end=1)
    assert plan.mode == "fit" and not plan.samples  # 360x640 is 9:16 already: no crop
    assert "boxblur" not in plan.filter("s", "v") and "scale=1080:1920" in plan.filter("s", "v")


def test_camera_follows_moving_face(plan) -> None:
    assert plan.mode == "focus" and len(plan.shots) == 2
    window = plan.shots[0].windows[0]
    assert (window.w, window.h) == (202, 360)
    assert plan.face_ratio > 0.9
    cw = window.w / W
    face_w = 95 / 512 * IMG / W
    for t in np.arange(0.2, CUT - 0.3, 0.1):
        x = plan.x_at(t)
        assert abs(x - true_face_x(t)) < 0.04, t
        assert abs(x - true_face_x(t)) < cw / 2 - face_w / 2, "face outside the crop"
    for t in np.arange(CUT + 0.2, 6.0, 0.1):
        assert abs(plan.x_at(t) - true_face_x(t)) < 0.04, t


def test_camera_jumps_at_scene_cut_and_pans_smoothly_elsewhere(plan) -> None:
    ts = frame_times(6.0)
    xs = plan.x_at(ts)
    speed = np.abs(np.diff(xs)) * FPS
    cut_frame = round(CUT * FPS)  # first frame of the new shot
    # the jump happens between the last frame of the old shot and the first of the new one
    assert abs(xs[cut_frame - 1] - true_face_x(CUT - 0.01)) < 0.04
    assert abs(xs[cut_frame] - true_face_x(CUT)) < 0.04
    assert speed[cut_frame - 1] > 3.0
    speed[cut_frame - 1] = 0
    assert speed.max() <= 0.6 + 1e-6  # default max_pan, fractions of the width per second


def test_static_face_does_not_oscillate(plan) -> None:
    xs = plan.x_at(np.arange(CUT + 0.05, 6.0, 1 / FPS))
    assert xs.max() - xs.min() < 0.002


def test_tracking_finds_what_full_searches_find(moving_face: Path, monkeypatch) -> None:
    """Between full searches a lone face is searched for only near where it was: the same
    faces, at the same places, across the moving shot and the hard cut."""
    tracked = list(detect_faces(moving_face, start=0.0, end=6.0, shot_starts=[CUT]))
    monkeypatch.setattr(faces, "FULL_SEARCH_EVERY", 1)  # every sample a full search
    full = list(detect_faces(moving_face, start=0.0, end=6.0, shot_starts=[CUT]))
    assert len(tracked) == len(full) == len(sample_times(6.0, fps=3, shot_starts=[CUT])) == 21
    for a, b in zip(tracked, full, strict=True):
        assert len(a.faces) == len(b.faces) == 1, (a, b)
        assert abs(a.faces[0].cx - b.faces[0].cx) < 0.01 and abs(a.faces[0].w - b.faces[0].w) < 0.02


def test_a_second_face_is_noticed_within_a_full_search_period(tmp_path: Path) -> None:
    """While one face is tracked, a person walking in shows up at the next full search."""
    out = tmp_path / "second_face.mp4"
    small = 140
    graph = (
        f"color=c=0x1d3557:s={W}x{H}:r={FPS}:d=4[bg];"
        f"[0:v]scale={small}:{small},split[f1][f2];"
        "[bg][f1]overlay=x=40:y=100:shortest=1[a];"
        "[a][f2]overlay=x=440:y=100:enable='gte(t,1.5)':shortest=1,format=yuv420p[v]"
    )
    run_ffmpeg(["-loop", "1", "-framerate", str(FPS), "-t", "4", "-i", FACE_JPG,
                "-filter_complex", graph, "-map", "[v]", "-c:v", "libx264", "-preset", "ultrafast",
                out])  # fmt: skip
    samples = list(detect_faces(out, start=0.0, end=4.0))
    assert all(len(s.faces) == 1 for s in samples if s.t < 1.4)
    first_two = min(s.t for s in samples if len(s.faces) == 2)
    assert 1.5 <= first_two <= 1.5 + faces.FULL_SEARCH_EVERY / 3.0
    assert all(len(s.faces) == 2 for s in samples if s.t >= first_two)  # then full searches


def test_no_face_uses_blurred_fit(no_face: Path) -> None:
    p = plan_reframe(no_face, start=0.5, end=2.5)
    assert p.mode == "fit"
    assert p.face_ratio == 0
    assert p.thumbnail_t is None


def test_filter_renders_1080x1920_with_the_face_in_frame(plan, moving_face: Path, tmp_path) -> None:
    out = tmp_path / "reframed.mp4"
    graph = "[0:v]fps=30:round=down[s];" + plan.filter("s", "v")
    run_ffmpeg(
        ["-t", "4", "-i", moving_face, "-filter_complex", graph, "-map", "[v]",
         "-c:v", "libx264", "-preset", "ultrafast", out]
    )  # fmt: skip
    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
    with av.open(str(out)) as c:
        stream = c.streams.video[0]
        assert (stream.codec_context.width, stream.codec_context.height) == (1080, 1920)
        checked = 0
        for i, frame in enumerate(c.decode(stream)):
            if i % 30 != 15:
                continue
            gray = cv2.cvtColor(frame.to_ndarray(format="bgr24"), cv2.COLOR_BGR2GRAY)
            faces = cascade.detectMultiScale(gray[:1200], 1.1, 5, minSize=(80, 80))
            assert len(faces) == 1, f"frame {i}"
            x, _, w, _ = faces[0]
            assert abs((x + w / 2) / 1080 - 0.5) < 0.2, f"frame {i}: face off-centre"
            checked += 1
    assert checked >= 3


# ----------------------------------------------------------------------------- pure planning


def samples(xs, dt: float = 1 / 3, size: float = 0.08) -> list[FaceSample]:
    return [
        FaceSample(i * dt, () if x is None else (Face(x, 0.4, size * 9 / 16, size),))
        for i, x in enumerate(xs)
    ]


def plan_for(xs, duration: float | None = None, **kw):
    duration = duration if duration is not None else len(xs) / 3
    return plan_camera(samples(xs), src_w=1920, src_h=1080, duration=duration, **kw)


def test_subject_moving_across_the_frame_is_a_bounded_monotonic_pan() -> None:
    p = plan_for([0.3] * 15 + [0.7] * 15)
    xs = p.x_at(frame_times(10))
    assert p.mode == "focus"
    assert xs[0] == pytest.approx(0.3, abs=1e-3) and xs[-1] == pytest.approx(0.7, abs=1e-3)
    assert np.all(np.diff(xs) >= -1e-9), "camera went back: overshoot or oscillation"
    assert np.abs(np.diff(xs)).max() * FPS <= 0.6 + 1e-6


def test_max_pan_is_configurable() -> None:
    p = plan_for([0.3] * 15 + [0.7] * 15, max_pan=0.1)
    assert np.abs(np.diff(p.x_at(frame_times(10)))).max() * FPS <= 0.1 + 1e-6


def test_jitter_inside_the_dead_zone_keeps_the_camera_still() -> None:
    rng = np.random.default_rng(7)
    p = plan_for(list(0.5 + rng.uniform(-0.01, 0.01, 60)))
    xs = p.x_at(frame_times(20))
    assert xs.max() - xs.min() < 1e-3
    assert len(p.shots[0].windows[0].keyframes) == 2


def test_one_off_false_detection_is_ignored() -> None:
    xs = [0.4] * 12 + [0.9] + [0.4] * 12
    p = plan_for(xs)
    assert np.abs(p.x_at(frame_times(25 / 3)) - 0.4).max() < 0.01


def test_face_lost_briefly_holds_position() -> None:
    p = plan_for([0.35] * 9 + [None] * 3 + [0.35] * 9)
    assert np.abs(p.x_at(frame_times(7)) - 0.35).max() < 1e-3


def test_face_lost_for_long_holds_then_eases_to_where_it_reappears() -> None:
    p = plan_for([0.3] * 9 + [None] * 12 + [0.7] * 9)  # lost from 3.0 s to 7.0 s
    assert p.x_at(3.5) == pytest.approx(0.3, abs=0.01)  # holds first
    assert 0.35 < p.x_at(5.5) < 0.65  # then moves while nobody is visible
    assert p.x_at(7.3) == pytest.approx(0.7, abs=0.01)  # and is there when the face is back


def test_scene_cut_jumps_instead_of_panning() -> None:
    p = plan_for([0.3] * 15 + [0.7] * 15, scene_cuts=[5.0])
    xs = p.x_at(frame_times(10))
    assert xs[149] == pytest.approx(0.3, abs=1e-3)
    assert xs[150] == pytest.approx(0.7, abs=1e-3)


def test_shot_without_faces_after_a_cut_is_centred() -> None:
    p = plan_for([0.3] * 15 + [None] * 6, scene_cuts=[5.0])
    assert [s.layout for s in p.shots] == ["focus", "fit"]  # nobody there: the whole frame
    assert p.x_at(6.0) == pytest.approx(0.5, abs=1e-3)
    forced = plan_for([0.3] * 15 + [None] * 6, scene_cuts=[5.0], layout="focus")
    assert [s.layout for s in forced.shots] == ["focus", "focus"]
    assert forced.x_at(6.0) == pytest.approx(0.5, abs=1e-3)  # a forced crop is centred
    assert p.x_at(4.0) == pytest.approx(0.3, abs=1e-3)


def test_faces_far_apart_split_and_close_faces_are_framed_together() -> None:
    def two(a: float, b: float) -> list[FaceSample]:
        pair = (Face(a, 0.4, 0.05, 0.09), Face(b, 0.4, 0.05, 0.09))
        return [FaceSample(i / 3, pair) for i in range(30)]

    far = plan_camera(two(0.15, 0.85), src_w=1920, src_h=1080, duration=10)
    assert far.mode == "split"
    top, bottom = far.shots[0].windows
    assert top.x_at(5.0) == pytest.approx(0.15, abs=0.05) and bottom.x_at(5.0) == pytest.approx(0.85, abs=0.05)
    assert top.w / top.h == pytest.approx(1080 / 960, abs=0.02)  # each panel is 1080x960
    assert top.y <= 0.4 * 1080 - 0.09 * 1080 / 2 and top.y + top.h >= 0.4 * 1080 + 0.09 * 1080 / 2
    close = plan_camera(two(0.45, 0.55), src_w=1920, src_h=1080, duration=10)
    assert close.mode == "focus"
    assert close.x_at(5.0) == pytest.approx(0.5, abs=0.01)
    # a square output splits too; a wide one has room for both and is not cropped
    assert plan_camera(two(0.15, 0.85), src_w=1920, src_h=1080, duration=10, aspect="1:1").mode == "split"
    wide = plan_camera(two(0.15, 0.85), src_w=1920, src_h=1080, duration=10, aspect="16:9")
    assert wide.mode == "fit" and (wide.out_w, wide.out_h) == (1920, 1080)
    assert plan_camera(two(0.15, 0.85), src_w=1920, src_h=1080, duration=10, layout="focus").mode == "focus"


def test_mostly_faceless_clip_is_fit() -> None:
    assert plan_for([0.5] * 3 + [None] * 27).mode == "fit"


def test_window_stays_inside_the_frame() -> None:
    p = plan_for([0.01] * 15 + [0.99] * 15)
    cw = p.shots[0].windows[0].w / 1920
    xs = p.x_at(frame_times(10))
    assert xs.min() >= cw / 2 - 1e-9 and xs.max() <= 1 - cw / 2 + 1e-9


def test_portrait_and_square_sources() -> None:
    assert plan_camera([], src_w=1080, src_h=1920, duration=5).mode == "fit"
    assert plan_camera([], src_w=720, src_h=1920, duration=5).mode == "fit"
    square = plan_camera(samples([0.5] * 15), src_w=1080, src_h=1080, duration=5)
    assert square.mode == "focus" and square.shots[0].windows[0].w == 608
    assert plan_camera(samples([0.5] * 15), src_w=1920, src_h=1080, duration=5,
                       aspect="1:1").shots[0].windows[0].w == 1080
    assert crop_size(320, 240) == (136, 240)
    assert crop_size(1920, 1080) == (608, 1080)


def _eval_expression(expr: str, t: float) -> float:
    py = re.sub(r"clip\(", "_clip(", expr)

    def _clip(v: float, lo: float, hi: float) -> float:
        return min(max(v, lo), hi)

    return eval(py, {"_clip": _clip, "t": t})  # the expression is our own output


def test_long_wandering_path_is_reduced_and_the_expression_matches_the_path() -> None:
    rng = np.random.default_rng(3)
    walk = np.clip(0.5 + np.cumsum(rng.normal(0, 0.02, 360)), 0.2, 0.8)  # 2 minutes at 3 fps
    p = plan_for(list(walk), scene_cuts=[30.0, 61.5, 90.0])
    assert p.mode == "focus" and len(p.shots) == 4
    for shot in p.shots:
        keyframes = shot.windows[0].keyframes
        assert len(keyframes) <= 40
        expr = x_expression(keyframes)
        assert len(expr) < 2500
        for t in np.arange(shot.start, shot.end, 0.37):
            assert _eval_expression(expr, float(t - shot.start)) == pytest.approx(p.x_at(float(t)), abs=1e-4)
    # the reduced path stays close to where the face actually is
    err = [abs(p.x_at(i / 3) - walk[i]) for i in range(360)]
    assert float(np.median(err)) < 0.05


def test_thumbnail_time_is_a_strong_face() -> None:
    xs = samples([0.5] * 30)
    big = [
        FaceSample(s.t, (Face(0.5, 0.4, 0.1, 0.3),)) if 12 <= i < 15 else s
        for i, s in enumerate(xs)
    ]
    p = plan_camera(big, src_w=1920, src_h=1080, duration=10)
    assert p.thumbnail_t == pytest.approx(4.0)
    assert p.mode == "focus"


def test_long_clips_pick_exactly_the_wanted_frames() -> None:
    """A 2 minute clip has hundreds of sample times: ffmpeg's select must take the expression
    (a flat sum of ~100 terms was refused) and give one frame per wanted time."""
    times = sample_times(120.0, fps=3, shot_starts=[10.0, 47.3, 90.0])
    assert len(times) > 300
    proc = subprocess.run(
        [faces.ffmpeg_exe(), "-hide_banner", "-nostdin", "-f", "lavfi",
         "-i", "testsrc=s=64x36:r=30:d=120",
         "-vf", f"select='{faces._select_expression(times)}',showinfo", "-f", "null", "-"],
        capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-500:]
    picked = [float(m) for m in re.findall(r"pts_time:([\d.]+)", proc.stderr)]
    assert len(picked) == len(times)
    assert all(0 <= p - t < 1 / 30 + 1e-6 for p, t in zip(picked, times, strict=True))
