"""Kith's files are readable by their owner only: 0600 files in a 0700 directory.

Why: the database is a personal network (names, notes, private messages) and the auth files
beside it are the keys to the companion API. With the usual umask (022) every file Kith made
would be world-readable on a shared machine, so modes are set explicitly, never left to the umask.

Why create files before SQLite opens them: SQLite gives a database's `-wal`, `-shm` and
`-journal` files the mode of the database file itself, so a database created 0600 keeps every
companion file 0600 too.

Which directory is tightened: the default data directory (`config.default_data_dir()`), and a
directory Kith created for a database (recorded in that database's `settings` table). A `--db`
file in a directory of the user's own ($HOME, /tmp, a project folder) leaves that directory
alone: its mode is the user's business, and chmod-ing $HOME or /tmp would break other things.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path
from typing import IO

FILE_MODE = 0o600
DIR_MODE = 0o700
# The settings row naming the directory Kith created for this database (see open_db).
CREATED_DIR_SETTING = "kith_created_data_dir"


def create_private_file(path: str | Path) -> bool:
    """Create `path` empty with mode 0600 unless it exists; True when this call created it.

    O_EXCL so two processes racing to create it never truncate each other's file (and a
    symlink planted at the path is refused); fchmod because the umask can only take bits away.
    An existing file is left as it is (see `tighten`).
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), FILE_MODE)
    except FileExistsError:
        return False
    try:
        os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)
    return True


def private_dir(path: str | Path, *, create: bool = True) -> bool:
    """Make `path` a 0700 directory: create it (missing parents get the default mode) when
    `create`, or take group/other bits off an existing one. True when this call created it."""
    path = Path(path)
    created = False
    if create and not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.mkdir(path, DIR_MODE)
            created = True
        except FileExistsError:
            pass
    if path.is_dir():
        _narrow(path, DIR_MODE)
    return created


def open_private(path: str | Path, mode: str = "w", **kwargs) -> IO:
    """`open(path, mode)` for writing a file only its owner can read (exports, reports).

    A new file is created 0600; an existing regular file is narrowed to 0600 before anything is
    written to it. Devices and pipes (`-o /dev/stdout`) are written as they are.
    """
    flags = os.O_WRONLY | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)
    flags |= os.O_APPEND if "a" in mode else os.O_TRUNC
    fd = os.open(path, flags, FILE_MODE)
    try:
        if stat.S_ISREG(os.fstat(fd).st_mode):
            os.fchmod(fd, stat.S_IMODE(os.fstat(fd).st_mode) & FILE_MODE)
        return os.fdopen(fd, mode, **kwargs)
    except BaseException:
        os.close(fd)
        raise


def kith_files(db_path: str | Path) -> list[Path]:
    """Every file Kith keeps for this database, existing or not: the one place that lists them.

    The database and its SQLite companions, the auth file (`<db>.auth`, its own SQLite
    database) and its key (`<db>.key`), and the copy `kith restore` keeps (`.before-restore`).
    """
    db = str(db_path)
    names = [
        db,
        db + "-wal",
        db + "-shm",
        db + "-journal",
        db + ".auth",
        db + ".auth-wal",
        db + ".auth-shm",
        db + ".auth-journal",
        db + ".key",
        db + ".before-restore",
        db + ".before-restore-wal",
    ]
    return [Path(name) for name in names]


def kith_data_dir(db_path: str | Path) -> Path | None:
    """The database's directory when Kith may tighten it, else None (see the module docstring)."""
    from .config import default_data_dir

    directory = Path(db_path).absolute().parent
    try:
        if directory.resolve() == default_data_dir().resolve():
            return directory
    except OSError:
        return None
    return directory if _recorded_created_dir(db_path) == str(directory.resolve()) else None


def remember_created_dir(db, directory: str | Path) -> None:
    """Record in the database (a sqlite-utils Database) that Kith created its directory."""
    db.execute(
        "INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)",
        [CREATED_DIR_SETTING, str(Path(directory).resolve())],
    )
    db.execute("PRAGMA wal_checkpoint(PASSIVE)")  # into the main file, where the check reads it


def _recorded_created_dir(db_path: str | Path) -> str | None:
    """The recorded directory, read from the main file only (`immutable=1`: no -wal or -shm is
    created, so a check never leaves files behind with a loose database's mode). open_db
    checkpoints the row into the main file; a failed or torn read means "not recorded", and the
    directory is left as it is."""
    from .store.db import sqlite_uri

    if not Path(db_path).is_file():
        return None
    try:
        conn = sqlite3.connect(sqlite_uri(db_path, immutable="1"), uri=True, timeout=5)
    except sqlite3.Error:
        return None
    try:
        row = conn.execute("SELECT value FROM settings WHERE key = ?", [CREATED_DIR_SETTING]).fetchone()
    except sqlite3.Error:
        return None
    finally:
        conn.close()
    return row[0] if row else None


def _loose_files(db_path: str | Path) -> list[tuple[Path, int, int]]:
    found = []
    for path in kith_files(db_path):
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except OSError:
            continue
        if mode & ~FILE_MODE:
            found.append((path, mode, mode & FILE_MODE))
    return found


def _loose_dir(db_path: str | Path) -> list[tuple[Path, int, int]]:
    directory = kith_data_dir(db_path)
    try:
        mode = stat.S_IMODE(directory.stat().st_mode) if directory is not None else None
    except OSError:  # not created yet
        mode = None
    if mode is None:
        return []
    return [(directory, mode, mode & DIR_MODE)] if mode & ~DIR_MODE else []


def loose(db_path: str | Path) -> list[tuple[Path, int, int]]:
    """Kith's existing files and directory that others can read: (path, mode, wanted mode)."""
    return _loose_files(db_path) + _loose_dir(db_path)


def tighten(db_path: str | Path) -> list[str]:
    """chmod every looser Kith file for this database to 0600 and its data directory (when Kith's,
    see `kith_data_dir`) to 0700. Returns one human-readable line per change (or failure)."""
    lines = []
    for found in (_loose_files, _loose_dir):
        for path, mode, wanted in found(db_path):
            try:
                os.chmod(path, wanted)
            except OSError as exc:
                lines.append(f"could not tighten {path} ({mode:04o}): {exc.strerror or exc}")
            else:
                lines.append(f"{path} {mode:04o} -> {wanted:04o}")
    return lines


def _narrow(path: Path, allowed: int) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & ~allowed:
        os.chmod(path, mode & allowed)


def describe(lines: list[str]) -> str:
    """The one line `kith serve` prints about what `tighten` did."""
    return "Tightened file modes (owner only): " + "; ".join(lines)
