"""`kith backup` while another writer is busy: the copy passes integrity_check and is one consistent snapshot."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

from click.testing import CliRunner

from companion.cli import main
from companion.store.db import open_db

# Each transaction adds one contact, exactly three notes, and bumps a counter to the contact count:
# a snapshot taken mid-transaction would break one of those invariants.
WRITER = """
import sys, time
from pathlib import Path
from companion.store.db import open_db
db = open_db(sys.argv[1]); stop = Path(sys.argv[2]); ready = Path(sys.argv[3])
i = 0
while not stop.exists():
    with db.atomic():
        cid = db.execute("INSERT INTO contacts (name, company, created_at, updated_at)"
                         " VALUES (?, 'Acme', 'now', 'now')", [f"Writer {i}"]).lastrowid
        for n in range(3):
            db.execute("INSERT INTO notes (contact_id, body, created_at) VALUES (?, ?, 'now')",
                       [cid, f"note {n} " * 50])
        db.execute("INSERT INTO settings (key, value) VALUES ('writer_count', 1) ON CONFLICT(key)"
                   " DO UPDATE SET value = value + 1")
    i += 1
    if i == 200:
        ready.touch()
"""


def check_snapshot(path: Path, *, standalone: bool = True) -> int:
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        contacts = conn.execute("SELECT count(*) FROM contacts").fetchone()[0]
        counter = conn.execute("SELECT value FROM settings WHERE key = 'writer_count'").fetchone()
        assert int(counter[0] if counter else 0) == contacts
        assert (
            conn.execute(
                "SELECT count(*) FROM contacts c WHERE (SELECT count(*) FROM notes n WHERE n.contact_id = c.id) != 3"
            ).fetchone()[0]
            == 0
        )
        if standalone:  # a backup is one self-contained file, not a WAL database
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        return contacts
    finally:
        conn.close()


def backups_during(src: Path, dest_dir: Path, count: int = 3) -> list[int]:
    sizes = []
    for n in range(count):
        dest = dest_dir / f"backup-{n}.db"
        result = CliRunner().invoke(main, ["backup", "--db", str(src), str(dest)], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        sizes.append(check_snapshot(dest))
        time.sleep(0.05)
    return sizes


def test_backup_while_another_process_writes(tmp_path):
    src = tmp_path / "kith.db"
    open_db(src).close()
    stop, ready = tmp_path / "stop", tmp_path / "ready"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(src), str(stop), str(ready)])
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            assert writer.poll() is None, "the writer died"
            assert time.monotonic() < deadline, "the writer never got going"
            time.sleep(0.02)
        sizes = backups_during(src, tmp_path)
    finally:
        stop.touch()
        writer.wait(timeout=30)
    assert writer.returncode == 0
    assert sizes[0] >= 200 and sizes[-1] > sizes[0]  # the writer carried on between backups
    assert check_snapshot(src, standalone=False) >= sizes[-1]


def test_backup_while_another_thread_writes(tmp_path):
    src = tmp_path / "kith.db"
    db = open_db(src)
    stop = threading.Event()
    written = []

    def write():
        i = 0
        while not stop.is_set():
            with db.atomic():
                cid = db.execute(
                    "INSERT INTO contacts (name, created_at, updated_at) VALUES (?, 'now', 'now')", [f"T {i}"]
                ).lastrowid
                for n in range(3):
                    db.execute("INSERT INTO notes (contact_id, body, created_at) VALUES (?, 'x', 'now')", [cid])
                db.execute(
                    "INSERT INTO settings (key, value) VALUES ('writer_count', 1) ON CONFLICT(key)"
                    " DO UPDATE SET value = value + 1"
                )
            i += 1
            written.append(i)

    thread = threading.Thread(target=write)
    thread.start()
    try:
        while len(written) < 100:
            time.sleep(0.01)
        sizes = backups_during(src, tmp_path)
    finally:
        stop.set()
        thread.join(timeout=30)
    db.close()
    assert sizes[0] >= 100 and all(s <= len(written) for s in sizes)


def test_restore_puts_a_backup_in_place(tmp_path):
    src = tmp_path / "kith.db"
    db = open_db(src)
    db.execute("INSERT INTO contacts (name, created_at, updated_at) VALUES ('Kept', 'now', 'now')")
    db.close()
    CliRunner().invoke(main, ["backup", "--db", str(src), str(tmp_path / "b.db")], catch_exceptions=False)
    db = open_db(src)
    db.execute("DELETE FROM contacts")
    db.close()
    result = CliRunner().invoke(main, ["restore", "--db", str(src), str(tmp_path / "b.db")], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert sqlite3.connect(src).execute("SELECT name FROM contacts").fetchall() == [("Kept",)]
