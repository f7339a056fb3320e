"""Writing imported interactions so that importing the same export twice adds nothing.

Each interaction carries an `external_id` (unique in the table, migration 0006) built from what the
export says: for mail the thread, the day and the other person's address (a thread counts once per
day per person, however many replies); for a calendar the event's UID, RECURRENCE-ID and the
attendee. Rows are written in batches as the import streams, so memory does not grow with the file:
a key already stored is left alone, except that for mail an earlier message of the same thread and
day moves the interaction to it (mbox files are not always in date order). Contacts' last
interaction moves forward only, as everywhere in Kith.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlite_utils import Database

from ..people import import_transaction
from ..report import ImportReport
from ..timeline import touch_many

BATCH = 2000
DRY_RUN_LISTED = 20


@dataclass
class InteractionReport(ImportReport):
    """An import report that can also say what a dry run would have recorded."""

    unit: str = "messages"  # what `rows` counts
    dry_run: bool = False
    recorded: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        out = super().to_dict()
        if self.dry_run:
            out["dry_run"] = True
            out["would_record"] = self.recorded
        return out

    def summary(self) -> str:
        lines = super().summary().split("\n")
        lines[:2] = [
            f"{self.source}: {self.rows} {self.unit} read from {', '.join(self.files) or '-'}",
            f"  contacts: {self.created} created, {self.updated} with new interactions, {self.unchanged}"
            f" unchanged; {self.skipped_count} {self.unit} skipped",
        ]
        text = "\n".join(lines)
        if not self.dry_run:
            return text
        lines = ["Dry run: nothing was written.", text, f"  would record {len(self.recorded)} interactions:"]
        for row in self.recorded[:DRY_RUN_LISTED]:
            way = f" ({row['direction']})" if row["direction"] else ""
            lines.append(f"    {row['happened_at']}  {row['kind']}{way}  {row['contact']}: {row['summary'] or ''}")
        if len(self.recorded) > DRY_RUN_LISTED:
            lines.append(f"    … and {len(self.recorded) - DRY_RUN_LISTED} more (--json lists them all)")
        return "\n".join(lines)


def known_addresses(db: Database) -> dict[str, int]:
    """Email identity value → contact id, for everyone but the user."""
    return {
        value: cid
        for value, cid in db.execute(
            "SELECT i.value, i.contact_id FROM identities i JOIN contacts c ON c.id = i.contact_id"
            " WHERE i.kind = 'email' AND c.is_me = 0"
        )
    }


class _DryRun(Exception):
    pass


@contextmanager
def import_or_dry_run(db: Database, report: InteractionReport, dry_run: bool):
    """One transaction for the whole import; a dry run does every step, lists what it would
    record, and rolls back, so the database is left exactly as it was."""
    report.dry_run = dry_run
    first_new = db.execute("SELECT coalesce(max(id), 0) + 1 FROM interactions").fetchone()[0]
    try:
        with import_transaction(db):
            yield
            if dry_run:
                report.recorded = [
                    dict(
                        zip(
                            (
                                "happened_at",
                                "kind",
                                "direction",
                                "contact",
                                "contact_id",
                                "summary",
                                "source",
                                "external_id",
                            ),
                            row,
                        )
                    )
                    for row in db.execute(
                        "SELECT i.happened_at, i.kind, i.direction, c.name, i.contact_id, i.summary, i.source,"
                        " i.external_id FROM interactions i JOIN contacts c ON c.id = i.contact_id WHERE i.id >= ?"
                        " ORDER BY i.happened_at, i.external_id",
                        [first_new],
                    )
                ]
                raise _DryRun
    except _DryRun:
        pass


class InteractionWriter:
    """Batches interaction rows (contact_id, kind, happened_at, summary, direction, external_id)."""

    def __init__(
        self, db: Database, report: ImportReport, *, source: str, kind: str, keep_earliest: bool, fold_label: str
    ):
        self.fold_label = fold_label  # what a second row with the same key is, in the report
        self.db = db
        self.report = report
        self.source = source
        self.label = f"{kind} interactions"
        self.keep_earliest = keep_earliest
        self.first_new = db.execute("SELECT coalesce(max(id), 0) + 1 FROM interactions").fetchone()[0]
        self.pending: dict[str, dict] = {}
        self.latest: dict[int, str] = {}

    def add(self, row: dict) -> None:
        key = row["external_id"]
        held = self.pending.get(key)
        if held is None:
            self.pending[key] = row
        else:
            self.report.present[self.fold_label] += 1
            if row["happened_at"] < held["happened_at"]:
                self.pending[key] = row
        if len(self.pending) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        rows = list(self.pending.values())
        self.pending = {}
        stored = {
            key: (rid, at)
            for key, rid, at in self.db.execute(
                "SELECT external_id, id, happened_at FROM interactions WHERE external_id IN"
                " (SELECT value FROM json_each(?))",
                [json.dumps([r["external_id"] for r in rows])],
            )
        }
        new, moved = [], []
        for row in rows:
            found = stored.get(row["external_id"])
            if found is None:
                new.append(row)
                continue
            rid, at = found
            if rid < self.first_new:
                self.report.present[self.label] += 1
            else:
                self.report.present[self.fold_label] += 1
            if self.keep_earliest and row["happened_at"] < at:
                moved.append(row)
        self.db.conn.executemany(
            "INSERT INTO interactions (contact_id, kind, happened_at, summary, direction, source, external_id)"
            f" VALUES (:contact_id, :kind, :happened_at, :summary, :direction, '{self.source}', :external_id)",
            new,
        )
        self.db.conn.executemany(
            "UPDATE interactions SET happened_at = :happened_at, summary = :summary, direction = :direction"
            " WHERE external_id = :external_id AND happened_at > :happened_at",
            moved,
        )
        if new:
            self.report.added[self.label] += len(new)
        if moved:
            self.report.added[f"{self.label} moved to an earlier message"] += len(moved)
        for row in new + moved:
            cid, at = row["contact_id"], row["happened_at"]
            if at > self.latest.get(cid, ""):
                self.latest[cid] = at
        self.report.changed_ids.update(row["contact_id"] for row in new + moved)
        self.report.seen_ids.update(row["contact_id"] for row in rows)

    def finish(self) -> None:
        self.flush()
        touch_many(self.db, self.latest)
