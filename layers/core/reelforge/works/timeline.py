"""A work's one timeline schema (its `editorState`) and what the renderer makes of it.

    state = from_export_request(body)            # the original's POST /api/export body -> editorState
    comp = composition(work, state, fetch)       # editorState -> media.composition.Composition

editorState (CONTRACTS.md, EditorStateSnapshot): `editorData.videoTrack` items `{id, start, end,
sceneIndex | sceneId, trimStart?, transitionType?, transitionDuration?}`, `textTrack` /
`imageTrack` items `{id, start, end}` naming entries of `textOverlays` / `imageOverlays`
(`{text, fontSize, fontColor, centerX, centerY, fontAssetId?}`, `{assetId, width, height,
centerX, centerY, opacity, rotation, maintainAspectRatio}`), `audioUrl`/`audioAssetId` with
`audioVolume`, and `exportSettings {width, height, fps}`. Positions are pixels of the export
frame. A clip's `transitionType` is its transition into the NEXT clip (the original's
convention), lasting `transitionDuration`: the next clip keeps its start and this clip plays
on under it for that long (its source continues; a source that ends holds its last frame), so
the timeline is never shortened and every overlay stays at its time.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from reelforge.errors import BadRequest
from reelforge.media.composition import (
    TRANSITIONS,
    AudioTrack,
    Clip,
    Composition,
    ImageOverlay,
    TextOverlay,
    Transition,
)

DEFAULT_SETTINGS = {"width": 1080, "height": 1920, "fps": 30}
MAX_ITEMS = 500
# fetch(kind, ref) -> a local path or URL: kind "scene" (a scene id), "asset" (an asset id),
# "audio" (the work's own audio, ref "")
Fetch = Callable[[str, str], "str | Path"]


def from_export_request(body: dict[str, Any]) -> dict[str, Any]:
    """The original's export body (clips with `position`/`end`/`cutFrom`, texts, images,
    audio, options) as an editorState. Images' `x`/`y` are their top-left corner; a text's
    `x`/`y` stand for its centre when `centerX`/`centerY` are absent."""
    options = body.get("options") or {}
    video, texts, text_track, images, image_track = [], {}, [], {}, []
    for n, clip in enumerate(body.get("clips") or []):
        video.append({"id": f"clip{n}", "sceneIndex": clip.get("sceneIndex"), "start": clip.get("position"),
                      "end": clip.get("end"), "trimStart": clip.get("cutFrom") or 0,
                      "transitionType": clip.get("transition"), "transitionDuration": clip.get("transitionDuration")})
    for n, text in enumerate(body.get("texts") or []):
        texts[f"text{n}"] = {"text": text.get("text", ""), "fontSize": text.get("fontSize", 64),
                             "fontColor": text.get("fontColor", "#ffffff"),
                             "centerX": text.get("centerX", text.get("x", options.get("width", 1080) / 2)),
                             "centerY": text.get("centerY", text.get("y", options.get("height", 1920) / 2)),
                             **({"fontAssetId": text["fontAssetId"]} if text.get("fontAssetId") else {})}
        text_track.append({"id": f"text{n}", "start": text.get("position"), "end": text.get("end")})
    for n, image in enumerate(body.get("images") or []):
        width, height = image.get("width"), image.get("height")
        images[f"image{n}"] = {"assetId": image.get("assetId"), "width": width, "height": height,
                               "centerX": _number(image.get("x"), "images.x") + _number(width, "images.width") / 2,
                               "centerY": _number(image.get("y"), "images.y") + _number(height, "images.height") / 2,
                               "opacity": image.get("opacity", 1), "rotation": image.get("rotation", 0),
                               "maintainAspectRatio": image.get("maintainAspectRatio", True)}
        image_track.append({"id": f"image{n}", "start": image.get("position"), "end": image.get("end")})
    audio = body.get("audio") or {}
    return {"editorData": {"videoTrack": video, "textTrack": text_track, "imageTrack": image_track, "audioTrack": []},
            "textOverlays": texts, "imageOverlays": images, "audioUrl": audio.get("audioUrl"),
            "audioVolume": audio.get("volume", 1.0),
            "exportSettings": {k: options.get(k, v) for k, v in DEFAULT_SETTINGS.items()}}


def _number(value: Any, what: str, *, minimum: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadRequest(f"{what} must be a number")
    if minimum is not None and value < minimum:
        raise BadRequest(f"{what} must be at least {minimum:g}")
    return float(value)


def composition(work: dict[str, Any], state: dict[str, Any], fetch: Fetch) -> Composition:
    """The renderer's model of `state` for `work`; a 400 (BadRequest) names what is wrong."""
    data = state.get("editorData") or {}
    settings = {**DEFAULT_SETTINGS, **(state.get("exportSettings") or {})}
    video = sorted(_items(data.get("videoTrack"), "videoTrack"), key=lambda c: _number(c.get("start"), "start"))
    if not video:
        raise BadRequest("the timeline has no clips (editorData.videoTrack is empty)")
    clips: list[Clip] = []
    scenes = work.get("scenes") or []
    for n, item in enumerate(video):
        start, end = _number(item.get("start"), "videoTrack.start", minimum=0), _number(item.get("end"), "videoTrack.end")
        following = video[n + 1] if n + 1 < len(video) else None
        kind = (item.get("transitionType") or "cut").strip().lower() if following else "cut"
        if kind not in TRANSITIONS:
            raise BadRequest(f"unknown transition {item.get('transitionType')!r}; valid: {', '.join(sorted(TRANSITIONS))}")
        overlap = 0.0
        if following is not None and TRANSITIONS[kind]:
            overlap = _number(item.get("transitionDuration") or 0.5, "transitionDuration", minimum=0.04)
            end = max(end, _number(following.get("start"), "videoTrack.start") + overlap)
        previous = video[n - 1] if n else None
        into = None
        if previous is not None:
            prev_kind = (previous.get("transitionType") or "cut").strip().lower()
            if TRANSITIONS.get(prev_kind):
                into = Transition(prev_kind, _number(previous.get("transitionDuration") or 0.5, "transitionDuration"))
        clips.append(Clip(fetch("scene", _scene_id(item, scenes)), start, end,
                          trim_start=_number(item.get("trimStart") or 0, "trimStart", minimum=0), transition=into))
    texts = [_text(entry, state.get("textOverlays") or {}, fetch) for entry in _items(data.get("textTrack"), "textTrack")]
    images = [_image(entry, state.get("imageOverlays") or {}, fetch)
              for entry in _items(data.get("imageTrack"), "imageTrack")]
    audio = []
    volume = _number(state.get("audioVolume", 1.0), "audioVolume", minimum=0)
    if state.get("audioAssetId"):
        audio.append(AudioTrack(fetch("asset", state["audioAssetId"]), volume=volume))
    elif state.get("audioUrl"):
        audio.append(AudioTrack(fetch("audio", ""), volume=volume))
    return Composition(width=int(settings["width"]), height=int(settings["height"]), fps=float(settings["fps"]),
                       clips=clips, texts=texts, images=images, audio=audio)


def _items(value: Any, what: str) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise BadRequest(f"editorData.{what} must be a list of objects")
    if len(value) > MAX_ITEMS:
        raise BadRequest(f"editorData.{what} has more than {MAX_ITEMS} items")
    return value


def _scene_id(item: dict[str, Any], scenes: list[dict[str, Any]]) -> str:
    if item.get("sceneId"):
        if not any(s["id"] == item["sceneId"] for s in scenes):
            raise BadRequest(f"videoTrack names scene {item['sceneId']!r}, which is not in the work")
        return str(item["sceneId"])
    index = item.get("sceneIndex")
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(scenes):
        raise BadRequest(f"Scene video not found for scene index {index}")
    return scenes[index]["id"]


def _text(entry: dict[str, Any], overlays: dict[str, Any], fetch: Fetch) -> TextOverlay:
    overlay = overlays.get(entry.get("id"))
    if not isinstance(overlay, dict):
        raise BadRequest(f"textTrack names {entry.get('id')!r}, which is not in textOverlays")
    if overlay.get("pending"):
        raise BadRequest(f"text {entry['id']!r} still has placeholders without a value: {', '.join(overlay['pending'])}")
    font = fetch("asset", overlay["fontAssetId"]) if overlay.get("fontAssetId") else None
    return TextOverlay(str(overlay.get("text", "")), _number(entry.get("start"), "textTrack.start"),
                       _number(entry.get("end"), "textTrack.end"), center_x=_number(overlay.get("centerX"), "centerX"),
                       center_y=_number(overlay.get("centerY"), "centerY"),
                       font_size=_number(overlay.get("fontSize", 64), "fontSize"),
                       color=str(overlay.get("fontColor") or "#ffffff"), font=font)


def _image(entry: dict[str, Any], overlays: dict[str, Any], fetch: Fetch) -> ImageOverlay:
    overlay = overlays.get(entry.get("id"))
    if not isinstance(overlay, dict) or not overlay.get("assetId"):
        raise BadRequest(f"imageTrack names {entry.get('id')!r}, which is not in imageOverlays")
    return ImageOverlay(fetch("asset", str(overlay["assetId"])), _number(entry.get("start"), "imageTrack.start"),
                        _number(entry.get("end"), "imageTrack.end"), center_x=_number(overlay.get("centerX"), "centerX"),
                        center_y=_number(overlay.get("centerY"), "centerY"),
                        width=_number(overlay.get("width"), "width"), height=_number(overlay.get("height"), "height"),
                        opacity=_number(overlay.get("opacity", 1), "opacity"),
                        rotation=_number(overlay.get("rotation", 0), "rotation"),
                        keep_aspect=bool(overlay.get("maintainAspectRatio", True)))
