"""The write half shared by every importer: people, then what hangs off them, in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from sqlite_utils import Database

from ..timeutil import now_iso
from .bulk import gc_paused
from .people import Person, import_transaction, save_people
from .report import ImportReport
from .timeline import save_interactions, save_notes, save_tags


@dataclass
class Loaded:
    """A fully parsed file (vCards, CSV): nothing has touched the database yet."""

    people: list[Person]
    report: ImportReport
    source: str

    @property
    def size(self) -> int:
        return len(self.people)


def save_batch(
    db: Database,
    people: list[Person],
    *,
    source: str,
    report: ImportReport,
    now: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[int]:
    """Save people with their tags, notes and interactions; the caller holds the transaction."""
    now = now or now_iso()
    created: set[int] = set()
    ids = save_people(db, people, source=source, report=report, now=now, progress=progress, created=created)
    save_tags(db, [(cid, p.tags) for cid, p in zip(ids, people) if p.tags], report)
    save_notes(db, [(cid, note) for cid, p in zip(ids, people) for note in p.notes], report, now=now)
    save_interactions(
        db,
        [{"contact_id": cid, **i} for cid, p in zip(ids, people) for i in p.interactions],
        report,
        fresh=created,  # their last interaction was set from these rows when they were created
    )
    return ids


def save_loaded(db: Database, loaded: Loaded, *, progress: Callable[[int], None] | None = None) -> ImportReport:
    """Write a parsed file in one transaction and return the finished report."""
    with import_transaction(db), gc_paused():
        save_batch(db, loaded.people, source=loaded.source, report=loaded.report, progress=progress)
    return loaded.report.finish()
