"""The daily loop through `datasette.client`: Today and its .json twin, people.json and the name
picker's forms, birthdays and dated notes, merging and "not the same person", / under
`home: today`; with the pure helpers and store functions they rest on. Runs on Datasette 0.65
and 1.0 (`make test-datasette1`), on the network test_datasette_plugin.py seeds.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import uuid
import zlib
from datetime import date, timedelta

import pytest
from click.testing import CliRunner
from markupsafe import escape
from test_datasette_plugin import (
    NOW,
    XSS_NAME,
    close,
    db_rows,
    get_json,
    iso,
    make_datasette,
    open_page,
    post_form,
    seed,
)

from companion.cli import main
from companion.identity import identities_for_url
from companion.store import activity, captures, contacts, reminders
from companion.store.db import open_db
from datasette_plugins import config, people, queries, today

TODAY = NOW.date()
KEYS = {"reconnect", "job_changes", "upcoming", "merge_suggestions", "recent"}
HTML_PAGE = (
    '<html><head><title>Gina Grey</title></head><body><div class="h-card">'
    '<a class="p-name u-url" href="https://gina.example/">Gina Grey</a>'
    ' <span class="p-job-title">Potter</span></div></body></html>'
)


def md(days: int, year: int | None = None) -> str:
    day = TODAY + timedelta(days=days)
    return f"{year}-{day:%m-%d}" if year else f"--{day:%m-%d}"


def daily_seed(path) -> dict:
    """The plugin tests' network, plus dates, a suggestion, a capture that could not be parsed
    and a few people for the picker (accents included)."""
    ids = seed(path)
    db = open_db(path)
    later = TODAY + timedelta(days=3)
    year = 1990 if not (later.month == 2 and later.day == 29) else 1992
    reminders.set_birthday(db, ids["carol"], f"{year}-{later:%m-%d}")  # in 3 days, with a year
    reminders.set_birthday(db, ids["dave"], md(20))  # outside the window
    reminders.add_dated_note(db, ids["eve"], "Wedding anniversary", md(0, 2015))  # today, yearly
    reminders.add_dated_note(
        db,
        ids["frank"],
        "Visa renewal",
        md(5, TODAY.year if (TODAY + timedelta(5)).year == TODAY.year else TODAY.year + 1),
        yearly=False,
    )
    reminders.add_dated_note(db, ids["frank"], "Old visa renewal", md(2, 2001), yearly=False)  # long past
    ids["jose"] = contacts.create_contact(
        db, {"name": "José Ñúñez", "company": "Initech", "circle": "both", "created_at": iso(30)}
    )
    ids["bob2"] = contacts.create_contact(
        db, {"name": "Bob Baker", "company": "Acme", "circle": "personal", "created_at": iso(20)}
    )
    activity.add_note(db, ids["bob2"], "Second Bob record: likes sailing", created_at=iso(15))
    contacts.suggest_merge(db, ids["bob"], ids["bob2"], 100.0, "similar name (100%) and the same company")
    ids["gina"] = contacts.create_contact(db, {"name": "Gina Grey", "circle": "personal", "created_at": iso(2)})
    contacts.attach_identities(
        db, ids["gina"], [{"kind": "url", "value": "https://gina.example/", "url": "https://gina.example/"}]
    )
    ids["unparsed"] = str(uuid.uuid4())
    db["captures"].insert(
        {
            "id": ids["unparsed"],
            "kind": "profile",
            "url": "https://gina.example/",
            "title": "Gina Grey",
            "captured_at": iso(1),
            "received_at": iso(1),
            "contact_id": ids["gina"],
            "html": zlib.compress(HTML_PAGE.encode()),
            "extractor": "generic",
            "status": "unparsed",
            "error": "extraction timed out",
            "payload": json.dumps({"kind": "profile", "url": "https://gina.example/"}),
        }
    )
    db.conn.commit()
    db.close()
    return ids


@pytest.fixture
def kith(tmp_path):
    path = tmp_path / "kith.db"
    ids = daily_seed(path)
    ds = make_datasette([path], {"forms": "anyone"})
    yield ds, ids, path
    close(ds)


# --- today.json -------------------------------------------------------------------------------


async def test_today_json_has_every_key(kith):
    ds, ids, _ = kith
    data = get_json(await ds.client.get("/-/kith/today.json"))
    assert KEYS <= set(data) and "onboarding" not in data


async def test_today_reconnect_is_the_queues_top(kith):
    ds, ids, _ = kith
    data = get_json(await ds.client.get("/-/kith/today.json"))
    queue = get_json(await ds.client.get("/-/kith/reconnect.json"))
    assert [p["id"] for p in data["reconnect"]["people"]] == [p["id"] for p in queue["people"]]
    assert data["reconnect"]["capacity"] == 10 and data["reconnect"]["people"]
    alice = next(p for p in data["reconnect"]["people"] if p["id"] == ids["alice"])
    assert alice["reason"] == "last spoke 94 days ago; you wanted every 60"


async def test_today_job_changes_until_you_are_in_touch(kith):
    ds, ids, path = kith
    jobs = get_json(await ds.client.get("/-/kith/today.json"))["job_changes"]
    assert [p["contact_id"] for p in jobs["people"]] == [ids["alice"]]
    alice = jobs["people"][0]
    assert alice["summary"] == "now Head of Data (was Lead)"
    assert [(c["field"], c["old_value"], c["new_value"]) for c in alice["changes"]] == [
        ("title", "Lead", "Head of Data")
    ]
    # "Congratulated" logs a message; then she has been in touch since, and drops off.
    response = await post_form(
        ds, ids["alice"], {"action": "interaction", "kind": "message", "summary": today.CONGRATULATED, "next": "today"}
    )
    assert response.headers["location"] == "/-/kith/today"
    assert get_json(await ds.client.get("/-/kith/today.json"))["job_changes"]["people"] == []


async def test_today_upcoming_dates_in_the_next_two_weeks(kith):
    ds, ids, _ = kith
    upcoming = get_json(await ds.client.get("/-/kith/today.json"))["upcoming"]
    items = [(i["contact_id"], i["kind"], i["label"], i["in_days"]) for i in upcoming["items"]]
    assert items == [
        (ids["eve"], "date", "Wedding anniversary", 0),
        (ids["carol"], "birthday", "Birthday", 3),
        (ids["frank"], "date", "Visa renewal", 5),
    ]
    eve, carol, frank = upcoming["items"]
    assert eve["years"] == TODAY.year - 2015 and eve["text"] == f"Wedding anniversary ({TODAY.year - 2015} years)"
    assert carol["text"].startswith("Birthday (turns ") and carol["when"] == "in 3 days"
    assert frank["yearly"] is False and frank["action"] == {"kind": "other", "summary": "Visa renewal"}
    assert not any(i["done"] for i in upcoming["items"])
    # The one-click action logs the wishes; the item then shows as done.
    await post_form(
        ds, ids["carol"], {"action": "interaction", "kind": "message", "summary": "Birthday wishes", "next": "today"}
    )
    upcoming = get_json(await ds.client.get("/-/kith/today.json"))["upcoming"]
    assert [i["done"] for i in upcoming["items"]] == [False, True, False]


async def test_today_merge_suggestions_with_both_histories(kith):
    ds, ids, _ = kith
    suggestions = get_json(await ds.client.get("/-/kith/today.json"))["merge_suggestions"]["suggestions"]
    assert [(s["keep_id"], s["drop_id"]) for s in suggestions] == [(ids["bob"], ids["bob2"])]
    keep, drop = suggestions[0]["keep"], suggestions[0]["drop"]
    assert keep["name"] == drop["name"] == "Bob Baker"
    assert keep["history"]["interactions"] == 1 and drop["history"]["notes"] == 1


async def test_today_recent_captures_and_the_unparsed_ones(kith):
    ds, ids, _ = kith
    recent = get_json(await ds.client.get("/-/kith/today.json"))["recent"]
    assert [c["id"] for c in recent["unparsed"]] == [ids["unparsed"]]
    assert recent["unparsed"][0]["can_reextract"] is True and recent["unparsed"][0]["error"] == "extraction timed out"
    assert ids["unparsed"] in [c["id"] for c in recent["captures"]] and len(recent["captures"]) == 2
    stamps = [c["received_at"] for c in recent["captures"]]
    assert stamps == sorted(stamps, reverse=True)


async def test_reextract_from_today(kith):
    ds, ids, path = kith
    html = (await ds.client.get("/-/kith/today")).text
    assert 'name="action" value="reextract"' in html and ids["unparsed"] in html
    response = await post_form(ds, ids["gina"], {"action": "reextract", "capture": ids["unparsed"], "next": "today"})
    assert response.status_code == 302 and response.headers["location"] == "/-/kith/today"
    assert db_rows(path, "SELECT status FROM captures WHERE id = ?", [ids["unparsed"]]) == [("parsed",)]
    assert db_rows(path, "SELECT title FROM contacts WHERE id = ?", [ids["gina"]]) == [("Potter",)]
    assert get_json(await ds.client.get("/-/kith/today.json"))["recent"]["unparsed"] == []
    # Another contact's capture, or none at all: refused with a message, nothing written.
    for capture in (ids["unparsed"], "nope"):
        response = await post_form(ds, ids["alice"], {"action": "reextract", "capture": capture})
        assert response.status_code == 302 and "ds_messages" in response.headers["set-cookie"]


async def test_an_empty_database_opens_on_onboarding(tmp_path):
    path = tmp_path / "empty.db"
    open_db(path).close()
    ds = make_datasette([path], {"forms": "anyone", "home": "today"})
    try:
        home = await ds.client.get("/")
        assert home.status_code == 302 and home.headers["location"] == "/-/kith/today"
        data = get_json(await ds.client.get("/-/kith/today.json"))
        assert KEYS <= set(data)
        steps = data["onboarding"]["steps"]
        assert [s["step"] for s in steps] == ["Load the extension", "Pair it with Kith", "Save someone"]
        assert "kith pair" in json.dumps(steps) and "extension/" in steps[0]["text"]
        commands = [i["command"] for i in data["onboarding"]["imports"]]
        assert any(c.startswith("kith import linkedin") for c in commands)
        assert any(c.startswith("kith import vcard") for c in commands)
        assert data["onboarding"]["demo"]["command"] == "make demo"
        assert data["reconnect"]["people"] == [] and data["upcoming"]["items"] == []
        html = (await ds.client.get("/-/kith/today")).text
        assert 'id="kith-onboarding"' in html and "Load unpacked" in html and "kith import vcard" in html
        assert 'id="kith-today-reconnect"' not in html
    finally:
        close(ds)


async def test_the_users_own_contact_alone_is_still_empty(tmp_path):
    path = tmp_path / "me.db"
    db = open_db(path)
    contacts.create_contact(db, {"name": "Me", "is_me": 1})
    db.close()
    ds = make_datasette([path])
    try:
        assert "onboarding" in get_json(await ds.client.get("/-/kith/today.json"))
    finally:
        close(ds)


async def test_today_page_actions_post_to_contact_pages_and_come_back(kith):
    ds, ids, _ = kith
    page = await open_page(ds, "/-/kith/today")
    actions = {(f["action"], f["fields"]["action"], f["fields"].get("next")) for f in page.forms.values()}
    assert (f"/-/kith/contacts/{ids['alice']}", "interaction", "today") in actions
    assert (f"/-/kith/contacts/{ids['alice']}", "snooze", "today") in actions
    assert (f"/-/kith/contacts/{ids['bob']}", "merge", None) in actions
    assert (f"/-/kith/contacts/{ids['bob']}", "not_same", "today") in actions
    for section in ("reconnect", "upcoming", "jobs", "merges", "recent"):
        assert f'id="kith-today-{section}"' in page.html
    assert 'href="/-/kith/datasette"' in page.html


async def test_today_shows_hostile_text_as_text(kith):
    ds, ids, _ = kith
    html = (await ds.client.get("/-/kith/today")).text
    assert str(escape(XSS_NAME)).replace("&#34;", "&quot;") in html  # Mallory is overdue
    assert "<img src=x" not in html and "<script>alert" not in html
    assert not re.search(r"""(href|src)\s*=\s*["']?\s*javascript:""", html, re.I)


async def test_forms_hidden_on_today_when_not_allowed(tmp_path, kith):
    _, ids, path = kith
    ds = make_datasette([path], {"forms": False})
    try:
        html = (await ds.client.get("/-/kith/today")).text
        assert '<form method="post"' not in html and "forms: false" in html
    finally:
        close(ds)


# --- people.json --------------------------------------------------------------------------------


async def find(ds, q=None) -> list[dict]:
    params = {} if q is None else {"q": q}
    return get_json(await ds.client.get("/-/kith/people.json", params=params))["people"]


async def test_people_by_name_prefix(kith):
    ds, ids, _ = kith
    found = await find(ds, "ali")
    assert found[0]["id"] == ids["alice"] and found[0]["match"] == "name"
    assert (await find(ds, "ALICE ARCH"))[0]["id"] == ids["alice"]
    word = await find(ds, "arch")  # a later word of the name
    assert [p["id"] for p in word] == [ids["alice"]] and word[0]["match"] == "word"
    bobs = await find(ds, "bob")
    assert {p["id"] for p in bobs} == {ids["bob"], ids["bob2"]}
    # Newest contact first among equals: bob2 was written to most recently (its note).
    assert [p["id"] for p in bobs] == [ids["bob2"], ids["bob"]]


async def test_people_by_headline_and_company(kith):
    ds, ids, _ = kith
    assert [(p["id"], p["match"]) for p in await find(ds, "climat")] == [(ids["alice"], "details")]
    assert [p["id"] for p in await find(ds, "globex")] == [ids["carol"]]


async def test_people_ignore_accents_both_ways(kith):
    ds, ids, _ = kith
    for q in ("jose", "José", "JOSE NUNEZ", "ñúñ", "nunez"):
        assert [p["id"] for p in await find(ds, q)] == [ids["jose"]], q


@pytest.mark.parametrize(
    "q",
    [
        "AND (",
        '"',
        "'",
        "*",
        "name:x*",
        "NEAR(a b)",
        "^",
        "a OR b",
        "-",
        '"unterminated',
        "\x00",
        "{name}: x",
        "x" * 5000,
    ],
)
async def test_fts_syntax_in_q_is_just_text(kith, q):
    ds, _, _ = kith
    response = await ds.client.get("/-/kith/people.json", params={"q": q})
    assert response.status_code == 200, response.text[:300]
    assert isinstance(response.json()["people"], list)


async def test_operators_are_words(kith):
    ds, ids, path = kith
    db = open_db(path)
    near = contacts.create_contact(db, {"name": "Andor Near"})
    db.close()
    assert [p["id"] for p in await find(ds, "NEAR(")] == [near]
    assert [p["id"] for p in await find(ds, "and")] == [near]


async def test_empty_q_is_who_you_were_last_in_touch_with(kith):
    ds, ids, path = kith
    found = await find(ds, "")
    assert found == await find(ds) == await find(ds, "   ")
    stamps = [p["last_interaction_at"] or "" for p in found]
    everyone = db_rows(path, "SELECT count(*) FROM contacts")[0][0]
    assert stamps == sorted(stamps, reverse=True) and len(found) == min(everyone, people.PICK_LIMIT)
    assert all(p["match"] == "recent" for p in found)


async def test_people_numbers_and_the_limit(kith):
    ds, ids, path = kith
    for q in (str(ids["carol"]), f"#{ids['carol']}", f"Carol Chen #{ids['carol']}"):
        first = (await find(ds, q))[0]
        assert (first["id"], first["match"]) == (ids["carol"], "id"), q
    db = open_db(path)
    for i in range(30):
        contacts.create_contact(db, {"name": f"Samira Test{i}"})
    db.close()
    assert len(await find(ds, "samira")) == 20


async def test_people_page_twin(kith):
    ds, ids, _ = kith
    html = (await ds.client.get("/-/kith/people?q=ali")).text
    assert f'href="/-/kith/contacts/{ids["alice"]}">Alice Archer</a>' in html
    assert 'href="/-/kith/people.json?q=ali"' in html
    hostile = (await ds.client.get("/-/kith/people?q=alert")).text
    assert "&lt;img src=x onerror=alert(1)&gt;" in hostile and "<img src=x" not in hostile


def test_resolve_what_was_typed(tmp_path):
    path = tmp_path / "k.db"
    ids = daily_seed(path)
    conn = sqlite3.connect(path)
    assert people.resolve(conn, "Alice Archer") == ids["alice"]
    assert people.resolve(conn, "  alice   archer ") == ids["alice"]
    assert people.resolve(conn, f"#{ids['dave']}") == ids["dave"]
    assert people.resolve(conn, str(ids["dave"])) == ids["dave"]
    assert people.resolve(conn, f"Bob Baker #{ids['bob2']}") == ids["bob2"]
    assert people.resolve(conn, "dav") == ids["dave"]  # the only match
    for text, why in (
        ("Bob Baker", "More than one person is called"),
        ("zzz", "Nobody called"),
        ("#999999", "There is no contact #999999"),
        ("", "Choose a person"),
        ("a", "More than one person matches"),
    ):
        with pytest.raises(people.Unresolved, match=why):
            people.resolve(conn, text)
    conn.close()


def test_prefix_query_quotes_words_and_keeps_initials_whole():
    assert people.prefix_query(["ann"], "name") == '{name} : ("ann"*)'
    assert people.prefix_query(["j", "smi"], "name headline") == '{name headline} : ("j" "smi"*)'
    assert people.words('AND ( "x" name:y* NEAR(') == ["AND", "x", "name", "y", "NEAR"]
    assert people.number_in("#12") == 12 and people.number_in("Ann #7 ") == 7 and people.number_in("Ann 7") is None


# --- picking people in forms ---------------------------------------------------------------------


async def test_relationship_by_typing_a_name(kith):
    ds, ids, path = kith
    page = await open_page(ds, f"/-/kith/contacts/{ids['frank']}")
    form = page.forms["kith-relationship-form"]
    assert "other" in form["fields"]
    assert re.search(
        r'<input type="text" name="other" required data-kith-picker data-kith-people="/-/kith/people.json"', page.html
    )
    assert (await page.submit(ds, "kith-relationship-form", {"kind": "knows", "other": "Dave Diaz"})).status_code == 302
    assert (
        await page.submit(ds, "kith-relationship-form", {"kind": "works_with", "other": str(ids["carol"])})
    ).status_code == 302
    assert db_rows(
        path, "SELECT to_contact_id, kind FROM relationships WHERE from_contact_id = ? ORDER BY id", [ids["frank"]]
    ) == [(ids["dave"], "knows"), (ids["carol"], "works_with")]
    before = db_rows(path, "SELECT count(*) FROM relationships")[0][0]
    response = await page.submit(ds, "kith-relationship-form", {"kind": "knows", "other": "Bob Baker"})
    assert "ds_messages" in response.headers["set-cookie"]  # two Bobs: pick one
    assert db_rows(path, "SELECT count(*) FROM relationships")[0][0] == before


async def test_network_filters_take_names_and_numbers(kith):
    ds, ids, _ = kith
    by_name = (await ds.client.get("/-/kith/network?center=Alice+Archer&path_to=dave")).text
    assert f'data-src="/-/kith/network.json?center={ids["alice"]}&amp;path_to={ids["dave"]}"' in by_name
    assert 'value="Alice Archer"' in by_name and f'data-kith-id="{ids["alice"]}"' in by_name
    by_number = (await ds.client.get(f"/-/kith/network?center={ids['alice']}")).text
    assert f'data-src="/-/kith/network.json?center={ids["alice"]}"' in by_number
    unknown = (await ds.client.get("/-/kith/network?center=Nobody+Here")).text
    assert "Nobody called Nobody Here was found" in unknown and 'data-src="/-/kith/network.json"' in unknown
    # The JSON twin still takes numbers only, as before.
    assert get_json(await ds.client.get(f"/-/kith/network.json?center={ids['alice']}"))["center"] == ids["alice"]


# --- birthdays and dated notes -------------------------------------------------------------------


async def test_birthday_form_sets_and_clears(kith):
    ds, ids, path = kith
    page = await open_page(ds, f"/-/kith/contacts/{ids['eve']}")
    for typed, stored in (("1984-02-29", "1984-02-29"), ("12-24", "--12-24"), ("--0704", "--07-04")):
        assert (await page.submit(ds, "kith-birthday-form", {"birthday": typed})).status_code == 302
        assert db_rows(path, "SELECT birthday FROM contacts WHERE id = ?", [ids["eve"]]) == [(stored,)]
    html = (await ds.client.get(f"/-/kith/contacts/{ids['eve']}")).text
    assert "4 July" in html and 'value="--07-04"' in html
    for bad in ("1984-02-30", "13-01", "someday", "1700-01-01"):
        response = await page.submit(ds, "kith-birthday-form", {"birthday": bad})
        assert "ds_messages" in response.headers["set-cookie"], bad
    assert db_rows(path, "SELECT birthday FROM contacts WHERE id = ?", [ids["eve"]]) == [("--07-04",)]
    await page.submit(ds, "kith-birthday-form", {"birthday": ""})
    assert db_rows(
        path, "SELECT birthday, json_extract(field_sources, '$.birthday') FROM contacts WHERE id = ?", [ids["eve"]]
    ) == [(None, "user")]


async def test_dated_notes_are_added_listed_and_removed(kith):
    ds, ids, path = kith
    page = await open_page(ds, f"/-/kith/contacts/{ids['dave']}")
    assert (await page.submit(ds, "kith-date-form", {"label": "Name day", "date": md(1)})).status_code == 302
    await page.submit(ds, "kith-date-form", {"label": "Passport renewal", "date": md(4, TODAY.year + 1), "yearly": ""})
    rows = db_rows(path, "SELECT label, date, yearly FROM dated_notes WHERE contact_id = ? ORDER BY id", [ids["dave"]])
    assert rows == [("Name day", md(1), 1), ("Passport renewal", md(4, TODAY.year + 1), 0)]
    data = get_json(await ds.client.get(f"/-/kith/contacts/{ids['dave']}.json"))
    assert [(d["kind"], d["label"]) for d in data["dates"]] == [
        ("birthday", "Birthday"),
        ("date", "Name day"),
        ("date", "Passport renewal"),
    ]
    upcoming = get_json(await ds.client.get("/-/kith/today.json"))["upcoming"]["items"]
    assert (ids["dave"], "Name day") in [(i["contact_id"], i["label"]) for i in upcoming]
    note_id = db_rows(path, "SELECT id FROM dated_notes WHERE label = 'Name day'")[0][0]
    page = await open_page(ds, f"/-/kith/contacts/{ids['dave']}")
    assert (
        await post_form(ds, ids["dave"], {"action": "date_delete", "date_id": str(note_id)}, page=page)
    ).status_code == 302
    assert db_rows(path, "SELECT label FROM dated_notes WHERE contact_id = ?", [ids["dave"]]) == [("Passport renewal",)]
    # Someone else's date is not this page's to remove.
    eves = db_rows(path, "SELECT id FROM dated_notes WHERE contact_id = ?", [ids["eve"]])[0][0]
    response = await post_form(ds, ids["dave"], {"action": "date_delete", "date_id": str(eves)}, page=page)
    assert "ds_messages" in response.headers["set-cookie"]
    assert db_rows(path, "SELECT count(*) FROM dated_notes WHERE id = ?", [eves]) == [(1,)]
    for bad in ({"label": "", "date": "2020-01-01"}, {"label": "x", "date": ""}, {"label": "x", "date": "soon"}):
        response = await post_form(ds, ids["dave"], {"action": "date", **bad}, page=page)
        assert "ds_messages" in response.headers["set-cookie"], bad


async def test_contact_page_says_when_a_catch_up_is_due(kith):
    ds, ids, _ = kith
    alice = get_json(await ds.client.get(f"/-/kith/contacts/{ids['alice']}.json"))["catch_up"]
    assert alice["due"] is True and alice["cadence"] == 60 and alice["cadence_source"] == "contact"
    assert alice["due_on"] == (TODAY - timedelta(days=34)).isoformat()
    html = (await ds.client.get(f"/-/kith/contacts/{ids['alice']}")).text
    assert f"due since {alice['due_on']}" in html
    bob = get_json(await ds.client.get(f"/-/kith/contacts/{ids['bob']}.json"))["catch_up"]
    assert bob["due"] is False and bob["snoozed_until"]  # overdue, but snoozed


# --- merging --------------------------------------------------------------------------------------


def table_dump(path) -> dict:
    conn = sqlite3.connect(path)
    tables = (
        "contacts",
        "identities",
        "notes",
        "messages",
        "interactions",
        "exchanges",
        "relationships",
        "contact_tags",
        "merge_suggestions",
        "dated_notes",
        "captures",
    )
    skip = {"contacts": ("updated_at",), "profile_changes": ("detected_at",)}
    out = {}
    for table in tables:
        columns = [c[1] for c in conn.execute(f"PRAGMA table_info({table})") if c[1] not in skip.get(table, ())]
        out[table] = conn.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY 1, 2").fetchall()
    out["merged"] = conn.execute("SELECT contact_id, new_value FROM profile_changes WHERE field = 'merged'").fetchall()
    conn.close()
    return out


async def test_merge_from_today_is_kith_merge_through_the_one_writer(kith, tmp_path):
    ds, ids, path = kith
    twin = tmp_path / "twin.db"
    shutil.copy(path, twin)
    runner = CliRunner().invoke(main, ["merge", str(ids["bob"]), str(ids["bob2"]), "--db", str(twin)])
    assert runner.exit_code == 0, runner.output
    before = db_rows(path, "SELECT count(*) FROM contacts")[0][0]
    page = await open_page(ds, "/-/kith/today")
    form = next(k for k, f in page.forms.items() if f["fields"].get("action") == "merge")
    response = await page.submit(ds, form)
    # The merged contact, with both histories.
    assert response.status_code == 302 and response.headers["location"] == f"/-/kith/contacts/{ids['bob']}"
    assert db_rows(path, "SELECT count(*) FROM contacts")[0][0] == before - 1
    data = get_json(await ds.client.get(f"/-/kith/contacts/{ids['bob']}.json"))
    texts = [t["text"] for t in data["timeline"]]
    assert "Second Bob record: likes sailing" in texts and "coffee" in [t["title"] for t in data["timeline"]]
    assert (await ds.client.get(f"/-/kith/contacts/{ids['bob2']}")).status_code == 404
    assert table_dump(path) == table_dump(twin)  # exactly what `kith merge` does
    assert get_json(await ds.client.get("/-/kith/today.json"))["merge_suggestions"]["suggestions"] == []


async def test_merge_form_on_the_contact_page_by_name(kith):
    ds, ids, path = kith
    page = await open_page(ds, f"/-/kith/contacts/{ids['carol']}")
    assert "kith-merge-form" in page.forms
    response = await page.submit(ds, "kith-merge-form", {"other": "José Ñúñez"})
    assert response.headers["location"] == f"/-/kith/contacts/{ids['carol']}"
    assert db_rows(path, "SELECT count(*) FROM contacts WHERE id = ?", [ids["jose"]]) == [(0,)]
    for other in (str(ids["carol"]), "Nobody At All", ""):
        response = await page.submit(ds, "kith-merge-form", {"other": other})
        assert "ds_messages" in response.headers["set-cookie"], other


async def test_suggestions_on_the_contact_page(kith):
    ds, ids, _ = kith
    data = get_json(await ds.client.get(f"/-/kith/contacts/{ids['bob2']}.json"))
    assert [(s["keep_id"], s["drop_id"]) for s in data["merge_suggestions"]] == [(ids["bob"], ids["bob2"])]
    html = (await ds.client.get(f"/-/kith/contacts/{ids['bob2']}")).text
    assert 'id="kith-contact-merges"' in html and "Not the same person" in html
    assert f'name="other" value="{ids["bob"]}"' in html


async def test_not_the_same_person_is_remembered_for_good(kith):
    ds, ids, path = kith
    page = await open_page(ds, "/-/kith/today")
    form = next(k for k, f in page.forms.items() if f["fields"].get("action") == "not_same")
    response = await page.submit(ds, form)
    assert response.headers["location"] == "/-/kith/today"
    assert get_json(await ds.client.get("/-/kith/today.json"))["merge_suggestions"]["suggestions"] == []
    pair = sorted((ids["bob"], ids["bob2"]))
    status = "SELECT status FROM merge_suggestions WHERE contact_id = ? AND other_contact_id = ?"
    assert db_rows(path, status, pair) == [("dismissed",)]
    # Whatever suggests it again (a capture, an import, a similar new record), it stays dismissed.
    db = open_db(path)
    contacts.suggest_merge(db, ids["bob2"], ids["bob"], 100.0, "they share an identity")
    contacts.attach_identities(db, ids["bob"], [{"kind": "email", "value": "bob@example.com", "url": None}])
    contacts.resolve_and_upsert(
        db,
        {"name": "Bob Baker"},
        [{"kind": "email", "value": "bob@example.com", "url": None}],
        [{"kind": "github", "value": "bobb", "url": None}],
    )
    db.close()
    assert db_rows(path, status, pair) == [("dismissed",)]
    assert get_json(await ds.client.get("/-/kith/today.json"))["merge_suggestions"]["suggestions"] == []


# --- / and Datasette's own index -----------------------------------------------------------------


async def test_home_setting_and_datasettes_index(kith):
    ds, ids, path = kith
    plain = await ds.client.get("/")  # default: Datasette's own index, as before
    assert plain.status_code == 200 and '<a href="/-/kith/today">Kith</a>' in plain.text
    home = make_datasette([path], {"home": "today"})
    try:
        response = await home.client.get("/")
        assert response.status_code == 302 and response.headers["location"] == "/-/kith/today"
        index = await home.client.get("/-/kith/datasette")
        assert index.status_code == 200 and 'href="/kith"' in index.text
        # The same as Datasette's own JSON index, which is still at /.json.
        assert get_json(await home.client.get("/-/kith/datasette.json")) == get_json(await home.client.get("/.json"))
        assert "contacts" in json.dumps(get_json(await home.client.get("/.json")))
    finally:
        close(home)


async def test_home_without_a_kith_database_is_datasettes_index(tmp_path):
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    ds = make_datasette([other], {"home": "today"})
    try:
        response = await ds.client.get("/")
        assert response.status_code == 200 and "other" in response.text
    finally:
        close(ds)


async def test_a_bad_home_setting_stops_datasette(tmp_path, kith):
    _, _, path = kith
    ds = make_datasette([path], {"home": "elsewhere"})
    try:
        with pytest.raises(config.ConfigError, match=r"plugins\.kith\.home"):
            await ds.invoke_startup()
    finally:
        close(ds)


# --- the popup's lookup ---------------------------------------------------------------------------


def test_lookup_carries_catch_up_and_upcoming_dates(tmp_path):
    path = tmp_path / "k.db"
    ids = daily_seed(path)
    db = open_db(path)
    contacts.attach_identities(db, ids["alice"], identities_for_url("https://www.linkedin.com/in/alice-archer/"))
    now = NOW.strftime("%Y-%m-%dT%H:%M:%SZ")
    found = captures.lookup(db, "https://www.linkedin.com/in/alice-archer", now=now)
    assert found["catch_up"]["due"] is True and found["catch_up"]["due_on"] == (TODAY - timedelta(days=34)).isoformat()
    assert found["upcoming"] == []
    reminders.add_dated_note(db, ids["alice"], "Work anniversary", md(2, 2019))
    found = captures.lookup(db, "https://www.linkedin.com/in/alice-archer", now=now)
    assert [(u["label"], u["in_days"], u["text"]) for u in found["upcoming"]] == [
        ("Work anniversary", 2, f"Work anniversary ({(TODAY + timedelta(days=2)).year - 2019} years)")
    ]
    gina = captures.lookup(db, "https://gina.example/", now=now)
    assert gina["catch_up"]["due"] is False and gina["catch_up"]["due_on"] is not None
    db.close()


async def test_lookup_over_http(companion):
    db = companion.db()
    cid, _ = contacts.resolve_and_upsert(
        db,
        {"name": "Hana Ito", "circle": "personal", "created_at": iso(100)},
        identities_for_url("https://github.com/hana"),
    )
    reminders.set_birthday(db, cid, md(1, 1990))
    db.close()
    async with companion.client.get(
        "/v1/contacts/lookup", params={"url": "https://github.com/hana"}, headers=companion.headers()
    ) as response:
        body = await response.json()
    assert body["catch_up"]["due"] is True and body["catch_up"]["cadence"] == 30
    assert [(u["kind"], u["in_days"]) for u in body["upcoming"]] == [("birthday", 1)]


# --- pure helpers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, stored",
    [
        ("1990-04-12", "1990-04-12"),
        ("1990-4-2", "1990-04-02"),
        ("--04-12", "--04-12"),
        ("--0412", "--04-12"),
        ("04-12", "--04-12"),
        ("4-12", "--04-12"),
        ("02-29", "--02-29"),
        (" 2000-02-29 ", "2000-02-29"),
        ("", None),
        (None, None),
    ],
)
def test_parse_date(text, stored):
    assert reminders.parse_date(text) == stored


@pytest.mark.parametrize("text", ["1990-02-30", "13-01", "--00-10", "1990/04/12", "April 12", "1799-01-01", "x"])
def test_parse_date_refuses(text):
    with pytest.raises(reminders.DateError):
        reminders.parse_date(text)


def test_next_occurrence_and_the_29th_of_february():
    assert reminders.next_occurrence("1990-04-12", date(2025, 4, 12)) == date(2025, 4, 12)
    assert reminders.next_occurrence("1990-04-12", date(2025, 4, 13)) == date(2026, 4, 12)
    assert reminders.next_occurrence("--02-29", date(2025, 2, 1)) == date(2025, 2, 28)
    assert reminders.next_occurrence("--02-29", date(2028, 2, 1)) == date(2028, 2, 29)
    assert reminders.next_occurrence("2025-06-01", date(2025, 5, 1), yearly=False) == date(2025, 6, 1)
    assert reminders.next_occurrence("2025-06-01", date(2025, 6, 2), yearly=False) is None
    assert "02-29" in reminders.window_days(date(2025, 2, 20), 14)
    assert "02-29" not in reminders.window_days(date(2024, 2, 20), 5)
    assert reminders.window_days(date(2025, 12, 30), 3) == ["12-30", "12-31", "01-01"]


def test_upcoming_across_the_new_year_and_in_a_leap_year(tmp_path):
    path = tmp_path / "k.db"
    db = open_db(path)
    a = contacts.create_contact(db, {"name": "Ann"})
    b = contacts.create_contact(db, {"name": "Ben"})
    c = contacts.create_contact(db, {"name": "Cy", "is_me": 1})
    reminders.set_birthday(db, a, "1980-01-02")
    reminders.set_birthday(db, b, "--02-29")
    reminders.set_birthday(db, c, "--01-01")  # the user's own: not a reminder
    db.execute("UPDATE contacts SET birthday = 'sometime' WHERE id = ?", [c])  # written by hand
    db.close()
    conn = sqlite3.connect(path)
    items = reminders.upcoming(conn, date(2025, 12, 28))["items"]
    assert [(i["name"], i["on"], i["years"]) for i in items] == [("Ann", "2026-01-02", 46)]
    items = reminders.upcoming(conn, date(2025, 2, 27))["items"]
    assert [(i["name"], i["on"]) for i in items] == [("Ben", "2025-02-28")]
    conn.close()


def test_upcoming_says_when_there_are_more_than_it_shows(tmp_path):
    path = tmp_path / "k.db"
    db = open_db(path)
    for i in range(5):
        reminders.set_birthday(db, contacts.create_contact(db, {"name": f"P{i}"}), md(i % 2))
    db.close()
    conn = sqlite3.connect(path)
    few = reminders.upcoming(conn, TODAY, limit=3)
    assert len(few["items"]) == 3 and few["more"] is True
    assert [i["in_days"] for i in few["items"]] == [0, 0, 0]
    everyone = reminders.upcoming(conn, TODAY, limit=5)
    assert len(everyone["items"]) == 5 and everyone["more"] is False
    conn.close()


def test_describe_and_pretty():
    item = {"kind": "birthday", "label": "Birthday", "years": 36}
    assert reminders.describe(item) == "Birthday (turns 36)"
    assert (
        reminders.describe({"kind": "date", "label": "Wedding anniversary", "years": 1})
        == "Wedding anniversary (1 year)"
    )
    assert reminders.describe({"kind": "date", "label": "Visa renewal", "years": None}) == "Visa renewal"
    assert reminders.pretty("1990-04-02") == "2 April 1990" and reminders.pretty("--12-24") == "24 December"


def test_catch_up_matches_the_queue_defaults():
    assert reminders.DEFAULT_CADENCE == queries.DEFAULT_CADENCE


def test_change_summary():
    assert today.change_summary(
        [
            {"field": "company", "old_value": "Acme", "new_value": "Globex"},
            {"field": "title", "old_value": "Lead", "new_value": "VP"},
        ]
    ) == ("now VP at Globex (was Lead at Acme)")
    assert today.change_summary([{"field": "headline", "old_value": "a", "new_value": "Speaker"}]) == (
        "new headline: Speaker"
    )
    assert today.change_summary([{"field": "title", "old_value": "x", "new_value": None}]) == "profile changed"


# --- the store's merge ------------------------------------------------------------------------------


def test_merge_carries_dismissed_pairs_to_the_contact_that_remains(db):
    a, b, c, d = (contacts.create_contact(db, {"name": n}) for n in "ABCD")
    contacts.dismiss_suggestion(db, b, c)
    contacts.suggest_merge(db, b, d, 90.0, "similar")
    contacts.suggest_merge(db, a, c, 90.0, "similar")  # open for a, but b (merging into a) is not c
    contacts.merge_contacts(db, a, b)
    rows = {(r["contact_id"], r["other_contact_id"]): r["status"] for r in db["merge_suggestions"].rows}
    assert rows == {(a, c): "dismissed", (a, d): "open"}
    contacts.suggest_merge(db, c, a, 100.0, "they share an identity")
    assert (
        db.execute(
            "SELECT status FROM merge_suggestions WHERE contact_id = ? AND other_contact_id = ?", [a, c]
        ).fetchone()[0]
        == "dismissed"
    )


def test_merge_leaves_nothing_behind_without_foreign_keys(tmp_path):
    path = tmp_path / "k.db"
    db = open_db(path)
    keep, drop, other = (contacts.create_contact(db, {"name": n}) for n in ("Keep", "Drop", "Other"))
    contacts.set_tags(db, drop, ["x"])
    contacts.set_tags(db, keep, ["x"])
    activity.add_relationship(db, drop, keep, "knows")
    activity.add_relationship(db, drop, other, "knows")
    activity.add_relationship(db, keep, other, "knows")
    reminders.add_dated_note(db, drop, "Name day", "--05-01")
    contacts.suggest_merge(db, drop, keep, 90.0, "similar")
    db.close()
    db = open_db(path)
    db.execute("PRAGMA foreign_keys = OFF")  # as on Datasette's own write connection
    contacts.merge_contacts(db, keep, drop)
    for sql in (
        "SELECT count(*) FROM contact_tags WHERE contact_id = :d",
        "SELECT count(*) FROM relationships WHERE from_contact_id = :d OR to_contact_id = :d",
        "SELECT count(*) FROM merge_suggestions WHERE contact_id = :d OR other_contact_id = :d",
        "SELECT count(*) FROM dated_notes WHERE contact_id = :d",
    ):
        assert db.execute(sql, {"d": drop}).fetchone()[0] == 0, sql
    assert db.execute("SELECT contact_id FROM dated_notes").fetchall() == [(keep,)]
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    db.close()


# --- birthdays in and out: vCard, CSV ---------------------------------------------------------------

CARDS = (
    "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Rosa Park\r\nN:Park;Rosa;;;\r\nEMAIL:rosa@example.com\r\n"
    "BDAY:1985-03-14\r\nEND:VCARD\r\n"
    "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Tariq Aziz\r\nN:Aziz;Tariq;;;\r\nEMAIL:tariq@example.com\r\n"
    "BDAY:--0709\r\nEND:VCARD\r\n"
)


def kith_cli(*args) -> str:
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.output


async def test_a_vcard_birthday_round_trips_through_import_the_contact_page_and_export(tmp_path):
    (tmp_path / "friends.vcf").write_text(CARDS)
    path = tmp_path / "kith.db"
    kith_cli("import", "vcard", tmp_path / "friends.vcf", "--db", path)
    rosa, tariq = (
        db_rows(path, "SELECT id FROM contacts WHERE name = ?", [n])[0][0] for n in ("Rosa Park", "Tariq Aziz")
    )
    ds = make_datasette([path], {"forms": "anyone"})
    try:
        assert get_json(await ds.client.get(f"/-/kith/contacts/{rosa}.json"))["contact"]["birthday"] == "1985-03-14"
        assert "14 March 1985" in (await ds.client.get(f"/-/kith/contacts/{rosa}")).text
        page = await open_page(ds, f"/-/kith/contacts/{tariq}")
        assert "9 July" in page.html and 'value="--07-09"' in page.html
        # The year turns up: edit it on the contact page; and a wedding anniversary for Rosa.
        assert (await page.submit(ds, "kith-birthday-form", {"birthday": "1979-07-09"})).status_code == 302
        rosa_page = await open_page(ds, f"/-/kith/contacts/{rosa}")
        await rosa_page.submit(ds, "kith-date-form", {"label": "Wedding anniversary", "date": "2010-05-01"})
        await rosa_page.submit(ds, "kith-date-form", {"label": "Work anniversary", "date": "2012-09-01"})
    finally:
        close(ds)
    kith_cli("export", "vcard", "-o", tmp_path / "out4.0.vcf", "--db", path)
    v4 = (tmp_path / "out4.0.vcf").read_bytes().decode()
    assert "BDAY:19850314\r\n" in v4 and "BDAY:19790709\r\n" in v4 and "ANNIVERSARY:20100501\r\n" in v4
    assert v4.count("ANNIVERSARY") == 1  # a work anniversary is not vCard's (a marriage or equivalent)
    kith_cli("export", "vcard", "--version", "3.0", "-o", tmp_path / "out3.0.vcf", "--db", path)
    v3 = (tmp_path / "out3.0.vcf").read_bytes().decode()
    assert "BDAY:1985-03-14\r\n" in v3 and "BDAY:1979-07-09\r\n" in v3 and "X-ANNIVERSARY:2010-05-01\r\n" in v3
    exported = json.loads(kith_cli("export", "json", "--db", path))
    rosa_json = next(c for c in exported["contacts"] if c["id"] == rosa)
    assert [(d["label"], d["date"], d["yearly"]) for d in rosa_json["dates"]] == [
        ("Wedding anniversary", "2010-05-01", 1),
        ("Work anniversary", "2012-09-01", 1),
    ]
    # And back in: the birthdays land where they were.
    for version in ("4.0", "3.0"):
        again = tmp_path / f"again{version}.db"
        kith_cli("import", "vcard", tmp_path / f"out{version}.vcf", "--db", again)
        assert db_rows(again, "SELECT name, birthday FROM contacts ORDER BY name") == [
            ("Rosa Park", "1985-03-14"),
            ("Tariq Aziz", "1979-07-09"),
        ], version


def test_csv_birthdays_with_and_without_a_year(tmp_path):
    (tmp_path / "google.csv").write_text(
        "Name,E-mail 1 - Value,Birthday\nLi Wei,li@example.com,--12-03\nAna Lima,ana@example.com,1992-06-30\n"
    )
    path = tmp_path / "kith.db"
    kith_cli("import", "csv", tmp_path / "google.csv", "--db", path)
    assert db_rows(path, "SELECT name, birthday FROM contacts ORDER BY name") == [
        ("Ana Lima", "1992-06-30"),
        ("Li Wei", "--12-03"),
    ]
    out = kith_cli("export", "csv", "--db", path)
    assert "--12-03" in out and "1992-06-30" in out
