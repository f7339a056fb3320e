"""Opening the database, and the single writer that serialises every write.

SQLite allows one writer at a time. Rather than let handlers race for the lock
(and meet `database is locked`), the companion funnels all writes through one
connection on one thread; readers (Datasette, lookups) use WAL snapshots.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, TypeVar

from sqlite_utils import Database

from ..privacy import create_private_file, private_dir, remember_created_dir
from .schema import ensure_db_shape

if TYPE_CHECKING:  # asyncio only where the writer runs: a CLI command starts without it
    import asyncio

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
    # While the writer runs a group (`_commit_group`): work waiting for the group's end (see `defer_to_group_end`).
    deferred: dict[Callable, list] | None = None

    @contextlib.contextmanager
    def atomic(self) -> Iterator["KithDatabase"]:
        if self.conn.in_transaction:
            if self.deferred is not None:
                # Inside a group commit, which is all or nothing (`_commit_group`): no savepoint.
                yield self
                return
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


GROUP_MAX = 32  # calls per group commit: enough to amortise the COMMIT, few enough to answer soon


def _commit_group(db: Database, calls: list[tuple[Callable, tuple]]) -> list[tuple[bool, Any]]:
    """Run calls in one write transaction; [(ok, result or exception)] in order. Nothing is
    reported as done before the COMMIT that makes it durable has returned.

    The group is all or nothing: when a call raises, the whole transaction is rolled back and
    every call runs again alone, in its own transaction (so only the failing one fails). Why not a
    savepoint per call: SQLite's full-text index writes out its pending terms at every savepoint,
    which doubled the cost of inserting a contact or a note; failures are rare (a conflicting
    capture id, an unknown contact), and cost a group its batching, nothing else. So, inside a
    group, `atomic()` opens no savepoint, and a grouped function must not catch an error from its
    own writes and go on (none of the capture path does).
    """
    if len(calls) == 1 or db.conn.in_transaction:
        return [_alone(db, fn, args) for fn, args in calls]
    try:
        db.conn.execute("BEGIN IMMEDIATE")
    except Exception as exc:  # noqa: BLE001 - each call gets the error
        return [(False, exc)] * len(calls)
    outcomes: list[tuple[bool, Any]] = []
    db.deferred = {}
    try:
        for fn, args in calls:
            outcomes.append((True, fn(db, *args)))
        for fn, items in db.deferred.items():
            fn(db, items)
        failed = False
    except BaseException:  # noqa: BLE001 - each call runs again alone and meets its own error there
        failed = True
    db.deferred = None
    if failed:
        db.rollback()  # (a no-op when the error already ended the transaction)
        return [_alone(db, fn, args) for fn, args in calls]
    try:
        db.conn.execute("COMMIT")
    except Exception as exc:  # noqa: BLE001 - nothing in the group is durable
        db.rollback()
        return [(False, exc)] * len(calls)
    return outcomes


def defer_to_group_end(db: Database, fn: Callable[[Database, list], Any], item: Any) -> bool:
    """Inside a group commit, queue `item` for one `fn(db, items)` call at the group's end (before its
    COMMIT) and return True; outside one, return False and let the caller do the work now.

    Why: some work is much cheaper for many items at once (the similar-name check of new contacts
    reads its candidates once per company instead of once per contact)."""
    if getattr(db, "deferred", None) is None:
        return False
    db.deferred.setdefault(fn, []).append(item)
    return True


def _alone(db: Database, fn: Callable, args: tuple) -> tuple[bool, Any]:
    try:
        return True, fn(db, *args)
    except BaseException as exc:  # noqa: BLE001 - as an executor does: the caller gets it, the writer goes on
        return False, exc


def _settle(settled: list[tuple[asyncio.Future, tuple[bool, Any]]]) -> None:
    for future, (ok, value) in settled:
        if future.cancelled():
            continue
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)


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
        self._group: list[tuple] = []
        self._group_lock = threading.Lock()
        self._draining = False

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        import asyncio

        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, fn, self.db, *args)

    async def run_grouped(self, fn: Callable[..., T], *args: Any) -> T:
        """Like `run`, for a function that wraps its own work in `db.atomic()`: calls that arrive
        while the writer is busy are committed together (group commit; see `_commit_group`).

        Why: under load every capture paid for its own COMMIT (the WAL fsync, and at times a
        checkpoint), a fifth of the writer's time. A call still answers only once its group has
        committed, and a call that fails loses only its own writes (the others run again alone).
        """
        import asyncio

        loop = asyncio.get_running_loop()
        future = loop.create_future()
        with self._group_lock:
            self._group.append((fn, args, loop, future))
            start = not self._draining
            self._draining = True
        if start:
            self._executor.submit(self._drain_groups)
        return await future

    def _drain_groups(self) -> None:
        while True:
            with self._group_lock:
                batch, self._group = self._group[:GROUP_MAX], self._group[GROUP_MAX:]
                if not batch:
                    self._draining = False
                    return
            outcomes = _commit_group(self.db, [(fn, args) for fn, args, _, _ in batch])
            by_loop: dict[Any, list] = {}
            for (_, _, loop, future), outcome in zip(batch, outcomes):
                by_loop.setdefault(loop, []).append((future, outcome))
            for loop, settled in by_loop.items():
                loop.call_soon_threadsafe(_settle, settled)

    def close(self) -> None:
        self._executor.submit(self.db.close).result()
        self._executor.shutdown(wait=True)


class Checkpointer:
    """Copies the WAL back into the database on its own thread and connection.

    Why: SQLite's automatic checkpoint runs inside the COMMIT that pushes the WAL past 1000 pages,
    on the writer's thread, and with Datasette's readers holding snapshots it ran again and again
    (the load suite: COMMIT took a sixth of the writer's time beside 20 readers, a tenth alone),
    and every capture waiting behind that COMMIT waited for the copy too. A PASSIVE checkpoint
    never takes the write lock, so here it costs the writer nothing. The companion turns the
    writer connection's own off (`wal_autocheckpoint = 0`) while this runs; other processes'
    connections (an import, a script) keep theirs.
    """

    def __init__(self, path: str | Path, *, interval_s: float = 0.25):
        self.path = Path(path)
        self.interval_s = interval_s
        self.checkpoints = 0  # rounds that copied frames
        self._conn = connect(self.path).conn
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kith-checkpoint", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        copied = 0
        while not self._stop.wait(self.interval_s):
            try:
                # (busy, frames in the WAL, frames copied); a round with nothing new is a quick no-op.
                _, _, done = self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            except sqlite3.Error:  # busy or locked: the next round tries again
                continue
            if done != copied:
                self.checkpoints += 1
            copied = done

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self._conn.close()


# The running companion registers its writer here, so the Datasette plugin in the
# same process writes through it instead of opening a second writer.
_WRITERS: dict[str, DbThread] = {}


def register_writer(writer: DbThread) -> None:
    _WRITERS[str(writer.path.resolve())] = writer


def unregister_writer(writer: DbThread) -> None:
    _WRITERS.pop(str(writer.path.resolve()), None)


def writer_for(path: str | Path) -> DbThread | None:
    return _WRITERS.get(str(Path(path).resolve()))
