"""Where the clips pipeline's time and memory go, step by step, without the workflow around it.

    .venv/bin/python bench/profile_clips.py SOURCE.mp4 [--windows bench/out/clips-*.json]
        [--via-s3] [--cprofile] [--only transcribe,scenes,...]

Runs the core functions the pipeline's steps call (probe, transcribe, detect_scenes,
plan_reframe, render_clip) one after another in this process on a local file, and prints
for each: wall and CPU seconds, the process tree's peak RSS while it ran, and this process's
RSS after it. `--windows` takes the clip windows from a bench/clips.py JSON (default: six
25 s windows spread over the source). `--via-s3` also renders each clip the way the render
step does, from a presigned URL into the embedded S3, to show what the embedded S3 costs.
`--cprofile` prints the top functions of each step (Python-side time only).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from clips import Cpu, MemorySampler, _kib  # noqa: E402  (the bench's own meters)

STEPS = ("probe", "transcribe", "scenes", "reframe", "render", "render_s3", "encode_only")


def _self_rss() -> int:
    return _kib("/proc/self/status", "VmRSS:") * 1024


class Profiler:
    def __init__(self, cprofile: bool) -> None:
        self.sampler = MemorySampler(0.1)
        self.sampler.start()
        self.cprofile = cprofile
        self.rows: list[dict[str, Any]] = []

    def step(self, name: str, fn: Callable[[], Any]) -> Any:
        prof = cProfile.Profile() if self.cprofile else None
        cpu0 = Cpu.now()
        with self.sampler.phase(name) as peak:
            if prof:
                prof.enable()
            result = fn()
            if prof:
                prof.disable()
        m = Cpu.now().since(cpu0)
        row = {"step": name, "wall_s": m["wall_s"], "cpu_s": m["cpu_s"],
               "others_cores": m["others_cores_busy"], "peak_tree_rss": peak.rss,
               "self_rss_after": _self_rss(),
               "peak_parts": peak.parts[:4]}  # fmt: skip
        self.rows.append(row)
        print(f"{name:<30} wall {m['wall_s']:7.2f} s  cpu {m['cpu_s']:7.2f} s  "
              f"peak tree {peak.rss / 2**20:6.0f} MiB  self after {row['self_rss_after'] / 2**20:6.0f} MiB"
              f"  others {m['others_cores_busy']:.2f} cores  "
              + ", ".join(f"{c} {r / 2**20:.0f}" for c, r in peak.parts[:3]), flush=True)  # fmt: skip
        if prof:
            out = io.StringIO()
            pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(18)
            print("\n".join("    " + line for line in out.getvalue().splitlines()[4:32]))
        return result


def _windows(args: argparse.Namespace, duration: float) -> list[tuple[float, float]]:
    if args.windows:
        data = json.loads(Path(args.windows).read_text())
        return [(float(c["start"]), float(c["end"])) for c in data["clips"]]
    step = duration / 6
    return [(i * step + 5, i * step + 30) for i in range(6) if i * step + 30 <= duration]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("--windows", help="a bench/clips.py JSON whose clips to render")
    parser.add_argument("--via-s3", action="store_true", help="also render from the embedded S3")
    parser.add_argument("--cprofile", action="store_true")
    parser.add_argument("--only", default=",".join(STEPS), help=f"comma list of {STEPS}")
    parser.add_argument("--whisper-model", default="base")
    parser.add_argument("--preset", default="veryfast")
    parser.add_argument("--crf", type=int, default=23)
    args = parser.parse_args(argv)
    only = set(args.only.split(","))

    from reelforge.media.probe import probe
    from reelforge.media.reframe import plan_reframe
    from reelforge.media.render import render_clip
    from reelforge.media.scenes import detect_scenes
    from reelforge.media.transcribe import load_model, transcribe

    prof = Profiler(args.cprofile)
    print(f"baseline (imports)     self {_self_rss() / 2**20:.0f} MiB", flush=True)
    src = str(args.source)
    info = prof.step("probe", lambda: probe(src))
    windows = _windows(args, info.duration)
    words: list[Any] = []
    cuts: list[float] = []
    if "transcribe" in only:
        prof.step("whisper load", lambda: load_model(args.whisper_model))
        transcript = prof.step("transcribe", lambda: transcribe(src, model=args.whisper_model))
        words = transcript.words()
    if "scenes" in only:
        scenes = prof.step("detect_scenes", lambda: detect_scenes(src))
        cuts = [sc.start for sc in scenes[1:]]
    tmp = Path(tempfile.mkdtemp(prefix="profile-clips-"))
    plans = []
    if "reframe" in only:
        for i, (a, b) in enumerate(windows):
            plans.append(prof.step(f"plan_reframe {i + 1}",
                                   lambda a=a, b=b: plan_reframe(src, start=a, end=b,
                                                                 scene_cuts=cuts)))  # fmt: skip
    if "render" in only:
        for i, (a, b) in enumerate(windows):
            plan = plans[i] if plans else None

            def render(a: float = a, b: float = b, i: int = i, plan: Any = plan) -> Any:
                return render_clip(src, start=a, end=b, words=words, scene_cuts=cuts, plan=plan,
                                   out_path=tmp / f"clip_{i:02d}.mp4", preset=args.preset,
                                   crf=args.crf)  # fmt: skip

            label = "render (plan given)" if plan else "render_clip"
            prof.step(f"{label} {i + 1}", render)
    if "encode_only" in only:
        from clips import _encode_windows

        settings = {"render_preset": args.preset, "render_crf": args.crf}
        prof.step("encode only (floor c)",
                  lambda: _encode_windows(args.source, windows, settings, tmp))  # fmt: skip
    if args.via_s3 and "render_s3" in only:
        from reelforge.blobs import Blobs
        from reelforge.cli import start_local_stack

        aws, server, _url = start_local_stack(0)
        try:
            store = Blobs()
            prof.step("s3 put source",
                      lambda: store.put_file("bench/source.mp4", args.source, "video/mp4"))  # fmt: skip
            prof.step("s3 download source (boto3 download_file)",
                      lambda: store.download("bench/source.mp4", tmp / "downloaded.mp4"))  # fmt: skip
            for i, (a, b) in enumerate(windows):

                def render_s3(a: float = a, b: float = b, i: int = i) -> Any:
                    url = store.presign_get("bench/source.mp4")
                    return render_clip(url, start=a, end=b, words=words, scene_cuts=cuts,
                                       out_path=tmp / f"s3clip_{i:02d}.mp4", preset=args.preset,
                                       crf=args.crf)  # fmt: skip

                prof.step(f"render_clip via S3 {i + 1}", render_s3)
        finally:
            server.should_exit = True
            aws.stop()

    total = {k: sum(r[k] for r in prof.rows) for k in ("wall_s", "cpu_s")}
    print(f"{'total':<30} wall {total['wall_s']:7.2f} s  cpu {total['cpu_s']:7.2f} s")
    out = Path(__file__).resolve().parent / "out" / f"profile-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()},
                               "rows": prof.rows}, indent=2))  # fmt: skip
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
