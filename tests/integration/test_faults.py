"""Faults in a pipeline's steps, handled by the real state machines (local/faults.py injects them
at the embedded AWS's Lambda invocations): a transient failure is retried and leaves one set of
artifacts, a Lambda killed before it answered is retried and overwrites what it wrote, and a
permanent failure fails the job readably and gives its slot back.

One clips server with one job slot (MAX_CONCURRENT_JOBS=1): the first job's transcription fails
for good, the second job's first clip render fails transiently after writing its clip, and its
publish step is killed after writing the manifest and completing the job.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import mediagen
import pytest
from polling import wait_for_job
from servers import Server

from reelforge import blobs

pytestmark = pytest.mark.e2e

FAULTS = ("ClipsTranscribeFunction=permanent,ClipsRenderClipFunction=transient,"
          "ClipsPublishFunction=killed")
FAST = {"clip_count": "2", "whisper_model": "tiny.en", "min_duration": "5", "max_duration": "10"}
SENTENCES = ["Start with the result, then explain how you got there.",
             "Retention went up by thirty percent last year.",
             "Open with a promise and keep it.", "Every clip needs one clear idea.",
             "Cut the intro and show the payoff first.", "Then tell them what to do next."]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("faults")
    srv = Server(tmp / "data", tmp).start("--parameter", "MaxConcurrentJobs=1",
                                          env={"REELFORGE_FAULTS": FAULTS})
    yield srv
    if srv.proc is not None and srv.proc.poll() is None:
        srv.proc.kill()
        srv.proc.wait(30)


@pytest.fixture(scope="module")
def talk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return mediagen.talk_video(tmp_path_factory.mktemp("talk") / "talk.mp4", sentences=SENTENCES,
                               size=(320, 180), scene_cut_every_s=4.0).path


def _submit(api: httpx.Client, video: Path) -> str:
    with open(video, "rb") as fh:
        job = api.post("/api/process", files={"file": ("talk.mp4", fh, "video/mp4")}, data=FAST)
    assert job.status_code == 200, job.text
    return job.json()["job_id"]


def _objects(server: Server, prefix: str) -> dict[str, str]:
    s3 = server.aws_client("s3")
    bucket = s3.list_buckets()["Buckets"][0]["Name"]
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return {o["Key"]: o["ETag"] for page in pages for o in page.get("Contents", [])}


def _slots(server: Server) -> list[dict]:
    return [i for i in server.table_items() if i["PK"]["S"].startswith("SLOTS#")]


def _executions(server: Server, deadline_s: float = 60) -> dict[str, str]:
    """Each job's execution status, once none is running (a step retried after the job
    completed, as a killed publish is, runs on after the job looks done)."""
    sfn = server.aws_client("stepfunctions")
    end = time.time() + deadline_s
    while True:
        runs = [sfn.describe_execution(executionArn=e["executionArn"])
                for m in sfn.list_state_machines()["stateMachines"]
                for e in sfn.list_executions(stateMachineArn=m["stateMachineArn"])["executions"]]
        if all(r["status"] != "RUNNING" for r in runs) or time.time() > end:
            return {json.loads(r["input"])["job_id"]: r["status"] for r in runs}
        time.sleep(0.5)


def _injected(server: Server) -> list[str]:
    return [line.split("injected fault: ", 1)[1].strip() for line in server.output if "injected fault: " in line]


def test_a_permanent_failure_fails_the_job_readably_and_frees_its_slot(server: Server, talk: Path) -> None:
    api = server.client(server.register("unlucky"))
    job_id = _submit(api, talk)
    failed = {**wait_for_job(api, f"/api/status/{job_id}"), "job_id": job_id}
    assert failed["status"] == "failed", failed
    assert "ClipsTranscribeFunction" in failed["error"] and "injected fault" in failed["error"], failed
    assert "Traceback" not in failed["error"]
    assert _injected(server) == ["ClipsTranscribeFunction permanent"]  # not retried
    assert _executions(server)[failed["job_id"]] == "FAILED"  # through its Catch and MarkFailed
    assert _slots(server) == []  # the one slot is free: the next test's job can run


def test_retried_steps_leave_one_set_of_artifacts(server: Server, talk: Path) -> None:
    api = server.client(server.register("retried"))
    job_id = _submit(api, talk)
    done = wait_for_job(api, f"/api/status/{job_id}")
    assert done["status"] == "completed", done
    assert _executions(server)[job_id] == "SUCCEEDED"
    assert _injected(server)[1:] == ["ClipsRenderClipFunction transient", "ClipsPublishFunction killed"]
    clips = done["clips"]
    assert len(clips) == 2 and len({c["video_url"].split("?")[0] for c in clips}) == 2
    # progress counted each clip once, though one render ran twice
    ddb, table = server.dynamodb()
    item = ddb.get_item(TableName=table, Key={"PK": {"S": f"JOB#{job_id}"}, "SK": {"S": "META"}})["Item"]
    assert sorted(item["clips_done"]["SS"]) == ["1", "2"]  # clip numbers
    # nothing orphaned: every object under the job's prefix is the source, the transcript,
    # the manifest, or one of the four files of a clip the manifest names
    objects = _objects(server, blobs.job_prefix(job_id))
    manifest_key = next(k for k in objects if k.endswith("manifest.json"))
    s3 = server.aws_client("s3")
    bucket = s3.list_buckets()["Buckets"][0]["Name"]
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=manifest_key)["Body"].read())
    named = {manifest_key, manifest["transcript_key"]}
    for clip in manifest["clips"]:
        named |= {clip[f"{kind}_key"] for kind in ("video", "thumbnail", "srt", "vtt")}
    extra = set(objects) - named
    assert all("/source/" in k or k.endswith(("scenes.json", "moments.json")) for k in extra), sorted(extra)
    assert len(manifest["clips"]) == 2
    assert _slots(server) == []
