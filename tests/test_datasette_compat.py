"""Kith's Datasette plugin on both Datasette lines, configured the Datasette way.

0.65 has asgi-csrf (a signed `ds_csrftoken` cookie), the `canned_queries` hook and
`permission_allowed`; 1.0 checks Sec-Fetch-Site / Origin instead, stores queries with
`add_query` and asks `allowed()`. `make test` runs this file on each (KITH_DATASETTE
names the line a run is meant for). Also: `plugins: kith:` (database, forms,
reconnect defaults), write permissions, immutable databases, and form posts that
must be refused (Bearer headers, forged cookies, multipart bodies).
"""

from __future__ import annotations

import os
import sqlite3

import datasette
import pytest
from datasette import hookimpl
from datasette.app import Datasette
from datasette.plugins import pm
from datasette.utils.asgi import Request
from test_datasette_plugin import SAME_ORIGIN, close, db_rows, get_json, make_datasette, open_page, post_form, seed

from companion.serve import make_datasette as kith_serve_datasette
from companion.store import contacts
from companion.store.db import open_db
from datasette_plugins import actions, canned, config, views

DATASETTE_1 = hasattr(Datasette, "add_query")
NO_FORMS = '<form method="post"'


def notes(path) -> int:
    return db_rows(path, "SELECT count(*) FROM notes")[0][0]


@pytest.fixture
def kith_db(tmp_path):
    path = tmp_path / "kith.db"
    return path, seed(path)


@pytest.fixture
def served(kith_db):
    """Build Datasettes on the seeded database; closes them afterwards."""
    path, ids = kith_db
    made = []

    def make(kith_config=None, files=None, **kwargs):
        ds = make_datasette([path] if files is None else files, kith_config, **kwargs)
        made.append(ds)
        return ds

    yield make, ids, path
    for ds in made:
        close(ds)


def test_running_on_the_datasette_line_make_asked_for():
    """`make test` sets KITH_DATASETTE per virtualenv, so a wrong install fails instead of passing."""
    expected = os.environ.get("KITH_DATASETTE")
    if expected:
        assert datasette.__version__.startswith(expected), (datasette.__version__, expected)
    assert views.TOKEN_CSRF is not DATASETTE_1  # 0.65: asgi-csrf; 1.0a41: header checks


# --- stored queries --------------------------------------------------------------------------


async def test_stored_queries_are_listed_and_run(served):
    make, ids, _ = served
    ds = make()
    listing = (await ds.client.get("/kith/-/queries" if DATASETTE_1 else "/kith")).text
    for query in canned.QUERIES.values():
        assert query["title"] in listing
    for name in canned.QUERIES:
        response = await ds.client.get(
            f"/kith/{name}.json", params={"company": "acme", "event_or_tag": "pycon", "word": "roadmap"}
        )
        assert response.status_code == 200, (name, response.text[:300])
    if DATASETTE_1:  # stored with add_query, trusted: 1.0 denies anonymous execute-sql by default
        stored = await ds.get_query("kith", "people_at_company")
        assert stored.is_trusted and stored.source == "plugin" and not stored.is_write


async def test_a_users_own_query_of_the_same_name_wins(served):
    make, _, _ = served
    mine = {"databases": {"kith": {"queries": {"people_at_company": {"sql": "select 'mine' as owner"}}}}}
    ds = make(**({"config": mine} if DATASETTE_1 else {"metadata": mine}))
    rows = get_json(await ds.client.get("/kith/people_at_company.json?_shape=objects"))["rows"]
    assert rows == [{"owner": "mine"}]
    assert (await ds.client.get("/kith/who_introduced_whom.json")).status_code == 200


# --- form posts that must be refused ---------------------------------------------------------


async def test_an_authorization_header_never_stands_in_for_the_csrf_check(served):
    """asgi-csrf (0.65) skips its check for `Authorization: Bearer`, and so does 1.0's when no
    cookie is sent; Kith's handler checks the token (0.65) and Sec-Fetch-Site / Origin anyway."""
    make, ids, path = served
    ds = make({"forms": "anyone"})
    target = f"/-/kith/contacts/{ids['eve']}"
    page = await open_page(ds, target)
    bearer = {"authorization": "Bearer abc123"}
    before = notes(path)
    if views.TOKEN_CSRF:
        cookie = page.cookie_header()
        assert "ds_csrftoken=" in cookie["cookie"]
        for data in ({"csrftoken": "nope"}, {}, {"csrftoken": ""}):
            response = await ds.client.post(
                target, data={**data, "action": "note", "body": "bearer"}, headers={**SAME_ORIGIN, **bearer, **cookie}
            )
            assert response.status_code == 403, (data, response.text)
        # A cookie Datasette did not sign (set by another page on this host): refused too.
        response = await ds.client.post(
            target,
            data={"csrftoken": "forged", "action": "note", "body": "x"},
            headers={**SAME_ORIGIN, **bearer, "cookie": "ds_csrftoken=forged"},
        )
        assert response.status_code == 403 and "not Datasette's" in response.text
    # No cookie at all, from another site: 1.0's own check lets Bearer through here; Kith does not.
    for headers in (
        {"sec-fetch-site": "cross-site"},
        {"origin": "https://evil.example"},
        {"sec-fetch-site": "cross-site", "origin": "https://evil.example"},
    ):
        response = await ds.client.post(
            target,
            data={"csrftoken": page.token or "", "action": "note", "body": "bearer"},
            headers={**bearer, **headers},
        )
        assert response.status_code == 403, (headers, response.text)
    assert notes(path) == before
    # The same post, done properly, is accepted (a Bearer header does not make it worse either).
    assert (
        await post_form(ds, ids["eve"], {"action": "note", "body": "fine"}, page=page, headers=bearer)
    ).status_code == 302
    assert notes(path) == before + 1


async def test_a_multipart_post_is_a_clear_415(served):
    """0.65's asgi-csrf crashed (a 500) on multipart bodies when a cookie was sent; 1.0 ignored
    the fields. The contact forms are urlencoded: anything else is a 415, and writes nothing."""
    make, ids, path = served
    ds = make({"forms": "anyone"})
    target = f"/-/kith/contacts/{ids['eve']}"
    page = await open_page(ds, target)
    fields = {"csrftoken": (None, page.token or ""), "action": (None, "note"), "body": (None, "multipart")}
    for cookie in (page.cookie_header(), page.cookie_header(ds_other="1"), {}):
        for extra in ({}, {"file": ("a.txt", b"hello", "text/plain")}):
            response = await ds.client.post(target, files={**fields, **extra}, headers={**SAME_ORIGIN, **cookie})
            assert response.status_code == 415, response.text[:300]
            assert "application/x-www-form-urlencoded" in response.text
    for content_type in ("application/json", "text/plain", ""):
        response = await ds.client.post(
            target,
            content=b'{"action": "note", "body": "json"}',
            headers={**SAME_ORIGIN, **page.cookie_header(), "content-type": content_type},
        )
        assert response.status_code in (403, 415), (content_type, response.status_code)
    assert db_rows(path, "SELECT count(*) FROM notes WHERE body IN ('multipart', 'json')")[0][0] == 0


def fake_post(headers: dict, cookie: str | None = None) -> Request:
    raw = [(k.encode(), v.encode()) for k, v in {"host": "127.0.0.1:8001", **headers}.items()]
    if cookie:
        raw.append((b"cookie", f"ds_csrftoken={cookie}".encode()))
    return Request(
        {
            "type": "http",
            "method": "POST",
            "path": "/-/kith/contacts/1",
            "scheme": "http",
            "query_string": b"",
            "headers": raw,
        },
        None,
    )


def test_csrf_refusal_on_its_own():
    """Kith's own check, without Datasette's middleware in front (nor any Host gate)."""
    ds = Datasette([])
    signed = ds.sign("secret", "csrftoken")  # what asgi-csrf puts in ds_csrftoken
    good = {"csrftoken": signed}
    token_ok = {"csrftoken": signed} if views.TOKEN_CSRF else {}
    cookie = signed if views.TOKEN_CSRF else None
    bearer = {"authorization": "Bearer abc"}
    for headers in (
        {"sec-fetch-site": "same-origin"},
        {"sec-fetch-site": "none"},
        {"origin": "http://127.0.0.1:8001"},
        {},
        {"sec-fetch-site": "same-origin", **bearer},
    ):
        assert views.csrf_refusal(ds, fake_post(headers, cookie), token_ok) is None, headers
    for headers in (
        {"sec-fetch-site": "cross-site"},
        {"sec-fetch-site": "same-site"},
        {"origin": "http://127.0.0.1:8002"},
        {"origin": "https://127.0.0.1:8001"},
        {"origin": "null"},
        {"origin": "http://evil.example"},
        {"sec-fetch-site": "cross-site", **bearer},
        {"origin": "http://evil.example", **bearer},
    ):
        assert views.csrf_refusal(ds, fake_post(headers, cookie), good), headers
    if views.TOKEN_CSRF:
        same = {"sec-fetch-site": "same-origin"}
        assert views.csrf_refusal(ds, fake_post(same), good) == "no CSRF token"
        assert views.csrf_refusal(ds, fake_post({**same, **bearer}, signed), {}) == "no CSRF token"
        assert views.csrf_refusal(ds, fake_post({**same, **bearer}, signed), {"csrftoken": signed + "x"}) == (
            "the CSRF token does not match"
        )
        assert views.csrf_refusal(ds, fake_post({**same, **bearer}, "forged"), {"csrftoken": "forged"}) == (
            "the CSRF cookie is not Datasette's"
        )
        assert views.csrf_refusal(ds, fake_post(same, "é"), {"csrftoken": "é"})  # no TypeError


def test_skip_asgi_csrf_only_for_multipart_posts_to_contact_pages():
    def scope(path, method="POST", ctype=b"multipart/form-data; boundary=x"):
        return {"method": method, "path": path, "headers": [(b"content-type", ctype)]}

    assert views.skip_asgi_csrf(scope("/-/kith/contacts/12"))
    assert views.skip_asgi_csrf(scope("/prefix/-/kith/contacts/12"))
    assert not views.skip_asgi_csrf(scope("/-/kith/contacts/12", ctype=b"application/x-www-form-urlencoded"))
    assert not views.skip_asgi_csrf(scope("/-/kith/contacts/12", method="GET"))
    assert not views.skip_asgi_csrf(scope("/kith/notes/-/insert"))
    assert not views.skip_asgi_csrf(scope("/-/kith/contacts/12/../../../kith/-/create"))


# --- plugins: kith: ------------------------------------------------------------------------


async def test_config_chooses_the_database(served, tmp_path):
    make, ids, path = served
    second = tmp_path / "work.db"
    db = open_db(second)
    work_id = contacts.create_contact(db, {"name": "Wendy Work", "circle": "professional"})
    db.close()
    default = make(files=[path, second])
    assert (await default.client.get(f"/-/kith/contacts/{ids['alice']}.json")).json()["contact"][
        "name"
    ] == "Alice Archer"
    chosen = make({"database": "work"}, files=[path, second])
    assert get_json(await chosen.client.get(f"/-/kith/contacts/{work_id}.json"))["contact"]["name"] == "Wendy Work"
    network = get_json(await chosen.client.get("/-/kith/network.json"))
    assert {n["label"] for n in network["nodes"] if n["kind"] == "person"} == {"Wendy Work"}
    # Name links in tables lead to the chosen database's contact pages, so only its names get them.
    assert f'<a href="/-/kith/contacts/{work_id}">Wendy Work</a>' in (await chosen.client.get("/work/contacts")).text
    assert '<a href="/-/kith/contacts/' not in (await chosen.client.get("/kith/contacts")).text


@pytest.mark.parametrize("name", ["nowhere", "other"])
async def test_a_configured_database_that_is_not_served_or_not_kith_is_a_clear_404(served, tmp_path, name):
    make, _, path = served
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    ds = make({"database": name}, files=[path, other])
    response = await ds.client.get("/-/kith/reconnect")
    assert response.status_code == 404
    assert f"{name!r} chosen by plugins: kith: database:" in response.text.replace("&#39;", "'")
    assert '<a href="/-/kith/today">Kith</a>' not in (await ds.client.get("/")).text


async def test_forms_false_shows_no_forms_and_refuses_posts(served):
    make, ids, path = served
    ds = make({"forms": False})
    contact = (await ds.client.get(f"/-/kith/contacts/{ids['frank']}")).text
    assert NO_FORMS not in contact and "forms: false" in contact
    assert "Frank Fox" in (await ds.client.get("/-/kith/reconnect")).text
    assert NO_FORMS not in (await ds.client.get("/-/kith/reconnect")).text
    before = notes(path)
    page = await open_page(ds, f"/-/kith/contacts/{ids['frank']}")
    response = await post_form(ds, ids["frank"], {"action": "note", "body": "nope"}, page=page)
    assert response.status_code == 403 and "switched off" in response.text
    assert notes(path) == before


async def test_config_defaults_for_capacity_and_cadence_and_the_settings_table_wins(served):
    make, ids, path = served
    ds = make({"weekly_capacity": 2, "cadence_days": {"personal": 400, "professional": None}})
    data = get_json(await ds.client.get("/-/kith/reconnect.json"))
    # Frank and Mallory (personal) are no longer due; nobody is due on the professional circle
    # default any more; Alice (her own cadence) and Dave (his tag's) still are.
    assert [p["id"] for p in data["people"]] == [ids["alice"], ids["dave"]]
    assert (data["capacity"], data["limit"]) == (2, 2)
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(
            "INSERT INTO settings (key, value) VALUES ('reconnect.weekly_capacity', '1'), ('cadence.personal', '30')"
        )
    conn.close()
    data = get_json(await ds.client.get("/-/kith/reconnect.json"))
    assert (data["capacity"], data["more"]) == (1, True)
    assert [p["id"] for p in data["people"]] == [ids["mallory"]]  # personal is monthly again
    assert "weekly capacity 1" in (await ds.client.get("/-/kith/reconnect")).text


@pytest.mark.parametrize(
    "bad",
    [
        {"forms": "sometimes"},
        {"weekly_capacity": 0},
        {"weekly_capacity": "10"},
        {"weekly_capacity": True},
        {"cadence_days": {"family": 7}},
        {"cadence_days": {"personal": -1}},
        {"cadence_days": [30]},
        {"database": ""},
        {"database": 3},
        ["forms"],
    ],
)
async def test_a_bad_config_stops_datasette_at_startup_saying_why(served, bad):
    make, _, _ = served
    ds = make(bad) if isinstance(bad, dict) else make(metadata={"plugins": {"kith": bad}})
    with pytest.raises(config.ConfigError, match=r"plugins\.kith"):
        await ds.invoke_startup()


def test_config_parse():
    assert config.parse(None) == config.KithConfig()
    parsed = config.parse(
        {
            "database": "k",
            "forms": "anyone",
            "weekly_capacity": 3,
            "cadence_days": {"both": 7},
            "allowed_hosts": ["kith.lan"],
        }
    )
    assert (parsed.database, parsed.forms, parsed.weekly_capacity) == ("k", "anyone", 3)
    assert dict(parsed.cadence_days) == {"professional": 90, "personal": 30, "both": 7}
    assert config.parse({"forms": False}).forms == config.FORMS_OFF
    assert config.parse({"forms": True}).forms == config.FORMS_DATASETTE


@pytest.mark.parametrize(
    "version, expected",
    [
        ("0.65.5", False),
        ("0.64.8", False),
        ("1.0a7", False),
        ("1.0a8", True),
        ("1.0a41", True),
        ("1.0", True),
        ("1.0.1", True),
        ("1.1a2", True),
        ("2.0", True),
    ],
)
def test_plugin_config_goes_in_config_from_1_0a8(version, expected):
    assert config.takes_config(version) is expected


# --- write permission ----------------------------------------------------------------------


async def test_forms_follow_datasettes_write_permission_by_default(served):
    """No config: 0.65 lets anyone who may view write (as its writable canned queries do);
    1.0 grants anonymous actors no insert-row, so the forms are hidden and posts refused."""
    make, ids, path = served
    ds = make()
    target = f"/-/kith/contacts/{ids['eve']}"
    page = await open_page(ds, target)
    response = await post_form(ds, ids["eve"], {"action": "note", "body": "anonymous"}, page=page)
    if DATASETTE_1:
        assert page.forms == {} and "forms: anyone" in page.html
        assert response.status_code == 403 and "insert-row on notes" in response.text
        assert db_rows(path, "SELECT count(*) FROM notes WHERE body = 'anonymous'")[0][0] == 0
        ds.root_enabled = True  # `datasette --root`: root may do anything
        root = {"ds_actor": ds.sign({"a": {"id": "root"}}, "actor")}
        page = await open_page(ds, target, headers={"cookie": f"ds_actor={root['ds_actor']}"})
        page.cookies.update(root)
    assert set(page.forms) == {f"kith-{form}-form" for form in actions.FORM_WRITES}
    response = await page.submit(ds, "kith-note-form", {"body": "allowed"})
    assert response.status_code == 302
    assert db_rows(path, "SELECT count(*) FROM notes WHERE body = 'allowed'")[0][0] == 1


class DenyAllButNotes:
    """0.65: a permission plugin letting actor `alice` insert notes and nothing else."""

    @hookimpl
    def permission_allowed(self, datasette, actor, action, resource):
        if action in ("insert-row", "update-row", "delete-row"):
            return bool(
                actor and actor.get("id") == "alice" and action == "insert-row" and resource == ("kith", "notes")
            )
        return None


async def test_each_form_needs_write_permission_on_its_own_table(served):
    make, ids, path = served
    if DATASETTE_1:
        grant = {"databases": {"kith": {"tables": {"notes": {"permissions": {"insert-row": {"id": "alice"}}}}}}}
        ds = make(config=grant)
    else:
        ds = make()
        pm.register(DenyAllButNotes(), name="kith-test-deny")
    try:
        alice = {"ds_actor": ds.sign({"a": {"id": "alice"}}, "actor")}
        target = f"/-/kith/contacts/{ids['frank']}"
        page = await open_page(ds, target, headers={"cookie": f"ds_actor={alice['ds_actor']}"})
        page.cookies.update(alice)
        assert set(page.forms) == {"kith-note-form"}
        assert (await page.submit(ds, "kith-note-form", {"body": "alice was here"})).status_code == 302
        response = await post_form(ds, ids["frank"], {"action": "cadence", "days": "7"}, page=page)
        assert response.status_code == 403 and "update-row on contacts" in response.text
        assert db_rows(path, "SELECT keep_in_touch_days FROM contacts WHERE id = ?", [ids["frank"]]) == [(None,)]
        reconnect = (await ds.client.get("/-/kith/reconnect", headers=page.cookie_header())).text
        assert NO_FORMS not in reconnect  # its quick actions log interactions and snooze
        anonymous = await open_page(ds, target)
        assert anonymous.forms == {}
    finally:
        if not DATASETTE_1:
            pm.unregister(name="kith-test-deny")


async def test_view_permission_still_applies_with_forms_for_anyone(served):
    make, ids, path = served
    locked = {"databases": {"kith": {"allow": {"id": "root"}}}}
    ds = make(
        **(
            {"config": {**locked, **config.datasette_kwargs({"forms": "anyone"})["config"]}}
            if DATASETTE_1
            else {"metadata": {**locked, "plugins": {"kith": {"forms": "anyone"}}}}
        )
    )
    before = notes(path)
    response = await ds.client.post(
        f"/-/kith/contacts/{ids['eve']}", data={"action": "note", "body": "x"}, headers=SAME_ORIGIN
    )
    assert response.status_code == 403
    assert notes(path) == before


async def test_kith_serve_opens_the_forms_to_its_one_local_user(kith_db):
    path, ids = kith_db
    ds = kith_serve_datasette(path)
    try:
        assert ds.plugin_config("kith") == {"forms": "anyone", "home": "today"}
        assert (await ds.client.get("/")).headers["location"] == "/-/kith/today"
        page = await open_page(ds, f"/-/kith/contacts/{ids['dave']}")
        assert (await page.submit(ds, "kith-note-form", {"body": "from kith serve"})).status_code == 302
        assert db_rows(path, "SELECT count(*) FROM notes WHERE body = 'from kith serve'")[0][0] == 1
    finally:
        close(ds)


# --- read-only databases -----------------------------------------------------------------------


async def test_an_immutable_database_has_no_forms_and_refuses_posts(served):
    make, ids, path = served
    ds = make({"forms": "anyone"}, files=[], immutables=[str(path)])
    page = await open_page(ds, f"/-/kith/contacts/{ids['frank']}")
    assert page.forms == {} and NO_FORMS not in page.html and "read-only (immutable)" in page.html
    assert NO_FORMS not in (await ds.client.get("/-/kith/reconnect")).text
    for fields in ({"action": "note", "body": "x"}, {"action": "snooze", "weeks": "2"}, {"action": "bogus"}):
        response = await post_form(ds, ids["frank"], fields, page=page)
        assert response.status_code == 403 and "read-only" in response.text
    assert get_json(await ds.client.get(f"/-/kith/contacts/{ids['frank']}.json"))["contact"]["snoozed_until"] is None
