"""Narrated-video benchmark: a 5-slide, ~60 s video (local provider, 1920x1080) through the real
pipeline, against its floor measured in the same run.

    .venv/bin/python bench/generate.py                  # 5 slides, target 60 s
    .venv/bin/python bench/generate.py --slides 8 --seconds 90 --frame examples/narrated-slide.png

What runs, all in this one process (plus its ffmpeg children):

1. the pipeline: the embedded AWS and the API, then `POST /api/generate` as a client sends it
   (source text below, `target_duration_s`), timed from the submission to the job's
   completion, with the stage breakdown cut at its progress events;
2. a single-slide re-render: `POST /api/generate/{id}/slides/3` with a new narration, timed
   the same way (the other slides are reused);
3. the floor, the work no implementation can skip, each alone: (a) synthesising the same
   narration, slide by slide, with the same voice (loading it included, as in the pipeline);
   (b) one encode of the video's frames with the render settings (libx264 RENDER_PRESET/
   RENDER_CRF, 1920x1080 30 fps, AAC): the rendered file re-encoded, less decoding it.
   Floor = a + b. A still picture encoded for the same duration is printed for reference.

Targets: pipeline / floor <= 1.3; a 60 s video in <= 30 s of wall time; single-slide
re-render <= 25% of the full render. Peak memory (RSS of the process tree) is reported.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from clips import Cpu, MemorySampler  # noqa: E402  (the clips bench's measuring tools)

SOURCE = """# Why short video works
Short video holds attention because every second has to earn its place. Viewers decide within two
seconds whether they keep watching, so the opening line carries the whole clip. A strong hook states
the result first and explains it afterwards. Long introductions lose most of the audience before the
point arrives.

# Captions matter
Most people watch with the sound off, on a train or in a quiet office. Captions make the message
readable in silence and help viewers who are deaf or hard of hearing. Big words with strong contrast
work best on a small screen. Two or three words at a time are easier to follow than full sentences.

# Framing for phones
A vertical frame fills the phone screen and leaves nothing to scroll past. The speaker should stay in
the middle of the frame as they move. Cropping a wide video blindly cuts people out of the picture, so
the crop has to follow the face.

# One idea per clip
A clip that makes one point is easier to remember and easier to share. When a talk has five ideas it
should become five clips. Each clip needs its own opening, its own title and its own ending.

# Measuring results
Watch time and completion rate tell you whether a clip works. Shares and saves show that it was worth
something to the viewer. Test two versions of the opening when you can, and keep the one that holds
people longer.
"""


def _register(url: str) -> httpx.Client:
    email = f"bench-{uuid.uuid4().hex[:8]}@example.com"
    resp = httpx.post(f"{url}/api/auth/register", timeout=60,
                      json={"email": email, "password": "password123", "name": "bench"})
    resp.raise_for_status()
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {resp.json()['accessToken']}"},
                        timeout=120)


def _follow(api: httpx.Client, gid: str, started: float) -> tuple[dict[str, Any], list[tuple[float, str, int]]]:
    """Stream the generation's progress to the end; (final status, [(t, status, progress)])."""
    frames = []
    with api.stream("GET", f"/api/progress/{gid}", timeout=600) as resp:
        for line in resp.iter_lines():
            if line.startswith("data:"):
                payload = json.loads(line[5:])
                frames.append((time.perf_counter() - started, payload["status"], payload["progress"]))
    return api.get(f"/api/status/{gid}").json(), frames


def _stages(frames: list[tuple[float, str, int]], end: float) -> list[tuple[str, float]]:
    """Time spent in each stage: from its first frame to the next stage's first frame."""
    firsts: list[tuple[str, float]] = []
    for t, status, _ in frames:
        if status in ("connected", "done"):
            continue
        if not firsts or firsts[-1][0] != status:
            firsts.append((status, t))
    out = []
    for i, (status, t) in enumerate(firsts):
        nxt = firsts[i + 1][1] if i + 1 < len(firsts) else end
        out.append((status, nxt - t))
    return out


def measure_floor(script: dict[str, Any], video: Path, scratch: Path) -> dict[str, float]:
    """(a) the narration synthesised alone; (b) one encode of the video's own frames with the
    render settings: re-encoding the rendered file, less the time to decode it. A still
    picture encoded for the same duration is measured too (the floor of a video without
    motion: the Ken Burns panels make frames x264 has to work on)."""
    from PIL import Image

    from reelforge.media import tts
    from reelforge.media.compose import AUDIO_RATE, FPS
    from reelforge.media.ffmpeg import run_ffmpeg
    from reelforge.settings import get_settings

    tts._piper.cache_clear()  # loading the voice is part of synthesising, as in the pipeline
    start = Cpu.now()
    for line in script["slide_scripts"]:
        tts.synthesize(line["narration_text"], scratch / f"floor-{line['slide_number']}.wav")
    synth = Cpu.now().since(start)
    s = get_settings()
    encode = ["-c:v", "libx264", "-preset", s.render_preset, "-crf", str(s.render_crf), "-pix_fmt", "yuv420p",
              "-r", str(FPS), "-c:a", "aac", "-aac_coder", "fast", "-b:a", "128k", "-ac", "1",
              "-ar", str(AUDIO_RATE)]
    start = Cpu.now()
    run_ffmpeg(["-i", video, "-f", "null", "-"])
    decode = Cpu.now().since(start)
    start = Cpu.now()
    run_ffmpeg(["-i", video, *encode, scratch / "floor.mp4"])
    reencode = Cpu.now().since(start)
    picture = scratch / "floor.png"
    Image.new("RGB", (1920, 1080), (30, 40, 70)).save(picture)
    frames = round(float(script["total_duration"]) * FPS)
    start = Cpu.now()
    run_ffmpeg(["-framerate", str(FPS), "-i", picture, "-i", video, "-filter_complex",
                f"[0:v]loop=loop={frames - 1}:size=1:start=0,setpts=N/{FPS}/TB[v]",
                "-map", "[v]", "-map", "1:a", *encode, "-shortest", scratch / "still.mp4"])
    still = Cpu.now().since(start)
    encode_s = reencode["wall_s"] - decode["wall_s"]
    encode_cpu = reencode["cpu_s"] - decode["cpu_s"]
    return {"synthesis_s": synth["wall_s"], "synthesis_cpu_s": synth["cpu_s"],
            "encode_s": encode_s, "encode_cpu_s": encode_cpu, "decode_s": decode["wall_s"],
            "still_encode_s": still["wall_s"], "still_encode_cpu_s": still["cpu_s"],
            "floor_s": synth["wall_s"] + encode_s, "floor_cpu_s": synth["cpu_s"] + encode_cpu}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slides", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=60.0, help="target_duration_s")
    parser.add_argument("--frame", type=Path, help="also write the middle frame of slide 2 as PNG here")
    args = parser.parse_args(argv)

    from reelforge import aws
    from reelforge.cli import start_local_stack

    sampler = MemorySampler()
    sampler.start()
    results: dict[str, Any] = {"slides": args.slides, "target_s": args.seconds}
    with tempfile.TemporaryDirectory(prefix="bench-generate-") as tmp_dir:
        scratch = Path(tmp_dir)
        aws.reset_clients()
        t0 = time.perf_counter()
        embedded, server, url = start_local_stack(0)
        results["startup_s"] = time.perf_counter() - t0
        try:
            api = _register(url)
            with sampler.phase("render") as peak:
                cpu0, started = Cpu.now(), time.perf_counter()
                resp = api.post("/api/generate", json={"topic": "What makes short video work",
                                                         "num_slides": args.slides, "source_text": SOURCE,
                                                         "target_duration_s": args.seconds})
                resp.raise_for_status()
                gid = resp.json()["generation_id"]
                status, frames = _follow(api, gid, started)
                render_s, render_cpu = time.perf_counter() - started, Cpu.now().since(cpu0)
            if status["status"] != "completed":
                print(f"the generation failed: {status}")
                return 1
            results.update(render_s=render_s, render_cpu=render_cpu, render_peak_rss=peak.rss,
                           duration_s=status["duration"], stages=_stages(frames, render_s))
            script = api.get(f"/api/script/{gid}").json()
            video = scratch / "video.mp4"
            video.write_bytes(httpx.get(url + status["video_url"], timeout=60).content)
            if args.frame:
                _write_frame(video, script, args.frame)

            with sampler.phase("slide") as peak:
                cpu0, started = Cpu.now(), time.perf_counter()
                edit = {"narration_text": "One idea per clip keeps the message clear. Make five clips from "
                                          "a talk with five ideas, each with its own opening."}
                api.post(f"/api/generate/{gid}/slides/3", json=edit).raise_for_status()
                again, _ = _follow(api, gid, started)
                slide_s, slide_cpu = time.perf_counter() - started, Cpu.now().since(cpu0)
            results.update(slide_s=slide_s, slide_cpu=slide_cpu, slide_peak_rss=peak.rss,
                           reused=again.get("reused_slides"), rerendered=again.get("rendered_slides"))
            with sampler.phase("floor"):
                results["floor"] = measure_floor(script, video, scratch)
        finally:
            server.should_exit = True
            embedded.stop()
            sampler.stop()
    _report(results)
    out = ROOT / "bench" / "out" / f"generate-{datetime.now():%Y%m%d-%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1, default=str))
    print(f"\nwrote {out.relative_to(ROOT)}")
    return 0


def _write_frame(video: Path, script: dict[str, Any], dest: Path) -> None:
    import av

    line = script["slide_scripts"][min(1, len(script["slide_scripts"]) - 1)]
    at = (line["start_time"] + line["end_time"]) / 2
    with av.open(str(video)) as container:
        for frame in container.decode(container.streams.video[0]):
            if frame.time is not None and frame.time >= at:
                dest.parent.mkdir(parents=True, exist_ok=True)
                frame.to_image().save(dest)
                print(f"wrote {dest} (t = {at:.1f} s)")
                return


def _report(r: dict[str, Any]) -> None:
    floor = r["floor"]
    ratio = r["render_s"] / floor["floor_s"]
    cpu_ratio = r["render_cpu"]["cpu_s"] / floor["floor_cpu_s"]
    slide_share = r["slide_s"] / r["render_s"]
    per_60 = r["render_s"] * 60 / max(1e-9, r["duration_s"])

    def ok(good: bool) -> str:
        return "ok" if good else "MISSED"

    print(f"\nnarrated video: {r['slides']} slides, {r['duration_s']:.1f} s (target {r['target_s']:.0f} s), "
          "local provider, 1920x1080 30 fps")
    print(f"  stack start        {r['startup_s']:6.1f} s   (not counted)")
    print(f"  full render        {r['render_s']:6.1f} s   cpu {r['render_cpu']['cpu_s']:6.1f} s "
          f"({r['render_cpu']['cores_busy']:.2f} cores), others {r['render_cpu']['others_cores_busy']:.2f} cores")
    for status, seconds in r["stages"]:
        print(f"    {status:<22} {seconds:6.2f} s")
    print(f"  per 60 s of video  {per_60:6.1f} s   target <= 30 s  {ok(per_60 <= 30)}")
    print(f"  one slide changed  {r['slide_s']:6.1f} s   = {100 * slide_share:.0f}% of the full render, "
          f"target <= 25%  {ok(slide_share <= 0.25)}; reused {r['reused']}, rendered {r['rerendered']}")
    print(f"  floor              {floor['floor_s']:6.1f} s   cpu {floor['floor_cpu_s']:6.1f} s "
          f"(synthesis {floor['synthesis_s']:.1f} s + one encode of its frames {floor['encode_s']:.1f} s)")
    print(f"    reference        {floor['still_encode_s']:6.1f} s   a still picture encoded for as long "
          f"(cpu {floor['still_encode_cpu_s']:.1f} s); decoding the video {floor['decode_s']:.1f} s")
    print(f"  pipeline / floor   {ratio:6.2f}     target <= 1.3  {ok(ratio <= 1.3)}   "
          f"(cpu / cpu {cpu_ratio:.2f})")
    print(f"  peak memory        {r['render_peak_rss'] / 2**30:6.2f} GiB (render), "
          f"{r['slide_peak_rss'] / 2**30:.2f} GiB (one slide); RSS summed over the process tree")


if __name__ == "__main__":
    raise SystemExit(main())
