"""Editor templates (AutoVio's EditorTemplate): text and image overlays with `{{key}}`
placeholders and relative or absolute timing, applied to a video of a given length.

Applying fills placeholders from `placeholderValues` and says what it could not do instead of
rendering it: `pendingPlaceholders` lists keys nobody supplied (their overlays keep the
`{{key}}` and are marked `pending`), `missingAssetIds` the image overlays whose asset is gone.
Timing follows the contract: relative `start = startPercent/100 * duration`, `end = max(start
+ 0.1, min(duration, endPercent/100 * duration))`; absolute `start = max(0, startSeconds)`,
`end = min(duration, max(start + 0.1, endSeconds or duration))`.
"""

from __future__ import annotations

import re
from typing import Any

from reelforge.errors import Missing
from reelforge.projects import service as projects
from reelforge.store import Keys, NotFound, Table, new_id, now_iso
from reelforge.works.schemas import ExportSettings, TemplateContent
from reelforge.works.service import epoch_ms

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}")
MIN_SHOWN_S = 0.1
APPLIED = "applied_"


def _key(project_id: str, template_id: str) -> dict[str, str]:
    return Keys.child("template", project_id, template_id)


def create(owner: str, project_id: str, fields: dict[str, Any]) -> dict[str, Any]:
    projects.get(owner, project_id)
    ts = now_iso()
    tid = f"tmpl_{new_id()[:12]}"
    item = {**_key(project_id, tid), "type": "template", "id": tid, "project_id": project_id, "owner": owner,
            **fields, "created_at": ts, "updated_at": ts}
    Table().put_new(item)
    return item


def get(owner: str, project_id: str, template_id: str) -> dict[str, Any]:
    projects.get(owner, project_id)
    try:
        item = Table().get(_key(project_id, template_id))
    except NotFound:
        raise Missing("Template not found") from None
    if item.get("owner") != owner:
        raise Missing("Template not found")
    return item


def listed(owner: str, project_id: str) -> list[dict[str, Any]]:
    projects.get(owner, project_id)
    items = Table().query_partition(f"PROJECT#{project_id}", "TEMPLATE#")
    return sorted(items, key=lambda t: t.get("updated_at") or "", reverse=True)


def update(owner: str, project_id: str, template_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    get(owner, project_id, template_id)
    return Table().update(_key(project_id, template_id), {**changes, "updated_at": now_iso()})


def delete(owner: str, project_id: str, template_id: str) -> None:
    get(owner, project_id, template_id)
    Table().delete(_key(project_id, template_id))


def view(item: dict[str, Any]) -> dict[str, Any]:
    out = {"id": item["id"], "projectId": item["project_id"], "name": item["name"],
           "createdAt": epoch_ms(item.get("created_at")), "updatedAt": epoch_ms(item.get("updated_at")),
           "content": item.get("content") or {}}
    for name in ("description", "tags", "thumbnail"):
        if item.get(name) is not None:
            out[name] = item[name]
    return out


def meta(item: dict[str, Any]) -> dict[str, Any]:
    """EditorTemplateMeta: the template without its content, with counts."""
    out = {k: v for k, v in view(item).items() if k != "content"}
    content = item.get("content") or {}
    out.update(textOverlayCount=len(content.get("textOverlays") or []),
               imageOverlayCount=len(content.get("imageOverlays") or []),
               hasExportSettings=bool(content.get("exportSettings")))
    return out


def window(overlay: dict[str, Any], duration: float) -> tuple[float, float]:
    """(start, end) seconds of an overlay on a video of `duration` seconds."""
    if overlay.get("timingMode", "relative") == "absolute":
        start = max(0.0, float(overlay.get("startSeconds") or 0.0))
        end = overlay.get("endSeconds")
        end = min(duration, max(start + MIN_SHOWN_S, float(end) if end is not None else duration))
    else:
        start = float(overlay.get("startPercent") or 0.0) / 100 * duration
        end_pct = overlay.get("endPercent")
        end = max(start + MIN_SHOWN_S, min(duration, (float(end_pct) / 100 if end_pct is not None else 1.0) * duration))
    return round(start, 3), round(end, 3)


def fill(text: str, values: dict[str, str]) -> tuple[str, set[str]]:
    """`text` with its placeholders replaced; the keys that had no value (left as they were)."""
    pending: set[str] = set()

    def replace(match: re.Match[str]) -> str:
        key = match.group(1)
        if key in values:
            return values[key]
        pending.add(key)
        return match.group(0)

    return PLACEHOLDER.sub(replace, text), pending


def apply(project_id: str, content: dict[str, Any], duration: float, values: dict[str, str]) -> dict[str, Any]:
    """TemplateApplicationResult: the overlays as editor-state pieces (a `textOverlays` /
    `imageOverlays` map and `textTrack` / `imageTrack` entries), with what is pending."""
    template = TemplateContent.model_validate(content)
    pending: set[str] = set()
    texts, text_track = {}, []
    for overlay in template.textOverlays:
        text, missing = fill(overlay.text, values)
        pending |= missing
        oid = APPLIED + overlay.id
        texts[oid] = {"text": text, "fontSize": overlay.fontSize, "fontColor": overlay.fontColor,
                      "centerX": overlay.centerX, "centerY": overlay.centerY,
                      **({"fontAssetId": overlay.fontAssetId} if overlay.fontAssetId else {}),
                      **({"pending": sorted(missing)} if missing else {})}
        start, end = window(overlay.model_dump(), duration)
        text_track.append({"id": oid, "start": start, "end": end})
    existing = {a["id"] for a in projects.assets(project_id)}
    images, image_track, missing_assets = {}, [], []
    for overlay in template.imageOverlays:
        if overlay.assetId not in existing:
            missing_assets.append(overlay.assetId)
            continue
        oid = APPLIED + overlay.id
        images[oid] = {"assetId": overlay.assetId, "width": overlay.width, "height": overlay.height,
                       "centerX": overlay.centerX, "centerY": overlay.centerY, "opacity": overlay.opacity,
                       "rotation": overlay.rotation, "maintainAspectRatio": overlay.maintainAspectRatio}
        start, end = window(overlay.model_dump(), duration)
        image_track.append({"id": oid, "start": start, "end": end})
    result: dict[str, Any] = {"textOverlays": texts, "imageOverlays": images, "textTrack": text_track,
                              "imageTrack": image_track, "videoDuration": duration,
                              "pendingPlaceholders": sorted(pending),
                              "missingAssetIds": list(dict.fromkeys(missing_assets))}
    if template.defaultTransition:
        result["defaultTransition"] = template.defaultTransition
    if template.exportSettings:
        result["exportSettings"] = template.exportSettings.model_dump()
    return result


def timeline_duration(work: dict[str, Any]) -> float:
    """How long the work's video is: its editor timeline's end, else its scenes' total."""
    data = ((work.get("editorState") or {}).get("editorData") or {})
    ends = [float(c.get("end") or 0) for c in data.get("videoTrack") or [] if isinstance(c, dict)]
    if ends and max(ends) > 0:
        return max(ends)
    total = sum(float(s.get("duration_seconds") or 0) for s in work.get("scenes") or [])
    return total or float(work.get("videoDuration") or 0)


def merged_editor_state(work: dict[str, Any], applied: dict[str, Any]) -> dict[str, Any]:
    """The work's editor state with the applied template's overlays added (an earlier
    application of the same overlay ids is replaced); 1080x1920 at 30 fps when it has none."""
    state = dict(work.get("editorState") or {})
    data = dict(state.get("editorData") or {})
    data.setdefault("videoTrack", [])
    data.setdefault("audioTrack", [])
    for track, key in (("textTrack", "textTrack"), ("imageTrack", "imageTrack")):
        kept = [e for e in data.get(track) or [] if e.get("id") not in {x["id"] for x in applied[key]}]
        data[track] = kept + applied[key]
    state["editorData"] = data
    state["textOverlays"] = {**(state.get("textOverlays") or {}), **applied["textOverlays"]}
    state["imageOverlays"] = {**(state.get("imageOverlays") or {}), **applied["imageOverlays"]}
    state.setdefault("audioVolume", 1.0)
    state["exportSettings"] = applied.get("exportSettings") or state.get("exportSettings") or ExportSettings().model_dump()
    return state
