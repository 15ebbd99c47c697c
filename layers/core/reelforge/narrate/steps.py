"""The `generate` state machine's steps (one function per Task).

Every artifact of a slide is stored under a key made from a hash of everything that went
into it (`cache/<kind>-<hash>.<ext>`), so a re-render finds what has not changed and
reuses it: editing one slide re-narrates and redraws that slide alone, re-encodes its span
and its two crossfades, and re-joins the rest by stream copy.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path
from typing import Any

from reelforge import jobs
from reelforge.ai.choice import ProviderChoice
from reelforge.blobs import Blobs
from reelforge.media import compose
from reelforge.media.layouts import output_size
from reelforge.models import Word
from reelforge.narrate import service
from reelforge.narrate.schemas import Content, RenderOptions, Slide
from reelforge.narrate.service import KIND, audio_progress, media_progress, report
from reelforge.narrate.writers.base import Brief
from reelforge.settings import get_settings
from reelforge.store import Keys, Table, now_iso
from reelforge.workflow import provider_key, readable_error

# Bump when the look or the encoding of pieces changes, so old cached pieces are not reused.
_PIECE_VERSION = "1"


def _digest(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:32]


def _cache_key(gid: str, kind: str, digest: str, ext: str) -> str:
    return f"{service.generation_prefix(gid)}cache/{kind}-{digest}.{ext}"


def _provider(event: dict[str, Any]) -> tuple[str, str | None]:
    choice = ProviderChoice(**event["provider"])
    return choice.name, provider_key(choice.name, choice.sealed_key)


def _brief(gen: dict[str, Any]) -> Brief:
    options = RenderOptions(**gen["options"])
    source = None
    if gen.get("has_source"):
        source = Blobs().get_bytes(service.source_key(gen["id"])).decode()
    from reelforge.media.tts import get_voice

    return Brief(topic=gen["topic"], num_slides=int(gen["num_slides"]), language=options.language,
                 tone=options.tone, source_text=source, target_duration_s=gen.get("target_duration_s"),
                 words_per_second=get_voice(options.voice, options.language).words_per_second)


def _writer(event: dict[str, Any]):  # noqa: ANN202 - a narrate.writers Writer
    from reelforge.narrate.writers.registry import writer

    name, key = _provider(event)
    return writer(name, api_key=key, model=get_settings().gemini_model,
                  base_url=get_settings().gemini_base_url)


def _generation(event: dict[str, Any]) -> dict[str, Any]:
    return Table().get(Keys.generation(event["generation_id"]))


# --- writing ---------------------------------------------------------------------------------

def start_step(event: dict[str, Any]) -> dict[str, Any]:
    job_id = event["job_id"]
    jobs.set_running(job_id, message="🚀 Starting generation...")
    report(job_id, "started", 0, "🚀 Starting generation...")
    if event.get("mode") == "render":
        return _preparation_plan(event)
    return {"todo": [], "cached": [], "total": 0}


def write_content_step(event: dict[str, Any]) -> dict[str, Any]:
    report(event["job_id"], "generating_content", 10, "📝 Generating presentation content...")
    gen = _generation(event)
    content = _writer(event).write_content(_brief(gen))
    service.save_content(gen["id"], content)
    return {"total": len(content.slides), "notes": content.notes}


def write_script_step(event: dict[str, Any]) -> dict[str, Any]:
    report(event["job_id"], "generating_scripts", 20, "📜 Generating voice scripts...")
    gen = _generation(event)
    content = service.load_content(gen["id"])
    script = _writer(event).write_script(_brief(gen), content)
    service.save_script(gen["id"], script)
    Table().update(Keys.generation(gen["id"]), {"has_script": True, "updatedAt": now_iso()})
    return _preparation_plan(event)


def review_step(event: dict[str, Any]) -> dict[str, Any]:
    """stop_after "script": the job ends here; POST /api/generate/{id}/render goes on."""
    jobs.complete(event["job_id"], {"stopped_after": "script"}, stage="script_ready",
                  message="📜 Script ready for review: edit it, then POST /api/generate/{id}/render")
    return {"stopped_after": "script"}


# --- what a render still has to make -------------------------------------------------------
# The Maps run only over the slides whose pieces are not in the cache yet, so a re-render after
# a one-slide edit narrates, draws and encodes that slide (and its two crossfades) alone.

def _narration_keys(gid: str, text: str, options: RenderOptions, provider: str) -> tuple[str, str]:
    digest = _digest(_PIECE_VERSION, "narration", text, options.language, options.voice, provider)
    return _cache_key(gid, "narration", digest, "wav"), _cache_key(gid, "words", digest, "json")


def _design(slide: Slide, content: Content, options: RenderOptions, provider: str) -> tuple[Any, str, bool]:
    """(SlideDesign, art digest, whether it has an image) of a slide as the options draw it."""
    from reelforge.media.slides import SlideDesign

    wants_image = slide.needs_image or slide.needs_animation
    keyword = (slide.animation_description if slide.needs_animation else slide.image_keyword) or slide.title
    design = SlideDesign(number=slide.slide_number, total=len(content.slides), title=slide.title,
                         body=slide.content_text, tone=options.tone, language=options.language,
                         image_keyword=keyword if wants_image else None, topic=content.topic)
    digest = _digest(_PIECE_VERSION, "art", design.__dict__, output_size(options.aspect),
                     provider if wants_image else None)
    return design, digest, wants_image


def _preparation_plan(event: dict[str, Any]) -> dict[str, Any]:
    """Which slides the NarrateSlides Map must narrate and draw (`todo`), and the results
    already cached for the others (`cached`, shaped as the Map's results)."""
    gid = event["generation_id"]
    options = RenderOptions(**event["options"])
    provider, _ = _provider(event)
    content, script = service.load_content(gid), service.load_script(gid)
    store = Blobs()
    todo, cached = [], []
    for slide, line in zip(content.slides, script.slide_scripts, strict=True):
        audio_key, words_key = _narration_keys(gid, line.narration_text, options, provider)
        _, art_digest, _ = _design(slide, content, options, provider)
        art_key = _cache_key(gid, "art", art_digest, "json")
        if store.head(words_key) and store.head(art_key):
            spoken_meta, art_meta = json.loads(store.get_bytes(words_key)), json.loads(store.get_bytes(art_key))
            cached.append({
                "spoken": {"slide_number": slide.slide_number, "audio_key": audio_key, "words_key": words_key,
                           "duration": spoken_meta["duration"], "reused": True, "note": spoken_meta.get("note")},
                "drawn": {"slide_number": slide.slide_number, "art_digest": art_digest, "reused": True,
                          "note": art_meta.get("note")}})
        else:
            todo.append(slide.slide_number)
    return {"todo": todo, "cached": cached, "total": len(content.slides)}


def _piece_keys(gid: str, item: dict[str, Any], options: RenderOptions) -> tuple[str, str | None, Any]:
    """(span key, crossfade-into-the-next key or None, captions) of a slide on the timeline."""
    s = get_settings()
    captions = _captions(item["words_key"], options, int(item["frames"]))
    span = _digest(_PIECE_VERSION, "span", item["art_digest"], item["first"], item["count"], item["frames"],
                   captions[0], s.render_preset, s.render_crf)
    following = item.get("next")
    fade = None
    if following:
        fade = _cache_key(gid, "fade", _digest(_PIECE_VERSION, "fade", item["art_digest"], following["art_digest"],
                                               item["frames"], following["frames"], s.render_preset, s.render_crf),
                          "mp4")
    return _cache_key(gid, "span", span, "mp4"), fade, captions


# --- narration -------------------------------------------------------------------------------

def speak_step(event: dict[str, Any]) -> dict[str, Any]:
    """Speak one slide's narration (or reuse the identical one from an earlier render)."""
    from reelforge.synth.speech import speak

    job_id, gid, n, total = event["job_id"], event["generation_id"], int(event["slide_number"]), int(event["total"])
    options = RenderOptions(**event["options"])
    line = service.load_script(gid).slide_scripts[n - 1]
    provider, key = _provider(event)
    audio_key, words_key = _narration_keys(gid, line.narration_text, options, provider)
    store = Blobs()
    cached = store.head(words_key)
    done = jobs.done_count(jobs.get(job_id), "slides_narrated")
    if cached:
        meta = json.loads(store.get_bytes(words_key))
        reused, note = True, meta.get("note")
    else:
        report(job_id, "generating_audio", audio_progress(done, total), f"🎤 Generating audio for slide {n}/{total}...")
        with tempfile.TemporaryDirectory(prefix="narrate-") as tmp:
            speech, note = speak(line.narration_text, Path(tmp) / "narration.wav", language=options.language,
                                 voice=options.voice, provider=provider, api_key=key,
                                 base_url=get_settings().gemini_base_url)
            store.put_file(audio_key, speech.path, "audio/wav")
        meta = {"duration": speech.duration, "voice": speech.voice, "note": note,
                "words": [w.model_dump() for w in speech.words]}
        store.put_bytes(words_key, json.dumps(meta).encode(), "application/json")
        reused = False
    done = jobs.count_done(job_id, "slides_narrated", n)
    report(job_id, "generating_audio", audio_progress(done, total),
           f"✅ Generated audio for slide {n}/{total} ({meta['duration']:.1f}s)"
           + (" (unchanged, reused)" if reused else ""))
    return {"slide_number": n, "audio_key": audio_key, "words_key": words_key,
            "duration": meta["duration"], "reused": reused, "note": note}


def timeline_step(event: dict[str, Any]) -> dict[str, Any]:
    """Lay the slides on the frame timeline from their real narration lengths, mix the
    narration into one loudness-normalised track, and write those times into the script."""
    job_id, gid = event["job_id"], event["generation_id"]
    report(job_id, "combining_audio", 48, "🎵 Combining audio tracks...")
    prepared = sorted([*event["prepared"], *event["plan"]["cached"]], key=lambda x: x["spoken"]["slide_number"])
    spoken, drawn = [x["spoken"] for x in prepared], [x["drawn"] for x in prepared]
    windows = compose.plan_windows([x["duration"] for x in spoken])
    total_s = windows[-1].end_s
    store = Blobs()
    with tempfile.TemporaryDirectory(prefix="timeline-") as tmp:
        parts = [(store.download(x["audio_key"], Path(tmp) / f"{x['slide_number']}.wav"), w.speech_at)
                 for x, w in zip(spoken, windows, strict=True)]
        mixed = compose.mix_narration(parts, total=total_s, out=Path(tmp) / "narration.wav")
        narration_key = f"{service.generation_prefix(gid)}renders/{job_id}-narration.wav"
        store.put_file(narration_key, mixed, "audio/wav")
    script = service.load_script(gid)
    for line, w in zip(script.slide_scripts, windows, strict=True):
        line.start_time, line.end_time = round(w.start_s, 3), round(w.end_s, 3)
    script.total_duration, script.timed = round(total_s, 3), True
    service.save_script(gid, script)
    report(job_id, "combining_audio", 49, "✅ Audio tracks combined")
    report(job_id, "generating_media", 50, "🎨 Generating slide visuals...")
    slides = []
    for i, (x, w) in enumerate(zip(spoken, windows, strict=True)):
        first, count = compose.body_span(windows, i)
        following = ({"art_digest": drawn[i + 1]["art_digest"], "frames": windows[i + 1].frames}
                     if i + 1 < len(windows) else None)
        slides.append({"slide_number": x["slide_number"], "frames": w.frames, "first": first, "count": count,
                       "words_key": x["words_key"], "art_digest": drawn[i]["art_digest"], "next": following})
    notes = {x["note"] for x in [*spoken, *drawn] if x.get("note")}
    options = RenderOptions(**event["options"])
    todo, cached = [], []
    for item in slides:
        span_key, fade_key, _ = _piece_keys(gid, item, options)
        if store.head(span_key) and (fade_key is None or store.head(fade_key)):
            cached.append({"slide_number": item["slide_number"], "art_digest": item["art_digest"],
                           "span_key": span_key, "fade_key": fade_key, "reused": True, "fade_reused": True})
        else:
            todo.append(item)
    return {"slides": slides, "todo": todo, "cached": cached, "narration_key": narration_key,
            "duration": round(total_s, 3), "notes": sorted(notes),
            "unchanged": [x["slide_number"] for x, d in zip(spoken, drawn, strict=True)
                          if x.get("reused") and d.get("reused")]}


# --- pictures --------------------------------------------------------------------------------

def _visual_kind(slide: Slide) -> tuple[str, str, str]:
    """(seed stage, start message, done message) for the kind of slide being drawn."""
    if slide.needs_animation:
        return "generating_animation", "🎬 Creating animation for slide {n}/{t}...", "✅ Animation created for slide {n}/{t}"
    if slide.needs_image:
        return "fetching_image", "🖼️ Fetching image for slide {n}/{t}...", "✅ Image added to slide {n}/{t}"
    return "generating_slide", "📄 Creating text slide {n}/{t}...", "✅ Text slide {n}/{t} created"


def _load_art(gid: str, digest: str, folder: Path) -> Any:
    """A drawn slide (SlideArt) from the cache into `folder`."""
    from reelforge.media.slides import Box, SlideArt

    store = Blobs()
    meta = json.loads(store.get_bytes(_cache_key(gid, "art", digest, "json")))
    folder.mkdir(parents=True, exist_ok=True)
    panel = store.download(meta["panel_key"], folder / "panel.png") if meta.get("panel_key") else None
    return SlideArt(store.download(meta["background_key"], folder / "background.png"), panel,
                    Box(**meta["panel_box"]) if meta.get("panel_box") else None)


def draw_step(event: dict[str, Any]) -> dict[str, Any]:
    """Draw one slide's picture (and fetch its image), or find the identical one drawn before.

    It runs beside the narration (the NarrateSlides Map), so when the slides are encoded every
    neighbour's picture is there for the crossfades."""
    from reelforge.media.slides import render_slide

    gid, n = event["generation_id"], int(event["slide_number"])
    options = RenderOptions(**event["options"])
    content = service.load_content(gid)
    provider, key = _provider(event)
    size = output_size(options.aspect)
    design, digest, wants_image = _design(content.slides[n - 1], content, options, provider)
    keyword = design.image_keyword
    meta_key = _cache_key(gid, "art", digest, "json")
    store = Blobs()
    if store.head(meta_key):
        return {"slide_number": n, "art_digest": digest, "reused": True,
                "note": json.loads(store.get_bytes(meta_key)).get("note")}
    image, note = None, None
    with tempfile.TemporaryDirectory(prefix="draw-") as tmp:
        if wants_image:
            from reelforge.synth.images import slide_image

            image, note = slide_image(keyword, size, tone=options.tone, provider=provider, api_key=key,
                                      base_url=get_settings().gemini_base_url)
        art = render_slide(design, size, Path(tmp), image=image)
        meta = {"background_key": _cache_key(gid, "background", digest, "png"), "note": note}
        store.put_file(meta["background_key"], art.background, "image/png")
        if art.panel is not None and art.panel_box is not None:
            meta["panel_key"] = _cache_key(gid, "panel", digest, "png")
            meta["panel_box"] = art.panel_box.__dict__
            store.put_file(meta["panel_key"], art.panel, "image/png")
    store.put_bytes(meta_key, json.dumps(meta).encode(), "application/json")
    return {"slide_number": n, "art_digest": digest, "reused": False, "note": note}


def _captions(words_key: str, options: RenderOptions, frames: int) -> tuple[str | None, Path | None]:
    """The slide's burned-in captions as ASS, timed from the slide's first frame (its
    narration starts LEAD_S in), and the folder of the font for the language."""
    if not options.captions:
        return None, None
    meta = json.loads(Blobs().get_bytes(words_key))
    words = [Word(**w).model_copy(update={"start": w["start"] + compose.LEAD_S, "end": w["end"] + compose.LEAD_S})
             for w in meta["words"]]
    return compose.spoken_captions(words, seconds=frames / compose.FPS, size=output_size(options.aspect),
                                   language=options.language)


def render_slide_step(event: dict[str, Any]) -> dict[str, Any]:
    """Encode one slide's span of the video and the crossfade into the next slide (or reuse
    either from an earlier render: the keys are hashes of everything that goes into them)."""
    job_id, gid = event["job_id"], event["generation_id"]
    item, total = event["slide"], int(event["total"])
    n = int(item["slide_number"])
    options = RenderOptions(**event["options"])
    slide = service.load_content(gid).slides[n - 1]
    stage, starting, finished = _visual_kind(slide)
    done = jobs.done_count(jobs.get(job_id), "slides_drawn")
    report(job_id, stage, media_progress(done, total), starting.format(n=n, t=total))
    s, store = get_settings(), Blobs()
    span_key, fade_key, (captions, fonts) = _piece_keys(gid, item, options)
    with tempfile.TemporaryDirectory(prefix="slide-") as tmp_dir:
        tmp = Path(tmp_dir)
        art = None
        span_reused = store.head(span_key) is not None
        if not span_reused:
            art = _load_art(gid, item["art_digest"], tmp / "art")
            out = compose.render_span(art, int(item["first"]), int(item["count"]), out=tmp / "span.mp4",
                                      slide_frames=int(item["frames"]), captions=captions, fonts_dir=fonts,
                                      preset=s.render_preset, crf=s.render_crf)
            store.put_file(span_key, out, "video/mp4")
        fade_reused = True
        following = item.get("next")
        if following and fade_key:
            fade_reused = store.head(fade_key) is not None
            if not fade_reused:
                art = art or _load_art(gid, item["art_digest"], tmp / "art")
                windows = [compose.SlideWindow(0, int(item["frames"])),
                           compose.SlideWindow(int(item["frames"]), int(following["frames"]))]
                out = compose.render_crossfade(art, _load_art(gid, following["art_digest"], tmp / "next"),
                                               windows, 0, out=tmp / "fade.mp4",
                                               preset=s.render_preset, crf=s.render_crf)
                store.put_file(fade_key, out, "video/mp4")
    done = jobs.count_done(job_id, "slides_drawn", n)
    report(job_id, stage, media_progress(done, total), finished.format(n=n, t=total)
           + (" (unchanged, reused)" if span_reused and fade_reused else ""))
    # A slide counts as reused when its own span was; a crossfade belongs to two slides.
    return {"slide_number": n, "art_digest": item["art_digest"], "span_key": span_key, "fade_key": fade_key,
            "reused": span_reused, "fade_reused": fade_reused}


# --- the video -------------------------------------------------------------------------------

def compose_step(event: dict[str, Any]) -> dict[str, Any]:
    """Every piece (span, crossfade, span, ...) joined by stream copy with the narration
    track: each frame of the video was encoded once, in its piece."""
    job_id, gid = event["job_id"], event["generation_id"]
    report(job_id, "composing_video", 85, "🎞️ Composing final video with audio...")
    rendered = sorted([*event["rendered"], *event["timeline"]["cached"]], key=lambda x: x["slide_number"])
    store = Blobs()
    with tempfile.TemporaryDirectory(prefix="compose-") as tmp_dir:
        tmp = Path(tmp_dir)
        pieces = []
        for x in rendered:
            pieces.append(store.download(x["span_key"], tmp / f"span{x['slide_number']}.mp4"))
            if x.get("fade_key"):
                pieces.append(store.download(x["fade_key"], tmp / f"fade{x['slide_number']}.mp4"))
        narration = store.download(event["timeline"]["narration_key"], tmp / "narration.wav")
        video = compose.join(pieces, narration, tmp / "video.mp4")
        render_key = f"{service.generation_prefix(gid)}renders/{job_id}.mp4"
        store.put_file(render_key, video, "video/mp4")
    report(job_id, "composing_video", 95, "✅ Video composition complete")
    return {"render_key": render_key, "duration": event["timeline"]["duration"]}


def publish_step(event: dict[str, Any]) -> dict[str, Any]:
    """Make the new render the generation's video, drop what no render uses any more."""
    job_id, gid = event["job_id"], event["generation_id"]
    composed, timeline = event["composed"], event["timeline"]
    rendered = [*event["rendered"], *timeline["cached"]]
    store = Blobs()
    gen = _generation(event)
    previous = gen.get("video_key")
    Table().update(Keys.generation(gid), {
        "video_key": composed["render_key"], "video_ready": True, "duration": composed["duration"],
        "revision": int(gen.get("revision") or 0) + 1, "updatedAt": now_iso()})
    if previous and previous != composed["render_key"]:
        store.delete(previous)
    store.delete(timeline["narration_key"])
    in_use = {x["span_key"] for x in rendered} | {x["fade_key"] for x in rendered if x.get("fade_key")}
    in_use |= {_cache_key(gid, "art", x["art_digest"], "json") for x in rendered}
    in_use |= {x["words_key"] for x in timeline["slides"]}
    _prune_cache(gid, in_use)
    unchanged = set(timeline.get("unchanged") or [])
    reused = sorted(x["slide_number"] for x in rendered if x["reused"] and x["slide_number"] in unchanged)
    notes = list(timeline.get("notes") or [])
    content_notes = service.load_content(gid).notes
    result = {"generation_id": gid, "video_key": composed["render_key"], "duration": composed["duration"],
              "reused_slides": len(reused), "rendered_slides": len(rendered) - len(reused),
              "reused_slide_numbers": reused, "notes": "; ".join(n for n in [content_notes, *notes] if n)}
    jobs.complete(job_id, result, message="✅ Video generation complete!")
    return {"video_key": composed["render_key"]}


def _prune_cache(gid: str, in_use: set[str]) -> None:
    """Delete cached pieces the current video does not use (a slide's previous versions)."""
    store = Blobs()
    keep_digests = {k.rsplit("-", 1)[-1].split(".")[0] for k in in_use}
    for key in list(store.list_keys(f"{service.generation_prefix(gid)}cache/")):
        digest = key.rsplit("-", 1)[-1].split(".")[0]
        if digest not in keep_digests:
            store.delete(key)


def mark_failed_step(event: dict[str, Any]) -> dict[str, Any]:
    """Every Catch ends here: the job fails with a readable message (the seed's error frame)."""
    message = readable_error(event.get("error") or {})
    jobs.fail(event["job_id"], message)
    return {"job_id": event["job_id"], "error": message, "kind": KIND}

