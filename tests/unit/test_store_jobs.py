"""DynamoDB storage, job lifecycle and concurrency slots against moto."""

from __future__ import annotations

import pytest

from reelforge import jobs, slots
from reelforge.store import ConditionFailed, Keys, NotFound, Table


def test_put_new_refuses_existing_key(aws_mock: None) -> None:
    table = Table()
    table.put_new({**Keys.project("p1"), "name": "a", "ratio": 0.5})
    with pytest.raises(ConditionFailed):
        table.put_new({**Keys.project("p1"), "name": "b"})
    item = table.get(Keys.project("p1"))
    assert item["name"] == "a" and item["ratio"] == 0.5  # floats round-trip via Decimal


def test_get_missing_raises_not_found(aws_mock: None) -> None:
    with pytest.raises(NotFound):
        Table().get(Keys.job("nope"))


def test_owner_index_lists_newest_first_and_only_that_owner(aws_mock: None) -> None:
    table = Table()
    for i, ts in enumerate(["2026-01-01", "2026-01-03", "2026-01-02"]):
        table.put_new({**Keys.project(f"p{i}"), **Keys.owner_index("u1", "PROJECT", ts), "id": f"p{i}"})
    table.put_new({**Keys.project("other"), **Keys.owner_index("u2", "PROJECT", "2026-01-05"), "id": "x"})
    assert [p["id"] for p in table.query_owner("u1", "PROJECT")] == ["p1", "p2", "p0"]


def test_job_lifecycle_and_events(aws_mock: None) -> None:
    job = jobs.create("u1", "process")
    assert job["status"] == jobs.QUEUED
    assert jobs.set_running(job["id"])
    assert jobs.progress(job["id"], stage="transcribe", fraction=0.4, message="half")
    # Progress never goes backwards (parallel branches report out of order).
    assert not jobs.progress(job["id"], stage="scenes", fraction=0.2)
    assert jobs.get(job["id"])["progress"] == 0.4
    assert jobs.complete(job["id"], {"clips": []})
    # A terminal job stays terminal: a late failure or progress can't change it.
    assert not jobs.fail(job["id"], "late")
    assert not jobs.progress(job["id"], stage="render", fraction=0.9)
    final = jobs.get(job["id"])
    assert final["status"] == jobs.COMPLETED and final.get("error") is None
    seen = jobs.events(job["id"])
    assert [e["status"] for e in seen] == ["queued", "running", "running", "completed"]
    assert [e["seq"] for e in seen] == sorted(e["seq"] for e in seen)
    assert jobs.events(job["id"], after_seq=seen[-2]["seq"]) == seen[-1:]


def test_job_owned_by_someone_else_is_not_found(aws_mock: None) -> None:
    job = jobs.create("u1", "process")
    with pytest.raises(NotFound):
        jobs.get(job["id"], owner="u2")


def test_parts_done_count_once(aws_mock: None) -> None:
    job = jobs.create("u1", "process")
    # a retried step marks its part again: counted once
    assert [jobs.count_done(job["id"], "clips_done", part) for part in (0, 1, 1, 2)] == [1, 2, 2, 3]
    assert jobs.done_count(jobs.get(job["id"]), "clips_done") == 3


def test_slots_limit_and_release(aws_mock: None) -> None:
    a, b, c = (jobs.create("u1", "process")["id"] for _ in range(3))
    assert slots.acquire("process", a, 2) == 0
    assert slots.acquire("process", a, 2) == 0  # idempotent for the holder
    assert slots.acquire("process", b, 2) == 1
    with pytest.raises(slots.SlotsBusy):
        slots.acquire("process", c, 2)
    slots.release("process", a)
    assert slots.acquire("process", c, 2) == 0


def test_slot_of_a_finished_job_is_reclaimed(aws_mock: None) -> None:
    crashed, waiting = (jobs.create("u1", "process")["id"] for _ in range(2))
    slots.acquire("process", crashed, 1)
    jobs.fail(crashed, "worker died")  # failed without releasing its slot
    assert slots.acquire("process", waiting, 1) == 0
    assert slots.reclaim() == 0  # the new holder is running
