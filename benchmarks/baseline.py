"""Scenario c: the vendor guide's way — one image at a time with a 500 ms pause.

`python -m benchmarks.baseline BASE_URL IMAGE_FOLDER` (token from BRIA_API_TOKEN). Plain
synchronous httpx, no reconciler code: the comparison point for bria's parallel apply.
"""

from __future__ import annotations

import base64
import os
import sys
import time
from pathlib import Path

import httpx


def main(base_url: str, folder: Path) -> None:
    headers = {"api_token": os.environ["BRIA_API_TOKEN"]}
    with httpx.Client(base_url=base_url, headers=headers, timeout=60) as http:
        project = http.post("/tailored-gen/projects", json={
            "project_name": "Baseline", "ip_type": "other", "ip_medium": "photography"}).json()
        dataset = http.post("/tailored-gen/datasets", json={"project_id": project["id"], "name": "set"}).json()
        for path in sorted(folder.glob("*.jpg")):
            body = {"file": base64.b64encode(path.read_bytes()).decode(), "image_name": path.name}
            http.post(f"/tailored-gen/datasets/{dataset['id']}/images", json=body).raise_for_status()
            time.sleep(0.5)
        http.put(f"/tailored-gen/datasets/{dataset['id']}", json={"status": "completed"}).raise_for_status()
        model = http.post("/tailored-gen/models", json={"name": "baseline", "dataset_id": dataset["id"],
                                                        "training_version": "light"}).json()
        http.post(f"/tailored-gen/models/{model['id']}/start_training").raise_for_status()


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
