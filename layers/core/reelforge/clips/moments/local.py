"""The offline moment provider: heuristic scoring of sentence windows, no network.

Deterministic by construction (no randomness, stable tie-breaks), so the same video gives
the same clips and tests can pin them. Scores are absolute, not ranked within a video:
each signal has a fixed share of 100, so a filler-heavy ramble lands near 25 and a
window that opens with a question, gives numbers and ends cleanly lands near 90.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from itertools import accumulate

from reelforge.clips.moments.base import Moment
from reelforge.clips.moments.select import (
    EPS,
    MomentRequest,
    Sentence,
    Timeline,
    clock,
    shorten,
)
from reelforge.models import Scene, Transcript

# Weights: the shares of 100 each signal can earn.
W_HOOK = 30.0
W_QUESTIONS = 10.0
W_NUMBERS = 10.0
W_EMPHASIS = 10.0
W_RATE = 15.0
W_COMPLETE = 10.0
W_SCENE = 5.0
W_CLEAN = 10.0

_TOKEN = re.compile(r"[\w'’%$]+")
_QUESTION_START = {
    "why", "how", "what", "who", "when", "where", "which", "is", "are", "do", "does",
    "did", "can", "could", "should", "would", "will", "have", "has", "ever",
}  # fmt: skip
_YOU = {"you", "your", "you're", "youre", "yourself", "you’re", "you'll", "you've"}
_CURIOSITY = {
    "secret", "secrets", "mistake", "mistakes", "truth", "nobody", "never", "stop", "wrong",
    "surprising", "hidden", "why", "how", "trick", "hack", "myth", "lie", "lies", "warning",
    "problem", "real", "reason", "actually",
}  # fmt: skip
_SUPERLATIVE = {
    "best", "worst", "most", "least", "biggest", "smallest", "fastest", "easiest",
    "hardest", "greatest", "top", "only", "ultimate", "cheapest", "richest", "simplest",
    "strongest", "first",
}  # fmt: skip
_IMPERATIVE = {
    "stop", "look", "imagine", "listen", "try", "remember", "think", "watch", "don't",
    "dont", "never", "let's", "lets", "forget", "start", "picture", "consider", "here's",
    "heres", "check", "learn", "avoid", "quit", "do",
}  # fmt: skip
_EMPHASIS = {
    "amazing", "incredible", "crazy", "insane", "shocking", "huge", "massive", "important",
    "critical", "powerful", "surprising", "unbelievable", "love", "hate", "wrong", "truth",
    "secret", "mistake", "mistakes", "biggest", "everything", "nothing", "always", "never",
    "absolutely", "completely", "totally", "seriously", "dangerous", "brilliant", "wild",
}  # fmt: skip
_NUMBER_WORDS = {
    "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
    "twelve", "fifteen", "twenty", "thirty", "forty", "fifty", "hundred", "thousand",
    "million", "billion", "percent", "half", "double", "twice", "triple",
}  # fmt: skip
_FILLER = {"um", "uh", "erm", "er", "hmm", "mm", "like", "basically", "whatever", "stuff"}
_FILLER_PAIRS = {("you", "know"), ("i", "mean"), ("kind", "of"), ("sort", "of")}
_LEAD_IN = {"so", "and", "but", "well", "okay", "ok", "now", "um", "uh", "like", "yeah", "right"}
_SMALL = {"a", "an", "the", "and", "or", "of", "to", "in", "on", "at", "for", "but", "by", "with", "as"}  # fmt: skip


@dataclass(frozen=True)
class _Features:
    """What one sentence contributes; window features are sums over its sentences."""

    words: int
    question: int
    numbers: int
    emphasis: int
    filler: int
    hook: float
    hook_signals: tuple[str, ...]


@dataclass
class _Window:
    start: float
    end: float
    score: float
    signals: list[str] = field(default_factory=list)
    speech: bool = True


class LocalMomentProvider:
    """Offline, deterministic heuristics; says "local provider" in every reason."""

    name = "local"

    def propose(
        self,
        transcript: Transcript,
        scenes: list[Scene],
        duration: float,
        request: MomentRequest,
    ) -> list[Moment]:
        timeline = Timeline(transcript, scenes, duration)
        scorer = _Scorer(timeline, request.ideal_len)
        wanted = min(request.min_clips, request.room(timeline.duration))
        if not timeline.has_speech:
            picked = _choose(_visual_windows(timeline, scorer, request), request.max_clips, wanted)
            return [_to_moment(w, timeline) for w in sorted(picked, key=lambda w: w.start)]
        picked = _choose(_speech_windows(timeline, scorer, request), request.max_clips, wanted)
        if len(picked) < wanted:
            # Not enough speech for the minimum: fill with scene/fixed windows around it.
            visual = [
                w
                for w in _visual_windows(timeline, scorer, request)
                if not any(_overlap(w, p) for p in picked)
            ]
            missing = wanted - len(picked)
            picked += _choose(visual, missing, missing)
        picked.sort(key=lambda w: (w.start, w.end))
        return [_to_moment(w, timeline) for w in picked]


# -- windows -------------------------------------------------------------------------------


def _speech_windows(timeline: Timeline, scorer: _Scorer, request: MomentRequest) -> list[_Window]:
    """Runs of whole sentences that fit the length limits, plus one fixed-length window per
    sentence start (covers run-on speech where no sentence run fits)."""
    sentences = timeline.sentences
    spans: set[tuple[float, float]] = set()
    for i, first in enumerate(sentences):
        for last in sentences[i:]:
            length = last.end - first.start
            if length > request.max_len + EPS:
                break
            if length >= request.min_len - EPS:
                spans.add((first.start, last.end))
        spans.add((first.start, first.start + request.ideal_len))
    return _fitted(spans, timeline, scorer, request)


def _visual_windows(timeline: Timeline, scorer: _Scorer, request: MomentRequest) -> list[_Window]:
    """Windows between scene cuts, or of the ideal length every half window: for stretches
    (or whole videos) without speech."""
    d = timeline.duration
    step = request.ideal_len / 2
    starts = set(timeline.cuts) | {k * step for k in range(int(d / step) + 1)}
    spans: set[tuple[float, float]] = set()
    for s in sorted(starts):
        if s > d - request.min_len + EPS:
            continue
        ends = [c for c in timeline.cuts if request.min_len - EPS <= c - s <= request.max_len + EPS]
        for e in [*ends, s + request.ideal_len]:
            spans.add((s, min(e, d)))
    return _fitted(spans, timeline, scorer, request)


def _fitted(
    spans: set[tuple[float, float]], timeline: Timeline, scorer: _Scorer, request: MomentRequest
) -> list[_Window]:
    """Snap each span the way ``finalize`` will, so selection sees the final boundaries."""
    seen: set[tuple[float, float]] = set()
    windows: list[_Window] = []
    for start, end in sorted(spans):
        span = timeline.fit(start, end, request.min_len, request.max_len, request.scene_snap_s)
        if span is None or span in seen:
            continue
        seen.add(span)
        windows.append(scorer.score(*span))
    return windows


def _choose(windows: list[_Window], limit: int, wanted: int) -> list[_Window]:
    """Greedy by score; if that leaves fewer than ``wanted`` (short videos), the set with the
    most clips instead (then the highest total score)."""
    ranked = sorted(windows, key=lambda w: (-w.score, w.start, w.end))
    greedy: list[_Window] = []
    for w in ranked:
        if len(greedy) >= limit:
            break
        if not any(_overlap(w, g) for g in greedy):
            greedy.append(w)
    if len(greedy) >= wanted:
        return greedy
    packed = _most_clips(windows)
    if len(packed) > len(greedy):
        return sorted(packed, key=lambda w: (-w.score, w.start))[:limit]
    return greedy


def _most_clips(windows: list[_Window]) -> list[_Window]:
    """Weighted interval scheduling maximising (count, total score)."""
    order = sorted(windows, key=lambda w: (w.end, w.start))
    ends = [w.end for w in order]
    best: list[tuple[int, float]] = [(0, 0.0)]  # best[k]: over the first k windows
    take: list[bool] = []
    prev: list[int] = []
    for k, w in enumerate(order):
        p = bisect_right(ends, w.start + EPS, 0, k)
        with_w = (best[p][0] + 1, best[p][1] + w.score)
        take.append(with_w > best[k])
        prev.append(p)
        best.append(max(with_w, best[k]))
    chosen: list[_Window] = []
    k = len(order)
    while k > 0:
        if take[k - 1]:
            chosen.append(order[k - 1])
            k = prev[k - 1]
        else:
            k -= 1
    return chosen[::-1]


def _overlap(a: _Window, b: _Window) -> bool:
    return a.start < b.end - EPS and b.start < a.end - EPS


# -- scoring -------------------------------------------------------------------------------


class _Scorer:
    """Per-sentence features once, prefix sums for O(1) window totals."""

    def __init__(self, timeline: Timeline, ideal_len: float) -> None:
        self.timeline = timeline
        self.ideal_len = ideal_len
        self.features = [_sentence_features(s) for s in timeline.sentences]
        self._sums = {
            name: [0, *accumulate(getattr(f, name) for f in self.features)]
            for name in ("words", "question", "numbers", "emphasis", "filler")
        }

    def _total(self, name: str, i: int, j: int) -> int:
        sums = self._sums[name]
        return sums[j] - sums[i]

    def score(self, start: float, end: float) -> _Window:
        t = self.timeline
        length = end - start
        wi, wj = t.word_range(start, end)
        n_words = wj - wi
        if n_words < 5:
            return self._visual(start, end)
        si, sj = t.sentence_range(start, end)
        signals: list[str] = []
        score = 0.0

        # Hook: the clip's first sentence, when the clip starts on it.
        first = t.sentences[t.word_sentence[wi]]
        starts_clean = t.words_between(start, first.start) == 0 and first.first == wi
        if starts_clean:
            f = self.features[t.word_sentence[wi]]
            score += W_HOOK * f.hook
            signals += f.hook_signals

        questions = self._total("question", si, sj)
        numbers = self._total("numbers", si, sj)
        emphasis = self._total("emphasis", si, sj)
        filler = self._total("filler", si, sj)
        per_30s = 30.0 / max(length, 1.0)
        score += W_QUESTIONS * min(1.0, questions / 2)
        score += W_NUMBERS * min(1.0, numbers * per_30s / 2)
        score += W_EMPHASIS * min(1.0, emphasis * per_30s / 2)
        if questions and not (signals and signals[0] == "opens with a question"):
            signals.append(f"{questions} question{'s' if questions > 1 else ''}")
        elif questions > 1:
            signals.append(f"{questions} questions")
        if numbers:
            signals.append(f"{numbers} number{'s' if numbers > 1 else ''}")
        if emphasis:
            signals.append(f"{emphasis} emphasis word{'s' if emphasis > 1 else ''}")

        rate = n_words / max(length, EPS)
        score += W_RATE * _rate_score(rate)
        if _rate_score(rate) >= 0.99:
            signals.append(f"lively pace ({rate:.1f} words/s)")

        opens = starts_clean and first.opens
        last = t.sentences[t.word_sentence[wj - 1]]
        ends_clean = last.complete and last.last == wj - 1
        score += W_COMPLETE * (0.5 * opens + 0.5 * ends_clean)
        if opens and ends_clean:
            signals.append("complete sentences")
        elif ends_clean:
            signals.append("ends on a full stop")

        on_start, on_end = t.is_cut(start), t.is_cut(end)
        score += W_SCENE * (0.5 * on_start + 0.5 * on_end)
        if on_start and on_end:
            signals.append("cut on scene changes")
        elif on_start or on_end:
            signals.append(f"{'starts' if on_start else 'ends'} on a scene change")

        filler_ratio = filler / max(n_words, 1)
        score += W_CLEAN * (1.0 - min(1.0, filler_ratio / 0.08))
        if filler_ratio >= 0.04:
            signals.append(f"filler-heavy ({filler_ratio:.0%} filler words)")
        return _Window(start, end, round(score, 3), signals)

    def _visual(self, start: float, end: float) -> _Window:
        """No (or hardly any) speech: rank by visual activity and whole shots, below speech."""
        t = self.timeline
        ideal = self.ideal_len
        cuts = sum(1 for c in t.scene_cuts if start + EPS < c < end - EPS)
        activity = min(1.0, cuts * 30.0 / max(end - start, 1.0) / 4)
        cut_start, cut_end = t.is_cut(start), t.is_cut(end)
        # Here the video's own start and end count as cuts: whole shots make the cleanest clips.
        on_start = cut_start or start <= EPS
        on_end = cut_end or end >= t.duration - EPS
        fit = max(0.0, 1.0 - abs(end - start - ideal) / ideal)
        score = 10.0 + 20.0 * activity + 5.0 * on_start + 5.0 * on_end + 5.0 * fit
        signals = ["no speech in this stretch"]
        if cuts:
            signals.append(f"{cuts} scene change{'s' if cuts > 1 else ''} inside")
        if cut_start and cut_end:
            signals.append("cut on scene changes")
        elif cut_start or cut_end:
            signals.append(f"{'starts' if cut_start else 'ends'} on a scene change")
        if not t.scene_cuts:
            signals.append("fixed window (no scene changes detected)")
        return _Window(start, end, round(score, 3), signals, speech=False)


def _rate_score(rate: float) -> float:
    """1.0 for 2.0-3.6 words/s (clear, energetic speech), falling to 0 at 0.8 and 5.0."""
    if 2.0 <= rate <= 3.6:
        return 1.0
    if rate < 2.0:
        return max(0.0, (rate - 0.8) / 1.2)
    return max(0.0, (5.0 - rate) / 1.4)


def _tokens(text: str) -> list[str]:
    return [t.replace("’", "'") for t in _TOKEN.findall(text.lower())]


def _drop_filler_pairs(tokens: list[str]) -> tuple[list[str], int]:
    kept: list[str] = []
    pairs = 0
    i = 0
    while i < len(tokens):
        if i + 1 < len(tokens) and (tokens[i], tokens[i + 1]) in _FILLER_PAIRS:
            pairs += 1
            i += 2
            continue
        kept.append(tokens[i])
        i += 1
    return kept, pairs


def _is_number(token: str) -> bool:
    return any(ch.isdigit() for ch in token) or token in _NUMBER_WORDS


def _sentence_features(sentence: Sentence) -> _Features:
    raw = _tokens(sentence.text)
    tokens, pairs = _drop_filler_pairs(raw)
    filler = pairs + sum(1 for t in tokens if t in _FILLER)
    content = [t for t in tokens if t not in _FILLER]
    question = sentence.text.rstrip("\"'”’)] ").endswith("?")
    numbers = sum(1 for t in content if _is_number(t))
    emphasis = sum(1 for t in content if t in _EMPHASIS)

    hook = 0.0
    signals: list[str] = []
    lead = [t for t in content if t not in _LEAD_IN] or content
    opener = lead[0] if lead else ""
    if question:
        hook += 0.35
        signals.append("opens with a question")
    elif opener in _QUESTION_START:
        hook += 0.15
        signals.append("opens with a question word")
    if any(t in _YOU for t in content):
        hook += 0.2
        signals.append("speaks to the viewer")
    curious = {t for t in content if t in _CURIOSITY}
    if question:
        curious.discard(opener)  # "why"/"how" opening a question already scored
    if curious:
        hook += 0.2
        signals.append(f"curiosity words ({', '.join(sorted(curious)[:3])})")
    if numbers:
        hook += 0.15
        signals.append("a number in the opening")
    superlatives = sorted({t for t in content if t in _SUPERLATIVE})
    if superlatives:
        hook += 0.15
        signals.append(f"superlative ({', '.join(superlatives[:2])})")
    if opener in _IMPERATIVE and not question:
        hook += 0.15
        signals.append(f"imperative opening ({opener!r})")
    if 0 < len(raw) <= 12 and hook > 0:
        hook += 0.1
        signals.append("punchy first line")
    elif len(raw) > 30:
        hook -= 0.1
    if raw and raw[0] in _FILLER | {"um", "uh"}:
        hook -= 0.15
    hook = max(0.0, min(1.0, hook))
    return _Features(
        words=len(raw),
        question=int(question),
        numbers=numbers,
        emphasis=emphasis,
        filler=filler,
        hook=hook,
        hook_signals=tuple(signals),
    )


# -- presentation --------------------------------------------------------------------------


def _to_moment(window: _Window, timeline: Timeline) -> Moment:
    hook = shorten(timeline.opening(window.start, window.end), 150)
    if window.speech:
        title = _title(window, timeline) or f"Moment at {clock(window.start)}"
    else:
        title = f"Scene at {clock(window.start)}"
    signals = window.signals or ["steady speech"]
    return Moment(
        start=window.start,
        end=window.end,
        title=title,
        hook=hook,
        score=max(0, min(100, round(window.score))),
        reason="local provider: " + "; ".join(signals),
        text=timeline.text(window.start, window.end),
    )


def _title(window: _Window, timeline: Timeline) -> str:
    """A headline from the window's key sentence: its opener if that is a hook, else the
    sentence with the strongest signals."""
    si, sj = timeline.sentence_range(window.start, window.end)
    if si >= sj:
        return ""
    features = [_sentence_features(s) for s in timeline.sentences[si:sj]]
    if features[0].hook >= 0.3:
        source = timeline.sentences[si]
    else:
        k = max(
            range(len(features)), key=lambda k: (features[k].hook + 0.05 * features[k].numbers, -k)
        )
        source = timeline.sentences[si + k]
    words = source.text.split()
    while words and _tokens(words[0]) and _tokens(words[0])[0] in _LEAD_IN | _FILLER:
        words.pop(0)
    words = [w for w in words if not (_tokens(w) and _tokens(w)[0] in {"um", "uh", "erm"})]
    if not words:
        return ""
    question = source.text.rstrip().endswith("?")
    text = " ".join(words).rstrip(".!?,;:…\"'” ")
    headline = _title_case(text) + ("?" if question else "")
    return shorten(headline, 60)


def _title_case(text: str) -> str:
    out: list[str] = []
    for k, word in enumerate(text.split()):
        bare = word.strip("\"'“”‘’()")
        if k and bare.lower() in _SMALL:
            out.append(word.lower())
        elif word[:1].islower():
            out.append(word[:1].upper() + word[1:])
        else:
            out.append(word)
    return " ".join(out)
