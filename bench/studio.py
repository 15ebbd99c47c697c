"""Script-studio benchmark: a project's export (local provider, 1920x1080) through the real
pipeline, an export after one sentence changed, and their floor measured in the same run.

    .venv/bin/python bench/studio.py                 # a ~1-minute script from bench/generate.py's text
    .venv/bin/python bench/studio.py --minutes 2

What runs, in this one process (plus its ffmpeg children):

1. `POST /api/v1/projects` with the text as `sourceText`, `quick-generate` for `--minutes`,
   then `POST .../export`, timed from the submission to the job's completion;
2. one sentence's text and image prompt changed (`PUT /api/v1/sentences/{id}`), and the export
   again: only that sentence's audio, image and clip are made, and every clip is re-joined;
3. the floor (bench/generate.py's `measure_floor`): the same narration synthesised alone,
   plus one encode of the exported video's frames with the render settings.

Printed: export / floor (the whole pipeline against the work no implementation can skip),
the edited export against the first, and what each export rebuilt.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from generate import SOURCE, _register, measure_floor  # noqa: E402  (the narrated bench's text and floor)


def _export(api: httpx.Client, pid: str) -> tuple[dict, float]:
    started = time.perf_counter()
    job_id = api.post(f"/api/v1/projects/{pid}/export", json={"aspect": "16:9"}).json()["data"]["jobId"]
    while True:
        job = api.get(f"/api/v1/jobs/{job_id}").json()["data"]
        if job["status"] in ("completed", "failed"):
            return job, time.perf_counter() - started
        time.sleep(0.2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=int, default=1)
    args = parser.parse_args(argv)
    from reelforge.cli import start_local_stack

    embedded, server, url = start_local_stack(0)
    try:
        api = _register(url)
        pid = api.post("/api/v1/projects", json={"name": "bench", "sourceText": SOURCE}).json()["data"]["id"]
        api.post(f"/api/v1/projects/{pid}/quick-generate",
                 json={"topic": "Why short video works", "targetDurationMinutes": args.minutes}).raise_for_status()
        first, first_s = _export(api, pid)
        assert first["status"] == "completed", first
        project = api.get(f"/api/v1/projects/{pid}").json()["data"]
        spoken = [x for s in project["sections"] for x in s["sentences"] if x["text"].strip()]
        target = spoken[len(spoken) // 2]
        api.put(f"/api/v1/sentences/{target['id']}", json={
            "text": "A strong opening line decides whether people keep watching.",
            "imagePrompt": "a phone screen showing the first second of a video"}).raise_for_status()
        second, second_s = _export(api, pid)
        assert second["status"] == "completed", second
        with tempfile.TemporaryDirectory(prefix="bench-studio-") as tmp:
            scratch = Path(tmp)
            video = scratch / "export.mp4"
            link = api.get(f"/api/v1/projects/{pid}/export").json()["data"]
            video.write_bytes(httpx.get(link["videoUrl"], timeout=120).content)
            project = api.get(f"/api/v1/projects/{pid}").json()["data"]
            lines = [x for s in project["sections"] for x in s["sentences"] if x["text"].strip()]
            script = {"slide_scripts": [{"slide_number": n, "narration_text": x["text"]} for n, x in enumerate(lines)],
                      "total_duration": link["duration"]}
            floor = measure_floor(script, video, scratch)
    finally:
        server.should_exit = True
        embedded.stop()
    rebuilt = {k: len(v) for k, v in second["result"]["rebuilt"].items()}
    print(f"studio export: {len(spoken)} sentences, {link['duration']:.1f} s of video at 1920x1080")
    print(f"  first export      {first_s:7.1f} s   rebuilt {len(first['result']['rebuilt']['video'])} clips")
    print(f"  floor             {floor['floor_s']:7.1f} s   (synthesis {floor['synthesis_s']:.1f} s + one encode "
          f"{floor['encode_s']:.1f} s)")
    print(f"  export / floor    {first_s / floor['floor_s']:7.2f}")
    print(f"  after one edit    {second_s:7.1f} s   rebuilt {rebuilt}, reused {second['result']['reused']}")
    print(f"  edit / first      {second_s / first_s:7.2%}   (one sentence of {len(spoken)}: {1 / len(spoken):.0%})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
