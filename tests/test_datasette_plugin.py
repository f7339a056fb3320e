"""The Datasette plugin through `datasette.client`, on a database built with the store functions.

Covers every /-/kith/ page and its .json twin, the forms (CSRF, writes through
the same store functions, the companion's writer when registered), hostile
captured text, the table-view polish, and the pure helpers on their own.

Runs on Datasette 0.65 (`make test-python`) and 1.0 (`make test-datasette1`); the
plugin config, permission and CSRF differences between the two are in
test_datasette_compat.py, which shares these helpers.
"""

from __future__ import annotations

import json
import re
import sqlite3
from html.parser import HTMLParser
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlite_utils
from datasette.app import Datasette

from companion.store import activity, captures, contacts
from companion.store.db import DbThread, open_db, register_writer, unregister_writer
from datasette_plugins import actions, cells, config, graph, queries, views
from datasette_plugins.safety import MARK_END, MARK_START, highlight, plain, safe_url

NOW = datetime.now(timezone.utc)
XSS_NAME = "<img src=x onerror=alert(1)>"
XSS_NOTE = "<script>alert(1)</script> met at the roadmap workshop"


def iso(days_ago: float = 0) -> str:
    return (NOW - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def seed(path: Path) -> dict[str, int]:
    """A small network with one of everything the pages show, and one hostile contact."""
    db = open_db(path)
    ids: dict[str, int] = {}
    ids["me"] = contacts.create_contact(db, {"name": "Sam Me", "is_me": 1, "circle": "both"})
    ids["alice"], _ = contacts.resolve_and_upsert(
        db,
        {
            "name": "Alice Archer",
            "headline": "Climate data lead",
            "company": "Acme",
            "title": "Lead",
            "location": "Lisbon",
            "avatar_url": "https://img.example/alice.png",
            "circle": "professional",
            "how_met": "PyCon 2023",
            "created_at": iso(400),
        },
        [
            {"kind": "linkedin", "value": "alice-archer", "url": "https://www.linkedin.com/in/alice-archer"},
            {"kind": "email", "value": "alice@example.com", "url": None},
        ],
    )
    ids["bob"] = contacts.create_contact(
        db, {"name": "Bob Baker", "company": "Acme", "circle": "personal", "created_at": iso(400)}
    )
    ids["carol"] = contacts.create_contact(
        db, {"name": "Carol Chen", "company": "Globex", "circle": "both", "created_at": iso(10)}
    )
    ids["dave"] = contacts.create_contact(db, {"name": "Dave Diaz", "circle": "professional", "created_at": iso(300)})
    ids["eve"] = contacts.create_contact(db, {"name": "Eve Evans", "created_at": iso(500)})
    ids["frank"] = contacts.create_contact(db, {"name": "Frank Fox", "circle": "personal", "created_at": iso(300)})
    ids["mallory"], _ = contacts.resolve_and_upsert(
        db,
        {
            "name": XSS_NAME,
            "headline": '"><script>alert(2)</script>',
            "company": "Acme",
            "avatar_url": "javascript:alert(3)",
            "bio": "<svg onload=alert(4)>",
            "circle": "personal",
            "how_met": "<b>bold</b>",
            "created_at": iso(300),
        },
        [{"kind": "url", "value": "evil.example/m", "url": "javascript:alert(5)"}],
    )

    # Alice: a contact cadence, every kind of timeline item, a recent job change.
    activity.set_cadence(db, ids["alice"], 60)
    contacts.set_tags(db, ids["alice"], ["climate", "pycon"])
    captures.save_capture(
        db,
        {
            "capture_id": str(uuid.uuid4()),
            "kind": "note",
            "url": "https://alice.example/",
            "title": "Alice's homepage",
            "text": "Saw her talk on grids",
            "contact_id": ids["alice"],
            "captured_at": iso(300),
        },
        "sha-1",
    )
    activity.add_exchange(db, ids["alice"], "received", "Intro to a grid operator", kind="intro", happened_at=iso(150))
    activity.add_exchange(db, ids["alice"], "received", "Feedback on my talk", happened_at=iso(130))
    activity.add_note(db, ids["alice"], "Interested in the roadmap for solar", created_at=iso(120))
    activity.add_messages(
        db,
        ids["alice"],
        [
            {
                "body": "Sending the quarterly roadmap deck",
                "direction": "out",
                "sent_at": iso(100),
                "channel": "email",
                "thread_url": "https://mail.example/t/1",
            }
        ],
    )
    activity.log_interaction(db, ids["alice"], "call", happened_at=iso(94), summary="Roadmap catch-up")
    contacts.update_contact(db, ids["alice"], {"title": "Head of Data"}, now=iso(10))

    # Bob: long overdue but snoozed. Dave: a tag cadence beats his circle's. Frank: circle default.
    activity.log_interaction(db, ids["bob"], "coffee", happened_at=iso(200))
    activity.snooze(db, ids["bob"], (NOW + timedelta(days=10)).date().isoformat())
    activity.add_exchange(db, ids["bob"], "gave", "Reviewed his CV", happened_at=iso(50))
    activity.add_exchange(db, ids["bob"], "received", "Lent me a tent", happened_at=iso(40))
    contacts.set_tags(db, ids["dave"], ["mentor"])
    db.execute("UPDATE tags SET keep_in_touch_days = 14 WHERE name = 'mentor'")
    activity.log_interaction(db, ids["dave"], "video", happened_at=iso(20))
    activity.add_exchange(db, ids["dave"], "gave", "Intro to Carol", happened_at=iso(20))
    activity.log_interaction(db, ids["frank"], "meal", happened_at=iso(45))
    activity.add_exchange(db, ids["carol"], "received", "Conference ticket", happened_at=iso(8))
    activity.add_exchange(db, ids["carol"], "received", "Book", happened_at=iso(7))
    activity.add_exchange(db, ids["carol"], "gave", "Coffee", happened_at=iso(6))
    activity.add_note(db, ids["carol"], "Asked about the roadmap too", created_at=iso(9))
    activity.add_note(db, None, "Roadmap ideas, nobody in particular", created_at=iso(5))

    # Mallory: everything hostile; her note also resets her clock (100 days, personal: every 30).
    activity.add_note(db, ids["mallory"], XSS_NOTE, created_at=iso(100))

    activity.add_relationship(db, ids["alice"], ids["me"], "knows")
    activity.add_relationship(db, ids["bob"], ids["alice"], "introduced_by", "at PyCon")
    activity.add_relationship(db, ids["dave"], ids["bob"], "works_with")
    activity.add_relationship(db, ids["mallory"], ids["carol"], "knows")
    activity.add_relationship(db, ids["carol"], ids["me"], "knows")
    db.conn.commit()
    db.close()
    return ids


def make_datasette(files, kith_config: dict | None = None, **kwargs) -> Datasette:
    """A Datasette with a `plugins: kith:` block, in `config=` (1.0) or `metadata=` (0.65)."""
    if kith_config is not None:
        kwargs.update(config.datasette_kwargs(kith_config))
    return Datasette([str(f) for f in files], **kwargs)


def close(ds) -> None:
    for database in ds.databases.values():
        if hasattr(database, "close"):
            database.close()


@pytest.fixture
def kith(tmp_path):
    """A seeded database, served as `kith serve` serves it: forms for the one local user."""
    path = tmp_path / "kith.db"
    ids = seed(path)
    ds = make_datasette([path], {"forms": "anyone"})
    yield ds, ids, path
    close(ds)


def get_json(response) -> dict:
    assert response.status_code == 200, response.text[:500]
    assert response.headers["content-type"].startswith("application/json")
    return response.json()


# What a browser sends with a form post from one of Kith's pages (datasette.client is on localhost).
SAME_ORIGIN = {"sec-fetch-site": "same-origin", "origin": "http://localhost"}


class _Forms(HTMLParser):
    """The page's Kith forms: {id: {"action": url, "fields": {name: value}}}."""

    def __init__(self):
        super().__init__()
        self.forms: dict[str, dict] = {}
        self._current = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if (
            tag == "form"
            and (attrs.get("method") or "").lower() == "post"
            and (attrs.get("action") or "").startswith("/-/kith/")
        ):  # not Datasette's own (log out)
            self._current = {"action": attrs.get("action"), "fields": {}}
            self.forms[attrs.get("id") or f"form-{len(self.forms)}"] = self._current
        elif self._current is not None and tag in ("input", "select", "textarea") and attrs.get("name"):
            if attrs.get("type") not in ("radio", "checkbox") or "checked" in attrs:
                self._current["fields"].setdefault(attrs["name"], attrs.get("value") or "")

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


class Page:
    """A page as a browser got it: its POST forms and the cookies it set (on 0.65, ds_csrftoken)."""

    def __init__(self, response):
        assert response.status_code == 200, response.text[:500]
        self.html = response.text
        parser = _Forms()
        parser.feed(self.html)
        self.forms = parser.forms
        self.cookies = dict(response.cookies)
        tokens = {f["fields"].get("csrftoken") for f in self.forms.values()}
        self.token = tokens.pop() if len(tokens) == 1 else None

    def cookie_header(self, **extra) -> dict:
        jar = {**self.cookies, **extra}
        return {"cookie": "; ".join(f"{k}={v}" for k, v in jar.items())} if jar else {}

    async def submit(self, ds, form_id: str, fields: dict | None = None, headers: dict | None = None):
        """Fill in and post one form, with the headers and cookies a browser would send."""
        form = self.forms[form_id]
        return await ds.client.post(
            form["action"],
            data={**form["fields"], **(fields or {})},
            headers={**SAME_ORIGIN, **self.cookie_header(), **(headers or {})},
        )


async def open_page(ds, path: str, headers: dict | None = None) -> Page:
    return Page(await ds.client.get(path, headers=headers))


async def post_form(ds, contact_id: int, fields: dict, *, page: Page | None = None, headers: dict | None = None):
    """Post `fields` (with the page's CSRF token) to a contact page, as that page's forms do."""
    path = f"/-/kith/contacts/{contact_id}"
    page = page or await open_page(ds, path)
    data = {"csrftoken": page.token, **fields} if page.token else fields
    return await ds.client.post(path, data=data, headers={**SAME_ORIGIN, **page.cookie_header(), **(headers or {})})


def db_rows(path, sql, params=()):
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


# --- every page, and its JSON twin --------------------------------------------------------

PAGES = [
    "/-/kith/contacts/{alice}",
    "/-/kith/network",
    "/-/kith/network?center={alice}&depth=2",
    "/-/kith/reconnect",
    "/-/kith/ledger",
    "/-/kith/search?q=roadmap",
]


@pytest.mark.parametrize("template", PAGES)
async def test_every_page_renders_with_a_json_twin(kith, template):
    ds, ids, _ = kith
    path = template.format(**ids)
    html = await ds.client.get(path)
    assert html.status_code == 200
    assert html.headers["content-type"].startswith("text/html")
    assert 'class="kith-nav"' in html.text
    base, _, query = path.partition("?")
    twin = base + ".json" + ("?" + query if query else "")
    assert f'href="{twin.replace("&", "&amp;")}"' in html.text  # the page links its twin
    assert isinstance(get_json(await ds.client.get(twin)), dict)


async def test_contact_page_card_identities_and_relationships(kith):
    ds, ids, _ = kith
    html = (await ds.client.get(f"/-/kith/contacts/{ids['alice']}")).text
    for text in (
        "Alice Archer",
        "Climate data lead",
        "Head of Data at Acme",
        "Lisbon",
        "professional",
        "PyCon 2023",
        "every 60 days",
        ">climate<",
        ">pycon<",
    ):
        assert text in html
    assert '<img class="kith-photo" src="https://img.example/alice.png"' in html
    assert 'href="https://www.linkedin.com/in/alice-archer"' in html
    assert "alice@example.com" in html
    assert f'introduced you to <a href="/-/kith/contacts/{ids["bob"]}">Bob Baker</a>' in html
    assert f'knows <a href="/-/kith/contacts/{ids["me"]}">Sam Me</a>' in html
    assert f"/-/kith/network?path_to={ids['alice']}" in html
    bob = (await ds.client.get(f"/-/kith/contacts/{ids['bob']}")).text
    assert f'introduced by <a href="/-/kith/contacts/{ids["alice"]}">Alice Archer</a>' in bob


async def test_contact_timeline_is_one_list_newest_first(kith):
    ds, ids, _ = kith
    data = get_json(await ds.client.get(f"/-/kith/contacts/{ids['alice']}.json"))
    assert data["contact"]["name"] == "Alice Archer"
    assert [i["kind"] for i in data["identities"]] == ["email", "linkedin"]
    assert data["tags"] == ["climate", "pycon"]
    timeline = data["timeline"]
    assert [t["kind"] for t in timeline] == [
        "profile_change",
        "interaction",
        "message",
        "note",
        "exchange",
        "exchange",
        "capture",
        "note",
    ]
    stamps = [t["at"] for t in timeline]
    assert stamps == sorted(stamps, reverse=True)
    change = timeline[0]
    assert (change["title"], change["text"], change["extra"]) == ("title", "Lead", "Head of Data")
    html = (await ds.client.get(f"/-/kith/contacts/{ids['alice']}")).text
    assert (
        html.index("Head of Data</strong>")
        < html.index("Roadmap catch-up")
        < html.index("Sending the quarterly roadmap deck")
        < html.index("Saw her talk on grids")
    )


async def test_timeline_shows_the_newest_items_with_a_link_to_older_ones(kith):
    ds, ids, _ = kith
    short = get_json(await ds.client.get(f"/-/kith/contacts/{ids['alice']}.json?limit=3"))
    assert [t["kind"] for t in short["timeline"]] == ["profile_change", "interaction", "message"]
    assert short["timeline_more"] is True
    html = (await ds.client.get(f"/-/kith/contacts/{ids['alice']}?limit=3")).text
    assert f'href="/-/kith/contacts/{ids["alice"]}?limit=9">Show older</a>' in html
    full = get_json(await ds.client.get(f"/-/kith/contacts/{ids['alice']}.json"))
    assert full["timeline_more"] is False and full["timeline_limit"] == queries.TIMELINE_LIMIT


async def test_unknown_contact_and_non_numeric_ids_are_404(kith):
    ds, _, _ = kith
    assert (await ds.client.get("/-/kith/contacts/999999")).status_code == 404
    assert (await ds.client.get("/-/kith/contacts/999999.json")).status_code == 404
    assert (await ds.client.get("/-/kith/contacts/abc")).status_code == 404


# --- forms -------------------------------------------------------------------------------


async def test_add_note_form_writes_through_the_store_and_redirects_back(kith):
    ds, ids, path = kith
    response = await post_form(ds, ids["dave"], {"action": "note", "body": "Talked about <b>ML</b> hiring"})
    assert response.status_code == 302
    assert response.headers["location"] == f"/-/kith/contacts/{ids['dave']}"
    assert "ds_messages" in response.headers.get("set-cookie", "")
    data = get_json(await ds.client.get(f"/-/kith/contacts/{ids['dave']}.json"))
    assert data["timeline"][0]["kind"] == "note"
    assert data["timeline"][0]["text"] == "Talked about <b>ML</b> hiring"
    # add_note resets the reconnect clock, as it does for the companion.
    assert data["contact"]["last_interaction_at"] >= iso(0)[:10]
    html = (await ds.client.get(f"/-/kith/contacts/{ids['dave']}")).text
    assert "Talked about &lt;b&gt;ML&lt;/b&gt; hiring" in html
    assert db_rows(path, "SELECT count(*) FROM notes_fts WHERE notes_fts MATCH 'hiring'")[0][0] == 1


async def test_the_note_form_on_the_contact_page_lands_a_note(kith):
    """What a browser does: load the contact page, fill in its note form, submit it, follow the redirect."""
    ds, ids, path = kith
    page = await open_page(ds, f"/-/kith/contacts/{ids['eve']}")
    assert set(page.forms) == {f"kith-{name}-form" for name in actions.FORM_WRITES}
    response = await page.submit(ds, "kith-note-form", {"body": "Met at the climbing gym"})
    assert response.status_code == 302, response.text[:300]
    assert db_rows(path, "SELECT contact_id, body FROM notes ORDER BY id DESC LIMIT 1") == [
        (ids["eve"], "Met at the climbing gym")
    ]
    back = await ds.client.get(
        response.headers["location"], headers={"cookie": response.headers["set-cookie"].split(";")[0]}
    )
    assert "Note added" in back.text and "Met at the climbing gym" in back.text


async def test_every_form_action(kith):
    ds, ids, path = kith
    frank = ids["frank"]
    page = await open_page(ds, f"/-/kith/contacts/{frank}")
    day = (NOW - timedelta(days=3)).date().isoformat()
    forms = [
        {"action": "interaction", "kind": "coffee", "date": day, "summary": "Talked bikes"},
        {"action": "exchange", "direction": "gave", "description": "Bike pump", "kind": "loan", "date": day},
        {"action": "exchange", "direction": "received", "description": "Sourdough starter"},
        {"action": "cadence", "days": "21"},
        {"action": "snooze", "until": "2099-01-01"},
    ]
    for form in forms:
        assert (await post_form(ds, frank, form, page=page)).status_code == 302
    data = get_json(await ds.client.get(f"/-/kith/contacts/{frank}.json"))
    assert data["contact"]["keep_in_touch_days"] == 21
    assert data["contact"]["snoozed_until"] == "2099-01-01"
    assert data["contact"]["last_interaction_at"] == f"{day}T00:00:00Z"
    kinds = [(t["kind"], t["title"], t["text"]) for t in data["timeline"]]
    assert ("interaction", "coffee", "Talked bikes") in kinds
    assert ("exchange", "gave", "Bike pump") in kinds
    assert ("exchange", "received", "Sourdough starter") in kinds
    # Clearing works too.
    await post_form(ds, frank, {"action": "cadence", "days": ""}, page=page)
    await post_form(ds, frank, {"action": "snooze", "until": ""}, page=page)
    assert db_rows(path, "SELECT keep_in_touch_days, snoozed_until FROM contacts WHERE id = ?", [frank]) == [
        (None, None)
    ]


async def test_bad_form_shows_an_error_and_writes_nothing(kith):
    ds, ids, path = kith
    before = db_rows(path, "SELECT count(*) FROM notes")[0][0]
    response = await post_form(ds, ids["eve"], {"action": "note", "body": "   "})
    assert response.status_code == 302
    assert "ds_messages" in response.headers["set-cookie"]
    response = await post_form(ds, ids["eve"], {"action": "cadence", "days": "-4"})
    assert response.status_code == 302
    assert db_rows(path, "SELECT count(*) FROM notes")[0][0] == before
    assert db_rows(path, "SELECT keep_in_touch_days FROM contacts WHERE id = ?", [ids["eve"]]) == [(None,)]


async def test_cross_site_posts_are_refused(kith):
    ds, ids, path = kith
    target = f"/-/kith/contacts/{ids['eve']}"
    before = db_rows(path, "SELECT count(*) FROM notes")[0][0]
    page = await open_page(ds, target)
    # A cross-site form post carries no cookie (SameSite=Lax) and says where it comes from.
    for headers in (
        {"sec-fetch-site": "cross-site", "origin": "https://evil.example"},
        {"sec-fetch-site": "same-site", "origin": "http://evil.localhost"},
        {"origin": "https://evil.example"},
        {"origin": "null"},
    ):
        response = await ds.client.post(target, data={"action": "note", "body": "drive-by"}, headers=headers)
        assert response.status_code == 403, headers
        # ...and with the page's token and cookie (a script on another site can have neither).
        response = await post_form(
            ds,
            ids["eve"],
            {"action": "note", "body": "x"},
            page=page,
            headers={"sec-fetch-site": headers.get("sec-fetch-site", "cross-site"), "origin": headers["origin"]},
        )
        assert response.status_code == 403, headers
    assert db_rows(path, "SELECT count(*) FROM notes")[0][0] == before


async def test_post_to_unknown_contact_is_404_and_writes_nothing(kith):
    ds, ids, path = kith
    page = await open_page(ds, f"/-/kith/contacts/{ids['eve']}")
    response = await post_form(ds, 424242, {"action": "note", "body": "orphan"}, page=page)
    assert response.status_code == 404
    assert db_rows(path, "SELECT count(*) FROM notes WHERE body = 'orphan'")[0][0] == 0


async def test_reconnect_quick_actions_return_to_the_queue(kith):
    ds, ids, path = kith
    response = await post_form(ds, ids["frank"], {"action": "interaction", "kind": "call", "next": "reconnect"})
    assert response.headers["location"] == "/-/kith/reconnect"
    response = await post_form(ds, ids["dave"], {"action": "snooze", "weeks": "2", "next": "https://evil.example/"})
    assert response.headers["location"] == f"/-/kith/contacts/{ids['dave']}"
    people = [p["id"] for p in get_json(await ds.client.get("/-/kith/reconnect.json"))["people"]]
    assert ids["frank"] not in people and ids["dave"] not in people


async def test_writes_use_the_companions_writer_when_it_runs_in_process(kith, monkeypatch):
    ds, ids, path = kith
    writer = DbThread(path)
    calls = []
    original = writer.run

    async def counting_run(fn, *args):
        calls.append(fn)
        return await original(fn, *args)

    monkeypatch.setattr(writer, "run", counting_run)
    register_writer(writer)
    try:
        response = await post_form(ds, ids["carol"], {"action": "note", "body": "via the writer"})
        assert response.status_code == 302
    finally:
        unregister_writer(writer)
        writer.close()
    assert len(calls) == 1
    assert db_rows(path, "SELECT count(*) FROM notes WHERE body = 'via the writer'")[0][0] == 1


# --- reconnect ----------------------------------------------------------------------------


async def test_reconnect_queue_ranks_overdue_people_with_reasons(kith):
    ds, ids, _ = kith
    data = get_json(await ds.client.get("/-/kith/reconnect.json"))
    people = data["people"]
    assert [p["id"] for p in people] == [ids["mallory"], ids["alice"], ids["frank"], ids["dave"]]
    by_id = {p["id"]: p for p in people}
    assert by_id[ids["alice"]]["reason"] == "last spoke 94 days ago; you wanted every 60"
    assert by_id[ids["alice"]]["cadence_source"] == "contact"
    assert by_id[ids["dave"]]["reason"] == "last spoke 20 days ago; you wanted every 14"
    assert by_id[ids["dave"]]["cadence_source"] == "tag"
    assert by_id[ids["frank"]]["cadence"] == 30 and by_id[ids["frank"]]["cadence_source"] == "circle"
    # Bob is snoozed, Carol is recent, Eve has no cadence at all, Sam is the user.
    assert not {ids["bob"], ids["carol"], ids["eve"], ids["me"]} & set(by_id)
    assert (data["capacity"], data["limit"], data["more"]) == (10, 10, False)
    html = (await ds.client.get("/-/kith/reconnect")).text
    assert "last spoke 94 days ago; you wanted every 60" in html
    assert "The 4 people most overdue" in html and "show more" not in html


async def test_reconnect_capacity_setting_limit_and_circle_defaults(kith):
    ds, ids, path = kith
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(
            "INSERT INTO settings (key, value) VALUES ('reconnect.weekly_capacity', '2'), ('cadence.personal', '400')"
        )
    conn.close()
    data = get_json(await ds.client.get("/-/kith/reconnect.json"))
    assert [p["id"] for p in data["people"]] == [ids["alice"], ids["dave"]]  # personal is now yearly+
    assert (data["capacity"], data["more"]) == (2, False)
    one = get_json(await ds.client.get("/-/kith/reconnect.json?limit=1"))
    assert len(one["people"]) == 1 and one["limit"] == 1 and one["more"] is True
    assert 'href="/-/kith/reconnect?limit=3">show more</a>' in (await ds.client.get("/-/kith/reconnect?limit=1")).text
    assert get_json(await ds.client.get("/-/kith/reconnect.json?limit=junk"))["limit"] == 2


# --- ledger ----------------------------------------------------------------------------------


async def test_ledger_balances_and_filters(kith):
    ds, ids, _ = kith
    data = get_json(await ds.client.get("/-/kith/ledger.json"))
    rows = {p["id"]: (p["gave"], p["received"], p["balance"]) for p in data["people"]}
    assert rows == {ids["alice"]: (0, 2, -2), ids["bob"]: (1, 1, 0), ids["dave"]: (1, 0, 1), ids["carol"]: (1, 2, -1)}
    assert data["totals"] == {"gave": 3, "received": 5}
    only_taken = get_json(await ds.client.get("/-/kith/ledger.json?filter=only_taken"))
    assert [p["id"] for p in only_taken["people"]] == [ids["alice"]]
    could_help = get_json(await ds.client.get("/-/kith/ledger.json?filter=could_help"))
    assert [p["id"] for p in could_help["people"]] == [ids["alice"], ids["carol"]]
    assert get_json(await ds.client.get("/-/kith/ledger.json?filter=bogus"))["filter"] == "all"
    first = get_json(await ds.client.get("/-/kith/ledger.json?limit=1"))
    assert [p["id"] for p in first["people"]] == [ids["carol"]] and first["more"] is True
    assert 'href="/-/kith/ledger?limit=3">Show more</a>' in (await ds.client.get("/-/kith/ledger?limit=1")).text
    html = (await ds.client.get("/-/kith/ledger?filter=only_taken")).text
    assert "<strong>Who have I only taken from?</strong>" in html
    assert 'href="/-/kith/ledger?filter=could_help"' in html
    assert "Alice Archer" in html and "Bob Baker" not in html


# --- search ------------------------------------------------------------------------------------


async def test_search_groups_by_person_with_highlighted_snippets(kith):
    ds, ids, _ = kith
    data = get_json(await ds.client.get("/-/kith/search.json?q=roadmap"))
    people = {p["id"]: p for p in data["people"]}
    assert set(people) == {ids["alice"], ids["carol"], ids["mallory"]}
    assert sorted(h["source"] for h in people[ids["alice"]]["hits"]) == ["messages", "notes"]
    assert [h["source"] for h in data["unassigned"]] == ["notes"]
    assert all(MARK_START not in h["snippet"] for p in data["people"] for h in p["hits"])
    html = (await ds.client.get("/-/kith/search?q=roadmap")).text
    assert "<mark>roadmap</mark>" in html
    assert "Sending the quarterly <mark>roadmap</mark> deck" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # Porter stemming: "roadmaps" finds "roadmap"; names are searchable too.
    assert get_json(await ds.client.get("/-/kith/search.json?q=roadmaps"))["people"]
    name = get_json(await ds.client.get("/-/kith/search.json?q=archer"))
    assert [p["id"] for p in name["people"]] == [ids["alice"]]


def test_very_common_words_rank_only_the_newest_matches(tmp_path, monkeypatch):
    path = tmp_path / "k.db"
    db = open_db(path)
    person = contacts.create_contact(db, {"name": "Pat"})
    for i in range(6):
        activity.add_note(db, person, "budget " * (6 - i) + f"note {i}", created_at=iso(10 - i))
    db.close()
    conn = sqlite3.connect(path)
    everything = queries.search(conn, "budget")
    assert everything["counts"]["notes"] == {"matches": 6, "ranked": 6, "shown": 6}
    assert [h["id"] for h in everything["people"][0]["hits"]][0] == 1  # most "budget"s ranks first
    monkeypatch.setattr(queries, "SEARCH_RANK_WINDOW", 3)
    newest = queries.search(conn, "budget")
    assert newest["counts"]["notes"] == {"matches": 6, "ranked": 3, "shown": 3}
    assert [h["id"] for h in newest["people"][0]["hits"]] == [4, 5, 6]  # bm25 order within the newest
    conn.close()


@pytest.mark.parametrize("q", ['"', "AND (", "a* OR NEAR(", "-:^", "'; DROP TABLE contacts; --"])
async def test_search_survives_fts_syntax(kith, q):
    ds, _, _ = kith
    assert (await ds.client.get("/-/kith/search", params={"q": q})).status_code == 200
    assert isinstance(get_json(await ds.client.get("/-/kith/search.json", params={"q": q}))["people"], list)


async def test_empty_search_shows_the_form(kith):
    ds, _, _ = kith
    response = await ds.client.get("/-/kith/search")
    assert response.status_code == 200 and 'name="q"' in response.text
    assert get_json(await ds.client.get("/-/kith/search.json"))["people"] == []


# --- network -----------------------------------------------------------------------------------


async def test_network_nodes_edges_and_organisation_hubs(kith):
    ds, ids, _ = kith
    data = get_json(await ds.client.get("/-/kith/network.json"))
    people = {n["id"]: n for n in data["nodes"] if n["kind"] == "person"}
    assert set(people) == set(ids.values())
    assert people[ids["me"]]["is_me"] is True
    assert people[ids["alice"]]["circle"] == "professional"
    rels = {(e["source"], e["target"], e["kind"]) for e in data["edges"] if e["kind"] != "works_at"}
    assert (ids["bob"], ids["alice"], "introduced_by") in rels and len(rels) == 5
    orgs = [n for n in data["nodes"] if n["kind"] == "org"]
    assert [o["label"] for o in orgs] == ["Acme"]  # Globex has one person: no hub
    members = {e["source"] for e in data["edges"] if e["target"] == orgs[0]["id"]}
    assert members == {ids["alice"], ids["bob"], ids["mallory"]}
    assert data["truncated"] is False


async def test_network_filters_and_centre(kith):
    ds, ids, _ = kith
    tag = get_json(await ds.client.get("/-/kith/network.json?tag=MENTOR"))
    assert [n["id"] for n in tag["nodes"]] == [ids["dave"]]
    circle = get_json(await ds.client.get("/-/kith/network.json?circle=personal"))
    assert {n["id"] for n in circle["nodes"] if n["kind"] == "person"} == {ids["bob"], ids["frank"], ids["mallory"]}
    one = get_json(await ds.client.get(f"/-/kith/network.json?center={ids['bob']}&depth=1"))
    assert {n["id"]: n["depth"] for n in one["nodes"] if n["kind"] == "person"} == {
        ids["bob"]: 0,
        ids["alice"]: 1,
        ids["dave"]: 1,
    }
    two = get_json(await ds.client.get(f"/-/kith/network.json?center={ids['bob']}&depth=2"))
    assert {n["id"]: n["depth"] for n in two["nodes"] if n["kind"] == "person"} == {
        ids["bob"]: 0,
        ids["alice"]: 1,
        ids["dave"]: 1,
        ids["me"]: 2,
    }
    capped = get_json(await ds.client.get("/-/kith/network.json?limit=3"))
    assert capped["truncated"] is True and capped["limit"] == 3


async def test_how_do_i_know_x(kith):
    ds, ids, _ = kith
    data = get_json(await ds.client.get(f"/-/kith/network.json?path_to={ids['dave']}"))
    assert [s["id"] for s in data["path"]] == [ids["me"], ids["alice"], ids["bob"], ids["dave"]]
    assert [s["via"] for s in data["path"]] == [None, "knows", "introduced_by", "works_with"]
    assert data["path"][1]["name"] == "Alice Archer"
    on_path = {(e["source"], e["target"]) for e in data["edges"] if e["on_path"]}
    assert on_path == {(ids["alice"], ids["me"]), (ids["bob"], ids["alice"]), (ids["dave"], ids["bob"])}
    stranger = get_json(await ds.client.get(f"/-/kith/network.json?path_to={ids['eve']}"))
    assert stranger["path"] is None


async def test_network_page_loads_vendored_script_locally(kith):
    ds, ids, _ = kith
    html = (await ds.client.get(f"/-/kith/network?center={ids['bob']}&tag=x")).text
    scripts = re.findall(r'<script src="([^"]+)"', html)
    assert all(s.startswith("/-/static") for s in scripts)  # Datasette's own (1.0 adds some) and Kith's
    ours = f"/-/static-plugins/{views.static_name()}/"  # the distribution's name, as Datasette serves it
    scripts = [s for s in scripts if s.startswith(ours)]
    assert scripts == [ours + "picker.js", ours + "vendor/cytoscape.min.js", ours + "network.js"]
    for src in scripts + re.findall(r'<link rel="stylesheet" href="(/-/static-plugins/[^"]+)"', html):
        assert (await ds.client.get(src)).status_code == 200, src
    assert f'data-src="/-/kith/network.json?center={ids["bob"]}&amp;tag=x"' in html
    assert "http://" not in "".join(scripts) and "https://" not in "".join(scripts)
    licence = Path(__file__).resolve().parents[1] / "datasette_plugins/static/vendor/cytoscape.LICENSE.txt"
    assert "Permission is hereby granted" in licence.read_text()


# --- hostile captured text -------------------------------------------------------------------

XSS_PAGES = [
    "/-/kith/contacts/{mallory}",
    "/-/kith/contacts/{carol}",
    "/-/kith/reconnect",
    "/-/kith/search?q=roadmap",
    "/-/kith/search?q=alert",
    "/-/kith/network",
    "/-/kith/network?path_to={mallory}",
    "/kith/contacts",
    "/kith/notes",
    "/kith/identities",
    "/kith/contact_overview",
    "/kith/contacts/{mallory}",
    "/kith/relationships",
]


@pytest.mark.parametrize("template", XSS_PAGES)
async def test_hostile_names_notes_and_urls_stay_inert(kith, template):
    ds, ids, _ = kith
    response = await ds.client.get(template.format(**ids))
    assert response.status_code == 200
    html = response.text
    assert "<img src=x" not in html
    assert "<script>alert" not in html
    assert "<svg onload" not in html
    assert "<b>bold</b>" not in html
    assert not re.search(r"""(href|src)\s*=\s*["']?\s*javascript:""", html, re.I)


async def test_hostile_contact_shows_as_text(kith):
    ds, ids, _ = kith
    html = (await ds.client.get(f"/-/kith/contacts/{ids['mallory']}")).text
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; met at the roadmap workshop" in html
    assert "evil.example/m</li>" in html.replace("\n", "").replace("  ", "")  # its identity: text, no link
    assert 'class="kith-photo kith-initials"' in html  # the javascript: avatar is not used
    data = get_json(await ds.client.get(f"/-/kith/contacts/{ids['mallory']}.json"))
    assert data["contact"]["name"] == XSS_NAME  # JSON carries the data unchanged


# --- Datasette polish ------------------------------------------------------------------------


async def test_render_cell_avatars_profile_links_and_name_links(kith):
    ds, ids, _ = kith
    html = (await ds.client.get("/kith/contacts")).text
    assert '<img src="https://img.example/alice.png"' in html
    assert "javascript:alert(3)" in html and 'src="javascript' not in html
    assert f'<a href="/-/kith/contacts/{ids["alice"]}">Alice Archer</a>' in html
    identities = (await ds.client.get("/kith/identities")).text
    assert '<a href="https://www.linkedin.com/in/alice-archer" rel="noopener noreferrer nofollow">' in identities


async def test_contact_id_columns_show_names(kith):
    ds, ids, _ = kith
    html = (await ds.client.get("/kith/notes")).text
    assert f'<a href="/kith/contacts/{ids["alice"]}">Alice Archer</a>' in html
    rel = (await ds.client.get("/kith/relationships")).text
    assert "Bob Baker" in rel and "Dave Diaz" in rel


async def test_kith_menu_entry(kith):
    ds, _, _ = kith
    html = (await ds.client.get("/")).text
    assert '<a href="/-/kith/today">Kith</a>' in html


async def test_canned_queries(kith):
    ds, ids, _ = kith

    async def run(name, **params):
        query = "&".join(f"{k}={v}" for k, v in params.items())
        data = get_json(await ds.client.get(f"/kith/{name}.json?_shape=objects&{query}"))
        return data["rows"]

    assert {r["name"] for r in await run("people_at_company", company="acm")} == {"Alice Archer", "Bob Baker", XSS_NAME}
    intro = await run("who_introduced_whom")
    assert [(r["introducer"], r["introduced"]) for r in intro] == [("Alice Archer", "Bob Baker")]
    changes = await run("job_changes_last_30_days")
    assert [(r["name"], r["old_value"], r["new_value"]) for r in changes] == [("Alice Archer", "Lead", "Head of Data")]
    assert {r["id"] for r in await run("met_at_event_or_tag", event_or_tag="pycon")} == {ids["alice"]}
    assert {r["id"] for r in await run("met_at_event_or_tag", event_or_tag="MENTOR")} == {ids["dave"]}
    notes = await run("notes_mentioning", word="solar")
    assert [r["contact_id"] for r in notes] == [ids["alice"]] and "[solar]" in notes[0]["snippet"]
    assert await run("notes_mentioning", word='"AND (') == []
    assert await run("possible_duplicates") == []


async def test_possible_duplicates_lists_open_merge_suggestions(kith):
    ds, ids, path = kith
    db = sqlite_utils.Database(path)
    contacts.suggest_merge(db, ids["alice"], ids["bob"], 91.0, "similar name (91%) and the same company")
    contacts.suggest_merge(db, ids["carol"], ids["dave"], 100.0, "they share an identity")
    db.execute(
        "UPDATE merge_suggestions SET status = 'dismissed' WHERE contact_id = ?", [min(ids["carol"], ids["dave"])]
    )
    db.conn.commit()
    data = get_json(await ds.client.get("/kith/possible_duplicates.json?_shape=objects"))
    assert [(r["keep_id"], r["drop_id"], r["score"]) for r in data["rows"]] == [
        (min(ids["alice"], ids["bob"]), max(ids["alice"], ids["bob"]), 91.0)
    ]


async def test_plain_datasette_without_a_kith_database(tmp_path):
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT, avatar_url TEXT)")
    conn.execute("INSERT INTO people VALUES (1, 'Zed', 'https://img.example/z.png')")
    conn.commit()
    conn.close()
    ds = Datasette([str(other)])
    assert (await ds.client.get("/-/kith/reconnect")).status_code == 404
    assert (await ds.client.get("/-/kith/network.json")).status_code == 404
    assert '<a href="/-/kith/today">Kith</a>' not in (await ds.client.get("/")).text
    assert (await ds.client.get("/other/notes_mentioning")).status_code == 404
    assert "<img" not in (await ds.client.get("/other/people")).text


async def test_kith_found_among_several_databases_and_permissions_respected(kith, tmp_path):
    _, ids, path = kith
    other = tmp_path / "aaa.db"
    sqlite3.connect(other).execute("CREATE TABLE contacts (id INTEGER PRIMARY KEY)").connection.close()
    ds = Datasette([str(other), str(path)])
    assert get_json(await ds.client.get(f"/-/kith/contacts/{ids['alice']}.json"))["contact"]["name"] == "Alice Archer"
    locked = Datasette([str(path)], metadata={"databases": {"kith": {"allow": {"id": "root"}}}})
    assert (await locked.client.get("/-/kith/reconnect")).status_code == 403
    assert (await locked.client.get(f"/-/kith/contacts/{ids['alice']}.json")).status_code == 403


# --- pure helpers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url, expected",
    [
        ("https://example.com/a.png", "https://example.com/a.png"),
        ("  http://example.com  ", "http://example.com"),
        ("HTTPS://EXAMPLE.COM/", "HTTPS://EXAMPLE.COM/"),
        ("javascript:alert(1)", None),
        ("JaVaScRiPt:alert(1)", None),
        (" javascript:alert(1)", None),
        ("java\tscript:alert(1)", None),
        ("data:text/html,<script>", None),
        ("vbscript:x", None),
        ("//evil.example/x", None),
        ("/relative", None),
        ("https://", None),
        ("https://a.b/\nx", None),
        ("", None),
        (None, None),
        (42, None),
    ],
)
def test_safe_url(url, expected):
    assert safe_url(url) == expected


def test_highlight_escapes_everything_but_its_own_marks():
    snippet = f"<b>x</b> {MARK_START}road<i>map{MARK_END} and {MARK_END}stray{MARK_START}"
    html = str(highlight(snippet))
    assert html == "&lt;b&gt;x&lt;/b&gt; <mark>road&lt;i&gt;map</mark> and stray"
    assert plain(snippet) == "<b>x</b> road<i>map and stray"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("roadmap", '"roadmap"'),
        ("solar  grid", '"solar" "grid"'),
        ('say "hi"', '"say" "hi"'),
        ("AND (", '"AND" "("'),
        ("", ""),
        ("   ", ""),
    ],
)
def test_fts_query_quotes_every_word(text, expected):
    assert queries.fts_query(text) == expected


def test_reason_and_relationship_labels():
    assert queries.reconnect_reason(94, 60, True) == "last spoke 94 days ago; you wanted every 60"
    assert queries.reconnect_reason(12, 7, False).startswith("added 12 days ago and never spoken to")
    assert queries.relationship_label("introduced_by", "out") == "introduced by"
    assert queries.relationship_label("introduced_by", "in") == "introduced you to"
    assert queries.relationship_label("works_with", "in") == "works with"


def test_cadence_defaults_and_settings():
    assert queries.cadence_defaults({}) == {"professional": 90, "personal": 30, "both": 60}
    assert queries.cadence_defaults(
        {"cadence.both": "45", "cadence.personal": "nonsense", "cadence.professional": "-3"}
    ) == {"professional": 90, "personal": 30, "both": 45}
    assert queries.clamp_limit("5", 10) == 5 and queries.clamp_limit("9999", 10) == queries.MAX_LIMIT
    assert queries.clamp_limit("0", 10) == 1 and queries.clamp_limit(None, 10) == 10


def test_reconnect_queue_directly_with_a_fixed_clock(tmp_path):
    path = tmp_path / "k.db"
    db = open_db(path)
    a = contacts.create_contact(db, {"name": "A", "circle": "both", "created_at": "2024-01-01T00:00:00Z"})
    b = contacts.create_contact(db, {"name": "B", "circle": "both", "created_at": "2024-01-01T00:00:00Z"})
    activity.log_interaction(db, b, happened_at="2024-03-01T00:00:00Z")
    activity.snooze(db, a, "2024-06-01")
    db.close()
    conn = sqlite3.connect(path)
    before = queries.reconnect_queue(conn, "2024-05-31T12:00:00Z")
    assert [p["id"] for p in before["people"]] == [b]
    on_the_day = queries.reconnect_queue(conn, "2024-06-01T09:00:00Z")
    assert [p["id"] for p in on_the_day["people"]] == [a, b]  # hidden *until* the date
    assert on_the_day["people"][0]["reason"] == "added 152 days ago and never spoken to; you wanted every 60"
    conn.close()


def test_shortest_path_prefers_fewest_hops_and_handles_cycles(tmp_path):
    conn = sqlite3.connect(tmp_path / "g.db")
    conn.execute("CREATE TABLE relationships (id INTEGER PRIMARY KEY, from_contact_id, to_contact_id, kind)")
    edges = [(1, 2), (2, 3), (3, 4), (4, 5), (1, 6), (6, 5), (2, 1), (3, 2), (7, 8)]
    conn.executemany("INSERT INTO relationships (from_contact_id, to_contact_id, kind) VALUES (?, ?, 'knows')", edges)
    assert [s["id"] for s in graph.shortest_path(conn, 1, 5)] == [1, 6, 5]
    assert [s["id"] for s in graph.shortest_path(conn, 5, 3)] == [5, 4, 3]  # edges walk both ways
    assert len(graph.shortest_path(conn, 5, 2)) == 4  # two equally short paths: either will do
    assert graph.shortest_path(conn, 1, 8) is None
    assert graph.shortest_path(conn, 1, 1) == [{"id": 1, "via": None}]
    assert graph.shortest_path(conn, 1, 4, max_depth=2) is None


def test_form_parsing():
    now = datetime(2025, 3, 10, 15, 0, tzinfo=timezone.utc)
    fn, message = actions.parse({"action": "note", "body": " hi "}, 7, now)
    assert fn.func is activity.add_note and fn.keywords == {"contact_id": 7, "body": "hi"}
    fn, _ = actions.parse({"action": "interaction", "kind": "call", "date": "2025-03-10"}, 7, now)
    assert fn.keywords["happened_at"] is None  # today: the store stamps the current time
    fn, _ = actions.parse({"action": "interaction", "date": "2025-03-01"}, 7, now)
    assert fn.keywords["happened_at"] == "2025-03-01T00:00:00Z" and fn.keywords["kind"] == "met"
    fn, message = actions.parse({"action": "snooze", "weeks": "2"}, 7, now)
    assert fn.keywords["until"] == "2025-03-24" and message == "Snoozed until 2025-03-24"
    fn, _ = actions.parse({"action": "exchange", "direction": "received", "description": "a book"}, 7, now)
    assert fn.func is activity.add_exchange and fn.keywords["direction"] == "received"
    for bad in [
        {"action": "note", "body": ""},
        {"action": "cadence", "days": "x"},
        {"action": "cadence", "days": "0"},
        {"action": "exchange", "direction": "stole", "description": "x"},
        {"action": "interaction", "date": "yesterday"},
        {"action": "drop_table"},
        {},
    ]:
        with pytest.raises(actions.FormError):
            actions.parse(bad, 7, now)


def test_cells_render_only_safe_urls():
    url = lambda i: f"/-/kith/contacts/{i}"  # noqa: E731
    assert "img" in str(cells.render("https://a.example/p.png", "avatar_url", "contacts", {}, url))
    assert cells.render("javascript:alert(1)", "avatar_url", "contacts", {}, url) is None
    assert cells.render("javascript:x", "url", "identities", {}, url) is None
    link = str(cells.render(XSS_NAME, "name", "contacts", {"id": 3}, url))
    assert link == '<a href="/-/kith/contacts/3">&lt;img src=x onerror=alert(1)&gt;</a>'
    assert cells.render("x", "name", "tags", {"id": 3}, url) is None
    quoted = str(cells.render('https://a.example/"onerror="x', "avatar_url", None, {}, url))
    assert '"onerror="' not in quoted and "&#34;onerror=&#34;" in quoted


def test_network_json_is_serialisable(tmp_path):
    path = tmp_path / "kith.db"
    ids = seed(path)
    conn = sqlite3.connect(path)
    data = graph.network(conn, center=ids["alice"], depth="3", path_to=str(ids["dave"]))
    json.dumps(data)
    assert data["depth"] == 3 and data["path"][-1]["id"] == ids["dave"]
    assert graph.network(conn, center="nonsense")["center"] is None
    conn.close()


def test_bench_script_runs_and_reports_every_page(tmp_path):
    import importlib.util

    script = Path(__file__).resolve().parents[1] / "scripts" / "bench_datasette.py"
    spec = importlib.util.spec_from_file_location("bench_datasette", script)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    path = tmp_path / "kith.db"
    seed(path)
    rows = bench.run(path, runs=2)
    assert [r["name"].split(" (")[0] for r in rows] == [
        "search page",
        "contact page",
        "reconnect queue",
        "network.json 2-hop",
    ]
    assert all(r["figure_ms"] > 0 and r["reference_ms"] >= 0 and r["floor_ms"] > 0 for r in rows)


async def test_relationship_form_links_two_people_both_ways(kith):
    ds, ids, path = kith
    frank, dave = ids["frank"], ids["dave"]
    page = await open_page(ds, f"/-/kith/contacts/{frank}")
    before = db_rows(path, "SELECT count(*) FROM relationships")[0][0]
    assert (
        await post_form(
            ds,
            frank,
            {"action": "relationship", "kind": "introduced_you_to", "other": str(dave), "note": "at the <b>meetup</b>"},
            page=page,
        )
    ).status_code == 302
    assert db_rows(
        path, "SELECT from_contact_id, to_contact_id, kind, note FROM relationships ORDER BY id DESC LIMIT 1"
    ) == [(dave, frank, "introduced_by", "at the <b>meetup</b>")]
    frank_page = get_json(await ds.client.get(f"/-/kith/contacts/{frank}.json"))
    assert any(r["other_id"] == dave and r["label"] == "introduced you to" for r in frank_page["relationships"])
    dave_page = get_json(await ds.client.get(f"/-/kith/contacts/{dave}.json"))
    assert any(r["other_id"] == frank and r["label"] == "introduced by" for r in dave_page["relationships"])
    # Bad input: no such contact, oneself, no kind — an error message and no row.
    for form in (
        {"kind": "knows", "other": "999999"},
        {"kind": "knows", "other": str(frank)},
        {"kind": "enemies", "other": str(dave)},
        {"kind": "knows", "other": "abc"},
    ):
        response = await post_form(ds, frank, {"action": "relationship", **form}, page=page)
        assert response.status_code == 302 and "ds_messages" in response.headers["set-cookie"]
    assert db_rows(path, "SELECT count(*) FROM relationships")[0][0] == before + 1
