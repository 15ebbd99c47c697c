"""Fixtures for the clips tests: synthetic transcripts and the rules every selection keeps."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from reelforge.clips.moments.base import Moment
from reelforge.models import Scene, Transcript, TranscriptSegment, Word


def build_transcript(
    sentences: list[str],
    *,
    start: float = 0.0,
    word_s: float = 0.3,
    word_gap: float = 0.1,
    sentence_gap: float = 0.6,
    language: str = "en",
) -> Transcript:
    """One segment per sentence, words of ``word_s`` seconds at 2.5 words/s by default."""
    segments: list[TranscriptSegment] = []
    t = start
    for sentence in sentences:
        words: list[Word] = []
        for token in sentence.split():
            words.append(Word(word=" " + token, start=round(t, 3), end=round(t + word_s, 3)))
            t += word_s + word_gap
        t += sentence_gap - word_gap
        segments.append(
            TranscriptSegment(start=words[0].start, end=words[-1].end, text=" " + sentence, words=words)
        )
    end = segments[-1].end if segments else start
    return Transcript(language=language, duration=end, segments=segments)


def assert_valid_clips(
    moments: list[Moment],
    transcript: Transcript,
    duration: float,
    *,
    min_len: float = 15.0,
    max_len: float = 60.0,
    scenes: list[Scene] | None = None,
    on_word_edges: bool = True,
) -> None:
    """The product rules every selection must keep.

    ``on_word_edges``: boundaries are word starts/ends or scene cuts; turn it off where a
    clip may legitimately begin or end inside a long pause (sparse speech).
    """
    words = transcript.words()
    starts = {w.start for w in words}
    ends = {w.end for w in words}
    cuts = {t for s in scenes or [] for t in (s.start, s.end)} | {0.0, duration}
    for m in moments:
        assert 0.0 <= m.start < m.end <= duration + 1e-9, m
        assert min_len - 1e-6 <= m.duration <= max_len + 1e-6, m
        assert 0 <= m.score <= 100
        assert m.title and len(m.title) <= 60, m.title
        # No word is cut in two.
        for w in words:
            for boundary in (m.start, m.end):
                assert not (w.start + 1e-9 < boundary < w.end - 1e-9), (m, w)
        if words and on_word_edges:
            assert m.start in starts or m.start in cuts, m
            assert m.end in ends or m.end in cuts, m
    ordered = sorted(moments, key=lambda m: m.start)
    assert ordered == moments, "moments are returned in timeline order"
    for a, b in zip(ordered, ordered[1:], strict=False):
        assert a.end <= b.start + 1e-9, (a, b)


@pytest.fixture
def make_transcript() -> Callable[..., Transcript]:
    return build_transcript


@pytest.fixture
def check_clips() -> Callable[..., None]:
    return assert_valid_clips
