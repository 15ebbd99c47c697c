"""Sentences: a section's lines, each with the media made from it (narration, image, video).

Dirty flags say what must be made again (the contract's rules): new text -> audio, image and
video; a new image prompt -> image and video; new video settings (or speaker) -> video (and
audio for the speaker). Every edit bumps `rev`; a media step clears a flag only if the
sentence still has the `rev` it started from, so an edit during a render is never lost.
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from reelforge.blobs import Blobs, project_prefix
from reelforge.errors import BadRequest, Conflict
from reelforge.projects import service as projects
from reelforge.store import ConditionFailed, Keys, NotFound, Table, Txn, new_id, now_iso, strip_keys

KIND = "sentence"
SECTION_LIST, SECTION_REV = "sentenceIds", "sentencesRev"
PENDING, GENERATING, COMPLETED, FAILED = "pending", "generating", "completed", "failed"
MEDIA = ("audio", "image", "video")
DIRTY = {"audio": "isAudioDirty", "image": "isImageDirty", "video": "isVideoDirty"}
FILE = {"audio": "audioFile", "image": "imageFile", "video": "videoFile"}
# What a change of each field makes stale.
STALE_AFTER = {"text": ("audio", "image", "video"), "imagePrompt": ("image", "video"),
               "videoPrompt": ("video",), "cameraMovement": ("video",), "motionStrength": ("video",),
               "speakerId": ("audio", "video")}
_HIDDEN = {"owner", "type", "project_id", "rev", "section_rev_seen"}


def media_prefix(project_id: str) -> str:
    """Under the project's prefix: deleting the project deletes the media."""
    return f"{project_prefix(project_id)}studio/"


def new_item(project: dict[str, Any], section_id: str, text: str, *, image_prompt: str | None = None,
             video_prompt: str | None = None, camera_movement: str | None = None,
             motion_strength: float | None = None, speaker_id: str | None = None) -> dict[str, Any]:
    sid, ts = new_id(), now_iso()
    return {**Keys.sentence(project["id"], section_id, sid), "type": KIND, "id": sid,
            "project_id": project["id"], "owner": project["owner"], "sectionId": section_id, "text": text,
            "imagePrompt": image_prompt, "videoPrompt": video_prompt,
            "cameraMovement": camera_movement or "static",
            "motionStrength": 0.5 if motion_strength is None else motion_strength, "speakerId": speaker_id,
            "isAudioDirty": True, "isImageDirty": True, "isVideoDirty": True, "status": PENDING, "rev": 0,
            "createdAt": ts, "updatedAt": ts}


def locate(owner: str | None, sentence_id: str) -> dict[str, Any]:
    """The sentence (NotFound for anyone but its owner; `owner` None: a step, anyone's)."""
    table = Table()
    try:
        ref = table.get(Keys.ref(KIND, sentence_id))
        item = table.get(Keys.sentence(ref["project_id"], ref["section_id"], sentence_id))
    except NotFound:
        raise NotFound(sentence_id) from None
    if owner is not None and item["owner"] != owner:
        raise NotFound(sentence_id)
    return item


def get(owner: str, sentence_id: str) -> dict[str, Any]:
    """The caller's sentence with its `order` in its section."""
    item = locate(owner, sentence_id)
    section = Table().get(Keys.child("section", item["project_id"], item["sectionId"]))
    return with_order(item, section)


def with_order(item: dict[str, Any], section: dict[str, Any]) -> dict[str, Any]:
    ids = list(section.get(SECTION_LIST) or [])
    return {**item, "order": ids.index(item["id"]) if item["id"] in ids else len(ids)}


def stored_of(section: dict[str, Any]) -> list[dict[str, Any]]:
    """Every stored sentence of a section, listed or not."""
    return list(Table().query_partition(f"PROJECT#{section['project_id']}", f"SENTENCE#{section['id']}#"))


def of_section(section: dict[str, Any]) -> list[dict[str, Any]]:
    """The section's sentences in order."""
    found = {i["id"]: i for i in stored_of(section)}
    return [with_order(found[i], section) for i in section.get(SECTION_LIST) or [] if i in found]


def of_project(project_id: str) -> dict[str, list[dict[str, Any]]]:
    """section id -> its stored sentences (one query for the whole project)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for item in Table().query_partition(f"PROJECT#{project_id}", "SENTENCE#"):
        out.setdefault(item["sectionId"], []).append(item)
    return out


def ordered(section: dict[str, Any], stored: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found = {i["id"]: i for i in stored}
    return [with_order(found[i], section) for i in section.get(SECTION_LIST) or [] if i in found]


# --- changes --------------------------------------------------------------------------------

def create(section: dict[str, Any], project: dict[str, Any], text: str, order: int | None,
           fields: dict[str, Any]) -> dict[str, Any]:
    item = new_item(project, section["id"], text, image_prompt=fields.get("imagePrompt"),
                    video_prompt=fields.get("videoPrompt"), camera_movement=fields.get("cameraMovement"),
                    motion_strength=fields.get("motionStrength"), speaker_id=fields.get("speakerId"))
    from reelforge.studio.sections import on_fresh

    def write(fresh: dict[str, Any]) -> dict[str, Any]:
        ids = list(fresh.get(SECTION_LIST) or [])
        position = len(ids) if order is None else min(order, len(ids))
        commit_lists([(fresh, ids[:position] + [item["id"]] + ids[position:])],
                     extra=[Txn.put_new(item), Txn.put_new(_ref(item))])
        return {**item, "order": position}

    return on_fresh(lambda: _section(section), write)


def insert(section: dict[str, Any], project: dict[str, Any], drafts: list[dict[str, Any]],
           after_id: str | None) -> list[dict[str, Any]]:
    """New sentences right after `after_id` (None: at the end); the ones after shift by N."""
    from reelforge.studio.sections import on_fresh

    if after_id is not None and after_id not in (section.get(SECTION_LIST) or []):
        raise BadRequest("insertAfterSentenceId is not a sentence of this section")
    items = [new_item(project, section["id"], d["text"], image_prompt=d.get("imagePrompt"),
                      video_prompt=d.get("videoPrompt")) for d in drafts]
    Table().put_many([*items, *(_ref(i) for i in items)])  # unlisted until the list names them

    def write(fresh: dict[str, Any]) -> list[dict[str, Any]]:
        ids = list(fresh.get(SECTION_LIST) or [])
        if after_id is not None and after_id not in ids:
            raise BadRequest("insertAfterSentenceId is no longer a sentence of this section")
        position = ids.index(after_id) + 1 if after_id is not None else len(ids)
        commit_lists([(fresh, ids[:position] + [i["id"] for i in items] + ids[position:])])
        return [{**item, "order": position + n} for n, item in enumerate(items)]

    try:
        return on_fresh(lambda: _section(section), write)
    except (Conflict, BadRequest):
        Table().delete_many([k for i in items for k in (i, Keys.ref(KIND, i["id"]))])
        raise


def update(owner: str, sentence_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    """Apply the changed fields and mark what they make stale; the sentence becomes pending."""
    item = get(owner, sentence_id)
    changed = {k: v for k, v in changes.items() if item.get(k) != v}
    if not changed:
        return item
    values: dict[str, Any] = {**changed, "updatedAt": now_iso(), "status": PENDING, "error": None}
    for field in changed:
        for kind in STALE_AFTER.get(field, ()):
            values[DIRTY[kind]] = True
    key = {"PK": item["PK"], "SK": item["SK"]}
    updated = Table().update(key, values, add={"rev": 1})
    return {**updated, "order": item["order"]}


def delete(owner: str, sentence_id: str) -> None:
    from reelforge.studio.sections import on_fresh

    item = locate(owner, sentence_id)

    def write(section: dict[str, Any]) -> None:
        ids = [i for i in section.get(SECTION_LIST) or [] if i != sentence_id]
        commit_lists([(section, ids)], extra=[Txn.delete(item), Txn.delete(Keys.ref(KIND, sentence_id))])

    on_fresh(lambda: Table().get(Keys.child("section", item["project_id"], item["sectionId"])), write)
    delete_media(item)


def reorder(section: dict[str, Any], sentence_ids: list[str]) -> None:
    current = list(section.get(SECTION_LIST) or [])
    if len(sentence_ids) != len(set(sentence_ids)) or set(sentence_ids) != set(current):
        raise BadRequest("sentenceIds must list every sentence of the section exactly once "
                         f"({len(current)} sentences; got {len(sentence_ids)} ids)")
    commit_lists([(section, sentence_ids)])


def move(owner: str, sentence_id: str, target: dict[str, Any], target_order: int) -> dict[str, Any]:
    """Move a sentence to `target_order` of section `target` (the same or another of its
    project's); both sections stay densely numbered. Returns the moved sentence. A move
    that loses a race with another change of either section is tried again on fresh reads."""
    from reelforge.studio.sections import on_fresh

    if target["project_id"] != locate(owner, sentence_id)["project_id"]:
        raise BadRequest("a sentence can only move to a section of its own project")
    table = Table()

    def read() -> dict[str, Any]:
        item = locate(owner, sentence_id)
        return {"item": item, "source": table.get(Keys.child("section", item["project_id"], item["sectionId"])),
                "target": table.get({"PK": target["PK"], "SK": target["SK"]})}

    def write(now: dict[str, Any]) -> dict[str, Any]:
        item, source, goal = now["item"], now["source"], now["target"]
        source_ids = [i for i in source.get(SECTION_LIST) or [] if i != sentence_id]
        if source["id"] == goal["id"]:
            position = min(target_order, len(source_ids))
            commit_lists([(source, source_ids[:position] + [sentence_id] + source_ids[position:])])
            return {**item, "order": position}
        goal_ids = list(goal.get(SECTION_LIST) or [])
        position = min(target_order, len(goal_ids))
        moved = {**item, **Keys.sentence(item["project_id"], goal["id"], sentence_id),
                 "sectionId": goal["id"], "updatedAt": now_iso()}
        commit_lists([(source, source_ids), (goal, goal_ids[:position] + [sentence_id] + goal_ids[position:])],
                     extra=[Txn.delete(item), Txn.put_new(moved), Txn.put(_ref(moved))])
        return {**moved, "order": position}

    return on_fresh(read, write)


def commit_lists(changes: list[tuple[dict[str, Any], list[str]]], extra: list[Txn] | None = None) -> None:
    """Write sections' sentence lists if none changed since read (else Conflict), with `extra`."""
    from reelforge.studio.sections import rev_guard

    ops = []
    for section, ids in changes:
        rev = int(section.get(SECTION_REV) or 0)
        cond, values, names = rev_guard(SECTION_REV, rev)
        ops.append(Txn.set({"PK": section["PK"], "SK": section["SK"]},
                           {SECTION_LIST: ids, SECTION_REV: rev + 1, "updatedAt": now_iso()},
                           condition=f"attribute_exists(PK) AND {cond}", condition_values=values,
                           condition_names=names))
    try:
        Table().transact([*ops, *(extra or [])])
    except ConditionFailed as exc:
        raise Conflict("the section's sentences changed at the same time: reload and try again") from exc


def _section(section: dict[str, Any]) -> dict[str, Any]:
    """The section as stored now (NotFound if it was deleted)."""
    return Table().get({"PK": section["PK"], "SK": section["SK"]})


def _ref(item: dict[str, Any]) -> dict[str, Any]:
    return {**projects.child_ref(item), "section_id": item["sectionId"]}


# --- media ----------------------------------------------------------------------------------

def media_key(item: dict[str, Any], kind: str, digest: str, ext: str) -> str:
    return f"{media_prefix(item['project_id'])}sentences/{item['id']}/{kind}-{digest}.{ext}"


def delete_media(item: dict[str, Any]) -> None:
    Blobs().delete_prefix(f"{media_prefix(item['project_id'])}sentences/{item['id']}/")


def record_media(item: dict[str, Any], kind: str, values: dict[str, Any], rev: int) -> bool:
    """Store a rebuilt artifact's fields; its dirty flag clears only if nobody edited the
    sentence since the build started (`rev`). Returns whether the flag was cleared."""
    key = {"PK": item["PK"], "SK": item["SK"]}
    table = Table()
    try:
        table.update(key, {**values, DIRTY[kind]: False, "updatedAt": now_iso()},
                     condition="#rev = :rev", condition_values={":rev": rev}, condition_names={"#rev": "rev"})
        return True
    except ConditionFailed:
        try:  # edited meanwhile: keep the file (it is stale already) and the flag
            table.update(key, {**values, "updatedAt": now_iso()})
        except ConditionFailed:
            raise NotFound(item["id"]) from None  # deleted meanwhile
        return False


def set_status(item: dict[str, Any], status: str, error: str | None = None) -> None:
    with suppress(ConditionFailed):  # deleted meanwhile
        Table().update({"PK": item["PK"], "SK": item["SK"]}, {"status": status, "error": error,
                                                             "updatedAt": now_iso()})


def view(item: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in strip_keys(item).items() if k not in _HIDDEN and v is not None}
    store = Blobs()
    for kind, field in FILE.items():
        if item.get(field):
            out[f"{kind}Url"] = store.presign_get(item[field])
    return out


def claim(item: dict[str, Any]) -> None:
    """Mark the sentence generating, unless it already is (409): one media job per sentence."""
    try:
        Table().update({"PK": item["PK"], "SK": item["SK"]}, {"status": GENERATING, "updatedAt": now_iso()},
                       condition="#s <> :g", condition_values={":g": GENERATING}, condition_names={"#s": "status"})
    except ConditionFailed as exc:
        raise Conflict("this sentence's media is being generated; try again when it has finished") from exc
