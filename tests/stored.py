"""What the tests check about stored data: a provider key is never written anywhere."""

from __future__ import annotations

import json

import boto3

from reelforge.blobs import Blobs
from reelforge.store import Table


def assert_never_stored(key: str, machines: tuple[str, ...]) -> None:
    """`key` is in no DynamoDB item, no non-media S3 object and no execution history of the
    state machines whose names end with one of `machines` ("-generate", "-script"...)."""
    assert key not in json.dumps(list(Table().scan()), default=str)
    store = Blobs()
    for k in store.list_keys(""):
        if not k.endswith((".mp4", ".wav", ".png")):
            assert key.encode() not in store.get_bytes(k), k
    sfn = boto3.client("stepfunctions")
    for machine in sfn.list_state_machines()["stateMachines"]:
        if machine["name"].endswith(machines):
            for execution in sfn.list_executions(stateMachineArn=machine["stateMachineArn"])["executions"]:
                history = json.dumps(sfn.get_execution_history(executionArn=execution["executionArn"]), default=str)
                assert key not in history
