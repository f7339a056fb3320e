"""`kith reextract`: run today's extractors over every stored raw capture.

Fixing an extractor should fix old data too. Captures are replayed oldest
first so the newest page still wins; history is not re-recorded (the changes
already in `profile_changes` happened when they happened).
"""

from __future__ import annotations

import json

from sqlite_utils import Database

from .extract import extract_page
from .identity import identities_for_url
from .ingest import decompress_html
from .store.activity import add_messages
from .store.captures import profile_fields
from .store.contacts import resolve_and_upsert


CAPTURES_SQL = "SELECT id, kind, url, title, html, payload, status, contact_id FROM captures WHERE html IS NOT NULL"


def extract_row(row) -> dict:
    """The extraction for one stored capture row (CAPTURES_SQL's columns): no database, so it
    can run off the writer (the Datasette "Re-extract" button runs it in a thread)."""
    _, _, url, title, blob, _, _, _ = row
    return extract_page(decompress_html(blob), url or "", title)


def apply_extraction(db: Database, row, extraction: dict) -> tuple[str, int | None]:
    """Store a fresh extraction of one capture in one transaction: the contact is updated without
    re-recording history, messages with an id are added; returns (new status, contact id)."""
    capture_id, kind, url, _, _, payload, status, contact_id = row
    with db.atomic():
        if kind == "profile":
            capture = json.loads(payload or "{}")
            contact_id, _ = resolve_and_upsert(
                db,
                profile_fields(capture, extraction),
                extraction.get("identities") or identities_for_url(url),
                extraction.get("links") or [],
                capture_id=capture_id,
                track_changes=False,
            )
            add_messages(
                db,
                contact_id,
                [m for m in extraction.get("messages") or [] if m.get("external_id")],
                capture_id=capture_id,
            )
        new_status = extraction["status"] if kind == "profile" else status
        db.execute(
            "UPDATE captures SET status = ?, extractor = ?, contact_id = coalesce(contact_id, ?) WHERE id = ?",
            [new_status, extraction.get("extractor"), contact_id, capture_id],
        )
    return new_status, contact_id


def reextract_all(db: Database, *, progress=None) -> dict:
    counts = {"captures": 0, "changed_status": 0, "contacts_touched": 0}
    rows = db.execute(CAPTURES_SQL + " ORDER BY received_at, rowid").fetchall()
    touched = set()
    for row in rows:
        new_status, contact_id = apply_extraction(db, row, extract_row(row))
        if row[1] == "profile":
            touched.add(contact_id)
        counts["captures"] += 1
        counts["changed_status"] += int(new_status != row[6])
        if progress:
            progress(1)
    counts["contacts_touched"] = len(touched)
    return counts
