"""Consistent online copies of a live database (SQLite's backup API), and restoring them."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path


def backup(src: str | Path, dest: str | Path) -> Path:
    """Copy `src` to `dest` while writers carry on; the copy is one consistent snapshot.

    The copy is taken in one step: in WAL mode that holds only a read snapshot,
    so writers are never blocked, and a stepwise copy would restart on every
    write and might never finish under load. Writes to a temporary file first and renames it, so a crash mid-backup never
    leaves a half-written file under the destination name.
    """
    src, dest = Path(src), Path(dest)
    if dest.is_dir():
        dest = dest / src.name
    tmp = dest.with_name(dest.name + ".partial")
    tmp.unlink(missing_ok=True)
    source = sqlite3.connect(f"file:{src}?mode=ro", uri=True, timeout=30)
    target = sqlite3.connect(str(tmp))
    try:
        source.backup(target)
        target.execute("PRAGMA journal_mode = DELETE")
        ok = target.execute("PRAGMA integrity_check").fetchone()[0]
        if ok != "ok":
            raise RuntimeError(f"backup failed its integrity check: {ok}")
    finally:
        target.close()
        source.close()
    os.replace(tmp, dest)
    return dest


def restore(backup_path: str | Path, dest: str | Path) -> Path:
    """Put a backup in place of `dest` (the server must be stopped): the old file is kept as .before-restore."""
    backup_path, dest = Path(backup_path), Path(dest)
    check = sqlite3.connect(f"file:{backup_path}?mode=ro", uri=True)
    try:
        ok = check.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        check.close()
    if ok != "ok":
        raise RuntimeError(f"{backup_path} fails its integrity check: {ok}")
    if dest.exists():
        os.replace(dest, dest.with_name(dest.name + ".before-restore"))
    for suffix in ("-wal", "-shm"):
        Path(str(dest) + suffix).unlink(missing_ok=True)
    backup(backup_path, dest)
    return dest
