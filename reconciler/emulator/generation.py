"""Generation with a trained tailored model: the v1 endpoint for legacy models, the v2
endpoint for FIBO models, the v2 status service, and the generated files.

- `POST /v1/text-to-image/tailored/{model_id}` (legacy models: light, max, bria-2.3,
  bria-3.2): fields as Bria's own ComfyUI node sends them; answers 200
  `{"result": [{"urls": [url], "seed": s, "uuid": ...}, ...]}`, one entry per result.
- `POST /v2/image/generate/tailored` (FIBO models only): `tailored_model_id` plus `prompt`
  and/or `structured_prompt` (a structured prompt alone needs a seed). `sync: true` answers
  200 `{"result": {"image_url", "seed", "structured_prompt"}, "request_id"}`; otherwise
  (the documented default) 202 `{"request_id", "status_url"}`, and `GET /v2/status/{id}`
  answers 200 `{"request_id", "status": "IN_PROGRESS"|"COMPLETED", "result"?}`.
- Errors: unknown model (or another organisation's) 404; a model of the wrong family for
  the endpoint 400; a model that is not Completed 409 (undocumented: the same answer the
  emulator gives for downloading untrained weights); bad parameters 400; a prompt caught
  by content moderation 422 (moderation is on by default in v2, opt-in in v1).
- Generated files are served at `/_emulator/generated/{id}.png` without a token, as a
  pre-signed storage URL would be; a file becomes available `generation_seconds` after
  its request (404 before). Their bytes are recomputed from the request (genimage.py).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from reconciler.emulator import lifecycle
from reconciler.emulator.errors import ApiError, bad_request, conflict, not_found
from reconciler.emulator.genimage import ASPECT_RATIOS
from reconciler.emulator.resources import owned_model
from reconciler.emulator.routing import Call, Operation, Reply
from reconciler.emulator.store import Db
from reconciler.emulator.validation import (int_in_range, number_in_range, one_of, optional_bool,
                                            reject_unknown)

FIBO = "fibo"
GENERATED_ROUTE = "/_emulator/generated"
_GUIDANCE = tuple(f"guidance_method_{n}{suffix}" for n in (1, 2) for suffix in ("", "_scale", "_image_file"))
V1_FIELDS = ("prompt", "num_results", "aspect_ratio", "sync", "seed", "model_influence", "negative_prompt",
             "fast", "steps_num", "include_generation_prefix", "content_moderation", "image_prompt_mode",
             "image_prompt_scale", "image_prompt_file", "image_prompt_urls", *_GUIDANCE)
V2_FIELDS = ("tailored_model_id", "prompt", "structured_prompt", "negative_prompt", "tailored_model_influence",
             "guidance_scale", "aspect_ratio", "steps_num", "seed", "sync", "prompt_content_moderation",
             "visual_output_content_moderation")
_TABLES = """
CREATE TABLE IF NOT EXISTS generated_images (
    id INTEGER PRIMARY KEY AUTOINCREMENT, org_id INTEGER NOT NULL, model_id INTEGER NOT NULL,
    prompt TEXT NOT NULL, seed INTEGER NOT NULL, aspect_ratio TEXT NOT NULL, variant INTEGER NOT NULL,
    ready_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS generation_requests (
    request_id TEXT PRIMARY KEY, org_id INTEGER NOT NULL, ready_at REAL NOT NULL, result TEXT NOT NULL);
"""


def ensure_tables(db: Db) -> None:
    for statement in filter(str.strip, _TABLES.split(";")):
        db.execute(statement)


def _prompt(body: dict[str, Any], field: str = "prompt", required: bool = True) -> str | None:
    value = body.get(field)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise bad_request(f"{field} is required and must be a non-empty string")
    return value


def _seed(body: dict[str, Any]) -> int:
    """The request's seed, or a random one (reported in the answer, as the API does)."""
    if body.get("seed") is None:
        return uuid.uuid4().int % 2**32
    return int_in_range(body["seed"], "seed", 0, 2**32 - 1)


def _moderate(prompt: str | None, enabled: bool, call: Call) -> None:
    words = call.config.moderation_words
    if enabled and prompt and any(word.lower() in prompt.lower() for word in words):
        raise ApiError(422, "the prompt was blocked by content moderation")


def _ready_model(db: Db, call: Call, model_id: int, *, fibo: bool) -> dict[str, Any]:
    model = owned_model(db, call.org_id, model_id)
    if (model["training_version"] == FIBO) != fibo:
        raise bad_request("this endpoint supports only models with training_version 'fibo'" if fibo else
                          "FIBO models generate through /v2/image/generate/tailored, not this endpoint")
    status = lifecycle.model_status(model, call.now)
    if status != lifecycle.COMPLETED:
        raise conflict(f"model {model_id} is {status}; only a Completed model can generate images")
    return dict(model)


def _new_image(db: Db, call: Call, model_id: int, prompt: str, seed: int, aspect_ratio: str, variant: int) -> str:
    image_id = db.insert("generated_images", {
        "org_id": call.org_id, "model_id": model_id, "prompt": prompt, "seed": seed, "aspect_ratio": aspect_ratio,
        "variant": variant, "ready_at": call.now + call.config.generation_seconds})
    return f"{call.origin}{GENERATED_ROUTE}/{image_id}.png"


def _check_v1(body: dict[str, Any]) -> tuple[int, str]:
    reject_unknown(body, V1_FIELDS)
    num_results = 1 if body.get("num_results") is None else int_in_range(body["num_results"], "num_results", 1, 4)
    aspect_ratio = one_of(body, "aspect_ratio", ASPECT_RATIOS, default="1:1") or "1:1"
    if body.get("model_influence") is not None:
        number_in_range(body["model_influence"], "model_influence", 0.0, 1.0)
    if body.get("steps_num") is not None:
        int_in_range(body["steps_num"], "steps_num", 1, 100)
    for flag in ("sync", "fast", "include_generation_prefix"):
        optional_bool(body, flag, False)
    if body.get("negative_prompt") is not None and not isinstance(body["negative_prompt"], str):
        raise bad_request("negative_prompt must be a string")
    return num_results, aspect_ratio


def text_to_image_tailored(call: Call) -> Reply:
    body = call.json()
    prompt = _prompt(body)
    num_results, aspect_ratio = _check_v1(body)
    _moderate(prompt, optional_bool(body, "content_moderation", False), call)
    seed = _seed(body)
    with call.store.transaction() as db:
        ensure_tables(db)
        model = _ready_model(db, call, call.params["id"], fibo=False)
        results = [{"urls": [_new_image(db, call, model["id"], prompt or "", seed, aspect_ratio, variant)],
                    "seed": seed, "uuid": str(uuid.uuid4())} for variant in range(num_results)]
    return Reply(200, {"result": results})


def _check_v2(body: dict[str, Any]) -> tuple[int, str | None, str | None, str]:
    reject_unknown(body, V2_FIELDS)
    raw_id = body.get("tailored_model_id")
    if isinstance(raw_id, bool) or not (isinstance(raw_id, int) or (isinstance(raw_id, str) and raw_id.isdigit())):
        raise bad_request("tailored_model_id is required (the id of a tailored model)")
    prompt = _prompt(body, required=False)
    structured = _prompt(body, "structured_prompt", required=False)
    if prompt is None and structured is None:
        raise bad_request("one of prompt or structured_prompt is required")
    if structured is not None and prompt is None and body.get("seed") is None:
        raise bad_request("a structured_prompt alone recreates an image and needs its seed")
    if body.get("tailored_model_influence") is not None:
        number_in_range(body["tailored_model_influence"], "tailored_model_influence", 0.0, 1.5)
    if body.get("guidance_scale") is not None:
        int_in_range(body["guidance_scale"], "guidance_scale", 3, 5)
    if body.get("steps_num") is not None:
        int_in_range(body["steps_num"], "steps_num", 20, 50)
    aspect_ratio = one_of(body, "aspect_ratio", ASPECT_RATIOS, default="1:1") or "1:1"
    return int(raw_id), prompt, structured, aspect_ratio


def image_generate_tailored(call: Call) -> Reply:
    body = call.json()
    model_id, prompt, structured, aspect_ratio = _check_v2(body)
    sync = optional_bool(body, "sync", False)
    _moderate(prompt, optional_bool(body, "prompt_content_moderation", True), call)
    optional_bool(body, "visual_output_content_moderation", True)
    seed = _seed(body)
    text = prompt if prompt is not None else structured or ""
    with call.store.transaction() as db:
        ensure_tables(db)
        _ready_model(db, call, model_id, fibo=True)
        url = _new_image(db, call, model_id, text, seed, aspect_ratio, 0)
        result = {"image_url": url, "seed": seed,
                  "structured_prompt": structured or json.dumps({"short_description": text}, ensure_ascii=False)}
        request_id = str(uuid.uuid4())
        if sync:
            return Reply(200, {"result": result, "request_id": request_id})
        db.execute("INSERT INTO generation_requests (request_id, org_id, ready_at, result) VALUES (?, ?, ?, ?)",
                   (request_id, call.org_id, call.now + call.config.generation_seconds, json.dumps(result)))
    return Reply(202, {"request_id": request_id, "status_url": f"{call.origin}/v2/status/{request_id}"})


def generation_status(call: Call) -> Reply:
    request_id = str(call.params["request_id"])
    with call.store.transaction() as db:
        ensure_tables(db)
        rows = db.query("SELECT * FROM generation_requests WHERE request_id = ? AND org_id = ?",
                        (request_id, call.org_id))
    if not rows:
        raise not_found("request")
    if call.now < rows[0]["ready_at"]:
        return Reply(200, {"request_id": request_id, "status": "IN_PROGRESS"})
    return Reply(200, {"request_id": request_id, "status": "COMPLETED", "result": json.loads(rows[0]["result"])})


def generated_file(db: Db, image_id: int, now: float) -> dict[str, Any] | None:
    """The stored request of a generated image, once it is ready (else None → 404)."""
    ensure_tables(db)
    rows = db.query("SELECT * FROM generated_images WHERE id = ?", (image_id,))
    if not rows or now < rows[0]["ready_at"]:
        return None
    return dict(rows[0])


V1_OPERATIONS = (
    Operation("POST", "/text-to-image/tailored/{id}", text_to_image_tailored, mutates=False),
)
V2_OPERATIONS = (
    Operation("POST", "/image/generate/tailored", image_generate_tailored, mutates=False),
    Operation("GET", "/status/{request_id}", generation_status, mutates=False),
)
