"""Characters (a user's, reusable across projects) and each project's cast.

Reference images are checked by their bytes (PNG, JPEG or WebP signatures), not by the name
or the declared type, and stored in S3; views hand them out as presigned URLs. A character
that is deleted leaves every cast it was in.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reelforge.blobs import ARTIFACTS_PREFIX, Blobs
from reelforge.errors import BadRequest
from reelforge.projects import service as projects
from reelforge.store import ConditionFailed, Keys, NotFound, Table, new_id, now_iso

MAX_IMAGES = 5
MAX_IMAGE_BYTES = 5 * 1024 * 1024
IMAGE_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}


def sniff_image(head: bytes) -> str | None:
    """'png', 'jpeg' or 'webp' from a file's first bytes, else None."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


# --- characters ----------------------------------------------------------------------------

def create_character(owner: str, fields: dict[str, Any]) -> dict[str, Any]:
    cid, ts = new_id(), now_iso()
    item = {**Keys.character(cid), **Keys.owner_index(owner, "CHARACTER", ts), "type": "character", "id": cid,
            "owner": owner, "name": fields["name"], "description": fields.get("description"),
            "referenceImages": [str(u) for u in fields.get("referenceImages") or []], "imageKeys": [],
            "styleLora": fields.get("styleLora"), "voiceId": fields.get("voiceId"),
            "createdAt": ts, "updatedAt": ts}
    Table().put_new(item)
    return item


def get_character(owner: str, character_id: str) -> dict[str, Any]:
    item = Table().get(Keys.character(character_id))
    if item.get("owner") != owner:
        raise NotFound(character_id)
    return item


def characters(owner: str) -> list[dict[str, Any]]:
    return list(Table().query_owner(owner, "CHARACTER", newest_first=True))


def update_character(owner: str, character_id: str, fields: dict[str, Any]) -> dict[str, Any]:
    current = get_character(owner, character_id)
    values = {k: ([str(u) for u in v] if k == "referenceImages" else v) for k, v in fields.items()}
    linked = values.get("referenceImages")
    if linked is not None and len(linked) + len(current.get("imageKeys") or []) > MAX_IMAGES:
        raise BadRequest(f"a character has at most {MAX_IMAGES} reference images")
    return Table().update(Keys.character(character_id), {**values, "updatedAt": now_iso()})


def delete_character(owner: str, character_id: str) -> None:
    item = get_character(owner, character_id)
    Blobs().delete_prefix(_image_prefix(owner, character_id))
    table = Table()
    for project in projects.list_for_owner(owner):
        table.delete(Keys.child("cast", project["id"], character_id))  # absent: a no-op
    table.delete(Keys.character(item["id"]))


def _image_prefix(owner: str, character_id: str) -> str:
    return f"{ARTIFACTS_PREFIX}characters/{owner}/{character_id}/"


def add_image(owner: str, character_id: str, path: Path, size: int) -> dict[str, Any]:
    """Store an uploaded reference image after checking what it is."""
    item = get_character(owner, character_id)
    if size > MAX_IMAGE_BYTES:
        raise BadRequest(f"an image may be at most {MAX_IMAGE_BYTES // 2**20} MB")
    kind = sniff_image(path.read_bytes()[:16])
    if kind is None:
        raise BadRequest("the file is not a PNG, JPEG or WebP image", code="INVALID_FILE_TYPE")
    keys = list(item.get("imageKeys") or [])
    if len(keys) + len(item.get("referenceImages") or []) >= MAX_IMAGES:
        raise BadRequest(f"a character has at most {MAX_IMAGES} reference images", code="TOO_MANY_IMAGES")
    key = f"{_image_prefix(owner, character_id)}{new_id()}.{kind}"
    Blobs().put_file(key, path, IMAGE_TYPES[kind])
    try:
        return Table().update(Keys.character(character_id), {"imageKeys": [*keys, key], "updatedAt": now_iso()},
                              condition="size(#k) = :n OR attribute_not_exists(#k)",
                              condition_values={":n": len(keys)}, condition_names={"#k": "imageKeys"})
    except ConditionFailed:
        Blobs().delete(key)
        raise BadRequest("another image was added at the same time: try again", code="CONFLICT") from None


def delete_image(owner: str, character_id: str, index: int) -> dict[str, Any]:
    item = get_character(owner, character_id)
    keys = list(item.get("imageKeys") or [])
    if not 0 <= index < len(keys):
        raise NotFound(str(index))
    Blobs().delete(keys.pop(index))
    return Table().update(Keys.character(character_id), {"imageKeys": keys, "updatedAt": now_iso()})


def character_view(item: dict[str, Any]) -> dict[str, Any]:
    store = Blobs()
    uploaded = [store.presign_get(k) for k in item.get("imageKeys") or []]
    return {"id": item["id"], "name": item["name"], "description": item.get("description"),
            "referenceImages": [*(item.get("referenceImages") or []), *uploaded],
            "uploadedImages": len(uploaded), "styleLora": item.get("styleLora"), "voiceId": item.get("voiceId"),
            "createdAt": item["createdAt"], "updatedAt": item.get("updatedAt")}


# --- casts ---------------------------------------------------------------------------------

def cast_of(project: dict[str, Any]) -> list[dict[str, Any]]:
    """The project's cast (characters deleted since are left out)."""
    table, out = Table(), []
    for member in sorted(table.query_partition(project["PK"], "CAST#"), key=lambda m: m["addedAt"]):
        try:
            out.append(get_character(project["owner"], member["characterId"]))
        except NotFound:
            continue
    return out


def add_to_cast(project: dict[str, Any], character_id: str) -> None:
    get_character(project["owner"], character_id)
    try:
        Table().put_new({**Keys.child("cast", project["id"], character_id), "type": "cast",
                         "characterId": character_id, "addedAt": now_iso()})
    except ConditionFailed:
        raise BadRequest("Character already in cast", code="DUPLICATE") from None


def add_many_to_cast(project: dict[str, Any], character_ids: list[str]) -> tuple[list[str], list[str]]:
    """(added, skipped): unknown or another user's ids and ones already cast are skipped."""
    added, skipped = [], []
    for cid in dict.fromkeys(character_ids):
        try:
            add_to_cast(project, cid)
            added.append(cid)
        except (BadRequest, NotFound):
            skipped.append(cid)
    return added, skipped


def remove_from_cast(project: dict[str, Any], character_id: str) -> None:
    try:
        Table().delete(Keys.child("cast", project["id"], character_id), condition="attribute_exists(PK)")
    except ConditionFailed:
        raise NotFound(character_id) from None


def speakers(project: dict[str, Any]) -> dict[str, str]:
    """casefolded cast name -> character id (a written line names its speaker by name)."""
    return {c["name"].casefold(): c["id"] for c in cast_of(project)}
