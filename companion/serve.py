"""`kith serve`: the companion API here, and Datasette in a child process it starts and stops.

Datasette renders on its own event loop and GIL, so readers never slow the companion's writes."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Iterator

import click
import uvicorn
from aiohttp import web
from datasette.app import Datasette

from .server import init_app


class _QuietServer(uvicorn.Server):
    """uvicorn without its own signal handling: `kith serve` stops both servers itself."""

    @contextlib.contextmanager
    def capture_signals(self):
        yield


# Characters SQLite reads as URI syntax in a `file:` path: `?` starts the query, `#` the
# fragment, `%` an escape. Spaces and non-ASCII pass through as they are.
_URI_SYNTAX = re.compile(r"[?#%]")


@contextlib.contextmanager
def datasette_path(db_path: Path) -> Iterator[Path]:
    """A path to the database that Datasette can open, whatever the real path holds.

    Datasette opens `file:{path}?mode=ro` with the path unquoted (0.65 and 1.0a41 alike), so a
    database named `my #1.db` would be opened as `my ` (a new, empty file). For such a path
    this yields a symlink with a safe name (same stem, `?#%` replaced) in a private 0700
    temporary directory, removed afterwards. SQLite resolves symlinks before opening a
    database (unix VFS), so the -wal and -shm it uses are the real ones beside the real file,
    shared with the companion's writer; `writer_for` resolves the link to the same writer.
    Why not subclass Datasette's Database and quote the URI there: `connect()` differs between
    0.65 and 1.0 (modes, isolation level, connection tracking), so a subclass would copy
    Datasette internals into Kith and break with its next release; the link leaves Datasette as it is.
    A path without those characters is used as it is.
    """
    if not _URI_SYNTAX.search(str(db_path.absolute())):
        yield db_path
        return
    candidates = [tempfile.gettempdir(), "/tmp", "/var/tmp"]
    parent = next((d for d in candidates if not _URI_SYNTAX.search(d) and os.path.isdir(d)), None)
    if parent is None:
        raise click.ClickException("no temporary directory without ?, # or % in its path for Datasette")
    link_dir = Path(tempfile.mkdtemp(prefix="kith-datasette-", dir=parent))  # 0700
    link = link_dir / (_URI_SYNTAX.sub("_", db_path.stem) + db_path.suffix)
    link.symlink_to(db_path.resolve())
    try:
        yield link
    finally:
        shutil.rmtree(link_dir, ignore_errors=True)


def start_checks(db_path: Path, announce) -> None:
    """Before the database opens: the quick doctor (migrations, search triggers, indexes) and
    owner-only file modes; one line each for what it changed, nothing when all is well."""
    from .doctor import startup
    from .privacy import describe

    started = time.perf_counter()
    repairs, tightened = startup(db_path)
    for line in repairs:
        announce(f"kith doctor: {line}")
    if tightened:
        announce(describe(tightened))
    if repairs:
        announce(f"(start-up checks took {time.perf_counter() - started:.2f} s)")


def make_datasette(db_path: Path) -> Datasette:
    # The Kith plugins load through the `datasette` entry point, as under plain `datasette kith.db`.
    # `forms: anyone`: this Datasette serves one local user on 127.0.0.1, who is anonymous to it,
    # and Datasette 1.0 grants anonymous actors no write permission; so Kith's own forms (and only
    # those: not Datasette's write API) are open to whoever may view the pages. `home: today`: /
    # opens Kith's Today page (Datasette's own index is one click away, at /-/kith/datasette).
    from datasette_plugins.config import datasette_kwargs

    return Datasette(
        [str(db_path)],
        settings={"sql_time_limit_ms": 3000, "max_returned_rows": 1000},
        **datasette_kwargs({"forms": "anyone", "home": "today"}),
    )


class DatasetteProcess:
    """Datasette (uvicorn) in its own process, off the companion's event loop, GIL and CPU.

    Measured with 50 capture writers and 20 Datasette readers: on the companion's loop, captures
    fell to ~15 % of the writers-alone rate; on a thread of its own in the same process, ~40 %
    (rendering holds the GIL); in its own process at a lower CPU priority, see BENCHMARKS.md.
    Writes from Kith's forms there run in Datasette's write thread as `BEGIN IMMEDIATE`
    transactions (`kithdb`), so they wait for the companion's writer instead of failing.
    The process ignores SIGINT (Ctrl-C reaches the whole process group; `kith serve` stops it
    with SIGTERM) and exits by itself if `kith serve` dies. `start()` returns a future that is
    done when the process ends, so `serve` stops everything with it.
    """

    NICE = 10  # below the companion and its extraction workers (nice 0), where SCHED_IDLE is not to be had

    def __init__(self, db_path: Path, port: int):
        self.db_path, self.port = db_path, port
        self.process: subprocess.Popen | None = None
        self.done: concurrent.futures.Future = concurrent.futures.Future()

    def start(self) -> concurrent.futures.Future:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "companion.serve", str(self.db_path), str(self.port), str(os.getpid())]
        )
        threading.Thread(target=self._wait, name="kith-datasette-wait", daemon=True).start()
        return self.done

    def _wait(self) -> None:
        code = self.process.wait()
        if code in (0, -signal.SIGTERM):
            self.done.set_result(None)
        else:
            self.done.set_exception(RuntimeError(f"Datasette stopped (exit status {code})"))

    def stop(self, timeout: float = 10.0) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def yield_cpu_to_captures() -> None:
    """Put this (Datasette's) process below the companion for the CPU.

    Linux's SCHED_IDLE: Datasette runs whenever the companion leaves a core free, and gives it up
    the moment a companion thread wakes. Measured in the load suite (50 capture writers, 20
    Datasette readers, 2 cores; 15 s runs): at nice 10, captures/s beside the readers were 0.66x
    the writers-alone figure and capture p99 ~290 ms; with SCHED_IDLE 0.83-0.94x and 205-257 ms.
    Datasette still used 0.4-0.5 of a core, the part the companion was not using, and served
    about as many reads; its slowest page (its own table page with counts) waits longest.
    With the companion idle, as it mostly is, Datasette has its whole share of the machine. The
    policy applies to this process only (autogroups keep it from competing with, say, a browser in
    another session). Elsewhere: nice 10.
    """
    try:
        # Per thread on Linux: threads started later inherit it, one started by an import already
        # running does not, so every current thread is set.
        for tid in os.listdir("/proc/self/task"):
            with contextlib.suppress(ProcessLookupError):  # a thread that has just ended
                os.sched_setscheduler(int(tid), os.SCHED_IDLE, os.sched_param(0))
        return
    except (AttributeError, OSError):  # not Linux, or refused
        pass
    with contextlib.suppress(OSError):
        os.nice(DatasetteProcess.NICE)


def _datasette_main(db_path: str, port: int, parent: int) -> None:
    """The Datasette process: `python -m companion.serve DB PORT PARENT_PID`."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    yield_cpu_to_captures()
    datasette = make_datasette(Path(db_path))
    server = _QuietServer(
        uvicorn.Config(datasette.app(), host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )

    async def main() -> None:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, lambda: setattr(server, "should_exit", True))

        async def orphaned() -> None:  # `kith serve` was killed: nothing would ever stop us
            while os.getppid() == parent:
                await asyncio.sleep(1.0)
            server.should_exit = True

        watchdog = asyncio.create_task(orphaned())
        await datasette.invoke_startup()
        await server.serve()
        watchdog.cancel()

    asyncio.run(main())


async def serve(db_path: Path, port: int, datasette_port: int | None, *, announce=click.echo) -> None:
    datasette_url = f"http://127.0.0.1:{datasette_port}" if datasette_port else None
    start_checks(db_path, announce)
    app = init_app(db_path, port=port, datasette_url=datasette_url)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()  # opens the database (and migrates it) before Datasette reads it
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    server = None
    server_task = None
    links = contextlib.ExitStack()
    if datasette_port:
        server = DatasetteProcess(links.enter_context(datasette_path(db_path)), datasette_port)
        server_task = asyncio.wrap_future(server.start())

    announce(f"Kith companion  http://127.0.0.1:{port}   (database: {db_path})")
    if datasette_url:
        announce(f"Datasette       {datasette_url}/   (opens on Today)")
    announce("Pair the extension: run `kith pair` in another terminal and enter the code in its options page.")
    announce("Press Ctrl-C to stop.")
    try:
        if server_task:
            await asyncio.wait([server_task, asyncio.create_task(stop.wait())], return_when=asyncio.FIRST_COMPLETED)
        else:
            await stop.wait()
    finally:
        if server:
            await loop.run_in_executor(None, server.stop)
            with contextlib.suppress(BaseException):
                await server_task
        await runner.cleanup()
        links.close()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        announce("Kith stopped.")


if __name__ == "__main__":
    _datasette_main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
