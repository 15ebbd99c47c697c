"""HTTP range requests (RFC 9110) served by reelforge.api.ranges, through a real FastAPI app."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from reelforge.api.ranges import (
    MAX_RANGES,
    ByteSource,
    Unsatisfiable,
    coalesce_ranges,
    parse_range,
    range_response,
)

SIZE = 1000
DATA = random.Random(9110).randbytes(SIZE)
ETAG = '"v1-abc123"'
MODIFIED = datetime(2024, 5, 6, 7, 8, 9, 500_000, tzinfo=UTC)  # sub-second part is not sent
MODIFIED_HTTP = "Mon, 06 May 2024 07:08:09 GMT"
MEDIA = "video/mp4"
EXTRA = {"Access-Control-Expose-Headers": "Content-Range, Accept-Ranges", "Cache-Control": "no-store"}


@dataclass
class Store:
    """In-memory bytes whose reads are recorded (HEAD and empty objects must not read)."""

    data: bytes
    calls: list[tuple[int, int]] = field(default_factory=list)

    def read(self, start: int, end: int) -> Iterator[bytes]:
        self.calls.append((start, end))
        assert 0 <= start <= end < len(self.data), (start, end)
        return (self.data[i : min(i + 64, end + 1)] for i in range(start, end + 1, 64))


@pytest.fixture
def stores() -> dict[str, Store]:
    return {"f": Store(DATA), "empty": Store(b"")}


@pytest.fixture
def client(stores: dict[str, Store]) -> Iterator[TestClient]:
    app = FastAPI()

    def serve(request: Request, store: Store, size: int, modified: datetime | None):
        source = ByteSource(size=size, etag=ETAG, last_modified=modified, read=store.read)
        return range_response(request, source, media_type=MEDIA, headers=EXTRA)

    @app.api_route("/f", methods=["GET", "HEAD"])
    def whole(request: Request):
        return serve(request, stores["f"], SIZE, MODIFIED)

    @app.api_route("/empty", methods=["GET", "HEAD"])
    def empty(request: Request):
        return serve(request, stores["empty"], 0, None)

    @app.post("/f")
    def post(request: Request):
        return serve(request, stores["f"], SIZE, MODIFIED)

    @app.get("/short")  # claims 1000 bytes, yields 10
    def short(request: Request):
        source = ByteSource(size=SIZE, etag=ETAG, last_modified=MODIFIED,
                            read=lambda start, end: iter([DATA[:10]]))
        return range_response(request, source, media_type=MEDIA)

    @app.get("/long")  # yields the whole payload whatever span is asked for
    def long(request: Request):
        source = ByteSource(size=SIZE, etag=ETAG, last_modified=MODIFIED,
                            read=lambda start, end: iter([DATA[:500], DATA[500:]]))
        return range_response(request, source, media_type=MEDIA)

    with TestClient(app) as test_client:
        yield test_client


def check_common(resp, media: str | None = MEDIA) -> None:
    assert resp.headers["accept-ranges"] == "bytes"
    assert resp.headers["etag"] == ETAG
    assert resp.headers["access-control-expose-headers"] == EXTRA["Access-Control-Expose-Headers"]
    assert resp.headers["cache-control"] == "no-store"
    if media is not None:
        assert resp.headers["content-type"] == media


def parse_multipart(resp) -> list[tuple[dict[str, str], bytes]]:
    """Split a multipart/byteranges body by the RFC 2046 grammar (CRLF everywhere)."""
    kind, _, param = resp.headers["content-type"].partition("; ")
    assert kind == "multipart/byteranges" and param.startswith("boundary=")
    delimiter = b"--" + param.removeprefix("boundary=").encode()
    body = resp.content
    assert len(body) == int(resp.headers["content-length"])
    assert body.startswith(delimiter + b"\r\n")
    assert body.endswith(b"\r\n" + delimiter + b"--\r\n")
    inner = body[len(delimiter) + 2 : -(len(delimiter) + 6)]
    parts = []
    for chunk in inner.split(b"\r\n" + delimiter + b"\r\n"):
        head, blank, content = chunk.partition(b"\r\n\r\n")
        assert blank
        fields = dict(line.decode().split(": ", 1) for line in head.split(b"\r\n"))
        parts.append((fields, content))
    return parts


# (Range header, status, Content-Range, (start, end) of the body in DATA or None for all of it)
TABLE = [
    pytest.param(None, 200, None, None, id="no-range"),
    pytest.param("bytes=0-99", 206, "bytes 0-99/1000", (0, 99), id="first-100"),
    pytest.param("bytes=100-", 206, "bytes 100-999/1000", (100, 999), id="open-ended"),
    pytest.param("bytes=-100", 206, "bytes 900-999/1000", (900, 999), id="suffix-last-100"),
    pytest.param("bytes=-5000", 206, "bytes 0-999/1000", (0, 999), id="suffix-longer-than-file"),
    pytest.param("bytes=900-5000", 206, "bytes 900-999/1000", (900, 999), id="end-clamped"),
    pytest.param("bytes=999-999", 206, "bytes 999-999/1000", (999, 999), id="last-byte"),
    pytest.param("bytes=0-0", 206, "bytes 0-0/1000", (0, 0), id="first-byte"),
    pytest.param("bytes=1000-", 416, "bytes */1000", (), id="start-at-end"),
    pytest.param("bytes=5000-6000", 416, "bytes */1000", (), id="start-past-end"),
    pytest.param("bytes=-0", 416, "bytes */1000", (), id="empty-suffix"),
    pytest.param("bytes=1000-,-0", 416, "bytes */1000", (), id="all-unsatisfiable"),
    pytest.param("bytes=5-2", 200, None, None, id="last-before-first-invalid"),
    pytest.param("bytes=abc", 200, None, None, id="garbage"),
    pytest.param("items=0-5", 200, None, None, id="other-unit"),
    pytest.param("bytes=", 200, None, None, id="empty-set"),
    pytest.param("bytes", 200, None, None, id="no-equals"),
    pytest.param("bytes=-", 200, None, None, id="lone-dash"),
    pytest.param("bytes=,", 200, None, None, id="only-commas"),
    pytest.param("bytes=1-2-3", 200, None, None, id="two-dashes"),
    pytest.param("bytes=+1-5", 200, None, None, id="signed"),
    pytest.param("bytes=0 - 9", 200, None, None, id="space-inside-spec"),
    pytest.param("bytes=0-9,abc", 200, None, None, id="one-bad-spec-voids-all"),
    pytest.param("bytes=0-9,5-2", 200, None, None, id="one-inverted-spec-voids-all"),
    pytest.param("bytes =0-9", 200, None, None, id="space-before-equals"),
    pytest.param("BYTES=0-9", 206, "bytes 0-9/1000", (0, 9), id="unit-case-insensitive"),
    pytest.param("bytes=\t10-19 ", 206, "bytes 10-19/1000", (10, 19), id="ows"),
    pytest.param("bytes=0-10,5-20", 206, "bytes 0-20/1000", (0, 20), id="overlap-coalesced"),
    pytest.param("bytes=0-9,10-19", 206, "bytes 0-19/1000", (0, 19), id="adjacent-coalesced"),
    pytest.param("bytes=5-9,0-99,50-", 206, "bytes 0-999/1000", (0, 999), id="chain-coalesced"),
    pytest.param("bytes=1000-,0-4", 206, "bytes 0-4/1000", (0, 4), id="unsatisfiable-dropped"),
    pytest.param("bytes=0-9,,", 206, "bytes 0-9/1000", (0, 9), id="empty-elements-skipped"),
    pytest.param("bytes=0-" + "9" * 5000, 206, "bytes 0-999/1000", (0, 999), id="huge-last-pos"),
    pytest.param("bytes=" + "9" * 5000 + "-", 416, "bytes */1000", (), id="huge-first-pos"),
    pytest.param("bytes=" + "0" * 40 + "7-" + "0" * 40 + "8", 206, "bytes 7-8/1000", (7, 8),
                 id="leading-zeros"),
]


@pytest.mark.parametrize(("range_header", "status", "content_range", "span"), TABLE)
def test_get_table(client: TestClient, range_header, status, content_range, span) -> None:
    resp = client.get("/f", headers={"Range": range_header} if range_header else {})
    assert resp.status_code == status
    assert resp.headers.get("content-range") == content_range
    check_common(resp, "application/json" if status == 416 else MEDIA)
    assert resp.headers["last-modified"] == MODIFIED_HTTP
    assert int(resp.headers["content-length"]) == len(resp.content)
    if status == 416:
        assert resp.json() == {"detail": "Range not satisfiable (size 1000)"}
    elif span is None:
        assert resp.content == DATA
    else:
        assert resp.content == DATA[span[0] : span[1] + 1]


@pytest.mark.parametrize(("range_header", "expected"), [
    pytest.param("bytes=0-9,20-29", [(0, 9), (20, 29)], id="two"),
    pytest.param("bytes= 0-9 , 20-29", [(0, 9), (20, 29)], id="whitespace"),
    pytest.param("bytes=0-0,-1", [(0, 0), (999, 999)], id="first-and-last-byte"),
    pytest.param("bytes=500-,0-9,5-12,2000-", [(500, 999), (0, 12)], id="request-order-kept"),
    pytest.param("bytes=0-9,20-29,10-15", [(0, 15), (20, 29)], id="merged-part-at-first-place"),
])
def test_multipart(client: TestClient, stores: dict[str, Store], range_header, expected) -> None:
    resp = client.get("/f", headers={"Range": range_header})
    assert resp.status_code == 206
    assert "content-range" not in resp.headers
    check_common(resp, media=None)
    parts = parse_multipart(resp)
    assert [(fields["Content-Type"], fields["Content-Range"]) for fields, _ in parts] == [
        (MEDIA, f"bytes {start}-{end}/1000") for start, end in expected
    ]
    assert [content for _, content in parts] == [DATA[start : end + 1] for start, end in expected]
    assert stores["f"].calls == expected


def test_multipart_at_the_limit_and_past_it(client: TestClient) -> None:
    specs = [f"{i * 10}-{i * 10 + 4}" for i in range(MAX_RANGES + 1)]
    resp = client.get("/f", headers={"Range": "bytes=" + ",".join(specs[:MAX_RANGES])})
    assert resp.status_code == 206
    parts = parse_multipart(resp)
    assert len(parts) == MAX_RANGES
    assert parts[-1] == ({"Content-Type": MEDIA, "Content-Range": "bytes 490-494/1000"}, DATA[490:495])
    resp = client.get("/f", headers={"Range": "bytes=" + ",".join(specs)})
    assert resp.status_code == 200 and resp.content == DATA
    assert "content-range" not in resp.headers
    # Abuse by repetition counts too, even though it would coalesce to one range.
    resp = client.get("/f", headers={"Range": "bytes=" + ",".join(["0-0"] * (MAX_RANGES + 1))})
    assert resp.status_code == 200 and resp.content == DATA


def test_multipart_boundary_is_fresh(client: TestClient) -> None:
    first, second = (client.get("/f", headers={"Range": "bytes=0-1,5-6"}) for _ in range(2))
    assert first.headers["content-type"] != second.headers["content-type"]
    assert first.headers["content-length"] == second.headers["content-length"]


@pytest.mark.parametrize(("if_range", "partial"), [
    pytest.param(ETAG, True, id="etag-matches"),
    pytest.param('"v2-other"', False, id="etag-differs"),
    pytest.param(f"W/{ETAG}", False, id="weak-etag-never-matches"),
    pytest.param('"v1-abc123', False, id="unterminated-etag"),
    pytest.param(MODIFIED_HTTP, True, id="date-equals-last-modified"),
    pytest.param("Monday, 06-May-24 07:08:09 GMT", True, id="rfc850-date-equal"),
    pytest.param("Mon May  6 07:08:09 2024", True, id="asctime-date-equal"),
    pytest.param("Mon, 06 May 2024 07:08:10 GMT", False, id="date-one-second-later"),
    pytest.param("Mon, 06 May 2024 07:08:08 GMT", False, id="date-one-second-earlier"),
    pytest.param("mon, 06 may 2024 07:08:09 gmt", False, id="date-wrong-case"),
    pytest.param("yesterday", False, id="garbage"),
])
def test_if_range(client: TestClient, if_range: str, partial: bool) -> None:
    resp = client.get("/f", headers={"Range": "bytes=0-99", "If-Range": if_range})
    if partial:
        assert resp.status_code == 206
        assert resp.headers["content-range"] == "bytes 0-99/1000"
        assert resp.content == DATA[:100]
    else:
        assert resp.status_code == 200
        assert "content-range" not in resp.headers
        assert resp.content == DATA
    assert int(resp.headers["content-length"]) == len(resp.content)


def test_if_range_false_beats_unsatisfiable_range(client: TestClient) -> None:
    resp = client.get("/f", headers={"Range": "bytes=5000-", "If-Range": '"old"'})
    assert resp.status_code == 200 and resp.content == DATA


def test_if_range_without_range_is_ignored(client: TestClient) -> None:
    resp = client.get("/f", headers={"If-Range": '"old"'})
    assert resp.status_code == 200 and resp.content == DATA


def test_repeated_range_or_if_range_fields(client: TestClient) -> None:
    resp = client.get("/f", headers=[("Range", "bytes=0-1"), ("Range", "bytes=2-3")])
    assert resp.status_code == 200 and resp.content == DATA
    resp = client.get("/f", headers=[("Range", "bytes=0-1"), ("If-Range", ETAG), ("If-Range", ETAG)])
    assert resp.status_code == 200 and resp.content == DATA


@pytest.mark.parametrize(("range_header", "status", "content_range", "length"), [
    pytest.param(None, 200, None, "1000", id="no-range"),
    pytest.param("bytes=0-99", 206, "bytes 0-99/1000", "100", id="single"),
    pytest.param("bytes=-1", 206, "bytes 999-999/1000", "1", id="suffix"),
    pytest.param("bytes=1000-", 416, "bytes */1000", None, id="unsatisfiable"),
])
def test_head(client: TestClient, stores: dict[str, Store], range_header, status, content_range,
              length) -> None:
    headers = {"Range": range_header} if range_header else {}
    resp = client.head("/f", headers=headers)
    get = client.get("/f", headers=headers)
    assert resp.status_code == status == get.status_code
    assert resp.content == b""
    assert resp.headers.get("content-range") == content_range
    assert resp.headers["content-length"] == (length or get.headers["content-length"])
    check_common(resp, "application/json" if status == 416 else MEDIA)
    assert resp.headers["last-modified"] == MODIFIED_HTTP
    stores["f"].calls.clear()
    client.head("/f", headers=headers)
    assert stores["f"].calls == []


def test_head_multipart_has_get_length(client: TestClient, stores: dict[str, Store]) -> None:
    resp = client.head("/f", headers={"Range": "bytes=0-9,20-29"})
    get = client.get("/f", headers={"Range": "bytes=0-9,20-29"})
    assert resp.status_code == 206 and resp.content == b""
    assert resp.headers["content-type"].startswith("multipart/byteranges; boundary=")
    assert resp.headers["content-length"] == get.headers["content-length"]
    assert stores["f"].calls == [(0, 9), (20, 29)]  # GET's only


def test_range_ignored_for_other_methods(client: TestClient) -> None:
    resp = client.post("/f", headers={"Range": "bytes=0-9"})
    assert resp.status_code == 200 and resp.content == DATA


@pytest.mark.parametrize(("method", "range_header", "status"), [
    pytest.param("GET", None, 200, id="get"),
    pytest.param("HEAD", None, 200, id="head"),
    pytest.param("GET", "bytes=0-", 416, id="open-range"),
    pytest.param("GET", "bytes=0-0", 416, id="first-byte"),
    pytest.param("GET", "bytes=-5", 416, id="suffix"),
    pytest.param("HEAD", "bytes=0-", 416, id="head-range"),
    pytest.param("GET", "bytes=5-2", 200, id="invalid-ignored"),
])
def test_empty_object(client: TestClient, stores: dict[str, Store], method, range_header,
                      status) -> None:
    resp = client.request(method, "/empty", headers={"Range": range_header} if range_header else {})
    assert resp.status_code == status
    check_common(resp, "application/json" if status == 416 else MEDIA)
    assert "last-modified" not in resp.headers
    if status == 416:
        assert resp.headers["content-range"] == "bytes */0"
        assert resp.content == (b"" if method == "HEAD" else b'{"detail": "Range not satisfiable (size 0)"}')
    else:
        assert "content-range" not in resp.headers
        assert resp.headers["content-length"] == "0" and resp.content == b""
    assert stores["empty"].calls == []


def test_if_range_date_without_last_modified_is_false(client: TestClient) -> None:
    resp = client.get("/empty", headers={"Range": "bytes=0-", "If-Range": MODIFIED_HTTP})
    assert resp.status_code == 200 and resp.content == b""


def test_long_source_is_cut_at_the_span(client: TestClient) -> None:
    resp = client.get("/long", headers={"Range": "bytes=0-9,20-29"})
    assert [content for _, content in parse_multipart(resp)] == [DATA[:10], DATA[:10]]


def test_short_source_fails_instead_of_truncating(client: TestClient) -> None:
    with pytest.raises(RuntimeError, match="yielded 10 of 1000 bytes"):
        client.get("/short")


@pytest.mark.parametrize(("header", "size", "expected"), [
    pytest.param(None, 1000, None, id="absent"),
    pytest.param("bytes=0-99", 1000, [(0, 99)], id="int-range"),
    pytest.param("bytes=-100", 1000, [(900, 999)], id="suffix"),
    pytest.param("bytes=-100", 10, [(0, 9)], id="suffix-whole"),
    pytest.param("bytes=5-", 10, [(5, 9)], id="open"),
    pytest.param("bytes=0-9, 5-7", 1000, [(0, 9), (5, 7)], id="not-merged-here"),
    pytest.param("bytes=20-29,0-9", 1000, [(20, 29), (0, 9)], id="order-kept"),
    pytest.param("bytes=0-9,,20-29", 1000, [(0, 9), (20, 29)], id="empty-element"),
    pytest.param("bytes=10-,0-0", 10, [(0, 0)], id="unsatisfiable-dropped"),
    pytest.param("bytes=-0", 1000, Unsatisfiable, id="zero-suffix"),
    pytest.param("bytes=10-", 10, Unsatisfiable, id="at-end"),
    pytest.param("bytes=0-", 0, Unsatisfiable, id="empty-open"),
    pytest.param("bytes=-1", 0, Unsatisfiable, id="empty-suffix"),
    pytest.param("bytes=5-2", 1000, None, id="inverted"),
    pytest.param("bytes=5-2", 0, None, id="inverted-empty"),
    pytest.param("bytes=99999999999999999999998-99999999999999999999999", 10, Unsatisfiable,
                 id="huge-ordered"),
    pytest.param("bytes=99999999999999999999999-99999999999999999999998", 10, None,
                 id="huge-inverted"),
    pytest.param("bytes=٠-٩", 1000, None, id="non-ascii-digits"),
    pytest.param("bytes=0x10-", 1000, None, id="hex"),
    pytest.param("items=0-1", 1000, None, id="unit"),
    pytest.param("by tes=0-1", 1000, None, id="unit-not-token"),
])
def test_parse_range(header, size, expected) -> None:
    assert parse_range(header, size) == expected


def test_unsatisfiable_is_a_sentinel() -> None:
    assert parse_range("bytes=-0", 5) is Unsatisfiable
    with pytest.raises(TypeError):
        Unsatisfiable()


@pytest.mark.parametrize(("ranges", "expected"), [
    pytest.param([], [], id="none"),
    pytest.param([(0, 9)], [(0, 9)], id="one"),
    pytest.param([(0, 10), (5, 20)], [(0, 20)], id="overlap"),
    pytest.param([(10, 19), (0, 9)], [(0, 19)], id="adjacent-reversed"),
    pytest.param([(0, 9), (11, 19)], [(0, 9), (11, 19)], id="gap-of-one"),
    pytest.param([(20, 29), (0, 9)], [(20, 29), (0, 9)], id="request-order"),
    pytest.param([(50, 60), (10, 19), (0, 9)], [(50, 60), (0, 19)], id="merged-takes-first-place"),
    pytest.param([(0, 99), (10, 20), (30, 40)], [(0, 99)], id="contained"),
])
def test_coalesce_ranges(ranges, expected) -> None:
    assert coalesce_ranges(ranges) == expected


def test_byte_source_rejects_negative_size() -> None:
    with pytest.raises(ValueError):
        ByteSource(size=-1, etag=ETAG, last_modified=None, read=Store(b"").read)
