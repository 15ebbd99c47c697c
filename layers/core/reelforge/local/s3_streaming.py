"""Object bodies from the embedded S3 are streamed from moto's spooled file, not copied whole.

moto answers every GET by reading the whole object into memory (`FakeKey.value`) and, for a
Range request, slicing the requested bytes out of that copy. ffmpeg reading a 90 MB source
over a presigned URL sends a Range request at every seek, so each one cost a 90 MB copy:
hundreds of MB of churn and a peak of ~0.2 GB per concurrent reader. Here a GET's body is a
lazy view of the object that werkzeug sends in 1 MiB chunks, and a Range is a smaller view.
Only the embedded runtime installs this (`EmbeddedAWS` patches, removed on stop).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

_CHUNK = 1 << 20
_in_get = threading.local()
_over_http = threading.local()


class ObjectBody:
    """Bytes `start`..`stop` of a moto key, read chunk by chunk when iterated.

    Supports what moto's GET path and werkzeug do with a body: `len`, slicing (moto's Range
    handling), truth and iteration (werkzeug writes each chunk to the socket).
    """

    def __init__(self, key: Any, start: int = 0, stop: int | None = None) -> None:
        self._key = key
        self._start = start
        self._stop = key.size if stop is None else stop

    def __len__(self) -> int:
        return max(0, self._stop - self._start)

    def __getitem__(self, part: slice) -> ObjectBody:
        if not isinstance(part, slice) or part.step not in (None, 1):
            raise TypeError("ObjectBody supports contiguous slices only")
        start, stop, _ = part.indices(len(self))
        return ObjectBody(self._key, self._start + start, self._start + max(start, stop))

    def __iter__(self) -> Iterator[bytes]:
        pos = self._start
        while pos < self._stop:
            # The key's buffer is one file shared by every reader: seek and read together.
            with self._key.lock:
                buffer = self._key._value_buffer
                buffer.seek(pos)
                chunk = buffer.read(min(_CHUNK, self._stop - pos))
            if not chunk:  # the object was replaced or deleted under us: end the body
                return
            pos += len(chunk)
            yield chunk

    def __bytes__(self) -> bytes:
        return b"".join(self)


def streaming_value(original: property) -> property:
    """`FakeKey.value` that returns an ObjectBody inside a GET request, bytes elsewhere."""

    def value(key: Any) -> Any:
        if getattr(_in_get, "active", False):
            return ObjectBody(key)
        return original.fget(key)  # type: ignore[misc]

    return property(value, original.fset)


def over_http() -> bool:
    """Whether this thread is answering a request to a moto server of this process."""
    return getattr(_over_http, "active", False)


def serving_port() -> str | None:
    """The port of the moto server this thread is answering for, if any."""
    return getattr(_over_http, "port", None) if over_http() else None


def marks_http(original: Callable[..., Any]) -> Callable[..., Any]:
    """The embedded server's WSGI entry point, marking the thread while it answers."""

    def call(self: Any, environ: Any, start_response: Any) -> Any:
        _over_http.active, _over_http.port = True, environ.get("SERVER_PORT")
        try:
            return original(self, environ, start_response)
        finally:
            _over_http.active = False

    return call


def streaming_key_response(original: Callable[..., Any]) -> Callable[..., Any]:
    """`S3Response.key_response` that marks a GET so the key's value comes back lazily."""

    def key_response(self: Any, request: Any, full_url: str, headers: dict[str, Any]) -> Any:
        # Only GETs the embedded server answers over HTTP: an in-process mock_aws in the same
        # interpreter (a unit test while the embedded stack runs) needs the bytes themselves.
        if request.method != "GET" or not over_http():
            return original(self, request, full_url, headers)
        _in_get.active = True
        try:
            return original(self, request, full_url, headers)
        finally:
            _in_get.active = False

    return key_response
