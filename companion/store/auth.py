"""Pairing codes, bearer tokens and paired extension origins, kept out of the network database.

Why a file of their own: Datasette serves the network database, and everything in it is readable
there (pages, JSON, SQL). Auth state lives in `<db>.auth` beside it (SQLite in WAL mode, so
`kith pair` in another process works beside a running server), created 0600. Codes and tokens
are stored only as HMAC-SHA256 digests keyed with `<db>.key` (32 random bytes, 0600), so neither
file alone lets anyone pair or authenticate: a leaked `.auth` gives digests nobody can test
guesses against without the key. Backups copy the network database only; the auth file stays with
the machine, so a restore keeps its paired browsers, and a backup moved elsewhere carries no
secret (pair again there).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import sqlite3
import time
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from ..timeutil import now_iso

PAIRING_TTL = timedelta(minutes=10)
MAX_PAIRING_ATTEMPTS = 5
# No 0/O, 1/I/L: the code is read off a terminal and typed by hand. Ten characters (31^10, about
# 8 * 10^14) so that even someone holding the auth file and the key cannot search the space
# before the code expires; the HMAC key makes the digest useless to anyone without it.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10
EXTENSION_SCHEMES = ("chrome-extension://", "moz-extension://", "safari-web-extension://")
LEGACY_TABLES = ("paired_origins", "pairing_codes", "tokens")
# How stale `last_used_at` may get before a check writes it again (a write per request is waste).
LAST_USED_RESOLUTION_S = 60

AUTH_SCHEMA = """
CREATE TABLE tokens (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    token_hmac TEXT NOT NULL UNIQUE,
    origin TEXT,
    created_at TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at TEXT
);
CREATE TABLE pairing_codes (
    code_hmac TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    used_at TEXT
);
CREATE TABLE paired_origins (
    origin TEXT PRIMARY KEY,
    token_id INTEGER NOT NULL REFERENCES tokens(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL
);
"""

auth_migrations = Migrations("kith-auth")


@auth_migrations(name="0001_auth_tables")
def _auth_tables(db: Database) -> None:
    db.executescript(AUTH_SCHEMA)


def auth_path(db_path: str | Path) -> Path:
    return Path(str(db_path) + ".auth")


def key_path(db_path: str | Path) -> Path:
    return Path(str(db_path) + ".key")


def _load_or_create_key(path: Path) -> bytes:
    """The HMAC key; created once with 32 random bytes. Never stored in a database."""
    if not path.exists():
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first: use theirs
            pass
        else:
            with os.fdopen(fd, "w") as out:
                os.fchmod(out.fileno(), 0o600)
                out.write(secrets.token_bytes(32).hex())
                out.flush()
                os.fsync(out.fileno())
    for _ in range(50):  # a process that just created the file may not have written it yet
        text = path.read_text("ascii").strip()
        if text:
            break
        time.sleep(0.02)
    key = bytes.fromhex(text)
    if len(key) < 32:
        raise RuntimeError(f"{path} does not hold a Kith key (expected 64 hex digits)")
    return key


def _private_file(path: Path) -> None:
    """Create (or tighten) a file readable by the user only, whatever the umask."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


def _normalise_code(code: str) -> str:
    return "".join(ch for ch in (code or "").upper() if ch in CODE_ALPHABET)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class AuthStore:
    """The auth file and its key, opened for one database. Methods are short transactions."""

    def __init__(self, db_path: str | Path):
        self.db_path = Path(db_path)
        self.path = auth_path(db_path)
        self.key = _load_or_create_key(key_path(db_path))
        _private_file(self.path)
        conn = sqlite3.connect(str(self.path), check_same_thread=False, timeout=30, isolation_level=None)
        self.db = Database(conn)
        self.db.execute("PRAGMA busy_timeout = 30000")
        self.db.execute("PRAGMA foreign_keys = ON")
        self.db.enable_wal()
        auth_migrations.apply(self.db)

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def _write(self):
        """One write transaction that takes the write lock up front (BEGIN IMMEDIATE), so a
        writer in another process (`kith pair` beside the server) makes it wait, never fail."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def digest(self, secret: str) -> str:
        """HMAC-SHA256 of the secret's SHA-256 (the inner hash lets tokens stored by older
        versions as a plain SHA-256 be carried over without knowing the token)."""
        inner = hashlib.sha256(secret.encode("utf-8")).hexdigest()
        return self._keyed(inner)

    def _keyed(self, inner_hex: str) -> str:
        return hmac.new(self.key, inner_hex.encode("ascii"), hashlib.sha256).hexdigest()

    # ---- pairing -------------------------------------------------------------------------

    def new_pairing_code(self, *, now: datetime | None = None) -> str:
        """A one-time code, valid for ten minutes and a few attempts."""
        now = now or datetime.now(timezone.utc)
        raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        with self._write():
            self.db["pairing_codes"].insert(
                {
                    "code_hmac": self.digest(raw),
                    "created_at": _iso(now),
                    "expires_at": _iso(now + PAIRING_TTL),
                    "attempts": 0,
                }
            )
        half = CODE_LENGTH // 2
        return f"{raw[:half]}-{raw[half:]}"

    def redeem_pairing_code(self, code: str, name: str, origin: str | None) -> tuple[int, str] | None:
        """Trade a valid code for a new token (and remember the extension's origin).

        A wrong guess counts against every live code, so a web page cannot brute-force one;
        after MAX_PAIRING_ATTEMPTS wrong guesses they all expire.
        """
        now = now_iso()
        digest = self.digest(_normalise_code(code))
        with self._write():
            live = self.db.execute(
                "SELECT code_hmac FROM pairing_codes WHERE used_at IS NULL AND expires_at > ? AND attempts < ?",
                [now, MAX_PAIRING_ATTEMPTS],
            ).fetchall()
            match = next((row[0] for row in live if hmac.compare_digest(row[0], digest)), None)
            if match is None:
                self.db.execute("UPDATE pairing_codes SET attempts = attempts + 1 WHERE used_at IS NULL")
                return None
            self.db.execute("UPDATE pairing_codes SET used_at = ? WHERE code_hmac = ?", [now, match])
            token_id, token = self._insert_token(name, origin)
            if origin:
                self.db.execute(
                    "INSERT OR REPLACE INTO paired_origins (origin, token_id, created_at) VALUES (?, ?, ?)",
                    [origin, token_id, now],
                )
        return token_id, token

    # ---- tokens --------------------------------------------------------------------------

    def new_token(self, name: str, *, origin: str | None = None) -> tuple[int, str]:
        with self._write():
            return self._insert_token(name, origin)

    def _insert_token(self, name: str, origin: str | None) -> tuple[int, str]:
        token = "kith_" + secrets.token_urlsafe(32)
        token_id = (
            self.db["tokens"]
            .insert(
                {"name": name or "token", "token_hmac": self.digest(token), "origin": origin, "created_at": now_iso()}
            )
            .last_pk
        )
        return token_id, token

    def check_token(self, token: str) -> dict | None:
        """The token's row ({id, name, revoked}) for a known bearer token, else None.

        A revoked token is still returned (with `revoked: True`) so the caller can say so.
        """
        if not token:
            return None
        digest = self.digest(token)
        row = self.db.execute(
            "SELECT id, name, token_hmac, revoked_at, last_used_at FROM tokens WHERE token_hmac = ?", [digest]
        ).fetchone()
        if row is None or not hmac.compare_digest(row[2], digest):
            return None
        if row[3] is None:
            self._touch(row[0], row[4])
        return {"id": row[0], "name": row[1], "revoked": row[3] is not None}

    def _touch(self, token_id: int, last_used_at: str | None) -> None:
        now = datetime.now(timezone.utc)
        if last_used_at and last_used_at > _iso(now - timedelta(seconds=LAST_USED_RESOLUTION_S)):
            return
        with self._write():
            self.db.execute("UPDATE tokens SET last_used_at = ? WHERE id = ?", [_iso(now), token_id])

    def revoke_token(self, token_id: int) -> bool:
        with self._write():
            cursor = self.db.execute(
                "UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", [now_iso(), token_id]
            )
            self.db.execute("DELETE FROM paired_origins WHERE token_id = ?", [token_id])
        return cursor.rowcount > 0

    def list_tokens(self) -> list[dict]:
        return list(
            self.db.query("SELECT id, name, origin, created_at, last_used_at, revoked_at FROM tokens ORDER BY id")
        )

    def origin_is_paired(self, origin: str) -> bool:
        return self.db.execute("SELECT 1 FROM paired_origins WHERE origin = ?", [origin]).fetchone() is not None

    # ---- databases from before the auth file --------------------------------------------

    def adopt_legacy(self, network_db: Database) -> int:
        """Copy tokens and paired origins out of an older network database (where they were
        stored as plain SHA-256). Pairing codes are short-lived and are not carried over."""
        tables = set(network_db.table_names())
        if "tokens" not in tables:
            return 0
        copied = 0
        with self._write():
            for row in network_db.execute(
                "SELECT id, name, token_sha256, origin, created_at, last_used_at, revoked_at FROM tokens"
            ):
                cursor = self.db.execute(
                    "INSERT OR IGNORE INTO tokens (name, token_hmac, origin, created_at, last_used_at, revoked_at)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    [row[1], self._keyed(row[2]), *row[3:]],
                )
                copied += cursor.rowcount
            if "paired_origins" in tables:
                for origin, old_id, created_at in network_db.execute(
                    "SELECT p.origin, p.token_id, p.created_at FROM paired_origins p"
                ):
                    digest_row = network_db.execute("SELECT token_sha256 FROM tokens WHERE id = ?", [old_id]).fetchone()
                    if digest_row is None:
                        continue
                    new_id = self.db.execute(
                        "SELECT id FROM tokens WHERE token_hmac = ? AND revoked_at IS NULL",
                        [self._keyed(digest_row[0])],
                    ).fetchone()
                    if new_id:
                        self.db.execute(
                            "INSERT OR IGNORE INTO paired_origins (origin, token_id, created_at) VALUES (?, ?, ?)",
                            [origin, new_id[0], created_at],
                        )
        return copied


def open_auth(db_path: str | Path) -> AuthStore:
    return AuthStore(db_path)


def is_extension_origin(origin: str) -> bool:
    return origin.startswith(EXTENSION_SCHEMES) and len(origin) > len("moz-extension://")


def main_file(db: Database) -> Path | None:
    """The file behind a connection's main database (None for an in-memory one)."""
    for _, name, file in db.execute("PRAGMA database_list").fetchall():
        if name == "main":
            return Path(file) if file else None
    return None


def move_out_of(network_db: Database) -> None:
    """Migration step: carry old auth tables into the auth file, then drop them from the
    network database so Datasette can never show them again."""
    if "tokens" in network_db.table_names():
        path = main_file(network_db)
        if path is not None:
            store = AuthStore(path)
            try:
                store.adopt_legacy(network_db)
            finally:
                store.close()
    for table in LEGACY_TABLES:
        network_db.execute(f"DROP TABLE IF EXISTS {table}")
