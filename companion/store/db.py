"""Opening the database, and the single writer that serialises every write.

SQLite allows one writer at a time. Rather than let handlers race for the lock
(and meet `database is locked`), the companion funnels all writes through one
connection on one thread; readers (Datasette, lookups) use WAL snapshots.
"""

from __future__ import annotations

import asyncio
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, TypeVar

from sqlite_utils import Database

from .schema import ensure_db_shape

T = TypeVar("T")

BUSY_TIMEOUT_MS = 30_000


def connect(path: str | Path, *, readonly: bool = False) -> Database:
    """A connection with Kith's pragmas: WAL, foreign keys, a generous busy timeout."""
    path = Path(path)
    if readonly:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False,
                               timeout=BUSY_TIMEOUT_MS / 1000)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), check_same_thread=False,
                               timeout=BUSY_TIMEOUT_MS / 1000)
    db = Database(conn)
    db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    db.execute("PRAGMA foreign_keys = ON")
    if not readonly:
        # FULL: an acknowledged capture must survive a crash or power cut,
        # and Kith's write volume is small enough to pay for the fsync.
        db.execute("PRAGMA synchronous = FULL")
    return db


def open_db(path: str | Path) -> Database:
    """Open (creating if needed) a Kith database and bring it to the current shape."""
    db = connect(path)
    db.enable_wal()
    ensure_db_shape(db)
    return db


class DbThread:
    """Runs database functions one at a time on a dedicated thread and connection.

    `await t.run(fn, *args)` calls `fn(db, *args)` off the event loop; a
    function that wants atomicity wraps itself in `db.atomic()`. The writer is
    the only `DbThread` that writes; a reader one serves lookups and auth checks
    from WAL snapshots, so a long write never delays them.
    """

    def __init__(self, path: str | Path, *, readonly: bool = False):
        self.path = Path(path)
        self.readonly = readonly
        name = "kith-reader" if readonly else "kith-writer"
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        opener = (lambda: connect(self.path, readonly=True)) if readonly else (lambda: open_db(self.path))
        self.db: Database = self._executor.submit(opener).result()

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, fn, self.db, *args)

    def close(self) -> None:
        self._executor.submit(self.db.close).result()
        self._executor.shutdown(wait=True)


# The running companion registers its writer here, so the Datasette plugin in the
# same process writes through it instead of opening a second writer.
_WRITERS: dict[str, DbThread] = {}


def register_writer(writer: DbThread) -> None:
    _WRITERS[str(writer.path.resolve())] = writer


def unregister_writer(writer: DbThread) -> None:
    _WRITERS.pop(str(writer.path.resolve()), None)


def writer_for(path: str | Path) -> DbThread | None:
    return _WRITERS.get(str(Path(path).resolve()))
