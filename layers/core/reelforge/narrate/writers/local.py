"""The offline writer: slides and narration without a model.

With `source_text` the video is extractive: the text is split into sections (Markdown
headings, or paragraphs grouped evenly), each slide takes one section's title and its
key sentences (scored by the words the whole text keeps coming back to, kept in the
text's order), the narration speaks them and the slide shows them shortened as bullets.
From a topic alone there is nothing to extract: the slides are a generic outline of the
topic, and say so (`notes`, and the last slide's text), so nobody mistakes it for research.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

from reelforge.narrate.schemas import Content, Script, Slide, SlideScript
from reelforge.narrate.writers.base import Brief

_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$")
_SENTENCE = re.compile(r"(?<=[.!?।])\s+(?=[\"'“(\[]?[A-Z0-9\u0900-\u0DFF])")
_WORD = re.compile(r"[^\W\d_][\w'’-]*", re.UNICODE)
_STOP = frozenset(["a", "an", "and", "are", "as", "at", "be", "been", "but", "by", "can", "could", "did", "do", "does", "for", "from", "had", "has", "have", "he", "her", "his", "how", "i", "if", "in", "into", "is", "it", "its", "just", "more", "most", "not", "of", "on", "or", "our", "she", "so", "than", "that", "the", "their", "them", "then", "there", "these", "they", "this", "those", "to", "too", "us", "very", "was", "we", "were", "what", "when", "where", "which", "while", "who", "why", "will", "with", "would", "you", "your", "also", "about", "after", "all", "any", "because", "before", "between", "both", "each", "few", "many", "may", "might", "much", "must", "no", "nor", "only", "other", "over", "same", "should", "some", "such", "through", "under", "until", "up", "upon", "within", "without", "yet", "one", "two"])
NOTE_OUTLINE = ("local provider: a generic outline written from the topic alone (no source text, "
                "no AI model); give source_text, or an X-Gemini-Key, for real content")
NOTE_EXTRACT = "local provider: slides and narration extracted from the source text (no AI model)"


@dataclass
class _Section:
    title: str
    sentences: list[str]


class LocalWriter:
    name = "local"

    def write_content(self, brief: Brief) -> Content:
        return _plan(brief)[0]

    def write_script(self, brief: Brief, content: Content) -> Script:
        # The narration of slides this writer drew is the plan's; a slide edited by the user
        # since (other count or titles) is narrated from its own on-screen text.
        planned, script = _plan(brief)
        by_title = {s.title: n for s, n in zip(planned.slides, script.slide_scripts, strict=True)}
        narrations = []
        for slide in content.slides:
            known = by_title.get(slide.title)
            text = known.narration_text if known else _speak_slide(slide)
            narrations.append(SlideScript(slide_number=slide.slide_number, narration_text=text))
        return Script(topic=content.topic, language=brief.language, slide_scripts=narrations)


def _plan(brief: Brief) -> tuple[Content, Script]:
    if brief.source_text and brief.source_text.strip():
        sections, note = _sections(brief.source_text, brief.num_slides), NOTE_EXTRACT
    else:
        sections, note = _outline(brief), NOTE_OUTLINE
        if brief.language != "english":
            note += (f"; the outline is in English (the local provider writes no {brief.language}): "
                     f"give source_text in {brief.language} for slides in it")
    budget = brief.words_per_slide()
    weights = _word_weights(" ".join(s for sec in sections for s in sec.sentences))
    slides, scripts = [], []
    for i, section in enumerate(sections, start=1):
        chosen = _key_sentences(section.sentences, weights, budget)
        narration = " ".join(chosen)
        bullets = [_shorten(s) for s in chosen[:4]]
        if i == 1 and not brief.source_text:
            body = chosen[0] if chosen else ""
        else:
            body = "\n".join(f"- {b}" for b in bullets)
        keyword = _keyword(section, weights, brief.topic)
        slides.append(Slide(
            slide_number=i, title=section.title[:200], content_text=body[:4000],
            needs_image=i % 2 == 0 or i == 1, image_keyword=keyword,
            duration=round(max(3.0, len(narration.split()) / brief.words_per_second), 1)))
        scripts.append(SlideScript(slide_number=i, narration_text=narration))
    content = Content(topic=brief.topic, total_slides=len(slides), slides=slides, notes=note)
    script = Script(topic=brief.topic, language=brief.language, slide_scripts=scripts)
    return content, script


# --- from a source text ----------------------------------------------------------------------

def _sentences(text: str) -> list[str]:
    text = " ".join(text.split())
    return [s.strip() for s in _SENTENCE.split(text) if len(s.strip()) > 1]


def _sections(text: str, count: int) -> list[_Section]:
    """`count` sections of the text, in order: its headings where it has enough, else its
    paragraphs (or sentences) grouped into `count` runs of similar length."""
    # Lines under each heading, joined before splitting sentences (a sentence may wrap).
    raw: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        m = _HEADING.match(line)
        if m:
            raw.append((m.group(1), []))
        else:
            if not raw:
                raw.append(("", []))
            raw[-1][1].append(line)
    headed = [_Section(title, _sentences(" ".join(lines))) for title, lines in raw]
    headed = [s for s in headed if s.sentences]
    if len(headed) >= count:
        merged = _group(headed, count, key=lambda s: len(s.sentences))
        return [_Section(g[0].title or _title_from(g[0].sentences), [x for s in g for x in s.sentences])
                for g in merged]
    paragraphs = [_sentences(p) for p in re.split(r"\n\s*\n", text) if p.strip()]
    units = [p for p in paragraphs if p]
    if len(units) < count:  # too few paragraphs: split by sentence instead
        units = [[s] for p in units for s in p]
    if not units:
        return [_Section(_title_from([text]), [text.strip()[:400]])]
    groups = _group(units, min(count, len(units)), key=len)
    return [_Section(_title_from(flat), flat) for flat in ([s for u in g for s in u] for g in groups)]


def _group(items: list, count: int, *, key) -> list[list]:  # noqa: ANN001 - list of sections or sentence lists
    """Split `items` (in order) into `count` consecutive runs of about equal total `key`."""
    total = sum(key(x) for x in items) or 1
    groups: list[list] = [[] for _ in range(count)]
    acc = 0.0
    for x in items:
        index = min(count - 1, int(acc / total * count))
        # never leave a later group empty when items run out
        remaining_items = len(items) - sum(len(g) for g in groups)
        empty_after = sum(1 for g in groups[index + 1:] if not g)
        if groups[index] and remaining_items <= empty_after:
            index = next(i for i in range(index + 1, count) if not groups[i])
        groups[index].append(x)
        acc += key(x)
    return [g for g in groups if g]


def _title_from(sentences: list[str]) -> str:
    """A short title from a section's first sentence: its first clause, at most 7 words."""
    first = re.split(r"[,;:—–(]", sentences[0])[0] if sentences else ""
    words = first.split()[:7]
    title = " ".join(words).rstrip(".!?")
    return title[:1].upper() + title[1:] if title else "Overview"


def _word_weights(text: str) -> Counter[str]:
    return Counter(w.lower() for w in _WORD.findall(text) if w.lower() not in _STOP and len(w) > 2)


def _key_sentences(sentences: list[str], weights: Counter[str], budget: int | None) -> list[str]:
    """The section's most central sentences, in text order, filling `budget` words (all of
    the best three when there is no budget)."""
    if not sentences:
        return []

    def score(i: int, s: str) -> float:
        words = [w.lower() for w in _WORD.findall(s)]
        content = [weights[w] for w in words if w in weights]
        position = 1.0 if i == 0 else 0.0  # a section's first sentence usually states its point
        return (sum(math.log1p(c) for c in content) / math.sqrt(len(words) + 1)) + position

    ranked = sorted(range(len(sentences)), key=lambda i: -score(i, sentences[i]))
    chosen: list[int] = []
    words = 0
    limit = budget if budget is not None else None
    for i in ranked:
        n = len(sentences[i].split())
        if limit is None:
            if len(chosen) == 3:
                break
        elif chosen and words + n > limit * 1.1:
            continue
        chosen.append(i)
        words += n
        if limit is not None and words >= limit * 0.9:
            break
    return [sentences[i] for i in sorted(chosen)]


def _shorten(sentence: str, max_words: int = 12) -> str:
    """A bullet from a sentence: its main clause; a long one ends at its last comma that
    keeps 5 words or more, else at a word boundary with an ellipsis."""
    clause = re.split(r"[;:—–]|, (?:which|because|although|while|so|but)\b", sentence)[0].strip()
    words = clause.split()
    if len(words) <= max_words:
        return clause.rstrip(",.;:")
    head = words[:max_words]
    commas = [i for i, w in enumerate(head) if w.endswith(",") and i >= 4]
    if commas:
        return " ".join(head[: commas[-1] + 1]).rstrip(",")
    return " ".join(head).rstrip(",.;:") + "…"


def _keyword(section: _Section, weights: Counter[str], topic: str) -> str:
    words = [w.lower() for w in _WORD.findall(" ".join(section.sentences)) if w.lower() in weights]
    best = sorted(set(words), key=lambda w: -weights[w])[:2]
    return " ".join(best) or topic[:60]


def _speak_slide(slide: Slide) -> str:
    """Narration for a slide the writer did not plan: its title and its text, spoken."""
    lines = [ln.lstrip("-•* ").strip() for ln in slide.content_text.splitlines() if ln.strip()]
    parts = [slide.title.rstrip(".") + "."] + [ln if ln.endswith((".", "!", "?")) else ln + "." for ln in lines]
    return " ".join(parts)


# --- from a topic alone ----------------------------------------------------------------------

_OUTLINE = {
    "formal": [
        ("{topic}", ["This presentation gives an overview of {topic}.",
                     "It covers what it is, why it matters, and how to approach it.",
                     "Each part builds on the one before."]),
        ("What {short} is", ["To begin, it helps to define {topic} clearly.",
                             "A precise definition sets the scope of everything that follows.",
                             "It also separates the core idea from related ones."]),
        ("Why it matters", ["{topic} matters because of its practical consequences.",
                            "Organisations and individuals who understand it make better decisions.",
                            "Ignoring it tends to carry a cost that grows over time."]),
        ("Key ideas", ["A few key ideas explain most of {topic}.",
                       "Each idea is simple on its own; together they form a working model.",
                       "Knowing them well is more useful than knowing many details."]),
        ("Common challenges", ["Most difficulties with {topic} come from a handful of causes.",
                               "Recognising them early makes them much easier to address.",
                               "Clear goals and honest measurement help the most."]),
        ("Getting started", ["A good way to start with {topic} is with one small, concrete step.",
                             "Measure the result, learn from it, and then take the next step.",
                             "Steady practice beats a single large effort."]),
        ("Summary", ["In summary, {topic} rewards a clear definition, a few key ideas and steady practice.",
                     "This outline was written by the local provider from the topic alone.",
                     "Add a source text or an AI provider key for specific content."]),
    ],
    "casual": [
        ("{topic}", ["Let's talk about {topic}.", "Here's the quick, friendly version.",
                     "No jargon, promise."]),
        ("So what is it?", ["First up: what is {topic}, really?", "Think of it in plain everyday terms.",
                            "Once that clicks, the rest is easy."]),
        ("Why care?", ["Why should you care about {topic}?", "Because it shows up more often than you'd think.",
                       "And getting it right saves you time."]),
        ("The big ideas", ["There are just a few big ideas behind {topic}.", "Learn those and you're set.",
                           "Everything else is detail."]),
        ("Watch out for", ["A couple of things trip people up with {topic}.", "Most of them are easy to dodge.",
                           "Keep it simple and check your results."]),
        ("Try it", ["Want to try {topic}? Start small.", "Do one thing today and see how it goes.",
                    "Then build from there."]),
        ("That's a wrap", ["That's {topic} in a nutshell.", "This outline came from the local provider, "
                           "using just the topic.", "Add your own notes for the real details."]),
    ],
    "storytelling": [
        ("{topic}", ["Every subject has a story, and {topic} is no exception.",
                     "Ours begins with a simple question.", "Why does it matter at all?"]),
        ("Where it begins", ["At the start, {topic} looked like a small idea.",
                             "Few people noticed it.", "But small ideas have a way of growing."]),
        ("The turning point", ["Then came the turning point.",
                               "People saw what {topic} could really change.", "Nothing looked quite the same."]),
        ("What we learned", ["Along the way, a few lessons stood out.", "They still guide anyone who takes "
                             "{topic} seriously.", "Each one was learned the hard way."]),
        ("The obstacles", ["No story is without obstacles.", "{topic} had its share of doubts and setbacks.",
                           "Each one taught something new."]),
        ("What comes next", ["And the story isn't over.", "What happens next with {topic} is still being written.",
                             "Perhaps by you."]),
        ("The end, for now", ["That is the story of {topic}, told in outline.",
                              "The local provider wrote it from the topic alone.",
                              "Give it a source text, and it will tell the true story."]),
    ],
}


def _outline(brief: Brief) -> list[_Section]:
    """`num_slides` slides from the tone's outline: the opening, middle parts in order, the close."""
    plan = _OUTLINE.get(brief.tone, _OUTLINE["formal"])
    topic = " ".join(brief.topic.split())
    short = " ".join(topic.split()[:4])
    opening, middle, closing = plan[0], plan[1:-1], plan[-1]
    n = brief.num_slides
    if n == 1:
        parts = [opening]
    else:
        picked = [middle[i % len(middle)] for i in range(n - 2)]
        parts = [opening, *picked, closing]
    sections, seen = [], Counter()
    for title, sentences in parts:
        seen[title] += 1
        suffix = f" ({seen[title]})" if seen[title] > 1 else ""
        sections.append(_Section(title.format(topic=topic, short=short)[:190] + suffix,
                                 [s.format(topic=topic) for s in sentences]))
    if brief.words_per_slide():
        # A longer target than the outline's sentences: say the key sentence again, reworded.
        for section in sections:
            while sum(len(s.split()) for s in section.sentences) < brief.words_per_slide() * 0.9:
                section.sentences.append(f"Remember: {section.sentences[len(section.sentences) % 3].lower()}")
    return sections
