"""The embedded AWS keeps its data: every acknowledged write is on disk before moto answers.

How it holds: moto stays the implementation of S3, DynamoDB and Step Functions (application
code is plain boto3, resources come from template.yaml), and each request that changes
something is recorded in the data directory's journal before its answer leaves moto:
- DynamoDB: the request itself (PutItem, UpdateItem, DeleteItem, BatchWriteItem,
  TransactWriteItems), in the order moto applied them: requests already run one at a time
  (see `dynamo_call`), so replaying the journal in order rebuilds the same tables.
- S3: the key's resulting state. Its body goes to a new file under `objects/` (fsynced),
  then a record names the file; moto's in-memory copy is swapped for that file, so an
  object's bytes are held once, on disk, and streamed from there.
- Step Functions: which executions started and which ended, and S3 -> Lambda notifications
  not yet delivered, so that a restart can finish them (see EmbeddedAWS._recover).
A crash between a write and its record loses only a write that was never acknowledged. On
start the snapshot and journals are replayed into a fresh moto, then compacted into a new
snapshot; nothing is changed on disk until all of it has been read and checked.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import os
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import httpx

from reelforge.local import s3_streaming
from reelforge.local.datadir import DataDir, DataDirError, Journal, check_object_files, fsync_dir
from reelforge.local.template import ACCOUNT_ID, REGION

_DYNAMO_WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})
_CHUNK = 1 << 20


class FileBuffer:
    """A persisted object's bytes, as moto's key buffer: each read opens the file, so a key
    costs no memory and no open descriptor. Object files are never written after their record."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._pos = 0

    def seek(self, pos: int, whence: int = 0) -> int:
        self._pos = pos if whence == 0 else (self._pos + pos if whence == 1 else self.path.stat().st_size + pos)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def read(self, size: int = -1) -> bytes:
        with open(self.path, "rb") as f:
            f.seek(self._pos)
            data = f.read(size if size is not None and size >= 0 else -1)
        self._pos += len(data)
        return data

    def truncate(self, size: int | None = None) -> None:
        raise OSError("a persisted S3 object is read-only; moto writes new keys, not old ones")

    write = truncate

    def close(self) -> None:
        pass


@dataclass
class StoredObject:
    record: dict[str, Any]  # its s3.put record
    key: Any  # the moto FakeKey that reads from record["file"]


class Durable:
    def __init__(self, data: DataDir, dynamo_lock: threading.Lock) -> None:
        self.data = data
        self.journal: Journal | None = None
        self.recording = False
        self.objects: dict[tuple[str, str], StoredObject] = {}
        self.running: dict[str, dict[str, Any]] = {}  # execution ARN -> its sfn.start record
        self.pending: dict[str, dict[str, Any]] = {}  # notification id -> its notify.start record
        self.dynamo_lock = dynamo_lock  # moto's DynamoDB requests run one at a time under it
        self._meta_lock = threading.Lock()  # executions and notifications
        self._stripes = [threading.Lock() for _ in range(64)]
        self._deferred: list[Path] = []
        self._generation = 0
        self.port = ""  # the embedded server's, as its requests give it (set by restore)
        self._held = threading.local()  # S3 events of the write this thread is in

    # --- start: replay, then compact --------------------------------------------------------------

    def restore(self, endpoint: str) -> int:
        """Rebuild moto's state from the directory; returns how many records were read."""
        self.port = endpoint.rsplit(":", 1)[1]
        from moto.dynamodb.models import dynamodb_backends
        from moto.s3.models import s3_backends

        tables = dynamodb_backends[ACCOUNT_ID][REGION].tables
        s3 = s3_backends[ACCOUNT_ID]["aws"]
        records = list(self.data.records())  # reads and checks everything before any change
        check_object_files(self.data.path, records)
        with httpx.Client(base_url=endpoint, timeout=30) as client:
            for record in records:
                op = record["op"]
                if op == "ddb.item":
                    if record["table"] not in tables:
                        raise DataDirError(f"{self.data.state} holds items of table {record['table']}, which "
                                           "template.yaml no longer deploys; nothing was changed")
                    tables[record["table"]].put_item(record["item"])
                elif op == "ddb":
                    self._replay_dynamo(client, record)
                elif op == "s3.put":
                    self._install_object(s3, record)
                elif op == "s3.del":
                    self._forget_object(s3, record["bucket"], record["key"])
                elif op == "sfn.start":
                    self.running[record["arn"]] = record
                elif op == "sfn.end":
                    self.running.pop(record["arn"], None)
                elif op == "notify.start":
                    self.pending[record["id"]] = record
                elif op == "notify.end":
                    self.pending.pop(record["id"], None)
        base, journals = self.data.generations()
        self._generation = max([base, *journals])
        return len(records)

    def _replay_dynamo(self, client: httpx.Client, record: dict[str, Any]) -> None:
        auth = f"AWS4-HMAC-SHA256 Credential=local/20260101/{REGION}/dynamodb/aws4_request, SignedHeaders=host, Signature=0"
        resp = client.post("/", content=record["body"], headers={
            "X-Amz-Target": record["target"], "Content-Type": "application/x-amz-json-1.0",
            "Authorization": auth})
        if resp.status_code != 200:
            raise DataDirError(f"replaying {record['target']} from the journal in {self.data.state} "
                               f"failed ({resp.status_code}: {resp.text[:200]}); nothing was changed")

    def _install_object(self, s3: Any, record: dict[str, Any]) -> None:
        from moto.s3.models import FakeKey
        from moto.utilities.utils import LowercaseDict

        key = FakeKey(name=record["key"], value=b"", account_id=ACCOUNT_ID, region_name=REGION,
                      bucket_name=record["bucket"], etag=record["etag"])
        key._value_buffer.close()
        key._value_buffer = FileBuffer(self.data.path / record["file"])
        key.contentsize = int(record["size"])
        key._metadata = LowercaseDict(record["meta"])
        key.last_modified = dt.datetime.fromisoformat(record["modified"])
        s3.get_bucket(record["bucket"]).keys[record["key"]] = key
        self.objects[(record["bucket"], record["key"])] = StoredObject(record, key)

    def _forget_object(self, s3: Any, bucket: str, name: str) -> None:
        if self.objects.pop((bucket, name), None) is not None:
            s3.get_bucket(bucket).keys.pop(name)

    def compact(self) -> None:
        """Write everything as one new snapshot, start a new journal, drop unreferenced files."""
        from moto.dynamodb.models import dynamodb_backends

        with self.data.backup_lock(), self._everything_locked():
            if self.journal is not None:
                self.journal.close()
            gen = self._generation + 1
            tables = dynamodb_backends[ACCOUNT_ID][REGION].tables

            def everything() -> Iterator[dict[str, Any]]:
                for name, table in tables.items():
                    for item in table.all_items():
                        yield {"op": "ddb.item", "table": name, "item": item.to_json()["Attributes"]}
                for stored in self.objects.values():
                    yield stored.record
                yield from self.running.values()
                yield from self.pending.values()

            self.data.write_snapshot(gen, everything())
            self._generation = gen + 1
            self.journal = Journal(self.data.journal_path(self._generation))
            keep = {s.record["file"] for s in self.objects.values()}
            for folder in self.data.objects.iterdir():
                for f in folder.iterdir():
                    if f"objects/{folder.name}/{f.name}" not in keep:
                        f.unlink()
            self._deferred.clear()

    @contextlib.contextmanager
    def _everything_locked(self) -> Iterator[None]:
        """No write can start or finish while held: the snapshot and the journal switch agree."""
        with contextlib.ExitStack() as stack:
            for lock in (self.dynamo_lock, self._meta_lock, *self._stripes):
                stack.enter_context(lock)
            yield

    def close(self) -> None:
        """Stop recording (steps still running at a stop are finished off at the next start)."""
        with self._everything_locked():
            self.recording = False
            if self.journal is not None:
                self.journal.close()
                self.journal = None

    # --- recording ---------------------------------------------------------------------------------

    def _append(self, record: dict[str, Any]) -> None:
        if self.journal is not None:
            self.journal.append(record)

    def _active(self) -> bool:
        # Only requests to the embedded server itself: an in-process mock_aws or another moto
        # server in this interpreter (unit tests) shares moto's classes, not our data.
        return self.recording and s3_streaming.serving_port() == self.port

    def dynamo_call(self, call_action: Callable[[Any], Any]) -> Callable[[Any], Any]:
        """Serialise moto's DynamoDB requests and record each write that succeeded.

        One at a time also because TransactWriteItems deep-copies the tables and, when a
        condition fails (every edit conflict), restores that copy: a write another request
        made in between was lost, and the copy raced concurrent writers. DynamoDB itself is
        atomic per request; one at a time gives the same here."""

        @functools.wraps(call_action)
        def serialised(handler: Any) -> Any:
            raw = handler.body  # the request as sent: moto swaps in its parsed form
            journal, end = None, 0
            with self.dynamo_lock:
                result = call_action(handler)
                if self._active() and self.journal is not None:
                    journal, end = self.journal, self.journal.size()
                    target = handler.headers.get("X-Amz-Target", "")
                    if target.rsplit(".", 1)[-1] in _DYNAMO_WRITES and result[0] == 200:
                        body = raw.decode() if isinstance(raw, bytes) else raw
                        end = journal.append({"op": "ddb", "target": target, "body": body}, sync=False)
            # The disk is waited for outside the lock (the next request need not wait for it),
            # but before answering: a write, and a read that may have seen a write still on
            # its way to the disk, is answered only once that write is kept.
            if journal is not None:
                journal.sync(end)
            return result

        return serialised

    def s3_key_call(self, key_response: Callable[..., Any]) -> Callable[..., Any]:
        """After a PUT, POST (multipart completion) or DELETE of a key, persist its new state."""

        @functools.wraps(key_response)
        def call(resp: Any, request: Any, full_url: str, headers: Any) -> Any:
            if request.method not in ("PUT", "POST", "DELETE") or not self._active():
                return key_response(resp, request, full_url, headers)
            # moto sends the S3 event from inside the write; it goes out once the write is kept.
            self._held.events = []
            try:
                result = key_response(resp, request, full_url, headers)
                if int(result[0]) < 300:
                    self.sync_key(resp.backend, resp.bucket_name, resp.parse_key_name())
            finally:
                events, self._held.events = self._held.events, None
            for send in events:
                send()
            return result

        return call

    def after_write(self, send: Callable[[], None]) -> None:
        """Run `send` (an S3 event's delivery) once the S3 write this thread is in is on disk."""
        held = getattr(self._held, "events", None)
        if held is None:
            send()
        else:
            held.append(send)

    def s3_bucket_call(self, bucket_response: Callable[..., Any]) -> Callable[..., Any]:
        """After DeleteObjects (POST /bucket?delete), persist what it removed."""

        @functools.wraps(bucket_response)
        def call(resp: Any, request: Any, full_url: str, headers: Any) -> Any:
            result = bucket_response(resp, request, full_url, headers)
            if request.method == "POST" and "delete" in resp.querystring and self._active():
                bucket = resp.bucket_name
                for b, name in [k for k in self.objects if k[0] == bucket]:
                    self.sync_key(resp.backend, b, name)
            return result

        return call

    def sync_key(self, backend: Any, bucket: str, name: str) -> None:
        """Record the key's state now. Each call reads the current state under the key's lock,
        so the last record for a key always matches moto, whatever order writers finish in."""
        from moto.s3.models import FakeKey

        with self._stripes[hash((bucket, name)) % len(self._stripes)]:
            try:
                current = backend.get_bucket(bucket).keys.get(name)
            except Exception:  # noqa: BLE001 - the bucket is gone: nothing to keep
                current = None
            if not isinstance(current, FakeKey):
                current = None
            stored = self.objects.get((bucket, name))
            if stored is not None and stored.key is current:
                return
            if current is None:
                if stored is not None:
                    self._append({"op": "s3.del", "bucket": bucket, "key": name})
                    del self.objects[(bucket, name)]
                    self._unlink(self.data.path / stored.record["file"])
                return
            record = self._write_body(current, bucket, name)
            self._append(record)
            with current.lock:
                old, current._value_buffer = current._value_buffer, FileBuffer(self.data.path / record["file"])
            old.close()  # moto's spooled copy: memory or a temp file, now freed
            self.objects[(bucket, name)] = StoredObject(record, current)
            if stored is not None:
                self._unlink(self.data.path / stored.record["file"])

    def _write_body(self, key: Any, bucket: str, name: str) -> dict[str, Any]:
        path = self.data.new_object_path()
        with open(path, "wb") as out:
            pos = 0
            while True:
                with key.lock:  # the buffer is shared with readers: seek and read together
                    key._value_buffer.seek(pos)
                    chunk = key._value_buffer.read(_CHUNK)
                if not chunk:
                    break
                out.write(chunk)
                pos += len(chunk)
            out.flush()
            os.fsync(out.fileno())
        fsync_dir(path.parent)
        return {"op": "s3.put", "bucket": bucket, "key": name,
                "file": str(path.relative_to(self.data.path)), "size": pos, "etag": key.etag,
                "meta": dict(key.metadata), "modified": key.last_modified.isoformat()}

    def _unlink(self, path: Path) -> None:
        self._deferred.append(path)
        while self._deferred and self.data.try_unlink(self._deferred[0]):
            self._deferred.pop(0)

    def execution_started(self, execution: Any) -> None:
        """Recorded before the execution's first step runs, so its end always comes after."""
        with self._meta_lock:
            if self._active() and execution.exec_arn not in self.running:
                given = execution.input_data  # moto keeps the parsed input
                given = json.loads(given) if isinstance(given, str) else given
                record = {"op": "sfn.start", "arn": execution.exec_arn, "machine": execution.state_machine.arn,
                          "input": json.dumps(_without_sealed_keys(given))}
                self._append(record)
                self.running[execution.exec_arn] = record

    def execution_ended(self, arn: str) -> None:
        with self._meta_lock:
            if self.recording and self.running.pop(arn, None) is not None:
                self._append({"op": "sfn.end", "arn": arn})

    def notification_sent(self, function_name: str, event: Any) -> str:
        nid = uuid.uuid4().hex
        with self._meta_lock:
            if self._active():
                record = {"op": "notify.start", "id": nid, "function": function_name, "event": event}
                self._append(record)
                self.pending[nid] = record
        return nid

    def notification_done(self, nid: str) -> None:
        with self._meta_lock:
            if self.recording and self.pending.pop(nid, None) is not None:
                self._append({"op": "notify.end", "id": nid})

    def object_exists(self, bucket: str, name: str) -> bool:
        return (bucket, name) in self.objects


def _without_sealed_keys(value: Any) -> Any:
    """An execution's input as the journal keeps it: MarkFailed never needs a provider key,
    so not even its sealed form goes to disk."""
    if isinstance(value, dict):
        return {k: _without_sealed_keys(v) for k, v in value.items() if k != "sealed_key"}
    if isinstance(value, list):
        return [_without_sealed_keys(v) for v in value]
    return value


def event_object(event: Any) -> tuple[str, str] | None:
    """(bucket, key) of an S3 notification event, if it is one."""
    try:
        s3 = (json.loads(event) if isinstance(event, str) else event)["Records"][0]["s3"]
        return s3["bucket"]["name"], unquote_plus(s3["object"]["key"])
    except (KeyError, IndexError, TypeError, ValueError):
        return None
