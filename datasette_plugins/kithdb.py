"""Finding the Kith database inside Datasette, checking access, and writing.

Datasette may serve several databases (`datasette kith.db other.db`, or
`kith serve`); Kith's is the one with a `contacts` table and sqlite-utils'
`_sqlite_migrations`. Writes go through the companion's single writer when it
runs in this process, so Datasette never competes with it for the lock.
"""

from __future__ import annotations

import time
import weakref
from typing import Any, Callable

import sqlite_utils

from companion.store.db import wrap_connection, writer_for

NEGATIVE_TTL = 5.0
_MARKERS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
MARKER_SQL = ("SELECT count(*) FROM sqlite_master WHERE type = 'table'"
              " AND name IN ('contacts', '_sqlite_migrations')")


async def is_kith(database) -> bool:
    """Cached: yes for good, no for a few seconds (a database may be migrated while served)."""
    if database is None or getattr(database, "is_memory", False):
        return False
    known, checked_at = _MARKERS.get(database, (None, 0.0))
    if known or (known is False and time.monotonic() - checked_at < NEGATIVE_TTL):
        return known
    known = (await database.execute(MARKER_SQL)).first()[0] == 2
    _MARKERS[database] = (known, time.monotonic())
    return known


async def find_database(datasette):
    """The first Kith database Datasette is serving, or None."""
    for name, database in datasette.databases.items():
        if name.startswith("_"):
            continue
        if await is_kith(database):
            return database
    return None


async def can_view(datasette, actor, database_name: str) -> bool:
    """Datasette's own view-database check, so `allow` blocks in its config also cover Kith."""
    if hasattr(datasette, "allowed"):  # Datasette 1.0a20+
        from datasette.resources import DatabaseResource  # type: ignore[import-not-found]
        return await datasette.allowed(action="view-database",
                                       resource=DatabaseResource(database=database_name),
                                       actor=actor)
    for check in (("view-instance", None), ("view-database", database_name)):
        if not await datasette.permission_allowed(actor, check[0], resource=check[1], default=True):
            return False
    return True


async def run_write(database, fn: Callable[[sqlite_utils.Database], Any]) -> Any:
    """Run a store function `fn(db)` as one committed write."""
    writer = writer_for(database.path) if database.path else None
    if writer is not None:
        return await writer.run(fn)

    def in_write_thread(conn):
        with conn:  # wrap_connection: transactions BEGIN IMMEDIATE, so another writer means a wait
            return fn(wrap_connection(conn))

    return await database.execute_write_fn(in_write_thread, block=True)
