"""What every `kith` subcommand shares: the `--db` option and opening the store."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import click

from .config import default_db_path

db_option = click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The Kith database (default: $KITH_DB, else kith.db in your user data directory).",
)


def resolve_db(db_path: Path | None) -> Path:
    return db_path or default_db_path()


def open_store(db_path: Path | None):
    from .store.db import open_db

    return open_db(resolve_db(db_path))


@contextmanager
def open_auth_store(db_path: Path | None):
    """The auth file beside the database (opening the database first, so an older one's
    tokens have moved into it)."""
    from .store.auth import AuthStore

    path = resolve_db(db_path)
    open_store(path).close()
    store = AuthStore(path)
    try:
        yield store
    finally:
        store.close()
