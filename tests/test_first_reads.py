"""`bria apply`'s first round of reads (cli/first_reads.py) as the API sees it: which
requests arrive before the first answer leaves, against the emulator with latency."""

from __future__ import annotations

import time

import httpx

from reconciler import probe
from reconciler.api.client import BriaClient
from reconciler.cli.dialect import probe_helper_paths
from reconciler.cli.first_reads import FirstReads
from reconciler.emulator import EmulatorConfig, create_app
from reconciler.manifest import load_manifest

LATENCY_MS = 150.0


class Recorder:
    """ASGI middleware noting, in order, each request's arrival and each answer's start."""

    def __init__(self, app):
        self.app = app
        self.events: list[tuple[str, str, str]] = []

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        name = f"{scope['method']} {scope['path']}"
        self.events.append(("arrive", name, ""))

        async def noted(message):
            if message["type"] == "http.response.start":
                self.events.append(("answer", name, str(message["status"])))
            await send(message)

        await self.app(scope, receive, noted)


def _client(app) -> BriaClient:
    return BriaClient("http://emulator.test/v1", "tok-first-reads", transport=httpx.ASGITransport(app=app),
                      dialect="mixed")


async def test_an_empty_account_is_probed_in_the_first_round_with_the_lists() -> None:
    """On an account with no datasets the probe must ask whether the caption helpers exist;
    those GETs go out with the list calls, so detecting the dialect costs no round of its own."""
    recorder = Recorder(create_app(EmulatorConfig(latency_ms=LATENCY_MS, dialect="legacy")))
    async with _client(recorder) as client:
        reads = FirstReads(client)
        await reads.start(probe.HELPER_PATHS)
        result = await probe.detect(client, lists=reads)
        reads.cancel()
    assert result.dialect == "legacy", result
    first_answer = next(i for i, event in enumerate(recorder.events) if event[0] == "answer")
    assert sorted(name for kind, name, _ in recorder.events[:first_answer]) == [
        "GET /v1/tailored-gen/datasets", "GET /v1/tailored-gen/generate_prefix",
        "GET /v1/tailored-gen/generate_visual_schema", "GET /v1/tailored-gen/models",
        "GET /v1/tailored-gen/projects"]
    assert len(recorder.events) == 10            # nothing asked twice, no second round


async def test_without_the_early_helper_gets_the_probe_takes_a_second_round() -> None:
    """The comparison that shows what the test above saves: asked only when the lists have
    answered, the helper GETs arrive after the first answer."""
    recorder = Recorder(create_app(EmulatorConfig(latency_ms=LATENCY_MS, dialect="legacy")))
    async with _client(recorder) as client:
        reads = FirstReads(client)
        await reads.start()
        result = await probe.detect(client, lists=reads)
        reads.cancel()
    assert result.dialect == "legacy"
    first_answer = next(i for i, event in enumerate(recorder.events) if event[0] == "answer")
    helpers = [i for i, (kind, name, _) in enumerate(recorder.events) if kind == "arrive" and "generate_" in name]
    assert len(helpers) == 2 and min(helpers) > first_answer


def test_helper_gets_are_asked_for_only_when_the_dialect_will_be_detected(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("BRIA_API_DIALECT", raising=False)

    def manifest(dialect: str = "", datasets: bool = True):
        text = ("version: 1\napi:\n  endpoint: http://127.0.0.1:9/v1\n" + (f"  dialect: {dialect}\n" if dialect else "")
                + "projects:\n  p:\n    name: P\n    ip_type: other\n    ip_medium: photography\n")
        if datasets:
            text += "datasets:\n  d:\n    project: p\n    name: D\n    complete: false\n"
        (tmp_path / "bria.yaml").write_text(text)
        loaded, problems = load_manifest(tmp_path / "bria.yaml")
        assert loaded is not None, problems
        return loaded

    assert probe_helper_paths(manifest()) == probe.HELPER_PATHS
    assert probe_helper_paths(manifest("legacy")) == ()
    assert probe_helper_paths(manifest(datasets=False)) == ()


async def test_the_emulator_answers_unknown_paths_after_its_latency_too() -> None:
    """A real gateway's 404 and 405 cost a round trip; an emulator answering them at once
    would hide a client's extra existence checks from every benchmark."""
    app = create_app(EmulatorConfig(latency_ms=LATENCY_MS, dialect="legacy"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://emulator.test") as http:
        for path, status in (("/v1/tailored-gen/generate_visual_schema", 404),
                             ("/v1/tailored-gen/generate_prefix", 405)):
            started = time.monotonic()
            answer = await http.get(path, headers={"api_token": "tok"})
            assert answer.status_code == status
            assert time.monotonic() - started >= LATENCY_MS / 1000 * 0.95
