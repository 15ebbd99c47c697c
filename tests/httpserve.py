"""A loopback static-file server with HTTP Range support, standing in for S3 behind a
presigned GET URL (the query string is ignored, as a signature would be).

    with RangeServer(root) as server:
        probe(f"{server.url}/clip.mp4?X-Amz-Signature=...")

`server.requests` records (method, Range header) of each request; set `server.refuse_head`
to answer HEAD with 403, as a URL presigned for GET does.
"""

from __future__ import annotations

import contextlib
import functools
import re
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


class RangeServer(ThreadingHTTPServer):
    """Serves the files under `root` on 127.0.0.1 while used as a context manager."""

    def __init__(self, root: str | Path) -> None:
        handler = functools.partial(_RangeHandler, directory=str(root))
        super().__init__(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        self.requests: list[tuple[str, str | None]] = []
        self.refuse_head = False

    def __enter__(self) -> RangeServer:
        threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.shutdown()
        self.server_close()


class _RangeHandler(SimpleHTTPRequestHandler):
    server: RangeServer

    def log_message(self, *args: object) -> None:
        pass

    def do_HEAD(self) -> None:
        self.server.requests.append(("HEAD", None))
        if self.server.refuse_head:
            self.send_error(403)
            return
        super().do_HEAD()

    def do_GET(self) -> None:
        self.server.requests.append(("GET", self.headers.get("Range")))
        path = Path(self.translate_path(self.path.split("?")[0]))
        if not path.is_file():
            self.send_error(404)
            return
        data = path.read_bytes()
        m = re.match(r"bytes=(\d+)-(\d*)", self.headers.get("Range") or "")
        if m:
            start = int(m.group(1))
            end = int(m.group(2)) if m.group(2) else len(data) - 1
            body = data[start : end + 1]
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
        else:
            body = data
            self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        # ffmpeg hangs up once it has what it needs.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(body)
