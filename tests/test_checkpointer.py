"""The companion's WAL checkpoints run on their own thread (`store.db.Checkpointer`), not in the
writer's COMMITs, against real SQLite files."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
import time

from aiohttp import web

from companion.server.app import init_app
from companion.server.keys import WRITER
from companion.store.db import Checkpointer, open_db

ROW = "x" * 4000  # a page's worth per row


def _write(db, transactions: int) -> None:
    for n in range(transactions):
        with db.atomic():
            db.execute("INSERT INTO t (v) VALUES (?)", [f"{n}{ROW}"])
        time.sleep(0.002)  # a steady stream of captures, not one burst


def _wal_size(path) -> int:
    return os.path.getsize(f"{path}-wal")


def test_the_writer_checkpoints_nothing_and_the_checkpointer_keeps_the_wal_small(tmp_path):
    path = tmp_path / "kith.db"
    db = open_db(path)
    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    db.execute("PRAGMA wal_autocheckpoint = 0")  # as the companion sets its writer

    # Without the checkpointer the WAL only grows (nobody copies it back).
    _write(db, 300)
    unchecked = _wal_size(path)
    assert unchecked > 300 * 4000

    checkpointer = Checkpointer(path, interval_s=0.02)
    try:
        _write(db, 1500)
        deadline = time.monotonic() + 10
        while checkpointer.checkpoints == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert checkpointer.checkpoints > 0
        # The WAL was copied back and started over: it did not grow by another 1500 rows.
        assert _wal_size(path) < unchecked + 1500 * 4000 // 2, (_wal_size(path), unchecked)
    finally:
        checkpointer.close()
    # Every row is in the database file itself once the WAL is checkpointed (another connection sees them).
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 1800
    finally:
        conn.close()
    db.close()


def test_the_companion_hands_its_checkpoints_to_the_checkpointer(tmp_path):
    """`kith serve`'s writer runs with wal_autocheckpoint = 0 beside a running checkpointer."""

    async def main():
        app = init_app(tmp_path / "kith.db")
        runner = web.AppRunner(app)
        await runner.setup()
        try:
            auto = await app[WRITER].run(lambda db: db.execute("PRAGMA wal_autocheckpoint").fetchone()[0])
            threads = {t.name for t in threading.enumerate()}
        finally:
            await runner.cleanup()
        return auto, threads

    auto, threads = asyncio.run(main())
    assert auto == 0
    assert "kith-checkpoint" in threads
