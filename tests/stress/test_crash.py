"""Crash suite: SIGKILL `kith serve` mid-burst, mid-migration, and `kith backup` mid-copy.

Quick forms (plain `make test`): a 60-capture burst from 4 clients, a small old-shape database,
a small backup. Full forms (`KITH_STRESS=1`): 500 captures from 8 clients, a 1M-row migration,
a ~300 MB backup.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

from sqlite_utils import Database

from companion.store.db import connect, sqlite_uri
from companion.store.schema import migrations

from .conftest import (
    STRESS,
    KithServer,
    api_headers,
    http_request,
    integrity_check,
    kith_command,
    new_token,
    profile_capture,
    report,
    row_counts,
    scaled,
    ROOT,
)

BURST = scaled(60, 500)
CLIENTS = scaled(4, 8)
BURST_DEADLINE_S = scaled(240.0, 600.0)


class Burst:
    """N client threads sending captures the way the extension's queue does: each capture keeps
    its capture_id; anything not acknowledged with a 2xx is resent until it is, or the deadline."""

    def __init__(self, port: int, token: str, captures: list[dict], clients: int, deadline_s: float):
        self.port = port
        self.token = token
        self.bodies = {c["capture_id"]: json.dumps(c).encode() for c in captures}
        self.todo = list(self.bodies)
        self.lock = threading.Lock()
        self.acks: dict[str, dict] = {}  # capture_id -> {"status", "duplicate", "contact_id"}
        self.failures: list[str] = []  # unexpected answers (4xx/5xx other than while down)
        self.sends = 0
        self.connection_errors = 0
        self.deadline = time.monotonic() + deadline_s
        self.threads = [threading.Thread(target=self._client, args=(n,), daemon=True) for n in range(clients)]

    def _next(self) -> str | None:
        with self.lock:
            return self.todo.pop(0) if self.todo else None

    def _client(self, n: int) -> None:
        rng = random.Random(n)
        retry: list[str] = []
        while time.monotonic() < self.deadline:
            capture_id = retry.pop(0) if retry else self._next()
            if capture_id is None:
                return
            try:
                with self.lock:
                    self.sends += 1
                response = http_request(
                    "POST", self.port, "/v1/captures", self.bodies[capture_id], api_headers(self.token), timeout=60
                )
            except OSError:  # refused, reset, timed out: the companion is down; the queue keeps it
                with self.lock:
                    self.connection_errors += 1
                retry.append(capture_id)
                time.sleep(0.05 + rng.random() * 0.2)
                continue
            if response.status in (200, 201):
                body = response.json()
                with self.lock:
                    self.acks[capture_id] = {
                        "status": response.status,
                        "duplicate": body["duplicate"],
                        "contact_id": body["contact_id"],
                    }
            elif response.status >= 500 and response.json().get("error", {}).get("retryable"):
                with self.lock:
                    self.failures.append(f"{capture_id}: {response.status} {response.body[:200]!r}")
                retry.append(capture_id)
                time.sleep(0.2)
            else:
                with self.lock:
                    self.failures.append(f"{capture_id}: {response.status} {response.body[:300]!r}")
                return

    def start(self) -> "Burst":
        for thread in self.threads:
            thread.start()
        return self

    def join(self) -> None:
        for thread in self.threads:
            thread.join(timeout=max(1.0, self.deadline - time.monotonic() + 5))

    def acked(self) -> set[str]:
        with self.lock:
            return set(self.acks)


def _captures_in_db(db_path: Path) -> list[str]:
    # A read-write connection, as the restarted companion would open it (runs WAL recovery).
    conn = sqlite3.connect(str(db_path), timeout=30)
    try:
        return [r[0] for r in conn.execute("SELECT id FROM captures")]
    finally:
        conn.close()


def test_sigkill_mid_burst_loses_nothing_and_duplicates_nothing(server_factory, tmp_path):
    db_path = tmp_path / "kith.db"
    token = new_token(db_path)
    server = server_factory(db_path, datasette=STRESS).start()
    captures = [profile_capture(i) for i in range(BURST)]
    burst = Burst(server.port, token, captures, CLIENTS, BURST_DEADLINE_S)
    kill_at = random.Random(7).randint(int(BURST * 0.3), int(BURST * 0.6))

    t0 = time.monotonic()
    burst.start()
    while len(burst.acked()) < kill_at and time.monotonic() < burst.deadline and not burst.failures:
        time.sleep(0.002)
    in_flight_sends = burst.sends
    server.kill()
    killed_at = time.monotonic() - t0
    acked_before_kill = burst.acked()
    assert not burst.failures, burst.failures[:5]
    assert len(acked_before_kill) >= kill_at, "the burst stalled before the kill"
    assert len(acked_before_kill) < BURST, "the kill landed after the burst finished"

    # Durability first, before any restart: every acknowledged capture is already on disk.
    on_disk = set(_captures_in_db(db_path))
    missing = acked_before_kill - on_disk
    assert not missing, f"{len(missing)} acknowledged captures lost by SIGKILL: {sorted(missing)[:5]}"
    committed_unacked = len(on_disk - acked_before_kill)
    assert integrity_check(db_path, readonly=False) == "ok"

    time.sleep(0.5)  # clients meet a dead port for a moment, as they would
    server.start()
    burst.join()
    elapsed = time.monotonic() - t0

    assert not burst.failures, burst.failures[:5]
    assert len(burst.acks) == BURST, f"only {len(burst.acks)} of {BURST} acknowledged before the deadline"
    replayed_duplicates = sum(1 for a in burst.acks.values() if a["duplicate"])

    counts = row_counts(db_path)
    conn = sqlite3.connect(sqlite_uri(db_path, mode="ro"), uri=True)
    try:
        ids = [r[0] for r in conn.execute("SELECT id FROM captures")]
        dup_notes = conn.execute(
            "SELECT count(*) FROM (SELECT capture_id FROM notes GROUP BY capture_id HAVING count(*) > 1)"
        ).fetchone()[0]
        contact_ids = {a["contact_id"] for a in burst.acks.values()}
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()
    assert len(ids) == BURST and len(set(ids)) == BURST
    assert set(ids) == set(burst.bodies)
    assert counts["contacts"] == BURST, "a replay created a second contact"
    assert len(contact_ids) == BURST
    assert counts["notes"] == BURST and dup_notes == 0, "a replay added a second note"
    assert integrity == "ok"
    assert server.ping()
    report(
        "crash.burst",
        {
            "captures": BURST,
            "clients": CLIENTS,
            "killed_after_acks": len(acked_before_kill),
            "killed_at_s": round(killed_at, 2),
            "sends_before_kill": in_flight_sends,
            "committed_but_unacked_at_kill": committed_unacked,
            "replays_answered_duplicate": replayed_duplicates,
            "connection_errors_seen_by_clients": burst.connection_errors,
            "total_sends": burst.sends,
            "elapsed_s": round(elapsed, 1),
        },
    )


# ---- kill during a migration ------------------------------------------------------------------

MIGRATION_CONTACTS = scaled(20_000, 200_000)
MIGRATION_MESSAGES = scaled(60_000, 1_000_000)
MIGRATION_NOTES = scaled(20_000, 300_000)
# A database as the first release left it: 0001 and 0002 applied; 0003 (indexes, full-text search,
# views: the heavy one) and everything after it still to run when `kith serve` opens it.
FIRST_PENDING = "0003_indexes_fts_views"
ALL_MIGRATIONS = [m.name for m in migrations.pending(Database(memory=True))]  # every one, in order
# Where the kills land (MB the migrations have written to the WAL; the full-size 0003 writes ~110 MB):
# building the first indexes, then the FTS indexes, then late (the end of 0003 or a later migration).
KILL_AT_WAL_MB = scaled([0.5], [0.5, 40, 95])


def _make_old_shape_db(path: Path) -> dict:
    """A database as the previous release left it (migrations up to 0002), full of data."""
    db = connect(path)
    db.enable_wal()
    migrations.apply(db, stop_before=FIRST_PENDING)
    conn = db.conn
    rng = random.Random(3)
    words = "alpha beta gamma delta river stone climate robotics founder mentor pycon london".split()
    with conn:
        conn.executemany(
            "INSERT INTO contacts (id, name, headline, company, title, location, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
            (
                (
                    i,
                    f"Person {i} {rng.choice(words).title()}",
                    f"{rng.choice(words)} at Co{i % 997}",
                    f"Co{i % 997}",
                    rng.choice(words),
                    "London",
                )
                for i in range(1, MIGRATION_CONTACTS + 1)
            ),
        )
        conn.executemany(
            "INSERT INTO identities (contact_id, kind, value, url) VALUES (?, 'linkedin', ?, ?)",
            (
                (i, f"https://www.linkedin.com/in/p{i}/", f"https://www.linkedin.com/in/p{i}/")
                for i in range(1, MIGRATION_CONTACTS + 1)
            ),
        )
        conn.executemany(
            "INSERT INTO messages (contact_id, direction, sent_at, body, channel) VALUES (?, 'in', ?, ?, 'web')",
            (
                (
                    1 + i % MIGRATION_CONTACTS,
                    f"2026-02-{1 + i % 28:02d}T10:00:00Z",
                    " ".join(rng.choice(words) for _ in range(12)),
                )
                for i in range(MIGRATION_MESSAGES)
            ),
        )
        conn.executemany(
            "INSERT INTO notes (contact_id, body, created_at) VALUES (?, ?, '2026-03-01T00:00:00Z')",
            (
                (1 + i % MIGRATION_CONTACTS, "note " + " ".join(rng.choice(words) for _ in range(8)))
                for i in range(MIGRATION_NOTES)
            ),
        )
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    fingerprint = _fingerprint(conn)
    db.close()
    return fingerprint


def _fingerprint(conn: sqlite3.Connection) -> dict:
    text_column = {"contacts": "name", "identities": "value", "messages": "body", "notes": "body"}
    return {
        table: conn.execute(f"SELECT count(*), total(id), total(length({column})) FROM {table}").fetchone()
        for table, column in text_column.items()
    }


def _applied(path: Path) -> list[str]:
    conn = sqlite3.connect(str(path), timeout=30)
    try:
        return [r[0] for r in conn.execute("SELECT name FROM _sqlite_migrations ORDER BY id")]
    finally:
        conn.close()


def test_sigkill_during_migration_leaves_old_shape_intact_then_migrates(server_factory, tmp_path):
    db_path = tmp_path / "old.db"
    before = _make_old_shape_db(db_path)
    assert _applied(db_path) == ALL_MIGRATIONS[: ALL_MIGRATIONS.index(FIRST_PENDING)]
    size_mb = db_path.stat().st_size / 1e6
    wal = Path(str(db_path) + "-wal")

    server = server_factory(db_path, datasette=False)
    kills = []
    for threshold_mb in KILL_AT_WAL_MB:
        t0 = time.monotonic()
        server.start(wait=False)
        # The companion migrates before it listens. Kill once the migration's transaction has
        # written this much to the WAL, while the API is still not answering.
        deadline = t0 + 300
        while time.monotonic() < deadline:
            if wal.exists() and wal.stat().st_size > threshold_mb * 1e6:
                break
            assert server.alive(), server.log_tail()
            time.sleep(0.005)
        assert not server.ping(timeout=0.2), "the companion answered before its migration could be interrupted"
        wal_at_kill = wal.stat().st_size
        server.kill()
        applied = _applied(db_path)
        kills.append(
            {
                "after_s": round(time.monotonic() - t0, 2),
                "wal_mb": round(wal_at_kill / 1e6, 1),
                "interrupted": ALL_MIGRATIONS[len(applied)] if len(applied) < len(ALL_MIGRATIONS) else None,
            }
        )
        # Each migration is atomic: what is recorded is a prefix of the list, and not all of it.
        assert applied == ALL_MIGRATIONS[: len(applied)]
        assert len(applied) < len(ALL_MIGRATIONS), "the kill landed after every migration had committed"
        assert integrity_check(db_path, readonly=False) == "ok"
        conn = sqlite3.connect(str(db_path))
        try:
            assert _fingerprint(conn) == before, "the interrupted migration changed the data"
            leftover = conn.execute("SELECT count(*) FROM sqlite_master WHERE name LIKE '%_fts%'").fetchone()[0]
        finally:
            conn.close()
        if FIRST_PENDING not in applied:
            assert leftover == 0, "half a migration (FTS tables) survived the rollback"

    t1 = time.monotonic()
    server.start()
    migrate_s = time.monotonic() - t1
    assert _applied(db_path) == ALL_MIGRATIONS
    conn = sqlite3.connect(sqlite_uri(db_path, mode="ro"), uri=True)
    try:
        assert _fingerprint(conn) == before
        hits = conn.execute("SELECT count(*) FROM contacts_fts WHERE contacts_fts MATCH 'Person'").fetchone()[0]
        note_hits = conn.execute("SELECT count(*) FROM notes_fts WHERE notes_fts MATCH 'note'").fetchone()[0]
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()
    assert hits == MIGRATION_CONTACTS and note_hits == MIGRATION_NOTES
    token = new_token(db_path)
    response = http_request(
        "POST", server.port, "/v1/captures", json.dumps(profile_capture(1)).encode(), api_headers(token)
    )
    assert response.status == 201, response.body[:300]
    report(
        "crash.migration",
        {
            "contacts": MIGRATION_CONTACTS,
            "messages": MIGRATION_MESSAGES,
            "notes": MIGRATION_NOTES,
            "db_mb": round(size_mb, 1),
            "kills": kills,
            "restart_and_migrate_s": round(migrate_s, 1),
        },
    )


# ---- kill during `kith backup` -----------------------------------------------------------------

BACKUP_FILLER_MB = scaled(40, 300)
KILL_AT_FRACTIONS = scaled([0.0, 0.5], [0.0, 0.5, 0.99])


def _fill(db_path: Path, megabytes: int) -> None:
    """Raw captures (incompressible 4 KB blobs) to make the file big enough that a backup takes a while."""
    conn = sqlite3.connect(str(db_path), timeout=30)
    rows = megabytes * 1024 // 4
    with conn:
        conn.execute(
            "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < ?)"
            " INSERT INTO captures (id, kind, url, received_at, status, html)"
            " SELECT 'filler-' || x, 'profile', 'https://example.com/' || x, '2026-01-01T00:00:00Z',"
            " 'unparsed', randomblob(4000) FROM n",
            [rows],
        )
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


class NoteWriter(threading.Thread):
    """Keeps writing notes through the API while the backup runs (the live DB must stay writable)."""

    def __init__(self, server: KithServer, token: str):
        super().__init__(daemon=True)
        self.server, self.token = server, token
        self.stop = threading.Event()
        self.ok = 0
        self.bad: list[str] = []

    def run(self):
        n = 0
        while not self.stop.is_set() and n < 100_000:
            n += 1
            body = json.dumps(
                {
                    "capture_id": f"{n:08d}-0000-4000-8000-{os.getpid():012d}",
                    "kind": "note",
                    "url": "https://www.linkedin.com/in/stress-person-0/",
                    "text": f"during backup {n}",
                }
            ).encode()
            try:
                response = http_request("POST", self.server.port, "/v1/captures", body, api_headers(self.token))
            except OSError as exc:
                self.bad.append(repr(exc))
                continue
            if response.status == 201:
                self.ok += 1
            else:
                self.bad.append(f"{response.status} {response.body[:200]!r}")
            time.sleep(0.01)


def _backup_process(db_path: Path, dest: Path) -> subprocess.Popen:
    return subprocess.Popen(
        kith_command("backup", str(dest), "--db", str(db_path)),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def _kill_mid_backup(db_path: Path, dest: Path, fraction: float = 0.0) -> tuple[float, int]:
    """SIGKILL `kith backup` once its temporary copy holds `fraction` of the source (at least 1 MB);
    0.99 lands after the page copy, during the backup's own integrity check."""
    partial = dest.with_name(dest.name + ".partial")
    threshold = max(1024 * 1024, int(fraction * db_path.stat().st_size))
    t0 = time.monotonic()
    proc = _backup_process(db_path, dest)
    try:
        deadline = t0 + 120
        while time.monotonic() < deadline:
            if partial.exists() and partial.stat().st_size >= threshold:
                break
            assert proc.poll() is None, f"the backup finished before it could be killed: {proc.communicate()}"
            time.sleep(0.005)
        size = partial.stat().st_size
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
        proc.stdout.close()
        proc.stderr.close()
    return time.monotonic() - t0, size


def test_sigkill_during_backup_never_leaves_a_half_written_destination(server_factory, tmp_path):
    db_path = tmp_path / "kith.db"
    token = new_token(db_path)
    _fill(db_path, BACKUP_FILLER_MB)
    server = server_factory(db_path, datasette=False).start()
    response = http_request(
        "POST", server.port, "/v1/captures", json.dumps(profile_capture(0)).encode(), api_headers(token)
    )
    assert response.status == 201

    # 1. No earlier backup: a killed backup leaves nothing under the destination name.
    fresh = tmp_path / "backups" / "fresh.db"
    fresh.parent.mkdir()
    kills = []
    for fraction in KILL_AT_FRACTIONS:
        killed_s, partial_bytes = _kill_mid_backup(db_path, fresh, fraction)
        kills.append({"after_s": round(killed_s, 2), "partial_mb": round(partial_bytes / 1e6, 1)})
        assert not fresh.exists(), "a killed backup left a file under the destination name"

    # 2. An earlier good backup at the destination survives a killed backup untouched.
    nightly = tmp_path / "backups" / "nightly.db"
    t0 = time.monotonic()
    subprocess.run(
        kith_command("backup", str(nightly), "--db", str(db_path)),
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=600,
    )
    full_backup_s = time.monotonic() - t0
    good = row_counts(nightly)
    good_bytes = nightly.read_bytes()[: 1 << 20]
    writer = NoteWriter(server, token)
    writer.start()
    try:
        for fraction in KILL_AT_FRACTIONS:
            _kill_mid_backup(db_path, nightly, fraction)
            assert server.ping()
    finally:
        writer.stop.set()
        writer.join(timeout=60)
    assert integrity_check(nightly) == "ok"
    assert row_counts(nightly) == good and nightly.read_bytes()[: 1 << 20] == good_bytes
    assert not writer.bad, writer.bad[:5]
    assert writer.ok > 0

    # The live database is intact and still serving.
    assert integrity_check(db_path) == "ok"
    live = row_counts(db_path)
    assert live["notes"] == good["notes"] + writer.ok

    # 3. The next backup replaces the leftover .partial and completes.
    subprocess.run(
        kith_command("backup", str(nightly), "--db", str(db_path)),
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=600,
    )
    assert integrity_check(nightly) == "ok"
    assert row_counts(nightly)["notes"] == live["notes"]
    assert not nightly.with_name(nightly.name + ".partial").exists()
    leftover_partial = fresh.with_name(fresh.name + ".partial").exists()
    report(
        "crash.backup",
        {
            "db_mb": round(db_path.stat().st_size / 1e6, 1),
            "kills": kills,
            "full_backup_s": round(full_backup_s, 2),
            "notes_written_during_backup": writer.ok,
            "partial_file_left_behind": leftover_partial,
        },
    )
