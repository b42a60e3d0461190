"""The cold-hashing comparison: single-threaded `hashlib.sha256` over files, 1 MiB reads.

`python -m benchmarks.hashlib_baseline [--threads N] FILE...` (or `@LISTFILE`, one path a
line). What it
includes: starting Python (~20 ms), then for each file open, read, sha256 — nothing else (no
stat, no image check, no caption, no output). A cold `bria plan` reads the same files on
worker processes, one per CPU — and also starts the CLI, parses and checks the manifest, checks every image's
format and integrity, reads captions, writes its hash cache, reads the state, asks the API
and plans — and should still beat this.
"""

from __future__ import annotations

import hashlib
import sys
import threading


def main(paths: list[str]) -> None:
    for path in paths:
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)


def on_threads(paths: list[str], count: int) -> None:
    """The same work split over `count` threads (hashlib and reads release the GIL): not the
    bound, but what this machine's free cores allowed at that moment."""
    threads = [threading.Thread(target=main, args=(paths[i::count],)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


if __name__ == "__main__":
    args = sys.argv[1:]
    threads = 1
    if args[:1] == ["--threads"]:
        threads, args = int(args[1]), args[2:]
    if len(args) == 1 and args[0].startswith("@"):
        args = open(args[0][1:]).read().split("\n")[:-1]
    main(args) if threads == 1 else on_threads(args, threads)
