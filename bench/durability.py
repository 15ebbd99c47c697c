"""What durability costs: request latency of writes with the data directory (every write
journaled and fsynced before the answer) against the same server keeping nothing, in one run.

    .venv/bin/python bench/durability.py            # 100 of each write per run (33 splits)
    .venv/bin/python bench/durability.py --n 300

Both servers are `start_local_stack` (the embedded AWS and the API under uvicorn, on
loopback), one after the other in this process, four runs: in memory (`in_memory=True`, the
baseline), durable (a fresh data directory), durable, in memory. On each, one client sends,
one at a time:
- `POST /api/project` (a DynamoDB put and its owner-index item),
- `PUT /api/projects/{id}` (an update),
- `POST /api/segment/{id}/split` on a timeline (a transaction over several items),
- a 1 MiB presigned `PUT` to S3 (the object's body written to its own file and fsynced).

Printed: p50/p99 per write in both modes and the p50 difference (target: <= 5 ms), and how
long a restart of the durable server takes to read its data back. Numbers go to
bench/out/durability-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT / "layers" / "core"))


def _timed(fn: Any) -> tuple[float, httpx.Response]:
    """(milliseconds, response) of one request, which must succeed."""
    start = time.perf_counter()
    resp = fn()
    elapsed = (time.perf_counter() - start) * 1000
    assert resp.status_code < 300, (resp.status_code, resp.text[:200])
    return elapsed, resp


def _percentiles(ms: list[float]) -> dict[str, float]:
    ms = sorted(ms)
    return {"p50": round(statistics.median(ms), 2), "p99": round(ms[int(0.99 * (len(ms) - 1))], 2)}


def measure(n: int, *, in_memory: bool, data_dir: Path | None = None) -> dict[str, Any]:
    from reelforge.cli import start_local_stack

    aws, server, url = start_local_stack(0, data_dir, in_memory=in_memory)
    try:
        with httpx.Client(base_url=url, timeout=60) as api:
            token = api.post("/api/auth/register", json={"email": "bench@example.com", "password": "password123",
                                                         "name": "bench"}).json()["accessToken"]
            api.headers["Authorization"] = f"Bearer {token}"
            times: dict[str, list[float]] = {"POST /api/project": [], "PUT /api/projects/{id}": [],
                                             "POST /api/segment/{id}/split": [], "S3 PUT 1 MiB (presigned)": []}
            ids = []
            for i in range(n):
                ms, resp = _timed(lambda i=i: api.post("/api/project", json={"name": f"p{i}"}))
                times["POST /api/project"].append(ms)
                ids.append(resp.json()["id"])
            for i, pid in enumerate(ids):
                times["PUT /api/projects/{id}"].append(
                    _timed(lambda pid=pid, i=i: api.put(f"/api/projects/{pid}", json={"id": pid, "name": f"renamed {i}"}))[0])
            body = bytes(range(256)) * 4096
            for pid in ids:
                up = api.post(f"/api/project/{pid}/upload", json={"file_name": "x.bin", "content_type": "video/mp4"})
                put_url = up.json()["upload_url"]
                times["S3 PUT 1 MiB (presigned)"].append(
                    _timed(lambda u=put_url: httpx.put(u, content=body, headers={"Content-Type": "video/mp4"}))[0])
            times["POST /api/segment/{id}/split"] = _splits(api, max(20, n // 3))  # each one slower
        return {route: _percentiles(ms) for route, ms in times.items()}
    finally:
        server.should_exit = True
        time.sleep(0.3)
        aws.stop()


def _splits(api: httpx.Client, n: int) -> list[float]:
    """Split the longest segment of a 600 s timeline again and again (a TransactWriteItems)."""
    sys.path.insert(0, str(ROOT / "tests"))
    import mediagen

    video = mediagen.silent_video(Path(tempfile.gettempdir()) / "reelforge-bench-durability.mp4", seconds=600,
                                  size=(160, 90))
    pid = api.post("/api/project", json={"name": "timeline"}).json()["id"]
    up = api.post(f"/api/project/{pid}/upload", json={"file_name": "v.mp4", "content_type": "video/mp4"}).json()
    httpx.put(up["upload_url"], content=Path(video).read_bytes(), headers={"Content-Type": "video/mp4"})
    deadline = time.time() + 60
    while not api.get(f"/api/project/{pid}").json()["segments"] and time.time() < deadline:
        time.sleep(0.2)
    ms = []
    for _ in range(n):
        segs = api.get(f"/api/project/{pid}").json()["segments"]
        longest = max(segs, key=lambda s: s["end_ts"] - s["start_ts"])
        mid = round((longest["start_ts"] + longest["end_ts"]) / 2, 3)
        ms.append(_timed(lambda seg=longest, t=mid: api.post(f"/api/segment/{seg['id']}/split", json={"split_ts": t}))[0])
    return ms


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100, help="requests of each kind, per run (splits: a third)")
    args = parser.parse_args()
    # A B B A: the in-memory and durable runs alternate, so a drift of this process or the
    # machine over the runs weighs on both modes alike; each p50 is the mean of its two runs.
    runs: dict[str, list[dict[str, Any]]] = {"memory": [], "durable": []}
    with tempfile.TemporaryDirectory(prefix="reelforge-bench-data-") as tmp:
        for i, mode in enumerate(("memory", "durable", "durable", "memory")):
            data_dir = Path(tmp) / f"run{i}" if mode == "durable" else None
            runs[mode].append(measure(args.n, in_memory=mode == "memory", data_dir=data_dir))
        from reelforge.cli import start_local_stack

        start = time.perf_counter()
        aws, server, _url = start_local_stack(0, Path(tmp) / "run2")
        restart_s, restored = time.perf_counter() - start, aws.restored_records
        server.should_exit = True
        aws.stop()
        size_mb = sum(p.stat().st_size for p in (Path(tmp) / "run2").rglob("*") if p.is_file()) / 1e6
    memory, durable = ({route: {q: round(statistics.mean(r[route][q] for r in rs), 2) for q in ("p50", "p99")}
                        for route in rs[0]} for rs in (runs["memory"], runs["durable"]))
    print(f"{'write':34} {'in memory p50/p99 ms':>22} {'durable p50/p99 ms':>22} {'p50 added':>10}")
    worst = 0.0
    for route in memory:
        m, d = memory[route], durable[route]
        added = d["p50"] - m["p50"]
        worst = max(worst, added)
        print(f"{route:34} {m['p50']:>10.2f} / {m['p99']:<9.2f} {d['p50']:>10.2f} / {d['p99']:<9.2f} {added:>+9.2f}")
    verdict = "ok" if worst <= 5 else "MISSED"
    print(f"largest p50 added by durability: {worst:.2f} ms (target <= 5 ms: {verdict})")
    print(f"restart on the data ({size_mb:.0f} MB, {restored} records): {restart_s:.1f} s to serve again")
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    out = OUT_DIR / f"durability-{datetime.now():%Y%m%d-%H%M%S}.json"
    out.write_text(json.dumps({"n": args.n, "runs": runs, "in_memory": memory, "durable": durable,
                               "worst_p50_added_ms": worst,
                               "restart_s": restart_s, "restored_records": restored, "data_mb": size_mb}, indent=1))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
