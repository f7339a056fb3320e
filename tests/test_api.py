"""End to end through real parts: HTTP on loopback → ingest → SQLite file → Datasette JSON.

Requests go through pytest-aiohttp's client (`companion.client`) to the real app on a real socket.
"""

from __future__ import annotations

import json

from datasette.app import Datasette

from companion.store.db import open_db
from conftest import new_capture_id

PROFILE_HTML = """<!DOCTYPE html><html><head><title>Jane Doe | LinkedIn</title>
<meta property="og:title" content="Jane Doe - Staff Engineer - Acme | LinkedIn">
<script type="application/ld+json">{"@context": "http://schema.org", "@graph": [
 {"@type": "Person", "name": "Jane Doe", "jobTitle": ["Staff Engineer"],
  "worksFor": [{"@type": "Organization", "name": "Acme"}],
  "address": {"@type": "PostalAddress", "addressLocality": "London", "addressCountry": "GB"},
  "url": "https://uk.linkedin.com/in/jane-doe"}]}</script></head>
<body><h1>Jane Doe</h1></body></html>"""


def profile_capture(**overrides) -> dict:
    capture = {
        "capture_id": new_capture_id(),
        "kind": "profile",
        "url": "https://www.linkedin.com/in/jane-doe/",
        "title": "Jane Doe | LinkedIn",
        "captured_at": "2026-11-27T10:00:00Z",
        "html": PROFILE_HTML,
        "note": "Met at PyCon, wants intros to climate founders",
        "tags": ["pycon", "climate"],
        "circle": "professional",
        "how_met": "PyCon 2026",
    }
    capture.update(overrides)
    return capture


async def post(companion, payload, **headers):
    async with companion.client.post(
        "/v1/captures", data=json.dumps(payload), headers=companion.headers(**headers)
    ) as response:
        return response.status, await response.json()


async def test_ping_needs_no_token(companion):
    async with companion.client.get("/v1/ping") as response:
        assert response.status == 200
        body = await response.json()
    assert body["app"] == "kith" and body["api_version"] == 1 and "version" in body


async def test_profile_capture_lands_in_sqlite_and_datasette(companion):
    capture = profile_capture()
    status, body = await post(companion, capture)
    assert status == 201, body
    assert body["duplicate"] is False and body["contact"]["name"] == "Jane Doe"
    contact_id = body["contact_id"]

    db = open_db(companion.db_path)
    contact = db["contacts"].get(contact_id)
    assert (contact["name"], contact["company"], contact["title"]) == ("Jane Doe", "Acme", "Staff Engineer")
    assert contact["circle"] == "professional" and contact["how_met"] == "PyCon 2026"
    row = db["captures"].get(capture["capture_id"])
    assert row["contact_id"] == contact_id and row["kind"] == "profile" and row["html"]
    assert row["html_sha256"] and len(row["html"]) < len(PROFILE_HTML)  # kept, compressed
    identities = {(i["kind"], i["value"]) for i in db["identities"].rows_where("contact_id = ?", [contact_id])}
    assert ("linkedin", "https://www.linkedin.com/in/jane-doe/") in identities
    assert [n["body"] for n in db["notes"].rows] == [capture["note"]]
    assert sorted(r[0] for r in db.execute("SELECT t.name FROM tags t JOIN contact_tags ct ON ct.tag_id = t.id")) == [
        "climate",
        "pycon",
    ]
    db.close()

    datasette = Datasette([str(companion.db_path)])
    for table, key in (
        ("contacts", "Jane Doe"),
        ("captures", capture["capture_id"]),
        ("identities", "https://www.linkedin.com/in/jane-doe/"),
    ):
        response = await datasette.client.get(f"/kith/{table}.json?_shape=array")
        assert response.status_code == 200
        assert key in response.text, table


async def test_replay_is_idempotent_and_conflict_is_409(companion):
    capture = profile_capture()
    first = await post(companion, capture)
    again = await post(companion, capture)
    assert first[0] == 201 and again[0] == 200 and again[1]["duplicate"] is True
    assert again[1]["contact_id"] == first[1]["contact_id"]
    changed = dict(capture, note="a different note")
    status, body = await post(companion, changed)
    assert status == 409 and body["error"]["code"] == "CAPTURE_CONFLICT"
    db = open_db(companion.db_path)
    assert db["captures"].count == 1 and db["notes"].count == 1 and db["contacts"].count == 1


async def test_same_person_from_another_locale_url_is_one_contact(companion):
    await post(companion, profile_capture())
    status, body = await post(
        companion, profile_capture(url="https://uk.linkedin.com/in/Jane-Doe?trk=public_profile", note=None, tags=[])
    )
    assert status == 201
    db = open_db(companion.db_path)
    assert db["contacts"].count == 1 and db["captures"].count == 2


async def test_message_note_interaction_and_lookup(companion):
    _, saved = await post(companion, profile_capture())
    contact_id = saved["contact_id"]
    status, body = await post(
        companion,
        {
            "capture_id": new_capture_id(),
            "kind": "message",
            "url": "https://www.linkedin.com/in/jane-doe/",
            "text": "Happy to intro you to the climate folks next week.",
        },
    )
    assert status == 201 and body["contact_id"] == contact_id
    status, body = await post(
        companion,
        {"capture_id": new_capture_id(), "kind": "note", "contact_id": contact_id, "text": "Follow up in Jan"},
    )
    assert status == 201 and body["contact_id"] == contact_id
    status, body = await post(
        companion,
        {
            "capture_id": new_capture_id(),
            "kind": "interaction",
            "url": "https://www.linkedin.com/in/jane-doe",
            "interaction_kind": "call",
            "summary": "Talked about grants",
            "happened_at": "2026-11-26T09:00:00Z",
        },
    )
    assert status == 201 and body["contact_id"] == contact_id

    async with companion.client.get(
        "/v1/contacts/lookup",
        params={"url": "https://de.linkedin.com/in/jane-doe/?trk=abc"},
        headers=companion.headers(),
    ) as response:
        assert response.status == 200
        found = await response.json()
    async with companion.client.get(
        "/v1/contacts/lookup", params={"url": "https://www.linkedin.com/in/someone-else/"}, headers=companion.headers()
    ) as response:
        missing = await response.json()
    assert found["found"] is True and found["contact"]["id"] == contact_id
    assert found["notes"][0]["body"] == "Follow up in Jan"
    assert found["last_interaction"]["summary"] == "Talked about grants"
    assert found["datasette_url"].endswith(f"/-/kith/contacts/{contact_id}")
    assert missing == {"found": False}
    db = open_db(companion.db_path)
    message = next(db["messages"].rows)
    assert message["contact_id"] == contact_id and message["body"].startswith("Happy to intro")
    # Any note, message or interaction resets the reconnect clock.
    assert db["contacts"].get(contact_id)["last_interaction_at"] >= "2026-11-26T09:00:00Z"


async def test_preview_writes_nothing(companion):
    async with companion.client.post(
        "/v1/preview",
        headers=companion.headers(),
        data=json.dumps({"url": "https://www.linkedin.com/in/jane-doe/", "html": PROFILE_HTML}),
    ) as response:
        assert response.status == 200
        body = await response.json()
    assert body["extraction"]["profile"]["name"] == "Jane Doe" and body["existing"] is None
    db = open_db(companion.db_path)
    assert db["captures"].count == 0 and db["contacts"].count == 0


async def test_unparsed_page_keeps_raw_capture(companion):
    html = "<html><head><title>Just a page</title></head><body><p>nothing here</p></body></html>"
    status, body = await post(
        companion, profile_capture(html=html, url="https://example.org/about", title=None, note=None, tags=[])
    )
    assert status == 201 and body["status"] == "unparsed"
    db = open_db(companion.db_path)
    row = db["captures"].get(body["capture_id"])
    assert row["status"] == "unparsed" and row["html"]
    assert db["contacts"].get(body["contact_id"])["name"] == "Just a page"


async def test_a_compressed_page_is_inflated_extracted_and_kept_as_sent(companion):
    """`html_z` (base64 of zlib, as the extension's CompressionStream makes it): the page is extracted
    as if sent plain, the stored raw capture is the very bytes that came, and a replay is a duplicate."""
    import base64
    import sqlite3
    import uuid
    import zlib

    from companion.ingest import decompress_html

    html = (
        "<html><head><title>Jane Doe | LinkedIn</title></head><body><h1>Jane Doe</h1>"
        + "<p>filler " * 60000
        + "</p></body></html>"
    )
    raw = zlib.compress(html.encode(), 6)
    body = {
        "capture_id": str(uuid.uuid4()),
        "kind": "profile",
        "url": "https://www.linkedin.com/in/jane-z/",
        "title": "Jane Doe | LinkedIn",
        "html_z": base64.b64encode(raw).decode(),
    }
    first = await companion.client.post("/v1/captures", json=body, headers=companion.headers())
    assert first.status == 201, await first.text()
    again = await companion.client.post("/v1/captures", json=body, headers=companion.headers())
    assert again.status == 200 and (await again.json())["duplicate"]
    con = sqlite3.connect(companion.db_path)
    stored, digest = con.execute("SELECT html, html_sha256 FROM captures WHERE id = ?", [body["capture_id"]]).fetchone()
    con.close()
    assert stored == raw and decompress_html(stored) == html
    import hashlib

    assert digest == hashlib.sha256(html.encode()).hexdigest()
    for bad, status in (
        ("not base64!", 422),
        (base64.b64encode(b"plain text").decode(), 422),
        (base64.b64encode(raw[:-20]).decode(), 422),
        (base64.b64encode(zlib.compress(b"\xff\xfe" * 10)).decode(), 422),
    ):
        response = await companion.client.post(
            "/v1/captures", headers=companion.headers(), json={**body, "capture_id": str(uuid.uuid4()), "html_z": bad}
        )
        assert response.status == status, (bad[:20], response.status, await response.text())


async def test_save_after_preview_reuses_the_previews_extraction(companion):
    """The popup previews a page, then saves the same bytes (compressed): the companion keeps the
    preview's extraction and does not parse the page again. Another page, or the same page under
    another title (the title is an input of extraction), is parsed as usual."""
    import base64
    import zlib

    html = PROFILE_HTML.replace("<h1>Jane Doe</h1>", "<h1>Jane Doe</h1>" + "<p>about me</p>" * 20000)
    url = "https://www.linkedin.com/in/jane-doe/"

    async def preview(page_html, title):
        async with companion.client.post(
            "/v1/preview", json={"url": url, "html": page_html, "title": title}, headers=companion.headers()
        ) as response:
            assert response.status == 200, await response.text()
            return (await response.json())["extraction"]

    async def save(page_html, title):
        body = {
            "capture_id": new_capture_id(),
            "kind": "profile",
            "url": url,
            "title": title,
            "html_z": base64.b64encode(zlib.compress(page_html.encode())).decode(),
        }
        async with companion.client.post("/v1/captures", json=body, headers=companion.headers()) as response:
            assert response.status in (200, 201), await response.text()
            return response.headers["Server-Timing"], await response.json()

    extraction = await preview(html, "Jane Doe | LinkedIn")
    assert extraction["profile"]["name"] == "Jane Doe"
    timing, saved = await save(html, "Jane Doe | LinkedIn")
    assert 'extract;desc="reused"' in timing, timing
    assert (saved["contact"]["name"], saved["contact"]["company"]) == ("Jane Doe", "Acme")

    other = html.replace("about me", "about her")
    timing, _ = await save(other, "Jane Doe | LinkedIn")
    assert "reused" not in timing, timing
    await preview(other, "Jane Doe | LinkedIn")
    timing, _ = await save(other, "Someone else | LinkedIn")
    assert "reused" not in timing, timing
