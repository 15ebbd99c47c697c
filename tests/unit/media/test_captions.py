"""Captions: grouping, the per-word highlight in ASS, and SRT/VTT that parse back."""

from __future__ import annotations

import re

import pytest

from reelforge.media.captions import (
    ass_escape,
    build_ass,
    build_srt,
    build_vtt,
    caption_lines,
    clip_words,
    group_words,
)
from reelforge.models import Word

HIGHLIGHT = "&H00E6FF&"  # default #FFE600 as an ASS override colour (BGR)


def words_from(text: str, start: float = 10.0, step: float = 0.4, dur: float = 0.3) -> list[Word]:
    return [
        Word(word=f" {w}", start=round(start + i * step, 3), end=round(start + i * step + dur, 3))
        for i, w in enumerate(text.split())
    ]


SPEECH = words_from(
    "So here is the thing. Nobody tells you how hard it is to start, "
    "but everybody wants to see the result right away!"
)


# ----------------------------------------------------------------------------- grouping


def test_group_words_limits_words_and_chars() -> None:
    lines = group_words(clip_words(SPEECH, 0, 100), max_words=4, max_chars=22)
    assert [w.word for line in lines for w in line.words] == [w.word.strip() for w in SPEECH]
    for line in lines:
        assert 1 <= len(line.words) <= 4
        assert len(line.text) <= 22 or len(line.words) == 1


def test_group_words_breaks_on_sentence_end_and_pause() -> None:
    ws = words_from("one two. three four") + words_from("after pause", start=12.5)
    lines = group_words(clip_words(ws, 0, 100), max_words=6, max_chars=60, max_gap=0.6)
    assert [line.text for line in lines] == ["one two.", "three four", "after pause"]


def test_long_word_stands_alone() -> None:
    ws = words_from("a supercalifragilisticexpialidocious word")
    lines = group_words(clip_words(ws, 0, 100), max_chars=22)
    assert "supercalifragilisticexpialidocious" in [line.text for line in lines]


def test_clip_words_keeps_the_window_and_shifts_times() -> None:
    ws = [
        Word(word="before", start=4.0, end=4.9),
        Word(word="edge", start=4.9, end=5.3),  # midpoint 5.1: inside, trimmed to start at 0
        Word(word="in", start=6.0, end=6.5),
        Word(word="tail", start=7.8, end=8.4),  # midpoint 8.1: past the end
        Word(word="  ", start=6.6, end=6.7),
    ]
    out = clip_words(ws, 5.0, 8.0)
    assert [(w.word, w.start, w.end) for w in out] == [("edge", 0.0, pytest.approx(0.3)),
                                                       ("in", 1.0, 1.5)]  # fmt: skip


def test_lines_never_overlap_and_linger_until_the_next() -> None:
    lines = caption_lines(SPEECH, clip_start=10.0, clip_end=20.0, linger=0.5)
    for a, b in zip(lines, lines[1:], strict=False):
        assert a.end <= b.start
        assert a.end >= a.words[-1].end
    assert lines[-1].end <= 10.0


# ----------------------------------------------------------------------------- ASS


def _secs(stamp: str) -> float:
    h, m, s = stamp.split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


def parse_ass(text: str) -> list[tuple[float, float, str]]:
    events = []
    for line in text.splitlines():
        if line.startswith("Dialogue:"):
            parts = line.split(",", 9)
            events.append((_secs(parts[1]), _secs(parts[2]), parts[9]))
    return events


def visible_words(ass_text: str) -> list[str]:
    return re.sub(r"\{[^}]*\}", "", ass_text).split()


def highlighted(ass_text: str) -> list[str]:
    return re.findall(r"\{\\1c" + re.escape(HIGHLIGHT) + r"\}(.*?)\{", ass_text)


def test_ass_header_style_and_geometry() -> None:
    ass = build_ass(SPEECH, clip_start=10.0, clip_end=20.0)
    assert "PlayResX: 1080" in ass and "PlayResY: 1920" in ass
    style = next(line for line in ass.splitlines() if line.startswith("Style: Caption"))
    fields = style.split(",")
    assert fields[1] == "DejaVu Sans" and fields[7] == "-1"  # bold
    assert fields[3] == "&H00FFFFFF"  # white text
    assert int(fields[16]) >= 4  # thick outline
    assert fields[18] == "2"  # bottom centre, lifted by MarginV
    assert 0.2 * 1920 <= int(fields[21]) <= 0.35 * 1920


@pytest.mark.parametrize("max_words", [3, 4, 5])
def test_at_most_max_words_on_screen_and_each_word_highlighted_in_its_time(max_words: int) -> None:
    ass = build_ass(SPEECH, clip_start=10.0, clip_end=30.0, max_words=max_words)
    events = parse_ass(ass)
    assert events
    for (_s1, e1, _), (s2, _e2, _) in zip(events, events[1:], strict=False):
        assert e1 <= s2 + 1e-9, "two caption events on screen at once"
    for _, _, text in events:
        assert 1 <= len(visible_words(text)) <= max_words
        assert len(highlighted(text)) == 1
    for w in clip_words(SPEECH, 10.0, 30.0):
        mid = (w.start + w.end) / 2
        active = [text for s, e, text in events if s <= mid < e]
        assert len(active) == 1, w.word
        assert highlighted(active[0]) == [w.word], w.word


def test_ass_times_are_relative_and_clipped_to_the_clip() -> None:
    ass = build_ass(SPEECH, clip_start=12.0, clip_end=15.0)
    events = parse_ass(ass)
    first_in = clip_words(SPEECH, 12.0, 15.0)[0]
    assert events[0][0] == pytest.approx(first_in.start, abs=0.01)
    assert all(0 <= s < e <= 3.0 for s, e, _ in events)
    shown = {w for _, _, text in events for w in visible_words(text)}
    assert "So" not in shown  # spoken before the clip


def test_ass_escapes_override_characters() -> None:
    assert ass_escape("{\\b1}x") == "\\{\\\u2060b1\\}x"
    ws = [Word(word="{evil}", start=0.0, end=0.5), Word(word="a\\Nb", start=0.5, end=1.0)]
    ass = build_ass(ws, clip_start=0.0, clip_end=2.0)
    body = [t for _, _, t in parse_ass(ass)]
    assert all("{evil}" not in t and "\\{evil\\}" in t for t in body)
    assert all("a\\Nb" not in t for t in body)


def test_ass_options_uppercase_and_colours() -> None:
    ass = build_ass(words_from("hello there"), clip_start=10, clip_end=12, uppercase=True,
                    highlight="#00FF00")  # fmt: skip
    events = parse_ass(ass)
    assert visible_words(events[0][2]) == ["HELLO", "THERE"]
    assert "{\\1c&H00FF00&}HELLO" in events[0][2]


def test_no_words_gives_no_events() -> None:
    assert parse_ass(build_ass([], clip_start=0, clip_end=5)) == []


# ----------------------------------------------------------------------------- SRT / VTT

SRT_CUE = re.compile(
    r"(\d+)\n(\d\d):(\d\d):(\d\d),(\d{3}) --> (\d\d):(\d\d):(\d\d),(\d{3})\n(.+)\n?", re.M
)
VTT_CUE = re.compile(r"(\d\d):(\d\d):(\d\d)\.(\d{3}) --> (\d\d):(\d\d):(\d\d)\.(\d{3})\n(.+)")


def _t(h: str, m: str, s: str, ms: str) -> float:
    return int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000


def test_srt_parses_back_with_the_same_lines() -> None:
    srt = build_srt(SPEECH, 10.0, 30.0)
    blocks = srt.strip().split("\n\n")
    cues = [SRT_CUE.fullmatch(b + "\n") for b in blocks]
    assert all(cues), srt
    lines = caption_lines(SPEECH, clip_start=10.0, clip_end=30.0)
    assert len(cues) == len(lines)
    prev_end = 0.0
    for i, (m, line) in enumerate(zip(cues, lines, strict=True), 1):
        assert m is not None
        assert int(m.group(1)) == i
        start, end = _t(*m.group(2, 3, 4, 5)), _t(*m.group(6, 7, 8, 9))
        assert prev_end <= start < end
        assert start == pytest.approx(line.start, abs=1e-3)
        assert m.group(10) == line.text
        prev_end = end
    assert _t(*cues[0].group(2, 3, 4, 5)) == pytest.approx(0.0, abs=1e-3)  # type: ignore[union-attr]


def test_srt_respects_grouping_options() -> None:
    srt = build_srt(SPEECH, 10.0, 30.0, max_words=2)
    texts = [b.split("\n")[2] for b in srt.strip().split("\n\n")]
    assert all(len(t.split()) <= 2 for t in texts)


def test_vtt_header_dot_millis_and_escaping() -> None:
    ws = words_from("fish & chips <3 tonight", start=61.0)
    vtt = build_vtt(ws, 60.0, 70.0)
    assert vtt.startswith("WEBVTT\n\n")
    cues = VTT_CUE.findall(vtt)
    assert cues
    assert _t(*cues[0][:4]) == pytest.approx(1.0, abs=1e-3)
    body = "\n".join(c[8] for c in cues)
    assert "&amp;" in body and "&lt;3" in body and "<" not in body
    assert "," not in vtt.split("\n")[2]  # VTT timestamps use a dot
