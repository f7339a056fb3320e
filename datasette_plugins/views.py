"""Request handlers for the /-/kith/ pages: each is an HTML page with a .json twin.

A handler finds the Kith database, checks Datasette's view permission, runs
one helper from queries.py / graph.py in a single `execute_fn` hop, then
renders a template or returns the same data as JSON.
"""

from __future__ import annotations

from urllib.parse import urlencode

from datasette.utils.asgi import Forbidden, NotFound, Response

from companion.timeutil import now_iso

from . import actions, graph, kithdb, queries
from .safety import highlight, plain, safe_url

PAGES = (("reconnect", "Reconnect"), ("network", "Network"), ("ledger", "Give & take"),
         ("search", "Search"))
CIRCLES = ("professional", "personal", "both")


def routes():
    return [
        (r"^/-/kith/contacts/(?P<contact_id>\d{1,18})(?P<format>\.json)?$", contact_view),
        (r"^/-/kith/network(?P<format>\.json)?$", network_view),
        (r"^/-/kith/reconnect(?P<format>\.json)?$", reconnect_view),
        (r"^/-/kith/ledger(?P<format>\.json)?$", ledger_view),
        (r"^/-/kith/search(?P<format>\.json)?$", search_view),
    ]


class Page:
    """What every handler needs: the database, URL helpers and the render step."""

    def __init__(self, datasette, request, database):
        self.datasette, self.request, self.database = datasette, request, database
        self.json = request.url_vars.get("format") == ".json"

    @classmethod
    async def open(cls, datasette, request) -> "Page":
        database = await kithdb.find_database(datasette)
        if database is None:
            raise NotFound("No Kith database is being served (one with a contacts table"
                           " and _sqlite_migrations)")
        if not await kithdb.can_view(datasette, request.actor, database.name):
            raise Forbidden("You may not view the Kith database")
        return cls(datasette, request, database)

    def url(self, path: str, **params) -> str:
        query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
        return self.datasette.urls.path("/-/kith/" + path) + ("?" + query if query else "")

    def contact_url(self, contact_id) -> str:
        return self.url(f"contacts/{int(contact_id)}")

    async def run(self, fn, *args, **kwargs):
        return await self.database.execute_fn(lambda conn: fn(conn, *args, **kwargs))

    async def render(self, template: str, data: dict, **extra) -> Response:
        if self.json:
            return Response.json(data)
        context = {**data, **extra, "kith_pages": [(self.url(p), label, p) for p, label in PAGES],
                   "contact_url": self.contact_url, "kith_url": self.url, "safe_url": safe_url,
                   "json_url": self.request.path + ".json"
                   + ("?" + self.request.query_string if self.request.query_string else ""),
                   "kith_static": lambda name: self.datasette.urls.static_plugins("kith", name)}
        html = await self.datasette.render_template(template, context, request=self.request)
        return Response.html(html)


def _same_site_post(request) -> bool:
    """asgi-csrf skips its check for requests without cookies; a cross-site form post
    carries none (ds_csrftoken is SameSite=Lax), so we insist on the cookie ourselves."""
    if not request.cookies.get("ds_csrftoken"):
        return False
    return request.headers.get("sec-fetch-site", "same-origin") in ("same-origin", "none")


async def contact_view(datasette, request):
    page = await Page.open(datasette, request)
    contact_id = int(request.url_vars["contact_id"])
    if request.method == "POST":
        return await _contact_post(page, contact_id)
    data = await page.run(queries.contact_page, contact_id, request.args.get("limit"))
    if data is None:
        raise NotFound("No such contact")
    if page.json:
        return Response.json(data)
    contact = data["contact"]
    for ident in data["identities"]:
        ident["href"] = safe_url(ident["url"])
    for item in data["timeline"]:
        item["href"] = safe_url(item["url"])
    return await page.render("kith_contact.html", data, avatar=safe_url(contact.get("avatar_url")),
                             interaction_kinds=actions.INTERACTION_KINDS, today=now_iso()[:10],
                             title=contact["name"] or f"Contact {contact_id}")


async def _contact_post(page: Page, contact_id: int) -> Response:
    datasette, request = page.datasette, page.request
    if not _same_site_post(request):
        return Response.text("This form must be submitted from the Kith page itself", status=403)
    form = await request.post_vars()
    back = page.url("reconnect") if form.get("next") == "reconnect" else page.contact_url(contact_id)
    exists = await page.run(lambda conn: conn.execute(
        "SELECT 1 FROM contacts WHERE id = ?", [contact_id]).fetchone())
    if not exists:
        raise NotFound("No such contact")
    try:
        fn, message = actions.parse(form, contact_id)
        await kithdb.run_write(page.database, fn)
    except actions.FormError as error:
        datasette.add_message(request, str(error), datasette.ERROR)
    else:
        datasette.add_message(request, message, datasette.INFO)
    return Response.redirect(back)


async def network_view(datasette, request):
    page = await Page.open(datasette, request)
    args = request.args
    params = {key: args.get(key) for key in ("center", "depth", "tag", "circle", "limit", "path_to")}
    if page.json:
        return Response.json(await page.run(graph.network, **params))
    tags = await page.run(lambda conn: [r[0] for r in conn.execute(
        "SELECT name FROM tags ORDER BY name COLLATE NOCASE LIMIT 500")])
    clean = {k: v for k, v in params.items() if v}
    return await page.render("kith_network.html", {"params": clean, "tags": tags},
                             circles=CIRCLES, data_url=page.url("network.json", **clean),
                             title="Network")


async def reconnect_view(datasette, request):
    page = await Page.open(datasette, request)
    data = await page.run(queries.reconnect_queue, now_iso(), request.args.get("limit"))
    if not page.json:
        for person in data["people"]:
            person["avatar"] = safe_url(person["avatar_url"])
    return await page.render("kith_reconnect.html", data, title="Reconnect")


async def ledger_view(datasette, request):
    page = await Page.open(datasette, request)
    data = await page.run(queries.ledger, request.args.get("filter") or "all",
                          request.args.get("limit"))
    filters = [("all", "Everyone"), ("only_taken", "Who have I only taken from?"),
               ("could_help", "Whom could I help?")]
    return await page.render("kith_ledger.html", data, filters=filters, title="Give & take")


async def search_view(datasette, request):
    page = await Page.open(datasette, request)
    q = (request.args.get("q") or "").strip()[:500]
    data = await page.run(queries.search, q)
    for hit in [h for p in data["people"] for h in p["hits"]] + data["unassigned"]:
        if page.json:
            hit["snippet"] = plain(hit["snippet"])
        else:
            hit["snippet_html"] = highlight(hit["snippet"])
    if not page.json:
        for person in data["people"]:
            person["avatar"] = safe_url(person["avatar_url"])
    return await page.render("kith_search.html", data, title=f"Search: {q}" if q else "Search")
