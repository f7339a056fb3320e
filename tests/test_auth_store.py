"""Secrets stay out of the database Datasette serves: codes and tokens live, keyed-hashed, in the
auth file beside it; older databases hand their tokens over; Unpair revokes on the companion."""

from __future__ import annotations

import asyncio
import hashlib
import os
import sqlite3
import stat
import subprocess
import sys

import aiohttp
import datasette
from datasette.app import Datasette
from sqlite_utils import Database

from companion.store import auth
from companion.store.db import open_db
from companion.store.schema import migrations
from conftest import ROOT

KITH = [sys.executable, "-c", "import sys; from companion.cli import main; sys.exit(main(prog_name='kith'))"]
AUTH_TABLES = ("tokens", "pairing_codes", "paired_origins")


def kith(*args: str) -> str:
    return subprocess.run([*KITH, *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout


def unkeyed_forms(secret: str) -> list[bytes]:
    """The secret and every plain hash of it an attacker could test guesses against."""
    forms = []
    for text in {secret, secret.replace("-", ""), secret.lower(), secret.replace("-", "").lower()}:
        raw = text.encode()
        forms.append(raw)
        for algo in ("sha256", "sha1", "md5", "sha512", "blake2b"):
            digest = hashlib.new(algo, raw)
            forms += [digest.hexdigest().encode(), digest.digest()]
    return forms


def test_pair_leaves_no_code_or_plain_hash_in_the_database_and_datasette_shows_no_auth_table(db_path):
    open_db(db_path).close()
    auth.AuthStore(db_path).close()
    # Held open so the WAL files stay on disk (the last connection to close removes them).
    holders = [sqlite3.connect(db_path), sqlite3.connect(auth.auth_path(db_path))]
    for conn in holders:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    code = kith("pair", "--db", str(db_path)).strip().splitlines()[-1].strip()
    token = kith("token", "new", "--name", "script", "--db", str(db_path)).strip().splitlines()[-1]
    assert len(code.replace("-", "")) == auth.CODE_LENGTH >= 10
    files = [
        db_path,
        db_path.with_name(db_path.name + "-wal"),
        auth.auth_path(db_path),
        auth.auth_path(db_path).with_name(auth.auth_path(db_path).name + "-wal"),
    ]
    blobs = [p.read_bytes() for p in files if p.exists()]
    assert len(blobs) == 4
    for conn in holders:
        conn.close()
    for blob in blobs:
        for form in unkeyed_forms(code) + unkeyed_forms(token):
            assert form not in blob
    # The auth file does hold the keyed digest (so the check above looked in the right place).
    store = auth.AuthStore(db_path)
    assert store.digest(token).encode() in b"".join(blobs)
    store.close()
    for path in (auth.auth_path(db_path), auth.key_path(db_path)):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600

    async def ask():
        ds = Datasette([str(db_path)])
        name = db_path.stem
        sql = f"/{name}.json" if datasette.__version__.startswith("0.") else f"/{name}/-/query.json"
        answers = {}
        for table in AUTH_TABLES:
            for path in (f"/{name}/{table}.json", f"/{name}/{table}", f"{sql}?sql=select+*+from+{table}&_shape=array"):
                response = await ds.client.get(path)
                answers[path] = response.status_code
                assert not (response.status_code == 200 and response.json()), path
        tables = (await ds.client.get(f"/{name}.json")).json()["tables"]
        listed = {t["name"] for t in tables}
        assert not listed & set(AUTH_TABLES)
        master = (await ds.client.get(f"{sql}?sql=select+name+from+sqlite_master&_shape=array")).json()
        assert not {row["name"] for row in master} & set(AUTH_TABLES)
        return answers

    answers = asyncio.run(ask())
    assert set(answers.values()) <= {400, 404}


def test_a_database_from_before_the_auth_file_hands_over_its_tokens(tmp_path):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    old = Database(conn)
    migrations.apply(old, stop_before="0005_auth_state_out_of_the_network_database")
    token = "kith_old-token-value"
    old.execute(
        "INSERT INTO tokens (id, name, token_sha256, origin, created_at) VALUES (7, 'ext', ?, ?, ?)",
        [hashlib.sha256(token.encode()).hexdigest(), "chrome-extension://abc", "2025-01-01T00:00:00Z"],
    )
    old.execute(
        "INSERT INTO paired_origins (origin, token_id, created_at) VALUES (?, 7, ?)",
        ["chrome-extension://abc", "2025-01-01T00:00:00Z"],
    )
    old.execute("INSERT INTO pairing_codes (code_sha256, created_at, expires_at) VALUES ('x', 'a', 'b')")
    conn.commit()
    conn.close()
    db = open_db(path)
    assert not set(db.table_names()) & set(AUTH_TABLES)
    db.close()
    store = auth.AuthStore(path)
    try:
        assert store.check_token(token)["revoked"] is False
        assert store.origin_is_paired("chrome-extension://abc")
        assert store.db["pairing_codes"].count == 0
    finally:
        store.close()


async def test_unpair_revokes_the_callers_token(companion):
    store = auth.AuthStore(companion.db_path)
    code = store.new_pairing_code()
    origin = "chrome-extension://kithkithkithkithkithkithkithkith"
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{companion.base_url}/v1/pair", json={"code": code}, headers={"Origin": origin}
        ) as response:
            assert response.status == 201
            token = (await response.json())["token"]
        headers = {"Authorization": f"Bearer {token}", "Origin": origin, "Content-Type": "application/json"}
        lookup = f"{companion.base_url}/v1/contacts/lookup?url=https://a.example/"
        async with session.get(lookup, headers=headers) as response:
            assert response.status == 200
        async with session.post(f"{companion.base_url}/v1/unpair", json={}, headers=headers) as response:
            assert response.status == 200 and (await response.json())["revoked"] is True
        async with session.get(lookup, headers={**headers, "Origin": origin}) as response:
            assert response.status == 403  # the origin is forgotten with its token
        async with session.get(lookup, headers={"Authorization": f"Bearer {token}"}) as response:
            assert response.status == 401
        # Another client's token is untouched.
        async with session.get(lookup, headers=companion.headers()) as response:
            assert response.status == 200
    assert store.check_token(token)["revoked"] is True
    assert not store.origin_is_paired(origin)
    store.close()


def test_token_last_used_is_recorded(db_path):
    store = auth.AuthStore(db_path)
    token_id, token = store.new_token("script")
    assert store.list_tokens()[0]["last_used_at"] is None
    assert store.check_token(token)["id"] == token_id
    assert store.list_tokens()[0]["last_used_at"] is not None
    store.close()


def test_restore_keeps_paired_browsers_here_and_says_to_pair_again_elsewhere(tmp_path):
    db_path = tmp_path / "kith.db"
    open_db(db_path).close()
    token = kith("token", "new", "--name", "ext", "--db", str(db_path)).strip().splitlines()[-1]
    backup = tmp_path / "backup.db"
    kith("backup", str(backup), "--db", str(db_path))
    copy = sqlite3.connect(backup)
    assert not {r[0] for r in copy.execute("SELECT name FROM sqlite_master")} & set(AUTH_TABLES)
    copy.close()
    out = kith("restore", str(backup), "--db", str(db_path))
    assert "Paired browsers and tokens are unchanged" in out
    store = auth.AuthStore(db_path)
    assert store.check_token(token)["revoked"] is False
    store.close()
    elsewhere = tmp_path / "new-machine" / "kith.db"
    out = kith("restore", str(backup), "--db", str(elsewhere))
    assert "run `kith pair`" in out
    store = auth.AuthStore(elsewhere)
    assert store.check_token(token) is None  # the backup carried no token to the new machine
    store.close()
