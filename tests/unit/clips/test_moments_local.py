"""The local (offline, heuristic) moment provider on synthetic transcripts."""

from __future__ import annotations

import pytest

from reelforge.clips.moments.local import LocalMomentProvider
from reelforge.clips.moments.select import MomentRequest, select_moments
from reelforge.models import Scene, Transcript

HOOKS = [
    "Why do most startups fail in their first 3 years?",
    "Here's the secret nobody tells you about money.",
    "Stop making this mistake with your savings.",
    "What is the biggest lie about productivity?",
]
BODY = [
    "The answer is simpler than you think.",
    "We looked at 500 companies over ten years.",
    "Most of them ran out of cash, not ideas.",
    "That is a huge and important difference.",
    "So plan for it early.",
]
FILLER = [
    "Um so yeah we were kind of doing stuff and it was okay.",
    "And then like we went back to the office after lunch.",
    "I mean it was basically a normal day for everybody there.",
    "Uh we talked about the weather and the parking lot.",
]


def talk() -> list[str]:
    """About five minutes: four hook-led passages separated by filler."""
    sentences: list[str] = []
    for hook in HOOKS:
        sentences += FILLER * 2
        sentences += [hook, *BODY]
    return sentences + FILLER


def scenes_every(seconds: float, duration: float) -> list[Scene]:
    cuts = [k * seconds for k in range(int(duration // seconds) + 1)] + [duration]
    return [Scene(start=a, end=b) for a, b in zip(cuts, cuts[1:], strict=False) if b > a]


@pytest.fixture
def five_minutes(make_transcript) -> tuple[Transcript, float]:
    transcript = make_transcript(talk())
    assert 240 <= transcript.duration <= 420
    return transcript, transcript.duration + 1.0


def test_five_minute_talk_gives_valid_clips(five_minutes, check_clips):
    transcript, duration = five_minutes
    scenes = scenes_every(23.0, duration)
    selection = select_moments(LocalMomentProvider(), transcript, scenes, duration)
    assert selection.provider == "local"
    assert selection.has_speech and selection.notes == ""
    assert 3 <= len(selection.moments) <= 15
    assert len(selection.moments) == MomentRequest().target
    check_clips(selection.moments, transcript, duration, scenes=scenes)
    for m in selection.moments:
        assert m.reason.startswith("local provider: ")
        assert m.text and m.hook and m.text.startswith(m.hook)


def test_propose_respects_max_clips_and_custom_lengths(five_minutes, check_clips):
    transcript, duration = five_minutes
    request = MomentRequest(min_clips=3, max_clips=12, min_len=20, max_len=40)
    moments = LocalMomentProvider().propose(transcript, [], duration, request)
    assert 3 <= len(moments) <= 12
    check_clips(moments, transcript, duration, min_len=20, max_len=40)


def test_is_deterministic(five_minutes):
    transcript, duration = five_minutes
    scenes = scenes_every(17.0, duration)
    first = select_moments(LocalMomentProvider(), transcript, scenes, duration)
    second = select_moments(LocalMomentProvider(), transcript, scenes, duration)
    assert first.model_dump() == second.model_dump()


def test_hooks_outscore_filler(five_minutes):
    transcript, duration = five_minutes
    moments = select_moments(LocalMomentProvider(), transcript, [], duration).moments
    with_hook = [m for m in moments if any(m.hook == h for h in HOOKS)]
    filler_only = [m for m in moments if not any(h in m.text for h in HOOKS + BODY)]
    assert len(with_hook) == len(HOOKS), "every hook-led passage becomes a clip"
    assert filler_only, "the target of 6 needs two filler clips"
    assert min(m.score for m in with_hook) > max(m.score for m in filler_only) + 30
    # Scores mean something on their own, not just relative to each other.
    assert min(m.score for m in with_hook) >= 60
    assert max(m.score for m in filler_only) <= 40
    question = next(m for m in with_hook if m.hook == HOOKS[0])
    assert "opens with a question" in question.reason
    assert question.title == "Why Do Most Startups Fail in Their First 3 Years?"
    assert "filler" in min(filler_only, key=lambda m: m.score).reason


def test_snaps_to_scene_cuts_near_sentence_starts(make_transcript, check_clips):
    transcript = make_transcript(talk())
    duration = transcript.duration + 1.0
    # A cut in the pause just before every hook.
    cuts = [
        round(w.start - 0.25, 3)
        for s in transcript.segments
        if s.text.strip() in HOOKS
        for w in s.words[:1]
    ]
    bounds = [0.0, *cuts, duration]
    scenes = [Scene(start=a, end=b) for a, b in zip(bounds, bounds[1:], strict=False)]
    moments = select_moments(LocalMomentProvider(), transcript, scenes, duration).moments
    check_clips(moments, transcript, duration, scenes=scenes)
    starts = {m.start for m in moments}
    assert set(cuts) <= starts
    hooked = [m for m in moments if m.start in cuts]
    assert all(m.hook in HOOKS and "scene change" in m.reason for m in hooked)


def test_short_video_gives_fewer_clips_with_a_reason(make_transcript, check_clips):
    transcript = make_transcript(BODY * 2)  # about 32 s of speech
    selection = select_moments(LocalMomentProvider(), transcript, [], 40.0)
    assert len(selection.moments) == 2
    check_clips(selection.moments, transcript, 40.0)
    assert selection.notes == "video is 40 s long: room for 2 clips of >= 15 s"


def test_video_shorter_than_a_clip(make_transcript):
    transcript = make_transcript(BODY[:2])
    selection = select_moments(LocalMomentProvider(), transcript, [], 10.0)
    assert selection.moments == []
    assert selection.notes == "video is 10 s long: room for 0 clips of >= 15 s"


def test_silent_video_clips_follow_scenes():
    silent = Transcript(language="en", duration=300.0, segments=[])
    scenes = scenes_every(20.0, 300.0)
    selection = select_moments(LocalMomentProvider(), silent, scenes, 300.0)
    assert not selection.has_speech
    assert len(selection.moments) == 6
    cuts = {s.start for s in scenes} | {300.0}
    for m in selection.moments:
        assert m.start in cuts and m.end in cuts
        assert 15 <= m.duration <= 60
        assert m.text == "" and "no speech" in m.reason
    assert "no speech" in selection.notes


def test_silent_video_without_scenes_uses_fixed_windows():
    silent = Transcript(language="en", duration=95.0)
    selection = select_moments(LocalMomentProvider(), silent, [], 95.0)
    assert [(m.start, m.end) for m in selection.moments] == [(0, 30), (30, 60), (60, 95)]
    assert all("fixed window" in m.reason for m in selection.moments)
    assert "no speech" in selection.notes


def test_sparse_speech_is_topped_up_with_visual_windows(make_transcript, check_clips):
    # 20 s of speech in a 3-minute video: one speech clip, the rest from scene windows.
    transcript = make_transcript(BODY + BODY[:2], start=60.0)
    scenes = scenes_every(30.0, 180.0)
    selection = select_moments(LocalMomentProvider(), transcript, scenes, 180.0)
    assert len(selection.moments) == 3
    check_clips(selection.moments, transcript, 180.0, scenes=scenes, on_word_edges=False)
    speech = [m for m in selection.moments if m.text]
    assert len(speech) >= 1 and max(m.score for m in speech) > max(
        m.score for m in selection.moments if not m.text
    )


def test_unpunctuated_run_on_speech_still_gives_clips(make_transcript, check_clips):
    words = " ".join(f"word{k}" for k in range(700))
    transcript = make_transcript([words])
    duration = transcript.duration + 0.5
    selection = select_moments(LocalMomentProvider(), transcript, [], duration)
    assert len(selection.moments) >= 3
    check_clips(selection.moments, transcript, duration)
