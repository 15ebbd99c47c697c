"""The editor's timeline: a project's ordered, active segments.

A segment plays [start_ts, end_ts] (seconds) of one media object in S3 (`media_key`).
Order lives in one place, the project's `timeline` list of segment ids, so order
indexes are always dense. Every edit is one DynamoDB transaction conditioned on the
project's `timeline_version` and the edited segment still being active: of two
concurrent edits, one wins and the other gets Conflict (409), never a mix of both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reelforge.blobs import Blobs
from reelforge.errors import BadRequest, Conflict
from reelforge.projects import service as projects
from reelforge.store import ConditionFailed, Keys, Table, Txn, new_id, now_iso

READY, RENDERING, FAILED = "ready", "rendering", "failed"
_EPS = 1e-6


class EditError(BadRequest, ValueError):
    """An edit that makes no sense for this segment (-> 400)."""


@dataclass(frozen=True)
class Placed:
    """A segment with its position on the timeline."""

    segment: dict[str, Any]
    order_index: int
    timeline_start: float

    @property
    def duration(self) -> float:
        return float(self.segment["end_ts"]) - float(self.segment["start_ts"])

    @property
    def timeline_end(self) -> float:
        return self.timeline_start + self.duration


def new_segment(project: dict[str, Any], *, media_key: str | None, start_ts: float, end_ts: float,
                source: str, status: str = READY, variant_id: str | None = None,
                bounds: tuple[float, float] | None = None, width: int | None = None,
                height: int | None = None) -> dict[str, Any]:
    sid = new_id()
    lo, hi = bounds or (start_ts, end_ts)
    return {
        **Keys.segment(project["id"], sid), "type": "segment", "id": sid,
        "project_id": project["id"], "owner": project["owner"], "media_key": media_key,
        "start_ts": float(start_ts), "end_ts": float(end_ts), "bound_start": float(lo),
        "bound_end": float(hi), "source": source, "variant_id": variant_id, "active": True,
        "status": status, "width": width or project.get("frame_width"),
        "height": height or project.get("frame_height"), "created_at": now_iso(),
    }


def get(owner: str, segment_id: str) -> dict[str, Any]:
    return projects.get_child(owner, "segment", segment_id)


def placed(project: dict[str, Any]) -> list[Placed]:
    """The active segments in order, with their timeline positions."""
    by_id = {s["id"]: s for s in Table().query_partition(project["PK"], "SEGMENT#")}
    out, t = [], 0.0
    for i, sid in enumerate(project.get("timeline") or []):
        seg = by_id[sid]
        out.append(Placed(seg, i, t))
        t += float(seg["end_ts"]) - float(seg["start_ts"])
    return out


def duration(project: dict[str, Any]) -> float:
    items = placed(project)
    return items[-1].timeline_end if items else 0.0


def locate(project: dict[str, Any], ts: float) -> tuple[Placed, float]:
    """The segment playing at timeline time `ts` and the media time inside it."""
    items = placed(project)
    if not items:
        raise EditError("the project has no video on its timeline yet")
    total = items[-1].timeline_end
    if ts < 0 or ts > total + _EPS:
        raise EditError(f"ts {ts} is outside the timeline (0..{total:.3f} s)")
    for p in items:
        if ts < p.timeline_end - _EPS or p is items[-1]:
            offset = min(ts - p.timeline_start, p.duration - 1e-3)
            return p, float(p.segment["start_ts"]) + max(0.0, offset)
    raise AssertionError("unreachable")


def media_url(seg: dict[str, Any]) -> str:
    """A presigned GET of the segment's media; EditError while it is still being rendered."""
    if seg.get("status") != READY or not seg.get("media_key"):
        raise EditError("the segment is still rendering; try again when its status is ready")
    return Blobs().presign_get(seg["media_key"])


def view(seg: dict[str, Any], order_index: int | None = None, *, blobs: Blobs | None = None) -> dict[str, Any]:
    """Seed 000's segment shape (+ status, so clients know when a render is ready)."""
    url = (blobs or Blobs()).presign_get(seg["media_key"]) if seg.get("media_key") and \
        seg.get("status") == READY else None
    return {
        "id": seg["id"], "project_id": seg["project_id"], "start_ts": seg["start_ts"],
        "end_ts": seg["end_ts"], "source": seg["source"], "url": url,
        "variant_id": seg.get("variant_id"), "order_index": order_index if order_index is not None
        else seg.get("order_index", -1), "active": seg["active"], "status": seg.get("status", READY),
        "error": seg.get("error"),
    }


def timeline_view(project: dict[str, Any]) -> list[dict[str, Any]]:
    store = Blobs()
    return [view(p.segment, p.order_index, blobs=store) for p in placed(project)]


# --- edits ---------------------------------------------------------------------------------


def _commit(project: dict[str, Any], order: list[str], *, new: list[dict[str, Any]] = (),
            deactivate: list[dict[str, Any]] = (), extra: list[Txn] = ()) -> None:
    version = int(project.get("timeline_version") or 0)
    ops = [Txn.set(Keys.project(project["id"]),
                   {"timeline": order, "timeline_version": version + 1, "updated_at": now_iso()},
                   condition="attribute_not_exists(timeline_version) OR timeline_version = :tv",
                   condition_values={":tv": version})]
    for seg in deactivate:
        ops.append(Txn.set(Keys.segment(project["id"], seg["id"]), {"active": False},
                           condition="#active = :yes", condition_values={":yes": True},
                           condition_names={"#active": "active"}))
    for seg in new:
        ops += [Txn.put_new(seg), Txn.put_new(projects.child_ref(seg))]
    ops += list(extra)
    try:
        Table().transact(ops)
    except ConditionFailed as exc:
        raise Conflict("the timeline changed while this edit was made; reload and retry") from exc
    project["timeline"], project["timeline_version"] = order, version + 1


def require_ready(seg: dict[str, Any]) -> None:
    """Edits that cut or re-render a segment need its media: not while it is being rendered."""
    if seg.get("status", READY) != READY:
        raise EditError(f"segment {seg['id']} is still {seg.get('status')}; "
                        "edit it when its job has finished")


def active(owner: str, segment_id: str) -> tuple[dict[str, Any], dict[str, Any], int]:
    """The segment, its project and its timeline index; EditError if it is not on the timeline."""
    seg = get(owner, segment_id)
    project = projects.get(owner, seg["project_id"])
    order = list(project.get("timeline") or [])
    if not seg["active"] or segment_id not in order:
        raise EditError("the segment is not on the timeline (deleted or replaced)")
    return seg, project, order.index(segment_id)


def init_timeline(project: dict[str, Any], media_key: str, media_duration: float, width: int | None,
                  height: int | None) -> dict[str, Any] | None:
    """One segment covering the project's video; None if the timeline already exists."""
    if project.get("timeline"):
        return None
    project = {**project, "frame_width": width, "frame_height": height}
    seg = new_segment(project, media_key=media_key, start_ts=0.0, end_ts=media_duration, source="original")
    try:
        _commit(project, [seg["id"]], new=[seg])
    except Conflict:
        return None  # another upload initialised it first
    # (A transaction may touch the project item only once, so these go separately.)
    Table().update(Keys.project(project["id"]), {"frame_width": width, "frame_height": height,
                                                  "video_key": media_key, "video_duration": media_duration})
    return seg


def split(owner: str, segment_id: str, split_ts: float) -> tuple[dict[str, Any], dict[str, Any]]:
    seg, project, i = active(owner, segment_id)
    require_ready(seg)
    if not float(seg["start_ts"]) + _EPS < split_ts < float(seg["end_ts"]) - _EPS:
        raise EditError(f"split_ts must lie strictly inside the segment ({seg['start_ts']}..{seg['end_ts']})")
    common = {"media_key": seg["media_key"], "source": seg["source"], "variant_id": seg.get("variant_id"),
              "width": seg.get("width"), "height": seg.get("height")}
    # Each half's original bounds are its own range: trimming can't grow into its sibling.
    left = new_segment(project, start_ts=seg["start_ts"], end_ts=split_ts, **common)
    right = new_segment(project, start_ts=split_ts, end_ts=seg["end_ts"], **common)
    order = list(project["timeline"])
    order[i:i + 1] = [left["id"], right["id"]]
    _commit(project, order, new=[left, right], deactivate=[seg])
    return view(left, i), view(right, i + 1)


def trim(owner: str, segment_id: str, new_start: float, new_end: float) -> dict[str, Any]:
    seg, project, i = active(owner, segment_id)
    lo, hi = float(seg["bound_start"]), float(seg["bound_end"])
    if not (lo - _EPS <= new_start < new_end <= hi + _EPS):
        raise EditError(f"trim must keep {lo} <= new_start_ts < new_end_ts <= {hi}")
    require_ready(seg)
    # The version bump makes a concurrent split or delete of this segment lose.
    _commit(project, list(project["timeline"]), extra=[Txn.set(
        Keys.segment(project["id"], segment_id), {"start_ts": float(new_start), "end_ts": float(new_end)},
        condition="#active = :yes", condition_values={":yes": True}, condition_names={"#active": "active"})])
    return view({**seg, "start_ts": float(new_start), "end_ts": float(new_end)}, i)


def delete(owner: str, segment_id: str) -> None:
    seg, project, i = active(owner, segment_id)
    order = list(project["timeline"])
    order.pop(i)
    _commit(project, order, deactivate=[seg])


def replace(owner: str, segment_id: str, replacement: dict[str, Any]) -> int:
    """Put `replacement` (a new segment item) in the segment's place; returns its index."""
    seg, project, i = active(owner, segment_id)
    order = list(project["timeline"])
    order[i] = replacement["id"]
    _commit(project, order, new=[replacement], deactivate=[seg])
    return i


def place_range(owner: str, project_id: str, start: float, end: float,
                replacement: dict[str, Any]) -> dict[str, Any]:
    """Replace timeline range [start, end) with `replacement`, cutting the segments around it."""
    project = projects.get(owner, project_id)
    items = placed(project)
    order: list[str] = []
    new: list[dict[str, Any]] = []
    gone: list[dict[str, Any]] = []
    inserted = False
    for p in items:
        seg = p.segment
        if p.timeline_end <= start + _EPS or p.timeline_start >= end - _EPS:
            if not inserted and p.timeline_start >= end - _EPS:
                order.append(replacement["id"])
                inserted = True
            order.append(seg["id"])
            continue
        require_ready(seg)
        gone.append(seg)
        common = {"media_key": seg["media_key"], "source": seg["source"], "variant_id": seg.get("variant_id"),
                  "width": seg.get("width"), "height": seg.get("height")}
        if p.timeline_start < start - _EPS:  # keep the part before the range
            cut = float(seg["start_ts"]) + (start - p.timeline_start)
            keep = new_segment(project, start_ts=seg["start_ts"], end_ts=cut, **common)
            new.append(keep)
            order.append(keep["id"])
        if not inserted:
            order.append(replacement["id"])
            inserted = True
        if p.timeline_end > end + _EPS:  # keep the part after the range
            cut = float(seg["start_ts"]) + (end - p.timeline_start)
            keep = new_segment(project, start_ts=cut, end_ts=seg["end_ts"], **common)
            new.append(keep)
            order.append(keep["id"])
    if not inserted:
        order.append(replacement["id"])
    _commit(project, order, new=[*new, replacement], deactivate=gone)
    return view(replacement, order.index(replacement["id"]))


def set_status(project_id: str, segment_id: str, values: dict[str, Any]) -> None:
    Table().update(Keys.segment(project_id, segment_id), values)
