"""URL ingest: SSRF refusals, and real fetches from a loopback HTTP server (no other network)."""

from __future__ import annotations

import functools
import hashlib
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from reelforge import ingest
from reelforge.errors import IngestError, ReelforgeError, TransientError
from reelforge.ingest import FetchedMedia, IngestPolicy, blocked_reason, fetch, validate_url

MB = 1_000_000
VIDEO = bytes(range(256)) * 4096  # 1 MiB, every byte value
BIG = b"\0" * (3 * MB)

STRICT = IngestPolicy(max_bytes=10 * MB)
LOCAL = IngestPolicy(max_bytes=10 * MB, allow_hosts=frozenset({"127.0.0.1"}), timeout_s=5)


# --------------------------------------------------------------------------- server


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # so /big-chunked can use Transfer-Encoding: chunked

    def log_message(self, *args: object) -> None:
        pass

    def _send(self, status: int, body: bytes = b"", **headers: str) -> None:
        self.send_response(status)
        headers = {name.replace("_", "-"): value for name, value in headers.items()}
        headers.setdefault("Content-Type", "video/mp4")
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def _redirect(self, location: str) -> None:
        self._send(302, Location=location, Content_Type="text/plain")

    def do_GET(self) -> None:
        port = self.server.server_address[1]
        path = self.path.split("?", 1)[0]
        if path == "/video.mp4":
            self._send(200, VIDEO)
        elif path == "/r1":
            self._redirect("/r2")
        elif path == "/r2":
            self._redirect(f"http://127.0.0.1:{port}/video.mp4")
        elif path == "/loop":
            self._redirect("/loop")
        elif path == "/to-metadata":
            self._redirect("http://169.254.169.254/latest/meta-data/")
        elif path == "/to-file":
            self._redirect("file:///etc/passwd")
        elif path == "/download":
            self._send(
                200, VIDEO, Content_Disposition='attachment; filename="../../my clip (1).mp4"'
            )
        elif path == "/big":
            self._send(200, BIG)
        elif path == "/big-chunked":
            self._chunked(BIG)
        elif path == "/missing":
            self._send(404, b"not here", Content_Type="text/plain")
        elif path == "/forbidden":
            self._send(403, b"no", Content_Type="text/plain")
        elif path == "/busy":
            self._send(503, b"later", Content_Type="text/plain")
        elif path == "/page.html":
            html = b'<html><head><title>A page</title></head><body><video src="/video.mp4"></video>'
            self._send(200, html, Content_Type="text/html; charset=utf-8")
        elif path == "/chunked.html":
            html = b'<html><body><video src="/big-chunked"></video>'
            self._send(200, html, Content_Type="text/html")
        elif path == "/evil.html":
            # 127.0.0.2 is loopback too, but only 127.0.0.1 is allowed.
            html = f'<html><body><video src="http://127.0.0.2:{port}/video.mp4"></video>'.encode()
            self._send(200, html, Content_Type="text/html")
        else:
            self._send(500, b"?", Content_Type="text/plain")

    def _chunked(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "video/mp4")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")
        self.end_headers()
        try:
            for i in range(0, len(body), 64 * 1024):
                chunk = body[i : i + 64 * 1024]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")
        except OSError:
            pass  # the client hung up at its limit, as it should


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # broken pipes when the client aborts a big body


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = _Server(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


# --------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1/v.mp4",
        "http://172.16.5.4/v.mp4",
        "http://192.168.1.1/v.mp4",
        "http://[fc00::1]/v.mp4",
        "http://[fd12:3456::1]/v.mp4",
        "http://127.0.0.1/v.mp4",
        "http://127.8.9.10:8080/v.mp4",
        "http://[::1]/v.mp4",
        "http://localhost/v.mp4",
        "http://localhost./v.mp4",
        "http://169.254.169.254/latest/meta-data/",
        "http://169.254.1.1/",
        "http://[fe80::1]/",
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://0.0.0.0/",
        "http://[::]/",
        "http://224.0.0.1/",
        "http://239.255.255.250/",
        "http://[ff02::1]/",
        "http://240.0.0.1/",
        "http://255.255.255.255/",
        "http://100.64.0.1/",
        "http://100.127.255.254/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:169.254.169.254]/",
        "http://[::ffff:10.0.0.1]/",
        "http://[64:ff9b::a9fe:a9fe]/",
        "http://[2002:7f00:1::]/",
        "http://2130706433/",
        "http://0x7f.1/",
        "http://0x7f000001/",
        "http://017700000001/",
        "http://0177.0.0.1/",
        "http://127.1/",
        "HTTP://LOCALHOST/",
    ],
)
def test_refuses_non_public_addresses(url: str) -> None:
    with pytest.raises(IngestError, match="refusing to fetch"):
        validate_url(url, STRICT)


@pytest.mark.parametrize(
    ("address", "category"),
    [
        ("10.1.2.3", "private"),
        ("127.0.0.1", "loopback"),
        ("169.254.169.254", "metadata"),
        ("fd00:ec2::254", "metadata"),
        ("fe80::1", "link-local"),
        ("100.64.0.1", "carrier-grade NAT"),
        ("224.0.0.1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("::ffff:127.0.0.1", "loopback"),
    ],
)
def test_blocked_reason_names_the_category(address: str, category: str) -> None:
    assert category in (blocked_reason(address) or "")


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700::1111"])
def test_public_addresses_pass(address: str) -> None:
    assert blocked_reason(address) is None


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://example.com/v.mp4",
        "gopher://127.0.0.1:6379/_INFO",
        "data:video/mp4;base64,AAAA",
        "javascript:alert(1)",
        "dict://127.0.0.1:11211/stat",
        "//example.com/v.mp4",
        "example.com/v.mp4",
    ],
)
def test_refuses_other_schemes(url: str) -> None:
    with pytest.raises(IngestError, match="only http and https"):
        validate_url(url, STRICT)


@pytest.mark.parametrize(
    "url",
    [
        "http://user:pass@example.com/v.mp4",
        "http://user@example.com/v.mp4",
        "http://example.com\\@127.0.0.1/v.mp4",
    ],
)
def test_refuses_credentials(url: str) -> None:
    with pytest.raises(IngestError, match="credentials"):
        validate_url(url, STRICT)


@pytest.mark.parametrize("url", ["http:///v.mp4", "https://", "http://:80/"])
def test_refuses_missing_host(url: str) -> None:
    with pytest.raises(IngestError, match="no host"):
        validate_url(url, STRICT)


def test_refuses_whitespace_tricks() -> None:
    with pytest.raises(IngestError, match="whitespace"):
        validate_url("http://exam\nple.com/", STRICT)


def test_unresolvable_host() -> None:
    with pytest.raises(IngestError, match="cannot resolve host"):
        validate_url("http://no-such-host.invalid/v.mp4", STRICT)


def test_refuses_when_any_resolved_address_is_private(monkeypatch: pytest.MonkeyPatch) -> None:
    def fake(host: str, port: int, *args: object, **kwargs: object) -> list[tuple]:
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.5", port)),
        ]

    monkeypatch.setattr(ingest, "_getaddrinfo", fake)
    with pytest.raises(IngestError, match=r"private address \(10\.0\.0\.5\)"):
        validate_url("https://cdn.example.com/v.mp4", STRICT)


def test_allow_hosts_lets_loopback_through() -> None:
    validate_url("http://127.0.0.1:8000/v.mp4", LOCAL)
    allow_name = IngestPolicy(max_bytes=MB, allow_hosts=frozenset({"localhost"}))
    validate_url("http://localhost:8000/v.mp4", allow_name)
    with pytest.raises(IngestError):
        validate_url("http://10.0.0.1/v.mp4", LOCAL)


# --------------------------------------------------------------------------- direct fetch


def test_fetches_file_intact(server: str, tmp_path: Path) -> None:
    media = fetch(f"{server}/video.mp4", tmp_path, LOCAL)
    assert isinstance(media, FetchedMedia)
    assert media.path == tmp_path / "video.mp4"
    assert hashlib.sha256(media.path.read_bytes()).digest() == hashlib.sha256(VIDEO).digest()
    assert media.size_bytes == len(VIDEO)
    assert media.content_type == "video/mp4"
    assert media.source_url == f"{server}/video.mp4"
    assert [p.name for p in tmp_path.iterdir()] == ["video.mp4"]  # no .part left


def test_follows_redirect_chain(server: str, tmp_path: Path) -> None:
    media = fetch(f"{server}/r1", tmp_path, LOCAL)
    assert media.path.read_bytes() == VIDEO
    assert media.source_url == f"{server}/video.mp4"


def test_redirect_limit(server: str, tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="too many redirects"):
        fetch(f"{server}/loop", tmp_path, LOCAL)
    two_hops = IngestPolicy(max_bytes=10 * MB, allow_hosts=LOCAL.allow_hosts, max_redirects=1)
    with pytest.raises(IngestError, match="too many redirects"):
        fetch(f"{server}/r1", tmp_path, two_hops)


@pytest.mark.parametrize(
    ("path", "match"), [("/to-metadata", "metadata"), ("/to-file", "only http and https")]
)
def test_redirect_targets_are_checked(server: str, tmp_path: Path, path: str, match: str) -> None:
    with pytest.raises(IngestError, match=match):
        fetch(f"{server}{path}", tmp_path, LOCAL)
    assert list(tmp_path.iterdir()) == []


def test_file_name_from_content_disposition_is_sanitized(server: str, tmp_path: Path) -> None:
    media = fetch(f"{server}/download", tmp_path, LOCAL)
    assert media.path == tmp_path / "my_clip_1_.mp4"
    assert media.path.read_bytes() == VIDEO


@pytest.mark.parametrize(
    ("raw", "content_type", "expected"),
    [
        ("", "video/mp4", "source.mp4"),
        ("..", "", "source.mp4"),
        ("../../etc/passwd", "", "passwd.mp4"),
        ("clip", "video/webm", "clip.webm"),
        ("ünïcode vidéo.mov", "", "n_code_vid_o.mov"),
        ("a\\b\\c.mkv", "", "c.mkv"),
    ],
)
def test_file_name(raw: str, content_type: str, expected: str) -> None:
    assert ingest._file_name(raw, content_type) == expected


def test_refuses_big_body_by_content_length(server: str, tmp_path: Path) -> None:
    small = IngestPolicy(max_bytes=MB, allow_hosts=LOCAL.allow_hosts)
    with pytest.raises(IngestError, match="exceeds the 1 MB limit"):
        fetch(f"{server}/big", tmp_path, small)
    assert list(tmp_path.iterdir()) == []


def test_aborts_chunked_body_at_the_limit(server: str, tmp_path: Path) -> None:
    small = IngestPolicy(max_bytes=MB, allow_hosts=LOCAL.allow_hosts)
    seen: list[float] = []
    with pytest.raises(IngestError, match="exceeds the 1 MB limit"):
        fetch(f"{server}/big-chunked", tmp_path, small, on_progress=seen.append)
    assert list(tmp_path.iterdir()) == []  # the partial file is gone
    assert seen == []  # no length, no fractions; and no 1.0 for a failed fetch


def test_chunked_body_under_the_limit(server: str, tmp_path: Path) -> None:
    media = fetch(f"{server}/big-chunked", tmp_path, LOCAL)
    assert media.size_bytes == len(BIG)


@pytest.mark.parametrize(
    ("path", "error"),
    [("/missing", IngestError), ("/forbidden", IngestError), ("/busy", TransientError)],
)
def test_http_errors(server: str, tmp_path: Path, path: str, error: type[Exception]) -> None:
    with pytest.raises(error) as info:
        fetch(f"{server}{path}", tmp_path, LOCAL)
    assert type(info.value) is error


def test_connection_refused_is_transient(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(TransientError):
        fetch(f"http://127.0.0.1:{port}/v.mp4", tmp_path, LOCAL)


def test_tries_each_checked_address(
    server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """First address unreachable (no listener on 127.0.0.3): the next checked one is used."""
    port = int(server.rsplit(":", 1)[1])

    def fake(host: str, port: int, *args: object, **kwargs: object) -> list[tuple]:
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.3", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port)),
        ]

    monkeypatch.setattr(ingest, "_getaddrinfo", fake)
    both = IngestPolicy(max_bytes=10 * MB, allow_hosts=frozenset({"127.0.0.1", "127.0.0.3"}))
    media = fetch(f"http://media.test:{port}/video.mp4", tmp_path, both)
    assert media.path.read_bytes() == VIDEO
    only_first = IngestPolicy(max_bytes=10 * MB, allow_hosts=frozenset({"127.0.0.3"}))
    with pytest.raises(IngestError, match="loopback"):  # every address is checked, not just one
        fetch(f"http://media.test:{port}/video.mp4", tmp_path, only_first)


def test_progress_reaches_one(server: str, tmp_path: Path) -> None:
    seen: list[float] = []
    fetch(f"{server}/video.mp4", tmp_path, LOCAL, on_progress=seen.append)
    assert seen[-1] == 1.0
    assert seen == sorted(seen)
    assert all(0.0 <= f <= 1.0 for f in seen)


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    pytest.importorskip("cryptography")
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def test_https_connects_to_checked_address_with_real_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The socket goes to the pinned IP, while SNI, certificate check and Host use the name."""
    cert_file, key_file = _self_signed(tmp_path)
    snis: list[str | None] = []
    hosts: list[str | None] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            hosts.append(self.headers["Host"])
            self.send_response(200)
            self.send_header("Content-Type", "video/mp4")
            self.send_header("Content-Length", "5")
            self.end_headers()
            self.wfile.write(b"video")

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    context.sni_callback = lambda _sock, name, _ctx: snis.append(name)
    httpd = _Server(("127.0.0.1", 0), Handler)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    port = httpd.server_address[1]
    url = f"https://localhost:{port}/clip.mp4"
    dest = tmp_path / "out"
    try:
        # The certificate is not in the public trust store: refused as invalid.
        with pytest.raises(IngestError, match="TLS certificate of localhost"):
            fetch(url, dest, LOCAL)
        # Trusting it, the fetch works, so it was checked against "localhost", not 127.0.0.1.
        trusting = ssl.create_default_context(cafile=str(cert_file))
        monkeypatch.setattr(
            ingest.httpx, "Client", functools.partial(ingest.httpx.Client, verify=trusting)
        )
        media = fetch(url, dest, LOCAL)
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert media.path.read_bytes() == b"video"
    assert hosts == [f"localhost:{port}"]
    assert snis and set(snis) == {"localhost"}


# --------------------------------------------------------------------------- web pages


@pytest.mark.parametrize(
    ("url", "page"),
    [
        ("https://www.youtube.com/watch?v=dQw4w9WgXcQ", True),
        ("https://youtu.be/dQw4w9WgXcQ", True),
        ("https://m.youtube.com/shorts/abcdefghijk", True),
        ("https://vimeo.com/76979871", True),
        ("https://www.dailymotion.com/video/x7tgad0", True),
        ("https://cdn.example.com/media/v.mp4", False),
        ("http://127.0.0.1:8000/video.mp4", False),
    ],
)
def test_web_page_decision(url: str, page: bool) -> None:
    assert ingest.is_web_page_url(url) is page


def test_html_page_goes_through_ytdlp(server: str, tmp_path: Path) -> None:
    seen: list[float] = []
    media = fetch(f"{server}/page.html", tmp_path, LOCAL, on_progress=seen.append)
    assert media.path.parent == tmp_path
    assert media.path.read_bytes() == VIDEO
    assert media.size_bytes == len(VIDEO)
    assert seen[-1] == 1.0


def test_ytdlp_media_urls_are_checked_too(server: str, tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="loopback"):
        fetch(f"{server}/evil.html", tmp_path, LOCAL)
    assert socket.getaddrinfo("127.0.0.2", 80)  # the guard ends with the download


@pytest.mark.parametrize(("path", "error"), [("/missing", IngestError), ("/busy", TransientError)])
def test_ytdlp_errors_are_mapped(
    server: str, tmp_path: Path, path: str, error: type[Exception]
) -> None:
    with pytest.raises(error) as info:
        ingest._download_with_ytdlp(f"{server}{path}", tmp_path, LOCAL, ingest._Progress(None))
    assert type(info.value) is error
    message = str(info.value)
    assert "ERROR" not in message and "\n" not in message and len(message) <= 300


def test_ytdlp_size_limit(server: str, tmp_path: Path) -> None:
    small = IngestPolicy(max_bytes=MB // 2, allow_hosts=LOCAL.allow_hosts)
    with pytest.raises(IngestError, match="exceeds"):
        fetch(f"{server}/page.html", tmp_path, small)


def test_ytdlp_aborts_chunked_media_at_the_limit(server: str, tmp_path: Path) -> None:
    small = IngestPolicy(max_bytes=MB, allow_hosts=LOCAL.allow_hosts)
    with pytest.raises(IngestError, match="exceeds the 1 MB limit"):
        fetch(f"{server}/chunked.html", tmp_path, small)
    assert list(tmp_path.iterdir()) == []  # yt-dlp's .part file is removed


def test_youtube_offline_fails_readably(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No internet here: point YouTube's names at loopback port 443, where nothing listens."""
    real = ingest._getaddrinfo

    def fake(host: object, port: object, *args: object, **kwargs: object) -> object:
        if isinstance(host, str) and "youtube" in host:
            host = "127.0.0.1"
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(ingest, "_getaddrinfo", fake)
    quick = IngestPolicy(max_bytes=MB, allow_hosts=frozenset({"127.0.0.1"}), timeout_s=1)
    started = time.monotonic()
    with pytest.raises(ReelforgeError) as info:
        fetch("https://www.youtube.com/watch?v=dQw4w9WgXcQ", tmp_path, quick)
    assert time.monotonic() - started < 15
    message = str(info.value)
    assert message and "\n" not in message and "Traceback" not in message
    assert len(message) <= 300
