"""Consistent online copies of a live database (SQLite's backup API), and restoring them.

Backups hold the whole network, so they are written 0600 (the `.partial` too), whatever the
umask. The auth file and its key are not copied (see store/auth.py).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from .privacy import create_private_file
from .store.db import sqlite_uri


class BackupError(Exception):
    """A backup that cannot be taken or restored; the message says why, for the user."""


def _copy(src: Path, dest: Path) -> Path:
    """Copy the database at `src` into `dest` through a private `.partial` beside it."""
    tmp = dest.with_name(dest.name + ".partial")
    tmp.unlink(missing_ok=True)
    Path(str(tmp) + "-journal").unlink(missing_ok=True)
    create_private_file(tmp)  # the copy, and its -journal, are 0600 from the first byte
    source = sqlite3.connect(sqlite_uri(src, mode="ro"), uri=True, timeout=30)
    target = sqlite3.connect(str(tmp))
    try:
        source.backup(target)
        target.execute("PRAGMA journal_mode = DELETE")
        ok = target.execute("PRAGMA integrity_check").fetchone()[0]
        if ok != "ok":
            raise BackupError(f"the copy of {src} failed its integrity check: {ok}")
    except BaseException:
        target.close()
        tmp.unlink(missing_ok=True)
        raise
    finally:
        target.close()
        source.close()
    return tmp


def backup(src: str | Path, dest: str | Path) -> Path:
    """Copy `src` to `dest` while writers carry on; the copy is one consistent snapshot.

    The copy is taken in one step: in WAL mode that holds only a read snapshot,
    so writers are never blocked, and a stepwise copy would restart on every
    write and might never finish under load. Writes to a temporary file first and renames it,
    so a crash mid-backup never leaves a half-written file under the destination name.
    """
    src, dest = Path(src), Path(dest)
    if not src.is_file():
        raise BackupError(f"there is no database at {src}")
    if dest.is_dir():
        dest = dest / src.name
    if not dest.parent.is_dir():
        raise BackupError(f"there is no directory {dest.parent} to write the backup into")
    tmp = _copy(src, dest)
    os.replace(tmp, dest)
    return dest


def check_backup(path: str | Path) -> None:
    """Refuse anything but a sound Kith database: it opens read-only, passes `integrity_check`
    and holds Kith's tables (contacts, and Kith's migrations in `_sqlite_migrations`)."""
    path = Path(path)
    if not path.is_file() or path.stat().st_size == 0:
        raise BackupError(f"{path} is empty or not a file; it is not a Kith backup")
    try:
        conn = sqlite3.connect(sqlite_uri(path, mode="ro"), uri=True, timeout=30)
        try:
            problems = [row[0] for row in conn.execute("PRAGMA integrity_check")]
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            kith_migrations = 0
            if "_sqlite_migrations" in tables:
                kith_migrations = conn.execute(
                    "SELECT count(*) FROM _sqlite_migrations WHERE migration_set = 'kith'"
                ).fetchone()[0]
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a readable SQLite database ({exc}); it is not a Kith backup") from exc
    if problems != ["ok"]:
        raise BackupError(f"{path} fails its integrity check: {'; '.join(problems[:5])}")
    if "contacts" not in tables or not kith_migrations:
        raise BackupError(
            f"{path} is a SQLite database, but not a Kith one (no contacts table"
            " and Kith migrations); refusing to restore it"
        )


def restore(backup_path: str | Path, dest: str | Path) -> Path:
    """Put a backup in place of `dest` (the server must be stopped): the old file is kept as .before-restore.

    Nothing is touched until the backup has passed `check_backup` and been copied next to
    `dest`; then the old database (with its -wal, which may hold committed transactions) moves
    to `.before-restore` and the copy takes its name.
    """
    backup_path, dest = Path(backup_path), Path(dest)
    check_backup(backup_path)
    if dest.exists() and backup_path.resolve() == dest.resolve():
        raise BackupError(f"{backup_path} is the database itself")
    tmp = _copy(backup_path, dest)
    before = dest.with_name(dest.name + ".before-restore")
    for suffix in ("-wal", "-shm", "-journal"):  # a stale -wal would be replayed into the old copy
        Path(str(before) + suffix).unlink(missing_ok=True)
    if dest.exists():
        os.replace(dest, before)
        for suffix in ("-wal", "-journal"):
            if Path(str(dest) + suffix).exists():
                os.replace(str(dest) + suffix, str(before) + suffix)
    for suffix in ("-wal", "-shm", "-journal"):
        Path(str(dest) + suffix).unlink(missing_ok=True)
    os.replace(tmp, dest)
    return dest
