"""Still images to and from the cloud providers: the frames a vision model reads from a
reference video, the vendor shape nearest a scene's size, a generated picture fitted to that
size, and a scene picture made small enough for a vendor that takes only so much inline.

Every vision provider (Gemini, OpenAI, Claude) reads the same evidence: up to
``FRAME_COUNT`` JPEG frames, ``FRAME_WIDTH`` pixels wide, taken at the middles of equal
slices of the reference and labelled with their times. Frames rather than the video itself:
OpenAI's and Anthropic's APIs take no video, the same frames make the three analyses
comparable, and the request stays small whatever the upload's length or size (Gemini's
inline video stops at 20 MB; the upload limit is 100 MB).
"""

from __future__ import annotations

import io
import math
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from reelforge.errors import InvalidMediaError, ProviderError
from reelforge.media.frames import extract_frames
from reelforge.media.source import probe_video
from reelforge.works.schemas import Resolution

FRAME_COUNT = 12
FRAME_WIDTH = 512
JPEG_QUALITIES = (90, 80, 70, 60)


@dataclass(frozen=True)
class Frames:
    """JPEG frames of a video, in order, with the times (seconds) they were taken at."""

    duration_s: float
    times: tuple[float, ...]
    images: tuple[bytes, ...] = field(repr=False)


def sample_frames(video: Path, *, count: int = FRAME_COUNT, width: int = FRAME_WIDTH) -> Frames:
    """Up to `count` frames spread over `video` (fewer when it has fewer frames)."""
    source = probe_video(video)
    n = max(1, min(count, math.floor(source.duration * source.fps)))
    times = [source.duration * (i + 0.5) / n for i in range(n)]
    with tempfile.TemporaryDirectory(prefix="reelforge-frames-") as tmp:
        paths = extract_frames(video, times, tmp, width=min(width, source.width), video=source)
        images = tuple(path.read_bytes() for path in paths)
    return Frames(duration_s=source.duration, times=tuple(round(t, 2) for t in times), images=images)


def nearest_shape(size: Resolution, shapes: Iterable[str]) -> str:
    """The one of `shapes` ("9:16", "1024x1536", "720:1280") whose aspect is nearest `size`'s,
    compared as logarithms so that 2:1 and 1:2 are equally far from 1:1."""
    target = math.log(size.width / size.height)
    return min(shapes, key=lambda shape: abs(math.log(_aspect(shape)) - target))


def _aspect(shape: str) -> float:
    width, height = re.split(r"[:x]", shape)
    return int(width) / int(height)


def fitted_png(data: bytes, size: Resolution, vendor: str) -> bytes:
    """A vendor's picture, cropped and scaled to exactly `size` (the scene's frame), as PNG."""
    try:
        with Image.open(io.BytesIO(data)) as opened:
            picture = ImageOps.exif_transpose(opened).convert("RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise ProviderError(f"{vendor} returned an image that cannot be read ({type(exc).__name__})") from None
    fitted = ImageOps.fit(picture, (size.width, size.height), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    fitted.save(out, format="PNG")
    return out.getvalue()


def jpeg_within(data: bytes, max_bytes: int) -> bytes:
    """`data` itself when it fits in `max_bytes`, else re-encoded as JPEG at falling qualities
    until it does (the last try when none does: the vendor's client then says it is too big)."""
    if len(data) <= max_bytes:
        return data
    try:
        with Image.open(io.BytesIO(data)) as opened:
            picture = ImageOps.exif_transpose(opened).convert("RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise InvalidMediaError("the scene image cannot be read") from None
    for quality in JPEG_QUALITIES:
        out = io.BytesIO()
        picture.save(out, format="JPEG", quality=quality)
        if out.tell() <= max_bytes:
            break
    return out.getvalue()
