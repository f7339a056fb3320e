"""`scripts/storage_floor.py` writes exactly what a `kith import` stored, or its figure means nothing.

`make bench` compares the import with this floor: the same rows put into the same schema by bare
sqlite3. Here a real clustered import runs as a command, the floor copies its rows into a new
database, and every table the import filled must match row for row, with the search index, the
indexes and the triggers as the schema declares them.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
sys.path.insert(0, str(SCRIPTS))
from bench_import import write_clustered_connections  # noqa: E402
import storage_floor  # noqa: E402

from companion.store.db import open_db  # noqa: E402


def rows(db_path: Path, table: str) -> list[tuple]:
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute(f"SELECT * FROM [{table}] ORDER BY rowid").fetchall()
    finally:
        conn.close()


def schema(db_path: Path) -> list[tuple]:
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY type, name").fetchall()
    finally:
        conn.close()


def test_the_floor_stores_what_the_import_stored(tmp_path):
    csv_path = tmp_path / "Connections.csv"
    write_clustered_connections(csv_path, 1500)
    imported = tmp_path / "imported.db"
    subprocess.run(
        [sys.executable, "-m", "companion", "import", "linkedin", "--db", str(imported), str(csv_path)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    pickled = tmp_path / "rows.pickle"
    counts = storage_floor.dump_rows(str(imported), str(pickled))
    assert counts["contacts"] > 1000 and counts["identities"] > 1000 and counts["merge_suggestions"] > 0

    floor = tmp_path / "floor.db"
    open_db(floor).close()
    subprocess.run(
        [sys.executable, str(SCRIPTS / "storage_floor.py"), str(pickled), str(floor)], check=True, timeout=120
    )
    for table in storage_floor.TABLES:
        assert rows(floor, table) == rows(imported, table), table
    assert schema(floor) == schema(imported)  # indexes and triggers dropped for the insert are back
    word = rows(imported, "contacts")[0][1].split()[0]  # the first contact's first name
    found = {}
    for db_path in (floor, imported):
        conn = sqlite3.connect(db_path)
        try:
            # FTS5's own check of the index against the table: raises on any difference.
            conn.execute("INSERT INTO contacts_fts (contacts_fts, rank) VALUES ('integrity-check', 1)")
            found[db_path] = conn.execute(
                "SELECT count(*) FROM contacts_fts WHERE contacts_fts MATCH ?", [f'"{word}"']
            ).fetchone()[0]
        finally:
            conn.close()
    assert found[floor] == found[imported] > 0
