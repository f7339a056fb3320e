"""Another process writing to the database (a user's `sqlite-utils insert`, a script) makes the
companion's writes wait, never fail: every write transaction starts with BEGIN IMMEDIATE.

A deferred transaction that reads first and then writes is refused at once (SQLITE_BUSY, no
busy timeout) when another connection holds the write lock; the companion answered those
captures `500 database is locked`.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from stress.conftest import KithServer, api_headers, http_request, new_token, note_capture

CAPTURES = 200
POSTERS = 4
SINGLE_INSERTS = 40
BULK_SECONDS = 1.5

# A user's script through the sqlite-utils Python API: 40 single-row inserts into `notes`, and
# one bulk insert holding the write lock for ~1.5 s. The script's own transactions are
# sqlite-utils' defaults (deferred), so it may itself meet `database is locked`: it retries and
# counts those (the companion is what is under test).
OUTSIDE_WRITER = r"""
import json, sqlite3, sys, time
from pathlib import Path
from sqlite_utils import Database

db = Database(sys.argv[1])
go, bulk_seconds, singles = Path(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
stats = {"retries": 0, "single": 0, "bulk_rows": 0, "bulk_seconds": 0.0}

def retrying(fn):
    while True:
        try:
            return fn()
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc):
                raise
            stats["retries"] += 1
            time.sleep(0.01)

def bulk():
    started = time.monotonic()
    rows = 0
    with db.atomic():
        while time.monotonic() - started < bulk_seconds:
            db["notes"].insert_all({"body": f"outside bulk {rows + n} " + "words " * 20,
                                    "created_at": "2026-01-01T00:00:00Z"} for n in range(500))
            rows += 500
    stats["bulk_rows"] = rows
    stats["bulk_seconds"] = round(time.monotonic() - started, 2)

while not go.exists():
    time.sleep(0.01)
for i in range(singles):
    retrying(lambda: db["notes"].insert({"body": f"outside single {i}", "created_at": "2026-01-01T00:00:00Z"}))
    stats["single"] += 1
    if i == singles // 2:
        retrying(bulk)
    time.sleep(0.05)
print(json.dumps(stats))
"""


def test_captures_wait_for_an_outside_writer(tmp_path):
    db_path = tmp_path / "kith.db"
    with KithServer(db_path, datasette=False, log_path=tmp_path / "serve.log") as server:
        run_captures_beside_an_outside_writer(tmp_path, db_path, server)


def run_captures_beside_an_outside_writer(tmp_path, db_path, server):
    token = new_token(db_path)
    go = tmp_path / "go"
    outside = subprocess.Popen(
        [sys.executable, "-c", OUTSIDE_WRITER, str(db_path), str(go), str(BULK_SECONDS), str(SINGLE_INSERTS)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    captures = [
        note_capture(f"outside-writer capture {i}", url=f"https://github.com/outside-writer-{i % 20}")
        for i in range(CAPTURES)
    ]
    statuses: list[tuple[int, bytes]] = []
    lock = threading.Lock()

    def post(batch):
        for capture in batch:
            response = http_request(
                "POST", server.port, "/v1/captures", json.dumps(capture).encode(), api_headers(token)
            )
            with lock:
                statuses.append((response.status, response.body[:200]))
            time.sleep(0.06)  # spread the captures over the outside writer's ~3.5 s

    started = time.monotonic()
    go.touch()
    with ThreadPoolExecutor(POSTERS) as pool:
        list(pool.map(post, [captures[n::POSTERS] for n in range(POSTERS)]))
    out, err = outside.communicate(timeout=60)
    elapsed = time.monotonic() - started
    assert outside.returncode == 0, err
    outside_stats = json.loads(out)

    failures = [(status, body) for status, body in statuses if status >= 500]
    print(
        f"\n[outside-writer] {len(statuses)} captures in {elapsed:.1f} s, 5xx: {len(failures)},"
        f" outside writer: {outside_stats}"
    )
    assert failures == []
    assert sorted(status for status, _ in statuses) == [201] * CAPTURES, sorted(set(statuses))
    assert outside_stats["single"] == SINGLE_INSERTS and outside_stats["bulk_seconds"] >= BULK_SECONDS

    conn = sqlite3.connect(db_path, timeout=30)
    try:
        ids = [c["capture_id"] for c in captures]
        stored = dict(
            conn.execute(
                f"SELECT id, count(*) FROM captures WHERE id IN ({','.join('?' * len(ids))}) GROUP BY id", ids
            ).fetchall()
        )
        notes = dict(
            conn.execute(
                f"SELECT capture_id, count(*) FROM notes WHERE capture_id IN ({','.join('?' * len(ids))})"
                " GROUP BY capture_id",
                ids,
            ).fetchall()
        )
        outside_rows = conn.execute("SELECT count(*) FROM notes WHERE body LIKE 'outside %'").fetchone()[0]
    finally:
        conn.close()
    assert stored == {i: 1 for i in ids}
    assert notes == {i: 1 for i in ids}
    assert outside_rows == SINGLE_INSERTS + outside_stats["bulk_rows"]
    assert server.alive()
