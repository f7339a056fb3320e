"""The store on real SQLite files: migrations, one writer, history, merges."""

from __future__ import annotations

import sqlite3

from companion.store import activity, contacts
from companion.store.db import connect, open_db, sqlite_uri
from companion.store.schema import migrations

LINKEDIN = {
    "kind": "linkedin",
    "value": "https://www.linkedin.com/in/jane-doe/",
    "url": "https://www.linkedin.com/in/jane-doe/",
}
GITHUB = {"kind": "github", "value": "https://github.com/janedoe", "url": "https://github.com/janedoe"}


def test_new_database_is_wal_with_foreign_keys(db, db_path):
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    for table in (
        "contacts",
        "identities",
        "captures",
        "notes",
        "messages",
        "interactions",
        "profile_changes",
        "exchanges",
        "relationships",
        "tags",
        "contact_tags",
        "merge_suggestions",
        "contacts_fts",
        "notes_fts",
        "messages_fts",
    ):
        assert db[table].exists(), table
    public = {
        "id",
        "name",
        "headline",
        "company",
        "title",
        "location",
        "avatar_url",
        "bio",
        "circle",
        "how_met",
        "keep_in_touch_days",
        "last_interaction_at",
        "created_at",
        "updated_at",
    }
    assert public <= set(db["contacts"].columns_dict)


def test_database_from_first_version_opens_with_data_intact(db_path):
    old = connect(db_path)
    old.enable_wal()
    migrations.apply(old, stop_before="0002_provenance_snooze_merge_pairing")
    old["contacts"].insert(
        {
            "name": "Ada Lovelace",
            "company": "Analytical Engines",
            "created_at": "2020-01-01T00:00:00Z",
            "updated_at": "2020-01-01T00:00:00Z",
        }
    )
    old["identities"].insert({"contact_id": 1, "kind": "email", "value": "ada@example.org"})
    old["notes"].insert({"contact_id": 1, "body": "Loves engines", "created_at": "2020-01-02T00:00:00Z"})
    assert "payload_sha256" not in old["captures"].columns_dict
    old.close()

    db = open_db(db_path)
    assert db["contacts"].get(1)["name"] == "Ada Lovelace"
    assert db["identities"].count == 1 and db["notes"].count == 1
    assert "payload_sha256" in db["captures"].columns_dict
    # FTS built by a later migration indexes rows written before it existed.
    assert [r["name"] for r in db["contacts"].search("engines")] == ["Ada Lovelace"]
    assert [r["body"] for r in db["notes"].search("engines")] == ["Loves engines"]
    assert migrations.pending(db) == []


def test_fts_follows_writes(db):
    cid, _ = contacts.resolve_and_upsert(db, {"name": "Grace Hopper", "bio": "compilers and COBOL"}, [GITHUB])
    activity.add_note(db, cid, "Asked about the nanosecond wire")
    assert [r["name"] for r in db["contacts"].search("compilers")] == ["Grace Hopper"]
    assert db["notes"].search("nanosecond")
    db["contacts"].update(cid, {"bio": "admiral"})
    assert not list(db["contacts"].search("compilers"))


def test_job_change_writes_one_profile_change(db):
    cid, created = contacts.resolve_and_upsert(
        db, {"name": "Jane Doe", "title": "Engineer", "company": "Acme"}, [LINKEDIN]
    )
    assert created
    same, created = contacts.resolve_and_upsert(
        db, {"name": "Jane Doe", "title": "Engineer", "company": "Acme"}, [LINKEDIN]
    )
    assert same == cid and not created and db["profile_changes"].count == 0
    contacts.resolve_and_upsert(db, {"name": "Jane Doe", "title": "Staff Engineer", "company": "Acme"}, [LINKEDIN])
    changes = list(db["profile_changes"].rows)
    assert [(c["field"], c["old_value"], c["new_value"]) for c in changes] == [("title", "Engineer", "Staff Engineer")]
    assert db["contacts"].get(cid)["title"] == "Staff Engineer"


def test_linked_identity_joins_and_conflict_is_only_suggested(db):
    a, _ = contacts.resolve_and_upsert(db, {"name": "Jane Doe"}, [GITHUB])
    page = {"kind": "url", "value": "https://jane.example/", "url": "https://jane.example/"}
    b, created = contacts.resolve_and_upsert(db, {"name": "Jane Doe"}, [page], [GITHUB])
    assert b == a and not created
    other, _ = contacts.resolve_and_upsert(db, {"name": "J. Doe"}, [LINKEDIN])
    # A page of `other` links to Jane's GitHub: suggest, never merge silently.
    contacts.resolve_and_upsert(db, {"name": "J. Doe"}, [LINKEDIN], [GITHUB])
    assert db["contacts"].count == 2
    suggestion = next(db["merge_suggestions"].rows)
    assert {suggestion["contact_id"], suggestion["other_contact_id"]} == {a, other}


def test_similar_name_same_company_is_suggested(db):
    contacts.resolve_and_upsert(db, {"name": "Jonathan Smith", "company": "Globex"}, [LINKEDIN])
    contacts.resolve_and_upsert(db, {"name": "Jonathan Smith", "company": "Globex"}, [GITHUB])
    contacts.resolve_and_upsert(
        db,
        {"name": "Maria Garcia", "company": "Globex"},
        [{"kind": "email", "value": "maria@globex.example", "url": None}],
    )
    rows = list(db["merge_suggestions"].rows)
    assert len(rows) == 1 and "company" in rows[0]["reason"]
    assert db["contacts"].count == 3


def test_merge_moves_everything_and_loses_nothing(db):
    keep, _ = contacts.resolve_and_upsert(db, {"name": "Jane Doe", "company": "Acme"}, [LINKEDIN])
    drop, _ = contacts.resolve_and_upsert(db, {"name": "Jane D.", "location": "Leeds", "bio": "Climate"}, [GITHUB])
    third, _ = contacts.resolve_and_upsert(
        db, {"name": "Bob"}, [{"kind": "email", "value": "bob@x.example", "url": None}]
    )
    activity.add_note(db, drop, "note on the duplicate")
    activity.add_messages(db, drop, [{"body": "hi", "external_id": "m1"}])
    activity.log_interaction(db, drop, "call", happened_at="2026-01-01T00:00:00Z")
    activity.add_exchange(db, drop, "gave", "an intro")
    activity.add_relationship(db, third, drop, "introduced_by")
    activity.add_relationship(db, drop, keep, "knows")
    contacts.set_tags(db, drop, ["climate"])
    contacts.merge_contacts(db, keep, drop)
    assert db["contacts"].count == 2
    merged = db["contacts"].get(keep)
    assert (merged["company"], merged["location"], merged["bio"]) == ("Acme", "Leeds", "Climate")
    for table in ("notes", "messages", "interactions", "exchanges"):
        assert [r["contact_id"] for r in db[table].rows] == [keep], table
    assert {i["value"] for i in db["identities"].rows_where("contact_id = ?", [keep])} == {
        LINKEDIN["value"],
        GITHUB["value"],
    }
    assert [(r["from_contact_id"], r["to_contact_id"]) for r in db["relationships"].rows] == [(third, keep)]
    assert contacts.contact_tags(db, keep) == ["climate"]
    assert any(c["field"] == "merged" for c in db["profile_changes"].rows)


def test_readers_see_committed_writes_while_writer_is_open(db_path):
    writer = open_db(db_path)
    reader = sqlite3.connect(sqlite_uri(db_path, mode="ro"), uri=True)
    contacts.resolve_and_upsert(writer, {"name": "Reader Visible"}, [GITHUB])
    assert reader.execute("SELECT name FROM contacts").fetchall() == [("Reader Visible",)]
    reader.close()
    writer.close()


def test_no_suggestion_between_two_different_linkedin_profiles(db):
    other = {"kind": "linkedin", "value": "https://www.linkedin.com/in/jonathan-smith-2/", "url": None}
    contacts.resolve_and_upsert(db, {"name": "Jonathan Smith", "company": "Globex"}, [LINKEDIN])
    contacts.resolve_and_upsert(db, {"name": "Jonathan Smith", "company": "Globex"}, [other])
    assert db["merge_suggestions"].count == 0 and db["contacts"].count == 2


def test_touching_the_clock_keeps_search_current(db):
    cid, _ = contacts.resolve_and_upsert(db, {"name": "Katherine Johnson", "title": "Mathematician"}, [GITHUB])
    activity.touch(db, cid, "2026-01-01T00:00:00Z")
    db["contacts"].update(cid, {"title": "Astronaut trainer"})
    assert [r["name"] for r in db["contacts"].search("astronaut")] == ["Katherine Johnson"]
    assert not list(db["contacts"].search("mathematician"))


def test_similar_candidates_are_the_first_500_at_the_same_company_or_place(db):
    """The index-ordered query gives exactly what the plain OR query gives, past the 500 limit,
    across spellings (NOCASE) and for a person known by company, place or both."""
    import random

    rng = random.Random(7)
    companies = ["Acme", "ACME", "acme", "Globex", None]
    places = ["Berlin", "berlin", "Paris", None]
    for n in range(1500):
        contacts.create_contact(
            db, {"name": f"Person {n}", "company": rng.choice(companies), "location": rng.choice(places)}
        )
    reference = (
        "SELECT id, name, company, location FROM contacts WHERE id != ? AND "
        "(company = ? COLLATE NOCASE OR location = ? COLLATE NOCASE) ORDER BY id LIMIT 500"
    )
    checked = 0
    for cid in (1, 2, 3, 250, 700, 1499):
        me = db["contacts"].get(cid)
        for company, location in ((me["company"], me["location"]), (me["company"], None), (None, me["location"])):
            expected = db.execute(reference, [cid, company, location]).fetchall()
            got = contacts.similar_candidates(db, cid, company, location)
            assert [tuple(r) for r in got] == [tuple(r) for r in expected]
            checked += len(expected) == 500
    assert checked > 5  # the limit was reached, so the ordering and the cut were both compared
