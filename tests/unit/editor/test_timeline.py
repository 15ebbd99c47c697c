"""Timeline edits: dense order, bounds, soft deletes, conflicts, range replacement."""

from __future__ import annotations

import random

import pytest

from reelforge.editor import timeline
from reelforge.projects import service as projects
from reelforge.store import Keys, NotFound, Table


def _project(seconds: float = 10.0) -> dict:
    project = projects.create("u1", "p")
    timeline.init_timeline(project, "uploads/u1/p/a/v.mp4", seconds, 640, 360)
    return projects.get("u1", project["id"])


def _tl(project_id: str) -> list[tuple[float, float, int]]:
    return [(round(s["start_ts"], 3), round(s["end_ts"], 3), s["order_index"])
            for s in timeline.timeline_view(projects.get("u1", project_id))]


def test_initial_segment_covers_the_video_once(aws_mock: None) -> None:
    project = _project()
    assert _tl(project["id"]) == [(0.0, 10.0, 0)]
    assert timeline.init_timeline(project, "other", 5.0, 1, 1) is None


def test_split_trim_delete_keep_dense_order(aws_mock: None) -> None:
    pid = _project()["id"]
    first = timeline.timeline_view(projects.get("u1", pid))[0]
    left, right = timeline.split("u1", first["id"], 4.0)
    assert (left["start_ts"], left["end_ts"], right["start_ts"], right["end_ts"]) == (0.0, 4.0, 4.0, 10.0)
    assert Table().get(Keys.segment(pid, first["id"]))["active"] is False
    l2, r2 = timeline.split("u1", right["id"], 7.0)
    assert _tl(pid) == [(0.0, 4.0, 0), (4.0, 7.0, 1), (7.0, 10.0, 2)]
    trimmed = timeline.trim("u1", l2["id"], 5.0, 6.5)
    assert (trimmed["start_ts"], trimmed["end_ts"], trimmed["order_index"]) == (5.0, 6.5, 1)
    timeline.delete("u1", left["id"])
    assert _tl(pid) == [(5.0, 6.5, 0), (7.0, 10.0, 1)]
    assert timeline.duration(projects.get("u1", pid)) == pytest.approx(4.5)


@pytest.mark.parametrize("ts", [0.0, 10.0, -1.0, 11.0])
def test_split_must_be_strictly_inside(aws_mock: None, ts: float) -> None:
    seg = timeline.timeline_view(_project())[0]
    with pytest.raises(timeline.EditError):
        timeline.split("u1", seg["id"], ts)


def test_trim_stays_within_the_original_bounds(aws_mock: None) -> None:
    pid = _project()["id"]
    seg = timeline.timeline_view(projects.get("u1", pid))[0]
    left, _ = timeline.split("u1", seg["id"], 4.0)
    for start, end in [(0.0, 4.5), (-0.1, 3.0), (3.0, 3.0), (3.5, 2.0)]:
        with pytest.raises(timeline.EditError):
            timeline.trim("u1", left["id"], start, end)
    timeline.trim("u1", left["id"], 1.0, 2.0)
    assert timeline.trim("u1", left["id"], 0.0, 4.0)["end_ts"] == 4.0  # back to the full bounds


def test_edits_of_a_replaced_segment_are_refused(aws_mock: None) -> None:
    seg = timeline.timeline_view(_project())[0]
    timeline.split("u1", seg["id"], 5.0)
    for edit in (lambda: timeline.split("u1", seg["id"], 2.0), lambda: timeline.trim("u1", seg["id"], 1, 2),
                 lambda: timeline.delete("u1", seg["id"])):
        with pytest.raises(timeline.EditError):
            edit()


def test_concurrent_edits_do_not_both_win(aws_mock: None) -> None:
    """Two editors loaded the same timeline; the second commit must fail, not merge."""
    project = _project()
    seg = timeline.placed(project)[0].segment
    stale = dict(project)
    timeline.split("u1", seg["id"], 5.0)
    with pytest.raises(timeline.Conflict):
        timeline._commit(stale, [seg["id"]], deactivate=[seg])
    assert len(timeline.timeline_view(projects.get("u1", project["id"]))) == 2


def test_other_owner_cannot_see_segments(aws_mock: None) -> None:
    seg = timeline.timeline_view(_project())[0]
    with pytest.raises(NotFound):
        timeline.get("u2", seg["id"])


def test_place_range_cuts_around_the_replacement(aws_mock: None) -> None:
    project = _project()
    seg = timeline.placed(project)[0].segment
    timeline.split("u1", seg["id"], 4.0)  # [0,4) [4,10)
    project = projects.get("u1", project["id"])
    variant = timeline.new_segment(project, media_key="v.mp4", start_ts=0.0, end_ts=3.0, source="variant",
                                   variant_id="var1")
    placed = timeline.place_range("u1", project["id"], 3.0, 6.0, variant)
    assert placed["order_index"] == 1
    view = timeline.timeline_view(projects.get("u1", project["id"]))
    assert [(s["source"], s["start_ts"], s["end_ts"]) for s in view] == [
        ("original", 0.0, 3.0), ("variant", 0.0, 3.0), ("original", 6.0, 10.0)]
    assert timeline.duration(projects.get("u1", project["id"])) == pytest.approx(10.0)


def test_random_edit_sequences_keep_order_dense_and_duration_consistent(aws_mock: None) -> None:
    rng = random.Random(7)
    pid = _project(60.0)["id"]
    expected = 60.0
    for _ in range(25):
        view = timeline.timeline_view(projects.get("u1", pid))
        assert [s["order_index"] for s in view] == list(range(len(view)))
        seg = rng.choice(view)
        op = rng.choice(["split", "trim", "delete"] if len(view) > 1 else ["split", "trim"])
        if op == "split" and seg["end_ts"] - seg["start_ts"] > 0.2:
            timeline.split("u1", seg["id"], round((seg["start_ts"] + seg["end_ts"]) / 2, 3))
        elif op == "trim" and seg["end_ts"] - seg["start_ts"] > 0.2:
            timeline.trim("u1", seg["id"], seg["start_ts"] + 0.05, seg["end_ts"])
            expected -= 0.05
        elif op == "delete":
            timeline.delete("u1", seg["id"])
            expected -= seg["end_ts"] - seg["start_ts"]
    assert timeline.duration(projects.get("u1", pid)) == pytest.approx(expected, abs=1e-6)
