"""The `process` state machine's steps (one function per Task).

Each step takes the state's JSON, reads its inputs from S3, writes its outputs to S3 and
returns keys and small metadata, so payloads between states stay Lambda-sized.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from reelforge import blobs, jobs, slots
from reelforge.ai.choice import ProviderChoice
from reelforge.blobs import Blobs
from reelforge.clips.schemas import ProcessOptions, Source
from reelforge.clips.service import KIND, report
from reelforge.errors import InvalidMediaError
from reelforge.models import Scene, Transcript
from reelforge.settings import get_settings
from reelforge.workflow import provider_key, readable_error


def _artifact(job_id: str, name: str) -> str:
    return f"{blobs.job_prefix(job_id)}{name}"


def acquire_slot_step(event: dict[str, Any]) -> dict[str, Any]:
    job_id = event["job_id"]
    slot = slots.acquire(KIND, job_id, get_settings().max_concurrent_jobs)
    jobs.set_running(job_id, message="Started")
    return {"slot": slot}


def ingest_step(event: dict[str, Any]) -> dict[str, Any]:
    job_id = event["job_id"]
    source = Source(**event["source"])
    report(job_id, "ingest", 0.0, "Fetching the video")
    if source.kind == "upload":
        if not source.key or not Blobs().exists(source.key):
            raise InvalidMediaError("the uploaded file is missing")
        return {"video_key": source.key}
    from reelforge.ingest import fetch_to_bucket

    key = fetch_to_bucket(source.url or "", _artifact(job_id, "source/"),
                          on_progress=lambda f: report(job_id, "ingest", f, "Downloading the video"))
    return {"video_key": key}


def probe_step(event: dict[str, Any]) -> dict[str, Any]:
    from reelforge.media.probe import probe

    job_id = event["job_id"]
    info = probe(Blobs().presign_get(event["video_key"]))
    if not info.has_video:
        raise InvalidMediaError("the file has no video stream; clips need a picture")
    if info.duration < 3:
        raise InvalidMediaError(f"the video is {info.duration:.1f} s long; too short for clips")
    report(job_id, "probe", 1.0, f"Video {info.width}x{info.height}, {info.duration:.0f} s")
    return info.model_dump()


def transcribe_step(event: dict[str, Any]) -> dict[str, Any]:
    from reelforge.media.transcribe import release_models, transcribe

    job_id = event["job_id"]
    options = ProcessOptions(**event.get("options") or {})
    s = get_settings()
    report(job_id, "transcribe", 0.0, "Transcribing speech")
    with tempfile.TemporaryDirectory(prefix="transcribe-") as tmp:
        video = Blobs().download(event["video_key"], Path(tmp) / "source")
        transcript = transcribe(
            video, model=options.whisper_model or s.whisper_model, device=s.whisper_device,
            compute_type=s.whisper_compute_type, beam_size=s.whisper_beam_size,
            language=options.language,
            on_progress=lambda f: report(job_id, "transcribe", f, f"Transcribing speech ({100 * f:.0f}%)"),
        )
    if not s.whisper_keep_loaded:
        release_models()
    key = _artifact(job_id, "transcript.json")
    Blobs().put_bytes(key, transcript.model_dump_json().encode(), "application/json")
    return {"transcript_key": key, "language": transcript.language}


def detect_scenes_step(event: dict[str, Any]) -> dict[str, Any]:
    from reelforge.media.scenes import detect_scenes

    job_id = event["job_id"]
    with tempfile.TemporaryDirectory(prefix="scenes-") as tmp:
        video = Blobs().download(event["video_key"], Path(tmp) / "source")
        scenes = detect_scenes(video)
    key = _artifact(job_id, "scenes.json")
    Blobs().put_bytes(key, json.dumps([sc.model_dump() for sc in scenes]).encode(), "application/json")
    return {"scenes_key": key, "scene_count": len(scenes)}


def _load_transcript(key: str) -> Transcript:
    return Transcript.model_validate_json(Blobs().get_bytes(key))


def _load_scenes(key: str) -> list[Scene]:
    return [Scene(**sc) for sc in json.loads(Blobs().get_bytes(key))]


def select_moments_step(event: dict[str, Any]) -> dict[str, Any]:
    from reelforge.clips.moments.registry import moment_provider
    from reelforge.clips.moments.select import MomentRequest, select_moments

    job_id = event["job_id"]
    options = ProcessOptions(**event.get("options") or {})
    choice = ProviderChoice(**event["provider"])
    s = get_settings()
    report(job_id, "select", 0.0, f"Choosing moments ({choice.name})")
    api_key = provider_key(choice.name, choice.sealed_key) if choice.name == "gemini" else None
    provider = moment_provider(choice.name, api_key=api_key, model=s.gemini_model,
                               base_url=s.gemini_base_url)
    request = MomentRequest(target_count=options.clip_count, min_len=options.min_duration,
                            max_len=options.max_duration)
    selection = select_moments(provider, _load_transcript(event["transcript_key"]),
                               _load_scenes(event["scenes_key"]), float(event["duration"]), request)
    clips = [{"index": i + 1, **m.model_dump()} for i, m in enumerate(selection.moments)]
    if not clips:
        raise InvalidMediaError(selection.notes or "no moments could be selected from this video")
    key = _artifact(job_id, "moments.json")
    Blobs().put_bytes(key, selection.model_dump_json().encode(), "application/json")
    report(job_id, "select", 1.0, f"Selected {len(clips)} moments")
    return {"clips": clips, "notes": selection.notes or "", "provider": selection.provider}


def render_clip_step(event: dict[str, Any]) -> dict[str, Any]:
    from reelforge.media.render import render_clip

    job_id = event["job_id"]
    clip = event["clip"]
    options = ProcessOptions(**event.get("options") or {})
    s = get_settings()
    index = int(clip["index"])
    transcript = _load_transcript(event["transcript_key"])
    scenes = _load_scenes(event["scenes_key"])
    name = f"clip_{index:02d}"
    store = Blobs()
    with tempfile.TemporaryDirectory(prefix="render-") as tmp:
        # ffmpeg reads the source over a presigned URL with range requests: only the
        # clip's bytes travel, not the whole video.
        rendered = render_clip(
            store.presign_get(event["video_key"]), start=float(clip["start"]), end=float(clip["end"]),
            words=transcript.words(), out_path=Path(tmp) / f"{name}.mp4",
            scene_cuts=[sc.start for sc in scenes[1:]], preset=s.render_preset, crf=s.render_crf,
            fonts_dir=s.fonts_dir, aspect=options.aspect, layout=options.layout,
            burn_captions=options.captions, caption_style=options.caption_style,
        )
        keys = {}
        for kind, path, ctype in (("video", rendered.video_path, "video/mp4"),
                                  ("thumbnail", rendered.thumbnail_path, "image/jpeg"),
                                  ("srt", rendered.srt_path, "application/x-subrip"),
                                  ("vtt", rendered.vtt_path, "text/vtt")):
            keys[f"{kind}_key"] = _artifact(job_id, f"clips/{Path(path).name}")
            store.put_file(keys[f"{kind}_key"], path, ctype)
    done = jobs.count_done(job_id, "clips_done", clip["index"])
    total = int(event.get("clip_count") or 1)
    report(job_id, "render", done / total, f"Rendered clip {done}/{total}")
    return {**clip, **keys, "name": name, "duration": rendered.duration, "width": rendered.width,
            "height": rendered.height, "reframe": rendered.mode}


def publish_step(event: dict[str, Any]) -> dict[str, Any]:
    job_id = event["job_id"]
    clips = sorted(event["clips"], key=lambda c: c["index"])
    manifest = {"job_id": job_id, "provider": event.get("provider"), "notes": event.get("notes") or "",
                "source": event.get("media"), "transcript_key": event["transcript_key"], "clips": clips}
    key = _artifact(job_id, "manifest.json")
    Blobs().put_bytes(key, json.dumps(manifest, indent=2).encode(), "application/json")
    result = {"manifest_key": key, "transcript_key": event["transcript_key"], "clips": clips,
              "notes": manifest["notes"], "provider": manifest["provider"]}
    jobs.complete(job_id, result, message=f"{len(clips)} clips ready")
    slots.release(KIND, job_id)
    return {"manifest_key": key, "clip_count": len(clips)}


def mark_failed_step(event: dict[str, Any]) -> dict[str, Any]:
    job_id = event["job_id"]
    message = readable_error(event.get("error") or {})
    jobs.fail(job_id, message)
    slots.release(event.get("kind") or KIND, job_id)
    return {"error": message}
