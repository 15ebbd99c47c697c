"""Probe media with PyAV: the imageio-ffmpeg build ships no ffprobe.

Works on local paths and on http(s) URLs (an S3 presigned GET URL included): ffmpeg reads
the container header and the first frames with range requests, not the whole object.
"""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

import av
import av.error
import httpx

from reelforge.errors import IngestError, InvalidMediaError, TransientError
from reelforge.models import MediaInfo

DEFAULT_TIMEOUT_S = 20.0
# Demuxers that mean "one still image", which no video step can use.
_IMAGE_FORMATS = {"image2", "apng", "webp", "tiff", "bmp"}
# Enough packets to reach the first decodable video frame of any sane file, few enough to
# keep a URL probe to a few range reads.
_MAX_PACKETS_FOR_FIRST_FRAME = 400


def probe(source: str | Path, *, timeout: float = DEFAULT_TIMEOUT_S) -> MediaInfo:
    """Describe a local file or an http(s) URL; raise InvalidMediaError if it is not media.

    `timeout` bounds each network wait (open and every read), so a stalled server cannot hang
    a step. Network failures raise TransientError (5xx, timeouts) or IngestError (4xx).
    """
    src = str(source)
    remote = is_url(src)
    name = display_name(src)
    size = 0
    if not remote:
        path = Path(src)
        if not path.is_file():
            raise InvalidMediaError(f"not a media file: {name} does not exist")
        size = path.stat().st_size
        if size == 0:
            raise InvalidMediaError(f"not a media file: {name} is empty")

    container = _open(src, name, remote, timeout)
    with container:
        try:
            info = _describe(container, name)
        except InvalidMediaError as exc:
            cause = exc.__cause__
            if remote and isinstance(cause, _NETWORK_ERRORS):  # a stall while reading frames
                raise _network_error(cause, name, timeout) from cause
            raise
        if remote:
            size = container.size if container.size and container.size > 0 else 0
            size = size or remote_size(src, timeout=timeout)
        return MediaInfo(size_bytes=size, **info)


def is_url(source: str | Path) -> bool:
    return isinstance(source, str) and source.lower().startswith(("http://", "https://"))


def display_name(source: str | Path) -> str:
    """A name safe for messages: a URL loses its query string, which may hold a signature,
    and a presigned URL of our own bucket shows only the file name (not the endpoint,
    bucket and key layout, which are internals)."""
    src = str(source)
    if is_url(src):
        parts = urlsplit(src)
        if "x-amz-signature=" in parts.query.lower():
            return PurePosixPath(unquote(parts.path)).name or "the stored file"
        return f"{parts.scheme}://{parts.netloc}{parts.path}"
    return Path(src).name


def remote_size(url: str, *, timeout: float = DEFAULT_TIMEOUT_S) -> int:
    """Content length of a URL: HEAD first, then a 1-byte ranged GET (presigned GET URLs refuse HEAD)."""
    try:
        with httpx.Client(timeout=timeout, follow_redirects=True) as client:
            head = client.head(url)
            if head.is_success and head.headers.get("content-length", "").isdecimal():
                return int(head.headers["content-length"])
            with client.stream("GET", url, headers={"Range": "bytes=0-0"}) as resp:
                total = re.search(r"/(\d+)\s*$", resp.headers.get("content-range", ""))
                if total:
                    return int(total.group(1))
                if resp.status_code == 200 and resp.headers.get("content-length", "").isdecimal():
                    return int(resp.headers["content-length"])
    except httpx.HTTPError:
        pass
    return 0


_NETWORK_ERRORS = (
    av.error.ExitError,  # PyAV's interrupt callback fired: the timeout ran out
    av.error.TimeoutError,
    av.error.ConnectionRefusedError,
    av.error.ConnectionResetError,
    av.error.ConnectionAbortedError,
    av.error.HTTPError,  # 5xx
    av.error.HTTPClientError,  # 4xx
)


def _open(src: str, name: str, remote: bool, timeout: float) -> av.container.InputContainer:
    try:
        if remote:
            return av.open(src, timeout=(timeout, timeout))
        return av.open(src)
    except av.error.FFmpegError as exc:
        if remote and isinstance(exc, _NETWORK_ERRORS):
            raise _network_error(exc, name, timeout) from exc
        raise InvalidMediaError(f"not a media file: {name}: {_reason(exc)}") from exc


def _network_error(exc: av.error.FFmpegError, name: str, timeout: float) -> Exception:
    """4xx: the URL is wrong or expired, retrying cannot help; the rest is worth a retry."""
    if isinstance(exc, av.error.HTTPClientError):
        return IngestError(f"cannot fetch {name}: HTTP {_http_status(exc)}")
    if isinstance(exc, av.error.HTTPServerError):
        return TransientError(f"cannot fetch {name}: server error {_http_status(exc)}")
    if isinstance(exc, av.error.ExitError | av.error.TimeoutError):
        return TransientError(f"cannot fetch {name}: no answer within {timeout:g}s")
    return TransientError(f"cannot fetch {name}: {_reason(exc)}")


def _describe(container: av.container.InputContainer, name: str) -> dict:
    fmt = container.format.name
    videos = [
        s
        for s in container.streams.video
        if not (s.disposition & av.stream.Disposition.attached_pic)  # mp3/m4a cover art
    ]
    audios = list(container.streams.audio)
    if not videos and not audios:  # subtitles only, or a truncated header
        raise InvalidMediaError(f"not a media file: no audio or video stream in {name}")
    if not audios and (fmt in _IMAGE_FORMATS or fmt.endswith("_pipe")):
        raise InvalidMediaError(f"not a media file: {name} is a still image ({fmt})")

    info: dict = {
        "format_name": fmt,
        "has_video": bool(videos),
        "has_audio": bool(audios),
    }
    if videos:
        v = videos[0]
        rate = v.average_rate or v.guessed_rate
        info |= {
            "width": v.codec_context.width or None,
            "height": v.codec_context.height or None,
            "fps": round(float(rate), 3) if rate else None,
            "video_codec": v.codec_context.codec.canonical_name,
            "rotation": _rotation(container, v, name),
        }
    if audios:
        a = audios[0]
        info |= {
            "audio_codec": a.codec_context.codec.canonical_name,
            "audio_sample_rate": a.codec_context.sample_rate or None,
        }
    info["duration"] = _duration(container)  # last: its fallback reads to the end
    if info["duration"] <= 0:
        raise InvalidMediaError(f"not a media file: {name} has no duration")
    return info


def _duration(container: av.container.InputContainer) -> float:
    """Container duration, else the longest stream, else the last packet (raw streams)."""
    if container.duration and container.duration > 0:
        return container.duration / av.time_base
    spans = [
        float(s.duration * s.time_base)
        for s in container.streams
        if s.duration and s.time_base and s.type in ("video", "audio")
    ]
    if spans:
        return max(spans)
    end = Fraction(0)
    summed: dict[int, Fraction] = {}  # raw elementary streams have durations but no timestamps
    try:
        for packet in container.demux():
            if not packet.time_base:
                continue
            length = (packet.duration or 0) * packet.time_base
            summed[packet.stream.index] = summed.get(packet.stream.index, Fraction(0)) + length
            if packet.pts is not None:
                end = max(end, packet.pts * packet.time_base + length)
    except av.error.FFmpegError:
        pass
    return float(max(end, *summed.values(), Fraction(0)))


def _rotation(container: av.container.InputContainer, stream, name: str) -> int:
    """Clockwise degrees a player turns the picture (the legacy `rotate` tag; phones: 90).

    PyAV exposes the display matrix only on frames, so decode the first one; this also
    proves that the video stream is decodable.
    """
    tag = stream.metadata.get("rotate")
    if tag and tag.lstrip("-").isdecimal():
        return int(tag) % 360
    try:
        for i, packet in enumerate(container.demux(stream)):
            for frame in packet.decode():
                # The display matrix angle is counter-clockwise.
                return int(-frame.rotation) % 360
            if i >= _MAX_PACKETS_FOR_FIRST_FRAME:
                break
    except av.error.FFmpegError as exc:
        raise InvalidMediaError(
            f"video stream of {name} cannot be decoded: {_reason(exc)}"
        ) from exc
    raise InvalidMediaError(f"video stream of {name} has no decodable frame")


def _http_status(exc: av.error.FFmpegError) -> str:
    m = re.search(r"\b([45]\d\d)\b", str(exc))
    return m.group(1) if m else type(exc).__name__


def _reason(exc: av.error.FFmpegError) -> str:
    """ffmpeg's message without the file name, which PyAV appends (and may be a signed URL)."""
    return getattr(exc, "strerror", None) or type(exc).__name__
