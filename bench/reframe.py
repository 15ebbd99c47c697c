"""Reframing benchmark: labelled scenes -> real clips -> where the faces landed, measured on
the rendered files.

    .venv/bin/python bench/reframe.py [--aspect 9:16] [--out bench/out]

The source (tests/mediagen.layout_video, 1920x1080 at 30 fps) is a row of labelled scenes with
hard cuts between them: a cut straight into an off-centre face, faces panning at 0.10 and
0.25 frame widths per second (both ways), a small off-centre face (8% of the frame height),
a face inside a picture-in-picture box over abstract content, two faces far apart, abstract
scenes with no face. Every face carries a small magenta marker at its centre. The real
renderer (reelforge.media.render.render_clip) cuts two clips that span several scenes each;
every output frame is decoded and the markers found by colour, so the figures are measured
on the file, not on the plan:

- centred: share of frames of a face scene whose face centre lies in the middle third of
  the output width (of its panel, for split), and the same for the first 5 frames after
  each cut;
- layout: what the plan chose for each scene vs what the label expects (and, for split,
  that both markers are on screen, one per panel);
- face sampling: CPU seconds of face detection per clip (plan_reframe alone, its ffmpeg
  child included), against the same figure for the previous detector where given.

A contact sheet PNG per clip (three frames per scene: first, middle, last) goes to --out.
Targets: >= 98% centred overall, 100% on the first frames after cuts, layout right on every
labelled scene.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from collections import defaultdict
from dataclasses import asdict
from pathlib import Path

import av
import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import mediagen  # noqa: E402
from mediagen import LabelledScene, SceneFace  # noqa: E402

SCENES = [
    LabelledScene("cut_into_face", 3.0, (SceneFace(0.72, 0.45, 0.22),), "focus", background=0),
    LabelledScene("pan_slow", 4.0, (SceneFace(0.25, 0.45, 0.22, vx=0.10),), "focus"),
    LabelledScene("no_face", 3.0, (), "fit", background=1),
    LabelledScene("pan_fast", 2.8, (SceneFace(0.15, 0.5, 0.20, vx=0.25),), "focus"),
    LabelledScene("pan_fast", 2.8, (SceneFace(0.85, 0.5, 0.20, vx=-0.25),), "focus"),
    LabelledScene("small_offcentre", 3.0, (SceneFace(0.18, 0.32, 0.08),), "focus"),
    LabelledScene("pip", 3.0, (SceneFace(0.80, 0.75, 0.10),), "focus",
                  pip=(0.64, 0.55, 0.32, 0.40), background=5),
    LabelledScene("two_faces", 3.0, (SceneFace(0.20, 0.45, 0.20), SceneFace(0.80, 0.45, 0.20)),
                  "split"),
    LabelledScene("cut_into_face", 3.0, (SceneFace(0.30, 0.45, 0.22),), "focus"),
    LabelledScene("no_face", 2.5, (), "fit", background=4),
]
FIRST_FRAMES = 5


def _cpu() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _panels(layout: str, h: int) -> list[tuple[int, int]]:
    return [(0, h // 2), (h // 2, h)] if layout == "split" else [(0, h)]


def measure_clip(video: mediagen.LayoutVideo, clip: Path, start: float) -> dict:
    """Per output frame: which scene it shows, and whether each face marker is centred."""
    rows = []
    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        for frame in container.decode(stream):
            t = float(frame.pts * stream.time_base)
            src_t = start + t
            index, scene = video.scene_at(src_t + 0.5 / video.fps)
            since_cut = round((src_t - video.starts[index]) * video.fps)
            rgb = frame.to_ndarray(format="rgb24")
            h, w = rgb.shape[:2]
            markers = mediagen.find_markers(rgb)
            row = {"t": t, "scene": index, "kind": scene.kind, "since_cut": since_cut,
                   "faces": len(scene.faces), "markers": markers}
            if scene.faces:
                panels = _panels(scene.expected, h)
                centred = []
                for y0, y1 in panels:
                    inside = [m for m in markers if y0 <= m[1] < y1]
                    centred.append(bool(inside) and all(w / 3 <= m[0] <= 2 * w / 3 for m in inside))
                row["centred"] = all(centred)
            rows.append(row)
    return {"rows": rows}


def contact_sheet(clip: Path, times: list[float], out: Path, width: int = 216) -> None:
    """Frames at `times` side by side (rows of 6), scaled to `width`, written as PNG."""
    tiles = []
    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        wanted = sorted(times)
        k = 0
        for frame in container.decode(stream):
            t = float(frame.pts * stream.time_base)
            while k < len(wanted) and t >= wanted[k] - 1e-6:
                img = frame.to_ndarray(format="bgr24")
                tiles.append(cv2.resize(img, (width, round(img.shape[0] * width / img.shape[1]))))
                k += 1
    if not tiles:
        return
    per_row = 6
    blank = np.zeros_like(tiles[0])
    rows = [np.hstack((tiles[i:i + per_row] + [blank] * per_row)[:per_row])
            for i in range(0, len(tiles), per_row)]
    cv2.imwrite(str(out), np.vstack(rows))


def example_sheet(video: mediagen.LayoutVideo, out: Path, height: int = 480) -> None:
    """The README's picture: one frame of each layout (and a square clip), bold captions on."""
    from reelforge.media.render import render_clip
    from reelforge.models import Word

    s = video.starts
    shots = [("9:16", "focus (pan)", s[3], s[4], "FOLLOWS THE FACE"),
             ("9:16", "split", s[7], s[8], "TWO SPEAKERS HERE"),
             ("9:16", "fit", s[2], s[3], "NOBODY ON SCREEN"),
             ("1:1", "focus", s[0], s[1], "SQUARE CLIPS TOO")]
    tiles = []
    for n, (aspect, label, t0, t1, text) in enumerate(shots):
        words = [Word(word=w, start=t0 + 0.2 + i * 0.45, end=t0 + 0.6 + i * 0.45)
                 for i, w in enumerate(text.split())]
        clip = out.parent / f"example_{n}.mp4"
        render_clip(video.path, start=t0, end=t1, words=words, out_path=clip,
                    scene_cuts=video.starts[1:], preset="ultrafast", aspect=aspect)
        with av.open(str(clip)) as container:
            img = next(f for f in container.decode(video=0) if f.time >= 1.2).to_ndarray(format="bgr24")
        img = cv2.resize(img, (round(img.shape[1] * height / img.shape[0]), height),
                         interpolation=cv2.INTER_AREA)
        cv2.putText(img, f"{aspect} {label}", (6, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.55,
                    (255, 255, 255), 2)
        tiles += [img, np.full((height, 10, 3), 255, np.uint8)]
    cv2.imwrite(str(out), np.hstack(tiles[:-1]), [cv2.IMWRITE_PNG_COMPRESSION, 9])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--aspect", default="9:16")
    parser.add_argument("--layout", default="auto")
    parser.add_argument("--example", type=Path, default=None,
                        help="also write the README's layout picture here (examples/layouts.png)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    from reelforge.media.reframe import plan_reframe
    from reelforge.media.render import render_clip

    work = args.out / "reframe"
    work.mkdir(exist_ok=True)
    video = mediagen.layout_video(work / "labelled.mp4", SCENES)
    cuts = video.starts[1:]
    total = video.duration
    windows = [(0.0, video.starts[5]), (video.starts[5], total)]

    per_kind: dict[str, dict[str, list[bool]]] = defaultdict(lambda: {"all": [], "first": []})
    layout_rows = []
    sampling = []
    for n, (start, end) in enumerate(windows, 1):
        before = _cpu()
        plan = plan_reframe(video.path, start=start, end=end, scene_cuts=cuts,
                            aspect=args.aspect, layout=args.layout)
        sampling.append(_cpu() - before)
        clip = work / f"clip_{n}.mp4"
        t0 = time.perf_counter()
        render_clip(video.path, start=start, end=end, words=[], out_path=clip, scene_cuts=cuts,
                    plan=plan)
        render_s = time.perf_counter() - t0
        measured = measure_clip(video, clip, start)
        for row in measured["rows"]:
            if "centred" in row:
                per_kind[row["kind"]]["all"].append(row["centred"])
                if row["since_cut"] < FIRST_FRAMES:
                    per_kind[row["kind"]]["first"].append(row["centred"])
        for index in sorted({r["scene"] for r in measured["rows"]}):
            scene = video.scenes[index]
            t_mid = (max(start, video.starts[index]) + min(end, video.starts[index] + scene.seconds)) / 2
            chosen = plan.layout_at(t_mid - start)
            layout_rows.append((n, index, scene.kind, scene.expected, chosen))
        sheet_times = []
        for index in sorted({r["scene"] for r in measured["rows"]}):
            a = max(start, video.starts[index]) - start
            b = min(end, video.starts[index] + video.scenes[index].seconds) - start
            sheet_times += [a + 0.02, (a + b) / 2, b - 0.1]
        contact_sheet(clip, sheet_times, args.out / f"reframe_clip_{n}.png")
        print(f"clip {n}: {start:.1f}-{end:.1f} s rendered in {render_s:.1f} s, "
              f"face sampling {sampling[-1]:.2f} CPU-s, shots: {plan.mode} ({len(plan.shots)})")

    print("\nper scene type           centred   first 5 frames after a cut")
    everything, firsts = [], []
    for kind, got in per_kind.items():
        everything += got["all"]
        firsts += got["first"]
        share = 100 * sum(got["all"]) / max(1, len(got["all"]))
        first = 100 * sum(got["first"]) / max(1, len(got["first"]))
        print(f"  {kind:<20} {share:7.1f}%   {first:7.1f}%  ({len(got['all'])} frames)")
    overall = 100 * sum(everything) / max(1, len(everything))
    first_all = 100 * sum(firsts) / max(1, len(firsts))
    right = sum(expected == chosen for *_, expected, chosen in layout_rows)
    print(f"  {'overall':<20} {overall:7.1f}%   {first_all:7.1f}%   targets >= 98%, 100%")
    print("\nlayout per labelled scene (clip, scene, kind: expected -> chosen)")
    for n, index, kind, expected, chosen in layout_rows:
        print(f"  clip {n} scene {index:2d} {kind:<16} {expected:>6} -> {chosen:<6}"
              f"{'' if expected == chosen else '   WRONG'}")
    print(f"  right on {right}/{len(layout_rows)}")
    print(f"\nface sampling: {', '.join(f'{s:.2f}' for s in sampling)} CPU-s per clip "
          f"({sum(sampling) / sum(b - a for a, b in windows):.3f} CPU-s per clip second)")
    report = {"overall": overall, "first_frames": first_all, "layout_right": right,
              "layout_total": len(layout_rows), "sampling_cpu_s": sampling,
              "per_kind": {k: {"all": 100 * sum(v["all"]) / max(1, len(v["all"])),
                               "first": 100 * sum(v["first"]) / max(1, len(v["first"]))}
                           for k, v in per_kind.items()},
              "scenes": [asdict(s) for s in SCENES]}
    (args.out / "reframe.json").write_text(json.dumps(report, indent=2))
    if args.example:
        example_sheet(video, args.example)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
