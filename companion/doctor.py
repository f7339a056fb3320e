"""`kith doctor`: is the database sound and shaped as schema.py declares, and repair what is safe.

Why: Kith's database is a plain SQLite file users are invited to work on with other tools.
`sqlite-utils transform notes ...` rebuilds a table and silently drops its triggers, so the
full-text index stops following the table; an older database may miss migrations; a copy may
arrive with loose file modes. Each check here is a function on an open database that reports
what it found; each repair is one transaction.

Checks: integrity (`PRAGMA integrity_check`, or `quick_check`), migrations, the FTS tables and
their `_ai`/`_ad`/`_au` triggers (compared with what `schema.enable_search` creates today, `_au`
being the narrowed one), every index the schema creates (plain, expression, partial and unique),
the declared views, and file modes (privacy.py).
Repairs: pending migrations are applied; a missing or altered FTS table or trigger is recreated
and the index refilled from the table; missing indexes and views are created; loose modes are
tightened. An integrity failure is reported, never "repaired": restore a backup.

`kith serve` runs the quick part (`startup`: no integrity check, which reads the whole file)
before it opens the database; on a database that is fine it costs ~15 ms, plus ~50 ms once per
process to learn the expected indexes from a scratch database.
"""

from __future__ import annotations

import functools
import re
import sqlite3
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sqlite_utils import Database

from . import privacy
from .store.schema import (
    FTS,
    RECONNECT_TAG_DAYS,
    RECONNECT_TRIGGERS,
    VIEWS,
    create_reconnect_triggers,
    enable_search,
    ensure_db_shape,
    migrations,
)

TRIGGER_SUFFIXES = ("_ai", "_ad", "_au")


@dataclass
class Finding:
    """One check's outcome: `problem` is None when it passed; `repaired` says what was done."""

    check: str
    problem: str | None = None
    repaired: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None or (self.repaired is not None and self.error is None)


@dataclass
class Report:
    db_path: str
    repair: bool = True
    findings: list[Finding] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        """Nothing was wrong."""
        return all(f.problem is None for f in self.findings)

    @property
    def ok(self) -> bool:
        """Nothing is wrong now (healthy, or everything found was repaired)."""
        return all(f.ok for f in self.findings)

    def add(self, check: str, problem: str | None = None) -> Finding:
        finding = Finding(check, problem)
        self.findings.append(finding)
        return finding

    def to_dict(self) -> dict:
        return {
            "database": self.db_path,
            "healthy": self.healthy,
            "ok": self.ok,
            "repair": self.repair,
            "findings": [asdict(f) for f in self.findings],
        }

    def lines(self) -> list[str]:
        out = []
        for f in self.findings:
            if f.problem is None:
                out.append(f"ok       {f.check}")
                continue
            out.append(f"problem  {f.check}: {f.problem}")
            if f.repaired:
                out.append(f"repaired {f.check}: {f.repaired}")
            if f.error:
                out.append(f"FAILED   {f.check}: {f.error}")
            elif not f.repaired:
                out.append(f"FAILED   {f.check}: not repaired" + ("" if self.repair else " (--no-repair)"))
        return out

    def summary(self) -> str:
        if self.healthy:
            return "Healthy."
        if self.ok:
            return "Repaired; healthy now."
        if not self.repair:
            return "Problems found; nothing was changed (--no-repair)."
        return "Something is wrong that kith doctor could not repair (see above)."


# ---- checks (pure: they read, never write) ------------------------------------------------------


def integrity_problems(db: Database, *, quick: bool = False) -> list[str]:
    """The rows of `PRAGMA integrity_check` (or `quick_check`) that are not "ok"."""
    pragma = "quick_check" if quick else "integrity_check"
    rows = [row[0] for row in db.execute(f"PRAGMA {pragma}").fetchall()]
    return [] if rows == ["ok"] else rows


def is_kith_database(db: Database) -> bool:
    names = set(db.table_names())
    if "contacts" not in names or "_sqlite_migrations" not in names:
        return False
    return (
        db.execute("SELECT count(*) FROM _sqlite_migrations WHERE migration_set = ?", [migrations.name]).fetchone()[0]
        > 0
    )


def pending_migrations(db: Database) -> list[str]:
    return [m.name for m in migrations.pending(db)]


def _normalise_sql(sql: str | None) -> str:
    """SQL compared by meaning, not by layout: no quoting, case or whitespace differences."""
    text = re.sub(r'["`\[\]]', "", (sql or "").lower())
    text = re.sub(r"\s+", " ", text)
    return re.sub(r"\s*([(),;=])\s*", r"\1", text).strip()


@functools.cache
def _shaped_schema() -> dict[str, tuple[str, str, str]]:
    """Every object a database brought to shape has today: name -> (type, table, CREATE statement).
    Read from a scratch database, once per process, because the migrations create indexes in many
    forms (column lists, expressions, partial and unique) and `enable_search` the FTS tables and
    triggers: a list kept here would drift from them."""
    scratch = Database(memory=True)
    ensure_db_shape(scratch)
    rows = scratch.execute("SELECT name, type, tbl_name, sql FROM sqlite_master WHERE sql IS NOT NULL")
    found = {name: (kind, table, sql) for name, kind, table, sql in rows}
    scratch.close()
    return found


def expected_fts_sql(table: str) -> dict[str, str]:
    """The FTS table and triggers `schema.enable_search` creates for `table` today, by name."""
    names = [f"{table}_fts"] + [table + s for s in TRIGGER_SUFFIXES]
    return {name: _normalise_sql(_shaped_schema()[name][2]) for name in names}


def fts_problems(db: Database, table: str, expected: dict[str, str] | None = None) -> list[str]:
    """What differs from the declared FTS setup of `table`: missing or altered objects."""
    expected = expected or expected_fts_sql(table)
    actual = dict(
        db.execute(
            f"SELECT name, sql FROM sqlite_master WHERE name IN ({','.join('?' * len(expected))})", list(expected)
        ).fetchall()
    )
    found = []
    for name, sql in expected.items():
        if name not in actual:
            found.append(f"{name} missing")
        elif _normalise_sql(actual[name]) != sql:
            found.append(f"{name} altered")
    return found


def missing_indexes(db: Database) -> list[tuple[str, str, str]]:
    """(name, table, CREATE statement) of each expected index the database lacks, on tables it has."""
    have = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    tables = set(db.table_names())
    return [
        (name, table, sql)
        for name, (kind, table, sql) in _shaped_schema().items()
        if kind == "index" and name not in have and table in tables
    ]


def missing_views(db: Database) -> list[str]:
    return [name for name in VIEWS if name not in db.view_names()]


def fts_index_problem(db: Database, table: str) -> str | None:
    """FTS5's own check of `<table>_fts` against its content table (rank = 1 compares the index
    with the table's rows; it reads both whole, so only the full doctor runs it)."""
    fts = f"{table}_fts"
    try:
        db.execute(f'INSERT INTO "{fts}" ("{fts}", rank) VALUES (\'integrity-check\', 1)')
    except sqlite3.DatabaseError as exc:
        return f"{fts} index does not match: {exc}"
    return None


# ---- repairs -------------------------------------------------------------------------------------


def repair_fts(db: Database, table: str) -> int:
    """Recreate `table`'s FTS table and triggers as declared and refill the index; returns rows.

    The triggers go first, so `enable_search` (sqlite-utils' enable_fts, replace=True) sees the
    setup incomplete and recreates the FTS table, filling it from the table (a full rebuild);
    then it narrows `_au`. One transaction: a failure leaves the database as it was.
    """
    with db.atomic():
        for suffix in TRIGGER_SUFFIXES:
            db.execute(f'DROP TRIGGER IF EXISTS "{table}{suffix}"')
        enable_search(db, table)
    return db.execute(f'SELECT count(*) FROM "{table}_fts"').fetchone()[0]


# ---- the whole run -----------------------------------------------------------------------------


def run(
    db_path: str | Path,
    *,
    integrity: bool = True,
    quick: bool = False,
    repair: bool = True,
    fts_index: bool | None = None,
) -> Report:
    """Check (and, with `repair`, fix) the database at `db_path`. Never creates a database.

    `integrity=False` skips the integrity check (startup); `quick` uses `quick_check`.
    `fts_index` runs FTS5's integrity-check on each index (default: with a full integrity check).
    """
    from .store.db import connect, sqlite_uri

    db_path = Path(db_path)
    report = Report(str(db_path), repair)
    if not db_path.is_file():
        report.add("database", f"there is no database at {db_path}")
        return report
    if fts_index is None:
        fts_index = integrity and not quick
    # Modes first: a -wal or -shm that SQLite creates below copies the database file's mode.
    _check_modes(report, db_path, repair)
    # Read-only first: a foreign or broken file is reported without writing a byte to it.
    damaged = False
    try:
        ro = Database(sqlite3.connect(sqlite_uri(db_path, mode="ro"), uri=True, timeout=30))
        try:
            if integrity:
                problems = integrity_problems(ro, quick=quick)
                report.add("integrity" + (" (quick)" if quick else ""), "; ".join(problems[:10]) if problems else None)
                damaged = bool(problems)
            kith = is_kith_database(ro)
        finally:
            ro.close()
    except sqlite3.DatabaseError as exc:
        report.add("database", f"cannot read {db_path} as SQLite: {exc}")
        return report
    if not kith:
        report.add("database", "not a Kith database (no contacts table and Kith migrations)")
        return report
    # Writing to a damaged file can make it worse: report the rest, repair nothing but modes.
    repair_db = repair and not damaged

    db = connect(db_path)
    try:
        _check_migrations(report, db, repair_db)
        _check_fts(report, db, repair_db, fts_index=fts_index)
        _check_indexes_and_views(report, db, repair_db)
        _check_reconnect(report, db, repair_db)
    finally:
        db.close()
    return report


def _attempt(finding: Finding, repair: bool, fn, describe) -> None:
    if not repair:
        return
    try:
        result = fn()
    except Exception as exc:  # noqa: BLE001 - reported to the user, the run goes on
        finding.error = f"{type(exc).__name__}: {exc}"
    else:
        finding.repaired = describe(result)


def _check_migrations(report: Report, db: Database, repair: bool) -> None:
    pending = pending_migrations(db)
    finding = report.add("migrations", f"{len(pending)} pending: {', '.join(pending)}" if pending else None)
    if pending:
        _attempt(finding, repair, lambda: ensure_db_shape(db), lambda applied: "applied " + ", ".join(applied))


def _check_fts(report: Report, db: Database, repair: bool, *, fts_index: bool) -> None:
    for table in FTS:
        if table not in db.table_names():
            report.add(f"search {table}", f"table {table} is missing")
            continue
        problems = fts_problems(db, table)
        if not problems and fts_index:
            problem = fts_index_problem(db, table)
            problems = [problem] if problem else []
        finding = report.add(f"search {table}", ", ".join(problems) if problems else None)
        if problems:
            _attempt(
                finding,
                repair,
                lambda t=table: repair_fts(db, t),
                lambda rows, t=table: f"recreated {t}_fts and its triggers as declared; reindexed {rows} rows",
            )


def reconnect_trigger_problems(db: Database) -> list[str]:
    """The triggers that keep `contacts.tag_cadence_days` current: missing or altered ones
    (an outside `sqlite-utils transform` of `tags` or `contact_tags` drops them silently)."""
    if "tag_cadence_days" not in {c.name for c in db["contacts"].columns}:
        return []  # before migration 0007: nothing to keep
    actual = dict(db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall())
    found = []
    for name, body in RECONNECT_TRIGGERS.items():
        if name not in actual:
            found.append(f"{name} missing")
        elif _normalise_sql(actual[name]) != _normalise_sql(f'CREATE TRIGGER "{name}" {body}'):
            found.append(f"{name} altered")
    return found


def repair_reconnect(db: Database) -> int:
    """Recreate the triggers, then recompute every contact's tag cadence (it may have gone stale
    while they were missing)."""
    with db.atomic():
        create_reconnect_triggers(db)
        cursor = db.execute(
            f"UPDATE contacts SET tag_cadence_days = {RECONNECT_TAG_DAYS}"
            f" WHERE tag_cadence_days IS NOT {RECONNECT_TAG_DAYS}"
        )
    return cursor.rowcount


def _check_reconnect(report: Report, db: Database, repair: bool) -> None:
    problems = reconnect_trigger_problems(db)
    finding = report.add("reconnect cadences", ", ".join(problems) or None)
    if problems:
        _attempt(
            finding,
            repair,
            lambda: repair_reconnect(db),
            lambda rows: f"recreated the cadence triggers; corrected {rows} contact(s)",
        )


def _check_indexes_and_views(report: Report, db: Database, repair: bool) -> None:
    indexes = missing_indexes(db)
    finding = report.add("indexes", ", ".join(f"{name} on {table} missing" for name, table, _ in indexes) or None)

    def create_indexes():
        # A unique index refuses to come back over duplicate rows: the error is reported, nothing is changed.
        with db.atomic():
            for _, _, sql in indexes:
                db.execute(sql)
        return len(indexes)

    if indexes:
        _attempt(finding, repair, create_indexes, lambda n: f"created {n} index(es)")
    views = missing_views(db)
    finding = report.add("views", ", ".join(f"{v} missing" for v in views) or None)

    def create_views():
        with db.atomic():
            for name in views:
                db.create_view(name, VIEWS[name], replace=True)
        return views

    if views:
        _attempt(finding, repair, create_views, lambda names: "created " + ", ".join(names))


def _check_modes(report: Report, db_path: Path, repair: bool) -> None:
    loose = privacy.loose(db_path)
    finding = report.add("file modes", "; ".join(f"{p} is {m:04o}" for p, m, _ in loose) or None)
    if loose and repair:
        lines = privacy.tighten(db_path)
        failed = [line for line in lines if line.startswith("could not")]
        if failed:
            finding.error = "; ".join(failed)
        finding.repaired = "; ".join(line for line in lines if not line.startswith("could not")) or None


def startup(db_path: str | Path) -> tuple[list[str], list[str]]:
    """The quick part, for `kith serve`: (lines about database repairs or problems, lines
    about tightened modes). Empty lists when all is well; nothing for a database not there yet."""
    db_path = Path(db_path)
    if not db_path.is_file():
        return [], privacy.tighten(db_path)  # the default data directory may be there already
    report = run(db_path, integrity=False, fts_index=False)
    db_lines, mode_lines = [], []
    for f in report.findings:
        if f.problem is None or f.check == "database":
            continue
        if f.check == "file modes":
            mode_lines.extend((f.repaired or "").split("; ") if f.repaired else [])
            if f.error:
                mode_lines.append(f.error)
            continue
        if f.repaired:
            db_lines.append(f"{f.check}: {f.problem} -> {f.repaired}")
        else:
            db_lines.append(
                f"{f.check}: {f.problem} (not repaired{': ' + f.error if f.error else ''}; run `kith doctor`)"
            )
    return db_lines, [line for line in mode_lines if line]
