"""The cold-hashing comparison: single-threaded `hashlib.sha256` over files, 1 MiB reads.

`python -m benchmarks.hashlib_baseline FILE...` (or `@LISTFILE`, one path a line). What it
includes: starting Python (~20 ms), then for each file open, read, sha256 — nothing else (no
stat, no image check, no caption, no output). A cold `bria plan` reads the same files on a
thread pool — and also starts the CLI, parses and checks the manifest, checks every image's
format and integrity, reads captions, writes its hash cache, reads the state, asks the API
and plans — and should still beat this.
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
