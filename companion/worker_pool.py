"""A process pool the event loop drives itself: one pipe per worker, results read by the loop.

Why not `ProcessPoolExecutor`: it moves every task and every result through two threads of its
own (a queue feeder and a result manager), and each hop waits for the companion's one GIL between
the event loop's and the writer's turns. Under the load suite a 2 ms extraction waited there
~30 ms at the median and ~150 ms at p99. Here the loop writes a task straight into an idle
worker's pipe and a reader callback (`add_reader`) takes the result: no thread in between.

A worker that dies fails its task with `WorkerDied` and is replaced; a task whose future is
cancelled (a timeout) has its worker killed and replaced, so a hung parser never holds a slot.
A replacement that cannot start (no file descriptors, no memory) is tried again with the next
task; while the pool has no worker at all, a task fails at once with `WorkerDied` rather than
waiting for a worker that may never come.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import multiprocessing
import signal
import time
from multiprocessing.connection import Connection
from multiprocessing.reduction import ForkingPickler
from typing import Any, Callable


class WorkerDied(Exception):
    """The worker process running a task ended before answering (killed, crashed, out of memory)."""


def _serve(conn: Connection) -> None:
    """A worker's life: (fn, args) in, (ok, result or exception) out, until the pipe closes.
    Ctrl-C reaches the whole process group; the companion ends its workers itself (closed pipes)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while True:
        try:
            fn, args = conn.recv()
        except (EOFError, OSError):
            return
        try:
            out = (True, fn(*args))
        except BaseException as exc:  # noqa: BLE001 - the caller gets it
            out = (False, exc)
        try:
            conn.send(out)
        except OSError:  # the pool closed while this task ran: nobody to answer
            return
        except Exception as exc:  # noqa: BLE001 - an unpicklable result or exception
            try:
                conn.send((False, RuntimeError(f"the worker's answer could not be sent: {exc!r}")))
            except OSError:
                return


class _Worker:
    def __init__(self, context):
        self.conn, child = context.Pipe()
        try:
            self.process = context.Process(target=_serve, args=(child,), daemon=True, name="kith-extract")
            self.process.start()
        except BaseException:
            self.conn.close()  # (out of descriptors, say) nothing is left open
            raise
        finally:
            child.close()
        self.future: asyncio.Future | None = None

    def kill(self) -> None:
        with contextlib.suppress(Exception):
            self.process.kill()
        self.conn.close()
        with contextlib.suppress(Exception):
            self.process.join(5)


class WorkerPool:
    """`await pool.run(fn, *args)` runs `fn(*args)` in a worker process. Create, use and close it on
    one event loop; `fn`, its arguments and its result must pickle."""

    def __init__(self, size: int, context=None, *, warm: bool = True):
        self._loop = asyncio.get_running_loop()
        self._context = context or multiprocessing.get_context("forkserver")
        self._waiting: collections.deque = collections.deque()
        self._idle: collections.deque[_Worker] = collections.deque()
        self._workers: list[_Worker] = []
        self._size = size
        self._closed = False
        self._start_error: BaseException | None = None  # why the last replacement could not start
        for _ in range(size):
            self._add(warm=warm)

    @property
    def pids(self) -> list[int]:
        return [w.process.pid for w in self._workers]

    def _add(self, warm: bool = False) -> None:
        worker = _Worker(self._context)
        if warm:  # started and answering before the first real task (the forkserver is up, imports done)
            worker.conn.send((int, (0,)))
            worker.conn.recv()
        self._workers.append(worker)
        self._loop.add_reader(worker.conn.fileno(), self._on_answer, worker)
        self._next(worker)

    def _retire(self, worker: _Worker) -> None:
        self._loop.remove_reader(worker.conn.fileno())
        self._workers.remove(worker)
        with contextlib.suppress(ValueError):
            self._idle.remove(worker)
        worker.kill()

    def run(self, fn: Callable[..., Any], *args: Any) -> asyncio.Future:
        if self._closed:
            raise RuntimeError("the worker pool is closed")
        future = self._loop.create_future()
        if len(self._workers) < self._size:
            self._top_up()
        if not self._workers:
            future.set_exception(WorkerDied(f"no worker process could be started: {self._start_error!r}"))
            return future
        future.add_done_callback(self._on_done)
        if self._idle:
            self._start(self._idle.popleft(), fn, args, future)
        else:
            self._waiting.append((fn, args, future))
        return future

    def _start(self, worker: _Worker, fn, args, future: asyncio.Future) -> None:
        try:
            # Pickled apart from the write, so an argument that does not pickle (whatever it raises)
            # fails its task and leaves a healthy worker alone.
            task = ForkingPickler.dumps((fn, args))
        except Exception as exc:  # noqa: BLE001
            future.set_exception(exc)
            self._next(worker)
            return
        worker.future = future
        try:
            # The worker is idle, so it is reading: this write returns as soon as it has the bytes.
            worker.conn.send_bytes(task)
        except OSError:
            self._lost(worker)

    def _on_answer(self, worker: _Worker) -> None:
        try:
            ok, value = worker.conn.recv()
        except (EOFError, OSError):
            self._lost(worker)
            return
        except Exception as exc:  # noqa: BLE001 - the whole answer was read; only unpickling it failed
            ok, value = False, RuntimeError(f"the worker's answer could not be read: {exc!r}")
        future, worker.future = worker.future, None
        if future is not None and not future.done():
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)
        self._next(worker)

    def _top_up(self) -> None:
        """Start workers until the pool has its size again; a start that fails is tried with the next task."""
        while not self._closed and len(self._workers) < self._size:
            try:
                self._add()
            except Exception as exc:  # noqa: BLE001 - out of descriptors or memory: the tasks must still end
                self._start_error = exc
                return

    def _replace(self, worker: _Worker) -> None:
        self._retire(worker)
        self._top_up()

    def _lost(self, worker: _Worker) -> None:
        """The worker died: fail its task, then start another worker in its place."""
        future, worker.future = worker.future, None
        self._retire(worker)
        if future is not None and not future.done():
            future.set_exception(WorkerDied(f"the worker process ended (exit code {worker.process.exitcode})"))
        self._top_up()

    def _on_done(self, future: asyncio.Future) -> None:
        if not future.cancelled():
            return
        for worker in self._workers:
            if worker.future is future:  # still running a task nobody waits for (a timeout): replace it
                worker.future = None
                self._replace(worker)
                return

    def _next(self, worker: _Worker) -> None:
        while self._waiting:
            fn, args, future = self._waiting.popleft()
            if not future.done():
                self._start(worker, fn, args, future)
                return
        self._idle.append(worker)

    def close(self) -> None:
        self._closed = True
        for _, _, future in self._waiting:
            if not future.done():  # failed, not cancelled: the caller stores the capture unparsed
                future.set_exception(WorkerDied("the worker pool closed"))
        self._waiting.clear()
        for worker in list(self._workers):
            self._loop.remove_reader(worker.conn.fileno())
            worker.conn.close()  # the worker's recv ends: it exits by itself
            future, worker.future = worker.future, None
            if future is not None and not future.done():  # nobody would ever answer it
                future.set_exception(WorkerDied("the worker pool closed"))
        deadline = time.monotonic() + 2  # an idle worker exits at once; a busy one is killed after this
        for worker in self._workers:
            worker.process.join(max(0.0, deadline - time.monotonic()))
        for worker in self._workers:
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join(5)
        self._workers.clear()
        self._idle.clear()
