"""The demo network: deterministic for a seed, realistic in shape, never mixed into a real database."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from companion.cli import main
from companion.demo import generate
from companion.store.db import open_db

TABLES = (
    "contacts",
    "identities",
    "tags",
    "contact_tags",
    "relationships",
    "interactions",
    "exchanges",
    "profile_changes",
    "notes",
    "messages",
    "dated_notes",
    "merge_suggestions",
    "captures",
)


def build(path: Path, **kwargs) -> dict:
    db = open_db(path)
    try:
        return generate(db, as_of="2025-06-01", **kwargs)
    finally:
        db.close()


def dump(path: Path) -> dict:
    conn = sqlite3.connect(path)
    try:
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall() for t in TABLES}
    finally:
        conn.close()


def test_same_seed_same_network(tmp_path):
    build(tmp_path / "a.db", contacts=80, seed=42)
    build(tmp_path / "b.db", contacts=80, seed=42)
    build(tmp_path / "c.db", contacts=80, seed=43)
    assert dump(tmp_path / "a.db") == dump(tmp_path / "b.db")
    assert dump(tmp_path / "a.db")["contacts"] != dump(tmp_path / "c.db")["contacts"]


def test_counts_and_shape(tmp_path):
    path = tmp_path / "demo.db"
    counts = build(path, contacts=400, seed=3, messages=2500, notes=900)
    assert (counts["contacts"], counts["messages"], counts["notes"]) == (400, 2500, 900)
    conn = sqlite3.connect(path)
    one = lambda sql: conn.execute(sql).fetchone()[0]  # noqa: E731
    assert one("SELECT count(*) FROM contacts WHERE is_me = 1") == 1
    assert {r[0] for r in conn.execute("SELECT DISTINCT circle FROM contacts WHERE circle IS NOT NULL")} == {
        "professional",
        "personal",
        "both",
    }
    assert {r[0] for r in conn.execute("SELECT DISTINCT kind FROM relationships")} == {
        "introduced_by",
        "knows",
        "works_with",
    }
    assert {r[0] for r in conn.execute("SELECT DISTINCT direction FROM exchanges")} == {"gave", "received"}
    assert one("SELECT count(*) FROM profile_changes WHERE field = 'company'") > 0
    assert one("SELECT count(*) FROM contacts WHERE keep_in_touch_days IS NOT NULL") > 0
    assert one("SELECT count(*) FROM tags WHERE keep_in_touch_days IS NOT NULL") > 0
    assert one("SELECT count(*) FROM contact_tags") > 0
    assert one("SELECT count(DISTINCT kind) FROM identities") >= 5
    # Nobody messages or notes the user themself, and every message has a direction and a sender.
    assert one("SELECT count(*) FROM messages m JOIN contacts c ON c.id = m.contact_id WHERE c.is_me = 1") == 0
    assert one("SELECT count(*) FROM messages WHERE direction IS NULL OR sender IS NULL") == 0
    # Interactions span years; last_interaction_at agrees with the timeline.
    assert one("SELECT min(happened_at) FROM interactions") < "2019"
    assert one("SELECT max(sent_at) FROM messages") <= "2025-06-01T18:00:00Z"
    assert (
        one("""SELECT count(*) FROM contacts c WHERE last_interaction_at IS NOT (SELECT max(t) FROM (
        SELECT max(sent_at) t FROM messages WHERE contact_id = c.id UNION ALL
        SELECT max(created_at) FROM notes WHERE contact_id = c.id UNION ALL
        SELECT max(happened_at) FROM interactions WHERE contact_id = c.id))""")
        == 0
    )
    # Zipf: a few contacts hold most messages.
    top = conn.execute("SELECT count(*) n FROM messages GROUP BY contact_id ORDER BY n DESC LIMIT 10").fetchall()
    assert sum(n for (n,) in top) > 2500 * 0.2
    # Full-text search was rebuilt and its triggers are back.
    assert one("SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'coffee'") > 0
    assert one("SELECT count(*) FROM notes_fts WHERE notes_fts MATCH 'met'") > 0
    assert one("SELECT count(*) FROM contacts_fts") == 400
    assert one("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'messages_%'") == 3
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()


def test_refuses_a_database_with_contacts(tmp_path):
    path = tmp_path / "real.db"
    build(path, contacts=5, seed=1)
    with pytest.raises(ValueError, match="already has contacts"):
        build(path, contacts=5, seed=1)
    result = CliRunner().invoke(main, ["demo", "--db", str(path), "--contacts", "5"])
    assert result.exit_code == 1 and "already has contacts" in result.output


def test_cli(tmp_path):
    path = tmp_path / "demo.db"
    result = CliRunner().invoke(
        main,
        [
            "demo",
            "--db",
            str(path),
            "--contacts",
            "30",
            "--seed",
            "9",
            "--messages",
            "100",
            "--notes",
            "20",
            "--as-of",
            "2024-01-31",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "30 contacts" in result.output and "100 messages" in result.output and "20 notes" in result.output


def test_the_demo_gives_today_something_in_every_section(tmp_path):
    from companion.store.contacts import provably_different
    from datasette_plugins import today

    path = tmp_path / "demo.db"
    build(path, contacts=150, seed=9)
    conn = sqlite3.connect(path)
    data = today.today(conn, "2025-06-01T20:00:00Z")
    assert "onboarding" not in data
    assert len(data["reconnect"]["people"]) == data["reconnect"]["capacity"]
    assert data["job_changes"]["people"] and all(
        p["detected_at"] >= "2025-05-02" for p in data["job_changes"]["people"]
    )
    assert {i["kind"] for i in data["upcoming"]["items"]} == {"birthday", "date"}
    assert all(0 <= i["in_days"] < 14 for i in data["upcoming"]["items"])
    suggestions = data["merge_suggestions"]["suggestions"]
    assert suggestions
    db = open_db(path)
    for s in suggestions:  # believable duplicates: one name, one company, nothing proving them two people
        assert (s["keep"]["name"], s["keep"]["company"]) == (s["drop"]["name"], s["drop"]["company"])
        assert not provably_different(db, s["keep_id"], s["drop_id"])
        assert s["keep"]["history"]["interactions"] and s["drop"]["history"]["interactions"]
    db.close()
    unparsed = data["recent"]["unparsed"]
    assert len(unparsed) == 1 and unparsed[0]["can_reextract"] and len(data["recent"]["captures"]) == 6
    conn.close()
