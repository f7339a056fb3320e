"""`kith import …`, `kith export …` and `kith demo`: moving a network in and out.

Kept apart from cli.py so the import/export code loads only when used; cli.py
registers these commands with `main.add_command`.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
from pathlib import Path

import click

from .cli_common import db_option, open_store


@contextlib.contextmanager
def _progress(length: int, label: str):
    """A progress bar on stderr when it is a terminal; a no-op callback otherwise."""
    if length and sys.stderr.isatty():
        with click.progressbar(length=length, label=label, file=sys.stderr) as bar:
            yield bar.update
    else:
        yield lambda n: None


def _finish(report, as_json: bool) -> None:
    click.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False) if as_json else report.summary())


def _run_import(load, save, as_json: bool, label: str) -> None:
    """Parse (a broken file stops here, nothing written), then save in one transaction."""
    from .importers import ImportFileError

    try:
        parsed = load()
    except ImportFileError as exc:
        raise click.ClickException(str(exc)) from exc
    with _progress(parsed.size, label) as progress:
        report = save(parsed, progress)
    _finish(report, as_json)


json_option = click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
region_option = click.option(
    "--region",
    default=None,
    metavar="CC",
    help="Country for phone numbers written without +country code (e.g. US, DE).",
)


@click.group("import")
def import_group():
    """Bring contacts in (a LinkedIn export, vCards, a Google Contacts or other CSV), and your
    own mail (mbox) and calendars (ics) as interactions with them.

    Imports resolve people exactly as captures do, so nobody is duplicated and
    running the same import again changes nothing. A file that cannot be read
    is refused with its line number, and nothing is written.
    """


@import_group.command("linkedin")
@db_option
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--me-url", default=None, help="Your own LinkedIn profile URL (decides message direction).")
@click.option("--me-name", default=None, help="Your name as LinkedIn shows it (if there is no URL).")
@json_option
def import_linkedin_command(db_path, path, me_url, me_name, as_json):
    """Import a LinkedIn data export: the .zip, its folder, or one CSV from it."""
    from .importers.linkedin import find_me, import_transaction, load_export, save_export

    db = open_store(db_path)

    def save(export, progress):
        try:
            me = find_me(db, export, me_url, me_name)
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from exc
        with import_transaction(db):
            save_export(db, export, me, progress=progress)
        return export.report.finish()

    _run_import(lambda: load_export(path), save, as_json, "Importing LinkedIn")


@import_group.command("vcard")
@db_option
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@region_option
@json_option
def import_vcard_command(db_path, path, region, as_json):
    """Import a .vcf file (vCard 2.1, 3.0 or 4.0; any number of cards)."""
    from .importers.save import save_loaded
    from .importers.vcard import load_vcards

    db = open_store(db_path)
    _run_import(
        lambda: load_vcards(path, region=region),
        lambda loaded, progress: save_loaded(db, loaded, progress=progress),
        as_json,
        "Importing vCards",
    )


@import_group.command("csv")
@db_option
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--map",
    "mappings",
    multiple=True,
    metavar="COLUMN=FIELD",
    help="Read COLUMN as FIELD (e.g. --map 'Work Email=email'); FIELD '-' ignores the column.",
)
@region_option
@json_option
def import_csv_command(db_path, path, mappings, region, as_json):
    """Import a Google Contacts CSV, or any CSV with a header row."""
    from .importers.csv_generic import FIELDS, load_csv
    from .importers.save import save_loaded

    mapping = {}
    for item in mappings:
        column, sep, target = item.partition("=")
        if not sep or not column.strip() or not target.strip():
            raise click.BadParameter(f"{item!r}: use COLUMN=FIELD", param_hint="--map")
        if target.strip() not in FIELDS and target.strip() != "-":
            raise click.BadParameter(
                f"{target.strip()!r} is not a field; use one of: {', '.join(FIELDS)}", param_hint="--map"
            )
        mapping[column.strip()] = target.strip()
    db = open_store(db_path)
    _run_import(
        lambda: load_csv(path, mapping=mapping, region=region),
        lambda loaded, progress: save_loaded(db, loaded, progress=progress),
        as_json,
        "Importing CSV",
    )


me_option = click.option(
    "--me",
    "me",
    multiple=True,
    metavar="ADDRESS",
    help="Your own email address (repeat for each); default: your Profile's, else guessed.",
)
dry_run_option = click.option("--dry-run", is_flag=True, help="Show what would be recorded; write nothing.")


def _run_interactions(run, as_json: bool, length: int, label: str) -> None:
    from .importers import ImportFileError

    try:
        with _progress(length, label) as progress:
            report = run(progress)
    except ImportFileError as exc:
        raise click.ClickException(str(exc)) from exc
    _finish(report, as_json)


@import_group.command("mbox")
@db_option
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@me_option
@click.option(
    "--add-people",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="Also add the people you wrote to at least N times (default: only people already in Kith).",
)
@dry_run_option
@json_option
def import_mbox_command(db_path, path, me, add_people, dry_run, as_json):
    """When you last emailed each person, from an mbox file, a folder of them, or a Maildir.

    Only headers, the subject and a short snippet are stored; never attachments or whole bodies.
    """
    from .importers.mbox import bytes_to_read, import_mbox
    from .importers import ImportFileError

    db = open_store(db_path)
    try:
        length = bytes_to_read(db, path, me, add_people)
    except ImportFileError as exc:
        raise click.ClickException(str(exc)) from exc
    _run_interactions(
        lambda progress: import_mbox(db, path, me=me, add_people=add_people, dry_run=dry_run, progress=progress),
        as_json,
        length,
        "Reading mail",
    )


@import_group.command("ics")
@db_option
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@me_option
@dry_run_option
@json_option
def import_ics_command(db_path, path, me, dry_run, as_json):
    """Meetings with people in Kith, from an .ics calendar file or a folder of them."""
    from .importers.ics import import_ics

    db = open_store(db_path)
    _run_interactions(
        lambda progress: import_ics(db, path, me=me, dry_run=dry_run, progress=progress),
        as_json,
        0,
        "Reading calendars",
    )


@click.group("export")
def export_group():
    """Take everything out: vCard (4.0, or 3.0 for Google), JSON (all of it), CSV."""


@contextlib.contextmanager
def _output(path: Path | None):
    """UTF-8 text with no newline translation (vCards need their CRLFs), to a file or stdout.
    A file is private (0600, whatever the umask): an export is the whole network."""
    if path is not None and str(path) != "-":
        from .privacy import open_private

        with open_private(path, "w", encoding="utf-8", newline="") as out:
            yield out
        return
    out = io.TextIOWrapper(click.open_file("-", "wb"), encoding="utf-8", newline="")
    try:
        yield out
    finally:
        out.flush()
        out.detach()


output_option = click.option(
    "-o",
    "--output",
    "output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write here instead of standard output.",
)


@export_group.command("vcard")
@db_option
@click.option(
    "--version",
    "version",
    type=click.Choice(["4.0", "3.0"]),
    default="4.0",
    show_default=True,
    help="vCard version (Google Contacts reads 3.0).",
)
@output_option
def export_vcard_command(db_path, version, output):
    """Every contact as a vCard, with identities, tags and notes."""
    _run_export("export_vcard", db_path, output, version=version)


@export_group.command("json")
@db_option
@output_option
def export_json_command(db_path, output):
    """Everything: one document per contact with identities, tags, relationships and full timeline."""
    _run_export("export_json", db_path, output)


@export_group.command("csv")
@db_option
@output_option
def export_csv_command(db_path, output):
    """One row per contact (identities and tags joined with ' ::: '); `kith import csv` reads it back."""
    _run_export("export_csv", db_path, output)


def _run_export(exporter: str, db_path, output, **options) -> None:
    from . import exporters

    with _output(output) as out:
        n = getattr(exporters, exporter)(open_store(db_path), out, **options)
    if output:
        click.echo(f"Exported {n} contacts to {output}", err=True)


@click.command("demo")
@db_option
@click.option("--contacts", default=1000, show_default=True, help="How many people.")
@click.option("--seed", default=1, show_default=True, help="Same seed (and --as-of), same network.")
@click.option("--messages", type=int, default=None, help="How many messages (default 10 per contact).")
@click.option("--notes", type=int, default=None, help="How many notes (default 3 per contact).")
@click.option(
    "--as-of", "as_of", default=None, metavar="YYYY-MM-DD", help="The day the demo's history ends (default: today)."
)
def demo_command(db_path, contacts, seed, messages, notes, as_of):
    """Generate a realistic demo network into a NEW database (default: kith-demo.db next to your real one)."""
    import time
    from .config import default_db_path
    from .demo import generate
    from .store.db import open_db

    path = db_path or default_db_path().with_name("kith-demo.db")
    if db_path is None:
        click.echo(f"Writing the demo network to {path} (your own database is untouched).", err=True)
    db = open_db(path)
    started = time.perf_counter()
    try:
        with _progress(5, "Generating") as progress:
            counts = generate(
                db, contacts=contacts, seed=seed, messages=messages, notes=notes, as_of=as_of, progress=progress
            )
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    seconds = time.perf_counter() - started
    click.echo(f"Demo network in {path} ({seconds:.1f} s): " + ", ".join(f"{n} {table}" for table, n in counts.items()))
    click.echo(f"Explore it with: kith serve --db {path}")


__all__ = ["import_group", "export_group", "demo_command"]
