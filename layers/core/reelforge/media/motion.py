"""A still image filmed by a virtual camera for the length of one narrated sentence, as a
video piece that joins by stream copy with compose's pieces.

    path = camera_path("orbit", 0.6, frames=157)        # per-frame windows, pure
    render_motion("scene.png", frames=157, size=(1920, 1080), movement="zoom_in",
                  strength=0.6, captions=ass, out="piece3.mp4")
    compose.join(["piece1.mp4", "piece2.mp4", "piece3.mp4"], "narration.wav", "video.mp4")

Why frames are drawn here and not by ffmpeg's zoompan: zoompan rounds its window to whole
pixels, so a slow move shakes. Here each frame is the camera's window resampled bilinearly
at its exact (fractional) place by OpenCV, straight into the YUV 4:2:0 planes x264 takes,
from an intermediate drawn once with Lanczos at the density the closest view needs: sub-pixel
smooth, sharp at every zoom, and a few ms a 1080p frame, so x264 sets the pace. The encoder
settings are compose's, so the pieces join losslessly.

Movements, at strength 1 (`strength` scales every amplitude linearly; 0 is a still):
`pan_left`/`pan_right` turn the camera, the picture sliding 20% of the frame's width the other
way; `tilt_up`/`tilt_down` likewise by 20% of its height (tilting up, the picture slides
down, as `media.analysis` reads it); `zoom_in`/`zoom_out` change the view by 25%; `truck` moves
the camera right (the picture slides 16% left) while closing in by 8%; `orbit` swings the view
along a half ellipse (18% of the width across, 8% of the height up and back) while closing in
by 10%. Moves start and end at half speed, so a cut between two moving pieces does not jolt.
"""

from __future__ import annotations

import contextlib
import math
import subprocess
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from reelforge.errors import InvalidMediaError, MediaProcessingError
from reelforge.media.compose import FPS, GOP, _concat_input, _x264
from reelforge.media.ffmpeg import ffmpeg_exe, run_ffmpeg
from reelforge.media.render import default_fonts_dir, filter_path

MOVEMENTS = ("static", "pan_left", "pan_right", "tilt_up", "tilt_down", "zoom_in", "zoom_out", "orbit",
             "truck")
PAN_TRAVEL = 0.20  # of the frame's width
TILT_TRAVEL = 0.20  # of the frame's height
ZOOM_RANGE = 0.25
TRUCK_TRAVEL, TRUCK_ZOOM = 0.16, 0.08
ORBIT_ACROSS, ORBIT_RISE, ORBIT_ZOOM = 0.18, 0.08, 0.10
EASE = 0.5  # speed at the ends, as a fraction of the mean speed: 1 - EASE


@dataclass(frozen=True)
class Viewport:
    """Where the camera looks on one frame: the window's centre as fractions of the image's
    width and height, and `zoom`, how many times smaller the window is than the largest
    frame-shaped window that fits the image (1: the image just covers the frame)."""

    x: float
    y: float
    zoom: float


def camera_path(movement: str, strength: float, frames: int, *,
                room: tuple[float, float] = (1.0, 1.0)) -> list[Viewport]:
    """The camera's window on each of `frames` frames.

    `room` is the zoom-1 window's share of the image's width and height: (1, 1) when the image
    has the frame's shape, less on the side where it is longer. A pan or tilt uses that spare room
    before it zooms in to make some; every window stays inside the image."""
    _check(movement, strength, frames)
    frames, s = int(frames), float(strength)
    rw, rh = room
    if movement == "static" or s == 0:
        return [Viewport(0.5, 0.5, 1.0)] * frames
    path = []
    for i in range(frames):
        e = _ease(i / (frames - 1) if frames > 1 else 0.0)
        if movement in ("zoom_in", "zoom_out"):
            grow = e if movement == "zoom_in" else 1 - e
            # Geometric, so the picture seems to grow at one rate throughout.
            path.append(Viewport(0.5, 0.5, (1 + ZOOM_RANGE * s) ** grow))
        elif movement in ("pan_left", "pan_right"):
            # Zoomed in just enough that the window has the travel's room beside it.
            zoom = max(1.0, rw * (1 + PAN_TRAVEL * s))
            travel = PAN_TRAVEL * s * rw / zoom
            way = -1 if movement == "pan_left" else 1
            path.append(Viewport(0.5 + way * travel * (e - 0.5), 0.5, zoom))
        elif movement in ("tilt_up", "tilt_down"):
            zoom = max(1.0, rh * (1 + TILT_TRAVEL * s))
            travel = TILT_TRAVEL * s * rh / zoom
            way = -1 if movement == "tilt_up" else 1  # image y grows downwards
            path.append(Viewport(0.5, 0.5 + way * travel * (e - 0.5), zoom))
        elif movement == "truck":
            start = max(1.0, rw * (1 + TRUCK_TRAVEL * s))
            travel = TRUCK_TRAVEL * s * rw / start  # the window only shrinks after: still inside
            path.append(Viewport(0.5 + travel * (e - 0.5), 0.5, start * (1 + TRUCK_ZOOM * s) ** e))
        else:  # orbit: the upper half of an ellipse, left to right, its height centred
            start = max(1.0, rw * (1 + ORBIT_ACROSS * s), rh * (1 + ORBIT_RISE * s))
            across, rise = ORBIT_ACROSS * s * rw / start, ORBIT_RISE * s * rh / start
            angle = math.pi * (1 + e)
            path.append(Viewport(0.5 + across / 2 * math.cos(angle), 0.5 + rise * (math.sin(angle) + 0.5),
                                 start * (1 + ORBIT_ZOOM * s) ** e))
    return path


def _ease(t: float) -> float:
    """0..1 to 0..1, speed 1 - EASE at both ends and 1 + EASE in the middle."""
    return t - EASE * math.sin(2 * math.pi * t) / (2 * math.pi)


def _check(movement: str, strength: float, frames: int) -> None:
    if movement not in MOVEMENTS:
        raise ValueError(f"unknown camera movement {movement!r}: use one of {', '.join(MOVEMENTS)}")
    if not 0.0 <= float(strength) <= 1.0:  # NaN fails too
        raise ValueError(f"motion strength must be between 0 and 1, not {strength}")
    if not isinstance(frames, int | float) or not (1 <= frames < math.inf) or frames != int(frames):
        raise ValueError(f"a motion piece needs a whole number of frames >= 1, not {frames}")


def render_motion(image: str | Path, *, frames: int, size: tuple[int, int], movement: str = "static",
                  strength: float = 0.5, captions: str | None = None, fonts_dir: str | Path | None = None,
                  out: str | Path, preset: str = "veryfast", crf: int = 23) -> Path:
    """Encode `frames` frames (at compose.FPS) of `image` covering a `size` frame, moved by
    `movement`, to a video-only MP4 with compose's encoder settings.

    `captions` is an ASS script timed from the piece's first frame, burned in; libass finds
    its font in `fonts_dir` (the packaged or system DejaVu by default)."""
    _check(movement, strength, frames)
    frames = int(frames)
    width, height = (int(v) for v in size)
    if width < 2 or height < 2 or width % 2 or height % 2:
        raise ValueError(f"the frame size must be even (YUV 4:2:0), not {width}x{height}")
    out = Path(out)
    picture = _load(image)
    iw, ih = picture.size
    cover = min(iw / width, ih / height)  # image pixels per frame pixel at zoom 1
    path = camera_path(movement, strength, frames, room=(width * cover / iw, height * cover / ih))

    def window(v: Viewport) -> tuple[float, float, float, float]:
        """(left, top, width, height) in image pixels, nudged inside the image."""
        w, h = width * cover / v.zoom, height * cover / v.zoom
        left = min(max(v.x * iw - w / 2, 0.0), iw - w)
        top = min(max(v.y * ih - h / 2, 0.0), ih - h)
        return left, top, w, h

    with tempfile.TemporaryDirectory(prefix="motion-") as tmp:
        folder = Path(tmp)
        filters = []
        if captions:
            ass = folder / "captions.ass"
            ass.write_text(captions, encoding="utf-8")
            option = f"ass=filename={filter_path(ass)}"
            fonts = Path(fonts_dir) if fonts_dir else default_fonts_dir()
            if fonts:
                option += f":fontsdir={filter_path(fonts)}"
            filters.append(option)
        if any(v != path[0] for v in path):
            frames_in = _moving_frames(picture, [window(v) for v in path], width, height)
            _encode(frames_in, width, height, frames, filters, out, preset, crf, folder)
            return out
        # A still: one frame drawn straight from the image, repeated inside ffmpeg.
        left, top, w, h = window(path[0])
        still = _frame_bytes(picture.resize((width, height), Image.LANCZOS, box=(left, top, left + w, top + h),
                                            reducing_gap=3.0))
        if captions or frames <= GOP:
            _encode([still], width, height, frames, [_loop(frames), *filters], out, preset, crf, folder)
            return out
        # Without captions its frames are all the same: one GOP encoded once and repeated by
        # stream copy, as compose does for a still slide. Every key frame is then the same
        # picture, where a full encode's later ones come out a little different: a still that
        # pulses every GOP. x264's lookahead sets a key frame's quality from the frames after it,
        # so the remainder is not a short piece of its own (1-10 frames come out different at
        # veryfast) but shares the last GOP: two pieces of at least GOP/2 frames.
        lengths = [GOP] * (frames // GOP)
        if frames % GOP:
            last = lengths.pop() + frames % GOP
            lengths += [last - last // 2, last // 2]
        encoded = {n: _encode([still], width, height, n, [_loop(n)], folder / f"still{n}.mp4", preset, crf,
                              folder) for n in set(lengths)}
        run_ffmpeg([*_concat_input([encoded[n] for n in lengths], folder), "-c", "copy",
                    "-video_track_timescale", "15360", str(out)])
    return out


def _loop(frames: int) -> str:
    """The one piped frame, held for `frames` frames (decoded once, not re-read per frame)."""
    return f"loop=loop={frames - 1}:size=1:start=0,setpts=N/{FPS}/TB"


def _load(image: str | Path) -> Image.Image:
    """The image upright (EXIF orientation applied), in RGB, transparency on black."""
    try:
        with Image.open(image) as opened:
            picture = ImageOps.exif_transpose(opened)
            picture.load()
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError) as exc:
        raise InvalidMediaError(f"not an image: {Path(image).name} ({exc})") from exc
    if picture.mode in ("RGBA", "LA", "PA") or "transparency" in picture.info:
        rgba = picture.convert("RGBA")
        picture = Image.new("RGB", rgba.size)
        picture.paste(rgba, mask=rgba.getchannel("A"))
    return picture.convert("RGB")


def _frame_bytes(picture: Image.Image) -> bytes:
    return b"".join(p.tobytes() for p in _planes(picture))


def _planes(picture: Image.Image) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Y, U, V of an even-sized RGB picture, converted by swscale as ffmpeg converts compose's
    slides (BT.601, limited range, untagged), so the pieces' colours match."""
    w, h = picture.size
    yuv = av.VideoFrame.from_ndarray(np.asarray(picture), format="rgb24").reformat(format="yuv420p").to_ndarray()
    quarter = (h // 2) * (w // 2)
    chroma = yuv[h:].reshape(-1)
    return (np.ascontiguousarray(yuv[:h]), chroma[:quarter].reshape(h // 2, w // 2),
            chroma[quarter:2 * quarter].reshape(h // 2, w // 2))


def _moving_frames(picture: Image.Image, windows: list[tuple[float, float, float, float]],
                   width: int, height: int) -> Iterator[memoryview]:
    """Each window resampled to the frame, as one reused yuv420p buffer per frame."""
    iw, ih = picture.size
    # The intermediate: the part of the image any window touches (a pixel of margin for the
    # bilinear taps), at the density of the closest window, so no frame is upscaled from it.
    x0 = max(0, math.floor(min(w[0] for w in windows)) - 1)
    y0 = max(0, math.floor(min(w[1] for w in windows)) - 1)
    x1 = min(iw, math.ceil(max(w[0] + w[2] for w in windows)) + 1)
    y1 = min(ih, math.ceil(max(w[1] + w[3] for w in windows)) + 1)
    density = width / min(w[2] for w in windows)  # intermediate pixels per image pixel
    mw = max(2, round((x1 - x0) * density / 2) * 2)
    mh = max(2, round((y1 - y0) * density / 2) * 2)
    # (reducing_gap: a big photo is box-reduced to 3x first, indistinguishable and much quicker)
    y_src, u_src, v_src = _planes(picture.resize((mw, mh), Image.LANCZOS, box=(x0, y0, x1, y1), reducing_gap=3.0))
    fx, fy = mw / (x1 - x0), mh / (y1 - y0)
    luma = width * height
    buffer = np.empty(luma * 3 // 2, dtype=np.uint8)
    y_out = buffer[:luma].reshape(height, width)
    u_out = buffer[luma:luma * 5 // 4].reshape(height // 2, width // 2)
    v_out = buffer[luma * 5 // 4:].reshape(height // 2, width // 2)
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    for left, top, w, h in windows:
        # Output pixel centre (u + 0.5) lands on intermediate position left' + (u + 0.5) * sx,
        # pixel centres at integers on both sides: x = sx * u + ox.
        sx, sy = w * fx / width, h * fy / height
        ox, oy = (left - x0) * fx + 0.5 * sx - 0.5, (top - y0) * fy + 0.5 * sy - 0.5
        cv2.warpAffine(y_src, np.float32([[sx, 0, ox], [0, sy, oy]]), (width, height), dst=y_out,
                       flags=flags, borderMode=cv2.BORDER_REPLICATE)
        # Chroma at half resolution, sited at luma (2c, 2r + 0.5) (MPEG-2 "left").
        chroma = np.float32([[sx, 0, ox / 2], [0, sy, (0.5 * sy + oy - 0.5) / 2]])
        for src, dst in ((u_src, u_out), (v_src, v_out)):
            cv2.warpAffine(src, chroma, (width // 2, height // 2), dst=dst, flags=flags,
                           borderMode=cv2.BORDER_REPLICATE)
        yield memoryview(buffer)


def _encode(source: Iterable[bytes | memoryview], width: int, height: int, frames: int,
            filters: list[str], out: Path, preset: str, crf: int, tmp: Path) -> Path:
    """Pipe raw yuv420p frames from `source` through `filters` into x264."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", "-loglevel", "error",
           "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{width}x{height}", "-framerate", str(FPS),
           "-i", "pipe:0"]
    if filters:
        cmd += ["-vf", ",".join(filters)]
    cmd += ["-frames:v", str(frames), *_x264(preset, crf), str(out)]
    log = tmp / f"{out.stem}.log"
    with log.open("wb") as stderr:
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=stderr)
        assert proc.stdin is not None
        try:
            for frame in source:
                proc.stdin.write(frame)
        except BrokenPipeError:
            pass  # ffmpeg stopped reading: its log says why
        except BaseException:
            proc.kill()  # no half-written piece from frames that failed to draw
            raise
        finally:
            with contextlib.suppress(OSError):
                proc.stdin.close()
            try:
                proc.wait(timeout=600)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    if proc.returncode != 0:
        tail = log.read_text("utf-8", "replace").strip().splitlines()[-5:]
        raise MediaProcessingError("ffmpeg failed: " + " | ".join(tail))
    return out
