"""render_composition / preview_frame on a small timeline built from generated sources: two
transitions, text in a given font, a rotated half-transparent image and a music track,
measured on the rendered file (frame count, blends, boxes, opacity, loudness) and on previews
of the same timeline."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from reelforge.errors import BadRequest
from reelforge.media.composition import (
    TRANSITIONS,
    AudioTrack,
    Clip,
    Composition,
    CompositionError,
    ImageOverlay,
    Segment,
    TextOverlay,
    Transition,
    UnknownTransitionError,
    escape_text,
    filter_graph,
    preview_frame,
    render_composition,
    segments,
)
from reelforge.media.ffmpeg import run_ffmpeg

BOLD = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
W, H, FPS = 360, 640, 25
YELLOW = "#ffff00"
pytestmark = pytest.mark.skipif(not BOLD.is_file(), reason="needs fonts-dejavu-core")


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("composition")
    x264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    tone = ["-f", "lavfi", "-i", "sine=f=440:r=44100:d=3"]
    # A: blue, portrait, 30 fps, a 440 Hz tone. B: green, landscape, 25 fps, silent.
    # C: grey whose brightness steps every source frame (tells frames apart), with the tone.
    run_ffmpeg(["-f", "lavfi", "-i", "color=c=0x2040c0:s=320x568:r=30:d=3", *tone,
                *x264, "-c:a", "aac", "-shortest", d / "a.mp4"])
    run_ffmpeg(["-f", "lavfi", "-i", "color=c=0x20b040:s=480x270:r=25:d=3", *x264, d / "b.mp4"])
    ramp = "nullsrc=s=320x568:r=30:d=3,geq=lum='mod(N*8\\,200)+20':cb=128:cr=128"
    run_ffmpeg(["-f", "lavfi", "-i", ramp, *tone, *x264, "-c:a", "aac", "-shortest", d / "c.mp4"])
    run_ffmpeg(["-f", "lavfi", "-i", "sine=f=1000:r=44100:d=8", d / "music.wav"])
    # 280x160 with a 20 px transparent margin round an opaque white 240x120 box.
    img = Image.new("RGBA", (280, 160), (0, 0, 0, 0))
    ImageDraw.Draw(img).rectangle([20, 20, 259, 139], fill=(255, 255, 255, 255))
    img.save(d / "box.png")
    return {p.stem: p for p in d.iterdir()}


def timeline(media: dict[str, Path], music_volume: float = 1.0) -> Composition:
    """6 s at 25 fps: A [0, 2.4), fade 0.4 into B [2.0, 4.4), wipeleft 0.4 into C [4.0, 6.0)."""
    return Composition(
        W, H, FPS,
        clips=[
            Clip(media["a"], 0.0, 2.4),
            Clip(media["b"], 2.0, 4.4, trim_start=0.3, transition=Transition("fade", 0.4)),
            Clip(media["c"], 4.0, 6.0, trim_start=0.5, transition=Transition("wipeleft", 0.4)),
        ],
        texts=[
            TextOverlay("Hi", 0.2, 1.0, 180, 200, 40, color=YELLOW, font=BOLD),  # frames 5..24
            TextOverlay("Hi", 1.0, 1.9, 180, 400, 80, color=YELLOW, font=BOLD),  # frames 25..47
        ],
        # fits 140x140 -> 140x80 (opaque 120x60), 30 degrees clockwise; frames 65..94
        images=[ImageOverlay(media["box"], 2.6, 3.8, 200, 300, 140, 140, opacity=0.5, rotation=30)],
        audio=[AudioTrack(media["music"], start=0.5, volume=music_volume, trim_start=0.2)],
    )  # fmt: skip


def decode(path: Path) -> tuple[list[np.ndarray], np.ndarray]:
    frames: list[np.ndarray] = []
    with av.open(str(path)) as c:
        for f in c.decode(video=0):
            frames.append(f.to_ndarray(format="rgb24").astype(np.int16))
    with av.open(str(path)) as c:
        pcm = np.concatenate([f.to_ndarray() for f in c.decode(audio=0)], axis=1)
    return frames, pcm


@pytest.fixture(scope="module")
def rendered(media: dict[str, Path], tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("render") / "export.mp4"
    result = render_composition(timeline(media), out, preset="ultrafast", crf=18)
    return result, *decode(out)


@pytest.fixture(scope="module")
def frames(rendered) -> list[np.ndarray]:
    return rendered[1]


def centre(img: np.ndarray) -> np.ndarray:
    """Mean RGB of a patch clear of every overlay."""
    return img[460:540, 100:260].reshape(-1, 3).mean(axis=0)


def ink(text: str, size: int) -> tuple[int, int]:
    """Width and height of `text` drawn by FreeType (PIL) in the test font: its ink box."""
    canvas = Image.new("L", (20 * size, 4 * size))
    ImageDraw.Draw(canvas).text((size, size), text, font=ImageFont.truetype(str(BOLD), size), fill=255)
    ys, xs = np.nonzero(np.asarray(canvas) > 128)
    return int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)


def yellow_box(img: np.ndarray) -> tuple[float, float, int, int] | None:
    """(centre x, centre y, width, height) of the text-coloured pixels."""
    ys, xs = np.nonzero((img[..., 0] > 150) & (img[..., 1] > 150) & (img[..., 2] < 100))
    if not len(xs):
        return None
    return ((xs.min() + xs.max()) / 2, (ys.min() + ys.max()) / 2,
            xs.max() - xs.min() + 1, ys.max() - ys.min() + 1)


def test_exact_frames_and_streams(rendered) -> None:
    result, frames, _ = rendered
    assert result.frames == len(frames) == round(6.0 * FPS) == 150
    assert result.duration == pytest.approx(6.0)
    with av.open(str(result.path)) as c:
        v, a = c.streams.video[0], c.streams.audio[0]
        assert (v.codec_context.name, v.codec_context.pix_fmt) == ("h264", "yuv420p")
        assert (v.codec_context.width, v.codec_context.height) == (W, H)
        assert v.average_rate == FPS
        assert (a.codec_context.name, a.codec_context.sample_rate) == ("aac", 48000)
        assert a.codec_context.channels == 2
        assert float(a.duration * a.time_base) == pytest.approx(6.0, abs=0.03)


def test_fade_blends_inside_its_window_only(frames) -> None:
    blue, green = centre(frames[40]), centre(frames[70])
    assert blue[2] > 150 and green[1] > 150
    # The window is timeline frames [50, 60): B starts at 2.0 s, A ends at 2.4 s.
    assert np.abs(centre(frames[49]) - blue).max() < 2
    assert np.abs(centre(frames[60]) - green).max() < 2
    for k in range(10):
        expected = blue + (green - blue) * (k + 1) / 11  # every frame of the window blends
        assert np.abs(centre(frames[50 + k]) - expected).max() < 4, k


def test_wipe_moves_across_its_window(frames) -> None:
    def green_share(i: int) -> float:
        band = frames[i][560:600]  # below the overlays
        return float((np.abs(band - frames[70][560:600]).sum(axis=-1) < 30).mean())

    assert green_share(99) == 1.0 and green_share(110) == 0.0  # window [100, 110)
    shares = [green_share(100 + k) for k in range(10)]
    assert all(0.02 < s < 0.98 for s in shares)
    assert all(a > b for a, b in zip(shares, shares[1:], strict=False))
    assert shares[4] == pytest.approx(1 - 5 / 11, abs=0.05)


def test_text_box_centred_and_scaled_by_font_size(frames) -> None:
    assert yellow_box(frames[4]) is None and yellow_box(frames[48]) is None
    small, big = yellow_box(frames[5]), yellow_box(frames[25])
    assert small is not None and big is not None
    assert yellow_box(frames[24]) == small
    assert small[:2] == pytest.approx((180, 200), abs=2)
    assert big[:2] == pytest.approx((180, 400), abs=2)
    assert big[3] / small[3] == pytest.approx(2.0, rel=0.1)
    assert big[2:] == pytest.approx(ink("Hi", 80), abs=2)  # the font's own glyphs, unscaled
    assert small[2:] == pytest.approx(ink("Hi", 40), abs=2)


def test_image_overlay_position_rotation_and_opacity(frames) -> None:
    background = frames[62]  # B alone, no overlay

    def changed(i: int) -> tuple[np.ndarray, np.ndarray]:
        return np.nonzero(np.abs(frames[i] - background).sum(axis=-1) > 30)

    assert not len(changed(64)[0]) and not len(changed(95)[0])  # frames [65, 95)
    ys, xs = changed(80)
    # 120x60 turned 30 degrees: 120 cos + 60 sin by 120 sin + 60 cos.
    c, s = np.cos(np.radians(30)), np.sin(np.radians(30))
    assert xs.max() - xs.min() + 1 == pytest.approx(120 * c + 60 * s, abs=3)
    assert ys.max() - ys.min() + 1 == pytest.approx(120 * s + 60 * c, abs=3)
    assert ((xs.min() + xs.max()) / 2, (ys.min() + ys.max()) / 2) == pytest.approx((200, 300), abs=2)
    # The corners of the turned picture are transparent: the clip shows at the corners of
    # its bounding box. Clockwise: the top-left corner of the box became its highest point.
    for y, x in ((ys.min(), xs.min()), (ys.min(), xs.max()), (ys.max(), xs.min()), (ys.max(), xs.max())):
        assert np.abs(frames[80][y, x] - background[y, x]).max() < 8
    assert xs[ys <= ys.min() + 2].mean() == pytest.approx(200 - (60 * c - 30 * s), abs=4)
    # At half opacity white over green is their midpoint.
    mid = (np.array([255, 255, 255]) + background[300, 200]) / 2
    assert np.abs(frames[80][295:306, 195:206].reshape(-1, 3).mean(axis=0) - mid).max() < 6


def _band(pcm: np.ndarray, a: float, b: float, hz: float) -> float:
    x = pcm[0, int(a * 48000) : int(b * 48000)]
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    freqs = np.fft.rfftfreq(len(x), 1 / 48000)
    return float(spectrum[np.abs(freqs - hz) < 20].max() / len(x))


def _rms(pcm: np.ndarray, a: float, b: float) -> float:
    x = pcm[0, int(a * 48000) : int(b * 48000)]
    return float(np.sqrt(np.mean(x.astype(np.float64) ** 2)))


def test_audio_mix_and_music_volume(rendered, media: dict[str, Path], tmp_path: Path) -> None:
    _, _, pcm = rendered
    # Before the music starts (0.5 s): A's tone alone; B is silent, so B's stretch
    # [2.4, 4.0) carries only the music; C brings the tone back.
    assert _band(pcm, 0.0, 0.45, 440) > 0.01 and _band(pcm, 0.0, 0.45, 1000) < 1e-3
    assert _band(pcm, 2.5, 3.9, 440) < 1e-3 and _band(pcm, 2.5, 3.9, 1000) > 0.01
    assert _band(pcm, 4.5, 5.9, 440) > 0.01 and _band(pcm, 4.5, 5.9, 1000) > 0.01
    half = render_composition(timeline(media, music_volume=0.5), tmp_path / "half.mp4",
                              preset="ultrafast")
    _, pcm_half = decode(half.path)
    db = 20 * np.log10(_rms(pcm, 2.5, 3.9) / _rms(pcm_half, 2.5, 3.9))
    assert db == pytest.approx(6.02, abs=0.3)


def test_preview_is_the_exported_frame(rendered, media: dict[str, Path], tmp_path: Path) -> None:
    _, frames, _ = rendered
    comp = timeline(media)
    # text, fade, image, wipe, C's ramp, the very end (its last frame)
    for t in (0.5, 2.2, 3.0, 4.2, 5.5, 6.0):
        k = min(int(t * FPS + 1e-6), 149)
        shot = np.asarray(Image.open(preview_frame(comp, t, tmp_path / f"p{t}.jpg")), np.int16)
        assert shot.shape == (H, W, 3)
        diff = np.abs(shot - frames[k]).mean()
        assert diff < 2.5, (t, diff)
        if t in (2.2, 4.2, 5.5):  # frames that change every frame: the neighbours differ
            assert min(np.abs(shot - frames[j]).mean() for j in (k - 1, k + 1)) > 2 * diff + 2


def test_text_escaping_and_newline(media: dict[str, Path], tmp_path: Path) -> None:
    text = "a:b'c%d\\e\nline, [2];"
    comp = Composition(W, H, FPS, clips=[Clip(media["b"], 0.0, 1.0)],
                       texts=[TextOverlay(text, 0.0, 1.0, 180, 320, 30, font=BOLD)])
    assert escape_text("a:b'c%d\\e") == "a\\\\:b\\\\\\'c%d\\\\\\\\e"
    shot = np.asarray(Image.open(preview_frame(comp, 0.5, tmp_path / "esc.jpg")), np.int16)
    white = (shot > 200).all(axis=-1)
    rows = np.nonzero(white.any(axis=1))[0]
    lines = np.split(rows, np.nonzero(np.diff(rows) > 1)[0] + 1)
    assert len(lines) == 2  # the newline broke the line, nothing was dropped
    for band, line in zip(lines, text.split("\n"), strict=True):
        cols = np.nonzero(white[band].any(axis=0))[0]
        assert cols.max() - cols.min() + 1 == pytest.approx(ink(line, 30)[0], abs=2), line
        assert (cols.min() + cols.max()) / 2 == pytest.approx(180, abs=2)  # centred lines


def test_gaps_show_the_background_and_contain_fits(media: dict[str, Path], tmp_path: Path) -> None:
    comp = Composition(W, H, FPS, background="#ff0000",
                       clips=[Clip(media["b"], 0.5, 1.5, fit="contain")],
                       texts=[TextOverlay("end", 1.6, 2.0, 180, 320, 30)])
    assert comp.frames == 50
    assert segments(comp) == [Segment(0, 13), Segment(13, 38, 0), Segment(38, 50)]  # halves up
    red = np.array([255, 0, 0])
    gap = np.asarray(Image.open(preview_frame(comp, 0.2, tmp_path / "gap.jpg")), np.int16)
    assert np.abs(gap.reshape(-1, 3).mean(axis=0) - red).max() < 6
    shot = np.asarray(Image.open(preview_frame(comp, 1.0, tmp_path / "fit.jpg")), np.int16)
    assert np.abs(shot[20, 180] - red).max() < 12 and np.abs(shot[620, 180] - red).max() < 12
    assert shot[320, 180, 1] > 150 and shot[320, 180, 0] < 60  # 480x270 -> 360x202 in the middle
    # A source shorter than its clip (B has 3 s) holds its last frame.
    held = Composition(W, H, FPS, clips=[Clip(media["b"], 0.0, 4.0, trim_start=0.5)])
    shot = np.asarray(Image.open(preview_frame(held, 3.8, tmp_path / "held.jpg")), np.int16)
    assert np.abs(shot[320, 180] - np.array([31, 173, 62])).max() < 12


def test_filter_graph_is_one_graph_and_windows_read_only_what_is_on_screen(
    media: dict[str, Path],
) -> None:
    comp = timeline(media)
    whole = filter_graph(comp)
    assert len(whole.inputs) == 5  # three clips, the image, the music: each read once
    assert whole.graph.count("xfade=") == 2 and "concat=n=5" in whole.graph
    assert whole.audio == "[a]" and whole.frames == 150
    one = filter_graph(comp, window=(55, 56), audio=False)  # inside the fade
    assert [opts[-1] for opts in one.inputs] == [str(media["a"]), str(media["b"])]
    assert one.graph.count("xfade=") == 1 and "drawtext" not in one.graph
    assert filter_graph(comp, window=(30, 31), audio=False).inputs[0][-1] == str(media["a"])


def test_every_transition_lasts_its_frames_wherever_it_falls(media: dict[str, Path]) -> None:
    # 6.45 s clips overlapping by 0.5 s at 30 fps: starts and ends fall on half frames.
    clips = [Clip(media["a"], round(i * 5.95, 6), round(i * 5.95 + 6.45, 6),
                  transition=Transition("fade", 0.5) if i else None) for i in range(10)]
    comp = Composition(clips=clips)
    cuts = segments(comp)
    assert [s.f1 - s.f0 for s in cuts if s.b is not None] == [15] * 9
    assert cuts[0].f0 == 0 and cuts[-1].f1 == comp.frames == 1800
    assert all(a.f1 == b.f0 for a, b in zip(cuts, cuts[1:], strict=False))


def test_unknown_transition_names_the_valid_ones() -> None:
    with pytest.raises(UnknownTransitionError) as err:
        Transition("swirl", 0.5)
    assert isinstance(err.value, ValueError) and isinstance(err.value, BadRequest)
    assert "swirl" in str(err.value) and "wipeleft" in str(err.value) and "fade" in str(err.value)
    assert {"fade", "dissolve", "radial", "pixelize", "smoothleft", "circleclose", "cut"} <= set(TRANSITIONS)


def test_invalid_timelines_are_refused(media: dict[str, Path], tmp_path: Path) -> None:
    a, b = media["a"], media["b"]
    with pytest.raises(CompositionError, match="without a transition"):
        Composition(clips=[Clip(a, 0, 2), Clip(b, 1.5, 3)])
    with pytest.raises(CompositionError, match="start \\+ duration"):
        Composition(clips=[Clip(a, 0, 2), Clip(b, 1.5, 3, transition=Transition("fade", 0.3))])
    with pytest.raises(CompositionError, match="timeline order"):
        Composition(clips=[Clip(a, 1, 2), Clip(b, 0, 1)])
    with pytest.raises(CompositionError, match="three clips"):
        Composition(clips=[Clip(a, 0, 2), Clip(b, 1, 3, transition=Transition("fade", 1)),
                           Clip(a, 1.5, 4, transition=Transition("fade", 1.5))])
    with pytest.raises(CompositionError, match="bad time window"):
        Clip(a, 2, 1)
    with pytest.raises(CompositionError, match="colour"):
        TextOverlay("x", 0, 1, 0, 0, 10, color="red;drawbox")
    with pytest.raises(CompositionError, match="opacity"):
        ImageOverlay(media["box"], 0, 1, 0, 0, 10, 10, opacity=2)
    Composition(clips=[Clip(a, 0, 2), Clip(b, 2, 3, transition=Transition("cut"))])  # a cut abuts
    missing = Composition(W, H, FPS, clips=[Clip(tmp_path / "nope.mp4", 0, 1)])
    with pytest.raises(CompositionError, match="nope.mp4 does not exist"):
        render_composition(missing, tmp_path / "x.mp4")
    no_image = Composition(W, H, FPS, clips=[Clip(a, 0, 1)],
                           images=[ImageOverlay(tmp_path / "gone.png", 0, 1, 0, 0, 10, 10)])
    with pytest.raises(CompositionError, match="gone.png"):
        preview_frame(no_image, 0.5, tmp_path / "x.jpg")
    with pytest.raises(CompositionError, match="outside the timeline"):
        preview_frame(Composition(W, H, FPS, clips=[Clip(a, 0, 1)]), 1.5, tmp_path / "x.jpg")
