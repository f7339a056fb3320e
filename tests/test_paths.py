"""Paths are paths: a database whose name holds `#`, `?`, `%`, spaces or non-ASCII backs up,
restores and serves like any other (SQLite reads those characters as URI syntax in an unquoted
`file:` URI). And `kith restore` refuses anything but a sound Kith database, before it touches
the current one.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import urllib.parse

import pytest
from stress.conftest import KithServer, api_headers, http_request, kith_command, new_token, profile_capture, ROOT

from companion.store.db import open_db, sqlite_uri

AWKWARD = ["dir #1 ?%/my #1 ?%.db", "Ünïcødé dir 数据/kith data ø %41.db"]


def kith(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(kith_command(*args), cwd=ROOT, capture_output=True, text=True, timeout=120)


def seed(db_path) -> None:
    db = open_db(db_path)
    with db.atomic():
        cid = db.execute(
            "INSERT INTO contacts (name, company, created_at, updated_at)"
            " VALUES ('Ada #1 ?%', 'Analytical', 'now', 'now')"
        ).lastrowid
        db.execute("INSERT INTO notes (contact_id, body, created_at) VALUES (?, 'met at the # meetup', 'now')", [cid])
    db.close()


def rows(db_path) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(sqlite_uri(db_path, mode="ro"), uri=True)
    try:
        return {
            table: conn.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()
            for table in ("contacts", "notes", "identities")
        }
    finally:
        conn.close()


def test_sqlite_uri_names_the_file_exactly(tmp_path):
    for name in ["a#b.db", "a?b.db", "a%20b.db", "a b.db", "ü数.db", "%3F.db"]:
        path = tmp_path / name
        conn = sqlite3.connect(path)
        conn.execute("CREATE TABLE t (x)")
        conn.execute("INSERT INTO t VALUES (?)", [name])
        conn.commit()
        conn.close()
        ro = sqlite3.connect(sqlite_uri(path, mode="ro"), uri=True)
        assert ro.execute("SELECT x FROM t").fetchall() == [(name,)]
        ro.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["a#b.db", "a?b.db", "a%20b.db", "a b.db", "ü数.db", "%3F.db"]
    )  # no stray files


@pytest.mark.parametrize("name", AWKWARD)
def test_backup_restore_and_serve_on_an_awkward_path(tmp_path, name):
    db_path = tmp_path / name
    db_path.parent.mkdir()
    seed(db_path)
    before = rows(db_path)
    assert before["contacts"] and before["notes"]

    backup = db_path.with_name("backup " + db_path.name)
    result = kith("backup", "--db", str(db_path), str(backup))
    assert result.returncode == 0, result.stderr
    assert rows(backup) == before

    db = open_db(db_path)
    db.execute("DELETE FROM contacts")
    db.close()
    assert rows(db_path)["contacts"] == []
    result = kith("restore", "--db", str(db_path), str(backup))
    assert result.returncode == 0, result.stderr
    assert rows(db_path) == before

    server = KithServer(db_path, log_path=tmp_path / "serve.log")
    with server:
        assert http_request("GET", server.port, "/v1/ping").status == 200
        token = new_token(db_path)
        capture = profile_capture(7)
        response = http_request("POST", server.port, "/v1/captures", json.dumps(capture).encode(), api_headers(token))
        assert response.status == 201, response.body
        contact_id = response.json()["contact_id"]
        found = http_request(
            "GET",
            server.port,
            "/v1/contacts/lookup?url=" + urllib.parse.quote(capture["url"]),
            headers=api_headers(token),
        )
        assert found.status == 200 and found.json()["found"], found.body
        assert found.json()["contact"]["id"] == contact_id

        seeded_id = before["contacts"][0][0]
        page = http_request("GET", server.datasette_port, f"/-/kith/contacts/{seeded_id}.json")
        assert page.status == 200, page.body
        assert "Ada #1 ?%" in page.body.decode()
        assert "met at the # meetup" in page.body.decode()
        page = http_request("GET", server.datasette_port, f"/-/kith/contacts/{contact_id}.json")
        assert page.status == 200 and "Stress7" in page.body.decode(), page.body
        search = http_request("GET", server.datasette_port, "/-/kith/search.json?q=meetup")
        assert search.status == 200 and "met at the # meetup" in search.body.decode(), search.body
    assert server.proc.returncode == 0, server.log_tail()

    after = rows(db_path)
    assert after["contacts"][: len(before["contacts"])] == before["contacts"]
    assert [c[0] for c in after["contacts"]] == [before["contacts"][0][0], contact_id]
    # Nothing was created beside the database under a truncated name (`my ` for `my #1 ?%.db`).
    assert (
        sorted(
            p.name
            for p in db_path.parent.iterdir()
            if not p.name.startswith(db_path.name) and not p.name.startswith(backup.name)
        )
        == []
    )


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _foreign_sqlite(path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url TEXT)")
    conn.execute("INSERT INTO moz_places (url) VALUES ('https://example.org')")
    conn.commit()
    conn.close()


def _contacts_but_not_kith(path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE contacts (id INTEGER PRIMARY KEY, name TEXT)")
    conn.commit()
    conn.close()


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: p.write_bytes(b""), "empty"),
        (lambda p: p.write_text("name,email\nAda,ada@example.org\n"), "not a readable SQLite database"),
        (_foreign_sqlite, "not a Kith one"),
        (_contacts_but_not_kith, "not a Kith one"),
    ],
    ids=["empty", "not-sqlite", "other-app", "contacts-only"],
)
def test_restore_refuses_what_is_not_a_kith_backup(tmp_path, make, message):
    db_path = tmp_path / "kith #1.db"
    seed(db_path)
    digest, before = _digest(db_path), rows(db_path)
    bad = tmp_path / "bad.db"
    make(bad)
    result = kith("restore", "--db", str(db_path), str(bad))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "not restored" in result.stderr and message in result.stderr, result.stderr
    assert _digest(db_path) == digest and rows(db_path) == before
    assert not db_path.with_name(db_path.name + ".before-restore").exists()
    assert not db_path.with_name(db_path.name + ".partial").exists()


def test_restore_refuses_a_damaged_backup(tmp_path):
    db_path = tmp_path / "kith.db"
    seed(db_path)
    backup = tmp_path / "backup.db"
    assert kith("backup", "--db", str(db_path), str(backup)).returncode == 0
    data = bytearray(backup.read_bytes())
    page = 4096
    data[2 * page : 4 * page] = b"\x5a" * (2 * page)  # scribble over b-tree pages, keep the header
    backup.write_bytes(bytes(data))
    digest = _digest(db_path)
    result = kith("restore", "--db", str(db_path), str(backup))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "not restored" in result.stderr
    assert _digest(db_path) == digest
