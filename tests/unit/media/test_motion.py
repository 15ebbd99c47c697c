"""A still image filmed by a virtual camera (media.motion): the plan, and the rendered files
measured frame by frame: direction and size of each move, sub-pixel smoothness, coverage,
captions, and a lossless join with compose's pieces."""

from __future__ import annotations

import math
import time
import wave
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from reelforge.errors import InvalidMediaError
from reelforge.media import compose, motion
from reelforge.media.captions import build_ass
from reelforge.media.slides import SlideArt
from reelforge.models import Word

SIZE = (320, 180)
RED, GREEN, BLUE = 0, 1, 2


def _picture(path: Path, size: tuple[int, int] = (480, 270)) -> Path:
    """A grey checker (no black anywhere) with a red blob in the middle and a green and a
    blue one at a quarter and three quarters of the width: their centroids show the camera's
    every move. Soft-edged blobs, so a centroid follows a sub-pixel move linearly."""
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w]
    rgb = np.stack([np.where((xx // 20 + yy // 20) % 2 == 0, 150.0, 100.0)] * 3, axis=-1)
    sigma = 0.05 * h
    for cx, colour in ((0.5, (230, 20, 20)), (0.25, (20, 200, 20)), (0.75, (20, 40, 230))):
        r2 = (xx + 0.5 - cx * w) ** 2 + (yy + 0.5 - 0.5 * h) ** 2
        alpha = np.clip(1.5 * np.exp(-r2 / (2 * sigma**2)), 0, 1)[..., None]
        rgb = rgb * (1 - alpha) + np.array(colour) * alpha
    Image.fromarray(rgb.round().astype(np.uint8)).save(path)
    return path


def _frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24").astype(np.int16) for f in container.decode(video=0)]


def _marker(frame: np.ndarray, channel: int) -> tuple[float, float, float]:
    """Centroid (x, y) and mass of the blob of one primary colour, weighted by how strongly
    the pixels have that colour (sub-pixel precise, unlike a thresholded mask)."""
    others = np.delete(frame, channel, axis=2).max(axis=2)
    weight = np.clip(frame[..., channel] - others - 15, 0, None).astype(np.float64)
    mass = weight.sum()
    yy, xx = np.mgrid[0:frame.shape[0], 0:frame.shape[1]]
    return float((weight * xx).sum() / mass), float((weight * yy).sum() / mass), float(mass)


def _spread(frame: np.ndarray) -> float:
    """Distance between the green and blue blobs: grows with the zoom."""
    return _marker(frame, BLUE)[0] - _marker(frame, GREEN)[0]


def _render(tmp: Path, name: str, picture: Path, frames: int, movement: str, strength: float = 1.0,
            **kwargs: object) -> list[np.ndarray]:
    out = motion.render_motion(picture, frames=frames, size=SIZE, movement=movement, strength=strength,
                               out=tmp / f"{name}.mp4", **kwargs)
    return _frames(out)


def _wav(path: Path, seconds: float, freq: float, rate: int = 22050) -> Path:
    t = np.arange(round(seconds * rate)) / rate
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((0.3 * np.sin(2 * np.pi * freq * t) * 32767).astype("<i2").tobytes())
    return path


# --------------------------------------------------------------------------- the plan

def test_bad_arguments_are_refused_with_the_valid_choices() -> None:
    with pytest.raises(ValueError) as err:
        motion.camera_path("spin", 0.5, 10)
    assert all(name in str(err.value) for name in motion.MOVEMENTS)
    for strength in (-0.1, 1.01, math.nan):
        with pytest.raises(ValueError, match="strength"):
            motion.camera_path("zoom_in", strength, 10)
    with pytest.raises(ValueError, match="frames"):
        motion.camera_path("zoom_in", 0.5, 0)


def test_every_path_stays_inside_the_image_and_moves_the_named_way() -> None:
    for room in ((1.0, 1.0), (0.5625, 1.0), (1.0, 0.5625), (0.3, 1.0)):
        for movement in motion.MOVEMENTS:
            path = motion.camera_path(movement, 1.0, 40, room=room)
            assert len(path) == 40
            for v in path:
                half_w, half_h = room[0] / v.zoom / 2, room[1] / v.zoom / 2
                assert v.zoom >= 1.0
                assert v.x - half_w >= -1e-9 and v.x + half_w <= 1 + 1e-9, (movement, room, v)
                assert v.y - half_h >= -1e-9 and v.y + half_h <= 1 + 1e-9, (movement, room, v)
            assert motion.camera_path(movement, 0.0, 40, room=room) == [motion.Viewport(0.5, 0.5, 1.0)] * 40
    assert set(motion.camera_path("static", 1.0, 5)) == {motion.Viewport(0.5, 0.5, 1.0)}

    left, right = motion.camera_path("pan_left", 1.0, 30), motion.camera_path("pan_right", 1.0, 30)
    assert left[0].x > left[-1].x and right[0].x < right[-1].x  # the window goes the named way
    assert [round(a.x + b.x, 9) for a, b in zip(left, right, strict=True)] == [1.0] * 30
    zoom_in, zoom_out = motion.camera_path("zoom_in", 1.0, 30), motion.camera_path("zoom_out", 1.0, 30)
    assert [v.zoom for v in zoom_in] == sorted(v.zoom for v in zoom_in)
    assert zoom_in[-1].zoom == pytest.approx(1.25) and zoom_out[0].zoom == pytest.approx(1.25)
    assert zoom_out[-1].zoom == pytest.approx(1.0)
    # a pan spends the image's spare width before it zooms in to make room
    assert {v.zoom for v in motion.camera_path("pan_right", 1.0, 10, room=(0.5, 1.0))} == {1.0}
    truck = motion.camera_path("truck", 1.0, 30)
    assert truck[-1].x > truck[0].x and truck[-1].zoom > truck[0].zoom  # moves and closes in
    orbit = motion.camera_path("orbit", 1.0, 31)
    assert orbit[-1].x > orbit[0].x and orbit[15].y < orbit[0].y and orbit[-1].zoom > orbit[0].zoom


# --------------------------------------------------------------------------- rendered

def test_a_still_piece_holds_one_picture_covering_the_frame(tmp_path: Path) -> None:
    square = _picture(tmp_path / "square.png", (300, 300))  # upscaled, centre-cropped
    frames = _render(tmp_path, "still", square, 75, "static")  # past one GOP: 2 key frames
    assert len(frames) == 75 and frames[0].shape == (SIZE[1], SIZE[0], 3)
    # the same picture throughout: x264 only touches up a few edge pixels after each key frame,
    # and every key frame is the same (a plain encode's later ones differ by 25+ levels here)
    assert max(np.abs(f - frames[0]).max() for f in frames) <= 10
    assert max(np.abs(f - frames[0]).mean() for f in frames) < 0.05
    # strength 0 is a still, whatever the movement
    assert all(np.array_equal(a, b) for a, b in zip(frames, _render(tmp_path, "calm", square, 75, "pan_left", 0.0),
                                                    strict=True))
    # covered, never letterboxed: no black edge, whatever the image's shape
    tall = _picture(tmp_path / "tall.png", (200, 400))
    for movement in motion.MOVEMENTS:
        for picture in (square, tall):
            clip = _render(tmp_path, f"cover-{movement}", picture, 12, movement)
            for f in (clip[0], clip[-1]):
                edges = np.concatenate([f[:2].reshape(-1, 3), f[-2:].reshape(-1, 3),
                                        f[:, :2].reshape(-1, 3), f[:, -2:].reshape(-1, 3)])
                assert edges.max(axis=1).min() > 60, (movement, picture.name)


def test_pans_slide_the_picture_opposite_ways_by_a_fifth_of_the_frame(tmp_path: Path) -> None:
    picture = _picture(tmp_path / "p.png")
    for movement, way in (("pan_left", 1), ("pan_right", -1)):
        frames = _render(tmp_path, movement, picture, 30, movement)
        (x0, y0, _), (x1, y1, _) = _marker(frames[0], RED), _marker(frames[-1], RED)
        # pan left: the camera turns left, so the picture slides right (and vice versa)
        assert way * (x1 - x0) == pytest.approx(motion.PAN_TRAVEL * SIZE[0], abs=2.0), movement
        assert abs(y1 - y0) < 0.5


def test_zooms_grow_and_shrink_the_picture(tmp_path: Path) -> None:
    picture = _picture(tmp_path / "z.png")
    zoom_in = _render(tmp_path, "in", picture, 30, "zoom_in")
    assert _spread(zoom_in[-1]) / _spread(zoom_in[0]) == pytest.approx(1 + motion.ZOOM_RANGE, abs=0.02)
    assert _marker(zoom_in[-1], RED)[2] > 1.4 * _marker(zoom_in[0], RED)[2]  # the disc is bigger
    zoom_out = _render(tmp_path, "out", picture, 30, "zoom_out")
    assert _spread(zoom_out[-1]) / _spread(zoom_out[0]) == pytest.approx(1 / (1 + motion.ZOOM_RANGE), abs=0.02)
    assert _marker(zoom_out[-1], RED)[2] < 0.75 * _marker(zoom_out[0], RED)[2]


def _assert_smooth(positions: list[float], planned: list[float] | None = None) -> None:
    """Every frame moves the same way by about the same step (the ease varies it 0.5-1.5x),
    with no jump and no standing still: what whole-pixel windows (ffmpeg's zoompan) break,
    steps of 0 and 1 px where the move wants 0.5. With `planned` (the plan's positions,
    relative to the first), no frame wanders off the plan either: whole-pixel windows are
    off by 0.33 px rms, these by a third of that (most of it x264's)."""
    steps = np.diff(positions)
    median = float(np.median(np.abs(steps)))
    assert median > 0.1
    assert np.all(np.sign(steps) == np.sign(steps[len(steps) // 2])), steps
    assert np.abs(steps).max() <= 3 * median, steps
    assert np.abs(steps).min() >= 0.15 * median, steps
    if planned is not None:
        off = np.asarray(positions) - positions[0] - np.asarray(planned)
        assert float(np.sqrt(np.mean((off - off.mean()) ** 2))) < 0.2, off


def test_moves_glide_in_sub_pixel_steps(tmp_path: Path) -> None:
    picture = _picture(tmp_path / "s.png")
    frames = _render(tmp_path, "pan", picture, 60, "pan_right", 0.5)  # 0.5 px a frame
    path = motion.camera_path("pan_right", 0.5, 60)
    _assert_smooth([_marker(f, RED)[0] for f in frames], [(path[0].x - v.x) * v.zoom * SIZE[0] for v in path])
    zoom = _render(tmp_path, "zoom", picture, 60, "zoom_in")  # the blobs part by 0.6 px a frame
    _assert_smooth([_spread(f) for f in zoom])


def test_truck_and_orbit_are_their_own_moves(tmp_path: Path) -> None:
    picture = _picture(tmp_path / "t.png")
    truck = _render(tmp_path, "truck", picture, 31, "truck")
    (x0, y0, _), (x1, y1, _) = _marker(truck[0], RED), _marker(truck[-1], RED)
    assert x0 - x1 > 0.12 * SIZE[0] and abs(y1 - y0) < 0.5  # slides left...
    assert _spread(truck[-1]) / _spread(truck[0]) == pytest.approx(1 + motion.TRUCK_ZOOM, abs=0.02)  # ...closing in
    orbit = _render(tmp_path, "orbit", picture, 31, "orbit")
    start, middle, end = (_marker(orbit[i], RED) for i in (0, 15, 30))
    assert start[0] - end[0] > 0.12 * SIZE[0]  # across...
    assert middle[1] - (start[1] + end[1]) / 2 > 0.05 * SIZE[1]  # ...on an arc (the view rises and falls)
    assert abs(end[1] - start[1]) < 1.5  # the arc ends level (bar the zoom on its offset)
    assert _spread(orbit[-1]) / _spread(orbit[0]) == pytest.approx(1 + motion.ORBIT_ZOOM, abs=0.02)
    _assert_smooth([_marker(f, RED)[0] for f in orbit[5:26]])


def test_captions_are_burned_into_the_lower_frame(tmp_path: Path) -> None:
    picture = _picture(tmp_path / "c.png")
    words = [Word(word="hello", start=0.1, end=0.6), Word(word="world", start=0.6, end=1.2)]
    ass = build_ass(words, clip_start=0.0, clip_end=1.5, width=SIZE[0], height=SIZE[1], style="karaoke")
    for movement in ("static", "zoom_in"):
        with_text = _render(tmp_path, f"{movement}-c", picture, 45, movement, captions=ass)
        without = _render(tmp_path, f"{movement}-n", picture, 45, movement)
        assert len(with_text) == 45
        ink = np.abs(with_text[15] - without[15]).max(axis=2) > 60  # 0.5 s: a line is up
        assert ink[SIZE[1] // 2:].sum() > 40, movement
        assert ink[: SIZE[1] // 3].sum() == 0, movement
        assert np.abs(with_text[0] - without[0]).max() < 30  # none before the first word


def test_pieces_join_with_compose_pieces_by_stream_copy(tmp_path: Path) -> None:
    picture = _picture(tmp_path / "j.png")
    zoom = motion.render_motion(picture, frames=20, size=SIZE, movement="zoom_in", out=tmp_path / "a.mp4")
    pan = motion.render_motion(picture, frames=25, size=SIZE, movement="pan_right", out=tmp_path / "b.mp4")
    Image.new("RGB", SIZE, (40, 80, 120)).save(tmp_path / "slide.png")
    span = compose.render_span(SlideArt(tmp_path / "slide.png", None, None), 0, 15, out=tmp_path / "c.mp4",
                               slide_frames=15)
    headers = set()
    for piece in (zoom, pan, span):
        with av.open(str(piece)) as container:
            headers.add(bytes(container.streams.video[0].codec_context.extradata))
    assert len(headers) == 1  # one SPS/PPS: the concat demuxer's condition for a stream copy
    video = compose.join([zoom, pan, span], _wav(tmp_path / "n.wav", 2.0, 440), tmp_path / "video.mp4")
    frames = _frames(video)
    assert len(frames) == 60
    assert all(np.array_equal(a, b) for a, b in zip(_frames(zoom), frames[:20], strict=True))  # copied, bit for bit
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        assert float(stream.duration * stream.time_base) == pytest.approx(2.0, abs=1e-3)
        assert float(container.duration / av.time_base) == pytest.approx(2.0, abs=0.05)
        assert container.streams.audio[0].rate == compose.AUDIO_RATE


def test_a_5_s_1080p_zoom_encodes_quickly(tmp_path: Path) -> None:
    picture = _picture(tmp_path / "hd.png", (1600, 900))  # upscaled to 2400x1350 for the closest view
    began = time.perf_counter()
    out = motion.render_motion(picture, frames=150, size=(1920, 1080), movement="zoom_in", out=tmp_path / "hd.mp4")
    elapsed = time.perf_counter() - began
    with av.open(str(out)) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.width, stream.codec_context.height) == (1920, 1080)
        assert sum(1 for p in container.demux(video=0) if p.size) == 150
    # ~3.5-4.5 s on 2 idle cores, x264 veryfast most of it; the bound leaves room for a busy machine
    assert elapsed < 30, f"{elapsed:.1f} s for 150 frames"


def test_bad_inputs_fail_before_any_encoding(tmp_path: Path) -> None:
    picture = _picture(tmp_path / "b.png")
    with pytest.raises(ValueError, match="even"):
        motion.render_motion(picture, frames=5, size=(321, 180), out=tmp_path / "x.mp4")
    with pytest.raises(ValueError, match="pan_left"):
        motion.render_motion(picture, frames=5, size=SIZE, movement="dolly", out=tmp_path / "x.mp4")
    (tmp_path / "notes.png").write_text("not a picture")
    with pytest.raises(InvalidMediaError):
        motion.render_motion(tmp_path / "notes.png", frames=5, size=SIZE, out=tmp_path / "x.mp4")
    assert not (tmp_path / "x.mp4").exists()
