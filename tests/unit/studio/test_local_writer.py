"""The offline studio writer: a labelled generic structure from a topic, the user's own
sentences from a source text, sized to the target, distinct everywhere, deterministic."""

from __future__ import annotations

import re
import time

import pytest

from reelforge.errors import ProviderError
from reelforge.studio.writers.base import (
    CAMERA_MOVEMENTS,
    SUMMARY_MAX_CHARS,
    WORDS_PER_MINUTE,
    CastMember,
    ScriptBrief,
    ScriptDraft,
    Writer,
    outline_sections,
    script_sections,
)
from reelforge.studio.writers.local import GENERIC_LABEL, LocalWriter
from reelforge.studio.writers.registry import writer

SOURCE = """# Solar power at home

Solar panels turn sunlight into electricity on your own roof. A typical home system covers most of
its daytime use. Panels last **twenty five years** or more with little care.

## Costs and savings
The panels cost less every year. Most households recover the price within eight to ten years.
Local grants, which many towns offer to homeowners and small landlords alike, can shorten that time a lot, and some utilities also pay for the surplus you send back to the grid during sunny afternoons.

Batteries
A battery stores the midday surplus for the evening. Without one, the surplus goes back to the grid.
Batteries add cost, so size them to your evening use. "Start small," Ada said, "and grow later."

## Getting started
- Get a roof survey
- Compare three [quotes](https://example.com/quotes) before you sign
The panels cost less every year.
"""
SOURCE_SENTENCES = [
    "Solar panels turn sunlight into electricity on your own roof.",
    "A typical home system covers most of its daytime use.",
    "Panels last twenty five years or more with little care.",
    "The panels cost less every year.",
    "Most households recover the price within eight to ten years.",
    "Local grants, which many towns offer to homeowners and small landlords alike, can shorten that time a lot.",
    "And some utilities also pay for the surplus you send back to the grid during sunny afternoons.",
    "A battery stores the midday surplus for the evening.",
    "Without one, the surplus goes back to the grid.",
    "Batteries add cost, so size them to your evening use.",
    "\"Start small,\" Ada said, \"and grow later.\"",
    "Get a roof survey.",
    "Compare three quotes before you sign.",
]  # the text's own, cleaned: markdown gone, the long one split, the repeated one dropped
CAST = (CastMember("Ada", "a retired engineer with silver hair"), CastMember("Ben", "a young roofer"))


def _texts(script: ScriptDraft) -> list[str]:
    return [s.text for section in script.sections for s in section.sentences]


def _words(texts: list[str]) -> int:
    return sum(len(t.split()) for t in texts)


def _within(words: int, minutes: float, tolerance: float = 0.2) -> bool:
    return abs(words - minutes * WORDS_PER_MINUTE) <= tolerance * minutes * WORDS_PER_MINUTE


# --- from a topic alone ----------------------------------------------------------------------

@pytest.mark.parametrize("minutes", [1, 8, 180])
def test_topic_script_fills_the_budget_with_distinct_sentences(minutes: int) -> None:
    brief = ScriptBrief(topic="Urban beekeeping", target_minutes=minutes)
    started = time.perf_counter()
    script = LocalWriter().script(brief)
    elapsed = time.perf_counter() - started

    assert elapsed < 1.5, f"{minutes} minutes took {elapsed:.2f} s"
    texts = _texts(script)
    assert _within(_words(texts), minutes), (_words(texts), minutes)
    assert len(set(texts)) == len(texts), "no sentence is repeated anywhere in the script"
    assert len(script.sections) == script_sections(minutes)
    titles = [s.title for s in script.sections]
    assert len({t.lower() for t in titles}) == len(titles)
    lengths = [len(t.split()) for t in texts]
    assert 12 <= sum(lengths) / len(lengths) <= 20 and max(lengths) <= 30 and min(lengths) >= 8
    assert sum("urban beekeeping" in t.lower() for t in texts) >= 0.8 * len(texts)
    assert script.note and script.note.startswith("local provider: a generic structure about Urban beekeeping")
    assert "Gemini key" in script.note
    assert script.title == "Urban beekeeping"
    for section in script.sections:  # every section says different things
        others = {t for s in script.sections if s is not section for t in (x.text for x in s.sentences)}
        assert not others & {x.text for x in section.sentences}


def test_long_form_outline_then_sections_with_running_summary() -> None:
    local = LocalWriter()
    brief = ScriptBrief(topic="The history of jazz", target_minutes=180)
    started = time.perf_counter()
    outline = local.outline(brief)

    assert len(outline.sections) == outline_sections(180) == 23
    assert sum(s.target_minutes for s in outline.sections) == pytest.approx(180, abs=0.01)
    titles = [s.title for s in outline.sections]
    assert len(set(titles)) == 23 and titles[0] == "Introducing the history of jazz"
    assert titles[-1] == "Bringing the history of jazz together"
    points = [p for s in outline.sections for p in s.key_points]
    assert len(set(points)) == len(points) and all(s.key_points and s.description for s in outline.sections)
    assert outline.note and "generic structure" in outline.note

    summary, covered, seen = "", [], set()
    for i, planned in enumerate(outline.sections):
        result = local.section(brief, outline, i, running_summary=summary, covered_topics=covered)
        texts = [s.text for s in result.section.sentences]
        assert result.section.title == planned.title
        assert _within(_words(texts), planned.target_minutes), (i, _words(texts))
        assert not seen & set(texts)
        seen |= set(texts)
        assert len(result.summary) <= SUMMARY_MAX_CHARS and planned.title in result.summary
        assert result.covered_topics[: len(covered)] == covered, "earlier topics kept, in order"
        assert set(planned.key_points) <= set(result.covered_topics)
        if i:  # the section opens from where the summary left off
            assert texts[0].startswith("Having covered ")
            assert outline.sections[i - 1].title.lower() in texts[0].lower()
        summary, covered = result.summary, result.covered_topics
    assert time.perf_counter() - started < 1.5
    assert len(covered) == len(points)


def test_a_section_leaves_out_topics_already_covered() -> None:
    local = LocalWriter()
    brief = ScriptBrief(topic="Urban beekeeping", target_minutes=24)
    outline = local.outline(brief)
    planned = outline.sections[1]
    first, second, third = planned.key_points  # the origins of ..., the first people ..., early ideas ...
    summary = f"Some earlier part: {third}."

    result = local.section(brief, outline, 1, running_summary=summary, covered_topics=["Bees", first.upper()])
    text = " ".join(s.text for s in result.section.sentences).lower()
    assert first.lower() not in text and "the origins" not in text, "covered_topics are not repeated"
    assert third.lower() not in text and "early ideas" not in text, "nor what the summary already has"
    assert second.lower() in text
    assert result.covered_topics == ["Bees", first.upper(), second]
    assert result.summary.startswith("Some earlier part:") and "Where urban beekeeping comes from" in result.summary
    assert _within(_words(text.split()), planned.target_minutes)

    everything = local.section(brief, outline, 1, running_summary="", covered_topics=planned.key_points)
    assert everything.section.sentences, "all key points covered: it still writes the section"
    assert "finer points of where urban beekeeping comes from" in everything.section.sentences[1].text


def test_outline_section_counts_and_short_sections() -> None:
    local = LocalWriter()
    one = local.outline(ScriptBrief(topic="Tides", target_minutes=3))
    assert [s.title for s in one.sections] == ["Tides at a glance"] and one.sections[0].target_minutes == 3
    two = local.outline(ScriptBrief(topic="Tides", target_minutes=3), sections=2)
    assert [s.title for s in two.sections] == ["Introducing Tides", "Bringing Tides together"]
    many = local.outline(ScriptBrief(topic="Tides", target_minutes=60), sections=30)
    assert len({s.title for s in many.sections}) == 30
    assert len({p for s in many.sections for p in s.key_points}) == 90
    brief = ScriptBrief(topic="Tides", target_minutes=60)
    summary, covered, texts = "", [], []
    for i in range(30):
        result = local.section(brief, many, i, running_summary=summary, covered_topics=covered)
        summary, covered = result.summary, result.covered_topics
        texts += [s.text for s in result.section.sentences]
    assert len(set(texts)) == len(texts) and _within(_words(texts), 60)
    # A tiny section (an edited outline) still gets at least one sentence.
    many.sections[3].target_minutes = 0.05
    tiny = local.section(brief, many, 3, running_summary="", covered_topics=[])
    assert 1 <= len(tiny.section.sentences) <= 2
    with pytest.raises(IndexError):
        local.section(brief, many, 30, running_summary="", covered_topics=[])


def test_cast_members_speak_some_lines() -> None:
    brief = ScriptBrief(topic="Urban beekeeping", target_minutes=8, cast=CAST, visual_style="watercolor")
    script = LocalWriter().script(brief)
    sentences = [s for section in script.sections for s in section.sentences]
    spoken = [s for s in sentences if s.speaker]
    assert {s.speaker for s in spoken} == {"Ada", "Ben"} and len(spoken) >= 5
    assert all(s.text.startswith(("I ", "Honestly", "Let me", "If you ask", "When I")) for s in spoken)
    assert all(s.speaker is None for s in script.sections[0].sentences + script.sections[-1].sentences)
    ada = next(s for s in spoken if s.speaker == "Ada")
    assert "featuring Ada (a retired engineer with silver hair)" in ada.image_prompt
    assert all("watercolor style" in s.image_prompt for s in sentences)
    no_cast = LocalWriter().script(ScriptBrief(topic="Urban beekeeping", target_minutes=8))
    assert all(s.speaker is None for section in no_cast.sections for s in section.sentences)


def test_prompts_and_camera_movements_vary() -> None:
    script = LocalWriter().script(ScriptBrief(topic="Urban beekeeping", target_minutes=8))
    for section in script.sections:
        moves = [s.camera_movement for s in section.sentences]
        assert set(moves) <= set(CAMERA_MOVEMENTS) and len(set(moves)) == len(CAMERA_MOVEMENTS)
        assert all(a != b for a, b in zip(moves, moves[1:], strict=False))
        assert len({s.image_prompt for s in section.sentences}) >= 0.9 * len(section.sentences)
        for s in section.sentences:
            assert "cinematic style" in s.image_prompt and s.image_prompt.endswith("no text")
            assert s.video_prompt and len(s.image_prompt) <= 2000
    first = script.sections[1].sentences[1]
    assert first.camera_movement == "pan_left" and first.video_prompt.startswith("Slow pan to the left")


def test_language_other_than_english_is_noted() -> None:
    outline = LocalWriter().outline(ScriptBrief(topic="Tides", target_minutes=8, language="hindi"))
    assert outline.note and outline.note.endswith("the local provider writes English only, not hindi")
    sourced = LocalWriter().outline(ScriptBrief(topic="Tides", target_minutes=1, language="hindi",
                                                source_text="ज्वार चाँद से आते हैं। समुद्र ऊपर उठता है।"))
    assert sourced.note and "keeps the source text's own language" in sourced.note


def test_the_same_brief_gives_the_same_script() -> None:
    brief = ScriptBrief(topic="Urban beekeeping", target_minutes=20, cast=CAST)
    assert LocalWriter().script(brief) == LocalWriter().script(brief)
    with_source = ScriptBrief(topic="Solar", target_minutes=2, source_text=SOURCE, cast=CAST)
    assert LocalWriter().script(with_source).model_dump() == LocalWriter().script(with_source).model_dump()
    assert LocalWriter().outline(brief, sections=5) == LocalWriter().outline(brief, sections=5)


def test_long_topics_stay_short_in_sentences() -> None:
    brief = ScriptBrief(topic="How artificial intelligence is changing the way doctors diagnose rare "
                              "diseases in small rural hospitals", target_minutes=8)
    script = LocalWriter().script(brief)
    lengths = [len(t.split()) for t in _texts(script)]
    assert max(lengths) <= 36 and sum(lengths) / len(lengths) <= 24
    assert all(len(s.title) <= 255 for s in script.sections)


# --- from a source text ----------------------------------------------------------------------

def test_source_script_is_the_texts_own_sentences_in_order() -> None:
    brief = ScriptBrief(topic="Solar at home", target_minutes=1, source_text=SOURCE, cast=CAST)
    local = LocalWriter()
    outline = local.outline(brief, sections=4)

    assert [s.title for s in outline.sections] == ["Solar power at home", "Costs and savings", "Batteries",
                                                   "Getting started"]
    assert outline.title == "Solar power at home"
    assert outline.note == "local provider: the script is built from your source text, in its own sentences (no AI model)"
    assert "battery" in outline.sections[2].key_points and outline.sections[2].description.startswith("A battery")
    summary, covered, texts, speakers = "", [], [], []
    for i in range(4):
        result = local.section(brief, outline, i, running_summary=summary, covered_topics=covered)
        summary, covered = result.summary, result.covered_topics
        texts += [s.text for s in result.section.sentences]
        speakers += [s.speaker for s in result.section.sentences]
    assert texts == SOURCE_SENTENCES
    assert speakers == [None] * 10 + ["Ada", None, None], "a quoted line is its speaker's"
    assert all(len(t.split()) <= 30 for t in texts)

    script = local.script(brief)  # fewer sections than headings: neighbours merge
    assert len(script.sections) == script_sections(1) == 2 and _texts(script) == SOURCE_SENTENCES
    assert script.sections[0].title == "Solar power at home"


def test_source_split_into_more_sections_than_it_has_headings() -> None:
    plain = " ".join(f"Tide fact number {i} says the sea rises and falls twice a day." for i in range(40))
    outline = LocalWriter().outline(ScriptBrief(topic="Tides", target_minutes=5, source_text=plain), sections=4)
    assert len(outline.sections) == 4 and len({s.title for s in outline.sections}) == 4
    brief = ScriptBrief(topic="Tides", target_minutes=5, source_text=SOURCE)
    six = LocalWriter().outline(brief, sections=6)
    assert len(six.sections) == 6 and len({s.title for s in six.sections}) == 6
    assert six.sections[0].title == "Solar power at home"
    assert any(s.title.startswith("Costs and savings: ") for s in six.sections)
    three_sentences = LocalWriter().outline(
        ScriptBrief(topic="Tides", target_minutes=5, source_text="One tide. Two tides. Three tides."), sections=5)
    assert len(three_sentences.sections) == 3, "never more sections than sentences"


def test_a_short_source_makes_a_shorter_script_and_says_so() -> None:
    brief = ScriptBrief(topic="Solar at home", target_minutes=8, source_text=SOURCE)
    script = LocalWriter().script(brief)
    assert _texts(script) == SOURCE_SENTENCES, "nothing invented to pad it"
    assert script.note and "less than the 8-minute target" in script.note
    assert "uses all of the text and invents nothing" in script.note
    outline = LocalWriter().outline(brief)
    total = sum(s.target_minutes for s in outline.sections)
    assert total == pytest.approx(_words(SOURCE_SENTENCES) / WORDS_PER_MINUTE, abs=0.05)


def _long_source(chapters: int, paragraphs: int) -> str:
    nouns = ["river", "harbour", "lighthouse", "fisherman", "storm", "market", "island", "ferry",
             "village", "cliff", "tide", "school", "chapel", "bridge", "orchard", "mill"]
    verbs = ["watched", "crossed", "repaired", "painted", "described", "remembered", "guarded", "mapped"]
    out = []
    for c in range(chapters):
        out.append(f"## Chapter {c + 1}\n")
        for p in range(paragraphs):
            sentences = []
            for s in range(5):
                k = c * 1000 + p * 10 + s
                words = [nouns[(k * 7 + j * 3) % len(nouns)] for j in range(3 + k % 6)]
                sentences.append(f"The {nouns[k % len(nouns)]} {verbs[k % len(verbs)]} the "
                                 f"{' and the '.join(words)} in year {1800 + k}.")
            out.append(" ".join(sentences) + "\n")
    return "\n".join(out)


@pytest.mark.parametrize("minutes", [1, 8, 180])
def test_a_long_source_is_cut_to_the_target(minutes: int) -> None:
    text = _long_source(chapters=30, paragraphs=12)[:100_000].rsplit(". ", 1)[0] + "."
    brief = ScriptBrief(topic="The coast", target_minutes=minutes, source_text=text)
    started = time.perf_counter()
    outline = LocalWriter().outline(brief)
    summary, covered, texts = "", [], []
    for i in range(len(outline.sections)):
        result = LocalWriter().section(brief, outline, i, running_summary=summary, covered_topics=covered)
        summary, covered = result.summary, result.covered_topics
        texts += [s.text for s in result.section.sentences]
    assert time.perf_counter() - started < 3
    source_words = sum(len(s.split()) for s in re.findall(r"The [^.]+\.", text))
    assert source_words > minutes * WORDS_PER_MINUTE or minutes == 180
    expected = min(minutes * WORDS_PER_MINUTE, source_words)
    assert abs(_words(texts) - expected) <= 0.2 * expected, (_words(texts), expected)
    order = [text.index(t) for t in texts]
    assert order == sorted(order), "the text's own sentences, in its order"
    assert len(set(texts)) == len(texts)
    assert outline.note and ("keeps its most central sentences" in outline.note
                             or "less than the 180-minute target" in outline.note)


# --- expansions ------------------------------------------------------------------------------

def test_source_expansion_continues_after_the_anchor() -> None:
    brief = ScriptBrief(topic="Solar at home", target_minutes=1, source_text=SOURCE, cast=CAST)
    local = LocalWriter()
    context = SOURCE_SENTENCES[:2] + SOURCE_SENTENCES[4:5]
    quick = local.expand(brief, section_title="Solar power at home", context=context,
                         after=SOURCE_SENTENCES[1], count=3, mode="quick", prompt=None)
    assert [s.text for s in quick] == [SOURCE_SENTENCES[2], SOURCE_SENTENCES[3], SOURCE_SENTENCES[5]]
    assert all(s.camera_movement in CAMERA_MOVEMENTS and s.image_prompt for s in quick)

    spoken = local.expand(brief, section_title="Batteries", context=SOURCE_SENTENCES[7:10],
                          after=None, count=1, mode="quick", prompt=None)
    assert spoken[0].text == SOURCE_SENTENCES[10] and spoken[0].speaker == "Ada"

    guided = local.expand(brief, section_title="Costs", context=SOURCE_SENTENCES[3:5], after=None,
                          count=2, mode="guided", prompt="Talk more about batteries")
    assert [s.text for s in guided] == [SOURCE_SENTENCES[7], SOURCE_SENTENCES[9]]

    exhausted = local.expand(brief, section_title="Getting started", context=SOURCE_SENTENCES,
                             after=None, count=2, mode="quick", prompt=None)
    assert len(exhausted) == 2 and all(s.text.startswith(GENERIC_LABEL) for s in exhausted)
    assert not {s.text for s in exhausted} & set(SOURCE_SENTENCES)


def test_topic_expansion_adds_new_sentences_only() -> None:
    brief = ScriptBrief(topic="Urban beekeeping", target_minutes=8)
    local = LocalWriter()
    script = local.script(brief)
    section = script.sections[1]
    context = [s.text for s in section.sentences]
    quick = local.expand(brief, section_title=section.title, context=context, after=context[2],
                         count=5, mode="quick", prompt=None)
    assert len(quick) == 5 and not {s.text for s in quick} & set(context)
    assert len({s.text for s in quick}) == 5 and all("urban beekeeping" in s.text for s in quick)
    again = local.expand(brief, section_title=section.title, context=context + [quick[0].text],
                         after=quick[0].text, count=2, mode="quick", prompt=None)
    assert quick[0].text not in {s.text for s in again}
    assert quick == local.expand(brief, section_title=section.title, context=context, after=context[2],
                                 count=5, mode="quick", prompt=None)

    guided = local.expand(brief, section_title=section.title, context=context, after=None, count=2,
                          mode="guided", prompt="Please explain the costs of a rooftop hive.")
    assert all("the costs of a rooftop hive" in s.text for s in guided)
    assert not any(s.text.startswith(GENERIC_LABEL) for s in quick + guided), "only source fallbacks are labelled"
    empty = local.expand(brief, section_title="New", context=[], after=None, count=1, mode="quick", prompt=None)
    assert len(empty) == 1 and empty[0].text


# --- the port ---------------------------------------------------------------------------------

def test_registry_and_protocol() -> None:
    local = writer("local")
    assert isinstance(local, LocalWriter) and isinstance(local, Writer) and local.name == "local"
    with pytest.raises(ProviderError, match="needs an API key"):
        writer("gemini")
    with pytest.raises(ProviderError):
        writer("gemini", api_key="   ")
    with pytest.raises(ValueError, match="unknown writer 'openai'"):
        writer("openai")


def test_brief_sizing() -> None:
    brief = ScriptBrief(topic="x", target_minutes=8)
    assert brief.words_for(8) == 1200 and brief.words_for(0.5) == 75 and brief.target_words == 1200
    assert [outline_sections(m) for m in (1, 8, 9, 16, 180)] == [1, 1, 2, 2, 23]
    assert [script_sections(m) for m in (1, 2, 3, 5, 8, 10, 60, 180)] == [2, 2, 3, 4, 5, 6, 8, 23]


def test_the_bridge_follows_the_summary_only_when_it_names_a_section() -> None:
    local = LocalWriter()
    brief = ScriptBrief(topic="Tides", target_minutes=24)
    outline = local.outline(brief)
    ours = local.section(brief, outline, 2, running_summary="Introducing Tides: a first look.",
                         covered_topics=[])
    assert ours.section.sentences[0].text.startswith("Having covered introducing Tides, we now turn to")
    other = local.section(brief, outline, 2, running_summary="The video covered: the moon and the sea.",
                          covered_topics=[])
    assert other.section.sentences[0].text.startswith("Having covered where Tides comes from, we now")
    with pytest.raises(ValueError, match="unknown expand mode"):
        local.expand(brief, section_title="S", context=[], after=None, count=1, mode="wild", prompt=None)
