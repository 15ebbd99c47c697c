"""Load: `reelforge serve` under many clients at once, then a check that nothing was lost.

    .venv/bin/python bench/load.py                                   # 50 clients for 60 s
    .venv/bin/python bench/load.py --clients 5 --seconds 60 --job-rate 1 --job-weight 5   # see the 429s

The server is `reelforge serve --port 0 --data-dir <tmp>` in a child process (tests/servers.py),
started with the template parameters `MaxConcurrentJobs=N` (the clips job slots) and
`JobSubmissionsPerMinute=N` (the per-user limit on routes that start a job; 0 = none). The load is one asyncio process here (httpx.AsyncClient), so
it shares no GIL with the server.

1. Idle baseline: one client, one request at a time: GET /api/health, POST /api/project,
   GET /api/project/{id}. The loaded p50s are printed against these (`x idle`), the number that
   means the same on another machine.
2. Setup (not timed): each client registers its own user and makes a project, a studio project
   with a section and a sentence, a studio project for script jobs, and (`--timeline`) a project
   whose 30 s video becomes an editor timeline.
3. Load (`--seconds`): each client loops (`--think-ms` between requests) over a weighted mix of
   reads (projects, jobs, studio), edits (project create/rename, studio section and sentence
   create/update, timeline splits), uploads (presign + a 64 KiB-1 MiB PUT to S3) and job
   submissions (narrate `stop_after: script`, studio `generate-script-short`, and clips jobs whose
   upload is 64 KiB of noise: they take a MAX_CONCURRENT_JOBS slot, then fail at probe).
   A 429 is the rate limit (the client submits no job until its Retry-After has passed); a 409 on
   a job route (the studio project already has a job running) or a 503 with Retry-After is
   back-pressure. Neither is an error; every other 5xx and every transport error is.
4. Drain: every acknowledged job is polled (GET /api/job/{id}) until completed/failed, and every
   uploaded asset until ready/failed, for at most `--drain-timeout` s.
5. Read-back: every acknowledged write (2xx) is read and compared with what was written (a write
   whose answer never came may or may not be there; either is accepted); uploads are checked in
   S3 (size); a timeline's segments must be exactly those the acknowledged splits left.

Exit status 1 on any error (5xx, transport), lost write, or job not terminal. All numbers go to
bench/out/load-<timestamp>.json and the server's output to bench/out/load-<timestamp>-server.log.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = ROOT / "bench" / "out"

# (operation, weight): about 52% reads, 27% edits, 6% uploads, 15% job submissions.
MIX: dict[str, int] = {
    "health": 4, "list_project": 5, "list_projects": 5, "get_project": 9, "get_job": 8,
    "studio_list": 4, "studio_get": 8, "studio_section": 6,
    "create_project": 5, "put_project": 6, "section_create": 2, "section_rename": 3,
    "sentence_create": 4, "sentence_update": 4, "split": 2,
    "upload": 6,
    "narrate_job": 6, "studio_job": 4, "clips_job": 4,
}
JOB_OPS = ("narrate_job", "studio_job", "clips_job")
MAX_SECTIONS = 20  # per client's studio project (the app allows 60)
MAX_SENTENCES = 60  # per section


def _ms_stats(ms: list[float]) -> dict[str, float]:
    ms = sorted(ms)
    if not ms:
        return {"p50": float("nan"), "p99": float("nan")}
    # nearest rank: with fewer than 100 samples the p99 is the slowest one
    return {"p50": round(statistics.median(ms), 2), "p99": round(ms[math.ceil(0.99 * len(ms)) - 1], 2)}


def _machine_cpu_s() -> tuple[float, float]:
    """(busy, iowait) CPU seconds of the whole machine so far, all cores (Linux)."""
    try:
        f = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except OSError:
        return float("nan"), float("nan")
    tick = os.sysconf("SC_CLK_TCK")
    return (f[0] + f[1] + f[2] + f[5] + f[6] + f[7]) / tick, f[4] / tick


def _threads(pid: int) -> int | None:
    try:
        line = next(x for x in Path(f"/proc/{pid}/status").read_text().splitlines() if x.startswith("Threads:"))
    except (OSError, StopIteration):
        return None
    return int(line.split()[1])


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process and its waited-for children (Linux)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


@dataclass
class Written:
    """What an acknowledged write left, and writes after it whose answer never came."""

    value: Any
    maybe: list[Any] = field(default_factory=list)

    def ack(self, value: Any) -> None:
        self.value, self.maybe = value, []

    def holds(self, seen: Any) -> bool:
        return seen == self.value or seen in self.maybe


@dataclass
class Job:
    kind: str
    id: str
    submitted: float
    upload_ok: bool = True  # a clips job starts when its upload lands
    status: str = "queued"
    error: Any = None
    finished: float | None = None


@dataclass
class Asset:
    project: str
    id: str
    size: int
    status: str = "uploading"


class Bench:
    def __init__(self, http: httpx.AsyncClient, url: str) -> None:
        self.http, self.url = http, url
        self.phase = "setup"
        self.samples: dict[str, list[tuple[float, int | str]]] = defaultdict(list)
        self.phase_counts: Counter[str] = Counter()
        self.kinds: Counter[str] = Counter()
        self.problems: list[dict[str, Any]] = []
        self.t0 = time.perf_counter()

    async def call(self, route: str, method: str, url: str, *, token: str | None = None, job: bool = False,
                   **kw: Any) -> tuple[httpx.Response | None, str]:
        """(response or None, kind): kind is ok | rate_limited | busy | client_error | error."""
        headers = dict(kw.pop("headers", None) or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        start = time.perf_counter()
        resp: httpx.Response | None = None
        try:
            resp = await self.http.request(method, url if url.startswith("http") else self.url + url,
                                           headers=headers, **kw)
            status: int | str = resp.status_code
        except httpx.HTTPError as exc:
            status = type(exc).__name__
        ms = (time.perf_counter() - start) * 1000
        kind = _classify(status, resp, job)
        self.phase_counts[f"{self.phase}:{kind}"] += 1
        if self.phase == "load":
            self.samples[route].append((ms, status))
            self.kinds[kind] += 1
        if kind in ("error", "client_error"):
            body = resp.text[:500] if resp is not None else ""
            self.problems.append({"phase": self.phase, "route": route, "method": method, "url": url,
                                  "status": status, "kind": kind, "body": body, "ms": round(ms, 1),
                                  "at_s": round(time.perf_counter() - self.t0, 1)})
        return resp, kind


def _classify(status: int | str, resp: httpx.Response | None, job: bool) -> str:
    if isinstance(status, str):
        return "error"  # timeout, connection reset...
    if status < 400:
        return "ok"
    if status == 429:
        return "rate_limited"
    if status == 409 and job:
        return "busy"
    if status == 503 and resp is not None and "retry-after" in resp.headers:
        return "busy"
    return "error" if status >= 500 else "client_error"


def _data(resp: httpx.Response) -> Any:
    """The studio's envelope's data."""
    return resp.json().get("data")


class Client:
    def __init__(self, n: int, bench: Bench, rng: random.Random, args: argparse.Namespace,
                 video: bytes | None) -> None:
        self.n, self.b, self.rng, self.args, self.video = n, bench, rng, args, video
        self.token = ""
        self.projects: dict[str, Written] = {}  # pid -> (name, description)
        self.assets: list[Asset] = []
        self.studio = ""
        self.sections: dict[str, Written] = {}  # sid -> title
        self.sentences: dict[str, tuple[str, Written]] = {}  # xid -> (sid, text)
        self.section_counts: Counter[str] = Counter()
        self.script_project = ""
        self.timeline = ""
        self.segments: set[str] | None = None
        self.segments_uncertain = False
        self.jobs: list[Job] = []
        self.jobs_blocked_until = 0.0
        self.rate_limited = 0
        self.seq = 0

    def _next(self) -> int:
        self.seq += 1
        return self.seq

    async def call(self, route: str, method: str, url: str, **kw: Any) -> tuple[httpx.Response | None, str]:
        return await self.b.call(route, method, url, token=self.token, **kw)

    # --- setup ------------------------------------------------------------------------------------

    async def setup(self) -> None:
        resp, kind = await self.b.call("POST /api/auth/register", "POST", "/api/auth/register", json={
            "email": f"load-{self.n}-{os.getpid()}@example.com", "password": "password123", "name": f"load {self.n}"})
        assert kind == "ok" and resp is not None, (kind, resp and resp.text)
        self.token = resp.json()["accessToken"]
        await self.create_project()
        resp, kind = await self.call("POST /api/v1/projects", "POST", "/api/v1/projects",
                                     json={"name": f"studio {self.n}", "topic": "Load testing"})
        assert kind == "ok" and resp is not None, resp and resp.text
        self.studio = _data(resp)["id"]
        await self.section_create()
        await self.sentence_create()
        resp, kind = await self.call("POST /api/v1/projects", "POST", "/api/v1/projects",
                                     json={"name": f"scripts {self.n}", "topic": "Coffee"})
        assert kind == "ok" and resp is not None, resp and resp.text
        self.script_project = _data(resp)["id"]
        if self.video is not None:
            resp, kind = await self.call("POST /api/project", "POST", "/api/project", json={"name": f"timeline {self.n}"})
            assert kind == "ok" and resp is not None
            self.timeline = resp.json()["id"]
            up, kind = await self.call("POST /api/project/{id}/upload", "POST", f"/api/project/{self.timeline}/upload",
                                       json={"file_name": "timeline.mp4", "content_type": "video/mp4"})
            assert kind == "ok" and up is not None
            put, kind = await self.call("PUT (S3 presigned)", "PUT", up.json()["upload_url"], content=self.video,
                                        headers={"Content-Type": "video/mp4"})
            assert kind == "ok", put and put.text

    # --- the load loop ---------------------------------------------------------------------------

    async def run(self, deadline: float) -> None:
        ops = list(MIX)
        weights = [w * (self.args.job_weight if op in JOB_OPS else 1) for op, w in MIX.items()]
        think = self.args.think_ms / 1000
        while time.perf_counter() < deadline:
            op = self.rng.choices(ops, weights)[0]
            if op in JOB_OPS and time.monotonic() < self.jobs_blocked_until:
                op = "get_job"  # honouring Retry-After: no submissions until then
            await getattr(self, op)()
            if think:
                await asyncio.sleep(think * self.rng.uniform(0.5, 1.5))

    def _pid(self) -> str:
        return self.rng.choice(list(self.projects))

    async def health(self) -> None:
        await self.call("GET /api/health", "GET", "/api/health")

    async def list_project(self) -> None:
        await self.call("GET /api/project", "GET", "/api/project")

    async def list_projects(self) -> None:
        await self.call("GET /api/projects", "GET", "/api/projects")

    async def get_project(self) -> None:
        await self.call("GET /api/project/{id}", "GET", f"/api/project/{self._pid()}")

    async def get_job(self) -> None:
        if not self.jobs:
            await self.health()
            return
        open_jobs = [j for j in self.jobs if j.status not in ("completed", "failed") and j.upload_ok]
        job = self.rng.choice(open_jobs or self.jobs)  # a client follows the jobs it is waiting for
        resp, kind = await self.call("GET /api/job/{id}", "GET", f"/api/job/{job.id}")
        if kind == "ok" and resp is not None:
            self._seen(job, resp.json())

    def _seen(self, job: Job, body: dict[str, Any]) -> None:
        job.status, job.error = body["status"], body.get("error")
        if job.status in ("completed", "failed") and job.finished is None:
            job.finished = time.perf_counter()

    async def studio_list(self) -> None:
        await self.call("GET /api/v1/projects", "GET", "/api/v1/projects")

    async def studio_get(self) -> None:
        await self.call("GET /api/v1/projects/{id}", "GET", f"/api/v1/projects/{self.studio}")

    async def studio_section(self) -> None:
        sid = self.rng.choice(list(self.sections))
        await self.call("GET /api/v1/sections/{id}", "GET", f"/api/v1/sections/{sid}")

    async def create_project(self) -> None:
        value = (f"project {self.n}.{self._next()}", f"made by client {self.n}")
        resp, kind = await self.call("POST /api/project", "POST", "/api/project",
                                     json={"name": value[0], "description": value[1]})
        if kind == "ok" and resp is not None:
            self.projects[resp.json()["id"]] = Written(value)

    async def put_project(self) -> None:
        pid = self._pid()
        value = (f"renamed {self.n}.{self._next()}", f"description {self.rng.randrange(10**6)}")
        resp, kind = await self.call("PUT /api/projects/{id}", "PUT", f"/api/projects/{pid}",
                                     json={"id": pid, "name": value[0], "description": value[1]})
        self._settle(self.projects[pid], value, resp, kind)

    def _settle(self, written: Written, value: Any, resp: httpx.Response | None, kind: str) -> None:
        if kind == "ok":
            written.ack(value)
        elif resp is None or resp.status_code >= 500:
            written.maybe.append(value)  # no answer, or a 5xx: it may have been applied

    async def section_create(self) -> None:
        if len(self.sections) >= MAX_SECTIONS:
            await self.section_rename()
            return
        title = f"section {self.n}.{self._next()}"
        resp, kind = await self.call("POST /api/v1/sections", "POST", "/api/v1/sections",
                                     json={"projectId": self.studio, "title": title})
        if kind == "ok" and resp is not None:
            self.sections[_data(resp)["id"]] = Written(title)

    async def section_rename(self) -> None:
        sid = self.rng.choice(list(self.sections))
        title = f"retitled {self.n}.{self._next()}"
        resp, kind = await self.call("PUT /api/v1/sections/{id}", "PUT", f"/api/v1/sections/{sid}",
                                     json={"title": title})
        self._settle(self.sections[sid], title, resp, kind)

    async def sentence_create(self) -> None:
        open_sections = [s for s in self.sections if self.section_counts[s] < MAX_SENTENCES]
        if not open_sections:
            await self.section_create()
            return
        sid = self.rng.choice(open_sections)
        text = f"Sentence {self.n}.{self._next()} of the load test."
        resp, kind = await self.call("POST /api/v1/sentences", "POST", "/api/v1/sentences",
                                     json={"sectionId": sid, "text": text})
        if kind == "ok" and resp is not None:
            self.sentences[_data(resp)["id"]] = (sid, Written(text))
            self.section_counts[sid] += 1

    async def sentence_update(self) -> None:
        if not self.sentences:
            await self.sentence_create()
            return
        xid = self.rng.choice(list(self.sentences))
        text = f"Updated {self.n}.{self._next()}: still a sentence."
        resp, kind = await self.call("PUT /api/v1/sentences/{id}", "PUT", f"/api/v1/sentences/{xid}",
                                     json={"text": text})
        self._settle(self.sentences[xid][1], text, resp, kind)

    async def split(self) -> None:
        if not self.timeline or self.segments_uncertain:
            await self.get_project()
            return
        resp, kind = await self.call("GET /api/project/{id}", "GET", f"/api/project/{self.timeline}")
        if kind != "ok" or resp is None:
            return
        segs = [s for s in resp.json().get("segments") or [] if s.get("status", "ready") == "ready"]
        if not segs:
            return  # the timeline is not made yet
        if self.segments is None:
            self.segments = {s["id"] for s in resp.json()["segments"]}
        longest = max(segs, key=lambda s: s["end_ts"] - s["start_ts"])
        if longest["end_ts"] - longest["start_ts"] < 0.2:
            return
        mid = round((longest["start_ts"] + longest["end_ts"]) / 2, 3)
        resp, kind = await self.call("POST /api/segment/{id}/split", "POST", f"/api/segment/{longest['id']}/split",
                                     json={"split_ts": mid})
        if kind == "ok" and resp is not None:
            body = resp.json()
            self.segments = (self.segments - {longest["id"]}) | {body["left"]["id"], body["right"]["id"]}
        elif resp is None or resp.status_code >= 500:
            self.segments_uncertain = True

    async def _put_s3(self, url: str, size: int) -> bool:
        body = self.rng.randbytes(size)
        _, kind = await self.call("PUT (S3 presigned)", "PUT", url, content=body, headers={"Content-Type": "video/mp4"})
        return kind == "ok"

    async def upload(self) -> None:
        pid = self._pid()
        resp, kind = await self.call("POST /api/project/{id}/upload", "POST", f"/api/project/{pid}/upload",
                                     json={"file_name": f"clip-{self._next()}.mp4", "content_type": "video/mp4"})
        if kind != "ok" or resp is None:
            return
        body = resp.json()
        size = self.rng.randint(64 * 1024, 1024 * 1024)
        if await self._put_s3(body["upload_url"], size):
            self.assets.append(Asset(pid, body["asset_id"], size))

    def _job_answer(self, resp: httpx.Response | None, kind: str) -> bool:
        if kind == "rate_limited" and resp is not None:
            self.rate_limited += 1
            try:
                wait = float(resp.headers.get("retry-after", "1"))
            except ValueError:
                wait = 1.0
            self.jobs_blocked_until = time.monotonic() + wait
        return kind == "ok" and resp is not None

    async def narrate_job(self) -> None:
        resp, kind = await self.call("POST /api/generate", "POST", "/api/generate", job=True, json={
            "topic": f"Three habits of focused teams {self._next()}", "num_slides": 2, "stop_after": "script"})
        if self._job_answer(resp, kind):
            self.jobs.append(Job("narrate", resp.json()["job_id"], time.perf_counter()))

    async def studio_job(self) -> None:
        resp, kind = await self.call("POST /api/v1/projects/{id}/generate-script-short", "POST",
                                     f"/api/v1/projects/{self.script_project}/generate-script-short", job=True,
                                     json={"topic": "Coffee in one minute", "targetDuration": 1})
        if self._job_answer(resp, kind):
            self.jobs.append(Job("studio", _data(resp)["jobId"], time.perf_counter()))

    async def clips_job(self) -> None:
        resp, kind = await self.call("POST /api/process/upload-url", "POST", "/api/process/upload-url", job=True,
                                     json={"file_name": "talk.mp4", "content_type": "video/mp4"})
        if not self._job_answer(resp, kind):
            return
        body = resp.json()
        job = Job("clips", body["job_id"], time.perf_counter())
        self.jobs.append(job)
        job.upload_ok = await self._put_s3(body["upload_url"], 64 * 1024)

    # --- afterwards ------------------------------------------------------------------------------

    async def poll(self) -> None:
        """One look at each open job and each project with an asset still uploading."""
        for job in self.jobs:
            if job.status in ("completed", "failed") or not job.upload_ok:
                continue
            resp, kind = await self.call("GET /api/job/{id}", "GET", f"/api/job/{job.id}")
            if resp is not None and resp.status_code == 404:
                job.status = "missing"
            elif kind == "ok" and resp is not None:
                self._seen(job, resp.json())
        pending = {a.project for a in self.assets if a.status not in ("ready", "failed")}
        for pid in pending:
            resp, kind = await self.call("GET /api/project/{id}", "GET", f"/api/project/{pid}")
            if kind == "ok" and resp is not None:
                seen = {a["id"]: a["status"] for a in resp.json().get("assets", [])}
                for a in self.assets:
                    if a.project == pid and a.id in seen:
                        a.status = seen[a.id]

    def settled(self) -> bool:
        return all(j.status in ("completed", "failed", "missing") for j in self.jobs if j.upload_ok) and \
            all(a.status in ("ready", "failed") for a in self.assets)

    async def verify(self, s3: Any, bucket: str) -> list[dict[str, Any]]:
        """Every acknowledged write, read back; returns what is missing or different."""
        lost: list[dict[str, Any]] = []
        resp, kind = await self.call("GET /api/project", "GET", "/api/project")
        listed = {p["id"] for p in resp.json()} if kind == "ok" and resp is not None else set()
        for pid in set(self.projects) - listed:
            lost.append({"client": self.n, "what": "project not listed", "id": pid})
        s3_keys: dict[str, str] = {}
        for pid, written in self.projects.items():
            resp, kind = await self.call("GET /api/project/{id}", "GET", f"/api/project/{pid}")
            if kind != "ok" or resp is None:
                lost.append({"client": self.n, "what": "project", "id": pid,
                             "status": resp.status_code if resp is not None else kind})
                continue
            body = resp.json()
            seen = (body.get("name"), body.get("description"))
            if not written.holds(seen):
                lost.append({"client": self.n, "what": "project fields", "id": pid, "expected": written.value,
                             "maybe": written.maybe, "seen": seen})
            assets = {a["id"]: a for a in body.get("assets", [])}
            for a in self.assets:
                if a.project != pid:
                    continue
                if a.id not in assets:
                    lost.append({"client": self.n, "what": "asset", "id": a.id, "project": pid})
                else:
                    s3_keys[a.id] = assets[a.id].get("s3_key", "")
        for a in self.assets:
            key = s3_keys.get(a.id)
            if not key:
                continue
            try:
                size = (await asyncio.to_thread(s3.head_object, Bucket=bucket, Key=key))["ContentLength"]
            except Exception as exc:  # noqa: BLE001 - any failure is a lost object
                lost.append({"client": self.n, "what": "S3 object", "key": key, "error": str(exc)[:200]})
                continue
            if size != a.size:
                lost.append({"client": self.n, "what": "S3 object size", "key": key, "expected": a.size, "seen": size})
        resp, kind = await self.call("GET /api/v1/projects/{id}", "GET", f"/api/v1/projects/{self.studio}")
        if kind != "ok" or resp is None:
            lost.append({"client": self.n, "what": "studio project", "id": self.studio})
        else:
            sections = {s["id"]: s for s in _data(resp)["sections"]}
            for sid, written in self.sections.items():
                if sid not in sections:
                    lost.append({"client": self.n, "what": "section", "id": sid})
                elif not written.holds(sections[sid]["title"]):
                    lost.append({"client": self.n, "what": "section title", "id": sid, "expected": written.value,
                                 "seen": sections[sid]["title"]})
            texts = {x["id"]: x.get("text") for s in sections.values() for x in s.get("sentences", [])}
            for xid, (_sid, written) in self.sentences.items():
                if xid not in texts:
                    lost.append({"client": self.n, "what": "sentence", "id": xid})
                elif not written.holds(texts[xid]):
                    lost.append({"client": self.n, "what": "sentence text", "id": xid, "expected": written.value,
                                 "seen": texts[xid]})
        if self.timeline and self.segments is not None and not self.segments_uncertain:
            resp, kind = await self.call("GET /api/project/{id}", "GET", f"/api/project/{self.timeline}")
            seen_ids = {s["id"] for s in resp.json().get("segments", [])} if kind == "ok" and resp else set()
            if seen_ids != self.segments:
                lost.append({"client": self.n, "what": "timeline segments", "id": self.timeline,
                             "missing": sorted(self.segments - seen_ids), "unexpected": sorted(seen_ids - self.segments)})
        return lost

    def written_counts(self) -> Counter[str]:
        return Counter({"projects": len(self.projects), "assets": len(self.assets), "sections": len(self.sections),
                        "sentences": len(self.sentences),
                        "segments": len(self.segments or ()) if not self.segments_uncertain else 0})


# --- the run -----------------------------------------------------------------------------------------

async def idle_baseline(bench: Bench, n: int) -> dict[str, dict[str, float]]:
    resp, _ = await bench.call("POST /api/auth/register", "POST", "/api/auth/register", json={
        "email": f"idle-{os.getpid()}@example.com", "password": "password123", "name": "idle"})
    assert resp is not None and resp.status_code == 201, resp and resp.text
    token = resp.json()["accessToken"]
    times: dict[str, list[float]] = defaultdict(list)

    async def timed(route: str, method: str, url: str, **kw: Any) -> httpx.Response:
        start = time.perf_counter()
        resp, kind = await bench.call(route, method, url, token=token, **kw)
        times[route].append((time.perf_counter() - start) * 1000)
        assert kind == "ok" and resp is not None, (route, resp and resp.text)
        return resp

    for _ in range(n // 10):  # warm-up
        await timed("warm-up", "GET", "/api/health")
    for _ in range(n):
        await timed("GET /api/health", "GET", "/api/health")
    pids = [(await timed("POST /api/project", "POST", "/api/project", json={"name": f"idle {i}"})).json()["id"]
            for i in range(max(10, n // 4))]
    for i in range(n // 2):
        await timed("GET /api/project/{id}", "GET", f"/api/project/{pids[i % len(pids)]}")
    times.pop("warm-up")
    return {route: _ms_stats(ms) for route, ms in times.items()}


async def drain(bench: Bench, clients: list[Client], timeout: float) -> float:
    start = time.perf_counter()
    sem = asyncio.Semaphore(8)

    async def one(c: Client) -> None:
        async with sem:
            await c.poll()

    while time.perf_counter() - start < timeout:
        await asyncio.gather(*(one(c) for c in clients if not c.settled()))
        if all(c.settled() for c in clients):
            break
        await asyncio.sleep(1.0)
    return time.perf_counter() - start


async def run(args: argparse.Namespace, url: str, aws_url: str, server_pid: int, video: bytes | None) -> dict[str, Any]:
    import boto3

    limits = httpx.Limits(max_connections=args.clients + 20, max_keepalive_connections=args.clients + 20)
    async with httpx.AsyncClient(timeout=args.request_timeout, limits=limits) as http:
        bench = Bench(http, url)
        bench.phase = "idle"
        idle = await idle_baseline(bench, args.idle_n)
        bench.phase = "setup"
        rng = random.Random(args.seed)
        clients = [Client(i, bench, random.Random(rng.random()), args, video) for i in range(args.clients)]
        setup_start = time.perf_counter()
        sem = asyncio.Semaphore(10)

        async def setup(c: Client) -> None:
            async with sem:
                await c.setup()

        await asyncio.gather(*(setup(c) for c in clients))
        setup_s = time.perf_counter() - setup_start
        print(f"setup: {args.clients} users with their projects in {setup_s:.1f} s; load for {args.seconds} s ...",
              flush=True)
        bench.phase = "load"
        cpu0, wall0, here0, machine0 = _cpu_s(server_pid), time.perf_counter(), time.process_time(), _machine_cpu_s()
        deadline = wall0 + args.seconds
        await asyncio.gather(*(c.run(deadline) for c in clients))
        load_s = time.perf_counter() - wall0
        server_cpu, here_cpu = _cpu_s(server_pid) - cpu0, time.process_time() - here0
        machine1 = _machine_cpu_s()
        others_cpu = machine1[0] - machine0[0] - server_cpu - here_cpu
        iowait = machine1[1] - machine0[1]
        threads = _threads(server_pid)
        loadavg = " ".join(Path("/proc/loadavg").read_text().split()[:3]) if Path("/proc/loadavg").exists() else "?"
        bench.phase = "drain"
        jobs_n = sum(len(c.jobs) for c in clients)
        print(f"load done in {load_s:.1f} s; draining {jobs_n} jobs and "
              f"{sum(len(c.assets) for c in clients)} uploads ...", flush=True)
        cpu1 = _cpu_s(server_pid)
        drain_s = await drain(bench, clients, args.drain_timeout)
        drain_cpu = _cpu_s(server_pid) - cpu1
        bench.phase = "verify"
        s3 = boto3.client("s3", endpoint_url=aws_url, region_name="us-east-1", aws_access_key_id="local",
                          aws_secret_access_key="local")
        bucket = next(b["Name"] for b in s3.list_buckets()["Buckets"] if not b["Name"].endswith("-logs"))
        sem = asyncio.Semaphore(8)

        async def verify(c: Client) -> list[dict[str, Any]]:
            async with sem:
                return await c.verify(s3, bucket)

        lost = [x for found in await asyncio.gather(*(verify(c) for c in clients)) for x in found]

    jobs = [j for c in clients for j in c.jobs]
    routes = {}
    for route, samples in sorted(bench.samples.items()):
        ms = [m for m, _ in samples]
        routes[route] = {"n": len(samples), **_ms_stats(ms),
                         "statuses": dict(Counter(str(s) for _, s in samples).most_common())}
    by_kind: dict[str, Counter[str]] = defaultdict(Counter)
    for j in jobs:
        by_kind[j.kind][j.status if j.upload_ok else "upload not acknowledged"] += 1
    job_s = {k: _ms_stats([(j.finished - j.submitted) * 1000 for j in jobs if j.kind == k and j.finished])
             for k in by_kind}
    written: Counter[str] = Counter()
    for c in clients:
        written.update(c.written_counts())
    return {
        "idle": idle, "routes": routes, "load_s": load_s, "setup_s": setup_s,
        "requests": sum(r["n"] for r in routes.values()), "kinds": dict(bench.kinds),
        "phase_counts": dict(bench.phase_counts), "problems": bench.problems,
        "server_cpu_s": server_cpu, "loadgen_cpu_s": here_cpu, "others_cpu_s": others_cpu, "iowait_s": iowait, "server_threads": threads,
        "drain_cpu_s": drain_cpu,
        "loadavg": loadavg, "drain_s": drain_s, "jobs": {k: dict(v) for k, v in by_kind.items()},
        "job_seconds": {k: {q: round(v / 1000, 2) for q, v in s.items()} for k, s in job_s.items()},
        "failed_jobs": [{"kind": j.kind, "id": j.id, "error": j.error} for j in jobs if j.status == "failed"],
        "open_jobs": [{"kind": j.kind, "id": j.id, "status": j.status} for j in jobs
                      if j.upload_ok and j.status not in ("completed", "failed")],
        "assets": dict(Counter(a.status for c in clients for a in c.assets)),
        "rate_limited_answers": sum(c.rate_limited for c in clients),
        "written": dict(written), "lost": lost,
    }


def _server_excerpt(lines: list[str], limit: int = 60) -> list[str]:
    """The server's error lines (tracebacks and what follows them)."""
    out: list[str] = []
    for i, line in enumerate(lines):
        if "Traceback" in line or " ERROR" in line or "Exception" in line or '"level": "ERROR"' in line:
            out += lines[i:i + 12]
            if len(out) >= limit:
                break
    return out[:limit]


def report(args: argparse.Namespace, r: dict[str, Any], settings: dict[str, Any]) -> int:
    print(f"\nmachine: {os.cpu_count()} cores; server: {settings}")
    print(f"{args.clients} clients for {r['load_s']:.1f} s, think {args.think_ms} ms; idle baseline (1 client):")
    for route, s in r["idle"].items():
        print(f"  {route:44} p50 {s['p50']:8.2f} ms  p99 {s['p99']:8.2f} ms")
    print(f"\n{'route':52} {'n':>6} {'p50 ms':>9} {'p99 ms':>9} {'x idle':>7}  statuses")
    for route, s in r["routes"].items():
        idle = r["idle"].get(route)
        ratio = f"{s['p50'] / idle['p50']:7.1f}" if idle else " " * 7
        statuses = " ".join(f"{k}:{v}" for k, v in s["statuses"].items())
        print(f"{route:52} {s['n']:>6} {s['p50']:>9.1f} {s['p99']:>9.1f} {ratio}  {statuses}")
    rps = r["requests"] / r["load_s"]
    kinds = r["kinds"]
    print(f"\nthroughput: {r['requests']} requests in {r['load_s']:.1f} s = {rps:.1f} req/s "
          f"(server CPU {r['server_cpu_s']:.1f} s = {r['server_cpu_s'] / r['load_s']:.2f} cores; "
          f"load generator {r['loadgen_cpu_s']:.1f} s)")
    print(f"other processes on the machine meanwhile: {r['others_cpu_s'] / r['load_s']:.2f} cores "
          f"(load average {r['loadavg']}); iowait {r['iowait_s'] / r['load_s']:.2f} cores; "
          f"server threads at the end: {r['server_threads']}")
    print(f"answers: {kinds.get('ok', 0)} ok, {kinds.get('rate_limited', 0)} rate-limited (429), "
          f"{kinds.get('busy', 0)} back-pressure (409 job running / 503 Retry-After), "
          f"{kinds.get('client_error', 0)} other 4xx, {kinds.get('error', 0)} errors (5xx, transport)")
    errors = [p for p in r["problems"] if p["kind"] == "error"]
    client_errors = [p for p in r["problems"] if p["kind"] == "client_error"]
    for title, items in (("errors", errors), ("unexpected 4xx", client_errors)):
        if items:
            grouped = Counter((p["phase"], p["route"], str(p["status"])) for p in items)
            print(f"{title} by phase, route and status:")
            for (phase, route, status), n in grouped.most_common():
                body = next(p["body"] for p in items if (p["phase"], p["route"], str(p["status"])) == (phase, route, status))
                print(f"  {n:5} {phase:6} {route} -> {status}: {body[:200]}")
    jobs_n = sum(sum(v.values()) for v in r["jobs"].values())
    print(f"\njobs acknowledged: {jobs_n}; drain: {r['drain_s']:.1f} s (server CPU {r['drain_cpu_s']:.1f} s)")
    for kind, counts in r["jobs"].items():
        secs = r["job_seconds"].get(kind, {})
        print(f"  {kind:8} {dict(counts)}  submitted -> seen terminal p50 {secs.get('p50')} s, "
              f"p99 {secs.get('p99')} s")
    unexpected_fail = [j for j in r["failed_jobs"] if j["kind"] != "clips"]
    for j in unexpected_fail[:5]:
        print(f"  failed {j['kind']} {j['id']}: {str(j['error'])[:200]}")
    clips_errors = Counter(str((j.get("error") or {}).get("code") if isinstance(j.get("error"), dict) else j.get("error"))[:80]
                           for j in r["failed_jobs"] if j["kind"] == "clips")
    if clips_errors:
        print(f"  clips jobs fail at probe by design (noise uploads): {dict(clips_errors.most_common(3))}")
    print(f"uploads: {r['assets']} (noise bodies: 'failed' is the expected probe verdict)")
    print(f"writes acknowledged and read back: {r['written']}; lost or different: {len(r['lost'])}")
    for what, n in Counter(x["what"] for x in r["lost"]).most_common():
        example = next(x for x in r["lost"] if x["what"] == what)
        print(f"  LOST {n:5} {what}, e.g. {example}")
    open_jobs = r["open_jobs"]
    for j in open_jobs[:10]:
        print(f"  NOT TERMINAL {j}")
    failed = bool(errors) or bool(r["lost"]) or bool(open_jobs)
    print("verdict: " + ("FAILED" if failed else "ok") + f" ({len(errors)} errors, {len(r['lost'])} lost writes, "
          f"{len(open_jobs)} jobs not terminal)")
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--max-concurrent-jobs", type=int, default=2, help="MaxConcurrentJobs (clips job slots)")
    parser.add_argument("--job-rate", type=int, default=2, help="JOB_SUBMISSIONS_PER_MINUTE per user (0: no limit)")
    parser.add_argument("--job-weight", type=float, default=1.0,
                        help="multiplies the mix's job submissions (e.g. 5 to see the rate limit's 429s)")
    parser.add_argument("--think-ms", type=float, default=0, help="mean pause between a client's requests")
    parser.add_argument("--drain-timeout", type=float, default=300)
    parser.add_argument("--request-timeout", type=float, default=60)
    parser.add_argument("--idle-n", type=int, default=200, help="requests of the idle baseline")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-timeline", dest="timeline", action="store_false",
                        help="no editor timelines (no splits)")
    parser.add_argument("--source", type=Path, default=None,
                        help="serve another checkout's layers/core (e.g. `git archive HEAD` unpacked)")
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT / "tests"))
    from servers import Server

    video = None
    if args.timeline:
        import mediagen

        video = mediagen.silent_video(Path(tempfile.gettempdir()) / "reelforge-bench-load.mp4", seconds=30,
                                      size=(160, 90)).read_bytes()
    stamp = f"{datetime.now():%Y%m%d-%H%M%S}"
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    settings = {"MaxConcurrentJobs": args.max_concurrent_jobs, "JOB_SUBMISSIONS_PER_MINUTE": args.job_rate,
                "source": str(args.source or ROOT)}
    env = {"PYTHONPATH": str(args.source.resolve() / "layers" / "core")} if args.source else {}
    # Template parameters: the template's Globals set the functions' environment from them.
    params = ["--parameter", f"MaxConcurrentJobs={args.max_concurrent_jobs}",
              "--parameter", f"JobSubmissionsPerMinute={args.job_rate}"]
    with tempfile.TemporaryDirectory(prefix="reelforge-bench-load-") as tmp:
        server = Server(Path(tmp) / "data", Path(tmp))
        start = time.perf_counter()
        server.start(*params, env=env)
        assert server.proc is not None
        print(f"server (pid {server.proc.pid}) up in {time.perf_counter() - start:.1f} s at {server.url} "
              f"(AWS {server.aws})", flush=True)
        try:
            result = asyncio.run(run(args, server.url, server.aws, server.proc.pid, video))
        finally:
            try:
                server.stop()
            except AssertionError as exc:
                print(f"the server did not stop cleanly: {str(exc)[-500:]}")
            log = OUT_DIR / f"load-{stamp}-server.log"
            log.write_text("".join(server.output))
    excerpt = _server_excerpt(server.output)
    result |= {"args": {k: str(v) for k, v in vars(args).items()}, "cores": os.cpu_count(), "settings": settings,
               "server_log": str(log), "server_errors_excerpt": excerpt}
    code = report(args, result, settings)
    if excerpt:
        print(f"server log error lines ({log}):")
        print("".join("  " + line for line in excerpt[:30]), end="")
    out = OUT_DIR / f"load-{stamp}.json"
    out.write_text(json.dumps(result, indent=1, default=str))
    print(f"wrote {out}")
    return code


if __name__ == "__main__":
    raise SystemExit(main())
