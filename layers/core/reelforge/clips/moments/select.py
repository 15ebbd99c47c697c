"""Select moments, the provider-independent part.

Providers (``local``, ``gemini``) only *propose* candidates; this module turns them into
clips that keep the product rules whoever proposed them:

- each clip lasts ``min_len``..``max_len`` seconds and lies inside the video;
- no word is cut: a clip starts at a word start and ends at a word end (ideally at
  sentence boundaries), or at a point in a pause such as a scene cut;
- a boundary moves onto a scene cut when one lies within ``scene_snap_s`` in the same
  pause, so a clip does not open on the last frames of the previous shot;
- clips do not overlap (the higher score wins), at most ``max_clips`` of them.

A transcript without words (a silent video, music only) is not an error: the clips then
follow scene cuts, or fixed windows where there are none, carry no text, and the
selection says so in ``notes``. Transcripts with segment text but no word timings get
word timings spread over each segment, so they still snap to words.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, model_validator

from reelforge.clips.moments.base import Moment
from reelforge.models import Scene, Transcript, Word

if TYPE_CHECKING:
    from reelforge.clips.moments.base import MomentProvider

MAX_CLIPS = 15
DEFAULT_TARGET_CLIPS = 6
EPS = 1e-6

# Snapping costs, in seconds of "distance": a boundary that is not a sentence boundary
# must be this much closer to the wanted time to win over a sentence boundary.
_SEARCH_S = 10.0
_WORD_PENALTY_S = 3.0
_CUT_PENALTY_S = 3.0
_PAUSE_PENALTY_S = 5.0

# Sentence splitting when punctuation is missing (ASR without punctuation, run-ons).
_PAUSE_BREAK_S = 1.0
_SOFT_MAX_S = 12.0
_HARD_MAX_S = 20.0

_TERMINAL = re.compile(r"[.!?…。！？]+[\"'”’)\]]*$")
_CLAUSE = re.compile(r"[,;:—–]+[\"'”’)\]]*$")


class MomentRequest(BaseModel):
    """How many clips of which length the caller wants (unknown fields are an error)."""

    model_config = ConfigDict(extra="forbid")

    min_clips: int = Field(3, ge=1, le=MAX_CLIPS)
    max_clips: int = Field(MAX_CLIPS, ge=1, le=MAX_CLIPS)
    target_clips: int | None = Field(
        None,
        ge=1,
        le=MAX_CLIPS,
        validation_alias=AliasChoices("target_clips", "target_count"),
        description="clips to return when the video has room; default 6, kept within min..max",
    )
    min_len: float = Field(15.0, gt=0, le=180, description="seconds")
    max_len: float = Field(60.0, gt=0, le=180, description="seconds")
    scene_snap_s: float = Field(
        1.5, ge=0, le=5, description="how far a boundary may move to land on a scene cut"
    )

    @model_validator(mode="after")
    def _consistent(self) -> MomentRequest:
        # Asking for fewer clips than the default minimum lowers the minimum.
        if (
            self.target_clips is not None
            and "min_clips" not in self.model_fields_set
            and self.target_clips < self.min_clips
        ):
            self.min_clips = self.target_clips
        if self.min_clips > self.max_clips:
            raise ValueError(
                f"min_clips ({self.min_clips}) must not exceed max_clips ({self.max_clips})"
            )
        if self.target_clips is not None and not (
            self.min_clips <= self.target_clips <= self.max_clips
        ):
            raise ValueError(
                f"target_clips ({self.target_clips}) must lie between min_clips "
                f"({self.min_clips}) and max_clips ({self.max_clips})"
            )
        if self.min_len >= self.max_len:
            raise ValueError(
                f"min_len ({self.min_len:g} s) must be shorter than max_len ({self.max_len:g} s)"
            )
        return self

    @property
    def target(self) -> int:
        if self.target_clips is not None:
            return self.target_clips
        return min(max(DEFAULT_TARGET_CLIPS, self.min_clips), self.max_clips)

    @property
    def ideal_len(self) -> float:
        """The length windows aim for when nothing else decides: 30 s, within the limits."""
        return min(max(30.0, self.min_len), self.max_len)

    def room(self, duration: float) -> int:
        """How many non-overlapping clips of at least ``min_len`` fit in the video."""
        return max(0, math.floor(duration / self.min_len + EPS))


class MomentSelection(BaseModel):
    """The step's result: clips in timeline order, and why there are fewer when there are."""

    provider: str
    moments: list[Moment] = Field(default_factory=list)
    notes: str = Field(
        "",
        description="why fewer than min_clips, no speech, a local top-up ('; '-joined); "
        "empty when all is normal",
    )
    has_speech: bool = True


@dataclass(frozen=True)
class Sentence:
    """A run of words ending at terminal punctuation, a long pause or a length cap."""

    start: float
    end: float
    first: int
    last: int
    text: str
    complete: bool  # ends with terminal punctuation
    opens: bool  # the previous sentence was complete (or there is none): a fresh thought


class Timeline:
    """Words, sentences and scene cuts of one video, indexed for boundary snapping."""

    def __init__(self, transcript: Transcript, scenes: list[Scene], duration: float) -> None:
        if not duration > 0:
            raise ValueError(f"duration must be positive, got {duration!r}")
        self.duration = float(duration)
        self.words = _clean_words(transcript, self.duration)
        self.word_starts = [w.start for w in self.words]
        self.word_ends = [w.end for w in self.words]
        self.sentences = _split_sentences(self.words)
        self.sentence_starts = [s.start for s in self.sentences]
        self.sentence_ends = [s.end for s in self.sentences]
        self.word_sentence = [0] * len(self.words)
        for k, sentence in enumerate(self.sentences):
            for i in range(sentence.first, sentence.last + 1):
                self.word_sentence[i] = k
        inner = {
            round(t, 6)
            for scene in scenes
            for t in (scene.start, scene.end)
            if EPS < t < self.duration - EPS
        }
        self.scene_cuts = sorted(inner)
        # The video's own ends are natural boundaries too.
        self.cuts = sorted(inner | {0.0, self.duration})

    @property
    def has_speech(self) -> bool:
        return bool(self.words)

    # -- queries ---------------------------------------------------------------------------

    def in_gap(self, t: float) -> bool:
        """True when ``t`` splits no word (word edges count as gaps)."""
        i = bisect_left(self.word_starts, t - EPS)
        return not (i > 0 and self.word_ends[i - 1] > t + EPS)

    def word_range(self, start: float, end: float) -> tuple[int, int]:
        """Indices [i, j) of the words lying wholly inside [start, end]."""
        i = bisect_left(self.word_starts, start - EPS)
        j = bisect_right(self.word_ends, end + EPS)
        return i, max(i, j)

    def words_between(self, a: float, b: float) -> int:
        i, j = self.word_range(min(a, b), max(a, b))
        return j - i

    def text(self, start: float, end: float) -> str:
        i, j = self.word_range(start, end)
        return _join(self.words[i:j])

    def opening(self, start: float, end: float) -> str:
        """The clip's first sentence (from its first word to that sentence's end)."""
        i, j = self.word_range(start, end)
        if i >= j:
            return ""
        last = min(self.sentences[self.word_sentence[i]].last, j - 1)
        return _join(self.words[i : last + 1])

    def sentence_range(self, start: float, end: float) -> tuple[int, int]:
        """Indices [i, j) of the sentences lying wholly inside [start, end]."""
        i = bisect_left(self.sentence_starts, start - EPS)
        j = bisect_right(self.sentence_ends, end + EPS)
        return i, max(i, j)

    def is_cut(self, t: float) -> bool:
        i = bisect_left(self.scene_cuts, t - 0.05)
        return i < len(self.scene_cuts) and abs(self.scene_cuts[i] - t) <= 0.05

    # -- snapping --------------------------------------------------------------------------

    def fit(
        self, start: float, end: float, min_len: float, max_len: float, scene_snap_s: float = 1.5
    ) -> tuple[float, float] | None:
        """Move a rough [start, end] onto clean boundaries within the length limits.

        Returns None when no clip of ``min_len`` fits (the video is too short).
        """
        d = self.duration
        if d < min_len - EPS:
            return None
        start = _clamp(start, 0.0, d)
        end = _clamp(end, 0.0, d)
        if end <= start:
            end = start + min_len
        s_hi = d - min_len
        s = self._snap(start, 0.0, s_hi, at_start=True)
        if s is None:
            return None
        s = self._to_cut(s, 0.0, s_hi, scene_snap_s, at_start=True)
        lo, hi = s + min_len, min(s + max_len, d)
        if hi < lo - EPS:
            return None
        e = self._snap(end, lo, hi, at_start=False)
        if e is None:
            return None
        e = self._to_cut(e, lo, hi, scene_snap_s, at_start=False)
        return s, e

    def _snap(self, t: float, lo: float, hi: float, *, at_start: bool) -> float | None:
        """The best boundary near ``t`` in [lo, hi]: sentence > word or cut > a pause."""
        if hi < lo - EPS:
            return None
        t = _clamp(t, lo, hi)
        sentence = self.sentence_starts if at_start else self.sentence_ends
        word = self.word_starts if at_start else self.word_ends
        a, b = max(lo, t - _SEARCH_S), min(hi, t + _SEARCH_S)
        options: list[tuple[float, float]] = []
        options += [(abs(p - t), p) for p in _between(sentence, a, b)]
        options += [(abs(p - t) + _WORD_PENALTY_S, p) for p in _between(word, a, b)]
        options += [
            (abs(p - t) + _CUT_PENALTY_S, p) for p in _between(self.cuts, a, b) if self.in_gap(p)
        ]
        if self.in_gap(t):
            options.append((_PAUSE_PENALTY_S, self._trim_pause(t, lo, hi, at_start=at_start)))
        if not options:
            options = [(abs(p - t), p) for p in _nearest(word, t, lo, hi)]
        if not options:
            return None
        return _clamp(min(options)[1], lo, hi)

    def _trim_pause(self, t: float, lo: float, hi: float, *, at_start: bool) -> float:
        """Inside a pause next to speech, move toward the speech: less dead air in the clip.

        A pause with no speech on that side (a silent video) keeps ``t``, so silent windows
        keep their length.
        """
        if at_start:
            i = bisect_left(self.word_starts, t - EPS)
            return min(hi, self.word_starts[i]) if i < len(self.words) else t
        i = bisect_right(self.word_ends, t + EPS)
        return max(lo, self.word_ends[i - 1]) if i > 0 else t

    def _to_cut(self, b: float, lo: float, hi: float, snap_s: float, *, at_start: bool) -> float:
        """Move ``b`` onto a scene cut in the same pause (no word gained or lost), if near."""
        if snap_s <= 0:
            return b
        best: tuple[float, float] | None = None
        for c in _between(self.scene_cuts, max(lo, b - snap_s), min(hi, b + snap_s)):
            if self.in_gap(c) and self.words_between(c, b) == 0:
                option = (abs(c - b), c)
                best = option if best is None or option < best else best
        return best[1] if best else b


def finalize(
    candidates: list[Moment],
    transcript: Transcript,
    scenes: list[Scene],
    duration: float,
    request: MomentRequest,
) -> list[Moment]:
    """Snap, trim, de-overlap and fill ``text``; returns clips in timeline order."""
    return finalize_on(candidates, Timeline(transcript, scenes, duration), request)


def finalize_on(
    candidates: list[Moment], timeline: Timeline, request: MomentRequest
) -> list[Moment]:
    """``finalize`` for callers that already built the ``Timeline``."""
    fitted: list[Moment] = []
    for candidate in candidates:
        span = timeline.fit(
            candidate.start, candidate.end, request.min_len, request.max_len, request.scene_snap_s
        )
        if span is None:
            continue
        start, end = span
        hook = shorten(candidate.hook, 200) or shorten(timeline.opening(start, end), 200)
        title = shorten(candidate.title, 60) or shorten(hook, 60) or f"Clip at {clock(start)}"
        fitted.append(
            candidate.model_copy(
                update={
                    "start": start,
                    "end": end,
                    "title": title,
                    "hook": hook,
                    "reason": candidate.reason.strip(),
                    "text": timeline.text(start, end),
                }
            )
        )
    kept = pick_non_overlapping(fitted, request.max_clips)
    return sorted(kept, key=lambda m: (m.start, m.end))


def pick_non_overlapping(
    moments: list[Moment], limit: int, taken: list[Moment] | None = None
) -> list[Moment]:
    """Greedy by score (ties: earlier first): the best clips that overlap nothing kept."""
    kept = list(taken or [])
    added: list[Moment] = []
    for m in sorted(moments, key=lambda m: (-m.score, m.start, m.end)):
        if len(added) >= limit:
            break
        if not any(_overlaps(m.start, m.end, k.start, k.end) for k in kept):
            kept.append(m)
            added.append(m)
    return added


def select_moments(
    provider: MomentProvider,
    transcript: Transcript,
    scenes: list[Scene],
    duration: float,
    request: MomentRequest | None = None,
) -> MomentSelection:
    """The step's facade: propose, finalize, top up to ``min_clips``, trim to the target.

    A provider that proposes too few usable clips (a model returning two, or only
    overlapping ones) is topped up from the local provider, and the notes say so, so the
    3-clip minimum holds whenever the video has room for it.
    """
    from reelforge.clips.moments.local import LocalMomentProvider  # local imports this module

    request = request or MomentRequest()
    timeline = Timeline(transcript, scenes, duration)
    notes: list[str] = []
    moments = finalize_on(
        provider.propose(transcript, scenes, duration, request), timeline, request
    )
    room = request.room(timeline.duration)
    wanted = min(request.min_clips, room)

    if len(moments) < wanted and provider.name != LocalMomentProvider.name:
        proposed = len(moments)
        local = LocalMomentProvider().propose(transcript, scenes, duration, request)
        extra = pick_non_overlapping(
            finalize_on(local, timeline, request), wanted - proposed, taken=moments
        )
        moments = moments + extra
        if extra:
            notes.append(
                f"{provider.name} proposed {proposed} usable clip(s); "
                f"{len(extra)} more came from the local provider"
            )

    moments = sorted(moments, key=lambda m: (-m.score, m.start))[: request.target]
    moments.sort(key=lambda m: (m.start, m.end))

    if not timeline.has_speech:
        notes.append(
            "no speech in the transcript: clips follow scene cuts (or fixed windows) "
            "and carry no text (clips without speech)"
        )
    if len(moments) < request.min_clips:
        if room < request.min_clips:
            notes.append(
                f"video is {timeline.duration:.0f} s long: room for {room} "
                f"clip{'s' if room != 1 else ''} of >= {request.min_len:g} s"
            )
        else:
            notes.append(
                f"only {len(moments)} non-overlapping clip(s) of "
                f"{request.min_len:g}-{request.max_len:g} s could be found"
            )
    return MomentSelection(
        provider=provider.name,
        moments=moments,
        notes="; ".join(notes),
        has_speech=timeline.has_speech,
    )


# -- helpers -------------------------------------------------------------------------------


def clock(t: float) -> str:
    """Seconds as m:ss (h:mm:ss past an hour), for titles and notes."""
    total = int(t)
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def _overlaps(a0: float, a1: float, b0: float, b1: float) -> bool:
    return a0 < b1 - EPS and b0 < a1 - EPS


def _clamp(x: float, lo: float, hi: float) -> float:
    return min(max(x, lo), hi)


def _between(values: list[float], a: float, b: float) -> list[float]:
    return values[bisect_left(values, a - EPS) : bisect_right(values, b + EPS)]


def _nearest(values: list[float], t: float, lo: float, hi: float) -> list[float]:
    i = bisect_left(values, t)
    return [v for v in values[max(0, i - 1) : i + 1] if lo - EPS <= v <= hi + EPS]


def _join(words: list[Word]) -> str:
    return " ".join(w.word.strip() for w in words if w.word.strip())


def shorten(text: str, limit: int) -> str:
    """Whitespace-collapsed ``text``, cut at a word boundary with an ellipsis if too long."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:-") + "…"


def _clean_words(transcript: Transcript, duration: float) -> list[Word]:
    """Words sorted, clamped to the video and made non-overlapping.

    Segments with text but no word timings get words spread over the segment by
    character length, which is close enough for snapping and captions.
    """
    raw: list[Word] = []
    for segment in transcript.segments:
        if segment.words:
            raw += segment.words
        elif segment.text.strip() and segment.end > segment.start:
            tokens = segment.text.split()
            total = sum(len(tok) + 1 for tok in tokens)
            t = segment.start
            span = segment.end - segment.start
            for tok in tokens:
                step = span * (len(tok) + 1) / total
                raw.append(Word(word=tok, start=t, end=t + step * 0.9))
                t += step
    words: list[Word] = []
    for w in sorted(raw, key=lambda w: (w.start, w.end)):
        if not w.word.strip():
            continue
        start = _clamp(w.start, 0.0, duration)
        end = _clamp(max(w.end, w.start), 0.0, duration)
        if words and start < words[-1].end:
            prev = words[-1]
            if start <= prev.start:  # same start: keep the first, drop this one
                continue
            words[-1] = prev.model_copy(update={"end": start})
        if start == w.start and end == w.end:
            words.append(w)
        else:
            words.append(w.model_copy(update={"start": start, "end": end}))
    return words


def _split_sentences(words: list[Word]) -> list[Sentence]:
    sentences: list[Sentence] = []
    first = 0
    previous_complete = True
    for i, w in enumerate(words):
        text = w.word.strip()
        last_word = i == len(words) - 1
        gap = words[i + 1].start - w.end if not last_word else 0.0
        span = w.end - words[first].start
        complete = bool(_TERMINAL.search(text))
        soft = span >= _SOFT_MAX_S and (bool(_CLAUSE.search(text)) or gap >= 0.3)
        if last_word or complete or gap >= _PAUSE_BREAK_S or soft or span >= _HARD_MAX_S:
            chunk = words[first : i + 1]
            sentences.append(
                Sentence(
                    start=chunk[0].start,
                    end=w.end,
                    first=first,
                    last=i,
                    text=_join(chunk),
                    complete=complete,
                    opens=previous_complete,
                )
            )
            # A long pause also starts a fresh thought even without punctuation.
            previous_complete = complete or gap >= _PAUSE_BREAK_S
            first = i + 1
    return sentences
