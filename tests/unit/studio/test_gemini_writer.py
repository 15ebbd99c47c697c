"""The Gemini studio writer: the real google-genai SDK against the fake Gemini server, no network."""

from __future__ import annotations

import json

import pytest
from fakes.fake_gemini import FakeResponse, generate_content_body

from reelforge.errors import ProviderError, TransientError, UnsupportedPromptError
from reelforge.studio.writers.base import (
    CAMERA_MOVEMENTS,
    CastMember,
    OutlineDraft,
    OutlineSection,
    ScriptBrief,
    Writer,
)
from reelforge.studio.writers.gemini import SOURCE_BEGIN, SOURCE_END, GeminiWriter, camera
from reelforge.studio.writers.registry import writer

KEY = "AIzaTEST-not-a-real-key-0123456789"  # the fake_gemini fixture's key
SOURCE = "Bees arrived on the rooftops in 2010. The first hives were on hotels. Honey sales followed."
CAST = (CastMember("Mara", "a beekeeper in a yellow veil"), CastMember("Tom"))
BRIEF = ScriptBrief(topic="Urban beekeeping", target_minutes=24, visual_style="watercolor", cast=CAST)
OUTLINE = OutlineDraft(title="Bees in the city", sections=[
    OutlineSection(title="Rooftop beginnings", description="How hives came to the roofs.",
                   target_minutes=1, key_points=["first rooftop hives", "hotel apiaries"]),
    OutlineSection(title="Keeping bees healthy", description="Care through the seasons.",
                   target_minutes=1, key_points=["varroa mites", "winter feeding"]),
    OutlineSection(title="Honey and the neighbours", description="What the city gets back.",
                   target_minutes=1, key_points=["honey yields", "pollination of parks"]),
])
SUMMARY = "The video opened on the first rooftop hives of 2010 and the hotels that kept them."
COVERED = ["first rooftop hives", "hotel apiaries"]


def _sentence(i: int, **extra: str) -> dict:
    return {"text": f"Healthy colonies need a keeper who checks them every week, note {i}.",
            "image_prompt": f"watercolor rooftop hive {i}", "video_prompt": "slow push in on the hive",
            "camera_movement": CAMERA_MOVEMENTS[i % len(CAMERA_MOVEMENTS)], "speaker": "", **extra}


@pytest.fixture(autouse=True)
def _same_key(fake_gemini) -> None:
    assert fake_gemini.api_key == KEY


@pytest.fixture
def gemini(fake_gemini) -> GeminiWriter:
    return GeminiWriter(KEY, base_url=fake_gemini.base_url, timeout_s=5)


# --- outline -----------------------------------------------------------------------------------

def test_outline_request_and_parsed_outline(fake_gemini, gemini):
    fake_gemini.reply_json({"title": "Bees in the city", "sections": [
        {"title": "Rooftop beginnings", "description": "d1", "target_minutes": 2, "key_points": ["hives"]},
        {"title": "Keeping bees healthy", "description": "d2", "target_minutes": 2, "key_points": []},
        {"title": "Honey", "description": "d3", "target_minutes": 4, "key_points": ["honey", " "]},
    ]})
    outline = gemini.outline(BRIEF)

    [request] = fake_gemini.requests
    assert request.path == "/v1beta/models/gemini-2.5-flash:generateContent"
    assert request.api_key == KEY and KEY not in json.dumps(request.body)
    config = request.generation_config
    assert config["responseMimeType"] == "application/json"
    section = config["responseSchema"]["properties"]["sections"]["items"]
    assert set(section["properties"]) == {"title", "description", "target_minutes", "key_points"}
    prompt = request.prompt_text
    assert "You plan long narrated videos" in prompt
    assert "about 24 minutes about: Urban beekeeping" in prompt and "exactly 3 sections" in prompt
    assert "no two sections share a topic" in prompt and "- Mara: a beekeeper in a yellow veil" in prompt
    assert SOURCE_BEGIN not in prompt

    assert outline.title == "Bees in the city" and outline.note is None
    assert [s.target_minutes for s in outline.sections] == [6, 6, 12], "scaled to the asked total"
    assert outline.sections[1].key_points == ["Keeping bees healthy"], "an empty list: the title"
    assert outline.sections[2].key_points == ["honey"]


def test_outline_with_the_wrong_count_gets_one_corrective_retry(fake_gemini, gemini):
    two = [{"title": f"Part {i}", "description": "", "target_minutes": 8, "key_points": ["x"]} for i in (1, 2)]
    fake_gemini.reply_json({"title": "T", "sections": two})
    fake_gemini.reply_json({"title": "T", "sections": [*two, {**two[0], "title": "Part 3"}]})
    outline = gemini.outline(BRIEF)

    assert [s.title for s in outline.sections] == ["Part 1", "Part 2", "Part 3"]
    retry = fake_gemini.requests[1].body["contents"]
    assert [c["role"] for c in retry] == ["user", "model", "user"]
    correction = retry[2]["parts"][0]["text"]
    assert "expected exactly 3 sections, got 2" in correction and "exactly 3 sections" in correction


def test_outline_with_duplicate_titles_twice_is_a_provider_error(fake_gemini, gemini):
    same = {"title": "Bees", "description": "", "target_minutes": 8, "key_points": ["x"]}
    fake_gemini.reply_json({"title": "T", "sections": [same] * 3}).reply_text("Sure! Here is an outline.")
    with pytest.raises(ProviderError, match="unusable outline twice: not JSON"):
        gemini.outline(BRIEF)
    assert "same title" in fake_gemini.requests[1].body["contents"][-1]["parts"][0]["text"]


# --- sections ----------------------------------------------------------------------------------

def test_section_prompt_carries_the_summary_and_the_covered_topics(fake_gemini, gemini):
    sentences = [_sentence(i) for i in range(8)]
    sentences[0]["camera_movement"] = "crane_up"  # unknown: static
    sentences[1]["camera_movement"] = "Pan-Left"
    sentences[2]["speaker"] = "mara"  # a cast member, any case
    sentences[3]["speaker"] = "The Narrator"  # not in the cast: the narrator
    fake_gemini.reply_json({"sentences": sentences, "summary": SUMMARY + " Then it covered mite checks.",
                            "covered_topics": ["varroa mites", "Hotel apiaries", "spring inspections"]})
    result = gemini.section(BRIEF, OUTLINE, 1, running_summary=SUMMARY, covered_topics=COVERED)

    [request] = fake_gemini.requests
    schema = request.generation_config["responseSchema"]
    assert set(schema["properties"]) == {"sentences", "summary", "covered_topics"}
    item = schema["properties"]["sentences"]["items"]
    assert set(item["properties"]) == {"text", "image_prompt", "video_prompt", "camera_movement", "speaker"}
    assert item["properties"]["camera_movement"]["enum"] == list(CAMERA_MOVEMENTS)
    prompt = request.prompt_text
    assert "one section of a long narrated video script" in prompt
    assert 'Write section 2 of 3 of the narrated video "Bees in the city" about: Urban beekeeping' in prompt
    assert "1. Rooftop beginnings (1 min)\n2. Keeping bees healthy (1 min)  <- write this one\n" in prompt
    assert "3. Honey and the neighbours (1 min)" in prompt
    assert "What it covers: Care through the seasons." in prompt and "- varroa mites\n- winter feeding" in prompt
    assert "about 150 words (between 120 and 180), so about 9 sentences (between 6 and 15)" in prompt
    assert SUMMARY in prompt
    assert "Topics already covered - do not repeat these topics" in prompt
    assert "- first rooftop hives\n- hotel apiaries" in prompt
    assert "at most 1200 characters" in prompt and '"watercolor" visual style' in prompt
    assert "- Mara: a beekeeper in a yellow veil\n- Tom" in prompt

    assert result.section.title == "Keeping bees healthy" and len(result.section.sentences) == 8
    drafts = result.section.sentences
    assert drafts[0].camera_movement == "static" and drafts[1].camera_movement == "pan_left"
    assert drafts[2].speaker == "Mara" and drafts[3].speaker is None and drafts[4].speaker is None
    assert drafts[5].image_prompt == "watercolor rooftop hive 5"
    assert result.summary.endswith("Then it covered mite checks.")
    assert result.covered_topics == [*COVERED, "varroa mites", "spring inspections"]


def test_first_section_prompt_says_nothing_is_written_yet(fake_gemini, gemini):
    brief = ScriptBrief(topic="Urban beekeeping", target_minutes=3, source_text=SOURCE)
    fake_gemini.reply_json({"sentences": [_sentence(i) for i in range(9)], "summary": "",
                            "covered_topics": []})
    result = gemini.section(brief, OUTLINE, 0, running_summary="", covered_topics=[])

    prompt = fake_gemini.requests[0].prompt_text
    assert "(nothing yet: this is the first section)" in prompt and "(none yet)" in prompt
    assert "the opening section: start with a hook" in prompt
    assert "always empty (there is no cast" in prompt
    assert "Base the script on this text" in prompt and f"{SOURCE_BEGIN}\n{SOURCE}\n{SOURCE_END}" in prompt
    # An empty summary or topic list: built from the outline instead.
    assert result.summary == "Rooftop beginnings: first rooftop hives, hotel apiaries."
    assert result.covered_topics == ["first rooftop hives", "hotel apiaries"]


def test_a_section_far_too_short_gets_one_corrective_retry(fake_gemini, gemini):
    fake_gemini.reply_json({"sentences": [_sentence(0)], "summary": "s", "covered_topics": ["t"]})
    fake_gemini.reply_json({"sentences": [_sentence(i) for i in range(9)], "summary": "s",
                            "covered_topics": ["t"]})
    result = gemini.section(BRIEF, OUTLINE, 2, running_summary=SUMMARY, covered_topics=COVERED)

    assert len(result.section.sentences) == 9 and len(fake_gemini.requests) == 2
    correction = fake_gemini.requests[1].body["contents"][-1]["parts"][0]["text"]
    assert "the section has 1 sentences; it needs about 9 (between 6 and 15)" in correction
    assert "about 9 sentences (between 6 and 15)" in correction.split("Answer again")[1]


def test_empty_sentence_twice_is_a_provider_error(fake_gemini, gemini):
    bad = {"sentences": [_sentence(i) for i in range(8)] + [_sentence(9, text="  ")], "summary": "",
           "covered_topics": []}
    fake_gemini.reply_json(bad).reply_json(bad)
    with pytest.raises(ProviderError, match="unusable section twice: sentence 9 of the section has an empty text"):
        gemini.section(BRIEF, OUTLINE, 0, running_summary="", covered_topics=[])


# --- short scripts and expansions -------------------------------------------------------------

def test_short_script_in_one_call(fake_gemini, gemini):
    brief = ScriptBrief(topic="Urban beekeeping", target_minutes=1, source_text=SOURCE)
    fake_gemini.reply_json({"title": "Bees on the roof", "sections": [
        {"title": "How it began", "sentences": [_sentence(i) for i in range(4)]},
        {"title": "What came next", "sentences": [_sentence(i) for i in range(4, 9)]},
    ]})
    script = gemini.script(brief)

    [request] = fake_gemini.requests
    assert "short narrated video scripts" in request.prompt_text
    assert "Sections: 2, each with a title" in request.prompt_text
    assert "about 150 words (between 120 and 180)" in request.prompt_text
    assert request.generation_config["responseSchema"]["properties"]["sections"]["type"] == "ARRAY"
    assert SOURCE in request.prompt_text
    assert script.title == "Bees on the roof" and [s.title for s in script.sections] == ["How it began",
                                                                                         "What came next"]
    assert sum(len(s.sentences) for s in script.sections) == 9 and script.note is None


def test_expand_asks_for_new_sentences_after_the_anchor(fake_gemini, gemini):
    context = ["Bees need water nearby.", "A shallow dish with stones works well."]
    first = {"sentences": [{**_sentence(1), "text": "Bees need water   nearby."}, _sentence(2)]}
    fake_gemini.reply_json(first).reply_json([_sentence(3), _sentence(4), _sentence(5)])  # a bare array
    added = gemini.expand(BRIEF, section_title="Keeping bees healthy", context=context,
                          after=context[0], count=2, mode="guided", prompt="mention the summer heat")

    prompt = fake_gemini.requests[0].prompt_text
    assert "extend a section of a narrated video script" in prompt
    assert 'Add 2 new sentences to the section "Keeping bees healthy"' in prompt
    assert "1. Bees need water nearby.\n2. A shallow dish with stones works well." in prompt
    assert "Insert after this sentence: Bees need water nearby." in prompt
    assert "Follow this instruction from the author: mention the summer heat" in prompt
    correction = fake_gemini.requests[1].body["contents"][-1]["parts"][0]["text"]
    assert "expected 2 new sentences, got 1 (1 repeat the section)" in correction
    assert [s.text for s in added] == [_sentence(3)["text"], _sentence(4)["text"]], "extra ones dropped"

    fake_gemini.reply_json({"sentences": [_sentence(6)]})
    gemini.expand(BRIEF, section_title="S", context=context, after=None, count=1, mode="quick", prompt="ignored")
    quick = fake_gemini.requests[2].prompt_text
    assert "Insert after this sentence: A shallow dish with stones works well." in quick
    assert "Continue the section's thought" in quick and "ignored" not in quick
    with pytest.raises(ValueError, match="unknown expand mode"):
        gemini.expand(BRIEF, section_title="S", context=[], after=None, count=1, mode="wild", prompt=None)


# --- failures ----------------------------------------------------------------------------------

@pytest.mark.parametrize("refusal", ["blocked", "safety"])
def test_refusal_is_unsupported_prompt(fake_gemini, gemini, refusal):
    if refusal == "blocked":
        fake_gemini.reply_text(None)  # promptFeedback.blockReason SAFETY, no candidate
    else:
        fake_gemini.reply_text("", finish_reason="SAFETY")
    with pytest.raises(UnsupportedPromptError, match=r"declined to write about 'Urban beekeeping'"
                                                     r" \((blocked: |finish reason )SAFETY\)") as caught:
        gemini.section(BRIEF, OUTLINE, 1, running_summary=SUMMARY, covered_topics=COVERED)
    assert len(fake_gemini.requests) == 1, "a refusal is not retried"
    assert KEY not in str(caught.value)


def test_rejected_key_never_echoes_it(fake_gemini, gemini):
    fake_gemini.reply_error(403, f"API key {KEY} is not authorized")
    with pytest.raises(ProviderError) as caught:
        gemini.script(BRIEF)
    assert KEY not in str(caught.value) and KEY not in repr(caught.value) and KEY not in repr(gemini)
    assert "403" in str(caught.value) and "[redacted]" in str(caught.value) and caught.value.__cause__ is None


def test_throttling_and_timeouts_are_transient(fake_gemini, gemini):
    fake_gemini.reply_error(429)
    with pytest.raises(TransientError, match="429"):
        gemini.outline(BRIEF)
    assert len(fake_gemini.requests) == 1
    slow = GeminiWriter(KEY, base_url=fake_gemini.base_url, timeout_s=0.3)
    fake_gemini.reply(FakeResponse(body=generate_content_body(json.dumps({"sentences": []})), delay_s=1.5))
    with pytest.raises(TransientError, match="did not answer within 0.3 s"):
        slow.expand(BRIEF, section_title="S", context=[], after=None, count=1, mode="quick", prompt=None)


def test_registry_builds_the_gemini_writer(fake_gemini):
    built = writer("gemini", api_key=KEY, base_url=fake_gemini.base_url, timeout_s=5, model="gemini-test")
    assert isinstance(built, GeminiWriter) and isinstance(built, Writer) and built.name == "gemini"
    fake_gemini.reply_json({"sentences": [_sentence(1)]})
    assert len(built.expand(BRIEF, section_title="S", context=[], after=None, count=1, mode="quick",
                            prompt=None)) == 1
    assert fake_gemini.requests[0].model == "gemini-test"
    with pytest.raises(ProviderError, match="needs an API key"):
        writer("gemini", api_key="", base_url=fake_gemini.base_url)


def test_camera_names_are_normalised():
    assert [camera(v) for v in ("zoom_in", "Zoom In", "pan-right", "dolly in", "tracking", "", "crane")] == [
        "zoom_in", "zoom_in", "pan_right", "zoom_in", "truck", "static", "static"]
