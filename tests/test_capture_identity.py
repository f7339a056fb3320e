"""One person across sites, job changes and re-saved threads, through the live API and real fixture pages."""

from __future__ import annotations

import json

from companion.store.db import open_db
from conftest import FIXTURES, new_capture_id

PAGES = FIXTURES / "pages"


def page(name: str) -> tuple[str, str]:
    expected = json.loads((PAGES / f"{name}.expected.json").read_text())
    return (PAGES / f"{name}.html").read_text(encoding="utf-8"), expected["url"]


async def save(companion, html: str, url: str, **extra) -> dict:
    capture = {"capture_id": new_capture_id(), "kind": "profile", "url": url, "html": html, **extra}
    async with companion.client.post("/v1/captures", data=json.dumps(capture), headers=companion.headers()) as response:
        body = await response.json()
        assert response.status == 201, body
        return body


async def test_github_and_personal_site_with_rel_me_are_one_contact(companion):
    github = await save(companion, *page("github_user"))
    personal = await save(companion, *page("personal_hcard"))
    assert personal["contact_id"] == github["contact_id"] and personal["created"] is False
    db = open_db(companion.db_path)
    assert db["contacts"].count == 1
    kinds = {r["kind"] for r in db["identities"].rows_where("contact_id = ?", [github["contact_id"]])}
    assert {"github", "url", "email", "mastodon", "x", "linkedin"} <= kinds
    contact = db["contacts"].get(github["contact_id"])
    assert contact["title"] == "Staff Engineer" and contact["company"] == "Acme Robotics"


async def test_personal_site_first_then_github_joins_too(companion):
    personal = await save(companion, *page("personal_hcard"))
    github = await save(companion, *page("github_user"))
    assert github["contact_id"] == personal["contact_id"]
    assert open_db(companion.db_path)["contacts"].count == 1


async def test_changed_job_title_writes_one_profile_change(companion):
    html, url = page("linkedin_profile_2022")
    first = await save(companion, html, url)
    again = await save(companion, html, url)  # an identical re-save changes nothing
    moved = await save(
        companion,
        html.replace("Staff Engineer", "Principal Engineer"),
        "https://uk.linkedin.com/in/priya-raman-42b1a7?trk=people",
    )
    assert first["contact_id"] == again["contact_id"] == moved["contact_id"]
    db = open_db(companion.db_path)
    changes = [
        (r["field"], r["old_value"], r["new_value"]) for r in db["profile_changes"].rows if r["field"] == "title"
    ]
    assert changes == [("title", "Staff Engineer", "Principal Engineer")]
    assert db["contacts"].get(first["contact_id"])["title"] == "Principal Engineer"


async def test_messaging_thread_saved_twice_keeps_each_message_once(companion):
    html, url = page("linkedin_messaging")
    first = await save(companion, html, url)
    second = await save(companion, html, url)
    assert first["messages_added"] == 5 and second["messages_added"] == 0
    db = open_db(companion.db_path)
    assert db["messages"].count == 5
    assert {r["contact_id"] for r in db["messages"].rows} == {first["contact_id"]}
    assert {r["direction"] for r in db["messages"].rows} == {"in", "out"}


async def test_reextract_fixes_old_captures(companion, monkeypatch):
    html, url = page("github_user")
    saved = await save(companion, html, url)
    db = open_db(companion.db_path)
    # Simulate an old, worse extractor's result, then re-run today's.
    db["contacts"].update(saved["contact_id"], {"company": None, "bio": None})
    db.execute("UPDATE captures SET status = 'unparsed', extractor = 'old'")
    from companion.reextract import reextract_all

    counts = reextract_all(db)
    assert counts["captures"] == 1 and counts["changed_status"] == 1
    contact = db["contacts"].get(saved["contact_id"])
    assert contact["company"] == "Acme Robotics" and contact["bio"]
    assert next(db["captures"].rows)["extractor"] == "github"
    assert db["contacts"].count == 1 and db["profile_changes"].count == 0
