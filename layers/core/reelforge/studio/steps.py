"""The studio's state machines' steps: `script` (writing) and `media` (sentence media, export).

Script: a short script is one call; a long one is written section after section from its
outline, each call seeing the running summary and the topics covered so far (kept on the
outline). New sections are stored unlisted and replace the project's old ones only at the end.

Media: every artifact of a sentence is stored under a key made from a hash of what went into
it, so the plan knows what is stale without trusting anything but the inputs (the dirty flags
are cleared as the artifacts are rebuilt). An export after one sentence changed rebuilds that
sentence's audio, image and clip, and joins every clip again by stream copy.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from contextlib import suppress
from pathlib import Path
from typing import Any

from reelforge import jobs
from reelforge.ai.choice import ProviderChoice
from reelforge.blobs import Blobs
from reelforge.errors import Missing, short_error
from reelforge.projects import service as projects
from reelforge.settings import get_settings
from reelforge.store import Keys, NotFound, Table, now_iso
from reelforge.studio import cast, catalog, outlines, sections, sentences, service
from reelforge.workflow import provider_key, readable_error

# Bump when the look or the encoding of an artifact changes, so old ones are not reused.
_ARTIFACT_VERSION = "1"
LOCAL_CARD_NOTE = ("local provider: a designed card (procedural picture seeded by the prompt, no AI); "
                   "send an X-Gemini-Key for generated images")


def _job(event: dict[str, Any]) -> dict[str, Any]:
    return jobs.get(event["job_id"])


def _project(event: dict[str, Any]) -> dict[str, Any]:
    try:
        return Table().get(Keys.project(event["project_id"]))
    except NotFound:
        raise Missing("the project was deleted while the job ran") from None


def _choice(event: dict[str, Any]) -> ProviderChoice:
    return ProviderChoice(**event["provider"])


# --- script -------------------------------------------------------------------------------------

def start_step(event: dict[str, Any]) -> dict[str, Any]:
    job = _job(event)
    jobs.set_running(job["id"], message="Starting script generation...")
    if event["mode"] == "short":
        service.report(job, 0, "Starting script generation...", step_name="starting", current_step=1, total_steps=4)
        return {"index": 0, "total": 1}
    outline = outlines.get(event["owner"], event["outline_id"])
    outlines.update(outline, {"status": outlines.GENERATING})
    total = len(outline["sections"])
    service.report(job, 0, f"Writing {total} sections", step_name="starting", current_step=0, total_steps=total)
    return {"index": 0, "total": total}


def write_short_step(event: dict[str, Any]) -> dict[str, Any]:
    job, project = _job(event), _project(event)
    service.report(job, 25, "Generating script with AI...", step_name="generating", current_step=2, total_steps=4)
    draft = service.writer(_choice(event)).script(service.brief(project, event["topic"], event["minutes"]))
    service.report(job, 50, "Preparing to save script...", step_name="preparing", current_step=3, total_steps=4)
    speakers = cast.speakers(project)
    staged = [sections.stage(project, s, speakers) for s in draft.sections]
    service.report(job, 75, "Saving script to database...", step_name="saving", current_step=4, total_steps=4)
    return {"new_ids": [s["id"] for s in staged], "note": draft.note}


def write_section_step(event: dict[str, Any]) -> dict[str, Any]:
    """Outline section `index`, seeing what the sections before it covered."""
    job, project = _job(event), _project(event)
    index, total = int(event["progress"]["index"]), int(event["progress"]["total"])
    outline = outlines.get(event["owner"], event["outline_id"])
    entries = list(outline["sections"])
    entries[index] = {**entries[index], "status": "generating"}
    outline = outlines.update(outline, {"sections": entries, "currentSectionIndex": index})
    title = entries[index]["title"]
    service.report(job, round(100 * index / total), f"Writing section {index + 1}/{total}: {title}",
                   step_name=title, current_step=index + 1, total_steps=total)
    result = service.writer(_choice(event)).section(
        service.brief(project, outline["topic"], outline["totalTargetMinutes"], outline["visualStyle"]),
        outlines.as_draft(outline), index, running_summary=outline.get("runningSummary") or "",
        covered_topics=list(outline.get("coveredTopics") or []))
    staged = sections.stage(project, result.section, cast.speakers(project))
    entries[index] = {**entries[index], "status": "completed", "sectionId": staged["id"]}
    outlines.update(outline, {"sections": entries, "runningSummary": result.summary,
                              "coveredTopics": result.covered_topics, "currentSectionIndex": min(index + 1, total - 1)})
    service.report(job, round(100 * (index + 1) / total) - (1 if index + 1 == total else 0),
                   f"Section {index + 1}/{total} written: {title} ({staged['sentenceCount']} sentences)",
                   step_name=title, current_step=index + 1, total_steps=total)
    return {"index": index + 1, "total": total}


def finish_script_step(event: dict[str, Any]) -> dict[str, Any]:
    """The written sections become the project's (the old ones go only now)."""
    job = _job(event)
    note = None
    if event["mode"] == "short":
        new_ids, note = event["written"]["new_ids"], event["written"].get("note")
    else:
        outline = outlines.get(event["owner"], event["outline_id"])
        new_ids = [s["sectionId"] for s in outline["sections"] if s.get("sectionId")]
        note = outline.get("note")
    sections.publish(event["project_id"], new_ids, event.get("replacing") or [])
    if event["mode"] == "short":  # the project takes the topic once its script exists
        Table().update(Keys.project(event["project_id"]), {"topic": event["topic"], "targetDuration": event["minutes"]})
    else:
        outlines.update(outlines.get(event["owner"], event["outline_id"]), {"status": outlines.COMPLETED})
    project = _project(event)
    written = [s for s in sections.of_project(project) if s["id"] in set(new_ids)]
    result = {"sections": len(written), "sentences": sum(len(s.get(sentences.SECTION_LIST) or []) for s in written),
              "durationMinutes": service.estimated_minutes(written), **({"note": note} if note else {})}
    service.finish(job, result, message="Script generated")
    # Only now may another writer start: until the job is over its sections are the project's.
    service.release_script_writing(event["project_id"], service.READY)
    return result


def script_failed_step(event: dict[str, Any]) -> dict[str, Any]:
    """Every Catch of the script machine ends here: the job fails, the half-written sections
    are dropped, the project keeps the script it had."""
    message = readable_error(event.get("error") or {})
    job = _job(event)
    service.fail(job, message)
    project = _project(event)
    listed = set(sections.ids_of(project))
    unlisted = [s for s in Table().query_partition(project["PK"], "SECTION#") if s["id"] not in listed]
    sections.purge(unlisted)
    service.release_script_writing(event["project_id"], service.READY if listed else service.DRAFT)
    if event.get("outline_id"):
        with suppress(NotFound):
            outlines.update(outlines.get(event["owner"], event["outline_id"]), {"status": outlines.FAILED})
    return {"job_id": job["id"], "error": message}


# --- media: what each artifact is made from --------------------------------------------------------

def _digest(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:24]


def _settings_of(project: dict[str, Any]) -> dict[str, Any]:
    return {"aspect": project.get("exportAspect") or "16:9", "captions": project.get("exportCaptions", True)}


def _image_provider(project: dict[str, Any], choice: ProviderChoice) -> str:
    model = project.get("modelId") or catalog.DEFAULT_MODEL
    if model == catalog.LOCAL_CARD:
        return "local"
    return choice.name


def _voice(project: dict[str, Any], item: dict[str, Any], voices: dict[str, str | None]) -> str | None:
    """The speaker's voice (its own, or one other than the narrator's), else the project's."""
    from reelforge.media.tts import VOICES, get_voice

    narrator = project.get("voiceId") or get_voice(None, "english").id
    speaker = item.get("speakerId")
    if not speaker or speaker not in voices:
        return narrator
    if voices[speaker]:
        return voices[speaker]
    others = [v.id for v in VOICES if v.language == "english" and v.id != narrator]
    return others[sorted(voices).index(speaker) % len(others)] if others else narrator


def _plan_keys(project: dict[str, Any], item: dict[str, Any], choice: ProviderChoice,
               voices: dict[str, str | None]) -> dict[str, Any]:
    """The keys the sentence's audio, image and video have when made from what it is now."""
    from reelforge.media.layouts import output_size

    look = _settings_of(project)
    size = output_size(look["aspect"])
    voice = _voice(project, item, voices)
    audio = _digest(_ARTIFACT_VERSION, "audio", item["text"], voice, choice.name)
    style = catalog.style(project.get("styleId"))
    subject = item.get("imagePrompt") or item["text"]
    prompt = f"{subject}, {style['prompt']}"
    image_provider = _image_provider(project, choice)
    image = _digest(_ARTIFACT_VERSION, "image", prompt, size, image_provider, style["tone"])
    s = get_settings()
    video = _digest(_ARTIFACT_VERSION, "video", audio, image, item.get("cameraMovement"),
                    float(item.get("motionStrength") or 0), size, look["captions"], s.render_preset, s.render_crf)
    return {"audio": sentences.media_key(item, "audio", audio, "wav"), "image": sentences.media_key(item, "image", image, "png"),
            "video": sentences.media_key(item, "video", video, "mp4"), "voice": voice, "prompt": prompt, "subject": subject,
            "image_provider": image_provider, "tone": style["tone"], "size": list(size), "captions": look["captions"]}


def _stale(item: dict[str, Any], keys: dict[str, Any]) -> list[str]:
    """What of the sentence must be made again: flagged, or not made from what it is now."""
    def outdated(kind: str) -> bool:
        return bool(item.get(sentences.DIRTY[kind])) or item.get(sentences.FILE[kind]) != keys[kind]

    audio, image = outdated("audio"), outdated("image")
    video = audio or image or outdated("video")  # a new audio or image makes a new clip
    return [kind for kind, stale in (("audio", audio), ("image", image), ("video", video)) if stale]


def _all_sentences(project: dict[str, Any]) -> list[dict[str, Any]]:
    stored = sentences.of_project(project["id"])
    return [s for sec in sections.of_project(project) for s in sentences.ordered(sec, stored.get(sec["id"], []))]


def _cast_voices(project: dict[str, Any]) -> dict[str, str | None]:
    return {c["id"]: c.get("voiceId") for c in cast.cast_of(project)}


def media_plan_step(event: dict[str, Any]) -> dict[str, Any]:
    """Which sentences the RenderSentences Map must work on, and what of each."""
    job, project = _job(event), _project(event)
    jobs.set_running(job["id"], message="Planning media")
    if event.get("export"):
        Table().update(Keys.project(project["id"]), {"exportAspect": event["export"]["aspect"],
                                                     "exportCaptions": event["export"]["captions"]})
        project = _project(event)
    choice, voices = _choice(event), _cast_voices(project)
    todo, speakable = [], 0
    if event["scope"] == "sentence":
        try:
            item = sentences.locate(None, event["sentence_id"])
        except NotFound:
            raise Missing("the sentence was deleted before its media were made") from None
        keys = _plan_keys(project, item, choice, voices)
        stale = _stale(item, keys)
        wanted = {"audio": ["audio"], "image": ["image"],
                  "video": [k for k in ("audio", "image") if k in stale] + ["video"]}[event["kind"]]
        todo.append({"sentence_id": item["id"], "kinds": wanted})
        speakable = 1
    else:
        for item in _all_sentences(project):
            if not item["text"].strip():
                continue
            speakable += 1
            stale = _stale(item, _plan_keys(project, item, choice, voices))
            if stale:
                todo.append({"sentence_id": item["id"], "kinds": stale})
    for entry in todo:
        with suppress(NotFound):
            sentences.set_status(sentences.locate(None, entry["sentence_id"]), sentences.GENERATING)
    total = max(1, len(todo))
    service.report(job, 1, f"{len(todo)} of {speakable} sentences to render", step_name="planning",
                   current_step=0, total_steps=total)
    return {"todo": todo, "total": len(todo), "sentences": speakable}


# --- media: one sentence ---------------------------------------------------------------------------

def render_sentence_step(event: dict[str, Any]) -> dict[str, Any]:
    """Make the wanted artifacts of one sentence (audio, then image, then its clip); a sentence
    deleted meanwhile is skipped, not an error."""
    job, project = _job(event), _project(event)
    try:
        return _render_sentence(job, project, event)
    except NotFound:
        return {"sentence_id": event["sentence_id"], "made": [], "notes": [], "skipped": True}


def _render_sentence(job: dict[str, Any], project: dict[str, Any], event: dict[str, Any]) -> dict[str, Any]:
    item = sentences.locate(None, event["sentence_id"])
    rev = int(item.get("rev") or 0)
    choice = _choice(event)
    keys = _plan_keys(project, item, choice, _cast_voices(project))
    key = provider_key(choice.name, choice.sealed_key)
    made, notes = [], []
    try:
        with tempfile.TemporaryDirectory(prefix="sentence-") as tmp:
            for kind in event["kinds"]:
                maker = {"audio": _make_audio, "image": _make_image, "video": _make_video}[kind]
                note = maker(item, keys, rev, choice.name, key, Path(tmp))
                made.append(kind)
                if note:
                    notes.append(note)
                item = sentences.locate(None, item["id"])
    except NotFound:
        raise
    except Exception as exc:
        sentences.set_status(item, sentences.FAILED, short_error(exc))
        raise
    fresh = sentences.locate(None, item["id"])
    clean = not any(fresh.get(f) for f in sentences.DIRTY.values())
    sentences.set_status(fresh, sentences.COMPLETED if clean else sentences.PENDING)
    done = jobs.count_done(job["id"], "sentences_done", item["id"])
    total = max(1, int(event["total"]))
    service.report(job, min(95, 2 + round(88 * done / total)), f"Sentence {done}/{total}: {', '.join(made)} ready",
                   step_name=made[-1] if made else "sentence", current_step=done, total_steps=total)
    return {"sentence_id": item["id"], "made": made, "notes": notes}


def _make_audio(item: dict[str, Any], keys: dict[str, Any], rev: int, provider: str, api_key: str | None,
                tmp: Path) -> str | None:
    from reelforge.synth.speech import speak

    store, words_key = Blobs(), keys["audio"][:-4] + ".json"
    if store.head(words_key) and store.head(keys["audio"]):
        meta = json.loads(store.get_bytes(words_key))
    else:
        speech, note = speak(item["text"], tmp / "narration.wav", language="english", voice=keys["voice"],
                             provider=provider, api_key=api_key, base_url=get_settings().gemini_base_url)
        store.put_file(keys["audio"], speech.path, "audio/wav")
        meta = {"durationMs": round(speech.duration * 1000), "voice": speech.voice, "note": note,
                "wordTimings": [{"word": w.word, "startMs": round(w.start * 1000), "endMs": round(w.end * 1000),
                                 "probability": round(w.probability, 3)} for w in speech.words]}
        store.put_bytes(words_key, json.dumps(meta).encode(), "application/json")
    sentences.record_media(item, "audio", {"audioFile": keys["audio"], "audioDuration": meta["durationMs"],
                                           "wordTimings": meta["wordTimings"], "audioVoice": meta["voice"]}, rev)
    return meta.get("note")


def _make_image(item: dict[str, Any], keys: dict[str, Any], rev: int, provider: str, api_key: str | None,
                tmp: Path) -> str | None:
    from reelforge.synth.images import slide_image

    store, meta_key = Blobs(), keys["image"][:-4] + ".json"
    if store.head(meta_key) and store.head(keys["image"]):
        note = json.loads(store.get_bytes(meta_key)).get("note")
    else:
        if keys["image_provider"] == "local":
            from reelforge.media.slides import designed_card

            image, note = designed_card(keys["subject"], tuple(keys["size"]), keys["tone"]), LOCAL_CARD_NOTE
        else:
            image, note = slide_image(keys["prompt"], tuple(keys["size"]), tone=keys["tone"],
                                      provider=keys["image_provider"], api_key=api_key,
                                      base_url=get_settings().gemini_base_url)
        path = tmp / "image.png"
        image.save(path, optimize=False, compress_level=1)
        store.put_file(keys["image"], path, "image/png")
        store.put_bytes(meta_key, json.dumps({"note": note}).encode(), "application/json")
    sentences.record_media(item, "image", {"imageFile": keys["image"], "imageNote": note}, rev)
    return note


def _make_video(item: dict[str, Any], keys: dict[str, Any], rev: int, provider: str, api_key: str | None,
                tmp: Path) -> str | None:
    """The sentence's clip: its image moved by its camera, exactly as long as its narration."""
    from reelforge.media import compose
    from reelforge.media.motion import render_motion

    store = Blobs()
    if not item.get("audioFile") or not item.get("imageFile"):
        raise ValueError("the sentence needs its audio and image before its video")
    frames = max(1, round(int(item["audioDuration"]) / 1000 * compose.FPS))
    if not store.head(keys["video"]):
        width, height = keys["size"]
        captions, fonts = _captions(item, frames, width, height) if keys["captions"] else (None, None)
        image = store.download(item["imageFile"], tmp / "source.png")
        s = get_settings()
        out = render_motion(image, frames=frames, size=(width, height), movement=item.get("cameraMovement") or "static",
                            strength=float(item.get("motionStrength") if item.get("motionStrength") is not None else 0.5),
                            captions=captions, fonts_dir=fonts, out=tmp / "clip.mp4", preset=s.render_preset,
                            crf=s.render_crf)
        store.put_file(keys["video"], out, "video/mp4")
    sentences.record_media(item, "video", {"videoFile": keys["video"], "videoFrames": frames}, rev)
    return None


def _captions(item: dict[str, Any], frames: int, width: int, height: int) -> tuple[str, Path]:
    """Word-level captions of the sentence as ASS, from its narration's word timings."""
    from reelforge.media import compose
    from reelforge.models import Word

    words = [Word(word=w["word"], start=w["startMs"] / 1000, end=w["endMs"] / 1000,
                  probability=w.get("probability", 1.0)) for w in item.get("wordTimings") or []]
    return compose.spoken_captions(words, seconds=frames / compose.FPS, size=(width, height))


# --- media: the project's video -------------------------------------------------------------------

def compose_export_step(event: dict[str, Any]) -> dict[str, Any]:
    """Every sentence clip in script order, joined by stream copy, with the narration mixed
    to the clips' timeline; each sentence learns where its audio sits (audioStartMs/EndMs)."""
    from reelforge.media import compose

    job, project = _job(event), _project(event)
    service.report(job, 96, "Composing the video", step_name="compose")
    items = [s for s in _all_sentences(project) if s["text"].strip()]
    missing = [s["id"] for s in items if not (s.get("videoFile") and s.get("audioFile"))]
    if missing:
        raise ValueError(f"{len(missing)} sentence(s) have no clip yet (edited during the export?): "
                         "export again")
    store = Blobs()
    key = f"{sentences.media_prefix(project['id'])}exports/{job['id']}.mp4"
    with tempfile.TemporaryDirectory(prefix="studio-export-") as tmp_dir:
        tmp = Path(tmp_dir)
        pieces, parts, at = [], [], 0
        for n, item in enumerate(items):
            pieces.append(store.download(item["videoFile"], tmp / f"clip{n}.mp4"))
            parts.append((store.download(item["audioFile"], tmp / f"audio{n}.wav"), at / compose.FPS))
            start_ms = round(at / compose.FPS * 1000)
            at += int(item["videoFrames"])
            span = {"audioStartMs": start_ms, "audioEndMs": start_ms + int(item["audioDuration"])}
            if any(item.get(k) != v for k, v in span.items()):
                Table().update({"PK": item["PK"], "SK": item["SK"]}, span)
        total = at / compose.FPS
        narration = compose.mix_narration(parts, total=total, out=tmp / "narration.wav")
        video = compose.join(pieces, narration, tmp / "video.mp4")
        store.put_file(key, video, "video/mp4")
    previous = project.get("exportKey")
    Table().update(Keys.project(project["id"]), {"exportKey": key, "exportDuration": round(total, 3),
                                                 "exportedAt": now_iso()})
    if previous and previous != key:
        store.delete(previous)
    return {"key": key, "duration": round(total, 3), "clips": len(items)}


def finish_media_step(event: dict[str, Any]) -> dict[str, Any]:
    job = _job(event)
    rendered = event.get("rendered") or []
    made = {kind: [r["sentence_id"] for r in rendered if kind in r["made"]] for kind in sentences.MEDIA}
    skipped = [r["sentence_id"] for r in rendered if r.get("skipped")]
    notes = sorted({n for r in rendered for n in r.get("notes") or []})
    result: dict[str, Any] = {"rebuilt": made, "sentences": event["plan"]["sentences"],
                              "reused": event["plan"]["sentences"] - len(rendered), "notes": notes}
    if skipped:
        result["skipped"] = skipped  # deleted while the job ran
    if event.get("composed"):
        composed = event["composed"]
        result.update(key=composed["key"], duration=composed["duration"],
                      file=Blobs().presign_get(composed["key"], content_type="video/mp4"))
    elif event["scope"] == "sentence":
        try:
            item = sentences.locate(None, event["sentence_id"])
        except NotFound:
            raise Missing("the sentence was deleted while its media were made") from None
        field = sentences.FILE[event["kind"]]
        if item.get(field):
            result.update(key=item[field], file=Blobs().presign_get(item[field]))
        if event["kind"] != "image" and item.get("audioDuration") is not None:
            result["duration"] = int(item["audioDuration"]) / 1000
    service.finish(job, result, message="Export complete" if event.get("composed") else "Media ready")
    return {k: v for k, v in result.items() if k != "file"}


def media_failed_step(event: dict[str, Any]) -> dict[str, Any]:
    """Every Catch of the media machine ends here; sentences left generating go back to pending."""
    message = readable_error(event.get("error") or {})
    job = _job(event)
    service.fail(job, message)
    try:
        project = projects.get(event["owner"], event["project_id"])
    except NotFound:
        return {"job_id": job["id"], "error": message}
    for item in _all_sentences(project):
        if item.get("status") == sentences.GENERATING:
            sentences.set_status(item, sentences.PENDING)
    return {"job_id": job["id"], "error": message}
