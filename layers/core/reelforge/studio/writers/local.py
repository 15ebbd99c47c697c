"""The offline studio writer: scripts without a model, deterministic and fast.

With a source text the script is the text's own: its structure (Markdown or plain headings,
else paragraph groups) becomes the outline, split or merged to the wanted section count;
its sentences (cleaned, deduplicated, split when longer than LONG_SENTENCE_WORDS) become
the narration, all of them when the text fits the target, else each section's most central
ones in the text's order. A text shorter than the target makes a shorter script, and the
note says so: nothing is invented to pad it.

From a topic alone there is nothing to extract: the script is a generic structure about the
topic (an opening, parts from ASPECTS, a close) written from templates, and the note says
so. Every sentence carries its section's key point, so no sentence repeats across the
script; a section leaves out the key points already in `covered_topics` or the running
summary. Prompts for the picture and the clip come from each sentence's key words, the
visual style and a camera movement that varies from sentence to sentence.
"""

from __future__ import annotations

import math
import re
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from reelforge.studio.writers.base import (
    CAMERA_MOVEMENTS,
    EXPAND_MODES,
    MAX_SOURCE_CHARS,
    WORD_TOLERANCE,
    WORDS_PER_MINUTE,
    CastMember,
    OutlineDraft,
    OutlineSection,
    ScriptBrief,
    ScriptDraft,
    SectionDraft,
    SectionResult,
    SentenceDraft,
    clip,
    join_summary,
    merge_topics,
    outline_sections,
    script_sections,
    split_minutes,
    words_for,
)

LONG_SENTENCE_WORDS = 30  # a source sentence longer than this is split
GENERIC_LABEL = "[local draft] "  # marks an expansion the source text could not supply
NOTE_GENERIC = ("local provider: a generic structure about {topic}, written from templates "
                "(no AI model); set a Gemini key for a written script")
NOTE_SOURCE = "local provider: the script is built from your source text, in its own sentences (no AI model)"
NOTE_SHORT_SOURCE = ("; the source text has about {words} words (about {minutes:.1f} minutes of "
                     "narration), less than the {target:g}-minute target, so the script is shorter: "
                     "it uses all of the text and invents nothing")
NOTE_LONG_SOURCE = ("; the source text is longer than the {target:g}-minute target, so each section "
                    "keeps its most central sentences")
NOTE_ENGLISH_ONLY = "; the local provider writes English only, not {language}"
NOTE_SOURCE_LANGUAGE = ("; the narration keeps the source text's own language (the local provider "
                        "translates nothing)")

_WORD = re.compile(r"[^\W\d_][\w'’-]*", re.UNICODE)


def _set(words: str) -> frozenset[str]:
    return frozenset(words.split())


_STOP = _set("""a an and are as at be been being but by can could did do does doing for from
had has have having he her here hers him his how i if in into is it its itself just me more most
my not of off on once or our ours out own she so than that the their theirs them then there these
they this those to too us very was we were what when where which while who whom why will with
would you your yours also about after again all any because before between both each few many
may might much must no nor only other over same should some such through under until up upon
within without yet one two three first last next new get got make made like well even still
ever every way ways thing things lot lots often really quite during less back down around
per via across among almost already always another anything around away else enough here however
instead least let mostly nearly never now off onto perhaps rather since soon sometimes somewhat
though thus together toward towards usually whether whose said says say see seen use used uses
using take takes took go goes went come comes came put puts keep keeps give gives gave""")
_ARTICLES = _set("the a an how why what when where who which this that these those")
_ABBREVIATIONS = _set("mr. mrs. ms. dr. prof. st. jr. sr. vs. e.g. i.e. no. fig. approx. "
                      "inc. ltd. co. mt. ft. gen. col. capt. rev. sgt.")
_CONJUNCTIONS = _set("and but so which while because although though whereas or yet")

_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$")
_SETEXT = re.compile(r"^\s{0,3}(?:=+|-+)\s*$")
_BULLET = re.compile(r"^\s*(?:[-*+•·–—]|\d{1,3}[.)])\s+")
_SENTENCE_END = re.compile(
    r"[.!?…।]+[\"'”’)\]]*(?=\s+[\"'“‘(\[]?[A-Z0-9\u00C0-\u00DE\u0370-\u03FF\u0400-\u042F\u0900-\u0DFF])"
    r"|[。！？]+[”’」』)]*")
_TERMINAL = ('.', '!', '?', '…', '"', '”', "'", '’', ')', '।', '。', '！', '？', '」', '』')
_INLINE_MD = [
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),  # images
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),  # links
    (re.compile(r"`([^`]*)`"), r"\1"),
    (re.compile(r"(\*\*|__)(.+?)\1"), r"\2"),
    (re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])"), r"\1"),
    (re.compile(r"<[^>\n]{1,80}>"), " "),  # html tags
]

# Picture and clip vocabulary, cycled deterministically.
_CAMERA_CYCLE = ("static", "zoom_in", "pan_right", "orbit", "zoom_out", "pan_left", "truck")
assert set(_CAMERA_CYCLE) == set(CAMERA_MOVEMENTS)
_SHOTS = ("wide establishing shot", "medium shot", "close-up", "aerial view", "detail shot",
          "low-angle shot", "eye-level shot", "over-the-shoulder shot")
_LIGHTS = ("soft morning light", "golden hour light", "dramatic side lighting",
           "overcast diffuse light", "warm interior light", "cool blue twilight")
_SCENES = ("people at work", "a close look at the details", "an everyday street scene",
           "a quiet workshop", "a busy public space", "an archive of old photographs",
           "a bright modern studio", "hands demonstrating a technique", "a landscape at dawn",
           "a small group in conversation", "a classroom with a whiteboard", "a city skyline")
_MOVES = {
    "static": "Locked-off static shot of {subject}, only subtle natural motion in the frame",
    "pan_left": "Slow pan to the left across {subject}, revealing the scene",
    "pan_right": "Slow pan to the right across {subject}, revealing the scene",
    "zoom_in": "Gentle push in toward {subject}, drawing the viewer closer",
    "zoom_out": "Slow pull back from {subject}, widening to show the surroundings",
    "orbit": "Smooth orbit around {subject}, keeping it centred",
    "truck": "Tracking shot moving sideways alongside {subject}",
}


class _Line(NamedTuple):
    """A sentence before dressing: its text, who speaks it, what its picture shows."""

    text: str
    speaker: str | None = None
    subject: str | None = None  # None: the sentence's own key words


# --- the writer --------------------------------------------------------------------------------

class LocalWriter:
    """Scripts from the source text, or a labelled generic structure from the topic alone."""

    name = "local"

    def outline(self, brief: ScriptBrief, *, sections: int | None = None) -> OutlineDraft:
        count = max(1, sections or outline_sections(brief.target_minutes))
        if brief.has_source:
            return _source_outline(brief, count)
        return _topic_outline(brief, count)

    def section(self, brief: ScriptBrief, outline: OutlineDraft, index: int, *,
                running_summary: str, covered_topics: list[str]) -> SectionResult:
        if not 0 <= index < len(outline.sections):
            raise IndexError(f"section index {index} is outside the outline's {len(outline.sections)} sections")
        planned = outline.sections[index]
        if brief.has_source:
            lines, points = _source_section(brief, outline, index)
        else:
            lines, points = _topic_section(brief, outline, index, running_summary, covered_topics)
        sentences = _dress(lines, brief, offset=index)
        gist = f"{planned.title}: {', '.join(points)}." if points else f"{planned.title}."
        return SectionResult(
            section=SectionDraft(title=planned.title, sentences=sentences),
            summary=join_summary(running_summary, clip(gist, 300)),
            covered_topics=merge_topics(list(covered_topics), points))

    def script(self, brief: ScriptBrief) -> ScriptDraft:
        outline = self.outline(brief, sections=script_sections(brief.target_minutes))
        summary, covered, sections = "", [], []
        for i in range(len(outline.sections)):
            result = self.section(brief, outline, i, running_summary=summary, covered_topics=covered)
            sections.append(result.section)
            summary, covered = result.summary, result.covered_topics
        return ScriptDraft(title=outline.title, sections=sections, note=outline.note)

    def expand(self, brief: ScriptBrief, *, section_title: str, context: list[str], after: str | None,
               count: int, mode: str, prompt: str | None) -> list[SentenceDraft]:
        if mode not in EXPAND_MODES:
            raise ValueError(f"unknown expand mode {mode!r}; valid modes: {', '.join(EXPAND_MODES)}")
        count = max(1, count)
        used = {_key(c) for c in context}
        anchor = _find(context, after) if after else len(context) - 1
        guided = mode == "guided" and bool(prompt and prompt.strip())
        lines: list[_Line] = []
        if brief.has_source:
            lines = _source_continuation(brief, context, after, count, prompt if guided else None)
            used |= {_key(line.text) for line in lines}
        if len(lines) < count:
            label = GENERIC_LABEL if brief.has_source else ""
            topic = _topic_phrase(brief.topic)
            point = _prompt_phrase(prompt) if guided else None
            for text in _continuations(topic, point, section_title):
                if len(lines) == count:
                    break
                if _key(text) not in used:
                    used.add(_key(text))
                    lines.append(_Line(label + text, None, point or topic))
        offset = zlib.crc32(section_title.encode()) % len(_CAMERA_CYCLE)
        return _dress(lines, brief, offset=offset, start=anchor + 1)


# --- dressing sentences: prompts and camera ----------------------------------------------------

def _dress(lines: list[_Line], brief: ScriptBrief, *, offset: int,
           start: int = 0) -> list[SentenceDraft]:
    style = " ".join(brief.visual_style.split()) or "cinematic"
    theme = _topic_phrase(brief.topic)
    drafts = []
    for i, (text, speaker, hint) in enumerate(lines, start=start):
        k = i + offset * 3
        camera = _CAMERA_CYCLE[(offset * 2 + i * 3) % len(_CAMERA_CYCLE)]
        if hint:  # a template sentence: its point, in a scene (its other words are filler)
            subject = f"{_strip_article(hint)}, {_SCENES[(k * 7 + offset) % len(_SCENES)]}"
        else:
            subject = ", ".join(_keywords(text.removeprefix(GENERIC_LABEL), 5)) or theme
        people = _people_in(text, speaker, brief.cast)
        featuring = "".join(f", featuring {_person(m)}" for m in people)
        image = (f"{_SHOTS[k % len(_SHOTS)]} of {subject}{featuring}, {theme} theme, {style} style, "
                 f"{_LIGHTS[(k * 5 + offset) % len(_LIGHTS)]}, highly detailed, no text")
        video = (f"{_MOVES[camera].format(subject=subject)}{featuring}, {style} style, "
                 "smooth steady camera, natural pacing")
        drafts.append(SentenceDraft(text=clip(text, 1000), image_prompt=clip(image, 2000),
                                    video_prompt=clip(video, 2000), camera_movement=camera,
                                    speaker=speaker))
    return drafts


def _strip_article(phrase: str) -> str:
    first, _, rest = phrase.partition(" ")
    return rest if rest and first.lower() in ("the", "a", "an") else phrase


def _person(member: CastMember) -> str:
    description = clip(member.description, 160)
    return f"{member.name} ({description})" if description else member.name


def _people_in(text: str, speaker: str | None, cast: tuple[CastMember, ...]) -> list[CastMember]:
    lowered = text.lower()
    return [m for m in cast if m.name == speaker
            or (m.name.strip() and re.search(rf"\b{re.escape(m.name.lower())}\b", lowered))]


def _keywords(text: str, limit: int) -> list[str]:
    """The sentence's content words in order (no stopwords, no repeats): a picture's subject."""
    seen, words = set(), []
    for w in _WORD.findall(text):
        low = w.lower().strip("'’-")
        if len(low) <= 2 or low in _STOP or low in seen:
            continue
        seen.add(low)
        words.append(w.strip("'’-"))
        if len(words) == limit:
            break
    return words


# --- phrases -----------------------------------------------------------------------------------

def _mid_sentence(phrase: str) -> str:
    """`phrase` as it reads inside a sentence: a leading article or a sentence-case first word
    is lowercased ("The Roman Empire" -> "the Roman Empire", "Urban beekeeping" -> "urban
    beekeeping"); names and acronyms ("Rome and its emperors", "NASA missions") are kept."""
    words = phrase.split()
    if not words:
        return phrase
    first = words[0]
    if first.lower() in _ARTICLES or (
            first[:1].isupper() and first[1:].islower() and len(words) > 1
            and words[1][:1].islower() and words[1].lower() not in _STOP):
        return first[:1].lower() + phrase[1:]
    return phrase


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _topic_phrase(topic: str) -> str:
    """The topic as a short noun phrase for templates: all of it when short, else its first
    clause when short, else its first run of content words ("How artificial intelligence is
    changing medicine" -> "artificial intelligence"), else its first words."""
    text = " ".join((topic or "").split()).strip(" .!?;:,")
    if len(text.split()) > 6:
        head = re.split(r"[.;:!?()\[\]—–]|,\s", text)[0].strip()
        if 0 < len(head.split()) <= 6:
            text = head
        else:
            runs, run = [], []
            for w in text.split():
                bare = w.strip(".,;:!?\"'()")
                if bare and bare.lower() not in _STOP and not bare.lower().endswith("ing"):
                    run.append(bare)
                else:
                    runs.append(run)
                    run = []
            runs.append(run)
            core = next((r for r in runs if len(r) >= 2), None)
            text = " ".join(core[:4]) if core else " ".join(text.split()[:6])
    return _mid_sentence(text) or "this subject"


_PROMPT_VERBS = re.compile(
    r"^(?:please\s+)?(?:(?:can|could|would)\s+you\s+)?(?:add|write|talk|say|explain|describe|mention|"
    r"discuss|cover|focus|elaborate|expand|include|give|tell|show|continue|go)\b"
    r"(?:\s+(?:more|something|a\s+bit|a\s+little|some|sentences?|details?|lines?|me|us))*"
    r"(?:\s+(?:about|on|regarding|of|with|into|to))?\s*", re.IGNORECASE)


def _prompt_phrase(prompt: str | None) -> str | None:
    """A guided expansion's prompt as a short noun phrase ("explain the costs" -> "the costs")."""
    if not prompt:
        return None
    text = " ".join(prompt.split()).strip(" .!?")
    text = _PROMPT_VERBS.sub("", text).strip(" .!?,") or text
    words = text.split()[:8]
    while len(words) > 1 and words[-1].lower() in _STOP:
        words.pop()
    return _mid_sentence(" ".join(words)) or None


def _key(text: str) -> str:
    """Identity of a sentence: its letters and digits, lowercased (markers and spacing aside)."""
    return "".join(ch for ch in text.removeprefix(GENERIC_LABEL).lower() if ch.isalnum())


def _find(context: list[str], sentence: str) -> int:
    target = _key(sentence)
    for i, text in enumerate(context):
        if _key(text) == target:
            return i
    return len(context) - 1


def _words(text: str) -> int:
    return len(text.split())


def _fill(candidates: Iterator[_Line], budget: int, used: set[str], words: int = 0) -> list[_Line]:
    """Candidates (new ones only) while each brings the word count closer to `budget`."""
    out: list[_Line] = []
    for line in candidates:
        key = _key(line.text)
        if key in used:
            continue
        n = _words(line.text)
        if (out or words) and words + n / 2 >= budget:
            break
        used.add(key)
        out.append(line)
        words += n
    return out


# --- from a topic alone ------------------------------------------------------------------------

@dataclass(frozen=True)
class _Aspect:
    title: str  # with {topic} (mid-sentence form) or {Topic} (capitalised)
    points: tuple[str, ...]


OPENING = _Aspect("Introducing {topic}", (
    "a first look at {topic}", "why {topic} matters today", "the story behind {topic}"))
CLOSING = _Aspect("Bringing {topic} together", (
    "the main takeaways about {topic}", "a final thought on {topic}", "the next steps after this video"))
OVERVIEW = _Aspect("{Topic} at a glance", (
    "a first look at {topic}", "the key ideas of {topic}", "the main takeaways about {topic}"))
ASPECTS = (
    _Aspect("Where {topic} comes from", ("the origins of {topic}", "the first people to explore {topic}",
                                         "early ideas about {topic}")),
    _Aspect("The basics of {topic}", ("the core terms of {topic}", "a plain definition of {topic}",
                                      "the simplest form of {topic}")),
    _Aspect("Why {topic} matters", ("the practical value of {topic}", "the people who benefit from {topic}",
                                    "the cost of ignoring {topic}")),
    _Aspect("The key ideas behind {topic}", ("the central principle of {topic}",
                                             "the connections within {topic}",
                                             "a simple mental model of {topic}")),
    _Aspect("{Topic} in everyday life", ("{topic} at home", "{topic} at work",
                                         "small daily examples of {topic}")),
    _Aspect("How {topic} works", ("the process behind {topic}", "the parts that make up {topic}",
                                  "what happens behind the scenes of {topic}")),
    _Aspect("The people behind {topic}", ("the experts who shape {topic}", "the communities around {topic}",
                                          "newcomers to {topic}")),
    _Aspect("Tools and methods of {topic}", ("the main tools of {topic}", "proven methods in {topic}",
                                             "the choice of an approach to {topic}")),
    _Aspect("Common misconceptions about {topic}", ("the most common myth about {topic}",
                                                     "half-truths about {topic}",
                                                     "the limits of popular advice on {topic}")),
    _Aspect("The challenges of {topic}", ("the hardest problems in {topic}", "the practical limits of {topic}",
                                          "the risks that come with {topic}")),
    _Aspect("Costs and benefits of {topic}", ("the real costs of {topic}", "the long-term benefits of {topic}",
                                              "the trade-offs of {topic}")),
    _Aspect("A case study in {topic}", ("a typical success story in {topic}",
                                        "a project in {topic} that went wrong",
                                        "the lessons of a real example of {topic}")),
    _Aspect("{Topic} around the world", ("{topic} in different countries", "local traditions of {topic}",
                                         "global trends in {topic}")),
    _Aspect("How {topic} has changed", ("the turning points of {topic}", "the role of technology in {topic}",
                                        "{topic} then and now")),
    _Aspect("The science of {topic}", ("the evidence behind {topic}", "the research on {topic}",
                                       "the open questions about {topic}")),
    _Aspect("Getting started with {topic}", ("the first step into {topic}", "beginner mistakes in {topic}",
                                             "good resources for learning {topic}")),
    _Aspect("Mastering {topic}", ("advanced techniques in {topic}", "the habits of experts in {topic}",
                                  "the measurement of progress in {topic}")),
    _Aspect("{Topic} and society", ("the social impact of {topic}", "{topic} in public debate",
                                    "fair access to {topic}")),
    _Aspect("The ethics of {topic}", ("the ethical questions around {topic}", "the responsible use of {topic}",
                                      "accountability in {topic}")),
    _Aspect("{Topic} and the environment", ("the environmental footprint of {topic}",
                                            "sustainable approaches to {topic}",
                                            "{topic} and natural resources")),
    _Aspect("The business of {topic}", ("the market around {topic}", "careers in {topic}",
                                        "the economics of {topic}")),
    _Aspect("Surprising facts about {topic}", ("a surprising fact about {topic}",
                                               "an overlooked detail of {topic}",
                                               "a counterintuitive result in {topic}")),
    _Aspect("Lessons from {topic}", ("the key lessons of {topic}", "what experience teaches about {topic}",
                                     "the mistakes worth avoiding in {topic}")),
    _Aspect("The future of {topic}", ("the future of {topic}", "emerging trends in {topic}",
                                      "the next developments to watch in {topic}")),
)
_REVISITS = ("a second look at", "a third look at", "one more look at")

HOOKS = (
    "What if everything you thought you knew about {topic} was only half of the story?",
    "This video takes a clear, step-by-step look at {topic} and why it deserves your attention.",
    "By the end, you will know the main ideas of {topic} and how they fit together.",
)
CLOSINGS = (
    "We have covered a lot of ground on {topic}, from the first ideas to what comes next.",
    "The main lesson is simple: {topic} rewards curiosity, patience and steady practice.",
    "Thank you for watching this look at {topic}; there is always more to explore on your own.",
)
BRIDGE = "Having covered {previous}, we now turn to {current}."
BODIES = (
    "A good place to begin is {point}, because so much of the rest depends on it.",
    "Many people first meet {topic} through {point}, often without even noticing it.",
    "Looking closely at {point} shows how much detail hides inside {topic}.",
    "The details of {point} are easy to overlook, yet they shape the whole picture.",
    "It is worth pausing on {point}, since it explains a great deal about {topic}.",
    "Experts often describe {point} as the part that surprises newcomers the most.",
    "One useful way to think about {point} is as a set of simple, connected steps.",
    "The story of {point} is full of small decisions that added up over time.",
    "Few parts of {topic} are discussed as often as {point}, and for good reason.",
    "There is a practical side to {point} that anyone can try for themselves.",
    "Questions about {point} lead straight to the bigger questions about {topic}.",
    "When people get {point} right, the rest of {topic} tends to fall into place.",
    "Numbers alone cannot capture {point}; the human experience matters just as much.",
    "Each generation has found its own answers about {point}, building on the last.",
    "Small changes in {point} can have surprisingly large effects across {topic}.",
    "The clearest examples of {point} often come from ordinary, everyday situations.",
    "Critics and supporters alike agree that {point} deserves careful attention.",
    "Think of {point} as a map that shows where {topic} has been and where it goes.",
    "Getting familiar with {point} takes patience, but the effort pays off quickly.",
    "The most common mistake with {point} is to treat it as simpler than it really is.",
    "Behind {point} there is usually a trade-off between speed, cost and quality.",
    "Stories from people who lived through {point} make the whole subject feel real.",
    "A simple comparison helps here: {point} works much like a well-planned journey.",
    "Anyone curious about {topic} will find that {point} rewards a second look.",
)
OPENERS = ("", "In practice, ", "Seen up close, ", "For many viewers, ", "Over the years, ",
           "At its heart, ", "Put simply, ", "Step by step, ", "Time and again, ", "Today, ",
           "Above all, ", "In many places, ")
DIALOGUE = (
    "I still remember the first time {point} really made sense to me.",
    "Honestly, I think {point} is the part that everyone underestimates.",
    "Let me tell you what I learned about {point} the hard way.",
    "I have seen {point} change the way people talk about {topic}.",
    "If you ask me, {point} is where the real story of {topic} begins.",
    "I was sceptical about {point} at first, but the results convinced me.",
    "When I explain {point} to friends, I always start with one simple example.",
    "I keep coming back to {point}, because it never stops surprising me.",
)
CONTINUATIONS = (
    "Building on that, there is still more to discover about {topic}.",
    "Another detail adds depth here, and it changes how {topic} looks up close.",
    "This leads naturally to the next question people tend to ask about {topic}.",
    "A concrete example makes this clearer for anyone who is new to {topic}.",
    "One more perspective is worth adding before moving on from this part of {topic}.",
    "The same pattern appears again and again once you start looking at {topic}.",
    "Not everyone agrees on this, and the debate itself says a lot about {topic}.",
    "Put into practice, the idea becomes much easier to see and to remember.",
)


def _fmt(template: str, topic: str, **values: str) -> str:
    return template.format(topic=topic, Topic=_cap(topic), **values)


def _after_opener(opener: str, body: str) -> str:
    if not opener:
        return body
    first = body.split(" ", 1)[0]
    keep = first == "I" or first.startswith(("I'", "I’")) or (first.isupper() and len(first) > 1)
    return opener + (body if keep else body[:1].lower() + body[1:])


def _opener(rest: int, templates: int, n: int) -> str:
    """The opener of the `n`-th candidate (`rest`-th pass over `templates` templates): the first
    pass is mostly plain, every later one puts an opener before each template (repeats of a
    whole sentence are skipped by the caller)."""
    lap = rest // templates
    if lap == 0:
        return "" if n % 3 == 0 else OPENERS[1 + n % (len(OPENERS) - 1)]
    return OPENERS[1 + (lap - 1 + n) % (len(OPENERS) - 1)]


def _topic_plan(count: int) -> list[tuple[_Aspect, int]]:
    """(aspect, how many times it was used before) for each of `count` sections."""
    if count == 1:
        return [(OVERVIEW, 0)]
    middle = [(ASPECTS[i % len(ASPECTS)], i // len(ASPECTS)) for i in range(count - 2)]
    return [(OPENING, 0), *middle, (CLOSING, 0)]


def _aspect_title(aspect: _Aspect, rounds: int, topic: str) -> str:
    title = _fmt(aspect.title, topic)
    return clip(f"{title}, part {rounds + 1}" if rounds else title, 255)


def _aspect_points(aspect: _Aspect, rounds: int, topic: str) -> list[str]:
    points = [_fmt(p, topic) for p in aspect.points]
    if rounds:
        prefix = _REVISITS[min(rounds, len(_REVISITS)) - 1]
        suffix = f" (part {rounds + 1})" if rounds > len(_REVISITS) else ""
        points = [f"{prefix} {p}{suffix}" for p in points]
    return points


def _topic_outline(brief: ScriptBrief, count: int) -> OutlineDraft:
    topic = _topic_phrase(brief.topic)
    minutes = split_minutes(brief.target_minutes, count)
    sections = []
    for (aspect, rounds), m in zip(_topic_plan(count), minutes, strict=True):
        points = _aspect_points(aspect, rounds, topic)
        sections.append(OutlineSection(
            title=_aspect_title(aspect, rounds, topic),
            description=clip(f"A look at {points[0]}, {points[1]} and {points[2]}.", 1000),
            target_minutes=m, key_points=points))
    return OutlineDraft(title=_script_title(brief.topic), sections=sections, note=_topic_note(brief))


def _script_title(topic: str) -> str:
    return clip(_cap(" ".join(topic.split())), 255) or "Untitled script"


def _topic_note(brief: ScriptBrief) -> str:
    note = NOTE_GENERIC.format(topic=clip(brief.topic, 80) or "the topic")
    if brief.language.strip().lower() not in ("", "english", "en"):
        note += NOTE_ENGLISH_ONLY.format(language=brief.language)
    return note


def _topic_section(brief: ScriptBrief, outline: OutlineDraft, index: int, running_summary: str,
                   covered_topics: list[str]) -> tuple[list[_Line], list[str]]:
    """A section's sentences from templates, and the key points it covered."""
    planned = outline.sections[index]
    topic = _topic_phrase(brief.topic)
    title_phrase = _title_phrase(planned.title, topic)
    budget = words_for(planned.target_minutes)
    last = len(outline.sections) - 1
    role = "single" if last == 0 else "opening" if index == 0 else "closing" if index == last else "body"

    # Key points: the planned ones not already covered (covered_topics or the running summary).
    done = {" ".join(t.lower().split()) for t in covered_topics}
    summary = " ".join(running_summary.lower().split())

    def fresh(p: str) -> bool:
        key = " ".join(p.lower().split())
        return key not in done and key not in summary

    points = [" ".join(p.split()) for p in planned.key_points if p.strip() and fresh(p)]
    if not points:
        extra = [f"the finer points of {title_phrase}", f"new angles on {title_phrase}"]
        points = [p for p in extra if fresh(p)] or extra

    used: set[str] = set()
    lines: list[_Line] = []
    if role in ("opening", "single"):
        hooks = HOOKS[:1] if budget < 60 else HOOKS[:2]
        lines += _fill((_Line(_fmt(h, topic), None, topic) for h in hooks), budget, used)
    elif budget >= 60:
        previous = _previous_title(running_summary, outline) or outline.sections[index - 1].title
        bridge = BRIDGE.format(previous=_title_phrase(previous, topic), current=title_phrase)
        lines += _fill(iter([_Line(bridge, None, title_phrase)]), budget, used)
    words = sum(_words(line.text) for line in lines)
    closing: list[_Line] = []
    if role in ("closing", "single"):
        closing = [_Line(_fmt(c, topic), None, topic) for c in (CLOSINGS[:1] if budget < 90 else CLOSINGS)]
        if role == "single":
            closing = closing[:1]
        words += sum(_words(line.text) for line in closing)
        used |= {_key(line.text) for line in closing}
    cast = brief.cast if role == "body" else ()
    lines += _fill(_body_candidates(topic, points, cast, index), budget, used, words)
    return lines + closing, points


def _title_phrase(title: str, topic: str) -> str:
    """A section title inside a sentence: its first word lowercased ("Introducing Tides" ->
    "introducing Tides") unless the title starts with the topic or a name or acronym."""
    title = clip(title, 80).rstrip(".")
    if title.lower().startswith(topic.lower()):
        return topic + title[len(topic):]
    first = title.split(" ", 1)[0]
    if first[:1].isupper() and first[1:].islower():
        return title[:1].lower() + title[1:]
    return title


def _point_forms(point: str, topic: str) -> tuple[str, str]:
    """A key point as a sentence carries it: (on its own, beside a mention of the topic). The
    second drops a trailing "of <topic>" ("the origins of bees" -> "the origins")."""
    words = point.strip().rstrip(".!?;:").split()
    if len(words) > 10:
        words = words[:10]
        while len(words) > 1 and words[-1].lower() in _STOP:
            words.pop()
    full = _mid_sentence(" ".join(words))
    pattern = rf"^(.+?)\s+(?:of|about|in|on|to|into|around|behind|with|for|from)\s+{re.escape(topic)}$"
    short = re.match(pattern, full, re.IGNORECASE)
    return full, (short.group(1) if short and short.group(1).lower() not in _ARTICLES else full)


def _previous_title(running_summary: str, outline: OutlineDraft) -> str | None:
    """The section the running summary ends with ("<title>: <points>.", as this writer writes
    it), when it is one of the outline's; None otherwise (another writer's summary)."""
    lines = [ln for ln in running_summary.splitlines() if ln.strip()]
    if not lines:
        return None
    titles = {s.title.lower(): s.title for s in outline.sections}
    last = lines[-1].lower()
    found = [t for t in titles if last.startswith(t + ":")]
    return titles[max(found, key=len)] if found else None


def _about(template: str, topic: str, point: str) -> str:
    full, short = _point_forms(point, topic)
    return _fmt(template, topic, point=short if "{topic}" in template else full)


def _body_candidates(topic: str, points: list[str], cast: tuple[CastMember, ...],
                     index: int) -> Iterator[_Line]:
    """Sentences about the points: every (point, template, opener) in turn, a cast member's
    first-person line every fourth sentence when there is a cast, then numbered fallbacks."""
    speakers = [m for m in cast if m.name.strip()]
    spoken_lines = _dialogue(topic, points, speakers, index) if speakers else iter(())
    count = 0
    for rest in range(len(BODIES) * len(OPENERS)):
        for j, point in enumerate(points):
            if speakers and count % 4 == 3:
                spoken = next(spoken_lines, None)
                if spoken is not None:
                    count += 1
                    yield spoken
            body = _about(BODIES[(rest + j * 5) % len(BODIES)], topic, point)
            yield _Line(_after_opener(_opener(rest, len(BODIES), count), body), None, point)
            count += 1
    n = 0
    while True:  # only for sections far longer than any outline plans
        n += 1
        for point in points:
            yield _Line(f"Note {n} on {_point_forms(point, topic)[0]}: every detail here adds to "
                        f"the picture of {topic}.", None, point)


def _dialogue(topic: str, points: list[str], speakers: list[CastMember],
              index: int) -> Iterator[_Line]:
    k = 0
    for t in range(len(DIALOGUE)):
        for j, point in enumerate(points):
            speaker = speakers[(index + k) % len(speakers)].name
            k += 1
            yield _Line(_about(DIALOGUE[(t + j * 3) % len(DIALOGUE)], topic, point), speaker, point)


def _continuations(topic: str, point: str | None, section_title: str) -> Iterator[str]:
    """Generic sentences continuing a section: about `point` (a guided prompt) or the topic."""
    templates = BODIES if point else CONTINUATIONS
    for rest in range(len(templates) * len(OPENERS)):
        body = _about(templates[rest % len(templates)], topic, point) if point else _fmt(
            templates[rest % len(templates)], topic)
        yield _after_opener(_opener(rest, len(templates), rest), body)
    title = _mid_sentence(clip(section_title, 80).rstrip("."))
    n = 0
    while True:
        n += 1
        yield f"Note {n} on {title}: every detail here adds to the picture of {topic}."


# --- from a source text ------------------------------------------------------------------------

@dataclass(frozen=True)
class _Part:
    title: str
    heading: str  # the text's own heading this part came from ("" if none)
    paragraphs: tuple[tuple[str, ...], ...]

    @property
    def sentences(self) -> list[str]:
        return [s for p in self.paragraphs for s in p]

    @property
    def words(self) -> int:
        return sum(_words(s) for p in self.paragraphs for s in p)


@dataclass(frozen=True)
class _Doc:
    title: str  # the text's first heading, when it comes before any sentence
    blocks: tuple[_Part, ...]  # per heading, in order, each with sentences
    sentences: tuple[str, ...]  # all of them, in order
    weights: Counter[str]

    @property
    def words(self) -> int:
        return sum(_words(s) for s in self.sentences)


def _clean_inline(text: str) -> str:
    for pattern, replacement in _INLINE_MD:
        text = pattern.sub(replacement, text)
    return " ".join(text.split())


def _terminate(text: str) -> str:
    text = text.rstrip(" ,;:-–—")
    return text if text.endswith(_TERMINAL) else text + "."


def _split_sentences(paragraph: str) -> list[str]:
    out, start = [], 0
    for m in _SENTENCE_END.finditer(paragraph):
        piece = paragraph[start:m.end()].strip()
        last = piece.rsplit(" ", 1)[-1].lower()
        if last in _ABBREVIATIONS or re.fullmatch(r"[A-Z]\.", piece.rsplit(" ", 1)[-1]):
            continue  # "Dr. Smith", "J. Smith": not a sentence end
        out.append(piece)
        start = m.end()
    rest = paragraph[start:].strip()
    if rest:
        out.append(rest)
    return [s for s in out if any(ch.isalnum() for ch in s)]


def _split_long(sentence: str) -> list[str]:
    """A sentence longer than LONG_SENTENCE_WORDS in parts: at the clause break (; : — or a
    comma before a conjunction, else any comma) nearest its middle, else at the middle."""
    words = sentence.split()
    if len(words) <= LONG_SENTENCE_WORDS:
        return [sentence]
    middle = len(words) / 2
    best: tuple[int, float, int] | None = None
    for i, w in enumerate(words[:-1]):
        left, right = i + 1, len(words) - i - 1
        if left < 6 or right < 6:
            continue
        following = words[i + 1].lower()
        if w.endswith((";", ":")) or words[i + 1] in ("—", "–", "-"):
            rank = 0
        elif w.endswith(",") and following in _CONJUNCTIONS:
            rank = 1
        elif w.endswith(","):
            rank = 2
        else:
            continue
        candidate = (rank, abs(left - middle), i)
        if best is None or candidate < best:
            best = candidate
    if best is None:
        cut = round(middle)
        first, second = " ".join(words[:cut]).rstrip(",;:") + "…", " ".join(words[cut:])
    else:
        i = best[2]
        first = _terminate(" ".join(words[: i + 1]))
        rest = words[i + 1:]
        if rest and rest[0] in ("—", "–", "-"):
            rest = rest[1:]
        second = _cap(" ".join(rest))
    return _split_long(first) + _split_long(second)


def _is_plain_heading(lines: list[str], i: int) -> bool:
    """A short line standing alone (blank before it) with no sentence punctuation, followed
    by running text: a heading of a plain-text document."""
    line = lines[i].strip()
    if not line or (i > 0 and lines[i - 1].strip()) or _BULLET.match(lines[i]):
        return False
    words = line.split()
    if len(words) > 10 or line.endswith((".", ",", ";", ":", "!", "…", '"', "”")) or ". " in line:
        return False
    if not (line[:1].isupper() or line[:1].isdigit()):
        return False
    following = next((ln.strip() for ln in lines[i + 1:] if ln.strip()), None)
    if following is None or _SETEXT.match(following):
        return False
    if i + 1 < len(lines) and lines[i + 1].strip()[:1].islower():
        return False  # the line wraps on into the next: running text
    return len(following.split()) > 10 or following.endswith((".", "!", "?", "…", '"', "”"))


@lru_cache(maxsize=8)
def _parse(text: str) -> _Doc:
    """The text's blocks (per heading), paragraphs and cleaned, deduplicated sentences."""
    lines = text[:MAX_SOURCE_CHARS].replace("\r\n", "\n").replace("\r", "\n").split("\n")
    raw: list[tuple[str, list[str]]] = [("", [])]  # (heading, paragraph texts)
    current: list[str] = []

    def flush() -> None:
        if current:
            raw[-1][1].append(" ".join(current))
            current.clear()

    for i, line in enumerate(lines):
        stripped = line.strip()
        if not stripped:
            flush()
            continue
        if _SETEXT.match(line):
            if len(current) == 1:  # Setext heading: the line above is underlined
                heading = current.pop()
                raw.append((_clean_inline(heading), []))
            else:
                flush()  # a horizontal rule
            continue
        heading = _MD_HEADING.match(line)
        if heading or _is_plain_heading(lines, i):
            flush()
            raw.append((_clean_inline(heading.group(1) if heading else stripped).strip(" #"), []))
            continue
        bullet = _BULLET.match(line)
        if bullet:
            flush()
            current.append(_terminate(line[bullet.end():].strip()))
            flush()
            continue
        current.append(stripped)
    flush()

    seen: set[str] = set()
    blocks: list[_Part] = []
    doc_title = ""
    everything: list[str] = []
    for heading, paragraphs in raw:
        kept: list[tuple[str, ...]] = []
        for paragraph in paragraphs:
            sentences = []
            for s in _split_sentences(_clean_inline(paragraph)):
                for piece in _split_long(_terminate(s)):
                    key = _key(piece)
                    if key and key not in seen:
                        seen.add(key)
                        sentences.append(piece)
            if sentences:
                kept.append(tuple(sentences))
        if not doc_title and heading and not everything:
            doc_title = heading
        if kept:
            blocks.append(_Part(title=heading, heading=heading, paragraphs=tuple(kept)))
            everything += [s for p in kept for s in p]
    weights = Counter(w.lower() for s in everything for w in _WORD.findall(s)
                      if len(w) > 2 and w.lower() not in _STOP)
    return _Doc(title=doc_title, blocks=tuple(blocks), sentences=tuple(everything), weights=weights)


def _partition(weights: list[int], count: int) -> list[tuple[int, int]]:
    """Consecutive ranges of `weights` in `count` groups (none empty) of about equal sums."""
    n = len(weights)
    count = max(1, min(count, n))
    total = sum(weights) or n
    groups, start, acc = [], 0, 0
    for g in range(count - 1):
        goal = total * (g + 1) / count
        acc += weights[start]
        end = start + 1
        while end < n - (count - 1 - g) and abs(acc + weights[end] - goal) < abs(acc - goal):
            acc += weights[end]
            end += 1
        groups.append((start, end))
        start = end
    groups.append((start, n))
    return groups


def _title_from(sentence: str) -> str:
    """A short title from a sentence: its first clause, at most 7 words."""
    first = re.split(r"[,;:—–(]", sentence)[0]
    words = first.split()[:7]
    while len(words) > 2 and words[-1].lower() in _STOP:
        words.pop()
    return _cap(" ".join(words).rstrip(".!?…")) or "Part"


@lru_cache(maxsize=16)
def _source_parts(text: str, count: int) -> tuple[_Part, ...]:
    """The text in `count` parts (fewer if it has fewer sentences): its headed blocks merged
    with their neighbours, or split at paragraphs (then sentences) near their middle."""
    doc = _parse(text)
    if not doc.blocks:
        return ()
    blocks = list(doc.blocks)
    if len(blocks) >= count:
        parts = []
        for a, b in _partition([p.words for p in blocks], count):
            group = blocks[a:b]
            title = next((p.heading for p in group if p.heading), "") or _title_from(group[0].sentences[0])
            parts.append(_Part(title=title, heading=group[0].heading,
                               paragraphs=tuple(par for p in group for par in p.paragraphs)))
    else:
        parts = [p if p.heading else _Part(_title_from(p.sentences[0]), "", p.paragraphs) for p in blocks]
        while len(parts) < count:
            splittable = [i for i, p in enumerate(parts) if len(p.sentences) >= 2]
            if not splittable:
                break
            i = max(splittable, key=lambda k: (parts[k].words, -k))
            parts[i:i + 1] = _halves(parts[i])
    return tuple(_distinct_titles(parts))


def _halves(part: _Part) -> list[_Part]:
    if len(part.paragraphs) >= 2:
        (a, b), (_, c) = _partition([sum(_words(s) for s in p) for p in part.paragraphs], 2)
        first, second = part.paragraphs[a:b], part.paragraphs[b:c]
    else:
        sentences = part.paragraphs[0]
        (a, b), (_, c) = _partition([_words(s) for s in sentences], 2)
        first, second = (sentences[a:b],), (sentences[b:c],)
    lead = second[0][0]
    title = f"{part.heading}: {_title_from(lead)}" if part.heading else _title_from(lead)
    return [_Part(part.title, part.heading, first), _Part(clip(title, 255), part.heading, second)]


def _distinct_titles(parts: list[_Part]) -> list[_Part]:
    seen: Counter[str] = Counter()
    out = []
    for p in parts:
        title = clip(p.title, 240) or "Part"
        seen[title.lower()] += 1
        if seen[title.lower()] > 1:
            title = f"{title} ({seen[title.lower()]})"
        out.append(_Part(title, p.heading, p.paragraphs))
    return out


def _key_points(parts: tuple[_Part, ...], doc: _Doc) -> list[list[str]]:
    """Each part's most distinctive words (frequent in it, rare in the other parts; longer
    words first among equals), as the text spells them."""
    counts, spelling = [], {}
    for p in parts:
        c: Counter[str] = Counter()
        for w in (w for s in p.sentences for w in _WORD.findall(s)):
            low = w.lower()
            if len(low) > 3 and low not in _STOP:
                c[_stem(low)] += 1
                spelling.setdefault(_stem(low), low)
        counts.append(c)
    spread = Counter(w for c in counts for w in c)
    out = []
    for c in counts:
        first_seen = {w: i for i, w in enumerate(c)}  # a Counter keeps first-seen order

        def weight(w: str, c: Counter[str] = c) -> float:
            return c[w] * math.log(1 + len(parts) / spread[w]) * (1 + min(len(w), 12) / 12)

        ranked = sorted(c, key=lambda w: (-weight(w), first_seen[w]))
        out.append([spelling[w] for w in ranked[:4]])
    return out


def _stem(word: str) -> str:
    """A crude English plural folding ("batteries" -> "battery", "panels" -> "panel")."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _source_minutes(parts: tuple[_Part, ...], brief: ScriptBrief) -> list[float]:
    """Each part's target: all of its words when the text fits the target, else its share."""
    total = sum(p.words for p in parts) or 1
    if total <= brief.target_words * (1 + WORD_TOLERANCE):
        return [max(0.01, round(p.words / WORDS_PER_MINUTE, 2)) for p in parts]
    return [max(0.01, round(brief.target_minutes * p.words / total, 2)) for p in parts]


def _source_note(brief: ScriptBrief, doc: _Doc) -> str:
    note = NOTE_SOURCE
    words, budget = doc.words, brief.target_words
    if words < budget * (1 - WORD_TOLERANCE):
        note += NOTE_SHORT_SOURCE.format(words=words, minutes=words / WORDS_PER_MINUTE,
                                         target=brief.target_minutes)
    elif words > budget * (1 + WORD_TOLERANCE):
        note += NOTE_LONG_SOURCE.format(target=brief.target_minutes)
    if brief.language.strip().lower() not in ("", "english", "en"):
        note += NOTE_SOURCE_LANGUAGE
    return note


def _source_outline(brief: ScriptBrief, count: int) -> OutlineDraft:
    text = brief.source_text or ""
    doc = _parse(text)
    parts = _source_parts(text, count)
    if not parts:  # nothing readable in the text: the topic's structure, and say why
        outline = _topic_outline(brief, count)
        outline.note = (outline.note or "") + "; the source text has no readable sentences"
        return outline
    points = _key_points(parts, doc)
    sections = [
        OutlineSection(title=p.title, description=clip(" ".join(p.sentences[:2]), 300),
                       target_minutes=m, key_points=k)
        for p, m, k in zip(parts, _source_minutes(parts, brief), points, strict=True)]
    title = doc.title or _script_title(brief.topic) or parts[0].title
    return OutlineDraft(title=clip(title, 255), sections=sections, note=_source_note(brief, doc))


def _source_section(brief: ScriptBrief, outline: OutlineDraft,
                    index: int) -> tuple[list[_Line], list[str]]:
    text = brief.source_text or ""
    doc = _parse(text)
    parts = _source_parts(text, len(outline.sections))
    planned = outline.sections[index]
    if index >= len(parts):  # an outline with more sections than the text has sentences
        lines, points = _topic_section(brief, outline, index, "", [])
        return [_Line(GENERIC_LABEL + line.text, None, line.subject) for line in lines], points
    sentences = _central(parts[index].sentences, doc.weights, words_for(planned.target_minutes))
    points = [p for p in planned.key_points if p.strip()]
    return [_Line(s, _quoted_speaker(s, brief.cast)) for s in sentences], points


def _central(sentences: list[str], weights: Counter[str], budget: int) -> list[str]:
    """All the sentences when they fit `budget` (+ tolerance), else the most central ones (the
    text's recurring words, a paragraph's lead) filling it, kept in the text's order."""
    if sum(_words(s) for s in sentences) <= budget * (1 + WORD_TOLERANCE):
        return sentences

    def score(i: int) -> float:
        words = [w.lower() for w in _WORD.findall(sentences[i])]
        content = [math.log1p(weights[w]) for w in words if w in weights]
        return sum(content) / math.sqrt(len(words) + 1) + (0.5 if i == 0 else 0.0)

    ranked = sorted(range(len(sentences)), key=lambda i: (-score(i), i))
    chosen, words = [], 0
    for i in ranked:
        n = _words(sentences[i])
        if chosen and words + n > budget * (1 + WORD_TOLERANCE / 2):
            continue
        chosen.append(i)
        words += n
        if words >= budget * (1 - WORD_TOLERANCE / 4):
            break
    return [sentences[i] for i in sorted(chosen)]


def _quoted_speaker(sentence: str, cast: tuple[CastMember, ...]) -> str | None:
    """The cast member a quoted line belongs to: the first one the sentence names."""
    if not cast or not re.search(r"[\"“”]", sentence):
        return None
    lowered = sentence.lower()
    found = [(m.start(), member.name) for member in cast if member.name.strip()
             for m in [re.search(rf"\b{re.escape(member.name.lower())}\b", lowered)] if m]
    return min(found)[1] if found else None


def _source_continuation(brief: ScriptBrief, context: list[str], after: str | None, count: int,
                         prompt: str | None) -> list[_Line]:
    """The source's next unused sentences after the anchor; guided: the unused sentences that
    share the prompt's words first."""
    doc = _parse(brief.source_text or "")
    position = {_key(s): i for i, s in enumerate(doc.sentences)}
    used = {_key(c) for c in context}
    anchor_key = _key(after) if after else (_key(context[-1]) if context else None)
    start = position.get(anchor_key) if anchor_key else -1
    if start is None:  # the anchor is not the source's: after the last context sentence that is
        found = [position[k] for k in used if k in position]
        if context and not found:
            return []
        start = max(found, default=-1)
    fresh = [i for i in range(len(doc.sentences)) if _key(doc.sentences[i]) not in used]
    chosen: list[int] = []
    if prompt:
        def stems(text: str) -> set[str]:
            return {_stem(w.lower()) for w in _WORD.findall(text) if len(w) > 2 and w.lower() not in _STOP}

        wanted = stems(prompt)
        hits = [(-len(wanted & stems(doc.sentences[i])), i <= start, i) for i in fresh]
        chosen = [i for overlap, _, i in sorted(hits) if overlap < 0][:count]
    else:
        chosen = [i for i in fresh if i > start][:count]
    return [_Line(doc.sentences[i], _quoted_speaker(doc.sentences[i], brief.cast)) for i in sorted(chosen)]
