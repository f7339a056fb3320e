"""The extraction worker pool (`companion.worker_pool`), with real worker processes.

Stdlib functions only cross the pipe here, so the test needs no importable helpers of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import operator
import os
import resource
import signal
import time

import pytest

from companion import ingest
from companion.ingest import Extractor
from companion.worker_pool import WorkerDied, WorkerPool


@pytest.fixture
async def pool():
    pool = WorkerPool(2)
    yield pool
    pool.close()


async def test_results_and_errors_come_back(pool):
    assert await pool.run(operator.add, 2, 3) == 5
    with pytest.raises(ZeroDivisionError):
        await pool.run(operator.truediv, 1, 0)
    assert await pool.run(operator.mul, 6, 7) == 42  # the worker that raised is still serving


async def test_two_workers_run_at_once_and_more_tasks_wait_their_turn(pool):
    await asyncio.gather(*(pool.run(_sleep_then_pid, 0.1) for _ in range(2)))  # this module imported in each
    started = time.monotonic()
    pids = await asyncio.gather(*(pool.run(_sleep_then_pid, 0.3) for _ in range(4)))
    elapsed = time.monotonic() - started
    assert set(pids) == set(pool.pids) and len(set(pids)) == 2
    assert 0.55 < elapsed < 1.1, elapsed  # two rounds of two, not four in a row, not four at once


def _sleep_then_pid(seconds):
    return time.sleep(seconds) or os.getpid()


async def test_a_worker_that_dies_fails_only_its_task_and_is_replaced(pool):
    before = list(pool.pids)
    with pytest.raises(WorkerDied):
        await pool.run(os._exit, 3)
    assert len(pool.pids) == 2 and set(pool.pids) != set(before)
    assert await pool.run(operator.add, 1, 1) == 2
    assert all(pid != 0 for pid in pool.pids)


async def test_a_cancelled_task_frees_its_slot_by_replacing_the_worker(pool):
    """A timeout (wait_for cancels) must not leave a hung parser holding a worker."""
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(pool.run(time.sleep, 30), 0.2)
    started = time.monotonic()
    answers = await asyncio.gather(pool.run(operator.add, 1, 2), pool.run(operator.add, 3, 4))
    assert answers == [3, 7]
    assert time.monotonic() - started < 5  # both workers free again, not one waiting 30 s


async def test_a_closed_pool_leaves_no_process_and_no_task_waiting_forever(tmp_path):
    pool = WorkerPool(2)
    pids = list(pool.pids)
    running = [pool.run(time.sleep, 30) for _ in range(2)]
    queued = pool.run(operator.add, 1, 1)
    await asyncio.sleep(0.2)
    pool.close()
    for future in running:
        with pytest.raises(WorkerDied):
            await asyncio.wait_for(future, 5)
    with pytest.raises(WorkerDied):  # failed, not cancelled: its capture is stored unparsed
        await asyncio.wait_for(queued, 5)
    for pid in pids:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # already reaped: no zombie, no orphan
    with pytest.raises(RuntimeError):
        pool.run(operator.add, 1, 1)


async def test_an_extraction_that_times_out_is_stored_unparsed_and_the_worker_replaced(monkeypatch):
    from stress.conftest import big_page

    extractor = Extractor(2)
    try:
        before = set(extractor._pool.pids)
        monkeypatch.setattr(ingest, "EXTRACT_TIMEOUT_S", 0.001)
        capture = {"kind": "profile", "url": "https://example.com/jane", "title": "Jane", "html": big_page(2_000_000)}
        prepared = await extractor.prepare(capture)
        assert prepared["extraction"]["status"] == "unparsed"
        assert prepared["extraction"]["error"] == "extraction timed out"
        assert prepared["html_z"] and prepared["html_sha256"]  # the raw page is kept
        monkeypatch.setattr(ingest, "EXTRACT_TIMEOUT_S", 20.0)
        assert set(extractor._pool.pids) != before
        page = '<html><body><div class="h-card"><span class="p-name">Jane Doe</span></div></body></html>'
        again = await extractor.prepare(dict(capture, html=page))
        assert not again["extraction"].get("error") and again["extraction"]["profile"]["name"] == "Jane Doe"
    finally:
        extractor.close()


class _NeedsTwoArguments(Exception):
    """Pickles in the worker (as its args) but cannot be rebuilt in the parent, like an exception
    with required constructor arguments."""

    def __init__(self, code, message):
        super().__init__(f"{code}: {message}")


def _raise_unreadable():
    raise _NeedsTwoArguments(1, "refused")


async def test_an_answer_that_cannot_be_read_fails_its_task_and_the_worker_serves_on(pool):
    with pytest.raises(RuntimeError, match="could not be read"):
        await asyncio.wait_for(pool.run(_raise_unreadable), 5)
    # Both workers answer (before the fix, the one that raised stayed "busy" for good): first once
    # each, which imports this module in each, then side by side.
    await asyncio.wait_for(asyncio.gather(*(pool.run(_sleep_then_pid, 0) for _ in range(2))), 10)
    started = time.monotonic()
    pids = await asyncio.wait_for(asyncio.gather(*(pool.run(_sleep_then_pid, 0.3) for _ in range(2))), 10)
    assert len(set(pids)) == 2 and time.monotonic() - started < 0.55


def _use_up_descriptors() -> list[int]:
    hog = []
    with contextlib.suppress(OSError):
        while True:
            hog.append(os.open(os.devnull, os.O_RDONLY))
    return hog


@contextlib.contextmanager
def _few_descriptors():
    """The process at its file-descriptor limit (a real EMFILE, as a busy server meets it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    in_use = len(os.listdir("/proc/self/fd"))
    resource.setrlimit(resource.RLIMIT_NOFILE, (in_use + 32, hard))
    hog = _use_up_descriptors()
    try:
        yield hog
    finally:
        for fd in hog:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


async def test_a_worker_lost_when_no_replacement_can_start_still_fails_its_task():
    """Its task must fail at once (and be stored unparsed), not wait forever; while no worker can be
    started a task fails at once too; once descriptors are free again the pool is whole."""
    pool = WorkerPool(1)
    try:
        running = pool.run(time.sleep, 5)
        await asyncio.sleep(0.2)
        with _few_descriptors() as hog:
            os.kill(pool.pids[0], signal.SIGKILL)
            with pytest.raises(WorkerDied, match="exit code -9"):
                await asyncio.wait_for(running, 5)
            assert pool.pids == []  # the replacement could not start
            hog += _use_up_descriptors()  # (the dead worker's pipe was closed: take that one too)
            with pytest.raises(WorkerDied, match="could be started"):
                await asyncio.wait_for(pool.run(operator.add, 1, 1), 5)
        assert await asyncio.wait_for(pool.run(operator.add, 2, 2), 10) == 4
        assert len(pool.pids) == 1
    finally:
        pool.close()


class _RefusesToPickle:
    def __reduce__(self):
        raise ValueError("not for the pipe")


async def test_an_argument_that_does_not_pickle_fails_its_task_and_keeps_the_worker(pool):
    before = list(pool.pids)
    with pytest.raises(ValueError, match="not for the pipe"):
        await asyncio.wait_for(pool.run(repr, _RefusesToPickle()), 5)
    assert pool.pids == before  # a healthy worker is not killed for its caller's argument
    assert await asyncio.wait_for(pool.run(operator.add, 1, 2), 5) == 3


def _extraction_with_an_unreadable_answer(body, known=None):
    raise _NeedsTwoArguments(2, "a parser bug")


async def test_a_big_capture_whose_extraction_fails_otherwise_is_stored_unparsed(monkeypatch):
    """Not a timeout, not a dead worker: an answer that could not be read. The capture (and its
    page) still comes back to be stored, marked unparsed, not as a server error."""
    import json
    import uuid

    from stress.conftest import big_page

    monkeypatch.setattr(ingest, "decode_and_prepare", _extraction_with_an_unreadable_answer)
    extractor = Extractor(1)
    try:
        page = big_page(100_000)
        body = json.dumps(
            {"capture_id": str(uuid.uuid4()), "kind": "profile", "url": "https://example.com/jane", "html": page}
        )
        capture, digest, prepared = await extractor.decode_and_prepare(body.encode())
        assert capture["url"] == "https://example.com/jane" and digest
        assert prepared["extraction"]["status"] == "unparsed"
        assert "could not be read" in prepared["extraction"]["error"]
        assert prepared["html_z"] and prepared["html_sha256"]  # the raw page is kept
    finally:
        extractor.close()
