"""Kith's Datasette plugin: Today, contact pages, the network graph, the reconnect queue,
the give/take ledger, search and the name picker's people search, under /-/kith/.

Only thin hook implementations live here, using hooks present in both
Datasette 0.65 and 1.0; the SQL is in queries.py and graph.py, the handlers in
views.py. Labels need no hook: Datasette picks `contacts.name` as the label
column by itself, so every `contact_id` foreign key displays the person's name.
`canned_queries` and `skip_csrf` are 0.65 hooks (1.0 ignores them); on 1.0 the
stored queries are added by `startup`, and its own CSRF check has nothing to skip.
"""

from __future__ import annotations

import pluggy

# Datasette's own marker (`datasette.hookimpl` is `HookimplMarker("datasette")`), made here so that
# importing this package never imports Datasette: a test or script that imports a helper module
# first would otherwise make Datasette load this plugin half-initialised (hooks not yet defined)
# and register it with no hooks. For the same reason each hook imports its helpers when called.
hookimpl = pluggy.HookimplMarker("datasette")


@hookimpl
def asgi_wrapper(datasette):
    """Host pin, cross-site write refusal and no-framing headers in front of all of Datasette."""
    from . import gate

    def extra_hosts():
        return (datasette.plugin_config("kith") or {}).get("allowed_hosts") or ()

    return lambda app: gate.wrap(app, extra_hosts)


@hookimpl
def register_routes(datasette):
    from . import config, views

    try:
        home = config.get(datasette).home
    except config.ConfigError:
        home = config.HOME_DATASETTE  # the startup hook stops Datasette with the reason
    return views.routes(home)


@hookimpl
def render_cell(value, column, table, database, row, datasette):
    if column not in ("avatar_url", "url", "name"):
        return None
    from . import cells, kithdb

    async def inner():
        kith = await kithdb.find_database(datasette)  # the links below lead to its contacts
        if kith is None or kith.name != database:
            return None
        return cells.render(value, column, table, row, lambda i: datasette.urls.path(f"/-/kith/contacts/{i}"))

    return inner


@hookimpl
def menu_links(datasette):
    from . import kithdb

    async def inner():
        if await kithdb.find_database(datasette) is None:
            return []
        return [{"href": datasette.urls.path("/-/kith/today"), "label": "Kith"}]

    return inner


@hookimpl
def startup(datasette):
    from . import canned, config

    async def inner():
        config.get(datasette)  # a bad `plugins: kith:` block stops Datasette here, saying why
        if hasattr(datasette, "add_query"):  # 1.0: no canned_queries hook
            await canned.register(datasette)

    return inner


@hookimpl
def skip_csrf(datasette, scope):
    from . import views

    # 0.65's asgi-csrf fails with a 500 on any multipart body (python-multipart changed under
    # it); the contact form handler refuses those itself with a 415 and checks the token.
    return views.skip_asgi_csrf(scope)


@hookimpl
def canned_queries(datasette, database):
    from . import canned, kithdb

    async def inner():
        if await kithdb.is_kith(datasette.databases.get(database)):
            return canned.for_database(datasette, database)
        return None

    return inner
