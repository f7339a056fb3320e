"""Opening the database, and the single writer that serialises every write.

SQLite allows one writer at a time. Rather than let handlers race for the lock
(and meet `database is locked`), the companion funnels all writes through one
connection on one thread; readers (Datasette, lookups) use WAL snapshots.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar

from sqlite_utils import Database

from ..privacy import create_private_file, private_dir, remember_created_dir
from .schema import ensure_db_shape

T = TypeVar("T")

BUSY_TIMEOUT_MS = 30_000


def sqlite_uri(path: str | Path, **params: str) -> str:
    """A `file:` URI for SQLite that names exactly this file, whatever its name holds.

    SQLite decodes %HH in the path and stops it at `?` or `#`, so `file:{path}` opens another
    file (or an empty new one) when the name holds `#`, `?` or `%`. Every byte outside
    [A-Za-z0-9/_.~-] is percent-encoded (the bytes of the name as the OS sees it).
    """
    uri = "file:" + urllib.parse.quote(os.fsencode(Path(path).absolute()), safe="/")
    return uri + ("?" + urllib.parse.urlencode(params) if params else "")


class KithDatabase(Database):
    """sqlite-utils' Database whose write transactions take the write lock up front.

    Why: `atomic()` (and so `Migrations`, `insert_all` and every store function) starts with a
    plain, deferred BEGIN. A deferred transaction that reads and then writes is refused at once
    with SQLITE_BUSY when another connection (a user's `sqlite-utils insert`, a script) holds
    the write lock: SQLite cannot wait there, since the snapshot it read may be stale, so the
    busy timeout never applies. BEGIN IMMEDIATE waits (busy timeout) for the lock instead.
    Nested `atomic()` blocks stay sqlite-utils' savepoints. Python's own implicit transactions
    (before an INSERT outside any transaction) begin IMMEDIATE too on connections `connect` opens.
    """

    begin_sql = "BEGIN IMMEDIATE"

    @contextlib.contextmanager
    def atomic(self) -> Iterator["KithDatabase"]:
        if self.conn.in_transaction:
            with super().atomic():
                yield self
            return
        self.conn.execute(self.begin_sql)
        try:
            yield self
        except BaseException:
            self.rollback()
            raise
        try:
            self.conn.execute("COMMIT")
        except BaseException:
            self.rollback()
            raise

    def begin(self) -> None:
        self.execute(self.begin_sql)


def wrap_connection(conn: sqlite3.Connection) -> KithDatabase:
    """Kith's write behaviour on a connection someone else opened (Datasette's write connection)."""
    db = KithDatabase(conn, execute_plugins=False)
    db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    return db


def connect(path: str | Path, *, readonly: bool = False) -> Database:
    """A connection with Kith's pragmas: WAL, foreign keys, a generous busy timeout.

    A writer connection creates a missing database file 0600 (and its directory 0700) first,
    so SQLite's -wal and -shm, which copy the database file's mode, are private too.
    """
    path = Path(path)
    if readonly:
        conn = sqlite3.connect(
            sqlite_uri(path, mode="ro"), uri=True, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000
        )
    else:
        if not path.parent.exists():
            private_dir(path.parent)
        create_private_file(path)
        conn = sqlite3.connect(
            str(path), check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level="IMMEDIATE"
        )
    db = KithDatabase(conn)
    if readonly:
        db.begin_sql = "BEGIN"  # a read-only connection cannot take the write lock
    db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    db.execute("PRAGMA foreign_keys = ON")
    if not readonly:
        # FULL: an acknowledged capture must survive a crash or power cut,
        # and Kith's write volume is small enough to pay for the fsync.
        db.execute("PRAGMA synchronous = FULL")
    return db


def open_db(path: str | Path) -> Database:
    """Open (creating if needed: file 0600, directory 0700) a Kith database and bring it to the
    current shape. A directory made here is recorded, so `privacy.tighten` keeps it 0700."""
    path = Path(path)
    made_dir = not path.parent.exists() and private_dir(path.parent)
    db = connect(path)
    db.enable_wal()
    ensure_db_shape(db)
    if made_dir:
        remember_created_dir(db, path.parent)
    return db


class DbThread:
    """Runs database functions one at a time on a dedicated thread and connection.

    `await t.run(fn, *args)` calls `fn(db, *args)` off the event loop; a
    function that wants atomicity wraps itself in `db.atomic()`. The writer is
    the only `DbThread` that writes; a reader one serves lookups and auth checks
    from WAL snapshots, so a long write never delays them.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        readonly: bool = False,
        opener: Callable[[], Any] | None = None,
        name: str | None = None,
    ):
        self.path = Path(path)
        self.readonly = readonly
        name = name or ("kith-reader" if readonly else "kith-writer")
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        if opener is None:
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
