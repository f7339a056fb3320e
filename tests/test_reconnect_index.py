"""The reconnect queue as an index read (migration 0007) ranks exactly as the full scan did.

`queries.RECONNECT_SQL` is the old query, which ranks every contact on every request; the queue
now reads, per cadence, the oldest contacts from an index and ranks only those. These tests run
both on the demo network at many clocks and limits, and again after every kind of write that
moves a cadence, a snooze or a last interaction (contact, tag, circle, merge, plain SQL).
"""

from __future__ import annotations

import sqlite3

import pytest

from companion.demo import generate
from companion.store import activity, contacts
from companion.store.db import connect, open_db
from companion.store.schema import migrations
from datasette_plugins import queries

CLOCKS = [
    "2020-01-01T00:00:00Z",
    "2024-06-01T09:00:00Z",
    "2025-03-10T15:30:00Z",
    "2026-11-27T12:00:00Z",
    "2030-01-01T00:00:00Z",
]


def old_ranking(conn, now, limit, cadence=None):
    values = queries.settings(conn)
    params = {**queries.cadence_defaults(values, cadence), "now": now, "limit": limit}
    return queries.rows(conn, queries.RECONNECT_SQL, params)


def new_ranking(conn, now, limit, cadence=None):
    values = queries.settings(conn)
    params = {**queries.cadence_defaults(values, cadence), "now": now, "limit": limit}
    sql = queries.reconnect_index_sql(conn, params)
    assert sql is not None, "the database should have migration 0007"
    return queries.rows(conn, sql, params)


def assert_same(conn, limits=(1, 3, 10, 57, 500), cadence=None):
    compared = 0
    for now in CLOCKS:
        for limit in limits:
            old, new = old_ranking(conn, now, limit, cadence), new_ranking(conn, now, limit, cadence)
            assert new == old, (now, limit)
            compared += len(old)
    return compared


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    path = tmp_path_factory.mktemp("reconnect") / "demo.db"
    db = open_db(path)
    generate(db, contacts=3000, seed=7, messages=6000, notes=900)
    db.close()
    return path


def test_same_ranking_as_the_full_scan_on_the_demo_network(demo):
    conn = sqlite3.connect(demo)
    try:
        assert assert_same(conn) > 1000, "the comparison must cover real queues"
        # Circle defaults from settings and plugin config, including "never due" for a circle.
        assert_same(conn, cadence={"professional": 30, "personal": None, "both": 7})
        conn.execute("INSERT INTO settings (key, value) VALUES ('cadence.both', '400')")
        assert_same(conn)
        # The public function gives the new ranking, with its reasons.
        queue = queries.reconnect_queue(conn, CLOCKS[3], 25)
        assert [p["id"] for p in queue["people"]] == [p["id"] for p in old_ranking(conn, CLOCKS[3], 26)][:25]
    finally:
        conn.close()


def test_the_queue_reads_an_index_not_the_table(demo):
    conn = sqlite3.connect(demo)
    params = {**queries.cadence_defaults({}), "now": CLOCKS[3], "limit": 10}
    plan = " | ".join(
        r[3] for r in conn.execute("EXPLAIN QUERY PLAN " + queries.reconnect_index_sql(conn, params), params)
    )
    conn.close()
    assert "idx_contacts_reconnect_cadence" in plan and "idx_contacts_reconnect_circle" in plan
    assert "SCAN contacts" not in plan and "SCAN c " not in plan


def test_every_write_keeps_the_ranking(tmp_path):
    path = tmp_path / "k.db"
    db = open_db(path)
    generate(db, contacts=800, seed=3, messages=1600, notes=200)
    ids = [r[0] for r in db.execute("SELECT id FROM contacts WHERE is_me = 0 ORDER BY id")]
    conn = sqlite3.connect(path)

    def check():
        if db.conn.in_transaction:
            db.conn.commit()
        assert_same(conn, limits=(5, 40, 500))

    check()
    activity.set_cadence(db, ids[0], 3)  # the contact's own cadence
    activity.set_cadence(db, ids[1], None)
    check()
    contacts.set_tags(db, ids[2], ["weekly-check"])  # a tag without a cadence yet
    db.execute("UPDATE tags SET keep_in_touch_days = 7 WHERE name = 'weekly-check'")  # then with one
    contacts.set_tags(db, ids[3], ["weekly-check", "quarterly"])
    db.execute("UPDATE tags SET keep_in_touch_days = 91 WHERE name = 'quarterly'")
    check()
    contacts.set_tags(db, ids[3], ["quarterly"], replace=True)  # a tag removed
    check()
    db.execute("UPDATE tags SET keep_in_touch_days = 0 WHERE name = 'quarterly'")  # not a cadence
    db.execute("DELETE FROM tags WHERE name = 'weekly-check'")  # a tag deleted (cascade)
    check()
    activity.snooze(db, ids[4], "2025-01-01")
    activity.log_interaction(db, ids[5], happened_at="2026-11-01T00:00:00Z")
    activity.add_note(db, ids[6], "hello", created_at="2026-10-01T00:00:00Z")
    db.execute("UPDATE contacts SET circle = 'personal' WHERE id = ?", [ids[7]])
    db.execute("UPDATE contacts SET circle = NULL WHERE id = ?", [ids[8]])
    check()
    contacts.set_tags(db, ids[9], ["fortnightly"])
    db.execute("UPDATE tags SET keep_in_touch_days = 14 WHERE name = 'fortnightly'")
    contacts.merge_contacts(db, ids[10], ids[9])  # the kept contact gains the tag
    check()
    contacts.create_contact(db, {"name": "New", "keep_in_touch_days": 2, "created_at": "2026-01-01T00:00:00Z"})
    db.execute("UPDATE contact_tags SET contact_id = ? WHERE contact_id = ?", [ids[12], ids[10]])  # moved by SQL
    check()
    conn.close()
    db.close()


def test_the_migration_backfills_existing_contacts(tmp_path):
    path = tmp_path / "old.db"
    db = open_db(path)
    generate(db, contacts=400, seed=5, messages=400, notes=100)
    tag = db.execute("INSERT INTO tags (name, keep_in_touch_days) VALUES ('monthly', 30)").lastrowid
    db.conn.executemany(
        "INSERT OR IGNORE INTO contact_tags (contact_id, tag_id) VALUES (?, ?)",
        [(cid, tag) for cid in range(2, 400, 7)],
    )
    db.conn.commit()
    # Back to the shape before 0007: no column, no indexes, no triggers, no record of it.
    for name in (
        "contact_tags_reconnect_ai",
        "contact_tags_reconnect_ad",
        "contact_tags_reconnect_au",
        "tags_reconnect_au",
        "tags_reconnect_bd",
    ):
        db.execute(f"DROP TRIGGER {name}")
    db.execute("DROP INDEX idx_contacts_reconnect_cadence")
    db.execute("DROP INDEX idx_contacts_reconnect_circle")
    db.execute("ALTER TABLE contacts DROP COLUMN tag_cadence_days")
    db.execute("DELETE FROM _sqlite_migrations WHERE name = '0007_reconnect_due_index'")
    db.conn.commit()
    conn = sqlite3.connect(path)
    assert queries.reconnect_index_sql(conn, {"now": CLOCKS[3]}) is None  # the old query still serves it
    before = queries.reconnect_queue(conn, CLOCKS[3], 50)
    conn.close()
    db.close()
    assert "0007_reconnect_due_index" in [m.name for m in migrations.pending(connect(path))]
    db = open_db(path)  # migrates
    conn = sqlite3.connect(path)
    assert db.execute("SELECT count(*) FROM contacts WHERE tag_cadence_days = 30").fetchone()[0] > 0
    assert queries.reconnect_queue(conn, CLOCKS[3], 50) == before
    assert_same(conn, limits=(10, 200))
    conn.close()
    db.close()
