"""`BriaClient`: typed async calls to Bria's Tailored Generation API, in one of its
dialects (`reconciler.api.dialects`: legacy, mixed, fibo).

Every method returns the API's JSON (dicts and lists) or None for a 204, and raises an
`errors.ApiError` subclass on failure. Request execution (pacing, retries, the rules on
non-idempotent calls) lives in `transport.py`; this module only names the calls.

The token is sent in the `api_token` header and never appears in `repr(client)`, in log
lines or in error messages.
"""

from __future__ import annotations

import random
import ssl
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx

from reconciler import __version__
from reconciler.api import bodies, dialects, errors, network, redaction
from reconciler.api.checkpoints import CheckpointCalls
from reconciler.api.generation import GenerationCalls
from reconciler.api.pacing import AdaptivePacer, PacingConfig
from reconciler.api.transport import ClientStats, RequestExecutor, RequestSpec, RetryPolicy

PRODUCTION_BASE_URL = "https://engine.prod.bria-api.com/v1"
USER_AGENT = f"bria/{__version__}"
_DEFAULT_CONNECT_TIMEOUT = 10.0
# Reads and small writes answer within seconds; 30 s without a byte means something is stuck.
DEFAULT_TIMEOUT = 30.0
# Uploads send up to ~16 MB of base64 and generate_prefix has the server look at images.
SLOW_CALL_TIMEOUT = 120.0


def _build_timeout(timeout: float | httpx.Timeout) -> httpx.Timeout:
    """A float sets read/write/pool to it and connect to at most 10 s; pass an
    `httpx.Timeout` to set each of connect/read/write/pool yourself."""
    if isinstance(timeout, httpx.Timeout):
        return timeout
    return httpx.Timeout(timeout, connect=min(timeout, _DEFAULT_CONNECT_TIMEOUT))


INVALID_TOKEN_MESSAGE = (
    "the API token contains a space, a control character or a non-ASCII character (a stray "
    "newline from copying it?); it cannot be sent in an HTTP header. Its value is not shown."
)


def is_sendable_token(token: str) -> bool:
    """Whether `token` can travel in an HTTP header as it is: printable ASCII without spaces
    (a real token never has any; a header library would reject, or worse quote, the rest)."""
    return all("!" <= char <= "~" for char in token)


def _present(**fields: Any) -> dict[str, Any]:
    """The given fields without the ones left as None (a partial update)."""
    return {name: value for name, value in fields.items() if value is not None}


def _tls_verification(base_url: str) -> bool | ssl.SSLContext:
    """Default verification for https. A plain-http endpoint (the emulator on loopback) never
    does TLS, so it gets a context that trusts nothing instead of loading the CA bundle
    (~30 ms of CPU): were TLS ever attempted with it, it would fail, never pass unverified."""
    if base_url.lower().startswith("http://"):
        return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    return True


class BriaClient(GenerationCalls, CheckpointCalls):
    """Async client; use as `async with BriaClient(...) as client:` or call `aclose()`.

    An empty `token` sends no `api_token` header at all (the API answers 401). A token that
    cannot be sent in a header raises `errors.InvalidToken` here, before any request.
    """

    def __init__(
        self,
        base_url: str = PRODUCTION_BASE_URL,
        token: str = "",
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        slow_timeout: float | httpx.Timeout = SLOW_CALL_TIMEOUT,
        max_retries: int = 6,
        max_concurrency: int = 8,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        pacing: PacingConfig | None = None,
        rng: random.Random | None = None,
        dialect: str = dialects.LEGACY,
    ) -> None:
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        if not is_sendable_token(token):
            raise errors.InvalidToken(INVALID_TOKEN_MESSAGE)
        self.base_url = base_url.rstrip("/")
        self._download_transport = transport     # generated files are fetched without the token
        self.dialect = dialects.check_dialect(dialect)
        self._token = token
        redaction.register_secret(token)
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
        if token:
            headers["api_token"] = token
        verify = _tls_verification(self.base_url)
        if transport is None:
            transport = network.AsyncioHTTPTransport(verify=verify)
        self._http = httpx.AsyncClient(
            base_url=self.base_url, headers=headers, transport=transport,
            timeout=_build_timeout(timeout), follow_redirects=False,
            verify=verify,          # for the transports httpx mounts for proxies set in the environment
        )
        self._slow_timeout = _build_timeout(slow_timeout)
        self.stats = ClientStats()
        self.pacer = AdaptivePacer(pacing)
        self._executor = RequestExecutor(
            self._http,
            policy=RetryPolicy(max_retries, backoff_base, backoff_cap),
            pacer=self.pacer, max_concurrency=max_concurrency, stats=self.stats, rng=rng,
        )
        self._closed = False

    def __repr__(self) -> str:
        return f"BriaClient(base_url={self.base_url!r})"

    async def __aenter__(self) -> BriaClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            await self._http.aclose()
            redaction.unregister_secret(self._token)

    async def _call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        body: bodies.StreamedBody | None = None,
        idempotent: bool | None = None,
        expect: type | None = dict,
        slow: bool = False,
    ) -> Any:
        """`expect`: the JSON type the call answers (dict, list) or None (any, or no body)."""
        if idempotent is None:
            idempotent = method != "POST"
        spec = RequestSpec(method, path, idempotent, json=json, params=params, body=body, expect=expect,
                           timeout=self._slow_timeout if slow else None)
        return await self._executor.execute(spec)

    async def endpoint_exists(self, method: str, path: str, *, read_only: bool = True) -> bool | None:
        """Whether the API has the endpoint `method path`, without creating anything.

        `read_only`: ask with a GET — 405 (wrong method) means the path exists, 404 that it
        does not; None when the answer says neither (a server that answers 404 for every
        wrong method looks like that). Otherwise ask with `method` and an empty JSON body
        that no endpoint accepts: 404 → absent; a refusal of the body (400/409/412/415/422)
        → present. Other errors are raised."""
        try:
            if read_only:
                await self._call("GET", path, expect=None)
            else:
                await self._call(method, path, json={}, idempotent=True, expect=None)
        except errors.NotFound:
            return None if read_only else False
        except (errors.ValidationError, errors.Conflict, errors.PreconditionFailed):
            return True
        except errors.ApiError as exc:
            if exc.status == 405:
                return True
            raise
        return True

    # Projects ---------------------------------------------------------------------------

    async def list_projects(self) -> list[dict[str, Any]]:
        return await self._call("GET", "/tailored-gen/projects", expect=list)

    async def get_project(self, project_id: int) -> dict[str, Any]:
        return await self._call("GET", f"/tailored-gen/projects/{int(project_id)}")

    async def create_project(self, **fields: Any) -> dict[str, Any]:
        """Fields as the API names them: project_name, ip_type, ip_medium, … (and, in the
        mixed dialect only, training_version, which locks the project to a family)."""
        if fields.get("training_version") is not None and self.dialect != dialects.MIXED:
            raise dialects.DialectError(f"the {self.dialect} dialect has no training_version on projects")
        return await self._call("POST", "/tailored-gen/projects", json=_present(**fields))

    async def update_project(self, project_id: int, **fields: Any) -> dict[str, Any]:
        """Only project_name, project_description, ip_name, ip_description may change."""
        return await self._call(
            "PUT", f"/tailored-gen/projects/{int(project_id)}", json=_present(**fields)
        )

    async def delete_project(self, project_id: int) -> None:
        await self._call("DELETE", f"/tailored-gen/projects/{int(project_id)}", expect=None)

    async def list_project_datasets(self, project_id: int) -> list[dict[str, Any]]:
        return await self._call("GET", f"/tailored-gen/projects/{int(project_id)}/datasets", expect=list)

    async def list_project_models(self, project_id: int) -> list[dict[str, Any]]:
        return await self._call("GET", f"/tailored-gen/projects/{int(project_id)}/models", expect=list)

    # Datasets ---------------------------------------------------------------------------

    async def list_datasets(self) -> list[dict[str, Any]]:
        return await self._call("GET", "/tailored-gen/datasets", expect=list)

    async def get_dataset(self, dataset_id: int, max_images: int | None = None) -> dict[str, Any]:
        params = None if max_images is None else {"max_images": int(max_images)}
        return await self._call("GET", f"/tailored-gen/datasets/{int(dataset_id)}", params=params)

    async def create_dataset(self, project_id: int, name: str, *, family: str | None = None) -> dict[str, Any]:
        """A dataset of `family` (`legacy` or `fibo`; None = the dialect's only family, or
        legacy in the mixed dialect). The mixed dialect always gets an explicit
        training_version; the others get none."""
        family = family or dialects.families(self.dialect)[0]
        dialects.require_family(self.dialect, family, "this dataset")
        payload: dict[str, Any] = {"project_id": int(project_id), "name": name}
        if self.dialect == dialects.MIXED:
            payload["training_version"] = "fibo" if family == dialects.FIBO_FAMILY else dialects.LEGACY_DATASET_VERSION
        return await self._call("POST", "/tailored-gen/datasets", json=payload)

    async def update_dataset(
        self,
        dataset_id: int,
        *,
        name: str | None = None,
        caption_prefix: str | None = None,
        visual_schema: str | None = None,
        status: str | None = None,
    ) -> dict[str, Any]:
        """`caption_prefix` (legacy datasets) and `visual_schema` (a JSON string, FIBO
        datasets) change only while the dataset is a draft."""
        if caption_prefix is not None:
            dialects.require_family(self.dialect, dialects.LEGACY_FAMILY, "caption_prefix")
        if visual_schema is not None:
            dialects.require_family(self.dialect, dialects.FIBO_FAMILY, "visual_schema")
        fields = _present(name=name, caption_prefix=caption_prefix, visual_schema=visual_schema, status=status)
        return await self._call("PUT", f"/tailored-gen/datasets/{int(dataset_id)}", json=fields)

    async def delete_dataset(self, dataset_id: int) -> None:
        await self._call("DELETE", f"/tailored-gen/datasets/{int(dataset_id)}", expect=None)

    async def clone_dataset(self, dataset_id: int, name: str | None = None) -> dict[str, Any]:
        return await self._call(
            "POST", f"/tailored-gen/datasets/{int(dataset_id)}/clone", json=_present(name=name)
        )

    # Images -----------------------------------------------------------------------------

    def _images_path(self, dataset_id: int, image_id: int | None = None) -> str:
        path = f"/tailored-gen/datasets/{int(dataset_id)}/images"
        return path if image_id is None else f"{path}/{int(image_id)}"

    async def list_images(self, dataset_id: int) -> list[dict[str, Any]]:
        return await self._call("GET", self._images_path(dataset_id), expect=list)

    async def get_image(self, dataset_id: int, image_id: int) -> dict[str, Any]:
        return await self._call("GET", self._images_path(dataset_id, image_id))

    async def upload_image(
        self,
        dataset_id: int,
        path: str | Path,
        *,
        image_name: str | None = None,
        increase_resolution: bool = True,
        sha256: str | None = None,
    ) -> dict[str, Any]:
        """Upload a local image file, streaming its base64 JSON body from disk.

        Raises OSError before any request if the file cannot be stat'ed, and
        `bodies.ImageFileError` if it cannot be read (or changes size) while sending. With
        `sha256` (the content the caller planned), bytes that hash otherwise raise
        `bodies.ImageChanged` before the request completes, so the API never receives them.
        """
        body = bodies.upload_body(
            Path(path), image_name=image_name, increase_resolution=increase_resolution, sha256=sha256
        )
        return await self._call("POST", self._images_path(dataset_id), body=body, slow=True)

    async def set_image_caption(self, dataset_id: int, image_id: int, caption: str) -> dict[str, Any]:
        return await self._call(
            "PUT", self._images_path(dataset_id, image_id), json={"caption": caption}
        )

    async def regenerate_image_caption(self, dataset_id: int, image_id: int) -> dict[str, Any]:
        return await self._call(
            "PUT", self._images_path(dataset_id, image_id), json={"regenerate_caption": True}
        )

    async def regenerate_all_captions(self, dataset_id: int) -> Any:
        """Starts regeneration (202); poll `get_dataset` until captions_update_status is
        "completed"."""
        return await self._call("PUT", self._images_path(dataset_id), expect=None)

    async def delete_image(self, dataset_id: int, image_id: int) -> None:
        await self._call("DELETE", self._images_path(dataset_id, image_id), expect=None)

    # Caption prefix ---------------------------------------------------------------------

    async def generate_prefix(
        self,
        paths: Sequence[str | Path],
        *,
        ip_type: str,
        ip_medium: str,
        ip_name: str | None = None,
    ) -> str:
        """A caption prefix from 1–6 images. It has no side effect, so it is retried."""
        dialects.require_family(self.dialect, dialects.LEGACY_FAMILY, "generate_prefix")
        payload = _present(
            images=bodies.encode_images([Path(p) for p in paths]),
            ip_type=ip_type, ip_medium=ip_medium, ip_name=ip_name,
        )
        result = await self._call(
            "POST", "/tailored-gen/generate_prefix", json=payload, idempotent=True, slow=True
        )
        prefix = result.get("prefix")
        if not isinstance(prefix, str):
            # The response field is undocumented (callers read `prefix`): say so, never KeyError.
            raise errors.UnexpectedResponse(
                "generate_prefix answered without a text `prefix` field (fields: "
                f"{', '.join(sorted(map(str, result))) or 'none'})",
                method="POST", path="/tailored-gen/generate_prefix")
        return prefix

    async def generate_visual_schema(self, paths: Sequence[str | Path]) -> str:
        """A visual schema (a JSON string) from 5–10 images. No side effect, so retried."""
        dialects.require_family(self.dialect, dialects.FIBO_FAMILY, "generate_visual_schema")
        count = len(paths)
        if not dialects.MIN_SCHEMA_IMAGES <= count <= dialects.MAX_SCHEMA_IMAGES:
            raise ValueError(f"generate_visual_schema takes {dialects.MIN_SCHEMA_IMAGES} to "
                             f"{dialects.MAX_SCHEMA_IMAGES} images, got {count}")
        payload = {"images": bodies.encode_images([Path(p) for p in paths], limit=dialects.MAX_SCHEMA_IMAGES)}
        result = await self._call(
            "POST", "/tailored-gen/generate_visual_schema", json=payload, idempotent=True, slow=True
        )
        schema = result.get("visual_schema")
        if not isinstance(schema, str):
            raise errors.UnexpectedResponse(
                "generate_visual_schema answered without a text `visual_schema` field (fields: "
                f"{', '.join(sorted(map(str, result))) or 'none'})", method="POST",
                path="/tailored-gen/generate_visual_schema")
        return schema

    # Models -----------------------------------------------------------------------------

    async def list_models(self) -> list[dict[str, Any]]:
        return await self._call("GET", "/tailored-gen/models", expect=list)

    async def get_model(self, model_id: int) -> dict[str, Any]:
        return await self._call("GET", f"/tailored-gen/models/{int(model_id)}")

    async def create_model(
        self,
        *,
        name: str,
        dataset_id: int,
        training_version: str | None,
        training_mode: str,
        description: str | None = None,
    ) -> dict[str, Any]:
        """`training_version`: a legacy version (light, max, bria-2.3, bria-3.2), or `fibo`
        / None for a FIBO model — sent only where the dialect has the field (not in fibo)."""
        family = dialects.model_family(training_version)
        dialects.require_family(self.dialect, family, "this model")
        sent_version = None if self.dialect == dialects.FIBO else training_version
        payload = _present(
            name=name, dataset_id=int(dataset_id), training_version=sent_version,
            training_mode=training_mode, description=description,
        )
        return await self._call("POST", "/tailored-gen/models", json=payload)

    async def update_model(
        self, model_id: int, *, name: str | None = None, description: str | None = None
    ) -> dict[str, Any]:
        fields = _present(name=name, description=description)
        return await self._call("PUT", f"/tailored-gen/models/{int(model_id)}", json=fields)

    async def delete_model(self, model_id: int) -> None:
        await self._call("DELETE", f"/tailored-gen/models/{int(model_id)}", expect=None)

    async def start_training(
        self, model_id: int, parameters: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Start training; `parameters` only for expert models. A lost response raises
        OutcomeUnknown (training may have started)."""
        return await self._call(
            "POST", f"/tailored-gen/models/{int(model_id)}/start_training",
            json=dict(parameters or {}),
        )

    async def stop_training(self, model_id: int) -> dict[str, Any]:
        return await self._call("POST", f"/tailored-gen/models/{int(model_id)}/stop_training")

    async def download_model(self, model_id: int) -> dict[str, Any]:
        return await self._call("GET", f"/tailored-gen/models/{int(model_id)}/download")

