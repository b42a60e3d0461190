"""`POST /tailored-gen/generate_prefix`: a caption prefix from 1–6 sample images.

`images` are base64 images (checked like uploads: JPEG/PNG/WEBP else 415). `image_urls` are
accepted too, deterministically by their text, since the emulator fetches nothing: the same
URLs always give the same prefix. Exactly one of the two.
"""

from __future__ import annotations

from reconciler.emulator import captions
from reconciler.emulator.errors import bad_request
from reconciler.emulator.imagedata import decode_base64, inspect_image
from reconciler.emulator.projects import ILLUSTRATION_ONLY_TYPES, IP_MEDIUMS
from reconciler.emulator.routing import Call, Operation, Reply
from reconciler.emulator.validation import one_of, optional_bool, optional_str, reject_unknown

PREFIX_IP_TYPES = ("stylized_scene", "defined_character", "object_variants")
MAX_SAMPLES = 6


def _image_keys(body: dict) -> list[str]:
    images, urls = body.get("images"), body.get("image_urls")
    if (images is None) == (urls is None):
        raise bad_request("send exactly one of images or image_urls")
    samples = images if images is not None else urls
    if not isinstance(samples, list) or not 1 <= len(samples) <= MAX_SAMPLES:
        raise bad_request(f"send between 1 and {MAX_SAMPLES} images")
    if urls is not None:
        if not all(isinstance(url, str) and url.startswith(("http://", "https://")) for url in urls):
            raise bad_request("image_urls must be http(s) URLs")
        return list(urls)
    return [inspect_image(decode_base64(image, "images[]")).sha256 for image in images]


def generate_prefix(call: Call) -> Reply:
    body = call.json()
    reject_unknown(body, ("images", "image_urls", "ip_type", "ip_medium", "ip_name", "content_moderation"))
    ip_type = body.get("ip_type")
    if ip_type not in PREFIX_IP_TYPES:
        raise bad_request(f"generate_prefix supports only ip_type {', '.join(PREFIX_IP_TYPES)}")
    ip_medium = one_of(body, "ip_medium", IP_MEDIUMS)
    if ip_medium is None:
        raise bad_request("ip_medium is required")
    # Not stated for generate_prefix; the project rule applies, since the prefix is for a
    # project of this ip_type and ip_medium (object_variants exists only as illustration).
    if ip_type in ILLUSTRATION_ONLY_TYPES and ip_medium != "illustration":
        raise bad_request(f"ip_type {ip_type} requires ip_medium illustration")
    ip_name = optional_str(body, "ip_name")
    optional_bool(body, "content_moderation", False)
    keys = _image_keys(body)
    return Reply(200, {"prefix": captions.generated_prefix(keys, ip_type, ip_medium, ip_name)})


OPERATIONS = (
    Operation("POST", "/tailored-gen/generate_prefix", generate_prefix, mutates=False),
)
