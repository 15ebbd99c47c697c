"""multipart/form-data parsed as it arrives: the file part goes straight to disk and the
request is refused (413) the moment it passes the size limit, never buffered in memory."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from fastapi import HTTPException, Request
from python_multipart.exceptions import ParseError
from python_multipart.multipart import MultipartParser, parse_options_header

_MAX_FIELD_BYTES = 64 * 1024


@dataclass
class StreamedFile:
    path: Path
    filename: str
    content_type: str
    size: int = 0


@dataclass
class StreamedForm:
    fields: dict[str, str] = field(default_factory=dict)
    file: StreamedFile | None = None


async def read_form(request: Request, dest_dir: Path, *, file_field: str, max_file_bytes: int) -> StreamedForm:
    ctype, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if ctype != b"multipart/form-data" or not boundary:
        raise HTTPException(400, "Expected multipart/form-data with a boundary")
    declared = request.headers.get("content-length")
    if declared and declared.isdecimal() and int(declared) > max_file_bytes + _MAX_FIELD_BYTES * 16:
        raise HTTPException(413, f"File exceeds the {max_file_bytes // 2**20} MB limit")

    form = StreamedForm()
    state: dict = {"headers": {}, "field": b"", "value": b"", "name": None, "sink": None, "buf": b""}
    sink: list[IO[bytes] | None] = [None]

    def on_part_begin() -> None:
        state["headers"] = {}
        state["buf"] = b""

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state["field"] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        state["value"] += data[start:end]

    def on_header_end() -> None:
        state["headers"][state["field"].decode("latin-1").lower()] = state["value"].decode("latin-1")
        state["field"] = state["value"] = b""

    def on_headers_finished() -> None:
        _, disp = parse_options_header(state["headers"].get("content-disposition", ""))
        name = disp.get(b"name", b"").decode("utf-8", "replace")
        filename = disp.get(b"filename")
        state["name"] = name
        if filename is not None and name == file_field:
            if form.file is not None:
                raise HTTPException(400, f"Only one '{file_field}' part is allowed")
            form.file = StreamedFile(
                path=dest_dir / "upload.bin",
                filename=filename.decode("utf-8", "replace"),
                content_type=state["headers"].get("content-type", "application/octet-stream"),
            )
            sink[0] = open(form.file.path, "wb")  # noqa: SIM115 - closed in on_part_end

    def on_part_data(data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if sink[0] is not None and form.file is not None:
            form.file.size += len(chunk)
            if form.file.size > max_file_bytes:
                raise HTTPException(413, f"File exceeds the {max_file_bytes // 2**20} MB limit")
            sink[0].write(chunk)
        else:
            state["buf"] += chunk
            if len(state["buf"]) > _MAX_FIELD_BYTES:
                raise HTTPException(413, f"Form field '{state['name']}' is too large")

    def on_part_end() -> None:
        if sink[0] is not None:
            sink[0].close()
            sink[0] = None
        elif state["name"]:
            form.fields[state["name"]] = state["buf"].decode("utf-8", "replace")

    def on_end() -> None:
        state["complete"] = True

    parser = MultipartParser(boundary, {
        "on_part_begin": on_part_begin, "on_part_data": on_part_data, "on_part_end": on_part_end,
        "on_header_field": on_header_field, "on_header_value": on_header_value,
        "on_header_end": on_header_end, "on_headers_finished": on_headers_finished,
        "on_end": on_end,
    })
    try:
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
    except ParseError as exc:
        raise HTTPException(400, f"Malformed multipart body: {exc}") from None
    finally:
        if sink[0] is not None:
            sink[0].close()
    # Without the closing boundary the body was cut off: the file would be truncated.
    if not state.get("complete"):
        raise HTTPException(400, "The multipart body ended before its closing boundary "
                                 "(interrupted upload?)")
    return form
