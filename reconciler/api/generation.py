"""Generation calls (mixed into `BriaClient`): the endpoint that fits the model's family,
the v2 status service, and downloading the generated files.

- legacy models (light, max, bria-2.3, bria-3.2): `POST {v1}/text-to-image/tailored/{id}`,
  sent with `sync: true` as Bria's own ComfyUI node does; the answer's
  `result[i].urls[0]` are the images.
- FIBO models: `POST {v2}/image/generate/tailored` (v2 = the v1 base URL with its last
  `/v1` replaced by `/v2`), async by default: the 202's `status_url` is polled until
  `COMPLETED` (or `ERROR`/`UNKNOWN` → `GenerationFailed`). The image URL is read from
  `result.image_url` or a top-level `image_url` (the docs show both shapes).

Generation costs credits and has no idempotency key, so a generation POST is not retried
after it may have reached the server (the transport's non-idempotent rules); a synchronous
generation takes a while, so it gets the client's slow-call timeout. Polls and
downloads are reads. Downloads go to storage URLs, not the API: they never carry the
`api_token` header, and are not paced by the API's per-endpoint limits.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Mapping

import httpx

from reconciler.api import errors

FIBO = "fibo"
_DOWNLOAD_ATTEMPTS = 3


class GenerationFailed(errors.ApiError):
    """The status service reported that a generation request failed or is unknown."""


@dataclass(frozen=True)
class GeneratedImage:
    url: str
    seed: int | None


def v2_base_url(base_url: str) -> str:
    """`https://engine.prod.bria-api.com/v1` → `https://engine.prod.bria-api.com/v2`."""
    head, sep, tail = base_url.rstrip("/").rpartition("/v1")
    return f"{head}/v2{tail}" if sep else base_url.rstrip("/") + "/v2"


class _BorrowedTransport(httpx.AsyncBaseTransport):
    """The client's transport, used for downloads but never closed by them."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._inner.handle_async_request(request)


class GenerationCalls:
    """Needs from the host class: `base_url`, `_call(method, path, json=..., idempotent=...)`
    and `_download_transport` (the transport given to the client, or None)."""

    base_url: str
    _download_transport: httpx.AsyncBaseTransport | None

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:  # provided by BriaClient
        raise NotImplementedError

    async def generate_legacy(self, model_id: int, fields: Mapping[str, Any]) -> list[GeneratedImage]:
        """v1 tailored text-to-image; `fields` as the API names them (prompt, seed,
        num_results, aspect_ratio, …). One GeneratedImage per result."""
        body = {**fields, "sync": True}
        answer = await self._call("POST", f"/text-to-image/tailored/{int(model_id)}", json=body, idempotent=False,
                                  slow=True)
        images = []
        for entry in (answer or {}).get("result") or ():
            urls = entry.get("urls") or ([entry["image_url"]] if entry.get("image_url") else [])
            images.extend(GeneratedImage(str(url), entry.get("seed")) for url in urls)
        return images

    async def generate_fibo(self, model_id: int, fields: Mapping[str, Any], *, sync: bool = False,
                            poll_interval: float = 1.0, timeout: float = 600.0) -> GeneratedImage:
        """v2 tailored generation; polls the status URL unless `sync`."""
        body = {**fields, "tailored_model_id": str(int(model_id)), "sync": sync}
        answer = await self._call("POST", f"{v2_base_url(self.base_url)}/image/generate/tailored",
                                  json=body, idempotent=False, slow=True) or {}
        if "status_url" in answer and "result" not in answer and "image_url" not in answer:
            answer = await self._poll(str(answer["status_url"]), poll_interval, timeout)
        return _image_of(answer)

    async def _poll(self, status_url: str, interval: float, timeout: float) -> dict[str, Any]:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            status = await self._call("GET", status_url, idempotent=True) or {}
            state = str(status.get("status", "")).upper()
            if state == "COMPLETED":
                return status
            if state in ("ERROR", "FAILED", "UNKNOWN"):
                raise GenerationFailed(f"generation request ended {state} {status.get('error') or ''}".strip(),
                                       status=200, method="GET", path=_no_query(status_url))
            if asyncio.get_running_loop().time() > deadline:
                raise GenerationFailed(f"generation still {state or 'pending'} after {timeout:g} s",
                                       status=200, method="GET", path=_no_query(status_url))
            await asyncio.sleep(interval)

    async def download_generated(self, url: str) -> bytes:
        """The bytes at a generated image's URL (no API token is sent)."""
        transport = _BorrowedTransport(self._download_transport) if self._download_transport else None
        last: Exception | None = None
        async with httpx.AsyncClient(transport=transport, timeout=60.0, follow_redirects=True) as http:
            for attempt in range(_DOWNLOAD_ATTEMPTS):
                try:
                    response = await http.get(url)
                except httpx.TransportError as exc:
                    last = exc
                else:
                    if response.status_code == 200:
                        return response.content
                    last = errors.ApiError("could not download a generated image", status=response.status_code,
                                           method="GET", path=_no_query(url))
                    if response.status_code not in (404, 429) and response.status_code < 500:
                        break     # 404: not ready yet (async v1); 429/5xx: transient
                await asyncio.sleep(0.5 * (attempt + 1))
        raise last if isinstance(last, errors.ApiError) else errors.TransportError(
            f"could not download a generated image: {type(last).__name__}")


def _image_of(answer: Mapping[str, Any]) -> GeneratedImage:
    result = answer.get("result") if isinstance(answer.get("result"), Mapping) else answer
    url = result.get("image_url")
    if not url:
        raise GenerationFailed("the generation answer holds no image_url", status=200, method="POST",
                               path="/image/generate/tailored")
    return GeneratedImage(str(url), result.get("seed"))


def _no_query(url: str) -> str:
    """A URL without its query: a pre-signed URL's signature stays out of messages."""
    return url.split("?", 1)[0]
