"""What happens between the user and a contact: notes, messages, interactions, give and take.

These are the store functions the companion, the importers and the Datasette
forms all call, so "any note, message or interaction resets the reconnect
clock" holds whichever door the write came through.
"""

from __future__ import annotations

from sqlite_utils import Database

from ..timeutil import now_iso
from .rows import insert_row
from .schema import EXCHANGE_DIRECTIONS


def touch(db: Database, contact_id: int | None, at: str | None) -> None:
    """Move the contact's last interaction forward (never back) to `at`."""
    if contact_id is None or not at:
        return
    db.execute(
        "UPDATE contacts SET last_interaction_at = ? WHERE id = ? AND "
        "(last_interaction_at IS NULL OR last_interaction_at < ?)",
        [at, contact_id, at],
    )


def add_note(
    db: Database, contact_id: int | None, body: str, *, created_at: str | None = None, capture_id: str | None = None
) -> int:
    body = (body or "").strip()
    if not body:
        raise ValueError("a note needs some text")
    created_at = created_at or now_iso()
    with db.atomic():
        note_id = insert_row(
            db, "notes", {"contact_id": contact_id, "body": body, "created_at": created_at, "capture_id": capture_id}
        )
        touch(db, contact_id, created_at)
    return note_id


def add_messages(db: Database, contact_id: int | None, messages: list[dict], *, capture_id: str | None = None) -> int:
    """Store messages, skipping any whose `external_id` (e.g. a LinkedIn message URN) is known.

    Returns how many were new.
    """
    new = 0
    with db.atomic():
        for message in messages:
            body = (message.get("body") or "").strip()
            if not body:
                continue
            row = {
                "contact_id": contact_id,
                "direction": message.get("direction"),
                "sender": message.get("sender"),
                "sent_at": message.get("sent_at") or now_iso(),
                "body": body,
                "channel": message.get("channel"),
                "thread_url": message.get("thread_url"),
                "external_id": message.get("external_id"),
                "capture_id": capture_id,
            }
            cursor = db.execute(
                "INSERT OR IGNORE INTO messages (contact_id, direction, sender, sent_at, body, channel,"
                " thread_url, external_id, capture_id) VALUES (:contact_id, :direction, :sender, :sent_at,"
                " :body, :channel, :thread_url, :external_id, :capture_id)",
                row,
            )
            if cursor.rowcount:
                new += 1
                touch(db, contact_id, row["sent_at"])
    return new


def log_interaction(
    db: Database,
    contact_id: int,
    kind: str = "met",
    *,
    happened_at: str | None = None,
    summary: str | None = None,
    capture_id: str | None = None,
) -> int:
    happened_at = happened_at or now_iso()
    with db.atomic():
        interaction_id = (
            db["interactions"]
            .insert(
                {
                    "contact_id": contact_id,
                    "kind": (kind or "met").strip() or "met",
                    "happened_at": happened_at,
                    "summary": (summary or "").strip() or None,
                    "capture_id": capture_id,
                }
            )
            .last_pk
        )
        touch(db, contact_id, happened_at)
    return interaction_id


def add_exchange(
    db: Database,
    contact_id: int,
    direction: str,
    description: str,
    *,
    kind: str | None = None,
    happened_at: str | None = None,
) -> int:
    """One entry in the give/take ledger: something the user `gave` or `received`."""
    if direction not in EXCHANGE_DIRECTIONS:
        raise ValueError(f"direction must be one of {', '.join(EXCHANGE_DIRECTIONS)}")
    description = (description or "").strip()
    if not description:
        raise ValueError("an exchange needs a description")
    return (
        db["exchanges"]
        .insert(
            {
                "contact_id": contact_id,
                "direction": direction,
                "kind": (kind or "").strip() or None,
                "description": description,
                "happened_at": happened_at or now_iso(),
            }
        )
        .last_pk
    )


def add_relationship(db: Database, from_id: int, to_id: int, kind: str, note: str | None = None) -> None:
    if from_id == to_id:
        raise ValueError("a relationship needs two different people")
    db.execute(
        "INSERT OR IGNORE INTO relationships (from_contact_id, to_contact_id, kind, note) VALUES (?, ?, ?, ?)",
        [from_id, to_id, kind, note],
    )


def set_cadence(db: Database, contact_id: int, days: int | None) -> None:
    if days is not None and int(days) <= 0:
        raise ValueError("the cadence must be a positive number of days")
    db["contacts"].update(
        contact_id, {"keep_in_touch_days": None if days is None else int(days), "updated_at": now_iso()}
    )


def snooze(db: Database, contact_id: int, until: str | None) -> None:
    """Hide the contact from the reconnect queue until `until` (an ISO date); None un-snoozes."""
    db["contacts"].update(contact_id, {"snoozed_until": until, "updated_at": now_iso()})
