"""The single DynamoDB table: every key format lives here, and state changes are conditional.

Item layout (PK / SK):
  USER#<uid>          PROFILE           a user
  EMAIL#<email>       EMAIL             unique-email guard -> user id
  TOKEN#<sha256>      TOKEN             an API token (only the hash is stored)
  PROJECT#<pid>       META              a project
  PROJECT#<pid>       ASSET#<aid>       an uploaded asset of the project
  PROJECT#<pid>       SEGMENT#<sid>     a timeline segment (order: the project's `timeline` list)
  PROJECT#<pid>       VARIANT#<vid>     an AI region-edit variant
  SEGMENTREF#<sid>    REF               segment id -> project id (likewise VARIANTREF#<vid>)
  JOB#<jid>           META              a job (any long-running thing)
  JOB#<jid>           EVENT#<seq>       a job's progress events, in order
  SLOTS#<kind>        SLOT#<n>          a concurrency slot held by a running job
  GENERATION#<gid>    META              a narrated video (seed 003); each render of it is a job
  GENSLUG#<uid>#<s>   REF               the owner's newest generation whose topic slug is s
  PROJECT#<pid>       SECTION#<sid>     a script section (order: the project's `sectionIds` list)
  PROJECT#<pid>       SENTENCE#<sec>#<id> a sentence of section <sec> (order: its `sentenceIds`)
  PROJECT#<pid>       OUTLINE#<oid>     a script outline
  PROJECT#<pid>       CAST#<cid>        a character in the project's cast
  PROJECT#<pid>       STUDIOJOB#<ts>#<jid> a studio job of the project (newest last)
  SECTIONREF#<sid>    REF               section id -> project id (likewise SENTENCEREF, OUTLINEREF)
  CHARACTER#<cid>     META              a user's character (seed 004)
  RATE#<uid>          JOBS#<minute>     jobs the user submitted in that minute (quotas.py)
  IDEMPOTENCY#<uid>   request#<sha256>  an Idempotency-Key's request and answer (api/idempotency.py,
                                        written by powertools' persistence layer)
GSI1 (GSI1PK = OWNER#<uid>, GSI1SK = <TYPE>#<created_at>) lists an owner's things by type.
`expires_at` (epoch seconds) is the table's TTL attribute.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import Key
from boto3.dynamodb.types import TypeSerializer
from botocore.exceptions import ClientError

from reelforge import aws
from reelforge.settings import get_settings

GSI1 = "GSI1"


class NotFound(Exception):
    """No such item (or not visible to the caller)."""


class ConditionFailed(Exception):
    """A conditional write lost: the item changed under us or already exists."""


def new_id() -> str:
    return uuid.uuid4().hex


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def epoch_in(seconds: float) -> int:
    return int(time.time() + seconds)


class Keys:
    """Every key format of the table, in one place."""

    @staticmethod
    def user(uid: str) -> dict[str, str]:
        return {"PK": f"USER#{uid}", "SK": "PROFILE"}

    @staticmethod
    def email(email: str) -> dict[str, str]:
        return {"PK": f"EMAIL#{email.lower()}", "SK": "EMAIL"}

    @staticmethod
    def token(token_hash: str) -> dict[str, str]:
        return {"PK": f"TOKEN#{token_hash}", "SK": "TOKEN"}

    @staticmethod
    def project(pid: str) -> dict[str, str]:
        return {"PK": f"PROJECT#{pid}", "SK": "META"}

    @staticmethod
    def asset(pid: str, aid: str) -> dict[str, str]:
        return {"PK": f"PROJECT#{pid}", "SK": f"ASSET#{aid}"}

    @staticmethod
    def job(jid: str) -> dict[str, str]:
        return {"PK": f"JOB#{jid}", "SK": "META"}

    @staticmethod
    def job_event(jid: str, seq: int) -> dict[str, str]:
        return {"PK": f"JOB#{jid}", "SK": f"EVENT#{seq:08d}"}

    @staticmethod
    def child(kind: str, pid: str, cid: str) -> dict[str, str]:
        """An item under a project: kind "segment" or "variant"."""
        return {"PK": f"PROJECT#{pid}", "SK": f"{kind.upper()}#{cid}"}

    @staticmethod
    def segment(pid: str, sid: str) -> dict[str, str]:
        return Keys.child("segment", pid, sid)

    @staticmethod
    def variant(pid: str, vid: str) -> dict[str, str]:
        return Keys.child("variant", pid, vid)

    @staticmethod
    def ref(kind: str, rid: str) -> dict[str, str]:
        """Where a segment or variant lives: routes name them without their project."""
        return {"PK": f"{kind.upper()}REF#{rid}", "SK": "REF"}

    @staticmethod
    def generation(gid: str) -> dict[str, str]:
        return {"PK": f"GENERATION#{gid}", "SK": "META"}

    @staticmethod
    def generation_slug(uid: str, slug: str) -> dict[str, str]:
        return {"PK": f"GENSLUG#{uid}#{slug}", "SK": "REF"}

    @staticmethod
    def sentence(pid: str, section_id: str, sid: str) -> dict[str, str]:
        """Under its section's prefix, so a section's sentences are one key range."""
        return {"PK": f"PROJECT#{pid}", "SK": f"SENTENCE#{section_id}#{sid}"}

    @staticmethod
    def character(cid: str) -> dict[str, str]:
        return {"PK": f"CHARACTER#{cid}", "SK": "META"}

    @staticmethod
    def slot(kind: str, n: int) -> dict[str, str]:
        return {"PK": f"SLOTS#{kind}", "SK": f"SLOT#{n:04d}"}

    @staticmethod
    def job_rate(uid: str, minute: int) -> dict[str, str]:
        return {"PK": f"RATE#{uid}", "SK": f"JOBS#{minute}"}

    @staticmethod
    def idempotency_partition(uid: str) -> str:
        return f"IDEMPOTENCY#{uid}"

    @staticmethod
    def owner_index(uid: str, type_: str, created_at: str) -> dict[str, str]:
        return {"GSI1PK": f"OWNER#{uid}", "GSI1SK": f"{type_}#{created_at}"}


def to_dynamo(value: Any) -> Any:
    """Python -> DynamoDB: floats become Decimals, None-valued keys are dropped."""
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: to_dynamo(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [to_dynamo(v) for v in value]
    return value


def from_dynamo(value: Any) -> Any:
    """DynamoDB -> Python: Decimals become int or float."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: from_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_dynamo(v) for v in value]
    return value


def _is_condition_failure(exc: ClientError) -> bool:
    code = exc.response.get("Error", {}).get("Code", "")
    return code in ("ConditionalCheckFailedException", "TransactionCanceledException")


class Table:
    """Thin typed wrapper over the boto3 Table resource."""

    def __init__(self, name: str | None = None) -> None:
        self.name = name or get_settings().table_name

    @property
    def _t(self) -> Any:
        return aws.dynamodb_table(self.name)

    def get(self, key: dict[str, str], *, consistent: bool = True) -> dict[str, Any]:
        resp = self._t.get_item(Key=key, ConsistentRead=consistent)
        if "Item" not in resp:
            raise NotFound(f"{key['PK']}/{key['SK']}")
        return from_dynamo(resp["Item"])

    def put(self, item: dict[str, Any], *, condition: str | None = None, **kw: Any) -> None:
        args: dict[str, Any] = {"Item": to_dynamo(item)}
        if condition:
            args["ConditionExpression"] = condition
        args.update(kw)
        try:
            self._t.put_item(**args)
        except ClientError as exc:
            if _is_condition_failure(exc):
                raise ConditionFailed(str(exc)) from exc
            raise

    def put_new(self, item: dict[str, Any]) -> None:
        """Create an item; ConditionFailed if its key already exists."""
        self.put(item, condition="attribute_not_exists(PK)")

    def update(
        self,
        key: dict[str, str],
        values: dict[str, Any],
        *,
        condition: str | None = None,
        condition_values: dict[str, Any] | None = None,
        condition_names: dict[str, str] | None = None,
        remove: list[str] | None = None,
        add: dict[str, int] | None = None,
    ) -> dict[str, Any]:
        """SET `values` (and REMOVE/ADD) on an existing item; returns the new item."""
        names: dict[str, str] = dict(condition_names or {})
        expr_values: dict[str, Any] = {}
        sets = []
        # Setting None means removing the attribute (DynamoDB has no "SET to nothing").
        remove = list(remove or []) + [k for k, v in values.items() if v is None]
        values = {k: v for k, v in values.items() if v is not None}
        for i, (attr, value) in enumerate(values.items()):
            names[f"#f{i}"] = attr
            expr_values[f":v{i}"] = value
            sets.append(f"#f{i} = :v{i}")
        parts = []
        if sets:
            parts.append("SET " + ", ".join(sets))
        if add:
            adds = []
            for i, (attr, inc) in enumerate(add.items()):
                names[f"#a{i}"] = attr
                expr_values[f":a{i}"] = inc
                adds.append(f"#a{i} :a{i}")
            parts.append("ADD " + ", ".join(adds))
        if remove:
            rems = []
            for i, attr in enumerate(remove):
                names[f"#r{i}"] = attr
                rems.append(f"#r{i}")
            parts.append("REMOVE " + ", ".join(rems))
        cond = "attribute_exists(PK)" + (f" AND ({condition})" if condition else "")
        expr_values.update(condition_values or {})
        args: dict[str, Any] = {
            "Key": key,
            "UpdateExpression": " ".join(parts),
            "ConditionExpression": cond,
            "ExpressionAttributeNames": names,
            "ReturnValues": "ALL_NEW",
        }
        if expr_values:
            args["ExpressionAttributeValues"] = to_dynamo(expr_values)
        try:
            return from_dynamo(self._t.update_item(**args)["Attributes"])
        except ClientError as exc:
            if _is_condition_failure(exc):
                raise ConditionFailed(str(exc)) from exc
            raise

    def count_below(self, key: dict[str, str], attr: str, limit: int, *, expires_at: int) -> int:
        """ADD 1 to `attr` of the item (made if absent) unless it has reached `limit`, in one
        conditional write; ConditionFailed when it has. Returns the new count."""
        try:
            resp = self._t.update_item(
                Key=key, UpdateExpression="ADD #n :one SET expires_at = :exp",
                ConditionExpression="attribute_not_exists(#n) OR #n < :limit",
                ExpressionAttributeNames={"#n": attr},
                ExpressionAttributeValues={":one": 1, ":limit": limit, ":exp": expires_at},
                ReturnValues="UPDATED_NEW")
        except ClientError as exc:
            if _is_condition_failure(exc):
                raise ConditionFailed(str(exc)) from exc
            raise
        return int(resp["Attributes"][attr])

    def delete(
        self, key: dict[str, str], *, condition: str | None = None,
        values: dict[str, Any] | None = None,
    ) -> None:
        args: dict[str, Any] = {"Key": key}
        if condition:
            args["ConditionExpression"] = condition
        if values:
            args["ExpressionAttributeValues"] = to_dynamo(values)
        try:
            self._t.delete_item(**args)
        except ClientError as exc:
            if _is_condition_failure(exc):
                raise ConditionFailed(str(exc)) from exc
            raise

    def query_partition(self, pk: str, sk_prefix: str = "") -> Iterator[dict[str, Any]]:
        cond = Key("PK").eq(pk)
        if sk_prefix:
            cond = cond & Key("SK").begins_with(sk_prefix)
        yield from self._paginate(KeyConditionExpression=cond, ConsistentRead=True)

    def query_between(self, pk: str, sk_after: str, sk_last: str) -> Iterator[dict[str, Any]]:
        """Items of a partition whose sort key is after `sk_after` (exclusive) up to `sk_last`."""
        cond = Key("PK").eq(pk) & Key("SK").between(sk_after + "\x00", sk_last)
        yield from self._paginate(KeyConditionExpression=cond, ConsistentRead=True)

    def query_owner(
        self, uid: str, type_: str, *, newest_first: bool = True, limit: int | None = None
    ) -> Iterator[dict[str, Any]]:
        cond = Key("GSI1PK").eq(f"OWNER#{uid}") & Key("GSI1SK").begins_with(f"{type_}#")
        yield from self._paginate(
            IndexName=GSI1,
            KeyConditionExpression=cond,
            ScanIndexForward=not newest_first,
            limit=limit,
        )

    def scan(self, **kw: Any) -> Iterator[dict[str, Any]]:
        kwargs = dict(kw)
        while True:
            resp = self._t.scan(**kwargs)
            for item in resp.get("Items", []):
                yield from_dynamo(item)
            if "LastEvaluatedKey" not in resp:
                return
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    def put_many(self, items: list[dict[str, Any]]) -> None:
        """Unconditional puts in batches (new items nobody references yet: a script being written)."""
        with self._t.batch_writer() as batch:
            for item in items:
                batch.put_item(Item=to_dynamo(item))

    def delete_many(self, keys: list[dict[str, str]]) -> None:
        with self._t.batch_writer() as batch:
            for key in keys:
                batch.delete_item(Key={"PK": key["PK"], "SK": key["SK"]})

    def transact_put_new(self, items: list[dict[str, Any]]) -> None:
        """Create several items atomically; ConditionFailed if any key exists."""
        self.transact([Txn.put_new(item) for item in items])

    def transact(self, ops: list[Txn]) -> None:
        """Apply puts and conditional updates all together or not at all."""
        ser = TypeSerializer()

        def typed(values: dict[str, Any]) -> dict[str, Any]:
            return {k: ser.serialize(v) for k, v in to_dynamo(values).items()}

        txn = []
        for op in ops:
            body: dict[str, Any] = {"TableName": self.name}
            if op.kind == "put":
                body["Item"] = typed(op.item)
            elif op.kind == "delete":
                body["Key"] = typed(op.key)
            else:
                body["Key"] = typed(op.key)
                body["UpdateExpression"] = op.expression
            if op.condition:
                body["ConditionExpression"] = op.condition
            if op.names:
                body["ExpressionAttributeNames"] = op.names
            if op.values:
                body["ExpressionAttributeValues"] = typed(op.values)
            txn.append({{"put": "Put", "delete": "Delete"}.get(op.kind, "Update"): body})
        try:
            aws.client("dynamodb").transact_write_items(TransactItems=txn)
        except ClientError as exc:
            if _is_condition_failure(exc):
                raise ConditionFailed(str(exc)) from exc
            raise

    def _paginate(self, limit: int | None = None, **kwargs: Any) -> Iterator[dict[str, Any]]:
        count = 0
        while True:
            resp = self._t.query(**kwargs)
            for item in resp.get("Items", []):
                yield from_dynamo(item)
                count += 1
                if limit is not None and count >= limit:
                    return
            if "LastEvaluatedKey" not in resp:
                return
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]


@dataclass
class Txn:
    """One operation of a `Table.transact` call."""

    kind: str  # "put", "update" or "delete"
    item: dict[str, Any] = field(default_factory=dict)
    key: dict[str, str] = field(default_factory=dict)
    expression: str = ""
    condition: str | None = None
    names: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def put_new(cls, item: dict[str, Any]) -> Txn:
        return cls("put", item=item, condition="attribute_not_exists(PK)")

    @classmethod
    def put(cls, item: dict[str, Any]) -> Txn:
        return cls("put", item=item)

    @classmethod
    def delete(cls, key: dict[str, str]) -> Txn:
        return cls("delete", key={"PK": key["PK"], "SK": key["SK"]})

    @classmethod
    def set(cls, key: dict[str, str], values: dict[str, Any], condition: str | None = None,
            condition_values: dict[str, Any] | None = None,
            condition_names: dict[str, str] | None = None) -> Txn:
        names = {**{f"#f{i}": k for i, k in enumerate(values)}, **(condition_names or {})}
        vals = {f":v{i}": v for i, v in enumerate(values.values())}
        expression = "SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(values)))
        return cls("update", key=key, expression=expression, condition=condition, names=names,
                   values={**vals, **(condition_values or {})})


def strip_keys(item: dict[str, Any]) -> dict[str, Any]:
    """Drop the table's key and index attributes before handing an item out."""
    hidden = {"PK", "SK", "GSI1PK", "GSI1SK", "expires_at"}
    return {k: v for k, v in item.items() if k not in hidden}
