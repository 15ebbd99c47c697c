"""The embedded AWS's data directory: what `reelforge serve` keeps between runs.

Layout (format 1):

    reelforge-data.json   {"format": 1, ...}: refused by a reelforge that reads an older format
    lock                  held (flock) by the one server using the directory
    backup.lock           held by `reelforge backup` while it copies; the server defers unlinks
    secrets.json          the template's generated secrets (JWT signing), mode 0600
    state/snapshot.N      every record up to journal N, compacted (written whole, then renamed)
    state/journal.N       records appended since, one fsync per acknowledged write
    objects/ab/<uuid>     S3 object bodies, one file per version, never modified in place

A record is a length, a CRC32 and a JSON object. A journal's last record may be torn by a
crash mid-append: it was never acknowledged, so it is dropped. Any other damage stops the
start with an error naming the file, and nothing in the directory is changed.
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import json
import os
import re
import secrets as secrets_module
import shutil
import struct
import sys
import tarfile
import tempfile
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

FORMAT = 1
MARKER = "reelforge-data.json"
# A newer format lands here as {older format: function that upgrades the directory in place}.
MIGRATIONS: dict[int, Any] = {}
_HEADER = struct.Struct(">II")  # payload length, CRC32 of the payload
_SNAPSHOT = re.compile(r"snapshot\.(\d+)")
_JOURNAL = re.compile(r"journal\.(\d+)")


class DataDirError(Exception):
    """The directory can't be used as it is; the message says which file and why."""


def default_data_dir() -> Path:
    """REELFORGE_DATA_DIR, else the per-user data directory (XDG)."""
    if os.environ.get("REELFORGE_DATA_DIR"):
        return Path(os.environ["REELFORGE_DATA_DIR"]).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "reelforge"


# --- records --------------------------------------------------------------------------------

def encode(record: dict[str, Any]) -> bytes:
    payload = json.dumps(record, separators=(",", ":"), default=str).encode()
    return _HEADER.pack(len(payload), zlib.crc32(payload)) + payload


def read_records(path: Path, *, tail_may_tear: bool) -> tuple[list[dict[str, Any]], int]:
    """The records of a file and the byte length they cover. A torn last record is dropped
    where `tail_may_tear` (a journal); anywhere else, damage raises DataDirError."""
    data = path.read_bytes()
    records, pos = [], 0
    while pos < len(data):
        body = pos + _HEADER.size
        length, crc = _HEADER.unpack_from(data, pos) if body <= len(data) else (0, 0)
        end = body + length
        if body > len(data) or end > len(data):
            damage, at_tail = "a record is cut short", True
        elif zlib.crc32(data[body:end]) != crc:
            damage, at_tail = "a record's checksum does not match", end == len(data)
        else:
            damage, at_tail = None, False
        if damage and tail_may_tear and at_tail:
            print(f"[embedded-aws] {path}: dropped a record torn by a crash at byte {pos} "
                  "(it was never acknowledged)", file=sys.stderr)
            break
        if damage:
            raise DataDirError(f"{path} is damaged at byte {pos}: {damage}. Nothing was changed; "
                               "restore a backup (`reelforge restore`) or move the file away.")
        try:
            records.append(json.loads(data[body:end]))
        except ValueError as exc:
            raise DataDirError(f"{path} is damaged at byte {pos}: {exc}") from None
        pos = end
    return records, pos


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(path: Path, data: bytes, *, mode: int = 0o644) -> None:
    """Write a whole file so that a crash leaves the old one or the new one, never half."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode), "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


class Journal:
    """Append-only records; `append` returns once the record is on disk.

    `append(record, sync=False)` then `sync(end)` lets a caller write in order under its own
    lock and wait for the disk after releasing it; one fdatasync covers every record written
    before it, so writers arriving together share one (group commit)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: BinaryIO = open(path, "ab")  # noqa: SIM115 - open for the server's lifetime
        fsync_dir(path.parent)
        self._lock = threading.Lock()  # writes
        self._sync_lock = threading.Lock()  # fdatasync, and close
        self._synced = self._file.tell()

    def append(self, record: dict[str, Any], *, sync: bool = True) -> int:
        """Write `record`; the journal's end after it (what `sync` needs)."""
        data = encode(record)
        with self._lock:
            self._file.write(data)
            self._file.flush()
            end = self._file.tell()
        if sync:
            self.sync(end)
        return end

    def sync(self, end: int) -> None:
        """Return once the journal is on disk up to `end` (at once if it already is, or if the
        journal was closed: a compaction's snapshot holds what it had)."""
        with self._sync_lock:
            if self._synced >= end or self._file.closed:
                return
            with self._lock:
                written = self._file.tell()
            os.fdatasync(self._file.fileno())
            self._synced = written

    def size(self) -> int:
        with self._lock:
            return self._file.tell()

    def close(self) -> None:
        with self._sync_lock, self._lock:
            self._file.close()


# --- the directory ----------------------------------------------------------------------------

class DataDir:
    """An opened data directory: checked, migrated, and locked for this process."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.state = path / "state"
        self.objects = path / "objects"
        self._lock_file: BinaryIO | None = None
        self._secrets: dict[str, str] = {}

    @classmethod
    def open(cls, path: Path) -> DataDir:
        path = path.expanduser().resolve()
        path.mkdir(parents=True, exist_ok=True)
        data = cls(path)
        data._lock()
        try:
            data._check_format()
            data.state.mkdir(exist_ok=True)
            data.objects.mkdir(exist_ok=True)
            data._load_secrets()
        except BaseException:
            data.close()
            raise
        return data

    def close(self) -> None:
        if self._lock_file is not None:
            self._lock_file.close()  # releases the flock
            self._lock_file = None

    # -- the format marker, the lock, the secrets

    def _lock(self) -> None:
        f = open(self.path / "lock", "a+b")  # noqa: SIM115 - held until close()
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            holder = f.read().decode(errors="replace").strip() or "another process"
            f.close()
            raise DataDirError(f"{self.path} is in use by another reelforge (pid {holder}); "
                               "stop it first, or use another --data-dir") from None
        f.truncate(0)
        f.write(str(os.getpid()).encode())
        f.flush()
        self._lock_file = f

    def _check_format(self) -> None:
        marker = self.path / MARKER
        if not marker.exists():
            stray = [p.name for p in self.path.iterdir() if p.name not in ("lock", "backup.lock")]
            if stray:
                raise DataDirError(f"{self.path} is not empty and is not a reelforge data directory "
                                   f"(no {MARKER}; found {', '.join(sorted(stray)[:5])}); "
                                   "choose an empty or new directory")
            self._write_marker()
            return
        try:
            found = int(json.loads(marker.read_text())["format"])
        except (ValueError, KeyError, TypeError) as exc:
            raise DataDirError(f"{marker} is damaged ({exc}); nothing was changed") from None
        if found > FORMAT:
            raise DataDirError(f"{self.path} was written by a newer reelforge (data format {found}; "
                               f"this one reads up to {FORMAT}). Upgrade reelforge, or start this one "
                               "on another --data-dir; nothing was changed.")
        while found < FORMAT:
            if found not in MIGRATIONS:
                raise DataDirError(f"{self.path} has data format {found}, which this reelforge "
                                   "cannot migrate; nothing was changed")
            MIGRATIONS[found](self)
            found += 1
            self._write_marker(found)

    def _write_marker(self, fmt: int = FORMAT) -> None:
        from reelforge import __version__

        write_atomically(self.path / MARKER, json.dumps(
            {"format": fmt, "written_by": f"reelforge {__version__}",
             "updated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}, indent=1).encode())

    def _load_secrets(self) -> None:
        path = self.path / "secrets.json"
        if path.exists():
            try:
                self._secrets = json.loads(path.read_text())
            except ValueError as exc:
                raise DataDirError(f"{path} is damaged ({exc}); nothing was changed") from None

    def secret(self, name: str) -> str:
        """The persisted value of a generated secret, made on first use."""
        if name not in self._secrets:
            self._secrets[name] = secrets_module.token_urlsafe(48)
            write_atomically(self.path / "secrets.json", json.dumps(self._secrets).encode(), mode=0o600)
        return self._secrets[name]

    # -- snapshot and journals

    def generations(self) -> tuple[int, list[int]]:
        """(newest snapshot's generation or 0, the journals after it, oldest first)."""
        snaps = [int(m.group(1)) for p in self.state.iterdir() if (m := _SNAPSHOT.fullmatch(p.name))]
        base = max(snaps, default=0)
        journals = sorted(int(m.group(1)) for p in self.state.iterdir()
                          if (m := _JOURNAL.fullmatch(p.name)) and int(m.group(1)) > base)
        return base, journals

    def snapshot_path(self, gen: int) -> Path:
        return self.state / f"snapshot.{gen}"

    def journal_path(self, gen: int) -> Path:
        return self.state / f"journal.{gen}"

    def records(self) -> Iterator[dict[str, Any]]:
        """Every record of the newest snapshot, then of the journals after it."""
        base, journals = self.generations()
        if base:
            path = self.snapshot_path(base)
            records, _ = read_records(path, tail_may_tear=False)
            if not records or records[-1].get("op") != "end" or records[-1].get("count") != len(records) - 1:
                raise DataDirError(f"{path} is incomplete (no end record); nothing was changed")
            yield from records[:-1]
        for gen in journals:
            yield from read_records(self.journal_path(gen), tail_may_tear=True)[0]

    def write_snapshot(self, gen: int, records: Iterator[dict[str, Any]]) -> None:
        """Write snapshot `gen` whole, then drop what it replaces."""
        tmp = self.state / f".snapshot.{gen}.tmp"
        count = 0
        with open(tmp, "wb") as f:
            for record in records:
                f.write(encode(record))
                count += 1
            f.write(encode({"op": "end", "count": count}))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.snapshot_path(gen))
        fsync_dir(self.state)
        for p in self.state.iterdir():
            if (m := _SNAPSHOT.fullmatch(p.name)) and int(m.group(1)) < gen or (m := _JOURNAL.fullmatch(p.name)) and int(m.group(1)) <= gen:
                p.unlink()
            elif p.name.startswith(".snapshot.") and p != tmp:
                p.unlink()  # left by a compaction that a crash interrupted

    # -- object files

    def new_object_path(self) -> Path:
        name = secrets_module.token_hex(16)
        folder = self.objects / name[:2]
        folder.mkdir(exist_ok=True)
        return folder / name

    @contextlib.contextmanager
    def backup_lock(self, *, blocking: bool = True) -> Iterator[bool]:
        """Held by a backup while it copies, and by compaction; False if not acquired."""
        with open(self.path / "backup.lock", "a+b") as f:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
            except BlockingIOError:
                yield False
                return
            yield True

    def try_unlink(self, path: Path) -> bool:
        """Remove a superseded object file unless a backup is copying; False: try later."""
        with open(self.path / "backup.lock", "a+b") as f:
            try:
                fcntl.flock(f, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            path.unlink(missing_ok=True)
            return True


# --- backup and restore ---------------------------------------------------------------------------

def referenced_files(records: list[dict[str, Any]]) -> dict[str, int]:
    """Object file (relative to the directory) -> size, for the S3 keys the records leave."""
    live: dict[tuple[str, str], dict[str, Any]] = {}
    for r in records:
        if r["op"] == "s3.put":
            live[(r["bucket"], r["key"])] = r
        elif r["op"] == "s3.del":
            live.pop((r["bucket"], r["key"]), None)
    return {r["file"]: int(r["size"]) for r in live.values()}


def backup(path: Path, out: Path) -> dict[str, int]:
    """A consistent copy of the directory as a tar, taken while a server runs or not.

    Under the backup lock the server keeps every object file (it defers unlinks) and does not
    compact; journals are copied up to their last whole record, so the copy is the state as
    of that moment, and every object file it refers to is in it."""
    path = path.expanduser().resolve()
    if not (path / MARKER).exists():
        raise DataDirError(f"{path} is not a reelforge data directory (no {MARKER})")
    layout = DataDir(path)
    with layout.backup_lock():
        base, journals = layout.generations()
        members: list[tuple[str, bytes | Path]] = [(MARKER, (path / MARKER).read_bytes())]
        if (path / "secrets.json").exists():
            members.append(("secrets.json", (path / "secrets.json").read_bytes()))
        records: list[dict[str, Any]] = []
        if base:
            members.append((f"state/snapshot.{base}", layout.snapshot_path(base)))
            records += read_records(layout.snapshot_path(base), tail_may_tear=False)[0][:-1]
        for gen in journals:
            jpath = layout.journal_path(gen)
            recs, length = read_records(jpath, tail_may_tear=True)
            records += recs
            with open(jpath, "rb") as f:
                members.append((f"state/journal.{gen}", f.read(length)))
        files = referenced_files(records)
        for rel in files:
            members.append((rel, path / rel))
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.tmp")
        with tarfile.open(tmp, "w") as tar:
            for name, content in members:
                if isinstance(content, Path):
                    tar.add(content, arcname=name)
                else:
                    info = tarfile.TarInfo(name)
                    info.size, info.mtime, info.mode = len(content), int(time.time()), 0o600
                    tar.addfile(info, fileobj=io.BytesIO(content))
        os.replace(tmp, out)
    return {"objects": len(files), "records": len(records), "bytes": out.stat().st_size}


def restore(archive: Path, path: Path, *, replace: bool = False) -> Path | None:
    """Unpack a backup into `path`, checked before anything is moved; returns where the
    directory that was there went (with `replace`), or None."""
    path = path.expanduser().resolve()
    if path.exists() and any(path.iterdir()):
        if not replace:
            raise DataDirError(f"{path} already holds data; pass --replace to move it aside")
        with open(path / "lock", "a+b") as f:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise DataDirError(f"{path} is in use by a running reelforge; stop it first") from None
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.restore-", dir=path.parent))
    try:
        with tarfile.open(archive) as tar:
            tar.extractall(staging, filter="data")
        verify(staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    moved = None
    if path.exists() and any(path.iterdir()):
        moved = path.with_name(f"{path.name}.before-restore-{time.strftime('%Y%m%d-%H%M%S')}")
        path.rename(moved)
    elif path.exists():
        path.rmdir()
    staging.rename(path)
    return moved


def verify(path: Path) -> dict[str, int]:
    """Read every record and check every object file it refers to; raises DataDirError."""
    layout = DataDir(path)
    marker = path / MARKER
    if not marker.exists():
        raise DataDirError(f"{path} is not a reelforge data directory (no {MARKER})")
    if not layout.state.exists():
        return {"records": 0, "objects": 0}
    records = list(layout.records())
    files = check_object_files(path, records)
    return {"records": len(records), "objects": len(files)}


def check_object_files(path: Path, records: list[dict[str, Any]]) -> dict[str, int]:
    """Every object file the records leave, present with its size; raises DataDirError."""
    files = referenced_files(records)
    for rel, size in files.items():
        f = path / rel
        if not f.exists():
            raise DataDirError(f"{f} is missing (an S3 object's body); nothing was changed")
        if f.stat().st_size != size:
            raise DataDirError(f"{f} has {f.stat().st_size} bytes, its record says {size}; "
                               "nothing was changed")
    return files
