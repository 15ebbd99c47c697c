"""Fetch a user-supplied video URL into a local file without letting the URL reach inside.

The URL comes from a user and the fetch runs inside our AWS account (Lambda), so every
hop is checked against server-side request forgery: only http(s), no credentials, and
every address the host resolves to must be public. Direct media is streamed with httpx
to the exact address that was checked (DNS rebinding cannot swap it), following
redirects by hand so each hop is checked again. Web pages (YouTube, Vimeo, any
text/html answer) go through yt-dlp, whose name lookups are filtered by the same check
for the duration of the download.
"""

from __future__ import annotations

import ipaddress
import mimetypes
import re
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

import httpx

from reelforge.errors import IngestError, TransientError

__all__ = [
    "FetchedMedia",
    "IngestPolicy",
    "fetch",
    "is_web_page_url",
    "validate_url",
]

ProgressFn = Callable[[float], None]

DEFAULT_FILE_NAME = "source.mp4"
YTDLP_FORMAT = "bv*[height<=1080][ext=mp4]+ba[ext=m4a]/b[height<=1080]/b"
_CHUNK = 256 * 1024
_REDIRECTS = {301, 302, 303, 307, 308}
_HTML_TYPES = {"text/html", "application/xhtml+xml"}

# Sites whose URLs are pages, not media; anything else a yt-dlp extractor claims also counts.
WEB_PAGE_HOSTS = frozenset(
    {
        "youtube.com",
        "youtu.be",
        "youtube-nocookie.com",
        "vimeo.com",
        "tiktok.com",
        "instagram.com",
        "facebook.com",
        "fb.watch",
        "twitter.com",
        "x.com",
        "twitch.tv",
        "dailymotion.com",
        "dai.ly",
        "reddit.com",
        "streamable.com",
        "loom.com",
        "rumble.com",
        "bilibili.com",
        "soundcloud.com",
    }
)

# Networks that is_private/is_global miss or that embed an IPv4 address worth checking.
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_AWS_METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}

# The real resolver, captured before _resolver_guard wraps socket.getaddrinfo.
_getaddrinfo = socket.getaddrinfo


@dataclass(frozen=True)
class IngestPolicy:
    """Limits for one fetch. `allow_hosts` skips the address check: tests and local dev only."""

    max_bytes: int
    allow_hosts: frozenset[str] = field(default_factory=frozenset)
    timeout_s: float = 30
    max_redirects: int = 5


@dataclass(frozen=True)
class FetchedMedia:
    path: Path
    content_type: str
    size_bytes: int
    source_url: str
    title: str | None = None


@dataclass(frozen=True)
class _Target:
    """A checked URL and the addresses to connect to (pinned against DNS rebinding)."""

    url: str
    scheme: str
    host: str
    port: int
    ips: tuple[str, ...]


# --------------------------------------------------------------------------- checks


def validate_url(url: str, policy: IngestPolicy) -> None:
    """Raise IngestError unless `url` is http(s) and its host resolves only to public addresses."""
    _check_url(url, policy)


def _check_url(url: str, policy: IngestPolicy) -> _Target:
    if not isinstance(url, str) or not url.strip():
        raise IngestError("no URL given")
    url = url.strip()
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise IngestError("the URL contains whitespace or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise IngestError(f"the URL is malformed: {exc}") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        shown = f"{scheme}:" if scheme else "(none)"
        raise IngestError(f"only http and https URLs can be fetched, not {shown}")
    if "@" in parts.netloc or parts.username is not None or parts.password is not None:
        raise IngestError("URLs with credentials (user:password@host) are not accepted")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise IngestError("the URL has no host")
    port = port or (443 if scheme == "https" else 80)
    addresses = _resolve(host, port)
    exempt = host in policy.allow_hosts
    for address in addresses:
        if exempt or address in policy.allow_hosts:
            continue
        reason = blocked_reason(address)
        if reason:
            raise IngestError(_refusal(host, address, reason))
    return _Target(url=url, scheme=scheme, host=host, port=port, ips=tuple(addresses))


def _refusal(host: str, address: str, reason: str) -> str:
    if host.strip("[]") == address:
        return f"refusing to fetch from {host}: it is {reason}"
    return f"refusing to fetch from {host}: it resolves to {reason} ({address})"


def _resolve(host: str, port: int) -> list[str]:
    """All addresses of `host`, in the resolver's preferred order."""
    try:
        infos = _getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise IngestError(f"cannot resolve host {host}") from exc
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise IngestError(f"cannot resolve host {host}")
    return addresses


def blocked_reason(address: str) -> str | None:
    """Why an address must not be fetched from (a category name), or None when it is public."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return "an unparseable address"
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip.teredo:
            embedded = ip.teredo[1]
        if embedded is None and any(ip in net for net in _NAT64):
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            inner = blocked_reason(str(embedded))
            return f"{inner} (embedded in an IPv6 address)" if inner else None
    if ip in _AWS_METADATA:
        return "the cloud metadata service"
    checks = (
        (ip.is_unspecified, "an unspecified address"),
        (ip.is_loopback, "a loopback address"),
        (ip.is_link_local, "a link-local address"),
        (ip.is_multicast, "a multicast address"),
        (isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT, "a carrier-grade NAT address"),
        (ip.is_reserved, "a reserved address"),
        (ip.is_private, "a private address"),
        (not ip.is_global, "a non-public address"),
    )
    return next((reason for hit, reason in checks if hit), None)


def is_web_page_url(url: str) -> bool:
    """True when the URL names a page for yt-dlp (known video site or a site extractor claims it)."""
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    if any(host == h or host.endswith("." + h) for h in WEB_PAGE_HOSTS):
        return True
    return any(ie.suitable(url) for ie in _site_extractors())


_extractors: list[Any] | None = None


def _site_extractors() -> list[Any]:
    """yt-dlp's extractor classes minus Generic (which claims every URL); loaded once."""
    global _extractors
    if _extractors is None:
        from yt_dlp.extractor import gen_extractor_classes

        _extractors = [ie for ie in gen_extractor_classes() if ie.ie_key() != "Generic"]
    return _extractors


# --------------------------------------------------------------------------- fetch


def fetch(
    url: str,
    dest_dir: Path | str,
    policy: IngestPolicy,
    on_progress: ProgressFn | None = None,
) -> FetchedMedia:
    """Download `url` into `dest_dir`: media files directly, web pages through yt-dlp.

    `on_progress(fraction)` is throttled (about every 1 % and 0.5 s) because callers
    write it to the job record; it always ends with 1.0.
    """
    dest = Path(dest_dir)
    dest.mkdir(parents=True, exist_ok=True)
    report = _Progress(on_progress)
    target = _check_url(url, policy)
    if is_web_page_url(target.url):
        media = _download_with_ytdlp(target.url, dest, policy, report)
    else:
        media = _download_direct(target, dest, policy, report)
    report(1.0)
    return media


class _Progress:
    """Forward progress to the caller monotonically and not on every chunk."""

    def __init__(self, callback: ProgressFn | None) -> None:
        self._callback = callback
        self._last = -1.0
        self._at = 0.0

    def __call__(self, fraction: float) -> None:
        if self._callback is None:
            return
        fraction = min(max(fraction, 0.0), 1.0)
        now = time.monotonic()
        if fraction >= 1.0:
            if self._last < 1.0:
                self._last = 1.0
                self._callback(1.0)
            return
        if fraction >= self._last + 0.01 and (now - self._at >= 0.5 or self._last < 0):
            self._last, self._at = fraction, now
            self._callback(fraction)


def _download_direct(
    target: _Target, dest: Path, policy: IngestPolicy, report: _Progress
) -> FetchedMedia:
    """Stream the file at `target`, following redirects by hand and checking each hop."""
    for hop in range(policy.max_redirects + 1):
        with _open(target, policy) as response:
            if response.status_code in _REDIRECTS:
                location = response.headers.get("location")
                if not location:
                    raise IngestError(f"HTTP {response.status_code} redirect without a Location")
                next_url = urljoin(target.url, location)
            else:
                _raise_for_status(response, target.host)
                content_type = _media_type(response)
                if content_type in _HTML_TYPES:
                    next_url = None  # a page: let yt-dlp find the video in it
                else:
                    return _stream_to_file(response, target, content_type, dest, policy, report)
        if next_url is None:
            return _download_with_ytdlp(target.url, dest, policy, report)
        if hop >= policy.max_redirects:
            break
        target = _check_url(next_url, policy)
        if is_web_page_url(target.url):
            return _download_with_ytdlp(target.url, dest, policy, report)
    raise IngestError(f"too many redirects (more than {policy.max_redirects})")


@contextmanager
def _open(target: _Target, policy: IngestPolicy) -> Iterator[httpx.Response]:
    """GET `target` on its checked addresses, with Host and TLS SNI naming the real host.

    Addresses are tried in resolver order, like a browser: a host with an IPv6 address
    first must still work from a Lambda without IPv6 egress.
    """
    parts = urlsplit(target.url)
    default_port = 443 if target.scheme == "https" else 80
    host_header = _ascii_host(target.host)
    if ":" in host_header:
        host_header = f"[{host_header}]"
    if target.port != default_port:
        host_header += f":{target.port}"
    headers = {
        "Host": host_header,
        "User-Agent": "reelforge-ingest/1.0",
        "Accept": "*/*",
        "Accept-Encoding": "identity",
    }
    extensions = {"sni_hostname": _ascii_host(target.host)} if target.scheme == "https" else {}
    # One client per hop: connections are pooled by address, and a TLS session made for
    # one host name must not carry a request for another.
    with httpx.Client(
        timeout=httpx.Timeout(policy.timeout_s), follow_redirects=False, trust_env=False
    ) as client:
        for attempt, ip in enumerate(target.ips, 1):
            ip_host = f"[{ip}]" if ":" in ip else ip
            pinned = urlunsplit(
                (target.scheme, f"{ip_host}:{target.port}", parts.path or "/", parts.query, "")
            )
            request = client.build_request("GET", pinned, headers=headers, extensions=extensions)
            try:
                response = client.send(request, stream=True)
                break
            except httpx.ConnectError as exc:
                error = _transport_error(exc, target.host)
                if attempt == len(target.ips) or isinstance(error, IngestError):
                    raise error from exc
            except httpx.HTTPError as exc:
                raise _transport_error(exc, target.host) from exc
        try:
            yield response
        finally:
            response.close()


def _ascii_host(host: str) -> str:
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


def _raise_for_status(response: httpx.Response, host: str) -> None:
    status = response.status_code
    if 200 <= status < 300:
        return
    if status in (404, 410):
        raise IngestError(f"the video was not found at {host} (HTTP {status})")
    if status in (401, 403):
        raise IngestError(f"{host} refused access to the video (HTTP {status})")
    if status in (408, 425, 429) or status >= 500:
        raise TransientError(f"{host} is unavailable right now (HTTP {status}); try again later")
    raise IngestError(f"{host} answered HTTP {status}")


def _transport_error(exc: httpx.HTTPError, host: str) -> Exception:
    if isinstance(exc, httpx.TimeoutException):
        return TransientError(f"timed out talking to {host}")
    if "CERTIFICATE_VERIFY_FAILED" in str(exc):
        return IngestError(f"the TLS certificate of {host} is not valid")
    return TransientError(f"could not download from {host}: {type(exc).__name__}")


def _media_type(response: httpx.Response) -> str:
    value = response.headers.get("content-type", "")
    return re.split(r"[;,]", value, maxsplit=1)[0].strip().lower()


def _stream_to_file(
    response: httpx.Response,
    target: _Target,
    content_type: str,
    dest: Path,
    policy: IngestPolicy,
    report: _Progress,
) -> FetchedMedia:
    """Write the body in chunks, stopping as soon as it passes `max_bytes`."""
    length = _content_length(response)
    if length is not None and length > policy.max_bytes:
        raise IngestError(_too_large(policy))
    raw_name = _name_from_disposition(response.headers.get("content-disposition", ""))
    raw_name = raw_name or unquote(urlsplit(target.url).path.rsplit("/", 1)[-1])
    path = dest / _file_name(raw_name, content_type)
    part = path.with_name(path.name + ".part")
    written = 0
    try:
        with part.open("wb") as out:
            for chunk in response.iter_bytes(_CHUNK):
                written += len(chunk)
                if written > policy.max_bytes:
                    raise IngestError(_too_large(policy))
                out.write(chunk)
                if length:
                    report(written / length)
        part.replace(path)
    except httpx.HTTPError as exc:
        raise _transport_error(exc, target.host) from exc
    finally:
        part.unlink(missing_ok=True)
    title = (Path(raw_name).stem or None) if raw_name else None
    return FetchedMedia(
        path=path,
        content_type=content_type or "application/octet-stream",
        size_bytes=written,
        source_url=target.url,
        title=title,
    )


def _content_length(response: httpx.Response) -> int | None:
    try:
        value = int(response.headers.get("content-length", ""))
    except ValueError:
        return None
    return value if value >= 0 else None


def _too_large(policy: IngestPolicy) -> str:
    return f"the video exceeds the {policy.max_bytes / 1_000_000:g} MB limit"


def _name_from_disposition(header: str) -> str:
    """The file name a Content-Disposition header suggests (RFC 6266 `filename*` first)."""
    match = re.search(r"filename\*\s*=\s*(?:[\w!#$&+.^`|~-]+)?'[^']*'([^;]+)", header, re.I)
    if match:
        return unquote(match.group(1).strip().strip('"'))
    match = re.search(r'filename\s*=\s*(?:"([^"]*)"|([^;]+))', header, re.I)
    if match:
        return (match.group(1) if match.group(1) is not None else match.group(2)).strip()
    return ""


def _file_name(raw: str, content_type: str = "") -> str:
    """A safe local name: only [A-Za-z0-9._-], no path parts, an extension when we can tell."""
    name = raw.replace("\\", "/").rsplit("/", 1)[-1]
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._-")[:100].strip("._-")
    if not name:
        return DEFAULT_FILE_NAME
    if "." not in name:
        ext = mimetypes.guess_extension(content_type) if content_type else None
        name += ext or ".mp4"
    return name


# --------------------------------------------------------------------------- yt-dlp


class _Guard(threading.local):
    policy: IngestPolicy | None = None
    refused: str | None = None


_guard = _Guard()
_guard_lock = threading.Lock()


def _guarded_getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
    """socket.getaddrinfo that, inside _resolver_guard on this thread, refuses non-public hosts."""
    infos = _getaddrinfo(host, port, *args, **kwargs)
    policy = _guard.policy
    if policy is None:
        return infos
    name = host.decode() if isinstance(host, bytes) else str(host or "")
    if name.rstrip(".") in policy.allow_hosts:
        return infos
    for info in infos:
        address = str(info[4][0])
        reason = None if address in policy.allow_hosts else blocked_reason(address)
        if reason:
            _guard.refused = _refusal(name, address, reason)
            raise socket.gaierror(socket.EAI_FAIL, _guard.refused)
    return infos


@contextmanager
def _resolver_guard(policy: IngestPolicy) -> Iterator[None]:
    """Check every name yt-dlp (urllib, urllib3, websockets) resolves on this thread.

    The check runs on the very addresses the connection then uses, so page-embedded
    media URLs, redirects and DNS rebinding are all covered. Other threads (boto3 talking
    to a loopback moto server, say) are untouched.
    """
    with _guard_lock:
        if socket.getaddrinfo is not _guarded_getaddrinfo:
            socket.getaddrinfo = _guarded_getaddrinfo
    _guard.policy, _guard.refused = policy, None
    try:
        yield
    finally:
        _guard.policy = None


class _YtdlpLog:
    """yt-dlp logger: nothing to stdout; remembers why a download was skipped."""

    def __init__(self) -> None:
        self.too_large = False
        self.skipped: str | None = None

    def debug(self, msg: str) -> None:
        self._note(msg)

    def info(self, msg: str) -> None:
        self._note(msg)

    def warning(self, msg: str) -> None:
        self._note(msg)

    def error(self, msg: str) -> None:
        pass  # raised as DownloadError right after

    def _note(self, msg: str) -> None:
        if "max-filesize" in msg:
            self.too_large = True
        elif "skipping" in msg.lower() or "does not pass filter" in msg:
            self.skipped = _clean_ytdlp_message(msg)


def _download_with_ytdlp(
    url: str, dest: Path, policy: IngestPolicy, report: _Progress
) -> FetchedMedia:
    """Let yt-dlp find and download the video of a page (best <=1080p, merged to mp4)."""
    import imageio_ffmpeg
    import yt_dlp

    validate_url(url, policy)
    log = _YtdlpLog()
    parts: dict[str, int] = {}
    skipped: list[str] = []

    def hook(d: dict[str, Any]) -> None:
        name = str(d.get("filename") or "")
        done = int(d.get("downloaded_bytes") or 0)
        if d.get("status") == "finished":
            done = int(d.get("total_bytes") or done)
        parts[name] = done
        if sum(parts.values()) > policy.max_bytes:
            raise IngestError(_too_large(policy))
        total = d.get("total_bytes") or d.get("total_bytes_estimate")
        info = d.get("info_dict") or {}
        count = max(len(info.get("requested_formats") or ()), len(parts), 1)
        current = min(done / total, 1.0) if total else 0.0
        report((len(parts) - 1 + current) / count)

    def skip_live(info: dict[str, Any], *, incomplete: bool = False) -> str | None:
        if info.get("is_live") or info.get("live_status") in ("is_live", "is_upcoming"):
            skipped.append("live streams cannot be ingested; try again once the recording is up")
            return skipped[-1]
        return None

    options: dict[str, Any] = {
        "format": YTDLP_FORMAT,
        "merge_output_format": "mp4",
        "ffmpeg_location": imageio_ffmpeg.get_ffmpeg_exe(),
        "outtmpl": {"default": str(dest / "%(id).64s.%(ext)s")},
        "restrictfilenames": True,
        "noplaylist": True,
        "playlist_items": "1",
        "max_filesize": policy.max_bytes,
        "match_filter": skip_live,
        "quiet": True,
        "no_warnings": True,
        "noprogress": True,
        "logger": log,
        "progress_hooks": [hook],
        "socket_timeout": policy.timeout_s,
        "retries": 2,
        "fragment_retries": 2,
        "extractor_retries": 1,
        "proxy": "",  # never an environment proxy: the guard must see the real addresses
        "cachedir": False,  # Lambda's home is read-only
        "overwrites": True,
        "hls_prefer_native": True,  # ffmpeg must not fetch URLs itself (it bypasses the guard)
        "external_downloader": {"default": "native"},
        "concurrent_fragment_downloads": 1,  # the guard is per thread
    }
    before = set(dest.iterdir())
    try:
        with _resolver_guard(policy), yt_dlp.YoutubeDL(options) as ydl:
            info = ydl.extract_info(url, download=True)
    except Exception as exc:
        for leftover in set(dest.iterdir()) - before:  # .part / .ytdl files of the failed try
            if leftover.is_file():
                leftover.unlink(missing_ok=True)
        if _guard.refused:
            raise IngestError(_guard.refused) from exc
        if isinstance(exc, yt_dlp.utils.DownloadError):
            raise _ytdlp_error(exc) from exc
        if isinstance(exc, yt_dlp.utils.YoutubeDLError):
            raise IngestError(_clean_ytdlp_message(str(exc)) or "the download failed") from exc
        raise

    entry = _first_entry(info)
    downloads = (entry or {}).get("requested_downloads") or []
    path = Path(downloads[0].get("filepath") or "") if downloads else None
    if path is None or not path.is_file():
        if log.too_large:
            raise IngestError(_too_large(policy))
        raise IngestError(
            next(iter(skipped), None)
            or log.skipped
            or "no downloadable video was found at that URL"
        )
    size = path.stat().st_size
    if size > policy.max_bytes:
        path.unlink(missing_ok=True)
        raise IngestError(_too_large(policy))
    return FetchedMedia(
        path=path,
        content_type=mimetypes.guess_type(path.name)[0] or "video/mp4",
        size_bytes=size,
        source_url=url,
        title=(entry or {}).get("title"),
    )


def _first_entry(info: dict[str, Any] | None) -> dict[str, Any] | None:
    while info and info.get("_type") in ("playlist", "multi_video"):
        entries = [e for e in info.get("entries") or () if e]
        info = entries[0] if entries else None
    return info


_TRANSIENT_TEXT = (
    "timed out",
    "unreachable",
    "temporary failure",
    "connection refused",
    "connection reset",
    "remote end closed",
    "unable to download webpage",
    "http error 429",
    "http error 5",
)


def _ytdlp_error(exc: Exception) -> Exception:
    """Map a yt-dlp DownloadError to a short IngestError, or TransientError when retrying helps."""
    from yt_dlp.networking.exceptions import CertificateVerifyError, HTTPError, TransportError

    message = _clean_ytdlp_message(str(exc)) or "the video could not be downloaded"
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    exc_info = getattr(exc, "exc_info", None)
    if exc_info:
        todo.append(exc_info[1])
    while todo:
        cause = todo.pop()
        if cause is None or id(cause) in seen:
            continue
        seen.add(id(cause))
        if isinstance(cause, HTTPError):
            if cause.status in (408, 425, 429) or cause.status >= 500:
                return TransientError(message)
            return IngestError(message)
        if isinstance(cause, CertificateVerifyError):
            return IngestError(message)
        if isinstance(cause, TransportError | TimeoutError | ConnectionError):
            return TransientError(message)
        todo.extend([getattr(cause, "cause", None), cause.__cause__, cause.__context__])
    if any(text in message.lower() for text in _TRANSIENT_TEXT):
        return TransientError(message)
    return IngestError(message)


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _clean_ytdlp_message(text: str) -> str:
    """One readable line: no ANSI colours, 'ERROR:' prefix, bug-report boilerplate or causes."""
    text = _ANSI.sub("", text).strip().splitlines()[0] if text.strip() else ""
    text = re.sub(r"^(ERROR|WARNING):\s*", "", text)
    text = re.sub(r"^\[[\w:.-]+\]\s+(?:[^\s:]{1,80}:\s+)?", "", text)  # "[youtube] <id>: "
    for tail in ("; please report this issue", " (caused by ", "; please report"):
        with suppress(ValueError):
            text = text[: text.index(tail)]
    text = text.strip().rstrip(";")
    return text[:300]


def fetch_file(url: str, dest: Path, policy: IngestPolicy) -> FetchedMedia:
    """Download `url` as it is (a web page's HTML too, never through yt-dlp) into `dest`,
    with the same address checks on every redirect hop and the same size limit."""
    dest.mkdir(parents=True, exist_ok=True)
    target = _check_url(url, policy)
    for _hop in range(policy.max_redirects + 1):
        with _open(target, policy) as response:
            if response.status_code not in _REDIRECTS:
                _raise_for_status(response, target.host)
                return _stream_to_file(response, target, _media_type(response), dest, policy,
                                       _Progress(None))
            location = response.headers.get("location")
            if not location:
                raise IngestError(f"HTTP {response.status_code} redirect without a Location")
        target = _check_url(urljoin(target.url, location), policy)
    raise IngestError(f"too many redirects (more than {policy.max_redirects})")


def fetch_to_bucket(url: str, key_prefix: str, on_progress: ProgressFn | None = None) -> str:
    """Fetch `url` with the server's limits (MAX_FILE_SIZE_MB, INGEST_ALLOW_HOSTS) and store
    it under `key_prefix` in the bucket; returns the object's key."""
    from reelforge import blobs
    from reelforge.settings import get_settings

    s = get_settings()
    policy = IngestPolicy(max_bytes=s.max_file_size_bytes, allow_hosts=frozenset(s.ingest_allow_host_list))
    with tempfile.TemporaryDirectory(prefix="ingest-") as tmp:
        fetched = fetch(url, Path(tmp), policy, on_progress=on_progress)
        key = f"{key_prefix}{blobs.safe_file_name(fetched.path.name, default='source.mp4')}"
        blobs.Blobs().put_file(key, fetched.path, fetched.content_type)
    return key
