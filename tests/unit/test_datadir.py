"""The data directory: records, damage, format versions, the lock, backup and restore."""

from __future__ import annotations

import json
import os
import stat
import tarfile
from pathlib import Path

import pytest

from reelforge.local import datadir
from reelforge.local.datadir import (
    DataDir,
    DataDirError,
    Journal,
    backup,
    encode,
    read_records,
    restore,
    verify,
)


def _fill(data: DataDir) -> list[dict]:
    """A snapshot (generation 1), a journal after it, and two object files."""
    files = []
    for body in (b"first object", b"second object, longer"):
        path = data.new_object_path()
        path.write_bytes(body)
        files.append({"op": "s3.put", "bucket": "b", "key": f"k{len(files)}", "size": len(body),
                      "file": str(path.relative_to(data.path)), "etag": "e", "meta": {}, "modified": "x"})
    data.write_snapshot(1, iter([{"op": "ddb.item", "table": "t", "item": {"PK": {"S": "a"}}}, files[0]]))
    journal = Journal(data.journal_path(2))
    journal.append(files[1])
    journal.append({"op": "s3.del", "bucket": "b", "key": "k0"})
    journal.close()
    return list(data.records())


def test_records_read_back_and_a_torn_journal_tail_is_dropped(tmp_path: Path, capsys) -> None:
    path = tmp_path / "journal.1"
    path.write_bytes(encode({"op": "a"}) + encode({"op": "b"}) + encode({"op": "c"})[:-3])
    records, length = read_records(path, tail_may_tear=True)
    assert records == [{"op": "a"}, {"op": "b"}] and length == len(encode({"op": "a"})) * 2
    assert "torn by a crash" in capsys.readouterr().err
    with pytest.raises(DataDirError, match=str(path)):  # a snapshot is never torn
        read_records(path, tail_may_tear=False)


def test_damage_before_the_tail_names_the_file_and_byte(tmp_path: Path) -> None:
    path = tmp_path / "journal.1"
    first = encode({"op": "a", "n": 1})
    damaged = bytearray(first + encode({"op": "b"}))
    damaged[10] ^= 0xFF  # inside the first record: not a crash, a damaged file
    path.write_bytes(bytes(damaged))
    with pytest.raises(DataDirError, match=rf"{path} is damaged at byte 0: a record's checksum"):
        read_records(path, tail_may_tear=True)


def test_a_new_directory_gets_a_marker_and_a_lock(tmp_path: Path) -> None:
    data = DataDir.open(tmp_path / "d")
    marker = json.loads((tmp_path / "d" / datadir.MARKER).read_text())
    assert marker["format"] == datadir.FORMAT and marker["written_by"].startswith("reelforge ")
    with pytest.raises(DataDirError, match="in use by another reelforge"):
        DataDir.open(tmp_path / "d")
    data.close()
    DataDir.open(tmp_path / "d").close()  # free again once closed


def test_secrets_persist_and_are_private(tmp_path: Path) -> None:
    data = DataDir.open(tmp_path)
    first = data.secret("JwtSecret")
    data.close()
    again = DataDir.open(tmp_path)
    assert again.secret("JwtSecret") == first and len(first) >= 48
    assert stat.S_IMODE(os.stat(tmp_path / "secrets.json").st_mode) == 0o600
    again.close()


def test_a_stranger_directory_and_a_newer_format_are_refused_untouched(tmp_path: Path) -> None:
    stranger = tmp_path / "stranger"
    stranger.mkdir()
    (stranger / "notes.txt").write_text("mine")
    with pytest.raises(DataDirError, match="not a reelforge data directory"):
        DataDir.open(stranger)
    assert sorted(p.name for p in stranger.iterdir() if p.name != "lock") == ["notes.txt"]

    newer = tmp_path / "newer"
    DataDir.open(newer).close()
    (newer / datadir.MARKER).write_text(json.dumps({"format": datadir.FORMAT + 1}))
    before = (newer / datadir.MARKER).read_bytes()
    with pytest.raises(DataDirError, match=rf"newer reelforge \(data format {datadir.FORMAT + 1}"):
        DataDir.open(newer)
    assert (newer / datadir.MARKER).read_bytes() == before


def test_an_older_format_is_migrated_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    DataDir.open(tmp_path).close()  # written as format 1
    ran = []
    monkeypatch.setattr(datadir, "FORMAT", 3)
    monkeypatch.setattr(datadir, "MIGRATIONS", {1: lambda d: ran.append(1), 2: lambda d: ran.append(2)})
    DataDir.open(tmp_path).close()
    assert ran == [1, 2] and json.loads((tmp_path / datadir.MARKER).read_text())["format"] == 3
    monkeypatch.setattr(datadir, "FORMAT", 4)
    monkeypatch.setattr(datadir, "MIGRATIONS", {})
    with pytest.raises(DataDirError, match="cannot migrate"):
        DataDir.open(tmp_path)


def test_snapshot_and_journals_read_in_order(tmp_path: Path) -> None:
    data = DataDir.open(tmp_path)
    records = _fill(data)
    assert [r["op"] for r in records] == ["ddb.item", "s3.put", "s3.put", "s3.del"]
    assert datadir.referenced_files(records) == {records[2]["file"]: 21}
    data.write_snapshot(3, iter(records[:1]))  # compaction: older snapshot and journals go
    assert sorted(p.name for p in data.state.iterdir()) == ["snapshot.3"]
    data.close()


def test_backup_and_restore_round_trip(tmp_path: Path) -> None:
    source = DataDir.open(tmp_path / "live")  # held as a running server holds it
    records = _fill(source)
    archive = tmp_path / "b.tar"
    summary = backup(tmp_path / "live", archive)
    assert summary["objects"] == 1 and summary["records"] == len(records)
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
    assert {datadir.MARKER, "state/snapshot.1", "state/journal.2", records[2]["file"]} <= names
    assert records[1]["file"] not in names  # deleted by the journal: not part of the state
    source.close()

    target = tmp_path / "restored"
    assert restore(archive, target) is None
    assert verify(target) == {"records": 4, "objects": 1}
    with pytest.raises(DataDirError, match="already holds data"):
        restore(archive, target)
    moved = restore(archive, target, replace=True)
    assert moved is not None and (moved / datadir.MARKER).exists()


def test_restore_checks_the_archive_before_touching_the_target(tmp_path: Path) -> None:
    source = DataDir.open(tmp_path / "live")
    records = _fill(source)
    source.close()
    (tmp_path / "live" / records[2]["file"]).unlink()  # an object the records need
    archive = tmp_path / "bad.tar"
    with tarfile.open(archive, "w") as tar:
        tar.add(tmp_path / "live", arcname=".")
    target = tmp_path / "target"
    DataDir.open(target).close()
    before = sorted(p.name for p in target.iterdir())
    with pytest.raises(DataDirError, match="is missing"):
        restore(archive, target, replace=True)
    assert sorted(p.name for p in target.iterdir()) == before
    assert not [p for p in tmp_path.iterdir() if ".restore-" in p.name]  # staging removed


def test_a_running_backup_defers_unlinks(tmp_path: Path) -> None:
    data = DataDir.open(tmp_path)
    path = data.new_object_path()
    path.write_bytes(b"old version")
    with data.backup_lock():
        assert data.try_unlink(path) is False and path.exists()
    assert data.try_unlink(path) is True and not path.exists()
    data.close()
