"""The clips pipeline (`process` state machine): submission, the steps, and presentation.

Each step takes the state's JSON, reads its inputs from S3, writes its outputs to S3 and
returns keys and small metadata, so payloads between states stay Lambda-sized.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any, Literal

from aws_lambda_powertools import Logger
from pydantic import BaseModel, Field, model_validator

from reelforge import aws, blobs, jobs, keyseal, slots
from reelforge.blobs import Blobs
from reelforge.errors import InvalidMediaError, ProviderError
from reelforge.models import Scene, Transcript
from reelforge.settings import get_settings
from reelforge.store import ConditionFailed, Keys, NotFound, Table

logger = Logger(child=True)
KIND = "process"
# Each stage's share of the job's overall progress (0..1), in pipeline order.
STAGES: dict[str, tuple[float, float]] = {
    "ingest": (0.02, 0.10),
    "probe": (0.10, 0.12),
    "transcribe": (0.12, 0.56),
    "select": (0.56, 0.62),
    "render": (0.62, 0.98),
    "publish": (0.98, 1.0),
}


def _report(job_id: str, stage: str, done: float, message: str) -> None:
    """Progress within a stage (0..1), mapped onto the job's overall progress."""
    lo, hi = STAGES[stage]
    jobs.progress(job_id, stage=stage, fraction=lo + (hi - lo) * max(0.0, min(1.0, done)),
                  message=message)


class ProcessOptions(BaseModel):
    """What a caller may tune about a clips job (all optional)."""

    clip_count: int | None = Field(default=None, ge=1, le=15, description="target clips; auto if absent")
    min_duration: float = Field(default=15.0, ge=5.0, le=120.0)
    max_duration: float = Field(default=60.0, ge=10.0, le=180.0)
    language: str | None = Field(default=None, pattern=r"^[a-z]{2,3}$")
    whisper_model: Literal["base", "tiny.en"] | None = None
    captions: bool = True

    @model_validator(mode="after")
    def _ordered(self) -> ProcessOptions:
        if self.min_duration >= self.max_duration:
            raise ValueError("min_duration must be less than max_duration")
        return self


class ProviderChoice(BaseModel):
    name: Literal["local", "gemini"]
    sealed_key: str | None = None  # see keyseal: never the plain key


class Source(BaseModel):
    kind: Literal["upload", "url"]
    key: str | None = None
    url: str | None = None


# --- submission (API and S3 trigger) -----------------------------------------------------


def choose_provider(header_key: str | None) -> ProviderChoice:
    """X-Gemini-Key selects Gemini for this job; otherwise the server's default provider."""
    s = get_settings()
    if header_key:
        return ProviderChoice(name="gemini", sealed_key=keyseal.seal(header_key))
    return ProviderChoice(name=s.ai_provider)


def create_job(owner: str, options: ProcessOptions, provider: ProviderChoice, source: Source | None,
               *, file_name: str | None = None) -> dict[str, Any]:
    """A queued job; with `source` it starts now, without it waits for its upload."""
    extra = {}
    if source is None:
        # Kept until the upload lands; the sealed key is ciphertext (see keyseal).
        extra["pending_input"] = {"options": options.model_dump(), "provider": provider.model_dump()}
    job = jobs.create(owner, KIND, params={"options": options.model_dump(), "provider": provider.name,
                                           "file_name": file_name}, extra=extra)
    if source is not None:
        start_execution(job["id"], owner, source, options, provider)
    return job


def start_execution(job_id: str, owner: str, source: Source, options: ProcessOptions,
                    provider: ProviderChoice) -> str:
    s = get_settings()
    payload = {"job_id": job_id, "owner": owner, "source": source.model_dump(),
               "options": options.model_dump(), "provider": provider.model_dump()}
    try:
        arn = aws.client("stepfunctions").start_execution(
            stateMachineArn=s.process_state_machine_arn, name=job_id, input=json.dumps(payload)
        )["executionArn"]
    except aws.client("stepfunctions").exceptions.ExecutionAlreadyExists:
        return jobs.get(job_id).get("execution_arn", "")
    jobs.set_fields(job_id, {"execution_arn": arn})
    return arn


def on_process_upload(key: str, size: int) -> dict[str, Any]:
    """An object under process-uploads/<owner>/<job_id>/ starts that job's workflow."""
    parts = key[len(blobs.PROCESS_UPLOADS_PREFIX):].split("/")
    if len(parts) != 3:
        return {"key": key, "outcome": "ignored", "reason": "unexpected key layout"}
    owner, job_id, _ = parts
    try:
        job = jobs.get(job_id, owner)
    except NotFound:
        Blobs().delete(key)
        return {"key": key, "outcome": "deleted", "reason": "no such job"}
    pending = job.get("pending_input")
    if job["status"] != jobs.QUEUED or not pending:
        return {"key": key, "outcome": "ignored", "reason": "job already started"}
    if size > get_settings().max_file_size_bytes:
        Blobs().delete(key)
        jobs.fail(job_id, f"upload exceeds the {get_settings().max_file_size_mb} MB limit")
        return {"key": key, "outcome": "failed"}
    if size == 0:
        Blobs().delete(key)
        jobs.fail(job_id, "the uploaded file is empty")
        return {"key": key, "outcome": "failed"}
    try:
        # Claim the start exactly once, even if S3 delivers the event twice.
        Table().update(Keys.job(job_id), {}, remove=["pending_input"],
                       condition="attribute_exists(pending_input)")
    except ConditionFailed:
        return {"key": key, "outcome": "ignored", "reason": "job already started"}
    start_execution(job_id, owner, Source(kind="upload", key=key),
                    ProcessOptions(**pending["options"]), ProviderChoice(**pending["provider"]))
    return {"key": key, "outcome": "started", "job_id": job_id}


# --- steps -------------------------------------------------------------------------------


def _artifact(job_id: str, name: str) -> str:
    return f"{blobs.job_prefix(job_id)}{name}"


def acquire_slot(event: dict[str, Any]) -> dict[str, Any]:
    job_id = event["job_id"]
    slot = slots.acquire(KIND, job_id, get_settings().max_concurrent_jobs)
    jobs.set_running(job_id, message="Started")
    return {"slot": slot}


def ingest(event: dict[str, Any]) -> dict[str, Any]:
    job_id = event["job_id"]
    source = Source(**event["source"])
    _report(job_id, "ingest", 0.0, "Fetching the video")
    if source.kind == "upload":
        if not source.key or not Blobs().exists(source.key):
            raise InvalidMediaError("the uploaded file is missing")
        return {"video_key": source.key}
    from reelforge import ingest as fetcher

    s = get_settings()
    policy = fetcher.IngestPolicy(max_bytes=s.max_file_size_bytes,
                                  allow_hosts=frozenset(s.ingest_allow_host_list))
    with tempfile.TemporaryDirectory(prefix="ingest-") as tmp:
        fetched = fetcher.fetch(
            source.url or "", Path(tmp), policy,
            on_progress=lambda f: _report(job_id, "ingest", f, "Downloading the video"),
        )
        key = _artifact(job_id, f"source/{blobs.safe_file_name(fetched.path.name, default='source.mp4')}")
        Blobs().put_file(key, fetched.path, fetched.content_type)
    return {"video_key": key}


def probe_step(event: dict[str, Any]) -> dict[str, Any]:
    from reelforge.media.probe import probe

    job_id = event["job_id"]
    info = probe(Blobs().presign_get(event["video_key"]))
    if not info.has_video:
        raise InvalidMediaError("the file has no video stream; clips need a picture")
    if info.duration < 3:
        raise InvalidMediaError(f"the video is {info.duration:.1f} s long; too short for clips")
    _report(job_id, "probe", 1.0, f"Video {info.width}x{info.height}, {info.duration:.0f} s")
    return info.model_dump()


def transcribe_step(event: dict[str, Any]) -> dict[str, Any]:
    from reelforge.media.transcribe import release_models, transcribe

    job_id = event["job_id"]
    options = ProcessOptions(**event.get("options") or {})
    s = get_settings()
    _report(job_id, "transcribe", 0.0, "Transcribing speech")
    with tempfile.TemporaryDirectory(prefix="transcribe-") as tmp:
        video = Blobs().download(event["video_key"], Path(tmp) / "source")
        transcript = transcribe(
            video, model=options.whisper_model or s.whisper_model, device=s.whisper_device,
            compute_type=s.whisper_compute_type, beam_size=s.whisper_beam_size,
            language=options.language,
            on_progress=lambda f: _report(job_id, "transcribe", f, f"Transcribing speech ({100 * f:.0f}%)"),
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
    from reelforge.ai.moments import MomentRequest, select_moments
    from reelforge.ai.registry import moment_provider

    job_id = event["job_id"]
    options = ProcessOptions(**event.get("options") or {})
    choice = ProviderChoice(**event["provider"])
    s = get_settings()
    _report(job_id, "select", 0.0, f"Choosing moments ({choice.name})")
    api_key = None
    if choice.name == "gemini":
        if choice.sealed_key:
            try:
                api_key = keyseal.unseal(choice.sealed_key)
            except keyseal.SealError as exc:
                raise ProviderError(str(exc)) from exc
        elif s.gemini_api_key:
            api_key = s.gemini_api_key.get_secret_value()
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
    _report(job_id, "select", 1.0, f"Selected {len(clips)} moments")
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
    words = transcript.words() if options.captions else []
    name = f"clip_{index:02d}"
    store = Blobs()
    with tempfile.TemporaryDirectory(prefix="render-") as tmp:
        # ffmpeg reads the source over a presigned URL with range requests: only the
        # clip's bytes travel, not the whole video.
        rendered = render_clip(
            store.presign_get(event["video_key"]), start=float(clip["start"]), end=float(clip["end"]),
            words=words, out_path=Path(tmp) / f"{name}.mp4",
            scene_cuts=[sc.start for sc in scenes[1:]], preset=s.render_preset, crf=s.render_crf,
            fonts_dir=s.fonts_dir,
        )
        keys = {}
        for kind, path, ctype in (("video", rendered.video_path, "video/mp4"),
                                  ("thumbnail", rendered.thumbnail_path, "image/jpeg"),
                                  ("srt", rendered.srt_path, "application/x-subrip"),
                                  ("vtt", rendered.vtt_path, "text/vtt")):
            keys[f"{kind}_key"] = _artifact(job_id, f"clips/{Path(path).name}")
            store.put_file(keys[f"{kind}_key"], path, ctype)
    done = jobs.increment(job_id, "clips_done")
    total = int(event.get("clip_count") or 1)
    _report(job_id, "render", done / total, f"Rendered clip {done}/{total}")
    return {**clip, **keys, "name": name, "duration": rendered.duration, "width": rendered.width,
            "height": rendered.height, "reframe": rendered.mode}


def publish(event: dict[str, Any]) -> dict[str, Any]:
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


def mark_failed(event: dict[str, Any]) -> dict[str, Any]:
    job_id = event["job_id"]
    message = readable_error(event.get("error") or {})
    jobs.fail(job_id, message)
    slots.release(event.get("kind") or KIND, job_id)
    return {"error": message}


def readable_error(error: dict[str, Any]) -> str:
    """Turn a Catch's {Error, Cause} into a message for the user (no stack traces)."""
    name = error.get("Error") or "Error"
    cause = error.get("Cause") or ""
    try:
        parsed = json.loads(cause)
        message = parsed.get("errorMessage") or cause
        name = parsed.get("errorType") or name
    except (json.JSONDecodeError, AttributeError, TypeError):
        message = cause
    if name in ("States.Timeout", "States.TaskFailed") and not message:
        message = "a step timed out"
    friendly = name in {"InvalidMediaError", "IngestError", "ProviderError", "MediaProcessingError",
                        "TransientError", "UnsupportedPromptError", "SlotsBusy"}
    return (message if friendly else f"{name}: {message}")[:1000] or name


# --- presentation ------------------------------------------------------------------------


def present_clips(result: dict[str, Any]) -> dict[str, Any]:
    """The finished job with fresh presigned URLs (seed 002's clip fields)."""
    store = Blobs()
    clips = []
    for c in result.get("clips", []):
        clips.append({
            "id": f"{c['name']}", "index": c["index"], "title": c["title"], "hook": c["hook"],
            "score": c["score"], "reason": c["reason"], "start": c["start"], "end": c["end"],
            "duration": round(float(c["end"]) - float(c["start"]), 3), "text": c.get("text", ""),
            "width": c.get("width"), "height": c.get("height"), "reframe": c.get("reframe"),
            "video_url": store.presign_get(c["video_key"]),
            "download_url": store.presign_get(c["video_key"], download_name=f"{c['name']}.mp4"),
            "thumbnail_url": store.presign_get(c["thumbnail_key"]),
            "srt_url": store.presign_get(c["srt_key"]),
            "vtt_url": store.presign_get(c["vtt_key"]),
        })
    return {
        "clips": clips,
        "notes": result.get("notes", ""),
        "provider": result.get("provider"),
        "manifest_url": store.presign_get(result["manifest_key"]),
        "transcript_url": store.presign_get(result["transcript_key"]),
    }
