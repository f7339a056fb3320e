"""Exports through the real CLI, and the round trip: export, import into an empty database, same people."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import vobject
from click.testing import CliRunner

from companion.cli import main
from companion.identity import canonical_identity
from companion.store.activity import add_exchange, add_note, add_relationship
from companion.store.contacts import resolve_and_upsert, set_tags
from companion.store.db import open_db

FIXTURES = Path(__file__).parent / "fixtures" / "imports"
PROFILE = (
    "name",
    "given_name",
    "family_name",
    "company",
    "title",
    "headline",
    "location",
    "birthday",
    "bio",
    "avatar_url",
    "pronouns",
    "credentials",
    "circle",
    "how_met",
    "keep_in_touch_days",
)


def kith(*args):
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def full_db(tmp_path) -> Path:
    """A database as a real user has one: imports of every kind, a capture, Kith-only fields."""
    path = tmp_path / "full.db"
    kith("import", "linkedin", "--db", path, FIXTURES / "linkedin")
    for name in ("v21.vcf", "v30.vcf", "v40.vcf", "monica.vcf", "latin1.vcf"):
        kith("import", "vcard", "--db", path, FIXTURES / name)
    kith("import", "csv", "--db", path, FIXTURES / "google_contacts.csv")
    db = open_db(path)
    keys = [
        canonical_identity("https://github.com/Octo-Cat"),
        canonical_identity("urn:li:fsd_profile:ACoAAB12"),
        canonical_identity("12345", kind="x_id"),
        canonical_identity("https://octo.example/about;v=1,2"),
    ]
    cid, _ = resolve_and_upsert(
        db,
        {
            "name": "Octo Cat, PhD",
            "given_name": "Octo",
            "family_name": "Cat",
            "headline": "Tentacles; many, many",
            "bio": "Line one\nLine two with a \\ backslash",
            "pronouns": "they/them",
            "credentials": "PhD",
            "circle": "both",
            "how_met": "an intro",
            "keep_in_touch_days": 30,
            "location": "Berlin, Germany",
            "birthday": "--02-29",
            "avatar_url": "https://octo.example/a.png",
            "company": "GitHub",
            "title": "Mascot",
        },
        keys,
    )
    set_tags(db, cid, ["mascots, et al.", "Ünïcode"])
    add_note(
        db,
        cid,
        "A note; with, punctuation\nand a second line that is long enough to need folding when "
        "written to a vCard because vCard lines stop at 75 octets: ✓✓✓✓✓✓✓✓✓✓",
    )
    add_note(db, None, "A loose note that belongs to nobody")
    ada = db.execute("SELECT contact_id FROM identities WHERE value LIKE '%ada-lovelace%'").fetchone()[0]
    add_relationship(db, cid, ada, "introduced_by", "at the meetup")
    add_exchange(db, cid, "gave", "An intro to Ada", kind="intro", happened_at="2024-05-01T00:00:00Z")
    db.close()
    return path


def people(path: Path, *, notes: bool = True, labels: bool = True) -> list[tuple]:
    """Each contact as comparable data: profile fields, identity keys (with their labels: cell, work…),
    tags, note bodies. A CSV keeps no labels."""
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    out = []
    for row in conn.execute("SELECT * FROM contacts"):
        cid = row["id"]
        idents = sorted(
            tuple(r) for r in conn.execute("SELECT kind, value, label FROM identities WHERE contact_id = ?", [cid])
        )
        tags = sorted(
            r[0]
            for r in conn.execute(
                "SELECT t.name FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id WHERE ct.contact_id = ?", [cid]
            )
        )
        bodies = (
            sorted(r[0] for r in conn.execute("SELECT body FROM notes WHERE contact_id = ?", [cid])) if notes else []
        )
        idents = [i if labels else i[:2] for i in idents]
        out.append((tuple(row[k] for k in PROFILE), tuple(map(tuple, idents)), tuple(tags), tuple(bodies)))
    conn.close()
    return sorted(out, key=repr)


@pytest.mark.parametrize("version", ["4.0", "3.0"])
def test_vcard_round_trip(full_db, tmp_path, version):
    out = tmp_path / "all.vcf"
    kith("export", "vcard", "--db", full_db, "--version", version, "-o", out)
    text = out.read_bytes().decode("utf-8")
    assert text.count("BEGIN:VCARD") == len(people(full_db)) and f"VERSION:{version}\r\n" in text
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    # Standard tools read it: vobject with its full 3.0/4.0 behaviour.
    cards = list(vobject.readComponents(text))
    assert len(cards) == len(people(full_db))
    copy = tmp_path / "copy.db"
    kith("import", "vcard", "--db", copy, out)
    assert people(copy) == people(full_db)


def test_vcard_to_stdout_and_specifics(full_db):
    text = kith("export", "vcard", "--db", full_db).stdout_bytes.decode("utf-8")
    octo = next(card for card in text.split("END:VCARD") if "Octo Cat" in card)
    assert "FN:Octo Cat\\, PhD\r\n" in octo
    assert "X-SOCIALPROFILE;TYPE=github:https://github.com/octo-cat\r\n" in octo
    assert "X-KITH-IDENTITY;TYPE=linkedin_urn:urn:li:fsd_profile:ACoAAB12\r\n" in octo
    assert "BDAY:--0229\r\n" in octo and "X-KITH-CIRCLE:both\r\n" in octo
    grace = next(card for card in text.split("END:VCARD") if "FN:Grace Hopper" in card)
    assert "TEL;TYPE=cell;VALUE=uri:tel:+12125550199\r\n" in grace
    assert "X-SOCIALPROFILE;TYPE=twitter:https://x.com/gracehopper\r\n" in grace


def test_csv_round_trip(full_db, tmp_path):
    out = tmp_path / "all.csv"
    kith("export", "csv", "--db", full_db, "-o", out)
    copy = tmp_path / "copy.db"
    kith("import", "csv", "--db", copy, out)
    assert people(copy, labels=False) == people(full_db, labels=False)


def test_json_has_everything(full_db):
    db = open_db(full_db)
    ada_id = db.execute("SELECT contact_id FROM identities WHERE value LIKE '%ada-lovelace%'").fetchone()[0]
    meeting = {
        "contact_id": ada_id,
        "kind": "meeting",
        "happened_at": "2024-06-01T10:00:00Z",
        "summary": "Coffee",
        "direction": "in",
        "source": "import:ics",
        "external_id": "ics:uid-1/ada@example.com",
    }
    db["interactions"].insert(meeting)
    db.close()
    doc = json.loads(kith("export", "json", "--db", full_db).output)
    assert doc["format"] == "kith-export" and len(doc["contacts"]) == len(people(full_db))
    ada = next(c for c in doc["contacts"] if c["name"] == "Ada Lovelace")
    assert {
        "kind": "linkedin",
        "value": "https://www.linkedin.com/in/ada-lovelace/",
        "url": "https://www.linkedin.com/in/ada-lovelace/",
        "source": "import:linkedin",
        "label": None,
    } in ada["identities"]
    types = [e["type"] for e in ada["timeline"]]
    assert types.count("message") == 4 and "interaction" in types
    exported = next(e for e in ada["timeline"] if e["type"] == "interaction" and e["kind"] == "meeting")
    assert {k: exported[k] for k in ("summary", "direction", "source", "external_id")} == {
        k: meeting[k] for k in ("summary", "direction", "source", "external_id")
    }
    assert [e["at"] for e in ada["timeline"]] == sorted(e["at"] for e in ada["timeline"])
    assert ada["relationships"][0]["direction"] == "from" and ada["relationships"][0]["kind"] == "introduced_by"
    octo = next(c for c in doc["contacts"] if c["name"] == "Octo Cat, PhD")
    assert {e["type"] for e in octo["timeline"]} == {"note", "exchange"}
    assert sorted(octo["tags"]) == ["mascots, et al.", "Ünïcode"] and octo["keep_in_touch_days"] == 30
    grace = next(c for c in doc["contacts"] if c["name"] == "Grace Hopper")
    assert any(e["type"] == "message" and e["direction"] == "out" for e in grace["timeline"])
    assert [n["body"] for n in doc["unattached"]["notes"]] == ["A loose note that belongs to nobody"]
    assert {"name": "Computing History", "keep_in_touch_days": None} in doc["tags"]


def test_export_empty_database(tmp_path):
    path = tmp_path / "empty.db"
    assert kith("export", "vcard", "--db", path).output == ""
    assert json.loads(kith("export", "json", "--db", path).output)["contacts"] == []
    assert kith("export", "csv", "--db", path).output.startswith("kith_id,name,")
