"""Script outlines: the plan a long script is written from, section after section.

Status: draft (editable) -> approved (a script is being written from it) -> generating ->
completed | failed. While writing, the outline carries the running summary and the topics
covered so far, which every next section's call sees, and each outline section names the
script section written for it (`sectionId`), which regenerate-section rewrites.
"""

from __future__ import annotations

from typing import Any

from reelforge.errors import BadRequest, Conflict
from reelforge.projects import service as projects
from reelforge.store import ConditionFailed, Keys, NotFound, Table, new_id, now_iso, strip_keys
from reelforge.studio.writers.base import OutlineDraft, OutlineSection

KIND = "outline"
DRAFT, APPROVED, GENERATING, COMPLETED, FAILED = "draft", "approved", "generating", "completed", "failed"
DEFAULT_SECTION_MINUTES = 8


def create(project: dict[str, Any], draft: OutlineDraft, *, topic: str, visual_style: str,
           status: str = DRAFT) -> dict[str, Any]:
    oid, ts = new_id(), now_iso()
    item = {**Keys.child(KIND, project["id"], oid), "type": KIND, "id": oid, "project_id": project["id"],
            "projectId": project["id"], "owner": project["owner"], "title": draft.title, "topic": topic,
            "visualStyle": visual_style, "sections": _sections(draft.sections),
            "totalTargetMinutes": _total(draft.sections), "status": status, "runningSummary": "",
            "coveredTopics": [], "currentSectionIndex": 0, "note": draft.note, "createdAt": ts, "updatedAt": ts}
    Table().transact_put_new([item, projects.child_ref(item)])
    return item


def _sections(sections: list[OutlineSection]) -> list[dict[str, Any]]:
    return [{"index": i, "title": s.title, "description": s.description, "targetMinutes": s.target_minutes,
             "keyPoints": list(s.key_points), "status": "pending"} for i, s in enumerate(sections)]


def _total(sections: list[OutlineSection]) -> float:
    return round(sum(s.target_minutes for s in sections), 2)


def get(owner: str, outline_id: str) -> dict[str, Any]:
    return projects.get_child(owner, KIND, outline_id)


def get_in(owner: str, project_id: str, outline_id: str) -> dict[str, Any]:
    item = get(owner, outline_id)
    if item["project_id"] != project_id:
        raise NotFound(outline_id)
    return item


def of_project(project_id: str) -> list[dict[str, Any]]:
    items = list(Table().query_partition(f"PROJECT#{project_id}", "OUTLINE#"))
    return sorted(items, key=lambda i: i["createdAt"], reverse=True)


def as_draft(item: dict[str, Any]) -> OutlineDraft:
    return OutlineDraft(title=item["title"], note=item.get("note"), sections=[
        OutlineSection(title=s["title"], description=s.get("description") or "",
                       target_minutes=float(s.get("targetMinutes") or DEFAULT_SECTION_MINUTES),
                       key_points=list(s.get("keyPoints") or [])) for s in item["sections"]])


def edit(owner: str, project_id: str, outline_id: str, title: str | None,
         sections: list[OutlineSection] | None) -> dict[str, Any]:
    """Change a draft outline (re-indexed, sections pending, total recomputed)."""
    item = get_in(owner, project_id, outline_id)
    if item["status"] != DRAFT:
        raise BadRequest(f"Only a draft outline can be edited (this one is {item['status']})", code="INVALID_STATE")
    values: dict[str, Any] = {"updatedAt": now_iso()}
    if title is not None:
        values["title"] = title
    if sections is not None:
        values["sections"] = _sections(sections)
        values["totalTargetMinutes"] = _total(sections)
    try:
        return Table().update({"PK": item["PK"], "SK": item["SK"]}, values, condition="#s = :draft",
                              condition_values={":draft": DRAFT}, condition_names={"#s": "status"})
    except ConditionFailed as exc:
        raise Conflict("the outline left the draft state while it was edited") from exc


def approve(item: dict[str, Any]) -> dict[str, Any]:
    """draft|completed|failed -> approved, for one writing job at a time."""
    try:
        return Table().update({"PK": item["PK"], "SK": item["SK"]},
                              {"status": APPROVED, "updatedAt": now_iso(), "runningSummary": "",
                               "coveredTopics": [], "currentSectionIndex": 0},
                              condition="#s IN (:d, :c, :f)",
                              condition_values={":d": DRAFT, ":c": COMPLETED, ":f": FAILED},
                              condition_names={"#s": "status"})
    except ConditionFailed as exc:
        raise Conflict("a script is already being written from this outline") from exc


def update(item: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    return Table().update({"PK": item["PK"], "SK": item["SK"]}, {**values, "updatedAt": now_iso()})


def view(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in strip_keys(item).items() if k not in ("owner", "type", "project_id")}
