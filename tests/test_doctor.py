"""`kith doctor`: a table rebuilt by `sqlite-utils transform` loses its FTS triggers (search stops
seeing new rows); doctor finds that, recreates them and reindexes. A healthy database is
reported healthy; damage it cannot repair gives a non-zero exit."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

from stress.conftest import ROOT, KithServer, kith_command

from companion import doctor
from companion.store.db import open_db

SQLITE_UTILS = Path(sys.executable).with_name("sqlite-utils")


def kith(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(kith_command(*args), cwd=ROOT, capture_output=True, text=True, timeout=120)


def triggers(db_path, table: str) -> list[str]:
    conn = sqlite3.connect(db_path)
    try:
        return sorted(
            r[0]
            for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?", [table])
        )
    finally:
        conn.close()


def fts_finds(db_path, text: str) -> list[str]:
    conn = sqlite3.connect(db_path)
    try:
        return [
            r[0]
            for r in conn.execute(
                "SELECT notes.body FROM notes_fts JOIN notes ON notes.id = notes_fts.rowid WHERE notes_fts MATCH ?",
                [text],
            )
        ]
    finally:
        conn.close()


def add_note(db_path, body: str) -> None:
    conn = sqlite3.connect(db_path)
    with conn:
        conn.execute("INSERT INTO notes (body, created_at) VALUES (?, 'now')", [body])
    conn.close()


def a_database(tmp_path) -> Path:
    db_path = tmp_path / "kith.db"
    db = open_db(db_path)
    db.execute("INSERT INTO notes (body, created_at) VALUES ('before the transform: aardvark', 'now')")
    db.close()
    return db_path


def transform_notes(db_path) -> None:
    """What a user might run: the real sqlite-utils CLI rebuilding the notes table."""
    subprocess.run(
        [str(SQLITE_UTILS), "transform", str(db_path), "notes", "--rename", "body", "body"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_healthy_database(tmp_path):
    db_path = a_database(tmp_path)
    result = kith("doctor", "--db", str(db_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Healthy." in result.stdout and "problem" not in result.stdout
    report = json.loads(kith("doctor", "--db", str(db_path), "--json", "--quick").stdout)
    assert report["healthy"] and report["ok"]
    assert {f["check"] for f in report["findings"]} >= {
        "integrity (quick)",
        "migrations",
        "search contacts",
        "search notes",
        "search messages",
        "file modes",
    }


def test_doctor_repairs_fts_triggers_dropped_by_sqlite_utils_transform(tmp_path):
    db_path = a_database(tmp_path)
    assert triggers(db_path, "notes") == ["notes_ad", "notes_ai", "notes_au"]
    transform_notes(db_path)
    assert triggers(db_path, "notes") == []  # the transform really drops them
    add_note(db_path, "while broken: bandicoot")
    assert fts_finds(db_path, "bandicoot") == []  # search no longer follows the table

    result = kith("doctor", "--db", str(db_path), "--no-repair")
    assert result.returncode == 1
    assert "notes_ai missing" in result.stdout and "repaired search" not in result.stdout
    assert "nothing was changed (--no-repair)" in result.stdout

    result = kith("doctor", "--db", str(db_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "problem  search notes: notes_ai missing, notes_ad missing, notes_au missing" in result.stdout
    assert "repaired search notes" in result.stdout and "Repaired; healthy now." in result.stdout
    assert triggers(db_path, "notes") == ["notes_ad", "notes_ai", "notes_au"]
    assert fts_finds(db_path, "bandicoot") == ["while broken: bandicoot"]  # reindexed
    assert fts_finds(db_path, "aardvark") == ["before the transform: aardvark"]
    add_note(db_path, "after the repair: capybara")
    assert fts_finds(db_path, "capybara") == ["after the repair: capybara"]
    conn = sqlite3.connect(db_path)
    au = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'notes_au'").fetchone()[0]
    conn.close()
    assert 'AFTER UPDATE OF "body" ON "notes"' in au  # the narrowed trigger, not sqlite-utils' own
    assert kith("doctor", "--db", str(db_path)).stdout.strip().endswith("Healthy.")


def test_an_altered_trigger_and_a_stale_index_are_repaired(tmp_path):
    db_path = a_database(tmp_path)
    conn = sqlite3.connect(db_path)
    with conn:  # sqlite-utils' wide update trigger instead of Kith's narrowed one
        conn.execute("DROP TRIGGER contacts_au")
        conn.execute("CREATE TRIGGER contacts_au AFTER UPDATE ON contacts BEGIN SELECT 1; END")
        conn.execute("INSERT INTO notes_fts (notes_fts) VALUES ('delete-all')")
    conn.close()
    report = doctor.run(db_path)
    problems = {f.check: f.problem for f in report.findings if f.problem}
    assert problems["search contacts"] == "contacts_au altered"
    assert "notes_fts index does not match" in problems["search notes"]
    assert report.ok and not report.healthy
    assert fts_finds(db_path, "aardvark") == ["before the transform: aardvark"]
    assert doctor.run(db_path).healthy


def indexes(db_path) -> set[str]:
    conn = sqlite3.connect(db_path)
    try:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    finally:
        conn.close()


def test_dropped_expression_partial_and_unique_indexes_are_found_and_recreated(tmp_path):
    """Not only plain column indexes: the reconnect queue's expression index and the unique index that
    keeps a calendar import from storing an event twice are checked and come back as declared."""
    db_path = a_database(tmp_path)
    before = indexes(db_path)
    dropped = ["idx_interactions_external_id", "idx_contacts_reconnect_cadence", "idx_identities_contact_id"]
    conn = sqlite3.connect(db_path)
    sql = {name: conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", [name]).fetchone()[0] for name in dropped}
    with conn:
        for name in dropped:
            conn.execute(f"DROP INDEX {name}")
    conn.close()

    result = kith("doctor", "--db", str(db_path), "--no-repair")
    assert result.returncode == 1
    for name in dropped:
        assert name in result.stdout

    report = doctor.run(db_path)
    finding = next(f for f in report.findings if f.check == "indexes")
    assert finding.repaired == "created 3 index(es)" and report.ok
    assert indexes(db_path) == before
    conn = sqlite3.connect(db_path)
    assert {n: conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", [n]).fetchone()[0] for n in dropped} == sql
    conn.close()
    assert doctor.run(db_path).healthy


def test_a_unique_index_over_duplicates_is_reported_not_forced(tmp_path):
    db_path = a_database(tmp_path)
    conn = sqlite3.connect(db_path)
    with conn:
        conn.execute("DROP INDEX idx_interactions_external_id")
        conn.execute("INSERT INTO contacts (name, created_at, updated_at) VALUES ('Ada', 'now', 'now')")
        for _ in range(2):  # what the missing index would have refused: one calendar event stored twice
            conn.execute(
                "INSERT INTO interactions (contact_id, kind, happened_at, external_id)"
                " VALUES (1, 'meeting', '2024-01-01', 'ics:uid-1/ada@example.com')"
            )
    conn.close()
    report = doctor.run(db_path)
    finding = next(f for f in report.findings if f.check == "indexes")
    assert finding.problem == "idx_interactions_external_id on interactions missing"
    assert "UNIQUE constraint failed" in finding.error and not report.ok
    conn = sqlite3.connect(db_path)
    assert conn.execute("SELECT count(*) FROM interactions").fetchone()[0] == 2  # nothing deleted
    conn.close()


def test_pending_migrations_and_loose_modes_are_repaired(tmp_path):
    db_path = a_database(tmp_path)
    conn = sqlite3.connect(db_path)
    with conn:
        last = conn.execute("SELECT name FROM _sqlite_migrations ORDER BY rowid DESC LIMIT 1").fetchone()[0]
        conn.execute("DELETE FROM _sqlite_migrations WHERE name = ?", [last])
    conn.close()
    os.chmod(db_path, 0o644)
    result = kith("doctor", "--db", str(db_path), "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    findings = {f["check"]: f for f in json.loads(result.stdout)["findings"]}
    assert findings["migrations"]["problem"] == f"1 pending: {last}"
    assert findings["migrations"]["repaired"] == f"applied {last}"
    assert findings["file modes"]["repaired"] == f"{db_path} 0644 -> 0600"
    assert stat.S_IMODE(os.stat(db_path).st_mode) == 0o600


def test_damage_is_reported_not_repaired(tmp_path):
    db_path = a_database(tmp_path)
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA journal_mode = DELETE")  # everything in the main file
    conn.close()
    data = bytearray(db_path.read_bytes())
    data[2 * 4096 : 4 * 4096] = b"\x5a" * (2 * 4096)
    db_path.write_bytes(bytes(data))
    result = kith("doctor", "--db", str(db_path))
    assert result.returncode == 1
    assert "could not repair" in result.stdout


def test_a_missing_database_is_not_created(tmp_path):
    result = kith("doctor", "--db", str(tmp_path / "nope.db"))
    assert result.returncode == 1 and "there is no database" in result.stdout
    assert not (tmp_path / "nope.db").exists()


def test_serve_repairs_at_start_and_says_what(tmp_path):
    db_path = a_database(tmp_path)
    transform_notes(db_path)
    server = KithServer(db_path, datasette=False, log_path=tmp_path / "serve.log")
    with server:
        pass
    log = server.log_text()
    assert "kith doctor: search notes: notes_ai missing, notes_ad missing, notes_au missing -> recreated" in log
    assert triggers(db_path, "notes") == ["notes_ad", "notes_ai", "notes_au"]


def test_doctor_repairs_reconnect_cadence_triggers_dropped_by_a_transform(tmp_path):
    db_path = tmp_path / "kith.db"
    db = open_db(db_path)
    db.execute(
        "INSERT INTO contacts (name, created_at, updated_at) VALUES ('Ada', '2025-01-01T00:00:00Z', '2025-01-01T00:00:00Z')"
    )
    db.execute("INSERT INTO tags (name, keep_in_touch_days) VALUES ('mentor', 30)")
    db.conn.commit()
    db.close()
    result = subprocess.run(
        [str(SQLITE_UTILS), "transform", str(db_path), "contact_tags", "--rename", "tag_id", "tag_id"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert not [t for t in triggers(db_path, "contact_tags")]  # the transform dropped them
    conn = sqlite3.connect(db_path)
    with conn:
        conn.execute("INSERT INTO contact_tags (contact_id, tag_id) VALUES (1, 1)")
    stale = conn.execute("SELECT tag_cadence_days FROM contacts WHERE id = 1").fetchone()[0]
    conn.close()
    assert stale is None  # nothing kept the cadence current

    result = kith("doctor", "--db", str(db_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "contact_tags_reconnect_ai missing" in result.stdout
    assert "corrected 1 contact(s)" in result.stdout
    conn = sqlite3.connect(db_path)
    assert conn.execute("SELECT tag_cadence_days FROM contacts WHERE id = 1").fetchone()[0] == 30
    with conn:
        conn.execute("UPDATE tags SET keep_in_touch_days = 10")
    assert conn.execute("SELECT tag_cadence_days FROM contacts WHERE id = 1").fetchone()[0] == 10
    conn.close()
    assert kith("doctor", "--db", str(db_path)).stdout.strip().endswith("Healthy.")
