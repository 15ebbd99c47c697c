"""Synthetic media for tests and benchmarks: real ffmpeg and espeak-ng, cached by content hash.

Every generator is a pure function of its arguments, so its output is built once into a cache
directory (`REELFORGE_MEDIAGEN_CACHE`, default `<tmp>/reelforge-mediagen`) and copied to the
requested path on later calls; repeated test runs then cost a file copy, not an encode.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import subprocess
import tempfile
import uuid
import wave
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from reelforge.media.ffmpeg import run_ffmpeg

VERSION = 2  # bump when a generator's output changes, to invalidate old cache entries
DATA_DIR = Path(__file__).parent / "data"
FACE_JPG = DATA_DIR / "face.jpg"
# Where OpenCV's Haar frontal-face cascade finds the face inside face.jpg (x, y, w, h), 512x512.
FACE_BOX_IN_JPG = (177, 66, 95, 95)
FACE_JPG_SIZE = 512
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
ESPEAK = shutil.which("espeak-ng") or "/usr/bin/espeak-ng"

# Consecutive backgrounds differ strongly in hue, saturation and brightness, so every
# switch is a hard cut that a content detector must find. `{s}`/`{r}`/`{d}`: size, rate, seconds.
BACKGROUNDS = (
    "color=c=0x1d3557:s={s}:r={r}:d={d}",
    "smptehdbars=s={s}:r={r}:d={d}",
    "color=c=0xf4a261:s={s}:r={r}:d={d}",
    "testsrc2=s={s}:r={r}:d={d}",
    "color=c=0x2a9d8f:s={s}:r={r}:d={d}",
    "gradients=s={s}:r={r}:d={d}:c0=0x6a0dad:c1=0xffd60a:n=2:speed=0.005",
    "color=c=0xe63946:s={s}:r={r}:d={d}",
    "rgbtestsrc=s={s}:r={r}:d={d}",
)
# Where the face image sits at the start of each scene, as a fraction of the free width,
# and which way it drifts; a reframer has to re-target at each cut and follow the drift.
ANCHORS = ((0.15, 1), (0.75, -1), (0.45, 1), (0.9, -1), (0.05, 1), (0.6, -1))


def cache_dir() -> Path:
    return Path(
        os.environ.get("REELFORGE_MEDIAGEN_CACHE")
        or Path(tempfile.gettempdir()) / "reelforge-mediagen"
    )


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _cached(
    kind: str,
    params: dict[str, Any],
    dest: str | Path,
    build: Callable[[Path], dict[str, Any] | None],
) -> dict[str, Any]:
    """Build `kind` for `params` once into the cache (atomic rename), copy it to `dest`."""
    dest = Path(dest)
    suffix = dest.suffix or ".bin"
    blob = json.dumps({"v": VERSION, "kind": kind, **params}, sort_keys=True, default=str)
    key = hashlib.sha256(blob.encode()).hexdigest()[:20]
    root = cache_dir()
    cached = root / f"{kind}-{key}{suffix}"
    meta_path = root / f"{kind}-{key}.json"
    if not (cached.exists() and meta_path.exists()):
        root.mkdir(parents=True, exist_ok=True)
        tag = uuid.uuid4().hex[:8]
        # The temp name keeps the suffix: ffmpeg picks the muxer by it.
        tmp = root / f".{kind}-{key}-{tag}{suffix}"
        try:
            meta = build(tmp) or {}
            tmp_meta = root / f".{kind}-{key}-{tag}.json"
            tmp_meta.write_text(json.dumps(meta))
            os.replace(tmp, cached)
            os.replace(tmp_meta, meta_path)
        finally:
            tmp.unlink(missing_ok=True)
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.resolve() != cached.resolve():
        shutil.copyfile(cached, dest)
    return json.loads(meta_path.read_text())


def wav_duration(path: str | Path) -> float:
    with wave.open(str(path), "rb") as w:
        return w.getnframes() / w.getframerate()


def speech_wav(text: str, path: str | Path, voice: str = "en-us", wpm: int = 160) -> Path:
    """Speak `text` with espeak-ng into a 22.05 kHz mono 16-bit WAV."""

    def build(tmp: Path) -> dict[str, Any]:
        subprocess.run(
            [ESPEAK, "-v", voice, "-s", str(wpm), "-w", str(tmp), text],
            check=True,
            capture_output=True,
            timeout=120,
        )
        return {"duration": wav_duration(tmp)}

    _cached(
        "speech", {"text": text, "voice": voice, "wpm": wpm}, Path(path).with_suffix(".wav"), build
    )
    out = Path(path)
    if out.suffix != ".wav":
        shutil.move(out.with_suffix(".wav"), out)
    return out


def tone_audio(
    path: str | Path, seconds: float = 2.0, freq: float = 440.0, sample_rate: int = 16000
) -> Path:
    """An audio-only file holding a sine tone; the container follows the suffix (.wav, .m4a...)."""

    def build(tmp: Path) -> None:
        run_ffmpeg(
            ["-f", "lavfi", "-i", f"sine=f={freq}:r={sample_rate}:d={seconds}", "-ac", "1", tmp]
        )

    _cached("tone", {"s": seconds, "f": freq, "sr": sample_rate}, path, build)
    return Path(path)


def silent_video(
    path: str | Path,
    seconds: float = 2.0,
    size: tuple[int, int] = (320, 180),
    fps: int = 30,
    *,
    audio: bool = False,
) -> Path:
    """A test-pattern video with no audio stream, or with a silent one when `audio`."""

    def build(tmp: Path) -> None:
        w, h = size
        args: list[str | Path] = [
            "-f", "lavfi", "-i", f"testsrc2=s={w}x{h}:r={fps}:d={seconds}",
        ]  # fmt: skip
        if audio:
            args += ["-f", "lavfi", "-i", f"anullsrc=r=44100:cl=mono:d={seconds}"]
            args += ["-c:a", "aac", "-b:a", "32k"]
        args += [
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            "-t",
            str(seconds),
        ]
        run_ffmpeg([*args, tmp])

    params = {"s": seconds, "size": list(size), "fps": fps, "audio": audio}
    _cached("silent", params, path, build)
    return Path(path)


def not_media(path: str | Path) -> Path:
    """A text file with a media suffix, for the 'not a media file' paths."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text("This is a plain text file, not a video.\n" * 20)
    return p


@dataclass(frozen=True)
class SpokenSentence:
    text: str
    start: float
    end: float


@dataclass(frozen=True)
class FaceMove:
    """The face image's top-left x over one scene: x = x0 + vx * (t - start)."""

    start: float
    end: float
    x0: float
    vx: float


@dataclass(frozen=True)
class TalkVideo:
    """A generated talk video and what is known about it by construction."""

    path: Path
    duration: float
    size: tuple[int, int]
    fps: int
    cut_times: list[float]
    sentences: list[SpokenSentence]
    face_moves: list[FaceMove] = field(default_factory=list)
    face_y: int = 0
    face_scale: float = 0.0

    @property
    def scenes(self) -> list[tuple[float, float]]:
        bounds = [0.0, *self.cut_times, self.duration]
        return list(zip(bounds[:-1], bounds[1:], strict=True))

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.sentences)

    def face_box(self, t: float) -> tuple[int, int, int, int] | None:
        """The face box in the frame at `t` (x, y, w, h); None without a face.

        Exact to the overlay's 2 px rounding; a Haar detector's own box differs by a few px.
        """
        if not self.face_moves:
            return None
        move = next((m for m in self.face_moves if t < m.end), self.face_moves[-1])
        x = move.x0 + move.vx * (t - move.start)
        fx, fy, fw, fh = FACE_BOX_IN_JPG
        s = self.face_scale
        return (round(x + fx * s), round(self.face_y + fy * s), round(fw * s), round(fh * s))


def _even(v: float) -> int:
    return int(v) // 2 * 2


def _join_speech(
    sentences: Sequence[str], out: Path, voice: str, wpm: int, pause_s: float, lead_s: float
) -> list[SpokenSentence]:
    """Concatenate one espeak-ng WAV per sentence with silent gaps; return sentence times."""
    spoken: list[SpokenSentence] = []
    frames: list[bytes] = []
    rate = 22050
    t = 0.0

    def silence(seconds: float) -> bytes:
        return b"\x00\x00" * int(round(seconds * rate))

    with tempfile.TemporaryDirectory() as tmpdir:
        frames.append(silence(lead_s))
        t = lead_s
        for i, text in enumerate(sentences):
            wav = speech_wav(text, Path(tmpdir) / f"s{i}.wav", voice=voice, wpm=wpm)
            with wave.open(str(wav), "rb") as w:
                rate = w.getframerate()
                data = w.readframes(w.getnframes())
            frames.append(data)
            dur = len(data) / 2 / rate
            spoken.append(SpokenSentence(text, round(t, 3), round(t + dur, 3)))
            t += dur
            frames.append(silence(pause_s))
            t += pause_s
    with wave.open(str(out), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"".join(frames))
    return spoken


def _piecewise(moves: Sequence[FaceMove]) -> str:
    """The face x as an ffmpeg expression of t (nested ifs, one per scene)."""
    expr = f"{moves[-1].x0:.3f}+{moves[-1].vx:.4f}*(t-{moves[-1].start:.4f})"
    for m in reversed(moves[:-1]):
        expr = f"if(lt(t,{m.end:.4f}),{m.x0:.3f}+{m.vx:.4f}*(t-{m.start:.4f}),{expr})"
    return expr


def talk_video(
    path: str | Path,
    *,
    sentences: Sequence[str],
    size: tuple[int, int] = (640, 360),
    fps: int = 30,
    scene_cut_every_s: float | None = 3.0,
    cut_times: Sequence[float] | None = None,
    face: bool = True,
    voice: str = "en-us",
    wpm: int = 160,
    pause_s: float = 0.45,
    lead_s: float = 0.3,
    min_duration: float = 0.0,
    title: str | None = None,
    crf: int = 23,
    preset: str = "ultrafast",
    audio_bitrate: str = "96k",
) -> TalkVideo:
    """A talking-head-like video: spoken sentences, hard cuts, and a real face that moves.

    Cuts fall every `scene_cut_every_s` seconds (or at `cut_times`), snapped to frames; the
    face image (tests/data/face.jpg) starts each scene at a different x and drifts slowly.
    """
    path = Path(path)
    w, h = size
    params = {
        "sentences": list(sentences), "size": [w, h], "fps": fps, "every": scene_cut_every_s,
        "cuts": list(cut_times) if cut_times is not None else None, "face": face,
        "voice": voice, "wpm": wpm, "pause": pause_s, "lead": lead_s, "min": min_duration,
        "title": title, "crf": crf, "preset": preset, "ab": audio_bitrate,
        "face_sha": _digest(FACE_JPG) if face else None,
    }  # fmt: skip

    def build(tmp: Path) -> dict[str, Any]:
        with tempfile.TemporaryDirectory() as tmpdir:
            wav = Path(tmpdir) / "speech.wav"
            spoken = _join_speech(sentences, wav, voice, wpm, pause_s, lead_s)
            n_frames = math.ceil(max(wav_duration(wav), min_duration, 0.5) * fps)
            duration = n_frames / fps

            if cut_times is not None:
                wanted = list(cut_times)
            elif scene_cut_every_s:
                count = int(duration / scene_cut_every_s)
                wanted = [k * scene_cut_every_s for k in range(1, count + 1)]
            else:
                wanted = []
            cut_frames = sorted(
                {
                    round(c * fps)
                    for c in wanted
                    if 0.5 * fps <= round(c * fps) <= n_frames - fps // 2
                }
            )
            bounds = [0, *cut_frames, n_frames]

            graph: list[str] = []
            for i, (a, b) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
                src = BACKGROUNDS[i % len(BACKGROUNDS)].format(
                    s=f"{w}x{h}", r=fps, d=(b - a + 2) / fps
                )
                graph.append(
                    f"{src},trim=end_frame={b - a},setpts=PTS-STARTPTS,format=yuv420p,setsar=1[b{i}]"
                )
            n = len(bounds) - 1
            graph.append("".join(f"[b{i}]" for i in range(n)) + f"concat=n={n}:v=1:a=0[bg]")

            moves: list[FaceMove] = []
            face_h = _even(h * 0.65)
            scale = face_h / FACE_JPG_SIZE
            face_y = _even((h - face_h) * 0.45)
            last = "bg"
            if face:
                free = w - face_h
                speed = 0.02 * w  # px/s: slow enough to follow, fast enough to need following
                for i, (a, b) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
                    frac, direction = ANCHORS[i % len(ANCHORS)]
                    start, end = a / fps, b / fps
                    vx = direction * min(
                        speed, free * (frac if direction < 0 else 1 - frac) / max(end - start, 1e-3)
                    )
                    moves.append(FaceMove(start, end, free * frac, vx))
                graph.append(
                    f"[0:v]scale={face_h}:{face_h}:out_range=tv,format=yuv420p,setsar=1[face]"
                )
                graph.append(
                    f"[bg][face]overlay=x='{_piecewise(moves)}':y={face_y}:eval=frame:shortest=1[vf]"
                )
                last = "vf"
            if title:
                (Path(tmpdir) / "title.txt").write_text(title)
                graph.append(
                    f"[{last}]drawtext=fontfile={FONT}:expansion=none:textfile={Path(tmpdir) / 'title.txt'}:"
                    f"fontsize={max(12, h // 18)}:fontcolor=white:box=1:boxcolor=black@0.55:"
                    f"boxborderw={max(4, h // 80)}:x=(w-text_w)/2:y=h-text_h-{h // 14}[vt]"
                )
                last = "vt"

            inputs: list[str | Path] = []
            if face:
                inputs += ["-loop", "1", "-framerate", str(fps), "-i", FACE_JPG]
            inputs += ["-i", wav]
            args: list[str | Path] = [
                *inputs,
                "-filter_complex", ";".join(graph),
                "-map", f"[{last}]", "-map", f"{1 if face else 0}:a",
                "-af", "apad", "-t", f"{duration:.4f}",
                "-c:v", "libx264", "-preset", preset, "-crf", str(crf), "-pix_fmt", "yuv420p",
                "-r", str(fps), "-c:a", "aac", "-b:a", audio_bitrate, "-ar", "44100",
                "-movflags", "+faststart", tmp,
            ]  # fmt: skip
            run_ffmpeg(args)
        return {
            "duration": duration,
            "cut_times": [f / fps for f in cut_frames],
            "sentences": [asdict(s) for s in spoken],
            "face_moves": [asdict(m) for m in moves],
            "face_y": face_y,
            "face_scale": scale,
        }

    meta = _cached("talk", params, path, build)
    return TalkVideo(
        path=path,
        duration=meta["duration"],
        size=(w, h),
        fps=fps,
        cut_times=meta["cut_times"],
        sentences=[SpokenSentence(**s) for s in meta["sentences"]],
        face_moves=[FaceMove(**m) for m in meta["face_moves"]],
        face_y=meta["face_y"],
        face_scale=meta["face_scale"],
    )


# --------------------------------------------------------------------------- labelled scenes

# The head of face.jpg: its face box (FACE_BOX_IN_JPG) sits in the middle of this crop, so the
# crop's centre is the face's centre. A small magenta square is painted there, and found again
# in rendered frames by colour: where the face landed, measured on the output file.
HEAD_CROP = (127, 16, 195, 195)  # x, y, w, h in face.jpg
MARKER_RGB = (255, 0, 255)


@dataclass(frozen=True)
class SceneFace:
    """One face in a scene: its centre (fractions of the frame) moving at `vx` frame widths/s,
    its face box `height` a fraction of the frame height."""

    x: float
    y: float
    height: float
    vx: float = 0.0

    def cx_at(self, t: float) -> float:
        return self.x + self.vx * t


@dataclass(frozen=True)
class LabelledScene:
    """A scene of `layout_video`: its kind, length, faces and the layout a reframer should pick.

    `pip`: the faces sit inside a picture-in-picture box (x, y, w, h as frame fractions) over
    abstract content."""

    kind: str
    seconds: float
    faces: tuple[SceneFace, ...] = ()
    expected: str = "focus"
    pip: tuple[float, float, float, float] | None = None
    background: int = 0


@dataclass
class LayoutVideo:
    path: Path
    size: tuple[int, int]
    fps: int
    scenes: list[LabelledScene]
    starts: list[float]  # scene start times (the first is 0; the others are the cuts)

    @property
    def duration(self) -> float:
        return self.starts[-1] + self.scenes[-1].seconds

    def scene_at(self, t: float) -> tuple[int, LabelledScene]:
        i = max(k for k, s in enumerate(self.starts) if s <= t + 1e-9)
        return i, self.scenes[i]


def face_image_size(face_height: float, frame_h: int) -> int:
    """Side of the square head image whose face box is `face_height` of the frame height."""
    return _even(face_height * frame_h * HEAD_CROP[2] / FACE_BOX_IN_JPG[2])


def layout_video(
    path: str | Path,
    scenes: Sequence[LabelledScene],
    *,
    size: tuple[int, int] = (1920, 1080),
    fps: int = 30,
    preset: str = "ultrafast",
) -> LayoutVideo:
    """A video of labelled scenes, hard cuts between them, silent audio; faces with markers."""
    w, h = size
    path = Path(path)
    frames = [round(s.seconds * fps) for s in scenes]
    starts = [sum(frames[:i]) / fps for i in range(len(scenes))]
    params = {"scenes": [asdict(s) for s in scenes], "size": [w, h], "fps": fps, "preset": preset,
              "face_sha": _digest(FACE_JPG)}

    def build(tmp: Path) -> None:
        graph: list[str] = []
        cx, cy, cw, ch = HEAD_CROP
        inputs: list[str | Path] = ["-loop", "1", "-framerate", str(fps), "-i", FACE_JPG]
        n_faces = sum(len(s.faces) for s in scenes)
        graph.append(f"[0:v]crop={cw}:{ch}:{cx}:{cy},format=yuv420p,split={max(1, n_faces)}"
                     + "".join(f"[head{k}]" for k in range(max(1, n_faces))))
        k = 0
        for i, (scene, n) in enumerate(zip(scenes, frames, strict=True)):
            bg = BACKGROUNDS[scene.background % len(BACKGROUNDS)].format(s=f"{w}x{h}", r=fps, d=n / fps + 1)
            if scene.faces and not scene.pip:  # a dim studio behind talking heads
                bg = f"color=c=0x14161c:s={w}x{h}:r={fps}:d={n / fps + 1}"
            graph.append(f"{bg},trim=end_frame={n},setpts=PTS-STARTPTS,format=yuv420p,setsar=1[bg{i}_0]")
            last = f"bg{i}_0"
            if scene.pip:
                px, py, pw, ph = scene.pip
                graph.append(f"[{last}]drawbox=x={int(px * w)}:y={int(py * h)}:w={int(pw * w)}:"
                             f"h={int(ph * h)}:color=0x2b2d42:t=fill[bg{i}_p]")
                last = f"bg{i}_p"
            for j, face in enumerate(scene.faces):
                side = face_image_size(face.height, h)
                mark = max(4, _even(side * 0.05))
                graph.append(f"[head{k}]scale={side}:{side},drawbox=x={(side - mark) // 2}:"
                             f"y={(side - mark) // 2}:w={mark}:h={mark}:color=0xff00ff:t=fill,"
                             f"trim=end_frame={n},setpts=PTS-STARTPTS[f{i}_{j}]")
                x = f"{face.x * w - side / 2:.2f}+{face.vx * w:.4f}*t"
                y = f"{face.y * h - side / 2:.2f}"
                graph.append(f"[{last}][f{i}_{j}]overlay=x='{x}':y='{y}':eval=frame[bg{i}_{j + 1}]")
                last = f"bg{i}_{j + 1}"
                k += 1
            graph.append(f"[{last}]null[s{i}]")
        graph.append("".join(f"[s{i}]" for i in range(len(scenes)))
                     + f"concat=n={len(scenes)}:v=1:a=0[v]")
        total = sum(frames) / fps
        if n_faces == 0:
            graph.append("[head0]nullsink")
        args: list[str | Path] = [
            *inputs, "-f", "lavfi", "-i", f"anullsrc=r=48000:cl=stereo:d={total:.4f}",
            "-filter_complex", ";".join(graph), "-map", "[v]", "-map", "1:a",
            "-frames:v", str(sum(frames)), "-c:v", "libx264", "-preset", preset, "-crf", "20",
            "-pix_fmt", "yuv420p", "-r", str(fps), "-c:a", "aac", "-b:a", "64k",
            "-movflags", "+faststart", tmp,
        ]  # fmt: skip
        run_ffmpeg(args)

    _cached("layout", params, path, build)
    return LayoutVideo(path=path, size=(w, h), fps=fps, scenes=list(scenes), starts=starts)


def find_markers(rgb: np.ndarray, min_pixels: int = 4) -> list[tuple[float, float]]:
    """Centres (x, y in pixels) of the magenta face markers in an RGB frame, left to right."""
    r, g, b = (rgb[..., c].astype(np.int16) for c in range(3))
    mask = ((r > 170) & (b > 170) & (g < 110)).astype(np.uint8)
    count, _labels, stats, centroids = cv2.connectedComponentsWithStats(mask)
    found = [tuple(map(float, centroids[i])) for i in range(1, count)
             if stats[i, cv2.CC_STAT_AREA] >= min_pixels]
    return sorted(found)


# --- painted references (media.analysis and the works analysis) -----------------------------

def painted_video(out: Path, shots: Sequence[tuple[str, float]], size: tuple[int, int] = (320, 180)) -> Path:
    """Solid colours (hex without #), one per shot of `seconds`, joined by hard cuts."""
    args: list = []
    for colour, seconds in shots:
        args += ["-f", "lavfi", "-i", f"color=c=0x{colour}:s={size[0]}x{size[1]}:r=30:d={seconds}"]
    labels = "".join(f"[{i}:v]" for i in range(len(shots)))
    run_ffmpeg([*args, "-filter_complex", f"{labels}concat=n={len(shots)}:v=1:a=0[v]", "-map", "[v]",
                "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", out])
    return out


def texture(seed: int, size: tuple[int, int] = (960, 540)) -> np.ndarray:
    """A busy BGR picture of random discs and boxes: corners everywhere for a tracker."""
    rng = np.random.default_rng(seed)
    w, h = size
    img = np.full((h, w, 3), rng.integers(0, 255, 3), np.uint8)
    for _ in range(400):
        colour = tuple(int(v) for v in rng.integers(0, 255, 3))
        x, y, r = int(rng.integers(0, w)), int(rng.integers(0, h)), int(rng.integers(6, 40))
        if rng.random() < 0.5:
            cv2.circle(img, (x, y), r, colour, -1)
        else:
            cv2.rectangle(img, (x, y), (x + r, y + int(rng.integers(6, 40))), colour, -1)
    return img


def hex_rgb(value: str) -> np.ndarray:
    value = value.lstrip("#")
    return np.array([int(value[i:i + 2], 16) for i in (0, 2, 4)], float)


def colour_distance(a: str, b: str) -> float:
    return float(np.linalg.norm(hex_rgb(a) - hex_rgb(b)))

