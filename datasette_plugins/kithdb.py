"""Finding the Kith database inside Datasette, checking access, and writing.

Datasette may serve several databases (`datasette kith.db other.db`, or
`kith serve`); Kith's is the one named by the plugin config (`database:`), else
the first with a `contacts` table and sqlite-utils' `_sqlite_migrations`. Writes go through the companion's single writer when it
runs in this process, so Datasette never competes with it for the lock.
"""

from __future__ import annotations

import time
import weakref
from typing import Any, Callable

import sqlite_utils

from companion.store.db import wrap_connection, writer_for

from . import config
from .actions import WRITES

NEGATIVE_TTL = 5.0
_MARKERS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
MARKER_SQL = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('contacts', '_sqlite_migrations')"


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
    """The Kith database: the one named by `plugins: kith: database:`, else the first
    Kith database Datasette is serving; None when there is none."""
    name = config.get(datasette).database
    if name is not None:
        database = datasette.databases.get(name)
        return database if await is_kith(database) else None
    for name, database in datasette.databases.items():
        if name.startswith("_"):
            continue
        if await is_kith(database):
            return database
    return None


def missing_message(datasette) -> str:
    name = config.get(datasette).database
    if name is not None:
        return f"The database {name!r} chosen by plugins: kith: database: is not being served or has no Kith tables"
    return "No Kith database is being served (one with a contacts table and _sqlite_migrations)"


async def can_view(datasette, actor, database_name: str) -> bool:
    """Datasette's own view checks (instance, then database), so `allow` blocks and
    permissions in its config also cover Kith."""
    if hasattr(datasette, "allowed"):  # Datasette 1.0a20+
        from datasette.resources import DatabaseResource  # type: ignore[import-not-found]

        return await datasette.allowed(action="view-instance", actor=actor) and await datasette.allowed(
            action="view-database", resource=DatabaseResource(database=database_name), actor=actor
        )
    for check in (("view-instance", None), ("view-database", database_name)):
        if not await datasette.permission_allowed(actor, check[0], resource=check[1], default=True):
            return False
    return True


async def can_write(datasette, actor, database_name: str, action: str, table: str) -> bool:
    """Datasette's write permission (`insert-row`, `update-row`) on one table.

    1.0 denies these to everyone by default (grant them in datasette.yaml, or use
    `--root`). 0.65 has no write permissions of its own: anyone who may view a
    database may run its writable canned queries, so the default there is yes,
    and a permission plugin may still say no.
    """
    if hasattr(datasette, "allowed"):
        from datasette.resources import TableResource  # type: ignore[import-not-found]

        return await datasette.allowed(
            action=action, actor=actor, resource=TableResource(database=database_name, table=table)
        )
    return await datasette.permission_allowed(actor, action, resource=(database_name, table), default=True)


async def form_access(datasette, actor, database) -> tuple[dict[str, bool], str | None]:
    """({form action: may this actor use it}, why the forms are hidden, if they all are).

    Off in the plugin config or on an immutable database (`datasette -i`): none.
    `forms: anyone` (`kith serve`, one local user): all. Otherwise Datasette's write
    permission on the table each form or item action writes (actions.WRITES).
    """
    mode = config.get(datasette).forms
    if mode == config.FORMS_OFF:
        return dict.fromkeys(WRITES, False), "off"
    if not database.is_mutable:
        return dict.fromkeys(WRITES, False), "immutable"
    if mode == config.FORMS_ANYONE:
        return dict.fromkeys(WRITES, True), None
    allowed = {}
    for pair in dict.fromkeys(WRITES.values()):
        allowed[pair] = await can_write(datasette, actor, database.name, *pair)
    access = {form: allowed[pair] for form, pair in WRITES.items()}
    return access, None if any(access.values()) else "permission"


async def run_write(database, fn: Callable[[sqlite_utils.Database], Any]) -> Any:
    """Run a store function `fn(db)` as one committed write."""
    writer = writer_for(database.path) if database.path else None
    if writer is not None:
        return await writer.run(fn)

    def in_write_thread(conn):
        with conn:  # wrap_connection: transactions BEGIN IMMEDIATE, so another writer means a wait
            return fn(wrap_connection(conn))

    return await database.execute_write_fn(in_write_thread, block=True)
