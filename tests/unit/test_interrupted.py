"""Work a stop interrupted ends cleanly: the cleanup fails jobs whose execution is gone or
over, and every state machine's MarkFailed step can be run from an execution's input alone."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import boto3
import pytest

from reelforge import aws, jobs, slots
from reelforge.cleanup import NEVER_STARTED_AFTER_S, run_cleanup
from reelforge.local.runtime import _INTERRUPTED, _apply_parameters, _run_leading_passes
from reelforge.store import Keys, Table
from reelforge.workflow import readable_error

ROOT = Path(__file__).resolve().parents[2]


def _machine() -> str:
    return boto3.client("stepfunctions").create_state_machine(
        name="m", roleArn="arn:aws:iam::123456789012:role/r",
        definition=json.dumps({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 600, "End": True}}}),
    )["stateMachineArn"]


def _job(execution_arn: str | None, *, age_s: float = 0, running: bool = True) -> str:
    job = jobs.create("owner", "process")
    if running:
        jobs.set_running(job["id"], execution_arn=execution_arn)
    if age_s:
        created = (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=age_s)).isoformat().replace("+00:00", "Z")
        Table().update(Keys.job(job["id"]), {"createdAt": created})
    return job["id"]


def test_cleanup_fails_jobs_whose_execution_is_gone_or_over(aws_mock: None) -> None:
    sfn = aws.client("stepfunctions")
    machine = _machine()
    live = sfn.start_execution(stateMachineArn=machine, name="live")["executionArn"]
    over = sfn.start_execution(stateMachineArn=machine, name="over")["executionArn"]
    sfn.stop_execution(executionArn=over)
    forgotten = machine.replace(":stateMachine:", ":execution:") + ":forgotten"
    ids = {
        "live": _job(live), "over": _job(over), "forgotten": _job(forgotten),
        "never": _job(None, age_s=NEVER_STARTED_AFTER_S + 60, running=False),
        "just_queued": _job(None, running=False),
    }
    slots.acquire("process", ids["forgotten"], 2)

    report = run_cleanup(time.time())
    assert report["abandoned_jobs"] == 3 and report["freed_slots"] == 1
    state = {name: jobs.get(jid) for name, jid in ids.items()}
    assert state["live"]["status"] == jobs.RUNNING and state["just_queued"]["status"] == jobs.QUEUED
    assert state["forgotten"]["error"] == "interrupted by a restart of reelforge"
    assert state["over"]["error"] == "its workflow ended (ABORTED) before the job finished"
    assert state["never"]["error"] == "its workflow never started"
    assert not list(Table().query_partition("SLOTS#process"))


@pytest.mark.parametrize("asl", sorted((ROOT / "statemachines").glob("*.asl.json")), ids=lambda p: p.stem)
def test_every_machine_can_mark_an_interrupted_execution_failed(asl: Path) -> None:
    """The embedded AWS runs MarkFailed with the execution's input (after its leading Pass
    states) and the Interrupted error: the step must get the job and a readable reason."""
    definition = json.loads(asl.read_text())
    state = definition["States"].get("MarkFailed")
    assert state and state["Type"] == "Task", f"{asl.name} has no MarkFailed task"
    given = {"job_id": "j1", "project_id": "p1", "owner": "u1", "operation": "grade", "segment_id": "s1"}
    data = _run_leading_passes(definition, given)
    data["error"] = _INTERRUPTED
    payload = _apply_parameters(state["Parameters"], data) if "Parameters" in state else data
    assert payload["job_id"] == "j1"
    assert readable_error(payload["error"]) == "interrupted by a restart of reelforge"
    if asl.stem == "edit":  # a grade's segment is marked failed too, not left "rendering"
        assert payload["segment_id"] == "s1" and payload["operation"] == "grade"


def test_the_journal_keeps_no_sealed_provider_key() -> None:
    from reelforge.local.durable import _without_sealed_keys

    given = {"job_id": "j", "provider": {"name": "gemini", "sealed_key": "v1.abc"},
             "items": [{"sealed_key": "v1.def", "n": 1}]}
    assert _without_sealed_keys(given) == {"job_id": "j", "provider": {"name": "gemini"}, "items": [{"n": 1}]}
