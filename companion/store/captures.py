"""Saving a capture: the raw page is kept, then the person and what was said are stored.

One capture is one transaction: the raw capture row, the contact, identities,
tags, note and messages commit together or not at all, and the capture id
makes a replay harmless.
"""

from __future__ import annotations

import json
from datetime import datetime

from nameparser import HumanName
from sqlite_utils import Database

from ..errors import ApiError
from ..identity import identities_for_url
from ..timeutil import now_iso
from . import reminders
from .activity import add_messages, add_note, log_interaction
from .contacts import PROFILE_COLUMNS, contact_tags, find_contact, resolve_and_upsert, set_tags
from .rows import insert_row

# What the capture row keeps of the request besides the page (for re-extraction and export).
_PAYLOAD_DROP = ("html", "page_html", "_html_z")  # _html_z: protocol.RAW_PAGE, a compressed page as sent
SUMMARY_COLUMNS = (
    "id",
    "name",
    "headline",
    "company",
    "title",
    "location",
    "avatar_url",
    "circle",
    "how_met",
    "created_at",
    "last_interaction_at",
    "keep_in_touch_days",
)


class CaptureConflict(ApiError):
    def __init__(self, capture_id: str):
        super().__init__(409, "CAPTURE_CONFLICT", f"capture_id {capture_id} was already used for different content")


def contact_summary(db: Database, contact_id: int | None) -> dict | None:
    if contact_id is None:
        return None
    row = db.execute(f"SELECT {', '.join(SUMMARY_COLUMNS)} FROM contacts WHERE id = ?", [contact_id]).fetchone()
    if row is None:
        return None
    summary = dict(zip(SUMMARY_COLUMNS, row))
    summary["tags"] = contact_tags(db, contact_id)
    return summary


def _result(
    db: Database, capture_id: str, kind: str, status: str, contact_id: int | None, duplicate: bool, **extra
) -> dict:
    return {
        "capture_id": capture_id,
        "kind": kind,
        "status": status,
        "contact_id": contact_id,
        "contact": contact_summary(db, contact_id),
        "duplicate": duplicate,
        **extra,
    }


def existing_capture(db: Database, capture_id: str, payload_sha256: str) -> dict | None:
    """The stored result of an earlier arrival of this capture id, or a conflict if it differs."""
    row = db.execute(
        "SELECT kind, status, contact_id, payload_sha256 FROM captures WHERE id = ?", [capture_id]
    ).fetchone()
    if row is None:
        return None
    if row[3] != payload_sha256:
        raise CaptureConflict(capture_id)
    return _result(db, capture_id, row[0], row[1], row[2], True)


def contact_for_url(db: Database, url: str | None) -> int | None:
    return find_contact(db, identities_for_url(url)) if url else None


def _contact_for(db: Database, capture: dict, extraction: dict | None) -> int | None:
    """Whose page was this? An explicit contact id, else the page URL, else the page's own keys."""
    contact_id = capture.get("contact_id")
    if contact_id is not None and db.execute("SELECT 1 FROM contacts WHERE id = ?", [contact_id]).fetchone():
        return contact_id
    found = contact_for_url(db, capture.get("url"))
    if found is None and extraction:
        found = find_contact(db, extraction.get("identities") or [])
    return found


def profile_fields(capture: dict, extraction: dict) -> dict:
    profile = extraction.get("profile") or {}
    fields = {key: profile.get(key) for key in PROFILE_COLUMNS}
    sources = dict(extraction.get("sources") or {})
    edits = {k: v for k, v in (capture.get("edits") or {}).items() if k in PROFILE_COLUMNS}
    for key, value in edits.items():
        if value != fields.get(key):
            fields[key] = value
            sources[key] = "user"
    if "name" in edits and edits["name"] and edits["name"] != profile.get("name"):
        parsed = HumanName(edits["name"])
        fields["given_name"], fields["family_name"] = parsed.first or None, parsed.last or None
    if not fields.get("name"):
        fields["name"] = capture.get("title") or extraction.get("title") or capture.get("url") or "Unnamed"
        sources["name"] = "page_title"
    fields["sources"] = sources
    fields["circle"] = capture.get("circle")
    fields["how_met"] = capture.get("how_met")
    return fields


def save_capture(db: Database, capture: dict, payload_sha256: str, prepared: dict | None = None) -> dict:
    """Store one validated capture atomically and return what the API answers.

    `prepared` holds the off-loop work for captures that carry a page:
    `{"extraction": ..., "html_z": bytes, "html_sha256": str}`.
    """
    prepared = prepared or {}
    extraction = prepared.get("extraction")
    now = now_iso()
    with db.atomic():
        earlier = existing_capture(db, capture["capture_id"], payload_sha256)
        if earlier is not None:
            return earlier
        kind = capture["kind"]
        status = extraction["status"] if (kind == "profile" and extraction) else "stored"
        insert_row(
            db,
            "captures",
            {
                "id": capture["capture_id"],
                "kind": kind,
                "url": capture.get("url"),
                "title": capture.get("title"),
                "captured_at": capture.get("captured_at") or now,
                "received_at": now,
                "contact_id": None,
                "html": prepared.get("html_z"),
                "html_sha256": prepared.get("html_sha256"),
                "extractor": extraction.get("extractor") if extraction else None,
                "status": status,
                "payload_sha256": payload_sha256,
                "payload": json.dumps({k: v for k, v in capture.items() if k not in _PAYLOAD_DROP}),
                "error": (extraction or {}).get("error"),
            },
        )
        extra: dict = {}
        if kind == "profile":
            contact_id, created = resolve_and_upsert(
                db,
                profile_fields(capture, extraction),
                extraction.get("identities") or identities_for_url(capture["url"]),
                extraction.get("links") or [],
                capture_id=capture["capture_id"],
                now=now,
            )
            extra["created"] = created
            if capture.get("tags"):
                set_tags(db, contact_id, capture["tags"])
            if capture.get("note"):
                add_note(db, contact_id, capture["note"], capture_id=capture["capture_id"], created_at=now)
            if extraction.get("messages"):
                extra["messages_added"] = add_messages(
                    db, contact_id, extraction["messages"], capture_id=capture["capture_id"]
                )
        elif kind == "message":
            contact_id = _contact_for(db, capture, extraction)
            selection = prepared.get("selection") or {}
            add_messages(
                db,
                contact_id,
                [
                    {
                        "body": selection.get("body") or capture["text"],
                        "sender": capture.get("sender") or selection.get("sender"),
                        "direction": capture.get("direction") or selection.get("direction") or "in",
                        "sent_at": capture.get("sent_at")
                        or selection.get("sent_at")
                        or capture.get("captured_at")
                        or now,
                        "channel": selection.get("channel") or "web",
                        "thread_url": capture.get("url"),
                    }
                ],
                capture_id=capture["capture_id"],
            )
        elif kind == "note":
            contact_id = _contact_for(db, capture, extraction)
            add_note(
                db,
                contact_id,
                capture["text"],
                capture_id=capture["capture_id"],
                created_at=capture.get("captured_at") or now,
            )
        elif kind == "interaction":
            contact_id = _contact_for(db, capture, extraction)
            if contact_id is None:
                raise ApiError(422, "UNKNOWN_CONTACT", "no saved contact matches this contact_id or url")
            log_interaction(
                db,
                contact_id,
                capture.get("interaction_kind") or "met",
                happened_at=capture.get("happened_at") or capture.get("captured_at") or now,
                summary=capture.get("summary"),
                capture_id=capture["capture_id"],
            )
        else:  # validated earlier; kept for safety
            raise ApiError(422, "UNKNOWN_KIND", f"unknown kind {kind!r}")
        db.execute("UPDATE captures SET contact_id = ? WHERE id = ?", [contact_id, capture["capture_id"]])
        return _result(db, capture["capture_id"], kind, status, contact_id, False, **extra)


def lookup(db: Database, url: str, *, notes: int = 5, now: str | None = None) -> dict:
    """What the popup shows for a page: is this person saved, what was said, when we last spoke,
    whether they are due for a catch-up (as the reconnect queue reckons it) and their dates in
    the next two weeks."""
    contact_id = contact_for_url(db, url)
    if contact_id is None:
        return {"found": False}
    latest_notes = list(
        db.query(
            "SELECT id, body, created_at FROM notes WHERE contact_id = ? ORDER BY created_at DESC, id DESC LIMIT ?",
            [contact_id, notes],
        )
    )
    last = next(
        db.query(
            "SELECT kind, happened_at, summary FROM interactions WHERE contact_id = ?"
            " ORDER BY happened_at DESC, id DESC LIMIT 1",
            [contact_id],
        ),
        None,
    )
    today = datetime.fromisoformat(now[:10]).date() if now else reminders.today_utc()
    upcoming = [
        d
        for d in reminders.contact_dates(db, contact_id, today)
        if d["in_days"] is not None and d["in_days"] < reminders.UPCOMING_DAYS
    ]
    for item in upcoming:
        item["text"] = reminders.describe(item)
    return {
        "found": True,
        "contact": contact_summary(db, contact_id),
        "notes": latest_notes,
        "last_interaction": last,
        "catch_up": reminders.catch_up(db, contact_id, now),
        "upcoming": upcoming,
    }
