"""The hand-written comparison for bria's apply: a plain asyncio + httpx script doing the
same API work (create a project and a dataset, upload every image with N in flight, complete
the dataset, create a model and start its training), with no planning, state or journal.

`python -m benchmarks.asyncio_baseline BASE_URL IMAGE_FOLDER IN_FLIGHT` (token from
BRIA_API_TOKEN). What bria costs beyond this script is the price of its safety.
"""

from __future__ import annotations

import asyncio
import base64
import os
import sys
from pathlib import Path

import httpx


async def main(base_url: str, folder: Path, in_flight: int) -> None:
    headers = {"api_token": os.environ["BRIA_API_TOKEN"]}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=60) as http:
        project = (await http.post("/tailored-gen/projects", json={
            "project_name": "Baseline", "ip_type": "other", "ip_medium": "photography"})).json()
        dataset = (await http.post("/tailored-gen/datasets", json={"project_id": project["id"],
                                                                   "name": "set"})).json()
        slots = asyncio.Semaphore(in_flight)

        async def upload(path: Path) -> None:
            async with slots:
                body = {"file": base64.b64encode(path.read_bytes()).decode(), "image_name": path.name}
                (await http.post(f"/tailored-gen/datasets/{dataset['id']}/images", json=body)).raise_for_status()

        await asyncio.gather(*(upload(p) for p in sorted(folder.glob("*.jpg"))))
        (await http.put(f"/tailored-gen/datasets/{dataset['id']}", json={"status": "completed"})).raise_for_status()
        model = (await http.post("/tailored-gen/models", json={
            "name": "baseline", "dataset_id": dataset["id"], "training_version": "light"})).json()
        (await http.post(f"/tailored-gen/models/{model['id']}/start_training")).raise_for_status()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])))
