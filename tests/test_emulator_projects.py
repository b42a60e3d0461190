"""Emulator: authentication, organisations, projects and their children lists."""

from __future__ import annotations

import re

import pytest

from fixtures_emulator import PROJECT_LUNA, emu_completed_dataset, emu_dataset, emu_project, emu_upload

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


async def test_missing_or_empty_token_is_401(emulator_client, emulator_app):
    app = emulator_app()
    for client in (emulator_client(app, token=None), emulator_client(app, token="")):
        response = await client.get("/tailored-gen/projects")
        assert response.status_code == 401
        assert "error" in response.json()


async def test_fixed_token_list_refuses_unknown_tokens(emulator_client, emulator_app):
    app = emulator_app(tokens=["good"])
    assert (await emulator_client(app, token="bad").get("/tailored-gen/projects")).status_code == 401
    assert (await emulator_client(app, token="good").get("/tailored-gen/projects")).status_code == 200


async def test_create_project_returns_201_with_fields(emulator_client):
    client = emulator_client()
    response = await client.post("/tailored-gen/projects", json={**PROJECT_LUNA, "project_description": "books"})
    assert response.status_code == 201
    project = response.json()
    assert isinstance(project["id"], int)
    assert project["status"] == "active"
    assert {k: project[k] for k in PROJECT_LUNA} == PROJECT_LUNA
    assert project["project_description"] == "books"
    assert ISO_Z.match(project["created_at"]) and ISO_Z.match(project["updated_at"])


@pytest.mark.parametrize("body", [
    {"ip_type": "other", "ip_medium": "photography"},                                  # no name
    {"project_name": "p", "ip_type": "other", "ip_medium": "oil"},                       # bad medium
    {"project_name": "p", "ip_type": "robots", "ip_medium": "photography"},              # bad type
    {"project_name": "p", "ip_type": "other"},                                           # no medium
    {"project_name": "p", "ip_type": "icons", "ip_medium": "photography"},               # illustration only
    {"project_name": "p", "ip_type": "defined_character", "ip_medium": "illustration",
     "ip_description": "girl"},                                                           # no ip_name
    {"project_name": "p", "ip_type": "object_variants", "ip_medium": "illustration"},    # no ip_description
    {"project_name": "p", "ip_type": "defined_character", "ip_medium": "illustration",
     "ip_name": "  ", "ip_description": "girl"},                                          # blank ip_name
    {"project_name": "p", "ip_type": "object_variants", "ip_medium": "illustration",
     "ip_description": " "},                                                              # blank ip_description
    {"project_name": "p", "ip_type": "other", "ip_medium": "photography", "colour": "x"},  # unknown field
])
async def test_invalid_project_is_400(emulator_client, body):
    response = await emulator_client().post("/tailored-gen/projects", json=body)
    assert response.status_code == 400
    assert isinstance(response.json()["error"], str)


async def test_non_json_body_is_400(emulator_client):
    response = await emulator_client().post("/tailored-gen/projects", content=b"not json",
                                            headers={"content-type": "application/json"})
    assert response.status_code == 400


async def test_list_and_get_projects(emulator_client):
    client = emulator_client()
    first = await emu_project(client)
    second = await emu_project(client, project_name="Other", ip_type="other", ip_medium="photography")
    listed = (await client.get("/tailored-gen/projects")).json()
    assert [p["id"] for p in listed] == [first["id"], second["id"]]
    got = await client.get(f"/tailored-gen/projects/{second['id']}")
    assert got.status_code == 200 and got.json()["project_name"] == "Other"
    assert (await client.get("/tailored-gen/projects/999999")).status_code == 404


async def test_other_organisations_ids_are_404(emulator_client, emulator_app):
    app = emulator_app()
    alice, bob = emulator_client(app, token="alice"), emulator_client(app, token="bob")
    project = await emu_project(alice)
    dataset = await emu_dataset(alice, project["id"])
    image = await emu_upload(alice, dataset["id"])
    assert (await bob.get("/tailored-gen/projects")).json() == []
    assert (await bob.get("/tailored-gen/datasets")).json() == []
    for path in (f"/tailored-gen/projects/{project['id']}", f"/tailored-gen/datasets/{dataset['id']}",
                 f"/tailored-gen/datasets/{dataset['id']}/images/{image['id']}",
                 f"/tailored-gen/projects/{project['id']}/datasets"):
        assert (await bob.get(path)).status_code == 404, path
    assert (await bob.put(f"/tailored-gen/projects/{project['id']}", json={"project_name": "x"})).status_code == 404
    assert (await bob.delete(f"/tailored-gen/projects/{project['id']}")).status_code == 404
    response = await bob.post("/tailored-gen/datasets", json={"project_id": project["id"], "name": "steal"})
    assert response.status_code == 404
    response = await bob.post("/tailored-gen/models", json={"name": "m", "dataset_id": dataset["id"]})
    assert response.status_code == 404
    assert (await alice.get(f"/tailored-gen/projects/{project['id']}")).json()["project_name"] == "StoryCharacter_Luna"


async def test_update_project_changes_only_mutable_fields(emulator_client):
    client = emulator_client()
    project = await emu_project(client)
    path = f"/tailored-gen/projects/{project['id']}"
    response = await client.put(path, json={"project_name": "Luna2", "ip_description": "girl, blue hair"})
    assert response.status_code == 200
    assert response.json()["project_name"] == "Luna2"
    assert response.json()["ip_description"] == "girl, blue hair"
    for fixed in ({"ip_type": "other"}, {"ip_medium": "photography"}):
        response = await client.put(path, json=fixed)
        assert response.status_code == 400
        assert "cannot be changed" in response.json()["error"]
    assert (await client.get(path)).json()["ip_type"] == "defined_character"


async def test_delete_project_cascades(emulator_client):
    client = emulator_client(training_seconds=3600)
    dataset = await emu_completed_dataset(client, images=2)
    model = (await client.post("/tailored-gen/models", json={"name": "m", "dataset_id": dataset["id"]})).json()
    response = await client.delete(f"/tailored-gen/projects/{dataset['project_id']}")
    assert response.status_code == 204
    assert response.content == b""
    assert (await client.get(f"/tailored-gen/datasets/{dataset['id']}")).status_code == 404
    assert (await client.get(f"/tailored-gen/models/{model['id']}")).status_code == 404
    assert (await client.get("/tailored-gen/datasets")).json() == []
    assert (await client.get("/tailored-gen/models")).json() == []


async def test_delete_project_refused_while_a_model_trains(emulator_client):
    client = emulator_client(training_seconds=3600, stopping_seconds=3600)
    dataset = await emu_completed_dataset(client)
    model = (await client.post("/tailored-gen/models", json={"name": "m", "dataset_id": dataset["id"]})).json()
    await client.post(f"/tailored-gen/models/{model['id']}/start_training")
    path = f"/tailored-gen/projects/{dataset['project_id']}"
    assert (await client.delete(path)).status_code == 409
    await client.post(f"/tailored-gen/models/{model['id']}/stop_training")   # Stopping is still busy
    assert (await client.delete(path)).status_code == 409
    assert (await client.get(path)).status_code == 200


async def test_project_children_lists(emulator_client):
    client = emulator_client()
    dataset = await emu_completed_dataset(client)
    other_project = await emu_project(client, project_name="Other")
    await emu_dataset(client, other_project["id"], name="other set")
    model = (await client.post("/tailored-gen/models", json={"name": "m", "dataset_id": dataset["id"]})).json()
    datasets = (await client.get(f"/tailored-gen/projects/{dataset['project_id']}/datasets")).json()
    assert [d["id"] for d in datasets] == [dataset["id"]]
    assert datasets[0]["images_count"] == 1 and "images" not in datasets[0]
    models = (await client.get(f"/tailored-gen/projects/{dataset['project_id']}/models")).json()
    assert [m["id"] for m in models] == [model["id"]]
    assert (await client.get(f"/tailored-gen/projects/{other_project['id']}/models")).json() == []
    assert (await client.get("/tailored-gen/projects/424242/models")).status_code == 404


async def test_unknown_paths_and_methods_answer_json_errors(emulator_client):
    client = emulator_client()
    response = await client.get("/tailored-gen/nothing-here")
    assert response.status_code == 404 and response.json() == {"error": "not found"}
    assert (await client.get("/tailored-gen/projects/abc")).status_code == 404
    response = await client.patch("/tailored-gen/projects")
    assert response.status_code == 405 and "error" in response.json()


async def test_every_id_endpoint_hides_other_organisations(emulator_client, emulator_app):
    """Each endpoint that takes an id answers 404 to another organisation, changing nothing."""
    from fixtures_emulator import b64, make_png

    app = emulator_app(training_seconds=3600)
    alice, bob = emulator_client(app, token="alice"), emulator_client(app, token="bob")
    dataset = await emu_completed_dataset(alice)
    draft = await emu_dataset(alice, dataset["project_id"], name="draft")
    image = await emu_upload(alice, draft["id"])
    model = (await alice.post("/tailored-gen/models", json={"name": "m", "dataset_id": dataset["id"]})).json()
    models, drafts = f"/tailored-gen/models/{model['id']}", f"/tailored-gen/datasets/{draft['id']}"
    calls = [
        ("GET", models, None), ("PUT", models, {"name": "x"}), ("POST", f"{models}/start_training", {}),
        ("POST", f"{models}/stop_training", None), ("GET", f"{models}/download", None),
        ("GET", f"/tailored-gen/projects/{dataset['project_id']}/models", None),
        ("PUT", drafts, {"name": "x"}), ("POST", f"{drafts}/clone", {}), ("GET", f"{drafts}/images", None),
        ("POST", f"{drafts}/images", {"file": b64(make_png(256, 256, 5))}), ("PUT", f"{drafts}/images", None),
        ("PUT", f"{drafts}/images/{image['id']}", {"caption": "x"}),
        ("DELETE", f"{drafts}/images/{image['id']}", None), ("DELETE", drafts, None), ("DELETE", models, None),
        ("POST", "/tailored-gen/models", {"name": "m", "dataset_id": draft["id"]}),
    ]
    for method, path, body in calls:
        response = await bob.request(method, path, json=body)
        assert response.status_code == 404, (method, path, response.status_code)
    assert (await bob.get("/tailored-gen/models")).json() == []
    assert (await alice.get(models)).json()["status"] == "Created"
    assert (await alice.get(models)).json()["name"] == "m"
    got = (await alice.get(drafts)).json()
    assert (got["name"], got["images_count"], got["images"][0]["caption"]) == ("draft", 1, image["caption"])
    assert len((await alice.get("/tailored-gen/datasets")).json()) == 2
