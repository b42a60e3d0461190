"""Each image is hashed once per run: an upload trusts the hash this process made if the file
is still the one it hashed (device, inode, size, mtime, ctime), and hashes it otherwise."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

from fixtures_emulator import make_png

from reconciler.images import HashCache, inspect_images, unchanged_since_hashed


def test_a_file_hashed_this_run_is_trusted_until_it_changes(tmp_path: Path) -> None:
    path = tmp_path / "a.png"
    path.write_bytes(make_png(256, 256, 1))
    [info] = inspect_images([path], HashCache(None))
    assert info.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert unchanged_since_hashed(path, info.sha256) is True
    assert unchanged_since_hashed(path, "0" * 64) is None          # another content: hash it
    # Same size, same mtime, other bytes: only the inode's change time shows it.
    st = path.stat()
    time.sleep(0.01)
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert unchanged_since_hashed(path, info.sha256) is False


def test_a_cache_hit_is_not_a_hash_made_this_run(tmp_path: Path) -> None:
    """The cache trusts size and mtime across runs, which a rewrite can keep: a file known only
    from the cache must be hashed by its upload (None here)."""
    path = tmp_path / "b.png"
    path.write_bytes(make_png(256, 256, 2))
    cache = HashCache(tmp_path / "cache.json")
    [first] = inspect_images([path], cache)
    cache.save()
    other_run = subprocess.run([sys.executable, "-c", (
        "import sys; from pathlib import Path\n"
        "from reconciler.images import HashCache, inspect_images, unchanged_since_hashed\n"
        "cache = HashCache(Path(sys.argv[2]))\n"
        "[info] = inspect_images([Path(sys.argv[1])], cache)\n"
        "print(cache.stats.bytes_hashed, unchanged_since_hashed(Path(sys.argv[1]), info.sha256))"),
        str(path), str(tmp_path / "cache.json")], capture_output=True, text=True, check=True)
    assert other_run.stdout.split() == ["0", "None"]
