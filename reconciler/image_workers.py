"""Reading many image files on forked worker processes (a cold run over thousands of files).

Why processes: reading and sha256 release the GIL, but every file still costs a pool thread
a handful of GIL acquisitions (open, fstat, read, hash, close, the header check), and the
main thread holds the GIL for its own Python work meanwhile (resolving datasets, the schema
check, building specs). Measured on 2 cores: two pool threads read 5,000 files in 0.55 s with
the main thread idle, but in 0.92 s while it ran 0.35 s of Python; two forked workers, 0.70 s
(the 2-core bound for that work is ~0.69 s). A forked worker has its own interpreter.

Contracts:
- `ForkedReaders.start(count, work)` forks `count` workers, or returns None where forking
  is not safe: not Linux (macOS system libraries and Windows cannot be forked safely), no
  `os.fork`, or another thread running in this process (a child gets only the forking
  thread: a lock another thread held would stay held in it).
- `submit(batch)` returns a Future of `work(batch)`, run by one worker on the same bytes a
  pool thread would read: the worker is a copy of this process, so `work` is the very
  function the thread pool runs (only the batch and its result cross the pipes, pickled;
  what a batch holds must pickle: paths and module-level functions do).
- At most `IN_FLIGHT` batches are sent to a worker at a time; the rest wait here, in order.
  So the workers share the work as they free up, and a cancelled future is never sent (as
  on the thread pool, batches not started are not read). The pipes are enlarged so that
  neither those batches nor their answers fill them: a worker never waits for this
  process's threads, which may be kept from the GIL for milliseconds at a time.
- A worker that dies (killed, out of memory) loses no batch: its unfinished batches, and
  queued ones if no worker is left, are run on `fallback` (the thread pool).
- `seal()` says no more batches will come: a worker then exits as soon as it has answered
  its last one, so that ending them costs the caller nothing later.
- Fork them inside `signals_held()`, and record them before it ends: an interrupt then
  always finds them recorded, to be closed.
- `close()` ends the workers and reaps them (so their CPU time is counted as this
  process's children's). A worker exits when its task pipe closes, or, if it still holds
  batches nobody will read (an interrupted run), is terminated. It ignores SIGINT
  (Ctrl-C reaches the whole process group: the parent decides), prints nothing, and leaves
  with `os._exit` (no atexit handlers, no flushing of stdio buffers copied from the parent).
"""

from __future__ import annotations

import os
import pickle
import signal
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

SIGNALS = (signal.SIGINT, signal.SIGTERM)
IN_FLIGHT = 64                      # batches sent to a worker and not yet answered, at most
PIPE_BYTES = 1 << 20                # pipe capacity asked for (Linux's default maximum)

Work = Callable[[Any], Any]
Fallback = Callable[[Any], "Future[Any]"]


@dataclass
class _Worker:
    pid: int
    tasks: int                      # write end of its task pipe
    results: int                    # read end of its result pipe
    in_flight: deque[tuple[Future[Any], Any]] = field(default_factory=deque)
    alive: bool = True
    sending: bool = True            # its task pipe is open


@dataclass(frozen=True)
class _Failed:
    """What a worker sends back when `work` raised: the exception's text (it may not pickle)."""
    text: str


class ForkedReaders:
    def __init__(self, workers: list[_Worker], fallback: Fallback):
        self._workers = workers
        self._fallback = fallback
        self._lock = threading.Lock()
        self._queue: deque[tuple[Future[Any], Any]] = deque()
        self._closed = False
        self._sealed = False
        self._collectors = [threading.Thread(target=self._collect, args=(worker,), daemon=True,
                                             name=f"bria-images-from-{worker.pid}") for worker in workers]
        for thread in self._collectors:
            thread.start()

    @classmethod
    def start(cls, count: int, work: Work, fallback: Fallback) -> ForkedReaders | None:
        if (not sys.platform.startswith("linux") or not hasattr(os, "fork")
                or threading.active_count() > 1 or count < 1):
            return None
        workers: list[_Worker] = []
        try:
            for _ in range(count):
                workers.append(_fork(work, workers))
            return cls(workers, fallback)
        except BaseException as exc:    # no fork (OSError), or an error meanwhile: none is left behind
            for worker in workers:
                _stop_sending(worker)
                _terminate(worker.pid)
            _reap(workers)
            if isinstance(exc, OSError):
                return None
            raise

    def submit(self, batch: Any) -> Future[Any]:
        if self._sealed:
            return self._fallback(batch)
        future: Future[Any] = Future()
        with self._lock:
            self._queue.append((future, batch))
            live = [worker for worker in self._workers if worker.alive]
            if live:
                self._feed(min(live, key=lambda worker: len(worker.in_flight)), 1)
            if not any(worker.alive for worker in self._workers):
                self._hand_over(list(self._queue))
                self._queue.clear()
        return future

    def seal(self) -> None:
        """No more batches will be submitted (later ones go to the fallback): each worker
        exits as soon as it has answered its last batch, while the caller takes the answers."""
        with self._lock:
            self._sealed = True
            for worker in self._workers:
                self._feed(worker)

    def close(self) -> None:
        """Cancel queued batches, end the workers (their unfinished batches fail) and reap them."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            queued = list(self._queue)
            self._queue.clear()
            for worker in self._workers:
                _stop_sending(worker)
                if worker.in_flight:
                    _terminate(worker.pid)
        for future, _ in queued:
            future.cancel()
        for thread in self._collectors:
            thread.join()
        _reap(self._workers)

    # --- runs under self._lock -------------------------------------------------------------

    def _feed(self, worker: _Worker, most: int = IN_FLIGHT) -> None:
        """Send `worker` queued batches while it holds fewer than IN_FLIGHT (at most `most`)."""
        while (most > 0 and worker.alive and worker.sending and not self._closed and len(worker.in_flight) < IN_FLIGHT
               and self._queue):
            most -= 1
            future, batch = self._queue.popleft()
            if not future.set_running_or_notify_cancel():
                continue                # cancelled while queued: never read
            try:
                message = pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception as exc:    # e.g. a reader that is not a module-level function
                future.set_exception(exc)
                continue
            worker.in_flight.append((future, batch))
            try:
                _write_all(worker.tasks, message)
            except OSError:             # the worker is gone; its collector hands its batches over
                worker.alive = False
        if self._sealed and not self._queue:
            _stop_sending(worker)

    def _hand_over(self, items: list[tuple[Future[Any], Any]]) -> None:
        """Run batches on the fallback instead: queued ones unless cancelled, sent ones again."""
        for future, batch in items:
            if future.running() or future.set_running_or_notify_cancel():
                _settle_from(future, self._fallback(batch))

    # --- collector threads -----------------------------------------------------------------

    def _collect(self, worker: _Worker) -> None:
        """Settle the worker's futures from its answers, in the order its batches were sent."""
        with os.fdopen(worker.results, "rb") as answers:
            while True:
                try:
                    reply = pickle.load(answers)
                except Exception:       # EOF: the worker ended (closed, or died)
                    break
                with self._lock:
                    future, _ = worker.in_flight.popleft()
                    self._feed(worker)
                if isinstance(reply, _Failed):
                    future.set_exception(RuntimeError(f"reading images failed in a worker process: {reply.text}"))
                else:
                    future.set_result(reply)
        with self._lock:
            worker.alive = False
            orphaned = list(worker.in_flight)
            worker.in_flight.clear()
            if not any(w.alive for w in self._workers):
                orphaned += self._queue
                self._queue.clear()
            for other in self._workers:
                self._feed(other)
            closed = self._closed
        if closed:
            for future, _ in orphaned:
                future.set_exception(OSError("image worker ended"))
        else:
            self._hand_over(orphaned)


def _settle_from(future: Future[Any], source: Future[Any]) -> None:
    """Give the running `future` the outcome of `source` when it has one."""
    def copy(done: Future[Any]) -> None:
        exc = done.exception()
        if exc is not None:
            future.set_exception(exc)
        else:
            future.set_result(done.result())
    source.add_done_callback(copy)


def _fork(work: Work, earlier: list[_Worker]) -> _Worker:
    task_read, task_write = os.pipe()
    result_read, result_write = os.pipe()
    for fd in (task_write, result_write):
        _enlarge(fd)
    pid = os.fork()
    if pid == 0:                                            # the worker
        try:
            for fd in (task_write, result_read, *(fd for w in earlier for fd in (w.tasks, w.results))):
                os.close(fd)            # only the parent may hold them: a worker sees EOF when it closes
            _serve(task_read, result_write, work)
        finally:
            os._exit(0)
    os.close(task_read)
    os.close(result_write)
    return _Worker(pid, task_write, result_read)


@contextmanager
def signals_held() -> Iterator[None]:
    """SIGINT and SIGTERM wait (they are not lost) until the block ends: the caller can fork
    workers and record them before an interrupt unwinds it. Main thread only (else a no-op)."""
    if not hasattr(signal, "pthread_sigmask") or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _serve(tasks: int, results: int, work: Work) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, SIGNALS)     # held while it was forked
    with os.fdopen(tasks, "rb") as batches, os.fdopen(results, "wb") as answers:
        while True:
            try:
                batch = pickle.load(batches)
            except EOFError:
                return
            try:
                reply = work(batch)
            except BaseException as exc:            # reported to the caller, as a thread would
                reply = _Failed(repr(exc))
            pickle.dump(reply, answers, protocol=pickle.HIGHEST_PROTOCOL)
            answers.flush()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _stop_sending(worker: _Worker) -> None:
    """Close the worker's task pipe: it exits once it has answered what it holds."""
    if worker.sending:
        worker.sending = False
        os.close(worker.tasks)


def _enlarge(pipe: int) -> None:
    try:
        import fcntl

        fcntl.fcntl(pipe, getattr(fcntl, "F_SETPIPE_SZ", 1031), PIPE_BYTES)
    except OSError:
        pass                            # a smaller pipe only means waiting for the other side


def _terminate(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass


def _reap(workers: list[_Worker]) -> None:
    for worker in workers:
        try:
            os.waitpid(worker.pid, 0)
        except ChildProcessError:
            pass
