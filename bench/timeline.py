"""Composition benchmark: AutoVio's timeline export (media/composition.py) of a 60 s 1080x1920
30 fps timeline, against its floor measured in the same run.

    .venv/bin/python bench/timeline.py                   # 10 clips, 9 transitions, 5 texts, 3 images
    .venv/bin/python bench/timeline.py --seconds 20 --sheet /tmp/sheet.png

What runs, in this process (plus its ffmpeg children):

1. the sources, generated once and cached under /tmp/reelforge-bench-timeline/: ten 7 s scene
   videos in three shapes (720x1280 24 fps with sound, 1080x1920 30 fps with sound,
   1280x720 25 fps silent, so every clip is scaled, rate-converted or cropped), three PNG
   overlays with alpha and a stereo music track;
2. the render: `render_composition` of 10 clips joined by 9 different 0.5 s transitions,
   5 text overlays (two with outlines), 3 image overlays (one for the whole minute, two
   rotated and half transparent) and the music, x264 veryfast/CRF 23 (`--preset`, `--crf`):
   one ffmpeg run, one encode;
3. the floor: one plain encode of the same 60 s of 1080x1920 frames with the same preset,
   CRF and AAC settings (the rendered file re-encoded, less the time to decode it, as in
   bench/generate.py). Decoding each clip's window of its source, alone, is timed too: the
   render cannot skip that either, and the floor leaves it out;
4. `preview_frame` at a few times (a transition, an overlay, plain footage), each alone.

Printed: render / floor (target <= 1.5) in wall and CPU seconds (the CPU ratio is the one to
trust when other processes share the machine; the report says how many cores they used), the
preview times, and a contact sheet of frames (transitions mid-way, texts, images) written as
PNG. All numbers go to bench/out/timeline-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

import av
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT / "bench"))
from clips import Cpu  # noqa: E402  (the clips bench's measuring tools)

CACHE = Path("/tmp/reelforge-bench-timeline/v1")
KINDS = ["fade", "wipeleft", "slideup", "circleopen", "dissolve", "smoothright", "radial",
         "fadeblack", "pixelize"]
SHAPES = [("720x1280", 24, True), ("1080x1920", 30, True), ("1280x720", 25, False)]
SCENE_S, FADE_S = 7.0, 0.5


def make_sources(n: int) -> dict[str, Any]:
    """Scene videos, PNG overlays and music, generated once (the cache is keyed by version)."""
    from reelforge.media.ffmpeg import run_ffmpeg

    CACHE.mkdir(parents=True, exist_ok=True)
    scenes = []
    for i in range(n):
        size, fps, sound = SHAPES[i % len(SHAPES)]
        path = CACHE / f"scene{i}.mp4"
        if not path.is_file():
            video = f"testsrc2=s={size}:r={fps}:d={SCENE_S},hue=h={i * 36}"
            args: list[str | Path] = ["-f", "lavfi", "-i", video]
            if sound:
                args += ["-f", "lavfi", "-i", f"sine=f={220 + 55 * i}:r=44100:d={SCENE_S}"]
            args += ["-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p"]
            args += ["-c:a", "aac", "-shortest"] if sound else []
            run_ffmpeg([*args, f"{path}.tmp.mp4"])
            Path(f"{path}.tmp.mp4").rename(path)
        scenes.append(path)
    music = CACHE / "music.wav"
    if not music.is_file():
        chord = "+".join(f"0.12*sin(2*PI*{f}*t)" for f in (220, 277.2, 329.6))
        expr = f"({chord})*(0.6+0.4*sin(2*PI*0.5*t))|({chord})*(0.6+0.4*cos(2*PI*0.5*t))"
        run_ffmpeg(["-f", "lavfi", "-i", f"aevalsrc={expr}:s=44100:d=75", str(music)])
    images = []
    for name, draw in (("logo", _logo), ("badge", _badge), ("sticker", _sticker)):
        path = CACHE / f"{name}.png"
        if not path.is_file():
            draw().save(path)
        images.append(path)
    return {"scenes": scenes, "music": music, "images": images}


def _logo() -> Image.Image:
    img = Image.new("RGBA", (400, 400), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    d.ellipse([10, 10, 390, 390], fill=(255, 255, 255, 230), outline=(20, 20, 20, 255), width=12)
    d.ellipse([110, 110, 290, 290], fill=(230, 60, 40, 255))
    return img


def _badge() -> Image.Image:
    img = Image.new("RGBA", (800, 300), (0, 0, 0, 0))
    ImageDraw.Draw(img).rounded_rectangle([0, 0, 799, 299], 60, fill=(250, 200, 30, 255))
    return img


def _sticker() -> Image.Image:
    img = Image.new("RGBA", (600, 600), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    d.regular_polygon((300, 300, 290), 5, fill=(80, 200, 255, 255))
    d.regular_polygon((300, 300, 150), 5, rotation=36, fill=(255, 255, 255, 200))
    return img


def build(src: dict[str, Any], seconds: float) -> Any:
    from reelforge.media.composition import (
        AudioTrack,
        Clip,
        Composition,
        ImageOverlay,
        TextOverlay,
        Transition,
    )

    n = len(src["scenes"])
    length = (seconds + (n - 1) * FADE_S) / n  # n clips, n - 1 overlaps
    clips = []
    for i, scene in enumerate(src["scenes"]):
        start = i * (length - FADE_S)
        transition = Transition(KINDS[(i - 1) % len(KINDS)], FADE_S) if i else None
        clips.append(Clip(scene, round(start, 6), round(start + length, 6),
                          trim_start=0.25 * (i % 3), transition=transition))
    d = seconds
    texts = [
        TextOverlay("Meet the new\nReelforge", 0.3, 0.22 * d, 540, 520, 110, outline_width=6),
        TextOverlay("50% off: today's deal", 0.2 * d, 0.4 * d, 540, 1500, 72, color="#ffe14d"),
        TextOverlay("Made for phones", 0.4 * d, 0.6 * d, 540, 360, 96, outline_width=4),
        TextOverlay("1080 x 1920 @ 30", 0.6 * d, 0.8 * d, 540, 1640, 64, color="#a0e0ff"),
        TextOverlay("reelforge.dev", 0.8 * d, d, 540, 960, 120, color="#ffffff"),
    ]
    logo, badge, sticker = src["images"]
    images = [
        ImageOverlay(logo, 0.0, d, 930, 150, 200, 200, opacity=0.85),  # the whole minute
        ImageOverlay(badge, 0.15 * d, 0.45 * d, 540, 1250, 600, 300, opacity=0.5, rotation=-8),
        ImageOverlay(sticker, 0.55 * d, 0.9 * d, 300, 1300, 420, 420, opacity=0.7, rotation=20),
    ]
    music = [AudioTrack(src["music"], start=0.0, volume=0.6, trim_start=1.0)]
    return Composition(1080, 1920, 30, clips, texts, images, music, clip_audio_volume=0.8)


def floor(video: Path, scratch: Path, preset: str, crf: int) -> dict[str, float]:
    """One encode of the rendered frames with the same settings, less decoding them."""
    from reelforge.media.ffmpeg import run_ffmpeg

    start = Cpu.now()
    run_ffmpeg(["-i", video, "-f", "null", "-"])
    decode = Cpu.now().since(start)
    start = Cpu.now()
    run_ffmpeg(["-i", video, "-c:v", "libx264", "-preset", preset, "-crf", str(crf),
                "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "192k", "-ar", "48000", "-ac", "2",
                scratch / "floor.mp4"])
    encode = Cpu.now().since(start)
    return {"decode_s": decode["wall_s"], "decode_cpu_s": decode["cpu_s"],
            "floor_s": encode["wall_s"] - decode["wall_s"],
            "floor_cpu_s": encode["cpu_s"] - decode["cpu_s"],
            "floor_others_cores": encode["others_cores_busy"]}


def source_decode(comp: Any) -> dict[str, float]:
    """Decoding what the render reads of each clip (its window), alone: work the render
    cannot skip either, which the floor leaves out."""
    from reelforge.media.ffmpeg import run_ffmpeg

    start = Cpu.now()
    for clip in comp.clips:
        run_ffmpeg(["-ss", f"{clip.trim_start:.6f}", "-t", f"{clip.end - clip.start:.6f}",
                    "-i", clip.source, "-map", "0", "-f", "null", "-"])
    done = Cpu.now().since(start)
    return {"source_decode_s": done["wall_s"], "source_decode_cpu_s": done["cpu_s"]}


def contact_sheet(video: Path, times: list[tuple[float, str]], out: Path, fps: float) -> Path:
    """Frames at `times` (seconds, caption), a quarter size, four to a row."""
    wanted = {round(t * fps): label for t, label in times}
    tiles: dict[int, Image.Image] = {}
    with av.open(str(video)) as c:
        for i, frame in enumerate(c.decode(video=0)):
            if i in wanted:
                tile = frame.to_image().resize((270, 480))
                ImageDraw.Draw(tile).text((6, 6), f"{i / fps:.2f}s {wanted[i]}", fill=(255, 0, 255))
                tiles[i] = tile
            if i > max(wanted):
                break
    cols = 4
    rows = (len(tiles) + cols - 1) // cols
    sheet = Image.new("RGB", (270 * cols, 480 * rows), (40, 40, 40))
    for n, i in enumerate(sorted(tiles)):
        sheet.paste(tiles[i], ((n % cols) * 270, (n // cols) * 480))
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="timeline length (default 60)")
    parser.add_argument("--clips", type=int, default=10)
    parser.add_argument("--preset", default="veryfast", help="x264 preset (render_composition's default)")
    parser.add_argument("--crf", type=int, default=23)
    parser.add_argument("--sheet", type=Path, default=Path("/tmp/reelforge-bench-timeline-sheet.png"))
    args = parser.parse_args(argv)

    from reelforge.media.composition import filter_graph, preview_frame, render_composition
    preset, crf = args.preset, args.crf
    start = Cpu.now()
    src = make_sources(args.clips)
    sources_s = Cpu.now().since(start)["wall_s"]
    comp = build(src, args.seconds)
    fg = filter_graph(comp)
    results: dict[str, Any] = {
        "seconds": args.seconds, "clips": len(comp.clips), "texts": len(comp.texts),
        "images": len(comp.images), "transitions": sum(1 for c in comp.clips if c.blend),
        "size": list(comp.size), "fps": comp.fps, "preset": preset, "crf": crf,
        "inputs": len(fg.inputs), "graph_chars": len(fg.graph),
    }
    with tempfile.TemporaryDirectory(prefix="bench-timeline-") as tmp:
        scratch = Path(tmp)
        start = Cpu.now()
        rendered = render_composition(comp, scratch / "export.mp4", preset=preset, crf=crf)
        render = Cpu.now().since(start)
        results.update({"render_s": render["wall_s"], "render_cpu_s": render["cpu_s"],
                        "render_others_cores": render["others_cores_busy"],
                        "frames": rendered.frames, "expected_frames": comp.frames,
                        "duration_s": rendered.duration})
        results.update(floor(rendered.path, scratch, preset, crf))
        results.update(source_decode(comp))
        step = comp.clips[1].start
        moments = [(step + FADE_S / 2, "fade"), (2 * step + FADE_S / 2, "wipeleft"),
                   (3 * step + FADE_S / 2, "slideup"), (4 * step + FADE_S / 2, "circleopen"),
                   (0.1 * args.seconds, "text+logo"), (0.3 * args.seconds, "badge -8deg"),
                   (0.7 * args.seconds, "sticker 20deg"), (0.9 * args.seconds, "text")]
        previews = []
        for t, _ in moments[:4] + moments[5:7]:
            start = Cpu.now()
            preview_frame(comp, t, scratch / f"preview-{t:.2f}.jpg")
            previews.append(Cpu.now().since(start)["wall_s"])
        results["preview_s"] = previews
        contact_sheet(rendered.path, moments, args.sheet, comp.fps)
    results["ratio"] = results["render_s"] / results["floor_s"]
    results["cpu_ratio"] = results["render_cpu_s"] / results["floor_cpu_s"]
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    (OUT_DIR / f"timeline-{stamp}.json").write_text(json.dumps(results, indent=2))

    r = results
    print(f"timeline export: {r['clips']} clips, {r['transitions']} transitions, {r['texts']} texts, "
          f"{r['images']} images, music; {r['seconds']:g} s at {r['size'][0]}x{r['size'][1]} "
          f"{r['fps']:g} fps, x264 {preset}/crf {crf} (sources ready in {sources_s:.1f} s)")
    print(f"  frames            {r['frames']} (expected {r['expected_frames']}), {r['duration_s']:.3f} s")
    print(f"  render            {r['render_s']:7.1f} s wall {r['render_cpu_s']:7.1f} s cpu   "
          f"(one ffmpeg run, {r['inputs']} inputs; others used {r['render_others_cores']:.1f} cores)")
    print(f"  floor             {r['floor_s']:7.1f} s wall {r['floor_cpu_s']:7.1f} s cpu   "
          f"(re-encode of the frames less decoding them, {r['decode_s']:.1f} s; others used "
          f"{r['floor_others_cores']:.1f} cores)")
    print(f"  render / floor    {r['ratio']:7.2f} wall  {r['cpu_ratio']:7.2f} cpu    (target <= 1.5)")
    with_decode = r["render_cpu_s"] / (r["floor_cpu_s"] + r["source_decode_cpu_s"])
    print(f"  sources decoded   {r['source_decode_s']:7.1f} s wall {r['source_decode_cpu_s']:7.1f} s cpu   "
          f"(each clip's window alone; render / (floor + this) = {with_decode:.2f} cpu)")
    print(f"  preview_frame     median {statistics.median(previews):.2f} s, max {max(previews):.2f} s "
          f"({len(previews)} frames)")
    print(f"  contact sheet     {args.sheet}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
