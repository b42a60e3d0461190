"""Cold reads on forked worker processes (`reconciler.image_workers`): every image is still
read once and checked exactly as on the thread pool, nothing is lost when a worker dies, and
no worker outlives the load. Each case runs in a fresh interpreter: a worker is forked only
from a process with no other thread, which a test process cannot promise."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from fixtures_manifest import image_bytes, write_image, write_many_pngs

from reconciler.image_cache import HashCache
from reconciler.manifest import load_manifest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux") or len(os.sched_getaffinity(0)) < 2,
                                reason="worker processes are forked on Linux with 2+ CPUs only")

ROOT = Path(__file__).resolve().parent.parent

MANIFEST = """\
version: 1
projects:
  p: {name: P, ip_type: other, ip_medium: illustration}
datasets:
  jpegs: {project: p, name: J, images: [{folder: jpegs}]}
  pngs: {project: p, name: P, images: [{folder: pngs}]}
"""

# Loads the manifest cold, logging (pid, path) for every file a read batch opens.
LOAD = """
import json, os, sys
from pathlib import Path
from reconciler import images
from reconciler.image_cache import HashCache
from reconciler.manifest import load_manifest

log = sys.argv[2]
real = images._read_sent_batch
def logged(batch):
    with open(log, "a") as out:
        out.write("".join(f"{os.getpid()} {path}\\n" for path, _ in batch))
    return real(batch)
images._read_sent_batch = logged
cache = HashCache(None)
manifest, diagnostics = load_manifest(Path(sys.argv[1]), hash_cache=cache)
try:
    os.waitpid(-1, os.WNOHANG)
    leftover = True
except ChildProcessError:
    leftover = False
found = ({k: [[i.rel_path, i.sha256, i.width, i.height, i.format, i.caption] for i in d.images]
          for k, d in manifest.datasets.items()} if manifest else None)
print(json.dumps({"pid": os.getpid(), "diagnostics": [str(d) for d in diagnostics], "images": found,
                  "stats": [cache.stats.misses, cache.stats.hits, cache.stats.bytes_hashed],
                  "leftover_children": leftover}))
"""


def _run(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=60,
                          cwd=ROOT, check=False)


def _load_on_workers(manifest: Path, log: Path) -> dict:
    done = _run(LOAD, str(manifest), str(log))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _images(manifest: Path) -> dict | None:
    """The same load in this process, on the thread pool (the reference)."""
    from reconciler import images

    images._pool().submit(lambda: None).result()        # a thread runs: no fork from here
    loaded, diagnostics = load_manifest(manifest, hash_cache=HashCache(None))
    return ({k: [[i.rel_path, i.sha256, i.width, i.height, i.format, i.caption] for i in d.images]
             for k, d in loaded.datasets.items()} if loaded else None), [str(d) for d in diagnostics]


def _write_inputs(root: Path) -> int:
    for i in range(70):
        write_image(root / "jpegs" / f"j{i:03d}.jpg", 300 + i, 320, "JPEG")
    (root / "jpegs" / "j005.txt").write_text("a sidecar caption\n")
    write_many_pngs(root / "pngs", 90)
    (root / "bria.yaml").write_text(MANIFEST)
    return 160


def test_a_cold_load_reads_every_image_once_on_worker_processes(tmp_path: Path) -> None:
    count = _write_inputs(tmp_path)
    log = tmp_path / "reads.log"
    result = _load_on_workers(tmp_path / "bria.yaml", log)
    reads = [line.split(" ", 1) for line in log.read_text().splitlines()]
    assert Counter(path for _, path in reads) == Counter(
        str(p) for p in (tmp_path / "jpegs").glob("*.jpg")) + Counter(str(p) for p in (tmp_path / "pngs").glob("*.png"))
    assert len(reads) == count
    assert result["pid"] not in {int(pid) for pid, _ in reads}          # read by the workers, not the loader
    expected_images, expected_diagnostics = _images(tmp_path / "bria.yaml")
    assert result["diagnostics"] == expected_diagnostics == []
    assert result["images"] == expected_images
    assert result["images"]["jpegs"][5][5] == "a sidecar caption"
    total = sum(p.stat().st_size for p in (*(tmp_path / "jpegs").glob("*.jpg"), *(tmp_path / "pngs").glob("*.png")))
    assert result["stats"] == [count, 0, total]                         # every file hashed once, all of it
    assert result["leftover_children"] is False                         # the workers were reaped


def test_bad_images_read_on_workers_are_reported_as_on_the_thread_pool(tmp_path: Path) -> None:
    _write_inputs(tmp_path)
    jpeg = (tmp_path / "jpegs" / "j010.jpg").read_bytes()
    (tmp_path / "jpegs" / "j010.jpg").write_bytes(jpeg[:len(jpeg) // 2])                 # truncated
    (tmp_path / "jpegs" / "j011.jpg").write_bytes(image_bytes(300, 300, "GIF", "gif"))   # not a format the API takes
    write_image(tmp_path / "pngs" / "small.png", 100, 100)                               # too small
    (tmp_path / "pngs" / "img_00003.png").write_bytes((tmp_path / "pngs" / "img_00004.png").read_bytes())  # twice
    result = _load_on_workers(tmp_path / "bria.yaml", tmp_path / "reads.log")
    expected_images, expected_diagnostics = _images(tmp_path / "bria.yaml")
    assert result["images"] is None is expected_images
    assert result["diagnostics"] == expected_diagnostics
    assert len(expected_diagnostics) == 4, expected_diagnostics


WORKERS = """
import os, signal, sys, threading, time
from concurrent.futures import ThreadPoolExecutor
from reconciler.image_workers import ForkedReaders

def work(batch):
    time.sleep(float(sys.argv[2]))
    return [n * n for n in batch]

pool = ThreadPoolExecutor(2)
case = sys.argv[1]
if case == "thread":
    stop = threading.Event()
    threading.Thread(target=stop.wait).start()
    print(ForkedReaders.start(2, work, lambda b: pool.submit(work, b)) is None)
    stop.set()
    sys.exit(0)
readers = ForkedReaders.start(2, work, lambda b: pool.submit(work, b))
pids = [w.pid for w in readers._workers]
futures = [readers.submit([i, i + 1]) for i in range(0, 800, 2)]
if case == "die":
    time.sleep(0.05)
    os.kill(pids[0], signal.SIGKILL)
    print([n for f in futures for n in f.result(timeout=30)] == [n * n for n in range(800)])
elif case == "close":
    started = time.monotonic()
    readers.close()
    print(sum(f.cancelled() for f in futures) > 200, time.monotonic() - started < 5)
elif case == "seal":
    readers.seal()
    done = [n for f in futures for n in f.result(timeout=30)] == [n * n for n in range(800)]
    deadline, running = time.monotonic() + 10, set(pids)
    while running and time.monotonic() < deadline:
        running -= {pid for pid in running if os.waitpid(pid, os.WNOHANG)[0]}
        time.sleep(0.01)        # each was answered: each worker exits on its own (reaped here)
    later = readers.submit([3]).result(timeout=30)                    # after sealing: the fallback
    print(done and not running, later == [9])
    readers._workers = []                                              # reaped above
elif case == "fail":
    print(repr(readers.submit(["x"]).exception(timeout=30)))
    print(repr(readers.submit([lambda: None]).exception(timeout=30)))   # cannot be sent
readers.close()
try:
    os.waitpid(-1, os.WNOHANG)
    print("a worker was not reaped")
except ChildProcessError:
    pass
"""


def test_a_worker_that_dies_loses_no_batch(tmp_path: Path) -> None:
    done = _run(WORKERS, "die", "0.002")
    assert (done.returncode, done.stdout.split()) == (0, ["True"]), done.stderr


def test_close_cancels_queued_batches_and_reaps_the_workers(tmp_path: Path) -> None:
    done = _run(WORKERS, "close", "0.05")
    assert (done.returncode, done.stdout.split()) == (0, ["True", "True"]), done.stderr


def test_sealed_workers_exit_once_they_have_answered(tmp_path: Path) -> None:
    done = _run(WORKERS, "seal", "0")
    assert (done.returncode, done.stdout.split()) == (0, ["True", "True"]), done.stderr


def test_an_error_in_a_worker_reaches_the_caller(tmp_path: Path) -> None:
    done = _run(WORKERS, "fail", "0")
    assert done.returncode == 0, done.stderr
    failed_there, not_sent = done.stdout.splitlines()
    assert "reading images failed in a worker process: TypeError" in failed_there
    assert "PicklingError" in not_sent or "AttributeError" in not_sent


def test_no_worker_is_forked_while_another_thread_runs(tmp_path: Path) -> None:
    done = _run(WORKERS, "thread", "0")
    assert (done.returncode, done.stdout.split()) == (0, ["True"]), done.stderr


# As under `bria`, the signal raises cli.interrupts.Interrupted: a plain KeyboardInterrupt
# that lands inside a dataclass being made (exec of a string, at import time) makes CPython
# end the process by SIGINT even though it was caught (see cli/interrupts.py).
INTERRUPTED = """
import os, sys, time
from pathlib import Path
from reconciler.cli import interrupts
interrupts.install()
from reconciler import images
from reconciler.manifest import load_manifest

real = images._read_sent_batch
def slow(batch):
    time.sleep(0.05)
    return real(batch)
images._read_sent_batch = slow
try:
    load_manifest(Path(sys.argv[1]))
    print("finished")
except KeyboardInterrupt:
    try:
        os.waitpid(-1, os.WNOHANG)
        print("a worker was left")
    except ChildProcessError:
        print("interrupted; no worker left")
"""


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def test_ctrl_c_while_workers_read_stops_the_load_and_ends_the_workers(tmp_path: Path) -> None:
    """Ctrl-C reaches the whole process group: the workers ignore it, the loader unwinds and
    ends them (their batches are not read further) and reaps them."""
    import signal
    import time

    _write_inputs(tmp_path)
    proc = subprocess.Popen([sys.executable, "-c", INTERRUPTED, str(tmp_path / "bria.yaml")], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 30
    while len(_children(proc.pid)) < len(os.sched_getaffinity(0)) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.01)
    workers = _children(proc.pid)
    os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert len(workers) == len(os.sched_getaffinity(0)), (workers, out, err)   # one per CPU
    assert (proc.returncode, out.strip()) == (0, "interrupted; no worker left"), err
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers)
