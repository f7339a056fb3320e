"""Request handlers for the /-/kith/ pages: each is an HTML page with a .json twin.

A handler finds the Kith database, checks Datasette's view permission, runs
one helper from queries.py / graph.py in a single `execute_fn` hop, then
renders a template or returns the same data as JSON.
"""

from __future__ import annotations

import asyncio
import hmac
import re
from functools import lru_cache, partial
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from datasette import app as datasette_app
from datasette.utils.asgi import Forbidden, NotFound, Response

from companion import reextract
from companion.timeutil import now_iso

from . import actions, config, graph, kithdb, people, queries, today
from .safety import highlight, plain, safe_url

PAGES = (
    ("today", "Today"),
    ("reconnect", "Reconnect"),
    ("network", "Network"),
    ("ledger", "Give & take"),
    ("search", "Search"),
)
# Where a form may send the browser back to (anything else: the contact page).
RETURN_PAGES = ("reconnect", "today")
CIRCLES = ("professional", "personal", "both")
CONTACT_PATH = re.compile(r"/-/kith/contacts/\d{1,18}(\.json)?$")
FORM_TYPE = "application/x-www-form-urlencoded"
# Datasette 0.65 (asgi-csrf) checks a signed `ds_csrftoken` cookie against the form's
# `csrftoken`; 1.0 checks Sec-Fetch-Site / Origin instead and has no such cookie.
TOKEN_CSRF = getattr(datasette_app, "asgi_csrf", None) is not None
HIDDEN_FORMS = {
    "off": "The forms are switched off (plugins: kith: forms: false).",
    "immutable": "This database is opened read-only (immutable), so there are no forms.",
    "permission": "Datasette does not let you write to this database, so the forms are hidden:"
    " sign in with a write permission (insert-row, update-row), or for one local"
    " user set plugins: kith: forms: anyone.",
}


def routes(home: str = config.HOME_DATASETTE):
    """The /-/kith/ pages; with `home: today`, / too (Datasette's index stays at /-/kith/datasette)."""
    found = [
        (r"^/-/kith/today(?P<format>\.json)?$", today_view),
        (r"^/-/kith/people(?P<format>\.json)?$", people_view),
        (r"^/-/kith/contacts/(?P<contact_id>\d{1,18})(?P<format>\.json)?$", contact_view),
        (r"^/-/kith/network(?P<format>\.json)?$", network_view),
        (r"^/-/kith/reconnect(?P<format>\.json)?$", reconnect_view),
        (r"^/-/kith/ledger(?P<format>\.json)?$", ledger_view),
        (r"^/-/kith/search(?P<format>\.json)?$", search_view),
        (r"^/-/kith/datasette(\.(?P<format>json))?$", datasette_index_view),
    ]
    if home == config.HOME_TODAY:
        found.append((r"^/(?P<format>)$", home_view))  # an empty `format`: Datasette's index reads it
    return found


class Page:
    """What every handler needs: the database, URL helpers and the render step."""

    def __init__(self, datasette, request, database):
        self.datasette, self.request, self.database = datasette, request, database
        self.json = request.url_vars.get("format") == ".json"

    @classmethod
    async def open(cls, datasette, request) -> "Page":
        database = await kithdb.find_database(datasette)
        if database is None:
            raise NotFound(kithdb.missing_message(datasette))
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
        context = {
            **data,
            **extra,
            "kith_pages": [(self.url(p), label, p) for p, label in PAGES],
            "contact_url": self.contact_url,
            "kith_url": self.url,
            "safe_url": safe_url,
            "people_url": self.url("people.json"),
            "datasette_index_url": self.url("datasette"),
            "json_url": self.request.path
            + ".json"
            + ("?" + self.request.query_string if self.request.query_string else ""),
            "kith_static": lambda name: self.datasette.urls.static_plugins(static_name(), name),
        }
        html = await self.datasette.render_template(template, context, request=self.request)
        return Response.html(html)


@lru_cache(maxsize=1)
def static_name() -> str:
    """The name Datasette serves this plugin's static files under: its distribution's
    (kith-network), or the module's when loaded without one (`--plugins-dir`)."""
    from datasette.plugins import get_plugins

    ours = (Path(__file__).parent / "static").resolve()
    for plugin in get_plugins():
        if plugin.get("static_path") and Path(plugin["static_path"]).resolve() == ours:
            return plugin["name"]
    return __package__


def skip_asgi_csrf(scope) -> bool:
    """For 0.65's skip_csrf hook: a multipart post to a contact page, which asgi-csrf cannot
    parse (a 500); `_contact_post` refuses it with a 415 and checks the token itself."""
    if scope.get("method") != "POST" or not CONTACT_PATH.search(scope.get("path") or ""):
        return False
    headers = dict(scope.get("headers") or [])
    return headers.get(b"content-type", b"").split(b";")[0].strip().lower() == b"multipart/form-data"


def _origin(value: str) -> tuple[str, str, int | None] | None:
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        return None
    if not parts.scheme or not parts.hostname:
        return None
    scheme = parts.scheme.lower()
    return scheme, parts.hostname.lower(), port or {"http": 80, "https": 443}.get(scheme)


def csrf_refusal(datasette, request, form: dict) -> str | None:
    """Why this form post may not have come from Kith's own page; None when it did.

    On both lines, whatever an Authorization header says (asgi-csrf, and 1.0's check
    when no cookie is sent, let `Bearer` requests through): a browser's Sec-Fetch-Site
    must be same-origin (or none: typed in), and without it an Origin must match the
    Host. On 0.65 the form's `csrftoken` must also equal the `ds_csrftoken` cookie and
    carry Datasette's signature: a cross-site post has no cookie (it is SameSite=Lax),
    and asgi-csrf lets cookie-less and Bearer posts through unchecked.
    """
    site = request.headers.get("sec-fetch-site")
    origin = request.headers.get("origin")
    if site is not None:
        if site not in ("same-origin", "none"):
            return f"Sec-Fetch-Site is {site!r}"
    elif origin is not None:
        scheme = "https" if datasette.setting("force_https_urls") else request.scheme
        mine = _origin(f"{scheme}://{request.headers.get('host', '')}")
        if mine is None or _origin(origin) != mine:
            return f"Origin {origin!r} is not this site"
    if not TOKEN_CSRF:
        return None
    cookie = request.cookies.get("ds_csrftoken") or ""
    token = form.get("csrftoken") or ""
    if not cookie or not token:
        return "no CSRF token"
    if not hmac.compare_digest(token.encode("utf-8"), cookie.encode("utf-8")):
        return "the CSRF token does not match"
    try:
        datasette.unsign(cookie, "csrftoken")  # asgi-csrf's signature, with Datasette's secret
    except Exception:  # itsdangerous' BadSignature (Datasette's dependency, not Kith's)
        return "the CSRF cookie is not Datasette's"
    return None


async def contact_view(datasette, request):
    page = await Page.open(datasette, request)
    contact_id = int(request.url_vars["contact_id"])
    if request.method == "POST":
        return await _contact_post(page, contact_id)
    now = now_iso()
    cadence = config.get(datasette).cadence_days

    def read(conn):
        found = queries.contact_page(conn, contact_id, request.args.get("limit"))
        return found and {**found, **today.contact_extras(conn, contact_id, now, cadence=dict(cadence))}

    data = await page.run(read)
    if data is None:
        raise NotFound("No such contact")
    if page.json:
        return Response.json(data)
    forms, hidden = await kithdb.form_access(datasette, request.actor, page.database)
    contact = data["contact"]
    for ident in data["identities"]:
        ident["href"] = safe_url(ident["url"])
    for item in data["timeline"]:
        item["href"] = safe_url(item["url"])
    for suggestion in data["merge_suggestions"]:
        suggestion["other"] = suggestion["drop"] if suggestion["keep_id"] == contact_id else suggestion["keep"]
    return await page.render(
        "kith_contact.html",
        data,
        avatar=safe_url(contact.get("avatar_url")),
        interaction_kinds=actions.INTERACTION_KINDS,
        today=now[:10],
        forms=forms,
        forms_hidden=HIDDEN_FORMS.get(hidden),
        date_labels=DATE_LABELS,
        title=contact["name"] or f"Contact {contact_id}",
    )


DATE_LABELS = ("Wedding anniversary", "Work anniversary", "Name day", "Visa renewal", "Passport renewal")


async def _contact_post(page: Page, contact_id: int) -> Response:
    datasette, request = page.datasette, page.request
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != FORM_TYPE:
        return Response.text(f"Kith's forms are posted as {FORM_TYPE}", status=415)
    forms, hidden = await kithdb.form_access(datasette, request.actor, page.database)
    if hidden in ("off", "immutable"):
        return Response.text(HIDDEN_FORMS[hidden], status=403)
    form = await request.post_vars()
    refusal = csrf_refusal(datasette, request, form)
    if refusal:
        return Response.text(f"This form must be submitted from the Kith page itself ({refusal})", status=403)
    if form.get("action") in forms and not forms[form["action"]]:
        action, table = actions.WRITES[form["action"]]
        return Response.text(f"You may not write to the Kith database ({action} on {table})", status=403)
    back = page.url(form["next"]) if form.get("next") in RETURN_PAGES else page.contact_url(contact_id)
    if form.get("action") == "merge":
        back = page.contact_url(contact_id)  # the merged contact, with both histories
    exists = await page.run(lambda conn: conn.execute("SELECT 1 FROM contacts WHERE id = ?", [contact_id]).fetchone())
    if not exists:
        raise NotFound("No such contact")
    try:
        if form.get("action") == "reextract":
            message = await _reextract(page, contact_id, form)
        else:
            fn, message = actions.parse(form, contact_id)
            await kithdb.run_write(page.database, fn)
    except actions.FormError as error:
        datasette.add_message(request, str(error), datasette.ERROR)
    else:
        datasette.add_message(request, message, datasette.INFO)
    return Response.redirect(back)


async def _reextract(page: Page, contact_id: int, form: dict) -> str:
    """Run today's extractors again over one of this contact's stored pages: the extraction in
    a thread (it can take a while on a big page), then one write through the one writer."""
    capture_id = (form.get("capture") or "").strip()
    row = await page.run(
        lambda conn: conn.execute(
            reextract.CAPTURES_SQL + " AND id = ? AND contact_id = ?", [capture_id, contact_id]
        ).fetchone()
    )
    if row is None:
        raise actions.FormError("That capture has no stored page to re-extract")
    extraction = await asyncio.to_thread(reextract.extract_row, row)
    status, _ = await kithdb.run_write(
        page.database, partial(reextract.apply_extraction, row=row, extraction=extraction)
    )
    if status == "unparsed":
        return "Re-extracted: the page still could not be parsed"
    return f"Re-extracted: the page is {status} now"


PERSON_PARAMS = ("center", "path_to")


def resolve_people(conn, params: dict) -> tuple[dict, dict, list[str]]:
    """Network filters that name a person ("Priya", "#12" or 12) as ids; with the names to show
    in the filter boxes and what could not be resolved."""
    names, problems = {}, []
    for key in PERSON_PARAMS:
        text = (params.get(key) or "").strip()
        if not text:
            continue
        try:
            contact_id = people.resolve(conn, text)
        except people.Unresolved as error:
            params[key] = None
            problems.append(str(error))
            continue
        params[key] = str(contact_id)
        row = conn.execute("SELECT name FROM contacts WHERE id = ?", [contact_id]).fetchone()
        names[key] = (row[0] if row else None) or f"#{contact_id}"
    return params, names, problems


async def network_view(datasette, request):
    page = await Page.open(datasette, request)
    args = request.args
    params = {key: args.get(key) for key in ("center", "depth", "tag", "circle", "limit", "path_to")}
    if page.json:
        return Response.json(await page.run(graph.network, **params))

    def read(conn):
        tags = [r[0] for r in conn.execute("SELECT name FROM tags ORDER BY name COLLATE NOCASE LIMIT 500")]
        return tags, *resolve_people(conn, params)

    tags, params, names, problems = await page.run(read)
    clean = {k: v for k, v in params.items() if v}
    return await page.render(
        "kith_network.html",
        {"params": clean, "tags": tags},
        circles=CIRCLES,
        data_url=page.url("network.json", **clean),
        names=names,
        problems=problems,
        title="Network",
    )


async def today_view(datasette, request):
    page = await Page.open(datasette, request)
    defaults = config.get(datasette)  # the settings table still wins over these
    data = await page.run(today.today, now_iso(), capacity=defaults.weekly_capacity, cadence=defaults.cadence_days)
    if page.json:
        return Response.json(data)
    for person in data["reconnect"]["people"] + data["job_changes"]["people"] + data["upcoming"]["items"]:
        person["avatar"] = safe_url(person.get("avatar_url"))
    for capture in data["recent"]["captures"] + data["recent"]["unparsed"]:
        capture["href"] = safe_url(capture["url"])
    forms, hidden = await kithdb.form_access(datasette, request.actor, page.database)
    return await page.render(
        "kith_today.html",
        data,
        forms=forms,
        forms_hidden=HIDDEN_FORMS.get(hidden),
        duplicates_url=datasette.urls.database(page.database.name) + "/possible_duplicates",
        title="Today",
    )


async def people_view(datasette, request):
    page = await Page.open(datasette, request)
    data = await page.run(people.search_people, request.args.get("q"))
    if page.json:
        return Response.json(data)
    for person in data["people"]:
        person["avatar"] = safe_url(person["avatar_url"])
    return await page.render("kith_people.html", data, title="People")


async def home_view(datasette, request, send):
    """/ under `home: today` (what `kith serve` sets): Today, when a Kith database is served."""
    if await kithdb.find_database(datasette) is None:
        return await datasette_index_view(datasette, request, send)
    return Response.redirect(datasette.urls.path("/-/kith/today"))


async def datasette_index_view(datasette, request, send):
    """Datasette's own index (every database and table), one click from Today."""
    from datasette.views.index import IndexView

    return await IndexView.as_view(datasette)(request, send)


async def reconnect_view(datasette, request):
    page = await Page.open(datasette, request)
    defaults = config.get(datasette)  # the settings table still wins over these
    data = await page.run(
        queries.reconnect_queue,
        now_iso(),
        request.args.get("limit"),
        capacity=defaults.weekly_capacity,
        cadence=defaults.cadence_days,
    )
    if page.json:
        return Response.json(data)
    for person in data["people"]:
        person["avatar"] = safe_url(person["avatar_url"])
    forms, _ = await kithdb.form_access(datasette, request.actor, page.database)
    return await page.render("kith_reconnect.html", data, title="Reconnect", forms=forms)


async def ledger_view(datasette, request):
    page = await Page.open(datasette, request)
    data = await page.run(queries.ledger, request.args.get("filter") or "all", request.args.get("limit"))
    filters = [("all", "Everyone"), ("only_taken", "Who have I only taken from?"), ("could_help", "Whom could I help?")]
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
