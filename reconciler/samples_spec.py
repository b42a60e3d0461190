"""A model's `samples:` block: the prompts and seeds `bria sample` generates with it.

Generation is not a managed resource (nothing is planned, nothing is recorded in state),
so the block is not part of the manifest digest: editing it never makes a saved plan stale.

Fields map onto the generation endpoint that fits the model (see `api_fields`): the v1
tailored text-to-image endpoint for legacy models, the v2 tailored endpoint for FIBO ones.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from reconciler.model import SamplesSpec

FIBO = "fibo"
# manifest field → (v1 field, v2 field); None: the endpoint has no such field.
_FIELD_NAMES: dict[str, tuple[str | None, str | None]] = {
    "negative_prompt": ("negative_prompt", "negative_prompt"),
    "influence": ("model_influence", "tailored_model_influence"),
    "steps": ("steps_num", "steps_num"),
    "guidance_scale": (None, "guidance_scale"),
    "fast": ("fast", None),
    "include_generation_prefix": ("include_generation_prefix", None),
}
_LEGACY_MAX_INFLUENCE = 1.0
_STEPS_RANGE = {False: (1, 100), True: (20, 50)}


def samples_spec(block: Mapping[str, Any] | None) -> SamplesSpec | None:
    """The spec of a schema-checked `samples:` block (None when there is none)."""
    if not block:
        return None
    options = {name: block[name] for name in _FIELD_NAMES if name in block}
    if "content_moderation" in block:
        options["content_moderation"] = block["content_moderation"]
    return SamplesSpec(prompts=tuple(block["prompts"]), seeds=tuple(block.get("seeds") or (1,)),
                       count=int(block.get("count", 1)), aspect_ratio=block.get("aspect_ratio", "1:1"),
                       options=options)


def check_samples(block: Mapping[str, Any], training_version: str,
                  fail: Callable[[tuple[str, ...], str], None]) -> None:
    """Family rules the schema cannot express; `fail(field path under samples, message)`."""
    fibo = training_version == FIBO
    family = "FIBO" if fibo else f"{training_version} (legacy)"
    for name, (v1, v2) in _FIELD_NAMES.items():
        if name in block and (v2 if fibo else v1) is None:
            fail((name,), f"{name} is not a generation parameter for {family} models")
    if not fibo and block.get("influence", 0) > _LEGACY_MAX_INFLUENCE:
        fail(("influence",), f"influence must be at most {_LEGACY_MAX_INFLUENCE:g} for legacy models "
             "(up to 1.5 only for FIBO models)")
    low, high = _STEPS_RANGE[fibo]
    if "steps" in block and not low <= block["steps"] <= high:
        fail(("steps",), f"steps must be between {low} and {high} for {family} models")
    if fibo and block.get("count", 1) != 1:
        fail(("count",), "FIBO models generate one image per prompt and seed: count must be 1")
    if len(set(block.get("prompts") or ())) != len(block.get("prompts") or ()):
        fail(("prompts",), "the same prompt is listed twice")
    if len(set(block.get("seeds") or ())) != len(block.get("seeds") or ()):
        fail(("seeds",), "the same seed is listed twice")


def api_fields(spec: SamplesSpec, training_version: str) -> dict[str, Any]:
    """The request fields (besides prompt and seed) for the model's endpoint."""
    fibo = training_version == FIBO
    fields: dict[str, Any] = {"aspect_ratio": spec.aspect_ratio}
    if not fibo:
        fields["num_results"] = spec.count
    for name, value in spec.options.items():
        if name == "content_moderation":
            if fibo:
                fields["prompt_content_moderation"] = fields["visual_output_content_moderation"] = value
            else:
                fields["content_moderation"] = value
            continue
        api_name = _FIELD_NAMES[name][1 if fibo else 0]
        if api_name is not None:
            fields[api_name] = value
    return fields
