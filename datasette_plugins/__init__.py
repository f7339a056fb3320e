"""Kith's Datasette plugin: contact pages, the network graph, the reconnect queue,
the give/take ledger and search, under /-/kith/.

Only thin hook implementations live here, using hooks present in both
Datasette 0.65 and 1.0; the SQL is in queries.py and graph.py, the handlers in
views.py. Labels need no hook: Datasette picks `contacts.name` as the label
column by itself, so every `contact_id` foreign key displays the person's name.
"""

from __future__ import annotations

from datasette import hookimpl

from . import canned, cells, kithdb, views


@hookimpl
def register_routes():
    return views.routes()


@hookimpl
def render_cell(value, column, table, database, row, datasette):
    if column not in ("avatar_url", "url", "name"):
        return None

    async def inner():
        if not await kithdb.is_kith(datasette.databases.get(database)):
            return None
        return cells.render(value, column, table, row,
                            lambda i: datasette.urls.path(f"/-/kith/contacts/{i}"))

    return inner


@hookimpl
def menu_links(datasette):
    async def inner():
        if await kithdb.find_database(datasette) is None:
            return []
        return [{"href": datasette.urls.path("/-/kith/reconnect"), "label": "Kith"}]

    return inner


@hookimpl
def canned_queries(datasette, database):
    async def inner():
        if await kithdb.is_kith(datasette.databases.get(database)):
            return canned.QUERIES
        return None

    return inner
