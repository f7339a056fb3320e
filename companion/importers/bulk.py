"""Bulk writes that keep the full-text index exact without paying its per-row triggers.

sqlite-utils' FTS triggers index one row per statement; for 30,000 new
contacts or 100,000 messages that is most of an import's time. Inside the
import's transaction (which holds the write lock) the insert trigger is
dropped, the rows go in with one executemany, the new rows are indexed with
one INSERT … SELECT, and the trigger is re-created from its own stored SQL.
When the batch is at least as big as the table already is, its secondary
indexes are dropped the same way and re-created after the insert (one sort
instead of a B-tree insert per row and index). Everything is one transaction:
a failure rolls the DDL back too, and other connections never see the table
without its trigger or indexes.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager, nullcontext
from typing import Iterable, Sequence

from sqlite_utils import Database

BULK_THRESHOLD = 500  # below this, the ordinary triggers are cheaper than the DDL


@contextmanager
def triggers_suspended(db: Database, names: Iterable[str]):
    """Drop these triggers for the duration of the block and restore them exactly."""
    saved = []
    for name in names:
        row = db.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?", [name]).fetchone()
        if row:
            saved.append(row[0])
            db.execute(f"DROP TRIGGER [{name}]")
    yield
    for sql in saved:
        db.execute(sql)


@contextmanager
def indexes_suspended(db: Database, table: str):
    """Drop `table`'s own non-unique indexes for the block and re-create them from their stored SQL
    (unique ones stay: they are what refuses a duplicate row)."""
    unique = {row[1] for row in db.execute(f"PRAGMA index_list([{table}])") if row[2]}
    saved = [
        (name, sql)
        for name, sql in db.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
            [table],
        )
        if name not in unique
    ]
    for name, _ in saved:
        db.execute(f"DROP INDEX [{name}]")
    yield
    for _, sql in saved:
        db.execute(sql)


def _fts_columns(db: Database, table: str) -> tuple[str | None, list[str]]:
    fts = db[table].detect_fts()
    if not fts:
        return None, []
    return fts, [c.name for c in db[fts].columns]


def bulk_insert(db: Database, table: str, sql: str, rows: Sequence) -> None:
    """executemany `sql` (an INSERT into `table`), indexing the new rows for search in one step."""
    if not rows:
        return
    if len(rows) < BULK_THRESHOLD:
        db.conn.executemany(sql, rows)
        return
    assert db.conn.in_transaction, "bulk_insert runs inside the import's transaction"
    fts, columns = _fts_columns(db, table)
    first = db.execute(f"SELECT coalesce(max(rowid), 0) + 1 FROM [{table}]").fetchone()[0]
    rebuild = len(rows) >= first - 1  # the batch at least doubles the table (max(rowid) bounds its size)
    with triggers_suspended(db, [f"{table}_ai"] if fts else []):
        with indexes_suspended(db, table) if rebuild else nullcontext():
            db.conn.executemany(sql, rows)
        if fts:
            cols = ", ".join(f"[{c}]" for c in columns)
            db.execute(
                f"INSERT INTO [{fts}] (rowid, {cols}) SELECT rowid, {cols} FROM [{table}] WHERE rowid >= ?", [first]
            )


def bulk_update_unindexed(db: Database, table: str, sql: str, rows: Sequence) -> None:
    """executemany an UPDATE that changes no full-text column (e.g. last_interaction_at):
    the update trigger would only delete and re-add identical index entries."""
    if len(rows) < BULK_THRESHOLD:
        db.conn.executemany(sql, rows)
        return
    with triggers_suspended(db, [f"{table}_au"]):
        db.conn.executemany(sql, rows)


@contextmanager
def gc_paused():
    """Building tens of thousands of small dicts and lists triggers Python's cyclic garbage
    collector over and over (a third of a 30k-row import); nothing here makes cycles, so
    it is paused for the duration and restored after."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
