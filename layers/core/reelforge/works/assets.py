"""A project's assets in AutoVio's shape (ProjectAsset): images, videos, audio and fonts.

They are the project's asset items, the same records seed 000's uploads make (its videos and
audio show here too). A file's kind is read from its bytes (`media.inspect`), measured on
upload (size, duration, colours, faces, loudness, font family) with a thumbnail for images and
videos, and kept under the project's prefix in S3, so deleting the project deletes them. A
project's assets together may not pass PROJECT_STORAGE_QUOTA_MB (413).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from reelforge import blobs, uploads
from reelforge.blobs import Blobs
from reelforge.errors import BadRequest, InvalidMediaError, Missing, TooLarge
from reelforge.media.inspect import AssetInfo, inspect_asset
from reelforge.projects import service as projects
from reelforge.settings import get_settings
from reelforge.store import Keys, NotFound, Table, new_id, now_iso
from reelforge.works.service import epoch_ms

MAX_ASSET_BYTES = 50 * 2**20
UPLOADS_PREFIX = "works-uploads/assets/"  # <owner>/<project>/<asset>: presigned asset uploads
KINDS = ("image", "video", "audio", "font")
MAX_TAGS, MAX_TAG = 30, 50


def parse_tags(raw: str | None) -> list[str] | None:
    """`tags` as a JSON array string or comma-separated words ("" and absent: none given)."""
    if raw is None or not raw.strip():
        return None
    text = raw.strip()
    if text.startswith("["):
        try:
            values = json.loads(text)
        except json.JSONDecodeError:
            raise BadRequest("tags: not a JSON array") from None
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise BadRequest("tags: a JSON array of strings is needed")
    else:
        values = text.split(",")
    return clean_tags(values)


def clean_tags(values: list[str]) -> list[str]:
    tags = list(dict.fromkeys(v.strip() for v in values if v.strip()))
    if len(tags) > MAX_TAGS or any(len(t) > MAX_TAG for t in tags):
        raise BadRequest(f"tags: at most {MAX_TAGS} tags of at most {MAX_TAG} characters")
    return tags


def _prefix(project_id: str, asset_id: str) -> str:
    return f"{blobs.project_prefix(project_id)}assets/{asset_id}/"


def kind_of(item: dict[str, Any]) -> str:
    """An asset's kind; seed 000's uploads have only their content type."""
    if item.get("kind") in KINDS:
        return item["kind"]
    major = str(item.get("content_type") or "").split("/")[0]
    return major if major in KINDS else "video"


def create(owner: str, project_id: str, path: Path, file_name: str, *, name: str | None, description: str | None,
           tags: list[str] | None, asset_id: str | None = None) -> dict[str, Any]:
    """A ready asset from a file on disk (an upload that streamed in, or a presigned one that
    landed: then `asset_id` is the pending record it fills)."""
    projects.get(owner, project_id)
    size = path.stat().st_size
    if size == 0:
        raise BadRequest("The uploaded file is empty")
    quota = get_settings().project_storage_quota_mb * 2**20
    used = total_size(project_id)
    if used + size > quota:
        raise TooLarge(f"the project's assets would take {(used + size) / 2**20:.1f} MB, over its "
                       f"{quota // 2**20} MB quota; delete some first")
    try:
        info = inspect_asset(path)
    except InvalidMediaError as exc:
        raise BadRequest(str(exc)) from None
    aid = asset_id or f"asset_{new_id()[:12]}"
    safe = blobs.safe_file_name(file_name, default=f"asset.{info.extension}")
    key = f"{_prefix(project_id, aid)}{safe}"
    store = Blobs()
    store.put_file(key, path, info.mime_type)
    thumb_key = None
    if info.thumbnail:
        thumb_key = f"{_prefix(project_id, aid)}thumbnail.jpg"
        store.put_bytes(thumb_key, info.thumbnail, "image/jpeg")
    ts = now_iso()
    item = {**Keys.asset(project_id, aid), "type": "asset", "id": aid, "project_id": project_id, "owner": owner,
            "kind": info.kind, "name": name or safe, "file_name": safe, "content_type": info.mime_type,
            "s3_key": key, "thumbnail_key": thumb_key, "status": projects.ASSET_READY, "size_bytes": size,
            "media": {"width": info.width, "height": info.height, "duration": info.duration},
            "measured": _measured(info), "description": description, "tags": tags,
            "created_at": ts, "updated_at": ts}
    if asset_id:
        Table().put(item)
    else:
        Table().put_new(item)
    return item


def presign_upload(owner: str, project_id: str, file_name: str, *, name: str | None, description: str | None,
                   tags: list[str] | None) -> tuple[dict[str, Any], str]:
    """(the pending asset, the key to PUT the file to): when it lands (S3 trigger) it is
    checked and measured like a streamed upload, and the asset turns `ready` or `failed`."""
    projects.get(owner, project_id)
    aid = f"asset_{new_id()[:12]}"
    safe = blobs.safe_file_name(file_name, default="asset")
    ts = now_iso()
    item = {**Keys.asset(project_id, aid), "type": "asset", "id": aid, "project_id": project_id, "owner": owner,
            "name": name or safe, "file_name": safe, "status": projects.ASSET_UPLOADING, "description": description,
            "tags": tags, "s3_key": f"{UPLOADS_PREFIX}{owner}/{project_id}/{aid}", "created_at": ts, "updated_at": ts}
    Table().put_new(item)
    return item, item["s3_key"]


@uploads.handles(UPLOADS_PREFIX)
def on_upload(key: str, size: int) -> dict[str, Any]:
    parts = key[len(UPLOADS_PREFIX):].split("/")
    store = Blobs()
    try:
        if len(parts) != 3:
            return {"key": key, "outcome": "ignored", "reason": "unexpected key layout"}
        owner, project_id, asset_id = parts
        try:
            pending = projects.get_asset(project_id, asset_id)
        except NotFound:
            return {"key": key, "outcome": "deleted", "reason": "no such asset"}
        if pending.get("owner") != owner or pending.get("status") != projects.ASSET_UPLOADING:
            return {"key": key, "outcome": "deleted", "reason": "the asset is not waiting for this upload"}
        if size > MAX_ASSET_BYTES:
            reason = f"the file is over the {MAX_ASSET_BYTES // 2**20} MB limit"
        else:
            with tempfile.TemporaryDirectory(prefix="asset-upload-") as tmp:
                path = store.download(key, Path(tmp) / pending["file_name"])
                try:
                    create(owner, project_id, path, pending["file_name"], name=pending.get("name"),
                           description=pending.get("description"), tags=pending.get("tags"), asset_id=asset_id)
                    return {"key": key, "outcome": "ready"}
                except (BadRequest, TooLarge, NotFound) as exc:
                    reason = str(exc)
        projects.mark_asset(project_id, asset_id, {"status": projects.ASSET_FAILED, "error": reason})
        return {"key": key, "outcome": "failed", "reason": reason}
    finally:
        store.delete(key)


def _measured(info: AssetInfo) -> dict[str, Any]:
    return {"summary": info.describe(), "colours": list(info.colours), "faces": info.faces,
            "loudness_dbfs": info.loudness_dbfs, "font_family": info.font_family}


def total_size(project_id: str) -> int:
    return sum(int(a.get("size_bytes") or 0) for a in projects.assets(project_id))


def listed(owner: str, project_id: str, kind: str | None) -> list[dict[str, Any]]:
    projects.get(owner, project_id)
    if kind is not None and kind not in KINDS:
        raise BadRequest(f"type must be one of {', '.join(KINDS)}")
    items = [a for a in projects.assets(project_id) if a.get("status") == projects.ASSET_READY]
    return [a for a in items if kind is None or kind_of(a) == kind]


def get(owner: str, project_id: str, asset_id: str) -> dict[str, Any]:
    projects.get(owner, project_id)
    try:
        item = projects.get_asset(project_id, asset_id)
    except NotFound:
        raise Missing("Asset not found") from None
    if item.get("owner") != owner:
        raise Missing("Asset not found")
    return item


def update(owner: str, project_id: str, asset_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    get(owner, project_id, asset_id)
    if not changes:
        return get(owner, project_id, asset_id)
    return projects.mark_asset(project_id, asset_id, changes)


def delete(owner: str, project_id: str, asset_id: str) -> None:
    item = get(owner, project_id, asset_id)
    store = Blobs()
    store.delete(item["s3_key"])
    if item.get("thumbnail_key"):
        store.delete(item["thumbnail_key"])
    Table().delete(Keys.asset(project_id, asset_id))


def route(project_id: str, asset_id: str) -> str:
    return f"/api/projects/{project_id}/assets/{asset_id}"


def view(item: dict[str, Any]) -> dict[str, Any]:
    """AutoVio's ProjectAsset, with `url` (this API's route) and the thumbnail's URL."""
    media = item.get("media") or {}
    out: dict[str, Any] = {"id": item["id"], "name": item.get("name") or item.get("file_name"),
                           "status": item.get("status", projects.ASSET_READY),
                           "type": kind_of(item), "filename": item.get("file_name"),
                           "mimeType": item.get("content_type"), "size": int(item.get("size_bytes") or 0),
                           "createdAt": epoch_ms(item.get("created_at")), "updatedAt": epoch_ms(item.get("updated_at")),
                           "url": route(item["project_id"], item["id"])}
    for name in ("width", "height", "duration"):
        if media.get(name) is not None:
            out[name] = media[name]
    for name in ("tags", "description", "error"):
        if item.get(name) is not None:
            out[name] = item[name]
    if item.get("thumbnail_key"):
        out["thumbnail"] = f"{out['url']}/thumbnail"
    return out


def analyze(owner: str, project_id: str, asset_id: str, describe_still: Any = None) -> dict[str, Any]:
    """A description of the asset: a vision model's from its picture when `describe_still`
    (bytes -> text) is given and the asset has one, else the local one from its measurements.
    Saved as the asset's description."""
    item = get(owner, project_id, asset_id)
    measured = (item.get("measured") or {}).get("summary") or "No measurements are stored for this asset."
    picture_key = item["s3_key"] if kind_of(item) == "image" else item.get("thumbnail_key")
    if describe_still is not None and picture_key:
        description = describe_still(Blobs().get_bytes(picture_key), measured)
    else:
        description = measured
    projects.mark_asset(project_id, asset_id, {"description": description})
    return {"assetId": asset_id, "description": description}
