"""What a reference video looks like, measured offline: the `local` provider's analysis.

    analysis = analyze_reference("reference.mp4", mode="style_transfer")
    analysis.describe()   # "3 scenes over 6.0 s, average shot 2.0 s ...: fast cutting. ..."
    as_contract(analysis) # AutoVio's AnalysisResult: scene_count, tempo, color_palette, scenes...

Everything here is a measurement, and every sentence it writes is a template filled with one:
nothing is recognised (no objects, people or words on screen), so nothing is invented.

- Scenes: `media.scenes.detect_scenes` (PySceneDetect's ContentDetector), hard cuts only; the
  shots' start, end and duration, their average and median length.
- Tempo: cuts per minute, `60 * (scenes - 1) / duration`, against `TEMPO_THRESHOLDS`
  (a single shot is 0 cuts per minute: slow).
- Colours: k-means (OpenCV, fixed seed) in CIELAB over the pixels of up to `max_frames` frames
  spread evenly over the video, shrunk to `THUMB_SIZE`; each colour is the mean sRGB of its
  cluster, with its share of the pixels. Brightness is the mean Rec.601 luma, saturation the
  mean HSV saturation (both 0..1), warmth the mean of (R - B) (-1 cool .. 1 warm).
- Camera movement per scene: corners tracked with pyramidal Lucas-Kanade between consecutive
  frames of the analysis stream (`ANALYSIS_FPS`, at `FLOW_WIDTH`), forward-backward checked,
  and a similarity transform fitted with RANSAC, so a subject moving inside a still shot is
  outvoted by the background (while the background holds most of the corners). Its motion, in frame widths per second, is the motion of the CONTENT: `pan` > 0
  when the picture slides right, `tilt` > 0 when it slides down, `zoom` > 0 (log scale per
  second) when it grows. The label names the CAMERA: the picture sliding right means the
  camera turns left, so `pan` > 0 is "pan_left", `tilt` > 0 (picture slides down) "tilt_up",
  `zoom` > 0 "zoom_in", as `media.motion` renders them. A zoom is compared with a pan by how
  fast it moves the frame's side edge (`zoom / 2` widths per second).
- Text overlay likelihood per scene: a heuristic, not OCR (see `_text_lines`). Overlaid text
  is a band of a text line's height, dense with the paired edges of thin vertical strokes: in
  the luma, at `ANALYSIS_WIDTH` (subtitles) and half of it (titles), rows whose segments cross
  many strokes, stacked a line high and at least twice as wide. The share of the frame those
  bands cover, 75th percentile over the scene's frames, maps to 0..1. Object outlines are single
  edges, busy pictures give no clean bands, so both score low; a fence, a barcode or a grid of
  small squares in a band can still look like text, and text as bright as what is behind it
  (no outline) is missed.
- Speech (content_remix, or `speech=True`): `media.transcribe` (faster-whisper), the
  transcript's text and language, and each scene's words.
"""

from __future__ import annotations

import math
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
from pydantic import BaseModel, Field

from reelforge.errors import InvalidMediaError, MediaProcessingError
from reelforge.media.ffmpeg import ffmpeg_exe
from reelforge.media.probe import display_name
from reelforge.media.scenes import detect_scenes
from reelforge.media.source import VideoSource, input_options, probe_video
from reelforge.models import Scene, TranscriptSegment

Mode = Literal["style_transfer", "content_remix"]
MODES: tuple[str, ...] = ("style_transfer", "content_remix")
Movement = Literal["static", "pan_left", "pan_right", "tilt_up", "tilt_down", "zoom_in", "zoom_out"]
Tempo = Literal["slow", "moderate", "fast", "very fast"]

# Cuts per minute below each bound get its label; at or above the last, "very fast". For a
# long video 60 / cuts-per-minute is the average shot: slow > 7.5 s, moderate 3.75-7.5 s,
# fast 2-3.75 s, very fast < 2 s.
TEMPO_THRESHOLDS: tuple[tuple[float, Tempo], ...] = ((8.0, "slow"), (16.0, "moderate"), (30.0, "fast"))
# AutoVio's AnalysisResult says tempo in three words.
CONTRACT_TEMPO: dict[str, str] = {"slow": "slow", "moderate": "medium", "fast": "fast", "very fast": "fast"}
# ... and camera movements with spaces ("pan left"); tilts are ours.
CONTRACT_CAMERA: dict[str, str] = {m: m.replace("_", " ") for m in
                                   ("static", "pan_left", "pan_right", "tilt_up", "tilt_down", "zoom_in", "zoom_out")}

# The analysis stream: frames at most this wide, at this rate (or the source's, if lower),
# and never more than MAX_ANALYSIS_FRAMES of them (a long video is sampled more sparsely).
ANALYSIS_WIDTH = 640  # text is looked for at this size
FLOW_WIDTH = 320  # and camera motion at this one
ANALYSIS_FPS = 5.0
TEXT_FPS = 2.5  # frames a second looked at for text (every other one at 5 fps)
MAX_ANALYSIS_FRAMES = 3600
THUMB_SIZE = (48, 27)  # what the colour measurements look at (w, h); a shape, not an aspect

PALETTE_SIZE = 5  # k-means clusters for the whole video (before merging near-equal ones)
SCENE_PALETTE_SIZE = 3
SCENE_PALETTE_FRAMES = 8  # frames of a scene whose pixels make its palette
MERGE_DELTA_E = 12.0  # clusters closer than this (CIE76) are one colour
MIN_SHARE = 0.02  # colours with less of the pixels are left out
KMEANS_SEED = 1234
KMEANS_ATTEMPTS = 2

# Camera: below this speed (frame widths per second; a zoom's edge speed) a shot is static.
MOVE_MIN = 0.015
MIN_TRACKS = 12  # tracked corners needed to trust a frame pair
MAX_CORNERS = 120
FB_MAX_PX = 1.0  # forward-backward tracking error allowed, pixels of the FLOW_WIDTH frame
RANSAC_PX = 1.0

# Text (see `_text_lines`), lengths as shares of the frame's width or height: the Sobel-x
# response (3x3, 0..1020) a stroke's side must reach; the widest stroke; the widest gap between
# letters; the shortest row segment and its fewest strokes; the widest spacing of strokes along
# a segment; a text line's height range; its least width for its height, and filled share.
TEXT_EDGE_MIN = 160
TEXT_STROKE_WIDTH = 0.012
TEXT_LETTER_GAP = 0.02
TEXT_MIN_SEGMENT = 0.04
TEXT_MIN_STROKES = 6
TEXT_STROKE_SPACING = 0.016
TEXT_LINE_HEIGHT = (0.03, 0.2)
TEXT_MIN_ASPECT = 2.0
TEXT_MIN_FILL = 0.5
# Frame share of text lines that makes the likelihood 1 - 1/e.
TEXT_COVER_SCALE = 0.01
TEXT_OVERLAY_THRESHOLD = 0.5  # a scene at or above it "has a text overlay"

BRIGHTNESS_WORDS = ((0.3, "dark"), (0.6, "mid-tone"))  # else "bright"
SATURATION_WORDS = ((0.12, "near-greyscale"), (0.35, "muted"))  # else "vivid"
WARMTH_NEUTRAL = 0.06  # |warmth| below it: "neutral"
PACE_WORDS: dict[str, str] = {"slow": "calm", "moderate": "steady", "fast": "energetic", "very fast": "frenetic"}


class Swatch(BaseModel):
    hex: str = Field(description="#rrggbb")
    share: float = Field(description="share of the sampled pixels, 0..1")


class Colours(BaseModel):
    palette: list[Swatch] = Field(description="dominant colours, largest share first")
    brightness: float = Field(description="mean Rec.601 luma, 0..1")
    saturation: float = Field(description="mean HSV saturation, 0..1")
    warmth: float = Field(description="mean (R - B), -1 (cool) .. 1 (warm)")

    @property
    def words(self) -> str:
        """'dark, muted, cool' from the numbers and the *_WORDS bounds."""
        bright = _word(self.brightness, BRIGHTNESS_WORDS, "bright")
        sat = _word(self.saturation, SATURATION_WORDS, "vivid")
        warm = "neutral" if abs(self.warmth) < WARMTH_NEUTRAL else ("warm" if self.warmth > 0 else "cool")
        return f"{bright}, {sat}, {warm}"


class CameraMovement(BaseModel):
    """The camera's movement over one scene, from the median motion of its frame pairs.

    `pan`, `tilt`: how fast the picture slides, frame widths per second, + right / + down;
    `zoom`: log scale per second, + when the picture grows. `label` names the camera's move:
    the picture sliding right is the camera panning LEFT (see the module docstring)."""

    label: Movement
    magnitude: float = Field(description="speed of the dominant move, frame widths per second")
    confidence: float = Field(description="share of the scene's frame pairs that agree, 0..1")
    pan: float = 0.0
    tilt: float = 0.0
    zoom: float = 0.0
    pairs: int = Field(0, description="frame pairs measured (with enough texture to track)")


class SceneAnalysis(BaseModel):
    index: int = Field(description="1-based, as in AutoVio's AnalysisResult")
    start: float
    end: float
    duration: float
    camera: CameraMovement
    text_overlay_likelihood: float = Field(description="edge heuristic, 0..1; not OCR")
    palette: list[Swatch]
    brightness: float
    speech: str | None = Field(None, description="words spoken in the scene, when transcribed")
    description: str = ""

    @property
    def has_text_overlay(self) -> bool:
        return self.text_overlay_likelihood >= TEXT_OVERLAY_THRESHOLD


class SpeechAnalysis(BaseModel):
    text: str
    language: str
    language_probability: float
    model: str
    segments: list[TranscriptSegment] = Field(default_factory=list)


class ReferenceAnalysis(BaseModel):
    provider: Literal["local"] = "local"
    source: str = Field(description="the file's name")
    mode: Mode
    duration: float
    width: int
    height: int
    fps: float
    scene_count: int
    scenes: list[SceneAnalysis]
    average_shot_s: float
    median_shot_s: float
    cuts: int
    cuts_per_minute: float
    tempo: Tempo
    colours: Colours
    has_text_overlay: bool
    speech: SpeechAnalysis | None = None
    analysed_frames: int = Field(description="frames of the analysis stream that were measured")
    palette_frames: int = Field(description="of them, the frames whose pixels made the palette")
    overall_tone: str = ""

    def describe(self) -> str:
        """A paragraph written from the measurements (and only from them)."""
        shots = "1 scene" if self.scene_count == 1 else f"{self.scene_count} scenes"
        parts = [f"{shots} over {self.duration:.1f} s, average shot {self.average_shot_s:.1f} s "
                 f"(median {self.median_shot_s:.1f} s), {self.cuts_per_minute:.0f} cuts per minute: "
                 f"{self.tempo} cutting."]
        if self.colours.palette:
            parts.append(f"Palette dominated by {_swatches(self.colours.palette)}; {self.colours.words} "
                         f"(brightness {self.colours.brightness:.2f}, saturation "
                         f"{self.colours.saturation:.2f}, warmth {self.colours.warmth:+.2f}).")
        moving = [f"scene {s.index} {_camera_verb(s.camera.label)}" for s in self.scenes
                  if s.camera.label != "static"]
        if not moving:
            parts.append("Camera: static throughout.")
        else:
            rest = "; the other scenes are static." if len(moving) < self.scene_count else "."
            parts.append(f"Camera: {', '.join(moving)}{rest}")
        texty = [str(s.index) for s in self.scenes if s.has_text_overlay]
        if texty:
            parts.append(f"Text overlay likely in scene{'s' if len(texty) > 1 else ''} {', '.join(texty)}.")
        else:
            parts.append("No text overlay detected.")
        if self.speech is not None:
            said = self.speech.text.strip()
            parts.append(f'Speech ({self.speech.language}): "{_clip(said, 240)}".' if said
                         else "No speech heard.")
        parts.append(f"Measured locally ({_methods(self)}); nothing in the video was recognised.")
        return " ".join(parts)


def analyze_reference(
    path: str | Path,
    *,
    mode: str = "style_transfer",
    speech: bool | None = None,
    max_frames: int = 48,
    whisper_model: str = "base",
    on_progress: Callable[[float], None] | None = None,
) -> ReferenceAnalysis:
    """Measure a reference video: scenes, tempo, colours, camera, text overlay, speech.

    `speech` None transcribes for content_remix only; a video without an audio stream has
    no speech (None) either way. `max_frames` frames, spread over the video, give its palette.
    `on_progress` gets 0..1. Raises InvalidMediaError when `path` is not a video.
    """
    if mode not in MODES:
        raise ValueError(f"unknown analysis mode {mode!r}: use one of {', '.join(MODES)}")
    if max_frames < 1:
        raise ValueError(f"max_frames must be at least 1, got {max_frames}")
    name = display_name(path)
    video = probe_video(path)
    listen = (mode == "content_remix") if speech is None else speech
    listen = listen and video.has_audio
    report = on_progress or (lambda _f: None)
    visual_share = 0.6 if listen else 1.0

    # Scene detection decodes the video once in its own ffmpeg; the measuring stream is a
    # second, small one. They run side by side (two processes, OpenCV releases the GIL).
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="scenes") as pool:
        scenes_job = pool.submit(detect_scenes, path)
        frames = _measure_stream(path, video, lambda f: report(visual_share * f))
        scenes = scenes_job.result()

    rate, n = frames.rate, len(frames.thumbs)
    palette_frames = _spread(n, max_frames)
    margin = max(0.05, 1.5 / video.fps)  # frames this close to a cut may show the other shot
    colours = _colours([frames.thumbs[i] for i in palette_frames], PALETTE_SIZE)
    transcript = None
    if listen:
        from reelforge.media.transcribe import transcribe  # faster-whisper loads only when needed

        transcript = transcribe(path, model=whisper_model,
                                on_progress=lambda f: report(visual_share + (1 - visual_share) * f))
    results = []
    for i, scene in enumerate(scenes, 1):
        first = math.ceil((scene.start + margin) * rate - 1e-6)
        inside = list(range(max(0, first), min(n, math.floor((scene.end - margin) * rate + 1e-6) + 1)))
        if not inside:  # a very short scene: the frame nearest its middle
            inside = [min(n - 1, max(0, round((scene.start + scene.end) / 2 * rate)))]
        pairs = [frames.motion[k] for k in inside[1:]]  # each with the frame before it
        camera = _camera(pairs)
        covers = [c for k in inside if (c := frames.text[k]) is not None]
        if not covers:  # a scene shorter than the text sampling: the nearest measured frame
            mid = (scene.start + scene.end) / 2 * rate
            measured = [(abs(k - mid), c) for k, c in enumerate(frames.text) if c is not None]
            covers = [min(measured)[1]] if measured else []
        text = _text_likelihood(covers)
        scene_colours = _colours([frames.thumbs[k] for k in _pick(inside, SCENE_PALETTE_FRAMES)],
                                 SCENE_PALETTE_SIZE)
        said = _words_in(transcript.segments, scene) if transcript is not None else None
        result = SceneAnalysis(index=i, start=scene.start, end=scene.end,
                               duration=round(scene.end - scene.start, 3), camera=camera,
                               text_overlay_likelihood=text, palette=scene_colours.palette,
                               brightness=scene_colours.brightness, speech=said)
        result.description = _scene_description(result, scene_colours)
        results.append(result)

    lengths = [s.duration for s in results]
    cuts = len(results) - 1
    per_minute = 60.0 * cuts / video.duration if video.duration > 0 else 0.0
    tempo = tempo_label(per_minute)
    speech_result = None
    if transcript is not None:
        speech_result = SpeechAnalysis(text=transcript.text, language=transcript.language,
                                       language_probability=transcript.language_probability,
                                       model=transcript.model, segments=transcript.segments)
    analysis = ReferenceAnalysis(
        source=name, mode=mode, duration=round(video.duration, 3), width=video.width,
        height=video.height, fps=video.fps, scene_count=len(results), scenes=results,
        average_shot_s=round(float(np.mean(lengths)), 3), median_shot_s=round(float(np.median(lengths)), 3),
        cuts=cuts, cuts_per_minute=round(per_minute, 2), tempo=tempo, colours=colours,
        has_text_overlay=any(s.has_text_overlay for s in results), speech=speech_result,
        analysed_frames=n, palette_frames=len(palette_frames),
    )
    analysis.overall_tone = f"{PACE_WORDS[tempo]} ({tempo} cutting), {colours.words} colours"
    report(1.0)
    return analysis


def as_contract(analysis: ReferenceAnalysis) -> dict:
    """AutoVio's AnalysisResult (CONTRACTS.md section 3) from the measurements.

    Scenes are 1-based, transitions "cut" (only hard cuts are detected), tempo and camera in
    AutoVio's words (fast|medium|slow, "pan left"). `text_overlay` (the words on screen) is left
    out: nothing reads them here. `notes` says what was measured and how.
    """
    notes = [
        "local provider: measured offline by reelforge, nothing recognised or invented",
        f"scenes: PySceneDetect ContentDetector hard cuts ({analysis.scene_count} scenes, "
        f"average {analysis.average_shot_s:.2f} s, median {analysis.median_shot_s:.2f} s)",
        f"tempo: {analysis.cuts_per_minute:.1f} cuts per minute ({analysis.tempo})",
        f"color_palette: k-means over {analysis.palette_frames} sampled frames, "
        "largest share first: " + ", ".join(f"{s.hex} {s.share:.0%}" for s in analysis.colours.palette),
        "camera_movement: sparse optical flow (Lucas-Kanade + RANSAC) per scene",
        f"has_text_overlay: edge-density heuristic (a scene at >= {TEXT_OVERLAY_THRESHOLD} likelihood); "
        "text_overlay not filled: no OCR",
        "transition: always cut (fades and wipes are not told apart)",
    ]
    if analysis.speech is not None:
        notes.append(f"speech: faster-whisper {analysis.speech.model} ({analysis.speech.language})")
    return {
        "scene_count": analysis.scene_count,
        "overall_tone": analysis.overall_tone,
        "color_palette": [s.hex for s in analysis.colours.palette],
        "tempo": CONTRACT_TEMPO[analysis.tempo],
        "has_text_overlay": analysis.has_text_overlay,
        "scenes": [
            {
                "index": s.index,
                "duration_seconds": round(s.duration, 2),
                "description": s.description,
                "transition": "cut",
                "camera_movement": CONTRACT_CAMERA[s.camera.label],
            }
            for s in analysis.scenes
        ],
        "notes": notes,
    }


def tempo_label(cuts_per_minute: float) -> Tempo:
    for bound, label in TEMPO_THRESHOLDS:
        if cuts_per_minute < bound:
            return label
    return "very fast"


# --- the measuring stream ---------------------------------------------------------------


@dataclass
class _Frames:
    rate: float
    thumbs: list[np.ndarray]  # THUMB_SIZE BGR, one per analysis frame
    text: list[float | None]  # text-line cover of every `text_every`-th frame, else None
    motion: list[tuple[float, float, float] | None]  # vs the frame before: (pan, tilt, zoom) per s


def _stream_geometry(video: VideoSource) -> tuple[Fraction, tuple[int, int]]:
    rate = min(ANALYSIS_FPS, video.fps or ANALYSIS_FPS)
    if video.duration * rate > MAX_ANALYSIS_FRAMES:
        rate = MAX_ANALYSIS_FRAMES / video.duration
    width = min(ANALYSIS_WIDTH, round(video.width * video.sar))
    width = max(2, width // 2 * 2)
    height = max(2, round(width / video.display_aspect / 2) * 2)
    return Fraction(rate).limit_denominator(1000), (width, height)


def _measure_stream(path: str | Path, video: VideoSource, report: Callable[[float], None]) -> _Frames:
    """Decode once at the analysis size and rate and measure every frame as it arrives.

    Frame n is the picture on screen at n / rate (the fps filter's grid from 0). The frames are
    autorotated and square-pixelled, so directions are the viewer's."""
    rate, (w, h) = _stream_geometry(video)
    fw = min(w, FLOW_WIDTH) // 2 * 2
    flow_size = (fw, max(2, round(h * fw / w / 2) * 2))
    text_every = max(1, round(float(rate) / TEXT_FPS))
    args = [
        ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-threads", "1",
        "-skip_loop_filter", "all", *input_options(path), "-i", str(path), "-map", "0:V:0",
        "-vf", f"fps={rate}:start_time=0,scale={w}:{h}:flags=area,setsar=1",
        "-fps_mode", "passthrough", "-pix_fmt", "bgr24", "-f", "rawvideo", "pipe:1",
    ]  # fmt: skip
    frames = _Frames(float(rate), [], [], [])
    expected = max(1, round(video.duration * float(rate)))
    size = w * h * 3
    previous: np.ndarray | None = None
    with tempfile.TemporaryFile() as log:
        try:
            proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log)
        except OSError as exc:
            raise MediaProcessingError(f"cannot start ffmpeg: {exc}") from exc
        try:
            assert proc.stdout is not None
            while len(data := proc.stdout.read(size)) == size:
                bgr = np.frombuffer(data, np.uint8).reshape(h, w, 3)
                full = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
                gray = cv2.resize(full, flow_size, interpolation=cv2.INTER_AREA) if flow_size != (w, h) else full
                frames.thumbs.append(cv2.resize(bgr, THUMB_SIZE, interpolation=cv2.INTER_AREA))
                k = len(frames.text)
                frames.text.append(text_cover(full) if k % text_every == 0 else None)
                step = frame_motion(previous, gray) if previous is not None else None
                frames.motion.append(None if step is None else
                                     (step[0] / flow_size[0] * float(rate), step[1] / flow_size[0] * float(rate),
                                      step[2] * float(rate)))
                previous = gray
                if len(frames.thumbs) % 25 == 0:
                    report(min(0.99, len(frames.thumbs) / expected))
        except BaseException:
            proc.kill()  # it would block on a full pipe that nobody reads any more
            raise
        finally:
            code = proc.wait()
            if proc.stdout:
                proc.stdout.close()
        if code != 0 or not frames.thumbs:
            log.seek(0)
            said = " | ".join(log.read().decode("utf-8", "replace").strip().splitlines()[-3:])
            said = said.replace(str(path), display_name(path)) or f"ffmpeg exit status {code}"
            if not frames.thumbs:
                raise InvalidMediaError(f"cannot decode the video of {display_name(path)}: {said}")
            raise MediaProcessingError(
                f"analysis failed on {display_name(path)} after {len(frames.thumbs)} frames: {said}")
    report(1.0)
    return frames


# --- camera ---------------------------------------------------------------------------


def frame_motion(prev: np.ndarray, cur: np.ndarray) -> tuple[float, float, float] | None:
    """The picture's global motion from gray frame `prev` to `cur`: (dx, dy, log scale) at the
    frame's centre, in pixels; None when there is too little texture to track.

    Corners tracked both ways (pyramidal Lucas-Kanade, forward-backward error <= FB_MAX_PX),
    then a similarity transform (shift, scale, rotation) fitted with RANSAC."""
    h, w = prev.shape
    pts = cv2.goodFeaturesToTrack(prev, maxCorners=MAX_CORNERS, qualityLevel=0.01, minDistance=6, blockSize=7)
    if pts is None or len(pts) < MIN_TRACKS:
        return None
    lk = {"winSize": (15, 15), "maxLevel": 3,
          "criteria": (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 30, 0.01)}
    nxt, ok, _ = cv2.calcOpticalFlowPyrLK(prev, cur, pts, None, **lk)
    back, ok_back, _ = cv2.calcOpticalFlowPyrLK(cur, prev, nxt, None, **lk)
    good = (ok.ravel() == 1) & (ok_back.ravel() == 1) & (np.linalg.norm((back - pts)[:, 0], axis=1) <= FB_MAX_PX)
    if good.sum() < MIN_TRACKS:
        return None
    m, inliers = cv2.estimateAffinePartial2D(pts[good], nxt[good], method=cv2.RANSAC,
                                             ransacReprojThreshold=RANSAC_PX, maxIters=500, refineIters=10)
    if m is None or inliers is None or int(inliers.sum()) < MIN_TRACKS:
        return None
    scale = math.hypot(m[0, 0], m[1, 0])
    cx, cy = w / 2, h / 2
    dx = m[0, 0] * cx + m[0, 1] * cy + m[0, 2] - cx
    dy = m[1, 0] * cx + m[1, 1] * cy + m[1, 2] - cy
    return float(dx), float(dy), math.log(max(scale, 1e-6))


def movement_label(pan: float, tilt: float, zoom: float) -> Movement:
    """The camera's move for the picture's motion (widths/s, log scale/s; see CameraMovement)."""
    speeds = {"pan": abs(pan), "tilt": abs(tilt), "zoom": abs(zoom) / 2}
    kind = max(speeds, key=lambda k: speeds[k])
    if speeds[kind] < MOVE_MIN:
        return "static"
    if kind == "pan":
        return "pan_left" if pan > 0 else "pan_right"
    if kind == "tilt":
        return "tilt_up" if tilt > 0 else "tilt_down"
    return "zoom_in" if zoom > 0 else "zoom_out"


def _camera(pairs: Sequence[tuple[float, float, float] | None]) -> CameraMovement:
    measured = [p for p in pairs if p is not None]
    if not measured:
        return CameraMovement(label="static", magnitude=0.0, confidence=0.0, pairs=0)
    pan, tilt, zoom = (float(np.median([p[i] for p in measured])) for i in range(3))
    label = movement_label(pan, tilt, zoom)
    agree = sum(movement_label(*p) == label for p in measured)
    return CameraMovement(label=label, magnitude=round(max(abs(pan), abs(tilt), abs(zoom) / 2), 4),
                          confidence=round(agree / len(pairs), 3), pan=round(pan, 4),
                          tilt=round(tilt, 4), zoom=round(zoom, 4), pairs=len(measured))


# --- text -----------------------------------------------------------------------------


def text_cover(gray: np.ndarray) -> float:
    """Share of a gray frame covered by bands that look like lines of overlaid text (heuristic).

    Looked at twice, at the frame's size (subtitles) and at half of it (titles), keeping the
    larger answer; see `_text_lines`. Luma only: text as bright as the picture behind it
    (yellow on light grey, without an outline) is missed."""
    half = cv2.resize(gray, (gray.shape[1] // 2, gray.shape[0] // 2), interpolation=cv2.INTER_AREA)
    return max(_text_lines(gray), _text_lines(half))


def _text_lines(gray: np.ndarray) -> float:
    """Text-line cover at one scale.

    1. Stroke edges: strong horizontal-gradient edges of the luma with an edge of
       the opposite sign within a stroke's width: the two sides of a letter's vertical stroke.
       An object's outline is one edge, not such a pair.
    2. They are closed along each row into segments; a segment that crosses many strokes for
       its length (letters, not a bar or an outline) marks its row as text.
    3. Marked rows stacked at least a text line's minimum height, in a band of a text line's
       height and at least twice as wide, count as a line of text.
    """
    h, w = gray.shape
    gx = cv2.Sobel(gray, cv2.CV_16S, 1, 0, ksize=3)
    pos, neg = gx >= TEXT_EDGE_MIN, gx <= -TEXT_EDGE_MIN
    reach = np.ones((1, 2 * max(2, round(w * TEXT_STROKE_WIDTH)) + 1), np.uint8)
    near_neg = cv2.dilate(neg.view(np.uint8), reach).view(bool)
    near_pos = cv2.dilate(pos.view(np.uint8), reach).view(bool)
    strokes = ((pos & near_neg) | (neg & near_pos)).view(np.uint8)
    gap = cv2.getStructuringElement(cv2.MORPH_RECT, (max(3, round(w * TEXT_LETTER_GAP)), 1))
    closed = cv2.morphologyEx(strokes, cv2.MORPH_CLOSE, gap)
    # Each row's segments (runs of `closed`), numbered across the frame, and the strokes each crosses.
    pad = np.zeros((h, 1), np.int8)
    starts = np.diff(np.hstack([pad, closed.view(np.int8)]), axis=1) == 1
    segment = np.cumsum(starts.ravel()).reshape(h, w) * closed
    crossing = (np.diff(np.hstack([pad, strokes.view(np.int8)]), axis=1) == 1) & (closed == 1)
    count = int(segment.max()) + 1
    length = np.bincount(segment.ravel(), minlength=count)
    crossings = np.bincount(segment.ravel(), weights=crossing.ravel(), minlength=count)
    texty = (length >= TEXT_MIN_SEGMENT * w) & (crossings >= TEXT_MIN_STROKES)
    texty &= crossings * TEXT_STROKE_SPACING * w >= length
    texty[0] = False
    rows = texty[segment].view(np.uint8)
    lo, hi = max(2, round(TEXT_LINE_HEIGHT[0] * h)), TEXT_LINE_HEIGHT[1] * h
    # Mend the holes that letter gaps and serifs leave, then drop stacks too thin for a line.
    rows = cv2.morphologyEx(rows, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (gap.shape[1], 3)))
    rows = cv2.morphologyEx(rows, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, lo)))
    n, _, stats, _ = cv2.connectedComponentsWithStats(rows, connectivity=4)
    cover = 0
    for _x, _y, bw, bh, area in stats[1:n]:
        if lo <= bh <= hi and bw >= TEXT_MIN_ASPECT * bh and area >= TEXT_MIN_FILL * bw * bh:
            cover += bw * bh
    return cover / (w * h)


def _text_likelihood(covers: Sequence[float]) -> float:
    """A scene's likelihood from its frames' text cover: the 75th percentile, so text on
    a quarter of the frames is enough and one busy frame is not."""
    if not covers:
        return 0.0
    cover = float(np.percentile(covers, 75))
    return round(1.0 - math.exp(-cover / TEXT_COVER_SCALE), 3)


# --- colour ---------------------------------------------------------------------------


def _colours(thumbs: Sequence[np.ndarray], k: int) -> Colours:
    if not thumbs:
        return Colours(palette=[], brightness=0.0, saturation=0.0, warmth=0.0)
    bgr = np.concatenate([t.reshape(-1, 3) for t in thumbs])
    rgb = bgr[:, ::-1].astype(np.float32)
    luma = (0.299 * rgb[:, 0] + 0.587 * rgb[:, 1] + 0.114 * rgb[:, 2]).mean() / 255
    hsv = cv2.cvtColor(bgr.reshape(-1, 1, 3), cv2.COLOR_BGR2HSV).reshape(-1, 3)
    saturation = hsv[:, 1].mean() / 255
    warmth = (rgb[:, 0] - rgb[:, 2]).mean() / 255
    return Colours(palette=palette(bgr, k), brightness=round(float(luma), 3),
                   saturation=round(float(saturation), 3), warmth=round(float(warmth), 3))


def palette(bgr: np.ndarray, k: int = PALETTE_SIZE) -> list[Swatch]:
    """Dominant colours of `bgr` pixels (N x 3 uint8): k-means in CIELAB with a fixed seed,
    near-equal clusters merged, each colour the mean sRGB of its pixels, largest share first."""
    pixels = bgr.reshape(-1, 3)
    lab = cv2.cvtColor((pixels.astype(np.float32) / 255).reshape(-1, 1, 3), cv2.COLOR_BGR2Lab).reshape(-1, 3)
    if len(pixels) == 0:
        return []
    k = max(1, min(k, len(pixels) // 2))
    if k == 1:
        labels = np.zeros(len(pixels), np.int32)
    else:
        cv2.setRNGSeed(KMEANS_SEED)
        criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_MAX_ITER, 30, 0.1)
        _, labels, _ = cv2.kmeans(np.ascontiguousarray(lab), k, None, criteria, KMEANS_ATTEMPTS,
                                  cv2.KMEANS_PP_CENTERS)
        labels = labels.ravel()
    groups = [np.flatnonzero(labels == c) for c in range(k)]
    groups = [g for g in groups if len(g)]
    # Merge clusters that are one colour (k-means splits a flat colour when k is too big).
    merged: list[np.ndarray] = []
    for g in sorted(groups, key=len, reverse=True):
        centre = lab[g].mean(axis=0)
        for i, m in enumerate(merged):
            if np.linalg.norm(lab[m].mean(axis=0) - centre) < MERGE_DELTA_E:
                merged[i] = np.concatenate([m, g])
                break
        else:
            merged.append(g)
    total = len(pixels)
    swatches = []
    for g in sorted(merged, key=len, reverse=True):
        share = len(g) / total
        if share < MIN_SHARE:
            continue
        b, gr, r = (int(round(v)) for v in pixels[g].astype(np.float64).mean(axis=0))
        swatches.append(Swatch(hex=f"#{r:02x}{gr:02x}{b:02x}", share=round(share, 3)))
    return swatches


# --- helpers --------------------------------------------------------------------------


def _spread(n: int, most: int) -> list[int]:
    """Up to `most` indices spread evenly over range(n)."""
    if n <= most:
        return list(range(n))
    return sorted({round(i * (n - 1) / (most - 1)) for i in range(most)}) if most > 1 else [n // 2]


def _pick(items: Sequence[int], most: int) -> list[int]:
    return [items[i] for i in _spread(len(items), most)]


def _word(value: float, bounds: Sequence[tuple[float, str]], top: str) -> str:
    return next((word for bound, word in bounds if value < bound), top)


def _words_in(segments: Sequence[TranscriptSegment], scene: Scene) -> str:
    """The words whose middle falls in the scene (segments without word times: by segment)."""
    words = []
    for seg in segments:
        if seg.words:
            words += [w.word.strip() for w in seg.words if scene.start <= (w.start + w.end) / 2 < scene.end]
        elif scene.start <= (seg.start + seg.end) / 2 < scene.end:
            words.append(seg.text.strip())
    return " ".join(w for w in words if w)


def _camera_verb(label: str) -> str:
    return {"static": "is static", "pan_left": "pans left", "pan_right": "pans right",
            "tilt_up": "tilts up", "tilt_down": "tilts down", "zoom_in": "zooms in",
            "zoom_out": "zooms out"}[label]


def _swatches(swatches: Sequence[Swatch], most: int = 5) -> str:
    return ", ".join(f"{s.hex} ({s.share:.0%})" for s in swatches[:most])


def _clip(text: str, most: int) -> str:
    return text if len(text) <= most else text[: most - 1].rstrip() + "…"


def _scene_description(scene: SceneAnalysis, colours: Colours) -> str:
    cam = scene.camera
    if cam.label != "static":
        if cam.label.startswith("zoom"):
            speed = f"{math.expm1(abs(cam.zoom)):.0%} scale change per second"
        else:
            speed = f"{cam.magnitude:.0%} of the frame width per second"
        camera = f"camera {_camera_verb(cam.label)} ({speed}, confidence {cam.confidence:.2f})"
    elif cam.pairs == 0:
        camera = "no camera movement measurable (too little texture to track)"
    else:
        camera = f"static camera (confidence {cam.confidence:.2f})"
    text = ("text overlay likely" if scene.has_text_overlay else "no text overlay detected")
    parts = [f"Scene {scene.index}, {scene.start:.2f}-{scene.end:.2f} s ({scene.duration:.2f} s): {camera}",
             f"colours {_swatches(scene.palette, 3)}" if scene.palette else "",
             f"{colours.words} (brightness {colours.brightness:.2f})",
             f"{text} ({scene.text_overlay_likelihood:.2f})"]
    if scene.speech is not None:
        parts.append(f'speech: "{_clip(scene.speech, 160)}"' if scene.speech else "no speech")
    return "; ".join(p for p in parts if p) + "."


def _methods(analysis: ReferenceAnalysis) -> str:
    used = ["PySceneDetect cuts", "k-means colours", "optical-flow camera", "edge-heuristic text"]
    if analysis.speech is not None:
        used.append(f"faster-whisper {analysis.speech.model} speech")
    return ", ".join(used)

