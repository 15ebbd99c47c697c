"""Sections of a script, in order.

The order is a list on the parent (`sectionIds` on the project, `sentenceIds` on a section),
written with a revision condition: `order` is a position in that list, so it is always dense
(0, 1, 2 ...), and of two concurrent reorders one wins and the other gets a Conflict (409),
as the editor's timeline does. A written script is stored in full before the project's list
points at it, so the old sections stay until the new ones exist.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

from reelforge.errors import BadRequest, Conflict
from reelforge.projects import service as projects
from reelforge.store import ConditionFailed, Keys, NotFound, Table, Txn, new_id, now_iso
from reelforge.studio import sentences
from reelforge.studio.writers.base import SectionDraft

KIND = "section"
T = TypeVar("T")
PROJECT_LIST, PROJECT_REV = "sectionIds", "sectionsRev"


def rev_guard(rev_attr: str, rev: int) -> tuple[str, dict[str, Any], dict[str, str]]:
    """(condition, values, names) that hold while the list's revision is still `rev`."""
    cond = "#rev = :rev" if rev else "(attribute_not_exists(#rev) OR #rev = :rev)"
    return cond, {":rev": rev}, {"#rev": rev_attr}


def on_fresh(read: Callable[[], dict[str, Any]], write: Callable[[dict[str, Any]], T], attempts: int = 8) -> T:
    """`write(parent)` with the parent as `read()` returns it, again when another write got in
    first. For appends and inserts, which still make sense on the newer list; a reorder's
    Conflict is its answer (it was computed from the old list)."""
    parent = read()
    for attempt in range(attempts - 1):
        try:
            return write(parent)
        except Conflict:
            # A random pause, longer each time, so writers that collided do not collide again
            # in step (twelve at once lost eight times in a row without it).
            time.sleep(random.uniform(0, 0.01 * 2**attempt))
            parent = read()
    return write(parent)


def ids_of(project: dict[str, Any]) -> list[str]:
    return list(project.get(PROJECT_LIST) or [])


def get(owner: str, section_id: str) -> dict[str, Any]:
    """The caller's section (NotFound for anyone else's), with its `order`."""
    item = projects.get_child(owner, KIND, section_id)
    project = projects.get(owner, item["project_id"])
    return with_order(item, ids_of(project))


def with_order(item: dict[str, Any], ids: list[str]) -> dict[str, Any]:
    return {**item, "order": ids.index(item["id"]) if item["id"] in ids else len(ids)}


def of_project(project: dict[str, Any]) -> list[dict[str, Any]]:
    """The project's sections in order (items not in the list are a script still being written)."""
    ids = ids_of(project)
    found = {i["id"]: i for i in Table().query_partition(project["PK"], "SECTION#")}
    return [with_order(found[sid], ids) for sid in ids if sid in found]


def new_item(project: dict[str, Any], title: str) -> dict[str, Any]:
    sid, ts = new_id(), now_iso()
    return {**Keys.child(KIND, project["id"], sid), "type": KIND, "id": sid, "project_id": project["id"],
            "projectId": project["id"], "owner": project["owner"], "title": title,
            sentences.SECTION_LIST: [], sentences.SECTION_REV: 0, "createdAt": ts, "updatedAt": ts}


def create(project: dict[str, Any], title: str, order: int | None = None) -> dict[str, Any]:
    item = new_item(project, title)

    def write(fresh: dict[str, Any]) -> dict[str, Any]:
        ids = ids_of(fresh)
        position = len(ids) if order is None else min(order, len(ids))
        _commit_list(fresh, ids[:position] + [item["id"]] + ids[position:],
                     extra=[Txn.put_new(item), Txn.put_new(projects.child_ref(item))])
        return {**item, "order": position}

    return on_fresh(lambda: Table().get(Keys.project(project["id"])), write)


def rename(owner: str, section_id: str, title: str) -> dict[str, Any]:
    item = get(owner, section_id)
    updated = Table().update({"PK": item["PK"], "SK": item["SK"]}, {"title": title, "updatedAt": now_iso()})
    return {**updated, "order": item["order"]}


def delete(owner: str, section_id: str) -> None:
    """The section, its sentences and their media."""
    item = get(owner, section_id)
    on_fresh(lambda: projects.get(owner, item["project_id"]),
             lambda project: _commit_list(project, [i for i in ids_of(project) if i != section_id]))
    purge([item])


def purge(items: list[dict[str, Any]]) -> None:
    """Delete sections that no list points at any more, with everything under them."""
    table, keys = Table(), []
    for item in items:
        for sentence in sentences.stored_of(item):
            keys += [sentence, Keys.ref(sentences.KIND, sentence["id"])]
            sentences.delete_media(sentence)
        keys += [item, Keys.ref(KIND, item["id"])]
    table.delete_many(keys)


def reorder(owner: str, project_id: str, section_ids: list[str]) -> None:
    project = projects.get(owner, project_id)
    current = ids_of(project)
    if len(section_ids) != len(set(section_ids)) or set(section_ids) != set(current):
        raise BadRequest("sectionIds must list every section of the project exactly once "
                         f"({len(current)} sections; got {len(section_ids)} ids)")
    _commit_list(project, section_ids)


def _commit_list(project: dict[str, Any], ids: list[str], extra: list[Txn] | None = None) -> None:
    """Write the project's section list if nobody changed it since `project` was read."""
    rev = int(project.get(PROJECT_REV) or 0)
    cond, values, names = rev_guard(PROJECT_REV, rev)
    update = Txn.set(Keys.project(project["id"]), {PROJECT_LIST: ids, PROJECT_REV: rev + 1, "updated_at": now_iso()},
                     condition=cond, condition_values=values, condition_names=names)
    try:
        Table().transact([update, *(extra or [])])
    except ConditionFailed as exc:
        raise Conflict("the project's sections changed at the same time: reload and try again") from exc


# --- written scripts ----------------------------------------------------------------------------

def stage(project: dict[str, Any], draft: SectionDraft, speakers: dict[str, str]) -> dict[str, Any]:
    """Store a written section and its sentences without listing it yet (see `publish`)."""
    item = new_item(project, draft.title)
    rows = [sentences.new_item(project, item["id"], s.text, image_prompt=s.image_prompt,
                               video_prompt=s.video_prompt, camera_movement=s.camera_movement,
                               speaker_id=speakers.get((s.speaker or "").casefold()))
            for s in draft.sentences]
    item[sentences.SECTION_LIST] = [r["id"] for r in rows]
    Table().put_many([*rows, *(projects.child_ref(r) | {"section_id": item["id"]} for r in rows),
                      item, projects.child_ref(item)])
    return {**item, "sentenceCount": len(rows)}


def publish(project_id: str, new_ids: list[str], replacing: list[str]) -> list[str]:
    """Point the project at the written sections in place of `replacing` (the sections it had
    when the writing started); sections the user added meanwhile stay, after the new ones.
    Returns the ids of the replaced sections, now deleted."""
    table, replaced = Table(), set(replacing)

    def write(project: dict[str, Any]) -> list[str]:
        current = ids_of(project)
        _commit_list(project, [*new_ids, *(i for i in current if i not in replaced)])
        return [i for i in current if i in replaced]

    gone = on_fresh(lambda: table.get(Keys.project(project_id)), write)
    purge([i for i in table.query_partition(f"PROJECT#{project_id}", "SECTION#") if i["id"] in set(gone)])
    return gone


def replace_one(project: dict[str, Any], old_id: str, draft: SectionDraft,
                speakers: dict[str, str]) -> dict[str, Any]:
    """Swap one section for a rewritten one at the same place (the old one stays until then)."""
    staged = stage(project, draft, speakers)

    def write(fresh: dict[str, Any]) -> list[str]:
        if old_id not in ids_of(fresh):
            raise NotFound(old_id)
        ids = [staged["id"] if i == old_id else i for i in ids_of(fresh)]
        _commit_list(fresh, ids)
        return ids

    try:
        ids = on_fresh(lambda: Table().get(Keys.project(project["id"])), write)
    except (NotFound, Conflict):
        purge([staged])
        raise
    purge([Table().get(Keys.child(KIND, project["id"], old_id))])
    return with_order(staged, ids)


def view(item: dict[str, Any], sentence_items: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    out = {"id": item["id"], "projectId": item["project_id"], "title": item["title"],
           "order": item.get("order", 0), "createdAt": item.get("createdAt"), "updatedAt": item.get("updatedAt")}
    if sentence_items is not None:
        out["sentences"] = [sentences.view(s) for s in sentence_items]
    return out
