"""Narrated slide videos: each slide's frames encoded once, crossfades between them, the
narration mixed and loudness-normalised, and the pieces joined without re-encoding.

    windows = plan_windows([4.2, 6.0, 3.1])                   # narration seconds per slide
    render_span(visual, *body_span(windows, 0), out="s1.mp4", size=(1920, 1080), slide_frames=...)
    render_crossfade(visual_1, visual_2, windows, 0, out="x12.mp4", size=(1920, 1080))
    mix_narration([("n1.wav", windows[0].speech_at), ...], total=windows[-1].end_s, out="narration.wav")
    join(["s1.mp4", "x12.mp4", ...], "narration.wav", "video.mp4")

Why pieces: a slide that changes is re-encoded alone (its span and its two crossfades) and
the video is re-joined by stream copy, so one edited slide costs about 1/N of a full render.
Every piece has the same codec settings and starts on a key frame, which is what the concat
demuxer needs to join them losslessly.

Timeline in frames (30 fps): slide i holds `frames` frames starting at `start`, its narration
begins `LEAD_S` after that and is followed by `TAIL_S` of quiet. A crossfade of 2*`FADE_HALF`
frames straddles each boundary, inside the quiet lead/tail, so no spoken word is faded.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reelforge.errors import MediaProcessingError
from reelforge.media.ffmpeg import ffmpeg_exe, run_ffmpeg
from reelforge.media.render import default_fonts_dir, filter_path
from reelforge.media.slides import SlideArt
from reelforge.media.tts import read_wav
from reelforge.models import Word

FPS = 30
LEAD_S, TAIL_S = 0.4, 0.5
FADE_HALF = 8  # frames each side of a boundary: a 0.53 s crossfade
GOP = 2 * FPS  # a key frame every 2 s: seeking stays quick, and pieces start on one
KEN_BURNS_ZOOM = 0.12  # an image panel grows by this fraction over its slide
AUDIO_RATE = 48_000
LOUDNESS_LUFS, PEAK_DBFS = -16.0, -1.5  # the usual target for spoken content online


@dataclass(frozen=True)
class SlideWindow:
    """Where a slide sits on the video's frame timeline."""

    start: int  # first frame
    frames: int

    @property
    def start_s(self) -> float:
        return self.start / FPS

    @property
    def end_s(self) -> float:
        return (self.start + self.frames) / FPS

    @property
    def speech_at(self) -> float:
        """When the slide's narration starts, seconds into the video."""
        return self.start_s + LEAD_S


def plan_windows(speech_seconds: Sequence[float]) -> list[SlideWindow]:
    """Each slide lasts its narration plus the lead and tail pauses, on whole frames."""
    windows, start = [], 0
    for seconds in speech_seconds:
        frames = max(2 * FADE_HALF + 1, round((LEAD_S + float(seconds) + TAIL_S) * FPS))
        windows.append(SlideWindow(start, frames))
        start += frames
    return windows


def body_span(windows: Sequence[SlideWindow], i: int) -> tuple[int, int]:
    """(first local frame, frame count) of slide i outside the crossfades at its ends."""
    head = FADE_HALF if i > 0 else 0
    tail = FADE_HALF if i < len(windows) - 1 else 0
    return head, windows[i].frames - head - tail


def _x264(preset: str, crf: int) -> list[str]:
    # Fixed GOP, no scene-cut key frames and closed GOPs: every piece starts on an IDR frame
    # with identical settings, so the concat demuxer can join them by stream copy.
    return ["-c:v", "libx264", "-preset", preset, "-crf", str(crf), "-pix_fmt", "yuv420p",
            "-r", str(FPS), "-g", str(GOP), "-x264-params", "scenecut=0:open-gop=0",
            "-video_track_timescale", "15360", "-an"]


def _slide_graph(art: SlideArt, inputs: int, first: int, count: int, slide_frames: int,
                 label: str) -> tuple[list[str], str]:
    """ffmpeg inputs and filter chain drawing `count` frames of a slide from local frame
    `first` (which may be negative or past the end inside a crossfade: the picture holds)."""
    args = ["-framerate", str(FPS), "-i", str(art.background)]
    # One decoded picture, repeated in memory (an image looped by the demuxer is re-decoded
    # for every frame, which costs more than encoding a still does).
    chain = f"[{inputs}:v]format=yuv420p,loop=loop={count - 1}:size=1:start=0,setpts=N/{FPS}/TB"
    if art.panel is None or art.panel_box is None:
        return args, f"{chain}[{label}]"
    box = art.panel_box
    args += ["-framerate", str(FPS), "-i", str(art.panel)]
    # Ken Burns: the panel (drawn 1.25x its box) is rescaled every frame from the box's size
    # up by KEN_BURNS_ZOOM over the slide, and a box-sized window is cut from its middle; a
    # per-frame rescale moves in sub-pixel steps, where a moving crop would judder.
    progress = f"clip((n+{first})/{max(1, slide_frames - 1)},0,1)"
    width = f"ceil({box.w}*(1.004+{KEN_BURNS_ZOOM}*{progress})/2)*2"
    # Scaled in YUV 4:2:0 with bilinear filtering: ~2 ms a frame at 1080p here, where RGB
    # bicubic took 15 ms. Widths step by 2 px (4:2:0), a 0.2% change: no visible judder.
    panel = (f"[{inputs + 1}:v]format=yuv420p,loop=loop={count - 1}:size=1:start=0,setpts=N/{FPS}/TB,"
             f"scale=w='{width}':h=-2:eval=frame:flags=bilinear,"
             f"crop={box.w}:{box.h}:(iw-{box.w})/2:(ih-{box.h})/2")
    return args, f"{chain}[{label}bg];{panel}[{label}p];[{label}bg][{label}p]overlay={box.x}:{box.y}[{label}]"


def render_span(art: SlideArt, first: int, count: int, *, out: str | Path, slide_frames: int,
                captions: str | None = None, fonts_dir: str | Path | None = None,
                preset: str = "veryfast", crf: int = 23) -> Path:
    """Encode `count` frames of one slide, from its local frame `first`, to a video-only MP4.

    `captions` is an ASS script timed from the slide's frame 0 (shifted here to the span);
    libass finds its font in `fonts_dir` (the packaged or system DejaVu by default)."""
    out = Path(out)
    if captions is None and art.panel is None and count > 2 * GOP:
        return _still_span(art, count, out, preset, crf)
    with tempfile.TemporaryDirectory(prefix="span-") as tmp:
        inputs, graph = _slide_graph(art, 0, first, count, slide_frames, "v")
        if captions:
            ass = Path(tmp) / "captions.ass"
            ass.write_text(_shift_ass(captions, -first / FPS), encoding="utf-8")
            option = f"ass=filename={filter_path(ass)}"
            fonts = Path(fonts_dir) if fonts_dir else default_fonts_dir()
            if fonts:
                option += f":fontsdir={filter_path(fonts)}"
            graph = graph[: -len("[v]")] + f"[pre];[pre]{option}[v]"
        run_ffmpeg([*inputs, "-filter_complex", graph, "-map", "[v]", "-frames:v", str(count),
                    *_x264(preset, crf), str(out)])
    return out


def _still_span(art: SlideArt, count: int, out: Path, preset: str, crf: int) -> Path:
    """A slide that does not move: one GOP encoded once and repeated by stream copy (plus
    the remainder). Its frames are identical, so this is the same video as encoding every
    frame (a GOP each GOP frames either way), for a fraction of the encoding."""
    with tempfile.TemporaryDirectory(prefix="still-") as tmp:
        folder = Path(tmp)
        gop = _encode_still(art, GOP, folder / "gop.mp4", preset, crf)
        repeats, rest = divmod(count, GOP)
        pieces = [gop] * repeats
        if rest:
            pieces.append(_encode_still(art, rest, folder / "rest.mp4", preset, crf))
        run_ffmpeg([*_concat_input(pieces, folder), "-c", "copy", "-video_track_timescale", "15360", str(out)])
    return out


def _encode_still(art: SlideArt, count: int, out: Path, preset: str, crf: int) -> Path:
    inputs, graph = _slide_graph(art, 0, 0, count, count, "v")
    run_ffmpeg([*inputs, "-filter_complex", graph, "-map", "[v]", "-frames:v", str(count),
                *_x264(preset, crf), str(out)])
    return out


def render_crossfade(a: SlideArt, b: SlideArt, windows: Sequence[SlideWindow], i: int, *,
                     out: str | Path, preset: str = "veryfast", crf: int = 23) -> Path:
    """The crossfade from slide i to slide i+1: the last FADE_HALF frames of i and the first
    FADE_HALF of i+1, each slide moving as it would on its own, blended linearly."""
    count = 2 * FADE_HALF
    a_args, a_graph = _slide_graph(a, 0, windows[i].frames - FADE_HALF, count, windows[i].frames, "a")
    b_inputs = 1 if a.panel is None or a.panel_box is None else 2
    b_args, b_graph = _slide_graph(b, b_inputs, -FADE_HALF, count, windows[i + 1].frames, "b")
    graph = (f"{a_graph};{b_graph};"
             f"[a][b]xfade=transition=fade:duration={count / FPS:.6f}:offset=0[v]")
    run_ffmpeg([*a_args, *b_args, "-filter_complex", graph, "-map", "[v]", "-frames:v", str(count),
                *_x264(preset, crf), str(out)])
    return Path(out)


_ASS_TIME = re.compile(r"(\d+):(\d{2}):(\d{2})\.(\d{2})")


def _shift_ass(script: str, by: float) -> str:
    """The ASS script with every Dialogue time moved by `by` seconds (clamped at 0)."""

    def shift(m: re.Match[str]) -> str:
        t = int(m[1]) * 3600 + int(m[2]) * 60 + int(m[3]) + int(m[4]) / 100 + by
        cs = max(0, round(t * 100))
        return f"{cs // 360000}:{cs // 6000 % 60:02d}:{cs // 100 % 60:02d}.{cs % 100:02d}"

    lines = []
    for line in script.splitlines():
        if line.startswith("Dialogue:"):
            head, _, rest = line.partition(",")
            start, end, tail = rest.split(",", 2)
            line = f"{head},{_ASS_TIME.sub(shift, start)},{_ASS_TIME.sub(shift, end)},{tail}"
        lines.append(line)
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- audio

def spoken_captions(words: Sequence[Word], *, seconds: float, size: tuple[int, int],
                    language: str = "english") -> tuple[str, Path]:
    """Word-by-word (karaoke) captions of a narrated piece `seconds` long, as ASS timed from
    its first frame, and the folder of a bold font with the language's glyphs (for libass).
    They sit low, above a slide's footer and off its text."""
    from PIL import ImageFont

    from reelforge.media.captions import build_ass
    from reelforge.media.slides import font_for

    font = font_for(language, bold=True)
    family = ImageFont.truetype(str(font)).getname()[0]
    ass = build_ass(words, clip_start=0.0, clip_end=seconds, width=size[0], height=size[1],
                    style="karaoke", font=family, margin_v=0.1)
    return ass, font.parent


def mix_narration(parts: Sequence[tuple[str | Path, float]], *, total: float, out: str | Path) -> Path:
    """One narration track: each WAV placed at its offset (seconds) on `total` seconds of
    quiet, then brought to LOUDNESS_LUFS integrated (EBU R128, measured by ffmpeg's ebur128)
    by one gain, its peaks limited to PEAK_DBFS (loudnorm's two passes cost ~0.1 s per
    second of audio here; this costs a fiftieth of that)."""
    out = Path(out)
    rate = read_wav(parts[0][0])[1] if parts else AUDIO_RATE
    track = np.zeros(round(total * rate), dtype=np.float32)
    for path, offset in parts:
        data, part_rate = read_wav(path)
        if part_rate != rate:  # e.g. Gemini's 24 kHz beside a fallback's 22.05 kHz
            positions = np.arange(round(len(data) * rate / part_rate)) * (part_rate / rate)
            data = np.interp(positions, np.arange(len(data)), data).astype(np.float32)
        at = round(offset * rate)
        n = max(0, min(len(data), len(track) - at))
        track[at:at + n] += data[:n]
    with tempfile.TemporaryDirectory(prefix="mix-") as tmp:
        raw = Path(tmp) / "raw.wav"
        _write_wav(raw, track, rate)
        loudness = measure_loudness(raw)
        if loudness is None:  # silence stays silence
            raw.replace(out)
            return out
        # Speech peaks ~18 dB above its loudness, more than the 14.5 dB between the targets:
        # a look-ahead limiter takes the few peaks down instead of the whole track. Limiting
        # lowers the loudness a little, so the gain is corrected once from a re-measurement.
        gain = LOUDNESS_LUFS - loudness
        for _ in range(2):
            run_ffmpeg(["-i", raw, "-af", f"volume={gain:.2f}dB,"
                        f"alimiter=limit={10 ** (PEAK_DBFS / 20):.4f}:attack=5:release=50:level=false",
                        "-c:a", "pcm_s16le", str(out)])
            reached = measure_loudness(out)
            if reached is None or abs(reached - LOUDNESS_LUFS) <= 0.5:
                break
            gain += LOUDNESS_LUFS - reached
    return out


def _write_wav(path: Path, samples: np.ndarray, rate: int) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())


def measure_loudness(path: str | Path) -> float | None:
    """Integrated loudness (LUFS, EBU R128) of an audio file or a video's audio; None if silent."""
    proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostats", "-nostdin", "-i", str(path),
                           "-map", "a:0", "-af", "ebur128=peak=none:framelog=quiet", "-f", "null", "-"],
                          capture_output=True, text=True, timeout=600)
    found = re.findall(r"I:\s+(-?[\d.]+|-inf) LUFS", proc.stderr)
    if proc.returncode != 0 or not found:
        raise MediaProcessingError("loudness measurement failed: " + proc.stderr[-300:])
    value = found[-1]
    return None if value == "-inf" or float(value) <= -70 else float(value)


def join(pieces: Sequence[str | Path], narration: str | Path, out: str | Path) -> Path:
    """Concatenate the video pieces by stream copy and add the narration as AAC."""
    out = Path(out)
    with tempfile.TemporaryDirectory(prefix="join-") as tmp:
        run_ffmpeg([*_concat_input(pieces, Path(tmp)), "-i", str(narration),
                    # Mono narration: 128 kb/s is plenty, and the fast coder is 3-4x quicker
                    # than the default (1.8 s -> 0.5 s for a minute of Piper speech here).
                    "-map", "0:v", "-map", "1:a", "-c:v", "copy", "-c:a", "aac", "-aac_coder", "fast",
                    "-b:a", "128k", "-ac", "1", "-ar", str(AUDIO_RATE),
                    "-movflags", "+faststart", str(out)])
    return out


def _concat_input(pieces: Sequence[str | Path], folder: Path) -> list[str | Path]:
    """ffmpeg input options reading `pieces` one after another (the concat demuxer)."""
    listing = folder / "pieces.txt"
    listing.write_text("".join(f"file '{Path(p).resolve().as_posix()}'\n" for p in pieces))
    return ["-f", "concat", "-safe", "0", "-i", listing]
