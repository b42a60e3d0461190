"""The cold-hashing comparison: single-threaded `hashlib.sha256` over files, 1 MiB reads.

`python -m benchmarks.hashlib_baseline FILE...` (or `@LISTFILE`, one path a line). A cold
`bria plan` hashes the same files on a thread pool and should beat this.
"""

from __future__ import annotations

import hashlib
import sys


def main(paths: list[str]) -> None:
    for path in paths:
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)


if __name__ == "__main__":
    args = sys.argv[1:]
    if len(args) == 1 and args[0].startswith("@"):
        args = open(args[0][1:]).read().split("\n")[:-1]
    main(args)
