"""refresh() against the emulator: what it reads, how many requests it takes, and that a
no-change plan of a big manifest stays at one request per resource (never per image)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest

from reconciler.api import BriaClient
from reconciler.emulator import EmulatorConfig, create_app
from reconciler.images import HashCache
from reconciler.manifest import load_manifest
from reconciler.planner import plan
from reconciler.refresh import refresh
from reconciler.state.model import (DatasetRecord, DatasetVersion, ImageRecord, ModelRecord, ProjectRecord,
                                    State)

GOLDEN_IMAGE = Path(__file__).parent / "golden" / "_images" / "a.png"
PROJECT = {"name": "StoryCharacter_Luna", "description": None, "ip_type": "defined_character",
           "ip_medium": "illustration", "ip_name": "Luna", "ip_description": "girl with blue hair"}


@pytest.fixture
def emulator():
    app = create_app(EmulatorConfig())
    yield app
    app.state.emulator.store.close()


def _client(app) -> BriaClient:
    return BriaClient(base_url="http://emulator/v1", token="token-refresh",
                      transport=httpx.ASGITransport(app=app), max_concurrency=16)


def write_images(folder: Path, count: int, salt: int) -> list[Path]:
    """`count` distinct valid PNGs: one small image with different trailing bytes (cheap)."""
    folder.mkdir(parents=True, exist_ok=True)
    base = GOLDEN_IMAGE.read_bytes()
    paths = []
    for i in range(count):
        path = folder / f"img{i:03d}.png"
        path.write_bytes(base + f"{salt}:{i}".encode())
        paths.append(path)
    return paths


async def _seed_project(client: BriaClient) -> ProjectRecord:
    api = {"project_name": PROJECT["name"], "ip_type": PROJECT["ip_type"], "ip_medium": PROJECT["ip_medium"],
           "ip_name": PROJECT["ip_name"], "ip_description": PROJECT["ip_description"]}
    created = await client.create_project(**api)
    return ProjectRecord(created["id"], dict(PROJECT))


async def _seed_dataset(client: BriaClient, project_id: int, name: str, images: list[tuple[str, Path]],
                        complete: bool) -> DatasetVersion:
    """Create a dataset with `images` ((sha256, path) pairs) and record it like an apply would."""
    dataset = await client.create_dataset(project_id, name)
    uploads = await asyncio.gather(*(client.upload_image(dataset["id"], path, image_name=f"{sha[:16]}-{path.name}")
                                     for sha, path in images))
    if complete:
        await client.update_dataset(dataset["id"], status="completed")
    records = {sha: ImageRecord(u["id"], u["image_name"], u["caption"], u["caption_source"])
               for (sha, _), u in zip(images, uploads)}
    return DatasetVersion(dataset["id"], name, "completed" if complete else "draft", dataset["caption_prefix"],
                          records)


async def test_refresh_lists_everything_and_fetches_only_recorded_drafts(emulator, tmp_path):
    paths = write_images(tmp_path / "img", 3, salt=1)
    async with _client(emulator) as client:
        project = await _seed_project(client)
        images = [(f"{i:064x}", p) for i, p in enumerate(paths)]
        draft = await _seed_dataset(client, project.remote_id, "draft set", images[:2], complete=False)
        done = await _seed_dataset(client, project.remote_id, "done set", images[2:], complete=True)
        # state still thinks `stale` is a draft, but it was completed since: it is fetched too
        stale = await _seed_dataset(client, project.remote_id, "stale set", images[:1], complete=True)
        gone = DatasetVersion(999_999, "gone", "draft", None)
        state = State.empty().with_resource("project.p", project)
        for key, version in {"draft": draft, "done": done, "stale": stale, "gone": gone}.items():
            status = "draft" if key in ("stale", "gone") else version.status
            state = state.with_resource(f"dataset.{key}", DatasetRecord("p", (DatasetVersion(
                version.remote_id, version.name, status, version.caption_prefix, version.images),)))
        before = client.stats.requests
        live = await refresh(client, state)
        assert client.stats.requests - before == live.requests == 3 + 2 + 1   # + one GET confirming `gone` is gone
    assert set(live.projects) == {project.remote_id}
    assert set(live.datasets) == {draft.remote_id, done.remote_id, stale.remote_id}
    assert len(live.datasets[draft.remote_id]["images"]) == 2
    assert live.datasets[stale.remote_id]["status"] == "completed" and "images" in live.datasets[stale.remote_id]
    assert "images" not in live.datasets[done.remote_id]


async def test_refresh_sees_an_image_deleted_outside_bria(emulator, tmp_path):
    paths = write_images(tmp_path / "img", 2, salt=2)
    async with _client(emulator) as client:
        project = await _seed_project(client)
        version = await _seed_dataset(client, project.remote_id, "set", [("a" * 64, paths[0]), ("b" * 64, paths[1])],
                                      complete=False)
        await client.delete_image(version.remote_id, version.images["a" * 64].remote_id)
        state = State.empty().with_resource("dataset.set", DatasetRecord("p", (version,)))
        live = await refresh(client, state)
    assert [i["id"] for i in live.datasets[version.remote_id]["images"]] == [version.images["b" * 64].remote_id]


def _big_manifest(root: Path, datasets: int, per_dataset: int) -> Path:
    lines = ["version: 1", "api:", "  endpoint: emulator", "projects:", "  luna:",
             f"    name: {PROJECT['name']}", "    ip_type: defined_character", "    ip_medium: illustration",
             "    ip_name: Luna", "    ip_description: girl with blue hair", "datasets:"]
    for d in range(datasets):
        write_images(root / "images" / f"d{d:02d}", per_dataset, salt=100 + d)
        lines += [f"  d{d:02d}:", "    project: luna", f"    name: Set {d:02d}", "    images:",
                  f"      - folder: images/d{d:02d}", f"    complete: {'true' if d % 2 else 'false'}"]
    lines.append("models:")
    for d in range(datasets):
        lines += [f"  m{d:02d}:", f"    dataset: d{d:02d}", f"    name: Model {d:02d}", "    train: false"]
    path = root / "bria.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.slow
async def test_no_change_plan_of_5000_images_costs_one_request_per_resource(emulator, tmp_path):
    datasets, per_dataset = 25, 200
    manifest_path = _big_manifest(tmp_path, datasets, per_dataset)
    cache = HashCache(tmp_path / ".bria" / "image-cache.json")
    manifest, diagnostics = load_manifest(manifest_path, hash_cache=cache)
    assert manifest is not None, [str(d) for d in diagnostics][:5]
    assert sum(len(d.images) for d in manifest.datasets.values()) == 5000

    # Seed the emulator through the client and record the state an apply would have written.
    async with _client(emulator) as client:
        project = await _seed_project(client)
        state = State.empty().with_resource("project.luna", project)
        for key, spec in manifest.datasets.items():
            version = await _seed_dataset(client, project.remote_id, spec.name,
                                          [(i.sha256, i.path) for i in spec.images], complete=spec.complete)
            state = state.with_resource(f"dataset.{key}", DatasetRecord("luna", (version,)))
        for key, spec in manifest.models.items():
            dataset_id = state.datasets[spec.dataset].current.remote_id
            model = await client.create_model(name=spec.name, dataset_id=dataset_id, training_version="max",
                                              training_mode="fully_automated")
            state = state.with_resource(f"model.{key}", ModelRecord(
                model["id"], spec.dataset, dataset_id, spec.name, None, "max", "fully_automated", {}, "Created"))

        # A warm second load re-reads no image bytes; the plan makes one request per list
        # plus one per draft dataset, and finds nothing to do.
        warm = HashCache(tmp_path / ".bria" / "image-cache.json")
        started = time.perf_counter()
        manifest, _ = load_manifest(manifest_path, hash_cache=warm)
        before = client.stats.requests
        live = await refresh(client, state)
        result = plan(manifest, state, live)
        elapsed = time.perf_counter() - started
        requests = client.stats.requests - before

    drafts = sum(1 for d in manifest.datasets.values() if not d.complete)
    resources = 1 + datasets + datasets
    assert warm.stats.bytes_hashed == 0 and warm.stats.hits == 5000
    assert requests == live.requests == 3 + drafts <= resources + 3
    assert result.changes == (), [c.address for c in result.changes][:5]
    assert elapsed < 30, f"warm load + refresh + plan of 5,000 images took {elapsed:.1f}s"


async def test_a_draft_deleted_between_the_list_and_its_get_is_seen_as_deleted(emulator, tmp_path):
    """The list shows the draft, then someone deletes it in the console: the GET's 404 means
    deleted (the planner recreates it), not an error that stops the plan."""
    paths = write_images(tmp_path / "img", 1, salt=3)

    class ConsoleDeletesAfterList(BriaClient):
        async def list_datasets(self):
            listed = await super().list_datasets()
            await self.delete_dataset(version.remote_id)
            return listed

    async with _client(emulator) as client:
        project = await _seed_project(client)
        version = await _seed_dataset(client, project.remote_id, "set", [("c" * 64, paths[0])], complete=False)
    racing = ConsoleDeletesAfterList(base_url="http://emulator/v1", token="token-refresh",
                                     transport=httpx.ASGITransport(app=emulator))
    state = State.empty().with_resource("project.p", project).with_resource(
        "dataset.set", DatasetRecord("p", (version,)))
    async with racing:
        live = await refresh(racing, state)
    assert version.remote_id not in live.datasets and live.requests == 4
    assert project.remote_id in live.projects
