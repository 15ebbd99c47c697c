"""The offline writer: extractive slides from a source text, a labelled outline from a topic,
scripts sized to a target duration."""

from __future__ import annotations

from reelforge.narrate.writers.base import PAUSE_PER_SLIDE_S, Brief
from reelforge.narrate.writers.local import NOTE_EXTRACT, NOTE_OUTLINE, LocalWriter

SOURCE = """# Solar power at home
Solar panels turn sunlight into electricity on your own roof. A typical home system covers most of
its daytime use. Panels last twenty five years or more with little care.

# Costs and savings
The panels cost less every year. Most households recover the price within eight to ten years.
Local grants can shorten that time a lot.

# Batteries
A battery stores the midday surplus for the evening. Without one, the surplus goes back to the grid.
Batteries add cost, so size them to your evening use.

# Getting started
Start with a roof survey and a year of electricity bills. Compare three quotes before you sign.
"""


def _sentences_of(text: str) -> set[str]:
    return {" ".join(s.split()) for s in text.replace("\n", " ").split(". ")}


def test_slides_follow_the_source_sections_in_order() -> None:
    brief = Brief(topic="Solar at home", num_slides=4, source_text=SOURCE)
    writer = LocalWriter()
    content = writer.write_content(brief)
    script = writer.write_script(brief, content)
    assert [s.title for s in content.slides] == ["Solar power at home", "Costs and savings", "Batteries",
                                                 "Getting started"]
    assert content.notes == NOTE_EXTRACT and content.total_slides == 4
    for slide, line in zip(content.slides, script.slide_scripts, strict=True):
        assert slide.content_text.startswith("- ")
        # extractive: every narrated sentence is one of the source's own
        for sentence in line.narration_text.split(". "):
            assert sentence.strip(". ") in SOURCE.replace("\n", " "), sentence
    assert "battery" in script.slide_scripts[2].narration_text.lower()


def test_fewer_slides_than_sections_merge_neighbours_and_more_split_paragraphs() -> None:
    writer = LocalWriter()
    two = writer.write_content(Brief(topic="Solar", num_slides=2, source_text=SOURCE))
    assert len(two.slides) == 2 and two.slides[0].title == "Solar power at home"
    six = writer.write_content(Brief(topic="Solar", num_slides=6, source_text=SOURCE))
    assert 4 <= len(six.slides) <= 6  # paragraphs and sentences fill what headings cannot
    plain = "First point about tides. Second point about the moon. Third point about the sea. Fourth."
    three = writer.write_content(Brief(topic="Tides", num_slides=3, source_text=plain))
    assert len(three.slides) == 3


def test_a_topic_alone_is_a_labelled_outline_in_each_tone() -> None:
    writer = LocalWriter()
    for tone in ("formal", "casual", "storytelling"):
        brief = Brief(topic="Urban beekeeping", num_slides=5, tone=tone)
        content = writer.write_content(brief)
        script = writer.write_script(brief, content)
        assert content.notes == NOTE_OUTLINE
        assert len(content.slides) == 5 and content.slides[0].title == "Urban beekeeping"
        assert "local provider" in script.slide_scripts[-1].narration_text
        assert all(line.narration_text for line in script.slide_scripts)
    assert len({s.title for s in writer.write_content(Brief(topic="X", num_slides=12)).slides}) == 12


def test_the_script_is_sized_to_the_target_duration() -> None:
    writer = LocalWriter()
    for target in (20, 40):
        brief = Brief(topic="Bees", num_slides=4, target_duration_s=target, words_per_second=3.0)
        script = writer.write_script(brief, writer.write_content(brief))
        words = sum(len(s.narration_text.split()) for s in script.slide_scripts)
        spoken = words / 3.0 + PAUSE_PER_SLIDE_S * 4
        assert abs(spoken - target) / target <= 0.15 + 0.1, (target, spoken)


def test_an_edited_slide_is_narrated_from_its_own_text() -> None:
    writer = LocalWriter()
    brief = Brief(topic="Solar", num_slides=4, source_text=SOURCE)
    content = writer.write_content(brief)
    content.slides[1].title = "What it costs"
    content.slides[1].content_text = "- Prices fall every year\n- Grants help"
    script = writer.write_script(brief, content)
    assert script.slide_scripts[1].narration_text == "What it costs. Prices fall every year. Grants help."
    assert script.slide_scripts[0].narration_text.startswith("Solar panels turn sunlight")
