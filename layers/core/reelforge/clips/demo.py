"""`reelforge process SOURCE --out DIR`: the real path end to end on this machine.

Embedded AWS + API over HTTP + the process state machine; a progress bar per stage from
the SSE stream; then the clips, sidecars, transcript and manifest are downloaded.
"""

from __future__ import annotations

import json
import mimetypes
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Column

from reelforge.clips.schemas import ProcessOptions
from reelforge.clips.service import STAGES


def run_process(source: str, out: Path, *, options: ProcessOptions | None = None,
                gemini_key: str | None = None) -> int:
    from reelforge.cli import ensure_local_user, start_local_stack

    console = Console()
    is_url = source.startswith(("http://", "https://"))
    if not is_url and not Path(source).is_file():
        console.print(f"[red]no such file:[/] {source}")
        return 2
    console.print("[bold]reelforge[/] starting the embedded AWS and the API ...")
    aws, server, url = start_local_stack(0)
    try:
        token = ensure_local_user(url)["accessToken"]
        headers = {"Authorization": f"Bearer {token}"}
        if gemini_key:
            headers["X-Gemini-Key"] = gemini_key
        given = (options or ProcessOptions()).model_dump(exclude_defaults=True)
        with httpx.Client(base_url=url, headers=headers, timeout=120) as api:
            job_id = _submit(api, source, is_url, given)
            console.print(f"job {job_id} queued")
            final = _follow(api, job_id, console)
            if final["status"] != "completed":
                console.print(f"[red]job failed:[/] {final.get('error')}")
                return 1
            manifest = _download(final, out)
        console.print(f"[green]{len(manifest['clips'])} clips[/] in {out}/ (manifest.json lists them)")
        for clip in manifest["clips"]:
            console.print(f"  {clip['file']}  {clip['start']:7.2f}-{clip['end']:7.2f}s  "
                          f"score {clip['score']:3d}  {clip['title']}")
        return 0
    finally:
        server.should_exit = True
        aws.stop()


def _submit(api: httpx.Client, source: str, is_url: bool, options: dict[str, Any]) -> str:
    if is_url:
        resp = api.post("/api/process", json={"url": source, **options})
        resp.raise_for_status()
        return resp.json()["job_id"]
    path = Path(source)
    ctype = mimetypes.guess_type(path.name)[0] or "video/mp4"
    resp = api.post("/api/process/upload-url", json={"file_name": path.name, "content_type": ctype, **options})
    resp.raise_for_status()
    ticket = resp.json()
    with open(path, "rb") as fh:  # streamed, not read into memory
        httpx.put(ticket["upload_url"], content=fh, headers={"Content-Type": ctype},
                  timeout=600).raise_for_status()
    return ticket["job_id"]


def _follow(api: httpx.Client, job_id: str, console: Console) -> dict[str, Any]:
    """Show one bar per stage from the SSE stream; returns the final /api/status body."""
    columns = (TextColumn("{task.description}", table_column=Column(width=10, no_wrap=True)), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
               TextColumn("{task.fields[message]}"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as bars:
        tasks: dict[str, TaskID] = {s: bars.add_task(s, total=100, message="", start=False) for s in STAGES}
        last_event = None
        while True:
            headers = {"Last-Event-ID": str(last_event)} if last_event is not None else {}
            with api.stream("GET", f"/api/progress/{job_id}", headers=headers, timeout=None) as stream:
                for line in stream.iter_lines():
                    if line.startswith("id: "):
                        last_event = int(line[4:])
                    if not line.startswith("data: "):
                        continue
                    event = json.loads(line[6:])
                    if event.get("status") == "done":
                        final = api.get(f"/api/status/{job_id}").json()
                        if final["status"] == "completed":
                            for task in tasks.values():
                                bars.start_task(task)
                                bars.update(task, completed=100)
                        return final
                    _update_bars(bars, tasks, event)


def _update_bars(bars: Progress, tasks: dict[str, TaskID], event: dict[str, Any]) -> None:
    stage = event.get("stage")
    if stage not in STAGES:
        return
    order = list(STAGES)
    for name in order[: order.index(stage)]:  # earlier stages are done
        bars.start_task(tasks[name])
        bars.update(tasks[name], completed=100)
    lo, hi = STAGES[stage]
    overall = float(event.get("progress") or 0) / 100
    bars.start_task(tasks[stage])
    bars.update(tasks[stage], completed=100 * max(0.0, min(1.0, (overall - lo) / (hi - lo))),
                message=event.get("message", ""))


def _download(status: dict[str, Any], out: Path) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    clips = []
    with httpx.Client(timeout=300) as http:
        def fetch(link: str, name: str) -> str:
            with http.stream("GET", link) as resp, open(out / name, "wb") as fh:
                resp.raise_for_status()
                for chunk in resp.iter_bytes(1 << 20):
                    fh.write(chunk)
            return name

        fetch(status["transcript_url"], "transcript.json")
        for clip in status["clips"]:
            stem = clip["id"]
            clips.append({
                "file": fetch(clip["video_url"], f"{stem}.mp4"),
                "srt": fetch(clip["srt_url"], f"{stem}.srt"),
                "vtt": fetch(clip["vtt_url"], f"{stem}.vtt"),
                "thumbnail": fetch(clip["thumbnail_url"], f"{stem}.jpg"),
                **{k: clip[k] for k in ("start", "end", "duration", "title", "hook", "score", "reason", "text")},
            })
    manifest = {"job_id": status["job_id"], "provider": status.get("provider"),
                "notes": status.get("notes", ""), "clips": clips}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return manifest
