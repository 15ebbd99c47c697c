"""Serve a byte object over HTTP with range requests, as RFC 9110 defines them.

Video players seek (and resume downloads) with `Range: bytes=...`; without proper answers a
`<video>` element cannot scrub. This module knows nothing about S3 or the store: a caller wraps
its object in a `ByteSource` (size, strong ETag, Last-Modified, a span reader) and returns
`range_response(request, source, media_type=...)`. Covered: Range and Content-Range
(RFC 9110 14.1-14.4), If-Range (13.1.5), 206 single and multipart/byteranges (15.3.7, 14.6) and
416 (15.5.17). Other preconditions (If-None-Match, If-Modified-Since: 304) are left to the caller.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

__all__ = [
    "MAX_RANGES",
    "ByteSource",
    "Unsatisfiable",
    "coalesce_ranges",
    "parse_range",
    "range_response",
]

# More (satisfiable) ranges than this in one request is a sign of abuse, not of a player seeking
# (RFC 9110 14.2 lets a server ignore such a Range): the whole representation is sent instead.
MAX_RANGES = 50

_OWS = " \t"
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_INT_RANGE = re.compile(r"([0-9]+)-([0-9]*)")
_SUFFIX_RANGE = re.compile(r"-([0-9]+)")
_ENTITY_TAG = re.compile(r'"[\x21\x23-\x7e\x80-\xff]*"')
# Positions with more significant digits than this are beyond any real object; they are capped
# so that a header such as `bytes=0-99999...` (thousands of digits) costs nothing to evaluate.
_MAX_DIGITS = 18
_HUGE = 10**_MAX_DIGITS

_DAY = r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
_DAY_LONG = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH = "(" + "|".join(_MONTHS) + ")"
_TIME = r"([0-9]{2}):([0-9]{2}):([0-9]{2})"
# The three HTTP-date forms a recipient must accept (RFC 9110 5.6.7); HTTP-date is case-sensitive.
_IMF_FIXDATE = re.compile(rf"{_DAY}, ([0-9]{{2}}) {_MONTH} ([0-9]{{4}}) {_TIME} GMT")
_RFC850_DATE = re.compile(rf"{_DAY_LONG}, ([0-9]{{2}})-{_MONTH}-([0-9]{{2}}) {_TIME} GMT")
_ASCTIME_DATE = re.compile(rf"{_DAY} {_MONTH} ([0-9]{{2}}| [0-9]) {_TIME} ([0-9]{{4}})")


@dataclass(frozen=True)
class ByteSource:
    """What range_response needs to know about an object; `read` is only called for bytes sent.

    `etag` is a strong entity tag including its quotes (`'"abc123"'`): If-Range compares it
    strongly, so a weak tag here never lets a partial response through. `last_modified` is an
    aware datetime (naive is taken as UTC) or None. `read(start, end)` yields the bytes of the
    inclusive span start..end, in chunks, so large objects never sit in memory.
    """

    size: int
    etag: str
    last_modified: datetime | None
    read: Callable[[int, int], Iterator[bytes]]

    def __post_init__(self) -> None:
        if self.size < 0:
            raise ValueError(f"size must be >= 0, not {self.size}")


class Unsatisfiable:
    """Returned (the class itself; compare with `is`) by parse_range when a valid byte-range
    set has no range that overlaps the object: the answer is 416 (RFC 9110 15.5.17)."""

    def __new__(cls) -> Unsatisfiable:  # a sentinel, never instantiated
        raise TypeError("Unsatisfiable is a sentinel: use the class itself")


def _significant(digits: str) -> str:
    return digits.lstrip("0")


def _position(digits: str) -> int:
    """1*DIGIT as an int, capped at _HUGE (larger values all mean "past the end")."""
    significant = _significant(digits)
    return _HUGE if len(significant) > _MAX_DIGITS else int(significant or "0")


def _less(a: str, b: str) -> bool:
    """Exact `int(a) < int(b)` for digit strings of any length, without converting them."""
    sa, sb = _significant(a), _significant(b)
    return (len(sa), sa) < (len(sb), sb)


def parse_range(header: str | None, size: int) -> list[tuple[int, int]] | type[Unsatisfiable] | None:
    """The satisfiable (start, end_inclusive) ranges of a Range header, in the order requested.

    None means "ignore the header and send 200": no header, a unit other than bytes, or a
    ranges-specifier that is invalid (RFC 9110 14.1.1 syntax, or `a-b` with b < a, 14.1.2).
    Unsatisfiable ranges are dropped (a first-pos at or past the end, `-0`; for an empty object
    every range); if none is left the result is `Unsatisfiable`. Ends are clamped to size - 1 and
    a suffix longer than the object selects all of it. OWS is accepted after `=` and around
    commas (RFC 9110's own example is `bytes= 0-999, 4500-5499, -1000`), and empty list elements
    are skipped (5.6.1). Ranges are neither sorted nor merged here: see coalesce_ranges.
    """
    if header is None:
        return None
    unit, equals, range_set = header.strip(_OWS).partition("=")
    if not equals or not _TOKEN.fullmatch(unit) or unit.lower() != "bytes":
        return None
    specs = [spec.strip(_OWS) for spec in range_set.split(",")]
    if not any(specs):  # range-set is 1#range-spec: at least one
        return None
    ranges: list[tuple[int, int]] = []
    for spec in specs:
        if not spec:
            continue
        if match := _INT_RANGE.fullmatch(spec):
            first, last = match.groups()
            if last and _less(last, first):
                return None
            start = _position(first)
            if start >= size:
                continue
            end = size - 1 if not last else min(_position(last), size - 1)
        elif match := _SUFFIX_RANGE.fullmatch(spec):
            length = _position(match[1])
            if length == 0 or size == 0:
                continue
            start, end = max(size - length, 0), size - 1
        else:  # other-range: valid for some other unit, never for bytes
            return None
        ranges.append((start, end))
    return ranges or Unsatisfiable


def coalesce_ranges(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Merge ranges that overlap or touch (RFC 9110 14.2 allows it, and it defeats requests that
    ask for the same bytes many times). The merged ranges keep the order in which their first
    member was requested: RFC 9110 15.3.7.2 says parts SHOULD follow the request's order."""
    indexed = sorted((start, end, index) for index, (start, end) in enumerate(ranges))
    merged: list[list[int]] = []
    for start, end, index in indexed:
        if merged and start <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], end)
            merged[-1][2] = min(merged[-1][2], index)
        else:
            merged.append([start, end, index])
    merged.sort(key=lambda group: group[2])
    return [(start, end) for start, end, _ in merged]


def _utc_second(moment: datetime) -> datetime:
    """The moment in UTC at HTTP-date resolution (whole seconds)."""
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return aware.replace(microsecond=0)


def _parse_http_date(value: str) -> datetime | None:
    """An HTTP-date in any of its three forms (RFC 9110 5.6.7) as an aware UTC datetime."""
    if match := _IMF_FIXDATE.fullmatch(value):
        day, month, year, hour, minute, second = match.groups()
        year_number = int(year)
    elif match := _RFC850_DATE.fullmatch(value):
        day, month, year, hour, minute, second = match.groups()
        # A two-digit year more than 50 years ahead is the latest such year in the past (5.6.7).
        this_year = datetime.now(UTC).year
        year_number = this_year // 100 * 100 + int(year)
        if year_number > this_year + 50:
            year_number -= 100
    elif match := _ASCTIME_DATE.fullmatch(value):
        month, day, hour, minute, second, year = match.groups()
        year_number = int(year)
    else:
        return None
    try:
        return datetime(year_number, _MONTHS.index(month) + 1, int(day), int(hour), int(minute),
                        int(second), tzinfo=UTC)
    except ValueError:  # 31 Feb, 25:00, a leap second...
        return None


def _http_date(moment: datetime) -> str:
    return format_datetime(_utc_second(moment), usegmt=True)


def _is_strong_tag(tag: str) -> bool:
    return _ENTITY_TAG.fullmatch(tag) is not None  # W/"..." does not match: weak


def _if_range_holds(request: Request, source: ByteSource) -> bool:
    """RFC 9110 13.1.5: true when the If-Range validator still names this representation (or
    there is none). An entity tag must match strongly (a weak one never does); a date must equal
    Last-Modified exactly. Anything else, a repeated field included, is false: send it all."""
    values = request.headers.getlist("if-range")
    if not values:
        return True
    if len(values) > 1:
        return False
    validator = values[0].strip(_OWS)
    if validator.startswith('"'):
        return _is_strong_tag(validator) and _is_strong_tag(source.etag) and validator == source.etag
    date = _parse_http_date(validator)
    return (date is not None and source.last_modified is not None
            and date == _utc_second(source.last_modified))


def _exactly(chunks: Iterable[bytes], length: int) -> Iterator[bytes]:
    """The chunks, cut at `length`; a source that comes up short raises rather than let the
    response end before its Content-Length (the connection is then aborted, not truncated)."""
    remaining = length
    for chunk in chunks:
        if remaining <= 0:
            break
        if len(chunk) > remaining:
            chunk = chunk[:remaining]
        remaining -= len(chunk)
        if chunk:
            yield bytes(chunk)
    if remaining > 0:
        raise RuntimeError(f"byte source yielded {length - remaining} of {length} bytes")


def _span(source: ByteSource, start: int, end: int) -> Iterator[bytes]:
    """The bytes start..end of the source; `read` is called only once the body is streamed."""
    yield from _exactly(source.read(start, end), end - start + 1)


def _body(head: bool, status: int, headers: dict[str, str], chunks: Iterator[bytes] | None) -> Response:
    """A response with an explicit Content-Length; HEAD (or an empty body) sends no bytes."""
    if head or chunks is None:
        return Response(b"", status_code=status, headers=headers)
    return StreamingResponse(chunks, status_code=status, headers=headers)


def _multipart(source: ByteSource, parts: list[tuple[int, int]], media_type: str,
               boundary: str) -> tuple[int, Iterator[bytes]]:
    """multipart/byteranges (RFC 9110 14.6, RFC 2046 5.1.1): the exact length, and the body.

    Each part is `--boundary CRLF Content-Type CRLF Content-Range CRLF CRLF bytes`, parts are
    separated by CRLF, and the body ends with `CRLF --boundary-- CRLF`.
    """
    heads = [
        ("\r\n" if index else "") + f"--{boundary}\r\nContent-Type: {media_type}\r\n"
        f"Content-Range: bytes {start}-{end}/{source.size}\r\n\r\n"
        for index, (start, end) in enumerate(parts)
    ]
    encoded = [head.encode("latin-1") for head in heads]
    closing = f"\r\n--{boundary}--\r\n".encode("latin-1")
    length = sum(len(head) for head in encoded) + sum(end - start + 1 for start, end in parts)
    length += len(closing)

    def body() -> Iterator[bytes]:
        for head, (start, end) in zip(encoded, parts, strict=True):
            yield head
            yield from _span(source, start, end)
        yield closing

    return length, body()


def range_response(request: Request, source: ByteSource, *, media_type: str,
                   headers: dict[str, str] | None = None) -> Response:
    """The response to a GET or HEAD of `source`: 200, 206 (one range or multipart) or 416.

    Every response carries Accept-Ranges, ETag, Last-Modified (when known), a Content-Type and an
    explicit Content-Length, plus the caller's `headers` (CORS, Cache-Control...); the framing
    and validator headers set here take precedence over the caller's. Range is honoured for GET
    and, with the same headers and no body, HEAD; other methods get the whole object. A second
    Range field (no valid combination exists) means the Range is ignored, like an invalid one.
    """
    method = request.method.upper()
    head = method == "HEAD"
    size = source.size
    base = {name.lower(): value for name, value in (headers or {}).items()}
    base["accept-ranges"] = "bytes"
    base["etag"] = source.etag
    if source.last_modified is not None:
        base["last-modified"] = _http_date(source.last_modified)

    ranges: list[tuple[int, int]] | type[Unsatisfiable] | None = None
    range_fields = request.headers.getlist("range") if method in ("GET", "HEAD") else []
    if len(range_fields) == 1 and _if_range_holds(request, source):
        ranges = parse_range(range_fields[0], size)

    if ranges is Unsatisfiable:
        detail = json.dumps({"detail": f"Range not satisfiable (size {size})"}).encode()
        base.update({"content-type": "application/json", "content-length": str(len(detail)),
                     "content-range": f"bytes */{size}"})
        return Response(b"" if head else detail, status_code=416, headers=base)

    if isinstance(ranges, list) and len(ranges) <= MAX_RANGES:
        parts = coalesce_ranges(ranges)
        if len(parts) == 1:
            start, end = parts[0]
            base.update({"content-type": media_type, "content-length": str(end - start + 1),
                         "content-range": f"bytes {start}-{end}/{size}"})
            return _body(head, 206, base, _span(source, start, end))
        boundary = secrets.token_hex(16)  # 128 random bits: never found inside the content
        length, chunks = _multipart(source, parts, media_type, boundary)
        base.update({"content-type": f"multipart/byteranges; boundary={boundary}",
                     "content-length": str(length)})
        return _body(head, 206, base, chunks)

    base.update({"content-type": media_type, "content-length": str(size)})
    return _body(head, 200, base, _span(source, 0, size - 1) if size else None)
