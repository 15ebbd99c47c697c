"""The works surface's own rules: provider headers, scene ids across PUTs, ETags, file
sniffing and landing-page reading (on moto where records are involved)."""

from __future__ import annotations

import pytest

from reelforge import keyseal
from reelforge.errors import BadRequest, PreconditionFailed
from reelforge.media import sniff
from reelforge.projects import service as projects
from reelforge.works import service
from reelforge.works.providers.choice import choose, choose_all
from reelforge.works.schemas import ScenarioScene, WorkBody
from reelforge.works.styleguide import parse_page


@pytest.mark.usefixtures("aws_mock")
class TestProviderChoice:
    def test_no_header_and_no_key_is_the_offline_provider(self) -> None:
        choice = choose("video", {})
        assert (choice.provider, choice.model, choice.sealed_key) == ("local", "local-motion", None)

    def test_a_key_without_a_provider_gets_the_contracts_default_per_context(self) -> None:
        headers = {"x-api-key": "key-123"}
        assert choose("image", headers).provider == "dalle"
        assert choose("image", headers, context="work").provider == "gemini"
        assert choose("video", headers).provider == "runway"

    def test_keys_are_sealed_and_per_role_keys_win(self) -> None:
        choice = choose("video", {"x-api-key": "shared", "x-video-api-key": "runway-key",
                                  "x-video-provider": "runway"})
        assert "runway-key" not in choice.model_dump_json()
        assert keyseal.unseal(choice.sealed_key) == "runway-key"
        assert choice.call().api_key == "runway-key"
        assert "runway-key" not in repr(choice.call())

    def test_unknown_providers_and_models_list_what_exists(self) -> None:
        with pytest.raises(BadRequest, match="video providers: local, gemini, runway"):
            choose("video", {"x-video-provider": "sora"})
        with pytest.raises(BadRequest, match="models: gen4_turbo, gen3a_turbo"):
            choose("video", {"x-video-provider": "runway", "x-api-key": "k", "x-video-model-id": "gen9"})
        with pytest.raises(BadRequest, match="API key required"):
            choose("llm", {"x-llm-provider": "claude"})
        with pytest.raises(BadRequest, match="unknown model 'foo'"):
            choose_all({"x-model-id": "foo"}, ("image", "video"), context="work")
        assert choose_all({"x-model-id": "local-card"}, ("image", "video"), context="work")["image"].model == "local-card"

    def test_a_shared_model_id_counts_for_image_in_a_work_only_when_it_is_an_image_model(self) -> None:
        headers = {"x-api-key": "k", "x-image-provider": "gemini", "x-model-id": "gemini-2.5-pro"}
        assert choose("image", headers, context="work").model == "gemini-2.5-flash-image"
        with pytest.raises(BadRequest, match="unknown image model"):
            choose("image", headers)  # the standalone image route: x-model-id is its model
        headers["x-model-id"] = "imagen-4.0-generate-001"
        assert choose("image", headers, context="work").model == "imagen-4.0-generate-001"


def _scene(prompt: str, **extra: object) -> ScenarioScene:
    return ScenarioScene(image_prompt=prompt, video_prompt=f"{prompt}, slow pan", **extra)


@pytest.mark.usefixtures("aws_mock")
class TestWorks:
    def _work(self) -> dict:
        project = projects.create("alice", "p")
        return service.create_work("alice", project["id"], WorkBody(name="w"))

    def test_scenes_without_ids_keep_theirs_by_prompt_then_by_position(self) -> None:
        work = self._work()
        first = service.with_scene_ids(work, [_scene("a"), _scene("b"), _scene("c")])
        work = service.write_work(work, {"scenes": first})
        ids = [s["id"] for s in first]
        assert len(set(ids)) == 3
        reordered = service.with_scene_ids(work, [_scene("c"), _scene("a"), _scene("b")])
        assert [s["id"] for s in reordered] == [ids[2], ids[0], ids[1]]
        assert [s["scene_index"] for s in reordered] == [0, 1, 2]
        edited = service.with_scene_ids(work, [_scene("a"), _scene("B!"), _scene("c")])
        assert [s["id"] for s in edited] == ids  # an edited prompt keeps its place's id
        with pytest.raises(BadRequest, match="same id"):
            service.with_scene_ids(work, [_scene("a", id="x1"), _scene("b", id="x1")])

    def test_a_write_at_an_old_revision_is_refused(self) -> None:
        work = self._work()
        service.write_work(work, {"name": "first"})
        with pytest.raises(PreconditionFailed):
            service.write_work(work, {"name": "second"})  # still at the revision read before
        assert service.get_work("alice", work["project_id"], work["id"])["name"] == "first"

    def test_if_match_takes_star_lists_and_weak_tags(self) -> None:
        service.check_if_match(None, '"a"')
        service.check_if_match("*", '"a"')
        service.check_if_match('"b", W/"a"', '"a"')
        with pytest.raises(PreconditionFailed):
            service.check_if_match('"b"', '"a"')

    def test_one_job_holds_a_scene_until_it_lets_go_or_ends(self) -> None:
        from reelforge import jobs

        work = self._work()
        first = jobs.create("alice", "works", job_id="job-1")
        service.claim_scene(work, "s1", first["id"])
        with pytest.raises(service.Conflict):
            service.claim_scene(work, "s1", "job-2")  # job-1 is queued: it holds the scene
        service.release_scene(work, "s1", "job-1", {"status": service.DONE})
        service.claim_scene(work, "s1", "job-2")  # let go: free again
        jobs.fail("job-2", "its execution never started")
        service.claim_scene(work, "s1", "job-3")  # its holder ended without letting go: taken over
        service.release_scene(work, "s1", "job-2", {"status": service.ERROR})  # too late: not its scene now
        assert service.scene_states(work)["s1"]["busy"] == "job-3"

    def test_scene_references_are_ids_or_indexes(self) -> None:
        work = self._work()
        work = service.write_work(work, {"scenes": service.with_scene_ids(work, [_scene("a"), _scene("b")])})
        second = work["scenes"][1]
        assert service.find_scene(work, "1")[1] == second
        assert service.find_scene(work, second["id"])[0] == 1
        with pytest.raises(service.Missing, match="scenario not generated"):
            service.find_scene(work, "7")
        with pytest.raises(BadRequest, match="Invalid scene index"):
            service.find_scene(work, "-1")


def test_files_are_told_apart_by_their_bytes() -> None:
    assert sniff.video_type(b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00") == ("mp4", "video/mp4")
    assert sniff.video_type(b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00") == ("mov", "video/quicktime")
    assert sniff.video_type(b"RIFF\x00\x00\x00\x00AVI LIST") == ("avi", "video/x-msvideo")
    assert sniff.video_type(b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81") == ("webm", "video/webm")
    assert sniff.video_type(b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00") is None  # audio in MP4
    assert sniff.audio_type(b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00") == ("m4a", "audio/mp4")
    assert sniff.audio_type(b"ID3\x04\x00\x00\x00\x00\x00\x00") == ("mp3", "audio/mpeg")
    assert sniff.audio_type(b"\xff\xfb\x90\x64\x00") == ("mp3", "audio/mpeg")
    assert sniff.audio_type(b"\xff\xf1\x50\x80\x00") == ("aac", "audio/aac")
    assert sniff.audio_type(b"RIFF\x24\x00\x00\x00WAVEfmt ") == ("wav", "audio/wav")
    assert sniff.image_type(b"\x89PNG\r\n\x1a\n\x00\x00") == ("png", "image/png")
    assert sniff.video_type(b"<html><body>") is None and sniff.image_type(b"GIF89a") is None


PAGE = """<!doctype html><html><head><title>Tidewater - tides for sailors</title>
<meta name="description" content="Know the tide before you sail.">
<meta name="theme-color" content="#0B3D91">
<style>body{font-family:'Inter', sans-serif;color:#0b3d91} .cta{background:#FF6600}</style>
<script>var hidden = "#123456 should not count as text";</script></head>
<body><h1>Sail with the tide</h1><p>Live tide tables for 4,000 harbours.</p>
<h2>Offline <em>charts</em></h2><p style="color:#ff6600">Works at sea.</p></body></html>"""


def test_a_landing_page_is_read_with_an_html_parser() -> None:
    page = parse_page("https://tidewater.example/", PAGE)
    assert page.title == "Tidewater - tides for sailors"
    assert page.description == "Know the tide before you sail."
    assert page.headings == ("Sail with the tide", "Offline charts")
    assert page.colors[:2] == ("#0b3d91", "#ff6600") and "#123456" not in page.colors
    assert page.fonts == ("Inter",)
    assert "Live tide tables" in page.text and "hidden" not in page.text and "Tidewater -" not in page.text


def test_a_full_put_of_a_project_writes_its_description(client) -> None:
    """PUT /api/projects/{id} is the whole project, seed 000's fields included (bench/load.py
    found the description dropped)."""
    auth = {"Authorization": "Bearer " + client.post("/api/auth/register", json={
        "email": "put@example.com", "password": "password123", "name": "P"}).json()["accessToken"]}
    pid = client.post("/api/project", headers=auth, json={"name": "a", "description": "first"}).json()["id"]
    put = client.put(f"/api/projects/{pid}", headers=auth, json={"id": pid, "name": "b", "description": "second"})
    assert put.status_code == 200 and put.json()["description"] == "second", put.text
    assert client.get(f"/api/project/{pid}", headers=auth).json()["description"] == "second"
    moved = client.put(f"/api/projects/{pid}", headers=auth,
                       json={"id": pid, "name": "b", "video_url": "http://93.184.216.34/v.mp4"})
    assert moved.status_code == 400 and "video_url" in moved.json()["detail"]
    assert client.get(f"/api/project/{pid}", headers=auth).json()["description"] == "second"
