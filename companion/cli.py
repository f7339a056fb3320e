"""The `kith` command: serve, pair, tokens, extract, backup/restore, reextract, merge, import/export, demo."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from . import __version__
from .cli_common import db_option, open_auth_store, open_store, resolve_db
from .config import DEFAULT_DATASETTE_PORT, DEFAULT_PORT


@click.group()
@click.version_option(__version__, prog_name="kith")
def main():
    """Kith: your personal network, local-first."""


@main.command()
@db_option
@click.option("--port", default=DEFAULT_PORT, show_default=True, help="Companion API port (127.0.0.1 only).")
@click.option(
    "--datasette-port",
    default=DEFAULT_DATASETTE_PORT,
    show_default=True,
    help="Datasette port (127.0.0.1 only); 0 to run the companion alone.",
)
def serve(db_path, port, datasette_port):
    """Run the companion API and Datasette on 127.0.0.1."""
    import asyncio  # here, not at the top: every other command starts without it

    from .serve import serve as run

    asyncio.run(run(resolve_db(db_path), port, datasette_port or None))


@main.command()
@db_option
def pair(db_path):
    """Print a one-time code to pair the browser extension (valid 10 minutes)."""
    with open_auth_store(db_path) as store:
        code = store.new_pairing_code()
    click.echo("Enter this code in the Kith extension's options page (valid for 10 minutes):")
    click.echo(code)


@main.group()
def token():
    """Bearer tokens for scripts."""


@token.command("new")
@db_option
@click.option("--name", required=True, help="What the token is for.")
def token_new(db_path, name):
    """Print a new token (shown once; only its hash is stored)."""
    with open_auth_store(db_path) as store:
        token_id, value = store.new_token(name)
    click.echo(f"Token {token_id} ({name}). Send it as 'Authorization: Bearer <token>'. It is shown only once:")
    click.echo(value)


@token.command("list")
@db_option
def token_list(db_path):
    """List tokens (never their values)."""
    with open_auth_store(db_path) as store:
        rows = store.list_tokens()
    for row in rows:
        state = "revoked " + row["revoked_at"] if row["revoked_at"] else "active"
        used = "last used " + row["last_used_at"] if row["last_used_at"] else "never used"
        click.echo(f"{row['id']:>4}  {row['name']:<30} {row['origin'] or '-':<45} {state:<30} {used}")


@token.command("revoke")
@db_option
@click.argument("token_id", type=int)
def token_revoke(db_path, token_id):
    """Revoke a token by id; requests carrying it get 401 from then on."""
    with open_auth_store(db_path) as store:
        revoked = store.revoke_token(token_id)
    if not revoked:
        raise click.ClickException(f"no active token with id {token_id}")
    click.echo(f"Token {token_id} revoked.")


@main.command()
@click.argument("html_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--url", required=True, help="The page's URL (extractors dispatch on it).")
@click.option("--title", default=None)
def extract(html_file, url, title):
    """Print what Kith extracts from a saved HTML page, as JSON. Touches no database."""
    from .extract import extract_page

    html = html_file.read_bytes().decode("utf-8", "replace")
    click.echo(json.dumps(extract_page(html, url, title), indent=2, ensure_ascii=False))


@main.command("backup")
@db_option
@click.argument("dest", type=click.Path(path_type=Path))
def backup_command(db_path, dest):
    """Make a consistent copy of the database (0600), safe while the server writes."""
    import sqlite3
    from .backup import BackupError, backup

    try:
        out = backup(resolve_db(db_path), dest)
    except (BackupError, sqlite3.Error, OSError) as exc:
        raise click.ClickException(f"backup failed: {exc}") from exc
    click.echo(f"Backed up to {out}")


@main.command("restore")
@db_option
@click.argument("backup_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def restore_command(db_path, backup_file):
    """Replace the database with a backup (stop `kith serve` first). The old file is kept.

    The backup is checked first (integrity, Kith's tables); a file that fails is refused and
    the current database is left untouched.
    """
    import sqlite3
    from .backup import BackupError, restore
    from .privacy import private_dir

    dest = resolve_db(db_path)
    had_database = dest.exists()
    try:
        if not dest.parent.exists():
            private_dir(dest.parent)
        out = restore(backup_file, dest)
    except (BackupError, sqlite3.Error, OSError) as exc:
        raise click.ClickException(f"not restored: {exc}") from exc
    kept = f" (the previous file is {out}.before-restore)" if had_database else ""
    click.echo(f"Restored {backup_file} to {out}{kept}")
    from .store.auth import auth_path

    if auth_path(out).exists():
        click.echo(
            f"Paired browsers and tokens are unchanged: they live in {auth_path(out).name}, "
            "which backups never include."
        )
    else:
        click.echo(
            "Backups hold no tokens, and this machine has none for this database: "
            "run `kith pair` to pair the extension again."
        )


@main.command("doctor")
@db_option
@click.option("--quick", is_flag=True, help="PRAGMA quick_check instead of the full integrity_check (faster).")
@click.option("--no-repair", "no_repair", is_flag=True, help="Only report; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def doctor_command(db_path, quick, no_repair, as_json):
    """Check the database (integrity, migrations, search indexes and their triggers, file modes)
    and repair what is safe to repair. Exit code 0: healthy or repaired; 1: something is wrong."""
    from .doctor import run

    report = run(resolve_db(db_path), quick=quick, repair=not no_repair)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        for line in report.lines():
            click.echo(line)
        click.echo(report.summary())
    sys.exit(0 if report.ok else 1)


@main.command()
@db_option
def reextract(db_path):
    """Re-run the current extractors over every stored capture."""
    from .reextract import reextract_all

    db = open_store(db_path)
    total = db.execute("SELECT count(*) FROM captures WHERE html IS NOT NULL").fetchone()[0]
    with click.progressbar(length=total, label="Re-extracting", file=sys.stderr) as bar:
        counts = reextract_all(db, progress=bar.update)
    click.echo(json.dumps(counts))


@main.command()
@db_option
@click.argument("keep_id", type=int)
@click.argument("drop_id", type=int)
def merge(db_path, keep_id, drop_id):
    """Merge contact DROP_ID into KEEP_ID, moving everything attached to it."""
    from .store.contacts import merge_contacts

    db = open_store(db_path)
    for cid in (keep_id, drop_id):
        if not db.execute("SELECT 1 FROM contacts WHERE id = ?", [cid]).fetchone():
            raise click.ClickException(f"no contact with id {cid}")
    moved = merge_contacts(db, keep_id, drop_id)
    click.echo(f"Merged {drop_id} into {keep_id}: " + ", ".join(f"{n} {t}" for t, n in moved.items() if n))


from .transfer_cli import demo_command, export_group, import_group  # noqa: E402

main.add_command(import_group)
main.add_command(export_group)
main.add_command(demo_command)


if __name__ == "__main__":
    main()
