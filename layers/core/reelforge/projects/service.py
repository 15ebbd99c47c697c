"""Projects and their uploaded assets. Every read takes the owner: others get NotFound."""

from __future__ import annotations

from typing import Any

from reelforge import blobs
from reelforge.blobs import Blobs
from reelforge.store import Keys, NotFound, Table, new_id, now_iso, strip_keys

ASSET_UPLOADING, ASSET_READY, ASSET_FAILED = "uploading", "ready", "failed"


def create(owner: str, name: str, description: str = "", video_url: str | None = None) -> dict[str, Any]:
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
    }
    Table().put_new(item)
    return item


def get(owner: str, project_id: str) -> dict[str, Any]:
    item = Table().get(Keys.project(project_id))
    if item.get("owner") != owner:
        raise NotFound(project_id)
    return item


def list_for_owner(owner: str) -> list[dict[str, Any]]:
    return list(Table().query_owner(owner, "PROJECT"))


def assets(project_id: str) -> list[dict[str, Any]]:
    return list(Table().query_partition(f"PROJECT#{project_id}", "ASSET#"))


def delete(owner: str, project_id: str) -> int:
    """Remove the project, every item under it and its S3 objects; returns objects deleted."""
    project = get(owner, project_id)
    store = Blobs()
    removed = store.delete_prefix(f"{blobs.UPLOADS_PREFIX}{owner}/{project_id}/")
    removed += store.delete_prefix(blobs.project_prefix(project_id))
    removed += store.delete_prefix(f"{blobs.PREVIEWS_PREFIX}{project_id}/")
    table = Table()
    for item in table.query_partition(project["PK"]):
        if item.get("type") in ("segment", "variant"):
            table.delete(Keys.ref(item["type"], item["id"]))
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


def public_project(item: dict[str, Any], asset_items: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    out = {k: v for k, v in strip_keys(item).items() if k not in ("type",)}
    if asset_items is not None:
        out["assets"] = [public_asset(a) for a in asset_items]
    return out
