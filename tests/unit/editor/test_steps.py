"""Each step of the `edit` and `export` state machines, run on its sample event
(tests/events/editor/) against moto over HTTP, with real media."""

from __future__ import annotations

from pathlib import Path

import av
import mediagen
import numpy as np
import pytest
from httpserve import RangeServer
from stepevents import load_event

from reelforge import jobs
from reelforge.blobs import Blobs
from reelforge.editor import service, steps, timeline
from reelforge.media.probe import probe
from reelforge.projects import service as projects
from reelforge.settings import get_settings

OWNER = "owner-1"


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """4 s of a textured test pattern with a silent audio track, 320x180 at 30 fps."""
    return mediagen.silent_video(tmp_path_factory.mktemp("editor") / "pattern.mp4", seconds=4.0,
                                 audio=True)


@pytest.fixture
def project(moto_server: str, source: Path) -> dict:
    """A project whose timeline is the uploaded source (one segment)."""
    item = projects.create(OWNER, "steps")
    key = f"uploads/{OWNER}/{item['id']}/a1/pattern.mp4"
    Blobs().put_file(key, source, "video/mp4")
    timeline.init_timeline(item, key, probe(source).duration, 320, 180)
    return projects.get(OWNER, item["id"])


def _mean_luma(url: str, t: float) -> float:
    with av.open(url) as container:
        container.seek(int(t * 1_000_000), any_frame=False)
        for frame in container.decode(video=0):
            if frame.time >= t - 0.02:
                return float(frame.to_ndarray(format="gray").mean())
    raise AssertionError(f"no frame at {t}")


def test_grade_segment_renders_the_graded_range_and_readies_it(project: dict) -> None:
    seg = timeline.placed(project)[0].segment
    graded = timeline.new_segment(project, media_key=None, start_ts=0.0, end_ts=2.0, source="graded",
                                  status=timeline.RENDERING)
    timeline.replace(OWNER, seg["id"], graded)
    job = jobs.create(OWNER, "grade", project_id=project["id"])
    event = load_event("editor", "grade_segment", job_id=job["id"], project_id=project["id"],
                       segment_id=graded["id"], source_key=seg["media_key"])
    assert steps.grade_segment_step(event) == {"segment_id": graded["id"]}
    ready = timeline.get(OWNER, graded["id"])
    assert ready["status"] == timeline.READY and ready["end_ts"] == pytest.approx(2.0)
    store = Blobs()
    assert probe(store.presign_get(ready["media_key"])).duration == pytest.approx(2.0, abs=0.05)
    # brightness +40 makes the graded picture brighter than the same instant of the source
    assert _mean_luma(store.presign_get(ready["media_key"]), 0.5) > \
        _mean_luma(store.presign_get(seg["media_key"]), 1.0) + 10
    assert jobs.get(job["id"])["status"] == jobs.COMPLETED


def test_ingest_project_video_fetches_the_url_into_the_timeline(
        moto_server: str, source: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INGEST_ALLOW_HOSTS", "127.0.0.1")  # the loopback media server
    get_settings.cache_clear()
    item = projects.create(OWNER, "linked")
    job = jobs.create(OWNER, "ingest", project_id=item["id"])
    with RangeServer(source.parent) as server:
        event = load_event("editor", "ingest_project_video", job_id=job["id"], project_id=item["id"],
                           owner=OWNER, url=f"{server.url}/{source.name}")
        out = steps.ingest_project_video_step(event)
    get_settings.cache_clear()
    assert Blobs().exists(out["media_key"])
    [placed] = timeline.placed(projects.get(OWNER, item["id"]))
    assert placed.duration == pytest.approx(4.0, abs=0.05)
    assert jobs.get(job["id"])["status"] == jobs.COMPLETED


def test_prepare_region_edit_renders_the_window_once_and_plans_the_variants(project: dict) -> None:
    job = jobs.create(OWNER, "edit", project_id=project["id"])
    out = steps.prepare_region_edit_step(load_event("editor", "prepare_region_edit", job_id=job["id"],
                                                    project_id=project["id"], owner=OWNER))
    assert out["intent"]["kind"] == "blur"
    assert out["variants"] == [{"index": 0}, {"index": 1}]
    assert probe(Blobs().presign_get(out["window_key"])).duration == pytest.approx(1.5, abs=0.05)


def test_render_variant_changes_the_box_and_stores_video_and_preview(project: dict) -> None:
    job = jobs.create(OWNER, "edit", project_id=project["id"])
    window_key = timeline.placed(project)[0].segment["media_key"]
    out = steps.render_variant_step(load_event("editor", "render_variant", job_id=job["id"],
                                               project_id=project["id"], window_key=window_key))
    assert out["index"] == 1 and out["label"]
    store = Blobs()
    assert store.exists(out["video_key"]) and store.exists(out["preview_key"])
    with av.open(store.presign_get(out["video_key"])) as edited, \
            av.open(store.presign_get(window_key)) as original:
        a = next(edited.decode(video=0)).to_ndarray(format="gray").astype(float)
        b = next(original.decode(video=0)).to_ndarray(format="gray").astype(float)
    inside = np.abs(a[30:120, 40:160] - b[30:120, 40:160]).mean()
    outside = np.abs(a[130:, 200:] - b[130:, 200:]).mean()
    assert inside > 3 * max(outside, 1.0)  # blurred in the box, untouched around it


def test_finish_region_edit_records_the_variants_for_their_owner(project: dict) -> None:
    job = jobs.create(OWNER, "edit", project_id=project["id"])
    window_key = timeline.placed(project)[0].segment["media_key"]
    event = load_event("editor", "finish_region_edit", job_id=job["id"], project_id=project["id"],
                       window_key=window_key, variant_a="var-a", variant_b="var-b")
    assert steps.finish_region_edit_step(event) == {"variant_count": 2}
    done = jobs.get(job["id"])
    assert done["status"] == jobs.COMPLETED
    assert [v["id"] for v in done["result"]["variants"]] == ["var-a", "var-b"]  # by index
    assert service.get_variant(OWNER, "var-a")["label"] == "light blur"
    with pytest.raises(Exception, match="var-a"):
        service.get_variant("someone-else", "var-a")


def test_export_timeline_joins_the_pieces_in_order(project: dict) -> None:
    job = jobs.create(OWNER, "export", project_id=project["id"])
    source_key = timeline.placed(project)[0].segment["media_key"]
    out = steps.export_timeline_step(load_event("editor", "export_timeline", job_id=job["id"],
                                                project_id=project["id"], source_key=source_key))
    store = Blobs()
    exported = store.presign_get(out["export_key"])
    assert probe(exported).duration == pytest.approx(2.0, abs=0.05)
    # the export opens on the source's second 2 (the first piece), not on its start
    original = store.presign_get(source_key)
    assert abs(_mean_luma(exported, 0.1) - _mean_luma(original, 2.1)) < \
        abs(_mean_luma(exported, 0.1) - _mean_luma(original, 0.1)) + 1e-6
    assert jobs.get(job["id"])["result"]["export_key"] == out["export_key"]


def test_mark_failed_fails_the_job_and_the_graded_segment(project: dict) -> None:
    seg = timeline.placed(project)[0].segment
    job = jobs.create(OWNER, "grade", project_id=project["id"])
    event = load_event("editor", "mark_failed", job_id=job["id"], project_id=project["id"],
                       segment_id=seg["id"])
    assert steps.mark_failed_step(event) == {"error": "a step timed out"}
    assert jobs.get(job["id"])["error"] == "a step timed out"
    assert timeline.get(OWNER, seg["id"])["status"] == timeline.FAILED


def test_mark_failed_after_the_project_was_deleted_says_so(project: dict) -> None:
    job = jobs.create(OWNER, "grade", project_id=project["id"])
    event = load_event("editor", "mark_failed", job_id=job["id"], project_id=project["id"],
                       segment_id=timeline.placed(project)[0].segment["id"])
    projects.delete(OWNER, project["id"])
    assert steps.mark_failed_step(event) == {"error": service.PROJECT_DELETED}
