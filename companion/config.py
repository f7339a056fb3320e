"""Where things live by default: the database in the user's data directory, the ports."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

DEFAULT_PORT = 5151
DEFAULT_DATASETTE_PORT = 8001


def default_data_dir() -> Path:
    """Kith's own directory in the platform's user data directory (whatever `KITH_DB` says):
    the one directory Kith always keeps 0700 (see privacy.py)."""
    return Path(platformdirs.user_data_dir("kith", appauthor=False))


def default_db_path() -> Path:
    """`KITH_DB` if set, else `kith.db` in the platform's user data directory."""
    override = os.environ.get("KITH_DB")
    if override:
        return Path(override).expanduser()
    return default_data_dir() / "kith.db"


def demo_db_path() -> Path:
    """The demo database sits next to (never inside) the real one."""
    return default_db_path().with_name("kith-demo.db")
