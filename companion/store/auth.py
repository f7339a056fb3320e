"""Pairing codes and bearer tokens, stored only as hashes.

Codes and tokens live in the database (not in server memory), so `kith pair`
and `kith token new` work from another process beside a running server.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta, timezone

from sqlite_utils import Database

from ..timeutil import now_iso

PAIRING_TTL = timedelta(minutes=10)
MAX_PAIRING_ATTEMPTS = 5
# No 0/O, 1/I/L: the code is read off a terminal and typed by hand.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
EXTENSION_SCHEMES = ("chrome-extension://", "moz-extension://", "safari-web-extension://")


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _normalise_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch in CODE_ALPHABET)


def new_pairing_code(db: Database, *, now: datetime | None = None) -> str:
    """A short one-time code, valid for ten minutes and a few attempts."""
    now = now or datetime.now(timezone.utc)
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(6))
    with db.atomic():
        db["pairing_codes"].insert({
            "code_sha256": _sha256(raw), "created_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "expires_at": (now + PAIRING_TTL).strftime("%Y-%m-%dT%H:%M:%SZ"), "attempts": 0})
    return f"{raw[:3]}-{raw[3:]}"


def redeem_pairing_code(db: Database, code: str, name: str, origin: str | None) -> tuple[int, str] | None:
    """Trade a valid code for a new token (and remember the extension's origin).

    A wrong guess counts against every live code, so a web page cannot
    brute-force one; after MAX_PAIRING_ATTEMPTS wrong guesses they all expire.
    """
    now = now_iso()
    digest = _sha256(_normalise_code(code or ""))
    with db.atomic():
        live = db.execute(
            "SELECT code_sha256 FROM pairing_codes WHERE used_at IS NULL AND expires_at > ? AND attempts < ?",
            [now, MAX_PAIRING_ATTEMPTS]).fetchall()
        match = next((row[0] for row in live if hmac.compare_digest(row[0], digest)), None)
        if match is None:
            db.execute("UPDATE pairing_codes SET attempts = attempts + 1 WHERE used_at IS NULL")
            return None
        db.execute("UPDATE pairing_codes SET used_at = ? WHERE code_sha256 = ?", [now, match])
        token_id, token = new_token(db, name, origin=origin)
        if origin:
            db.execute("INSERT OR REPLACE INTO paired_origins (origin, token_id, created_at) VALUES (?, ?, ?)",
                       [origin, token_id, now])
    return token_id, token


def new_token(db: Database, name: str, *, origin: str | None = None) -> tuple[int, str]:
    token = "kith_" + secrets.token_urlsafe(32)
    token_id = db["tokens"].insert({
        "name": name or "token", "token_sha256": _sha256(token), "origin": origin,
        "created_at": now_iso()}).last_pk
    return token_id, token


def check_token(db: Database, token: str) -> dict | None:
    """The live token row for this bearer token, or None (unknown or revoked)."""
    if not token:
        return None
    digest = _sha256(token)
    row = db.execute("SELECT id, name, token_sha256, revoked_at FROM tokens WHERE token_sha256 = ?",
                     [digest]).fetchone()
    if row is None or not hmac.compare_digest(row[2], digest):
        return None
    return {"id": row[0], "name": row[1], "revoked": row[3] is not None}


def revoke_token(db: Database, token_id: int) -> bool:
    with db.atomic():
        cursor = db.execute("UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                            [now_iso(), token_id])
        db.execute("DELETE FROM paired_origins WHERE token_id = ?", [token_id])
    return cursor.rowcount > 0


def list_tokens(db: Database) -> list[dict]:
    return list(db.query("SELECT id, name, origin, created_at, last_used_at, revoked_at FROM tokens ORDER BY id"))


def is_extension_origin(origin: str) -> bool:
    return origin.startswith(EXTENSION_SCHEMES) and len(origin) > len("moz-extension://")


def origin_is_paired(db: Database, origin: str) -> bool:
    return db.execute("SELECT 1 FROM paired_origins WHERE origin = ?", [origin]).fetchone() is not None
