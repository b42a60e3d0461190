"""The `samples:` block: schema and family rules reported with file, line and field; the
request fields sent to each endpoint; and the generation calls of the client."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from fixtures_apply import luna_images, write_case
from fixtures_emulator import EMULATOR_BASE_URL
from reconciler.api import BriaClient
from reconciler.manifest import load_manifest
from reconciler.model import SamplesSpec
from reconciler.samples_spec import api_fields

BASE = """\
version: 1
projects:
  luna: {{name: Luna, ip_type: stylized_scene, ip_medium: illustration}}
datasets:
  luna_v1:
    project: luna
    name: Luna set
    images:
      - folder: images/luna
models:
  luna_max:
    dataset: luna_v1
    name: Luna max
    samples:
{samples}
"""


def diagnostics(tmp_path: Path, samples: str) -> list[str]:
    manifest = write_case(tmp_path, BASE.format(samples=samples), luna_images(1))
    loaded, found = load_manifest(manifest)
    return [str(d) for d in found]


@pytest.mark.parametrize("samples,line,expected", [
    ("      prompts: []", 15, "models.luna_max.samples.prompts"),
    ("      prompts: [a]\n      count: 9", 16, "models.luna_max.samples.count"),
    ("      prompts: [a]\n      guidance_scale: 4", 16, "guidance_scale is not a generation parameter for max"),
    ("      prompts: [a]\n      influence: 1.2", 16, "influence must be at most 1"),
    ("      prompts: [a, a]", 15, "the same prompt is listed twice"),
    ("      prompts: [a]\n      colour: red", 16, "colour"),
])
def test_bad_samples_are_reported_with_file_line_and_field(tmp_path, samples, line, expected):
    found = diagnostics(tmp_path, samples)
    assert any(f"bria.yaml:{line}:" in d and expected in d for d in found), found


def test_a_good_samples_block_becomes_the_spec(tmp_path):
    manifest = write_case(tmp_path, BASE.format(samples="      prompts: [a, b]\n      seeds: [3]\n"
                                                        "      influence: 0.8\n      fast: true"), luna_images(1))
    loaded, found = load_manifest(manifest)
    assert loaded is not None, found
    assert loaded.models["luna_max"].samples == SamplesSpec(("a", "b"), (3,), 1, "1:1",
                                                           {"influence": 0.8, "fast": True})


def test_api_fields_per_family():
    spec = SamplesSpec(("a",), (1,), 2, "16:9", {"influence": 0.7, "steps": 30, "content_moderation": True})
    assert api_fields(spec, "max") == {"aspect_ratio": "16:9", "num_results": 2, "model_influence": 0.7,
                                       "steps_num": 30, "content_moderation": True}
    assert api_fields(spec, "fibo") == {"aspect_ratio": "16:9", "tailored_model_influence": 0.7, "steps_num": 30,
                                        "prompt_content_moderation": True,
                                        "visual_output_content_moderation": True}


async def test_client_generates_with_fibo_async_polling_and_downloads_without_token(emulator_app):
    from test_emulator_generation import fibo_model

    app = emulator_app(generation_seconds=0.2)
    seen_tokens = []

    class Spy(httpx.ASGITransport):
        async def handle_async_request(self, request):
            seen_tokens.append((request.url.path, request.headers.get("api_token")))
            return await super().handle_async_request(request)

    async with BriaClient(EMULATOR_BASE_URL, "token-a", transport=Spy(app=app)) as client:
        model_id = fibo_model(app)
        image = await client.generate_fibo(model_id, {"prompt": "a fox", "seed": 5}, poll_interval=0.1)
        assert image.seed == 5
        data = await client.download_generated(image.url)
    assert data.startswith(b"\x89PNG")
    polls = [path for path, _ in seen_tokens if path.startswith("/v2/status/")]
    assert len(polls) >= 2                                         # IN_PROGRESS, then COMPLETED
    downloads = [token for path, token in seen_tokens if path.startswith("/_emulator/generated/")]
    assert downloads == [None]                                     # the token never goes to storage
