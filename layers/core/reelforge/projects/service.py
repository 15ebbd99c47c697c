"""The one project resource that several seeds share, and its uploaded assets.

Every read takes the owner: others get NotFound. Surfaces keep their own fields on the same
record and say what they add through the hooks below (registered when the surface's service
module is imported), so this module never names a surface.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger

from reelforge import blobs, uploads
from reelforge.blobs import Blobs
from reelforge.errors import IngestError, InvalidMediaError
from reelforge.models import MediaInfo
from reelforge.settings import get_settings
from reelforge.store import Keys, NotFound, Table, new_id, now_iso, strip_keys

logger = Logger(child=True)
ASSET_UPLOADING, ASSET_READY, ASSET_FAILED = "uploading", "ready", "failed"

# --- hooks: what surfaces add to the shared project ----------------------------------------

ViewFields = Callable[[dict[str, Any]], dict[str, Any]]
VideoListener = Callable[[dict[str, Any], str, MediaInfo], None]
UrlIngest = Callable[[str, dict[str, Any]], dict[str, Any]]
_view_fields: list[ViewFields] = []
_video_listeners: list[VideoListener] = []
_url_ingests: list[UrlIngest] = []


def adds_view_fields(fn: ViewFields) -> ViewFields:
    """`fn(project) -> fields` is merged into every project view (e.g. the editor's segments)."""
    _view_fields.append(fn)
    return fn


def on_video_ready(fn: VideoListener) -> VideoListener:
    """`fn(project, key, media)` runs when a video asset of the project is stored and probed."""
    _video_listeners.append(fn)
    return fn


def ingests_video_url(fn: UrlIngest) -> UrlIngest:
    """`fn(owner, project) -> job` fetches a project created with a `video_url`."""
    _url_ingests.append(fn)
    return fn


def view_fields(project: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for fn in _view_fields:
        out.update(fn(project))
    return out


def video_ready(project: dict[str, Any], key: str, media: MediaInfo) -> None:
    for fn in _video_listeners:
        fn(project, key, media)


def ingest_video_url(owner: str, project: dict[str, Any]) -> dict[str, Any] | None:
    """The job that fetches the project's video_url, or None if no surface ingests URLs."""
    return _url_ingests[0](owner, project) if _url_ingests else None


# --- projects -------------------------------------------------------------------------------


def create(owner: str, name: str, description: str = "", video_url: str | None = None,
           extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """A new project; `extra` holds a surface's own fields (the studio's topic, voice...)."""
    pid = new_id()
    ts = now_iso()
    item = {
        **Keys.project(pid),
        **Keys.owner_index(owner, "PROJECT", ts),
        "type": "project",
        "id": pid,
        "owner": owner,
        "name": name,
        "description": description,
        "video_url": video_url,
        "created_at": ts,
        "updated_at": ts,
        **(extra or {}),
    }
    Table().put_new(item)
    return item


def get(owner: str, project_id: str) -> dict[str, Any]:
    item = Table().get(Keys.project(project_id))
    if item.get("owner") != owner:
        raise NotFound(project_id)
    return item


def get_any(project_id: str) -> dict[str, Any]:
    """The project whoever owns it: only for checks that compare its owner with the caller."""
    return Table().get(Keys.project(project_id))


def list_for_owner(owner: str) -> list[dict[str, Any]]:
    return list(Table().query_owner(owner, "PROJECT"))


def assets(project_id: str) -> list[dict[str, Any]]:
    return list(Table().query_partition(f"PROJECT#{project_id}", "ASSET#"))


Cascade = Callable[[dict[str, Any]], None]
_cascades: list[Cascade] = []


def deletes_with_project(fn: Cascade) -> Cascade:
    """`fn(project)` removes what a surface keeps outside the project's partition (its jobs)."""
    _cascades.append(fn)
    return fn


def delete(owner: str, project_id: str) -> int:
    """Remove the project, every item under it and its S3 objects; returns objects deleted."""
    project = get(owner, project_id)
    for cascade in _cascades:
        cascade(project)
    store = Blobs()
    removed = store.delete_prefix(f"{blobs.UPLOADS_PREFIX}{owner}/{project_id}/")
    removed += store.delete_prefix(blobs.project_prefix(project_id))
    removed += store.delete_prefix(f"{blobs.PREVIEWS_PREFIX}{project_id}/")
    table = Table()
    for item in table.query_partition(project["PK"]):
        if item.get("id") and item.get("type") not in ("project", None):
            table.delete(Keys.ref(item["type"], item["id"]))  # see child_ref; absent is a no-op
        table.delete({"PK": item["PK"], "SK": item["SK"]})
    return removed


def create_asset(owner: str, project_id: str, file_name: str, content_type: str) -> dict[str, Any]:
    get(owner, project_id)
    aid = new_id()
    safe = blobs.safe_file_name(file_name, default="upload")
    ts = now_iso()
    item = {
        **Keys.asset(project_id, aid),
        "type": "asset",
        "id": aid,
        "project_id": project_id,
        "owner": owner,
        "file_name": safe,
        "content_type": content_type,
        "s3_key": blobs.upload_key(owner, project_id, aid, safe),
        "status": ASSET_UPLOADING,
        "created_at": ts,
        "updated_at": ts,
    }
    Table().put_new(item)
    return item


def get_asset(project_id: str, asset_id: str) -> dict[str, Any]:
    return Table().get(Keys.asset(project_id, asset_id))


def mark_asset(project_id: str, asset_id: str, values: dict[str, Any]) -> dict[str, Any]:
    return Table().update(Keys.asset(project_id, asset_id), {**values, "updated_at": now_iso()})


def child_ref(child: dict[str, Any]) -> dict[str, Any]:
    """The item that finds a segment or variant by its id alone (routes omit the project)."""
    return {**Keys.ref(child["type"], child["id"]), "type": "ref", "project_id": child["project_id"]}


def get_child(owner: str, kind: str, child_id: str) -> dict[str, Any]:
    """A project's segment or variant by id; NotFound for anyone but its owner."""
    table = Table()
    try:
        pid = table.get(Keys.ref(kind, child_id))["project_id"]
        item = table.get(Keys.child(kind, pid, child_id))
    except NotFound:
        raise NotFound(child_id) from None
    if item["owner"] != owner:
        raise NotFound(child_id)
    return item


def public_asset(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in strip_keys(item).items() if k not in ("owner", "type")}


@uploads.handles(blobs.UPLOADS_PREFIX)
def on_upload(key: str, size: int) -> dict[str, Any]:
    """Probe an uploaded asset and record what it is, or why it is unusable."""
    from reelforge.media.probe import probe

    parts = key[len(blobs.UPLOADS_PREFIX):].split("/")
    if len(parts) != 4:
        return {"key": key, "outcome": "ignored", "reason": "unexpected key layout"}
    owner, project_id, asset_id, _name = parts
    try:
        asset = get_asset(project_id, asset_id)
    except NotFound:
        # Nobody asked for this upload: don't keep objects we did not presign.
        Blobs().delete(key)
        return {"key": key, "outcome": "deleted", "reason": "no such asset"}
    if asset["s3_key"] != key or asset["owner"] != owner:
        Blobs().delete(key)
        return {"key": key, "outcome": "deleted", "reason": "key does not match the asset"}

    limit = get_settings().max_file_size_bytes
    if size > limit:
        Blobs().delete(key)
        reason = f"file is {size / 2**20:.0f} MB, over the {limit // 2**20} MB limit"
        mark_asset(project_id, asset_id, {"status": ASSET_FAILED, "error": reason})
        return {"key": key, "outcome": "failed", "reason": reason}

    try:
        if size == 0:
            raise InvalidMediaError("the uploaded file is empty")
        info = probe(Blobs().presign_get(key))
    except (InvalidMediaError, IngestError) as exc:  # IngestError: the object is gone (4xx)
        mark_asset(project_id, asset_id, {"status": ASSET_FAILED, "error": str(exc)})
        logger.info("upload is not usable media", extra={"key": key})
        return {"key": key, "outcome": "failed", "reason": str(exc)}
    mark_asset(project_id, asset_id, {"status": ASSET_READY, "error": None,
                                      "size_bytes": size or info.size_bytes,
                                      "media": info.model_dump()})
    if info.has_video:
        video_ready(get(owner, project_id), key, info)
    return {"key": key, "outcome": "ready"}


def public_project(item: dict[str, Any], asset_items: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    out = {k: v for k, v in strip_keys(item).items() if k not in ("type",)}
    if asset_items is not None:
        out["assets"] = [public_asset(a) for a in asset_items]
    return out
