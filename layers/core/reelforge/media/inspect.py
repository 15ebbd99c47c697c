"""What an uploaded asset is and what it looks or sounds like, measured offline.

    info = inspect_asset(Path("logo.png"))   # kind, MIME type, size, a thumbnail, measurements
    info.describe()                         # "Image, 1200x628, mostly #0b3d91 and #ffffff; no faces."

The kind comes from the bytes (PNG/JPEG/WebP/GIF, the video containers, the audio formats,
TrueType/OpenType/WOFF fonts); anything else, an executable renamed .png included, is refused.
Measurements: images and videos their size, dominant colours (k-means, `media.analysis`) and
faces found (Haar, `media.faces`), videos and audio their duration, audio its loudness (RMS,
dBFS), fonts their family name. Images and videos get a JPEG thumbnail.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from pathlib import Path

import av
import cv2
import numpy as np
from PIL import Image, ImageFont, UnidentifiedImageError

from reelforge.errors import InvalidMediaError
from reelforge.media import sniff

THUMB_SIDE = 320
MAX_PIXELS = 64_000_000
_FONT_SIGNATURES = ((b"\x00\x01\x00\x00", "ttf", "font/ttf"), (b"OTTO", "otf", "font/otf"),
                    (b"true", "ttf", "font/ttf"), (b"wOFF", "woff", "font/woff"), (b"wOF2", "woff2", "font/woff2"),
                    (b"ttcf", "ttc", "font/collection"))


@dataclass(frozen=True)
class AssetInfo:
    kind: str  # image | video | audio | font
    extension: str
    mime_type: str
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    colours: tuple[str, ...] = ()
    faces: int | None = None
    loudness_dbfs: float | None = None
    font_family: str | None = None
    thumbnail: bytes | None = field(default=None, repr=False)

    def describe(self) -> str:
        """A sentence from the measurements only (nothing is recognised)."""
        parts = [self.kind.capitalize()]
        if self.width and self.height:
            parts.append(f"{self.width}x{self.height}")
        if self.duration is not None:
            parts.append(f"{self.duration:.1f} s")
        text = ", ".join(parts)
        if self.colours:
            text += ", mostly " + " and ".join(self.colours[:3])
        if self.faces is not None:
            text += "; " + ("no faces" if self.faces == 0 else f"{self.faces} face{'s' if self.faces > 1 else ''} found")
        if self.loudness_dbfs is not None:
            text += f"; loudness {self.loudness_dbfs:.1f} dBFS RMS"
        if self.font_family:
            text += f": the {self.font_family} font family"
        return text + ". (Measured locally: nothing in it was recognised.)"


def kind_of(head: bytes) -> tuple[str, str, str] | None:
    """(kind, extension, MIME type) from a file's first 16 bytes, else None."""
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image", "gif", "image/gif"
    for kind, sniffer in (("image", sniff.image_type), ("video", sniff.video_type), ("audio", sniff.audio_type)):
        found = sniffer(head)
        if found:
            return kind, found[0], found[1]
    for magic, ext, mime in _FONT_SIGNATURES:
        if head.startswith(magic):
            return "font", ext, mime
    return None


def inspect_asset(path: Path) -> AssetInfo:
    with path.open("rb") as f:
        found = kind_of(f.read(sniff.HEAD_BYTES))
    if found is None:
        raise InvalidMediaError("Unsupported file type: an image (PNG, JPEG, WebP, GIF), a video, an audio "
                                "file or a font (TTF, OTF, WOFF) is needed")
    kind, ext, mime = found
    return {"image": _image, "video": _video, "audio": _audio, "font": _font}[kind](path, ext, mime)


def _image(path: Path, ext: str, mime: str) -> AssetInfo:
    try:
        with Image.open(path) as img:
            if img.width * img.height > MAX_PIXELS:
                raise InvalidMediaError(f"the image is too large ({img.width}x{img.height})")
            rgb = img.convert("RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise InvalidMediaError(f"the image cannot be read: {exc}") from None
    return AssetInfo("image", ext, mime, width=rgb.width, height=rgb.height, colours=_colours(rgb),
                     faces=_faces(rgb), thumbnail=_thumbnail(rgb))


def _video(path: Path, ext: str, mime: str) -> AssetInfo:
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            duration = _duration(container, stream)
            middle = duration / 2 if duration else 0
            if middle and stream.time_base:
                container.seek(int(middle / stream.time_base), stream=stream, backward=True)
            frame = next(container.decode(stream)).to_image()
    except (av.FFmpegError, IndexError, StopIteration) as exc:
        raise InvalidMediaError(f"the video cannot be read: {exc}") from None
    rgb = frame.convert("RGB")
    return AssetInfo("video", ext, mime, width=stream.width, height=stream.height, duration=duration,
                     colours=_colours(rgb), faces=_faces(rgb), thumbnail=_thumbnail(rgb))


def _audio(path: Path, ext: str, mime: str) -> AssetInfo:
    squares, samples = 0.0, 0
    try:
        with av.open(str(path)) as container:
            stream = container.streams.audio[0]
            duration = _duration(container, stream)
            for frame in container.decode(stream):
                data = frame.to_ndarray().astype(np.float64)
                if frame.format.name.startswith("s16"):
                    data /= 32768.0
                elif frame.format.name.startswith("s32"):
                    data /= 2147483648.0
                squares += float(np.square(data).sum())
                samples += data.size
    except (av.FFmpegError, IndexError) as exc:
        raise InvalidMediaError(f"the audio cannot be read: {exc}") from None
    if not samples:
        raise InvalidMediaError("the audio has no samples")
    rms = math.sqrt(squares / samples)
    return AssetInfo("audio", ext, mime, duration=duration,
                     loudness_dbfs=round(20 * math.log10(rms), 1) if rms > 0 else -120.0)


def _font(path: Path, ext: str, mime: str) -> AssetInfo:
    try:
        family = ImageFont.truetype(str(path), 24).getname()[0]
    except OSError as exc:
        raise InvalidMediaError(f"the font cannot be read: {exc}") from None
    return AssetInfo("font", ext, mime, font_family=family or None)


def _duration(container: av.container.InputContainer, stream: av.stream.Stream) -> float | None:
    if stream.duration and stream.time_base:
        return round(float(stream.duration * stream.time_base), 3)
    return round(container.duration / 1_000_000, 3) if container.duration else None


def _colours(rgb: Image.Image) -> tuple[str, ...]:
    from reelforge.media.analysis import palette

    small = cv2.cvtColor(np.asarray(rgb.resize((64, 64))), cv2.COLOR_RGB2BGR)
    return tuple(s.hex for s in palette(small, 3))


def _faces(rgb: Image.Image) -> int:
    from reelforge.media.faces import detect_faces_in

    side = 640 / max(rgb.size)
    gray = np.asarray(rgb.convert("L").resize((max(1, round(rgb.width * side)), max(1, round(rgb.height * side)))))
    return len(detect_faces_in(np.ascontiguousarray(gray), profile=False))


def _thumbnail(rgb: Image.Image) -> bytes:
    thumb = rgb.copy()
    thumb.thumbnail((THUMB_SIDE, THUMB_SIDE))
    out = io.BytesIO()
    thumb.save(out, "JPEG", quality=85)
    return out.getvalue()
