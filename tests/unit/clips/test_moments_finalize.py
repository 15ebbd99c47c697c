"""finalize / select_moments: the rules every provider's output ends up keeping."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from reelforge.clips.moments.base import Moment
from reelforge.clips.moments.select import MomentRequest, MomentSelection, finalize, select_moments
from reelforge.models import Scene, Transcript, TranscriptSegment

# 40 sentences of 10 words: sentence k spans [4.5k, 4.5k + 3.9], pauses of 0.6 s between.
SENTENCES = [f"This is sentence {k} and it has ten words here." for k in range(40)]


def sentence_start(k: int) -> float:
    return round(4.5 * k, 3)


def sentence_end(k: int) -> float:
    return round(4.5 * k + 3.9, 3)


def candidate(start: float, end: float, score: int = 50, **kw: str) -> Moment:
    return Moment(
        start=start,
        end=end,
        title=kw.get("title", "t"),
        hook=kw.get("hook", "h"),
        score=score,
        reason=kw.get("reason", "test"),
    )


@pytest.fixture
def transcript(make_transcript):
    return make_transcript(SENTENCES)


DURATION = 180.0


class StubProvider:
    """A provider that proposes fixed candidates (a plain object, not a mock)."""

    def __init__(self, moments: list[Moment], name: str = "stub") -> None:
        self.name = name
        self.moments = moments
        self.calls = 0

    def propose(self, transcript, scenes, duration, request):
        self.calls += 1
        return list(self.moments)


# -- request --------------------------------------------------------------------------------


def test_request_defaults_and_target():
    request = MomentRequest()
    assert (request.min_clips, request.max_clips, request.min_len, request.max_len) == (
        3,
        15,
        15,
        60,
    )
    assert request.target == 6
    assert MomentRequest(max_clips=4).target == 4
    assert MomentRequest(min_clips=8, max_clips=10).target == 8
    assert MomentRequest(target_clips=9).target == 9
    assert request.room(40) == 2
    assert request.room(45) == 3


def test_request_accepts_target_count_and_lowers_the_default_minimum():
    assert MomentRequest(target_count=4).target == 4
    assert MomentRequest(target_count=None).target == 6
    two = MomentRequest(target_count=2)
    assert (two.min_clips, two.target) == (2, 2)
    with pytest.raises(ValidationError):
        MomentRequest(min_clips=3, target_clips=2)  # an explicit minimum stays


@pytest.mark.parametrize(
    "kwargs",
    [
        {"min_len": 60, "max_len": 60},
        {"min_len": 70, "max_len": 60},
        {"min_clips": 5, "max_clips": 4},
        {"target_clips": 16},
        {"max_clips": 16},
        {"min_clips": 0},
        {"min_len": 0},
        {"clip_count": 5},
    ],
)
def test_request_rejects_inconsistent_options(kwargs):
    with pytest.raises(ValidationError):
        MomentRequest(**kwargs)


# -- snapping -------------------------------------------------------------------------------


def test_snaps_to_sentence_boundaries(transcript, check_clips):
    rough = candidate(sentence_start(3) + 1.0, sentence_end(10) - 0.7)
    [m] = finalize([rough], transcript, [], DURATION, MomentRequest())
    assert (m.start, m.end) == (sentence_start(3), sentence_end(10))
    assert m.text == " ".join(SENTENCES[3:11])
    check_clips([m], transcript, DURATION)


def test_moves_boundaries_onto_scene_cuts_in_the_same_pause(transcript, check_clips):
    # Cuts in the pauses before sentence 3 and after sentence 10.
    scenes = [
        Scene(start=0, end=13.2),
        Scene(start=13.2, end=49.3),
        Scene(start=49.3, end=DURATION),
    ]
    rough = candidate(sentence_start(3), sentence_end(10))
    [m] = finalize([rough], transcript, scenes, DURATION, MomentRequest())
    assert (m.start, m.end) == (13.2, 49.3)
    assert m.text == " ".join(SENTENCES[3:11]), "no word gained or lost by the cut"
    check_clips([m], transcript, DURATION, scenes=scenes)


def test_ignores_scene_cuts_inside_words_or_beyond_words(transcript):
    # 13.6 lies inside the first word of sentence 3; 13.85 is a pause but after that word;
    # 47.0 is too far from the end.
    scenes = [Scene(start=0, end=13.6), Scene(start=13.6, end=13.85), Scene(start=13.85, end=47.0)]
    rough = candidate(sentence_start(3), sentence_end(10))
    [m] = finalize([rough], transcript, scenes, DURATION, MomentRequest())
    assert (m.start, m.end) == (sentence_start(3), sentence_end(10))


def test_scene_snap_can_be_switched_off(transcript):
    scenes = [Scene(start=0, end=13.2), Scene(start=13.2, end=DURATION)]
    rough = candidate(sentence_start(3), sentence_end(10))
    [m] = finalize([rough], transcript, scenes, DURATION, MomentRequest(scene_snap_s=0))
    assert m.start == sentence_start(3)


def test_trims_long_candidates_at_a_sentence_end(transcript):
    [m] = finalize([candidate(sentence_start(3), 150.0)], transcript, [], DURATION, MomentRequest())
    assert m.start == sentence_start(3)
    assert m.duration <= 60
    assert m.end == sentence_end(15)


def test_extends_short_candidates_to_min_len(transcript):
    [m] = finalize([candidate(sentence_start(3), 20.0)], transcript, [], DURATION, MomentRequest())
    assert m.duration >= 15
    assert m.end == sentence_end(6)


def test_clamps_to_the_video(transcript, check_clips):
    late, early = finalize(
        [candidate(170.0, 200.0), candidate(-5.0, 20.0)], transcript, [], DURATION, MomentRequest()
    )[::-1]
    assert early.start == 0.0
    assert late.end <= DURATION and late.duration >= 15
    check_clips([early, late], transcript, DURATION)


def test_overlaps_keep_the_higher_score(transcript, check_clips):
    moments = finalize(
        [candidate(0, 30, score=50), candidate(20, 50, score=80), candidate(100, 130, score=10)],
        transcript,
        [],
        DURATION,
        MomentRequest(),
    )
    assert [m.score for m in moments] == [80, 10]
    check_clips(moments, transcript, DURATION)


def test_caps_at_max_clips_by_score(transcript):
    rough = [candidate(20.0 * k, 20.0 * k + 16, score=10 * k) for k in range(8)]
    moments = finalize(rough, transcript, [], DURATION, MomentRequest(max_clips=5))
    assert sorted(m.score for m in moments) == [30, 40, 50, 60, 70]


def test_fills_missing_title_and_hook(transcript):
    [m] = finalize(
        [candidate(sentence_start(2), sentence_end(6), title=" ", hook="")],
        transcript,
        [],
        DURATION,
        MomentRequest(),
    )
    assert m.hook == SENTENCES[2]
    assert m.title.startswith("This is sentence 2")
    assert len(m.title) <= 60


def test_too_short_video_gives_nothing(make_transcript):
    short = make_transcript(SENTENCES[:2])
    assert finalize([candidate(0, 8)], short, [], 9.0, MomentRequest()) == []


def test_segments_without_word_timings_get_spread_words():
    transcript = Transcript(
        language="en",
        duration=40,
        segments=[
            TranscriptSegment(start=0, end=12, text="First part of the talk is here. It goes on."),
            TranscriptSegment(start=13, end=30, text="Second part comes next and it ends now."),
        ],
    )
    [m] = finalize([candidate(0, 29)], transcript, [], 40.0, MomentRequest())
    assert m.text.startswith("First part") and m.text.endswith("ends now.")


def test_silent_video_cuts_on_scenes():
    silent = Transcript(language="en", duration=100)
    scenes = [Scene(start=0, end=20), Scene(start=20, end=41), Scene(start=41, end=100)]
    [m] = finalize([candidate(19.0, 40.0)], silent, scenes, 100.0, MomentRequest())
    assert (m.start, m.end, m.text) == (20.0, 41.0, "")


def test_rejects_non_positive_duration(transcript):
    with pytest.raises(ValueError):
        finalize([], transcript, [], 0.0, MomentRequest())


# -- select_moments -------------------------------------------------------------------------


def test_select_tops_up_a_provider_that_proposes_too_few(transcript, check_clips):
    stub = StubProvider([candidate(sentence_start(3), sentence_end(8), score=90)])
    selection = select_moments(stub, transcript, [], DURATION, MomentRequest())
    assert isinstance(selection, MomentSelection)
    assert selection.provider == "stub"
    assert len(selection.moments) == 3
    assert sum(m.reason.startswith("local provider") for m in selection.moments) == 2
    assert "local provider" in selection.notes
    check_clips(selection.moments, transcript, DURATION)


def test_select_trims_to_the_target_by_score(transcript):
    rough = [candidate(20.0 * k, 20.0 * k + 16, score=10 + k) for k in range(8)]
    selection = select_moments(
        StubProvider(rough), transcript, [], DURATION, MomentRequest(target_clips=4)
    )
    assert [m.score for m in selection.moments] == [14, 15, 16, 17]
    assert selection.notes == ""
