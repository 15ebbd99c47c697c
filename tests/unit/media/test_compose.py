"""Narrated slide videos from pieces (media.compose): frame-exact timeline, Ken Burns motion,
crossfades, captions, loudness, and a lossless join; all measured on the rendered files."""

from __future__ import annotations

import wave
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from reelforge.media import compose
from reelforge.media.captions import build_ass
from reelforge.media.slides import Box, SlideArt
from reelforge.media.tts import synthesize
from reelforge.models import Word

SIZE = (320, 180)


def _art(tmp: Path, name: str, colour: tuple[int, int, int], panel: bool = False) -> SlideArt:
    background = tmp / f"{name}.png"
    Image.new("RGB", SIZE, colour).save(background)
    if not panel:
        return SlideArt(background, None, None)
    box = Box(180, 40, 120, 100)
    # A panel with a photo's kind of detail (blurred noise), drawn 1.25x its box.
    rng = np.random.default_rng(7)
    noise = Image.fromarray((rng.random((6, 8, 3)) * 255).astype(np.uint8)).resize((150, 125), Image.BICUBIC)
    path = tmp / f"{name}-panel.png"
    noise.save(path)
    return SlideArt(background, path, box)


def _frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24").astype(np.int16) for f in container.decode(video=0)]


def _wav(path: Path, seconds: float, freq: float, rate: int = 22050, level: float = 0.3) -> Path:
    t = np.arange(round(seconds * rate)) / rate
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((level * np.sin(2 * np.pi * freq * t) * 32767).astype("<i2").tobytes())
    return path


def test_windows_are_whole_frames_and_spans_plus_fades_cover_them() -> None:
    windows = compose.plan_windows([2.0, 3.5, 1.2])
    assert windows[0].start == 0 and windows[1].start == windows[0].frames
    assert windows[0].frames == round((compose.LEAD_S + 2.0 + compose.TAIL_S) * compose.FPS)
    spans = [compose.body_span(windows, i)[1] for i in range(3)]
    assert sum(spans) + 2 * compose.FADE_HALF * 2 == sum(w.frames for w in windows)
    assert compose.body_span(windows, 0)[0] == 0 and compose.body_span(windows, 1)[0] == compose.FADE_HALF
    # the fade sits in the quiet between narrations
    assert min(compose.LEAD_S, compose.TAIL_S) >= compose.FADE_HALF / compose.FPS


def test_pieces_join_losslessly_into_the_exact_timeline(tmp_path: Path) -> None:
    dark, light = _art(tmp_path, "dark", (20, 20, 20)), _art(tmp_path, "light", (230, 230, 230), panel=True)
    windows = compose.plan_windows([1.0, 1.5])
    pieces = []
    for i, art in enumerate((dark, light)):
        first, count = compose.body_span(windows, i)
        pieces.append(compose.render_span(art, first, count, out=tmp_path / f"span{i}.mp4",
                                          slide_frames=windows[i].frames))
        if i == 0:
            pieces.append(compose.render_crossfade(dark, light, windows, 0, out=tmp_path / "fade.mp4"))
    narration = compose.mix_narration([(_wav(tmp_path / "a.wav", 1.0, 440), windows[0].speech_at),
                                       (_wav(tmp_path / "b.wav", 1.5, 660), windows[1].speech_at)],
                                      total=windows[-1].end_s, out=tmp_path / "narration.wav")
    video = compose.join(pieces, narration, tmp_path / "video.mp4")
    frames = _frames(video)
    assert len(frames) == sum(w.frames for w in windows)
    with av.open(str(video)) as container:
        assert container.streams.audio[0].rate == compose.AUDIO_RATE
        assert float(container.duration / av.time_base) == pytest.approx(windows[-1].end_s, abs=0.1)
    # the join copied the pieces: the first span's frames are the video's first frames, bit for bit
    first_span = _frames(pieces[0])
    assert all(np.array_equal(a, b) for a, b in zip(first_span, frames, strict=False))
    # the crossfade ramps from one slide to the other
    fade = [f[:, :150].mean() for f in frames[windows[1].start - compose.FADE_HALF:windows[1].start + compose.FADE_HALF]]
    assert fade[0] < 60 and fade[-1] > 190 and fade == sorted(fade)
    assert 80 < fade[len(fade) // 2] < 170


def test_ken_burns_moves_the_panel_and_nothing_else(tmp_path: Path) -> None:
    art = _art(tmp_path, "slide", (40, 80, 120), panel=True)
    out = compose.render_span(art, 0, 60, out=tmp_path / "span.mp4", slide_frames=60)
    frames = _frames(out)
    box = art.panel_box
    inside = [f[box.y:box.y + box.h, box.x:box.x + box.w] for f in (frames[0], frames[-1])]
    zoomed = np.abs(inside[0] - inside[1]).mean()
    assert zoomed > 5  # the panel zoomed
    outside = [f[:, :box.x - 4] for f in (frames[0], frames[-1])]
    assert np.abs(outside[0] - outside[1]).mean() < 1.0  # the slide around it holds still
    # smooth: no single step between frames is a jump
    steps = [np.abs(frames[i][box.y:box.y + box.h, box.x:box.x + box.w]
                    - frames[i + 1][box.y:box.y + box.h, box.x:box.x + box.w]).mean() for i in range(59)]
    assert max(steps) < 0.3 * zoomed, steps  # many small steps (the zoom moves in 2 px steps)
    assert sum(1 for x in steps if x > 0.5) >= 8  # and it keeps moving, not once at the end


def test_captions_are_burned_into_their_span(tmp_path: Path) -> None:
    art = _art(tmp_path, "plain", (30, 30, 60))
    words = [Word(word="hello", start=0.1, end=0.6), Word(word="world", start=0.6, end=1.2)]
    ass = build_ass(words, clip_start=0.0, clip_end=1.5, width=SIZE[0], height=SIZE[1], style="karaoke")
    with_text = _frames(compose.render_span(art, 0, 45, out=tmp_path / "c.mp4", slide_frames=45, captions=ass))
    without = _frames(compose.render_span(art, 0, 45, out=tmp_path / "n.mp4", slide_frames=45))
    inked = (np.abs(with_text[15] - without[15]).max(axis=2) > 60).sum()
    assert inked > 40  # words on screen at 0.5 s
    # a span that starts later sees the captions shifted to its own start
    late = _frames(compose.render_span(art, 30, 15, out=tmp_path / "l.mp4", slide_frames=45, captions=ass))
    assert np.abs(late[0] - with_text[30]).mean() < 2.0


def test_narration_is_placed_and_normalised(tmp_path: Path) -> None:
    speech = synthesize("Loudness is measured, then one gain brings it to target.", tmp_path / "s.wav")
    quiet = tmp_path / "quiet.wav"
    with wave.open(str(speech.path)) as src, wave.open(str(quiet), "wb") as dst:
        dst.setparams(src.getparams())
        data = np.frombuffer(src.readframes(src.getnframes()), dtype="<i2") * 0.1
        dst.writeframes(data.astype("<i2").tobytes())
    total = speech.duration + 3.0
    out = compose.mix_narration([(quiet, 2.0)], total=total, out=tmp_path / "mixed.wav")
    loudness = compose.measure_loudness(out)
    assert loudness == pytest.approx(compose.LOUDNESS_LUFS, abs=1.0)
    with wave.open(str(out)) as w:
        rate = w.getframerate()
        samples = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32) / 32768
    assert len(samples) / rate == pytest.approx(total, abs=0.01)
    assert np.abs(samples).max() <= 10 ** (compose.PEAK_DBFS / 20) + 1e-3
    assert np.abs(samples[: int(1.9 * rate)]).max() < 1e-3  # quiet before the offset
    assert np.sqrt((samples[int(2.2 * rate):int(3.0 * rate)] ** 2).mean()) > 0.02
    assert compose.measure_loudness(_wav(tmp_path / "silent.wav", 1.0, 440, level=0.0)) is None


def test_a_still_slide_is_one_gop_repeated_and_looks_the_same(tmp_path: Path) -> None:
    art = _art(tmp_path, "still", (90, 30, 30))
    count = 2 * compose.GOP + 7
    still = compose.render_span(art, 0, count, out=tmp_path / "still.mp4", slide_frames=count)
    frames = _frames(still)
    assert len(frames) == count
    assert max(np.abs(f - frames[0]).max() for f in frames) <= 2
    with av.open(str(still)) as container:
        keys = [i for i, p in enumerate(container.demux(video=0)) if p.is_keyframe]
    assert keys[:3] == [0, compose.GOP, 2 * compose.GOP]  # the GOP structure a full encode has
