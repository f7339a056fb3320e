"""Bulk versions of the store's timeline writes (tags, notes, interactions, messages)
that skip what is already there, so running an import twice adds nothing.

The store's `add_messages` dedupes on `external_id`; notes and interactions
have no natural key, so an imported one counts as present when the contact
already has as many notes with the same body, or interactions of the same kind
at the same time, as the import brings. Like `touch`, new interactions and messages move a contact's
last interaction forward, never back. Imported notes do not: a vCard NOTE or a
list of unknown columns is an annotation, not a conversation, and must not make
everyone look recently contacted.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from typing import AbstractSet, Iterable

from sqlite_utils import Database

from .bulk import bulk_insert, bulk_update_unindexed
from .people import ids_json
from .report import ImportReport


def touch_many(db: Database, latest: dict[int, str]) -> None:
    """`store.activity.touch` for many contacts at once."""
    bulk_update_unindexed(
        db,
        "contacts",
        "UPDATE contacts SET last_interaction_at = ?1 WHERE id = ?2 AND"
        " (last_interaction_at IS NULL OR last_interaction_at < ?1)",
        [(at, cid) for cid, at in latest.items() if at],
    )


def save_tags(db: Database, pairs: Iterable[tuple[int, list[str]]], report: ImportReport) -> int:
    """`set_tags` (add, never replace) for many contacts: tags matched without case."""
    wanted: list[tuple[int, str]] = []
    for cid, names in pairs:
        for name in names:
            name = (name or "").strip()
            if name:
                wanted.append((cid, name))
    if not wanted:
        return 0
    tag_ids = {name.lower(): tid for tid, name in db.execute("SELECT id, name FROM tags")}
    for _, name in wanted:
        if name.lower() not in tag_ids:
            tag_ids[name.lower()] = db.execute("INSERT INTO tags (name) VALUES (?)", [name]).lastrowid
    contacts = {cid for cid, _ in wanted}
    have = set(
        db.execute(
            "SELECT contact_id, tag_id FROM contact_tags WHERE contact_id IN (SELECT value FROM json_each(?))",
            [ids_json(contacts)],
        ).fetchall()
    )
    new = list(dict.fromkeys((cid, tag_ids[name.lower()]) for cid, name in wanted))
    new = [pair for pair in new if pair not in have]
    db.conn.executemany("INSERT INTO contact_tags (contact_id, tag_id) VALUES (?, ?)", new)
    report.added["tags"] += len(new)
    report.changed_ids.update(cid for cid, _ in new)
    return len(new)


def _not_yet_stored(wanted: list, stored: Iterable, key=lambda item: item) -> list:
    """Multiset difference, in order: a note written twice on one card is kept twice,
    and a second import adds neither copy again."""
    have = Counter(stored)
    if not have:
        return list(wanted)
    new = []
    for item in wanted:
        k = key(item)
        if have[k]:
            have[k] -= 1
        else:
            new.append(item)
    return new


def save_notes(db: Database, pairs: Iterable[tuple[int, str]], report: ImportReport, *, now: str) -> int:
    pairs = [(cid, body.strip()) for cid, body in pairs if body and body.strip()]
    if not pairs:
        return 0
    new = _not_yet_stored(
        pairs,
        db.execute(
            "SELECT contact_id, body FROM notes WHERE contact_id IN (SELECT value FROM json_each(?))",
            [ids_json({cid for cid, _ in pairs})],
        ).fetchall(),
    )
    bulk_insert(
        db,
        "notes",
        "INSERT INTO notes (contact_id, body, created_at) VALUES (?, ?, ?)",
        [(cid, body, now) for cid, body in new],
    )
    report.added["notes"] += len(new)
    report.changed_ids.update(cid for cid, _ in new)
    return len(new)


def save_interactions(
    db: Database, rows: Iterable[dict], report: ImportReport, *, fresh: AbstractSet[int] = frozenset()
) -> int:
    """`fresh`: contacts this same batch created, whose last interaction was set from these very
    rows: they have nothing stored to compare with and nothing for `touch` to move."""
    items = [(r["contact_id"], r["kind"], r["happened_at"], r.get("summary")) for r in rows]
    if not items:
        return 0
    stored = {item[0] for item in items} - fresh
    new = _not_yet_stored(
        items,
        db.execute(
            "SELECT contact_id, kind, happened_at FROM interactions WHERE contact_id IN (SELECT value FROM json_each(?))",
            [ids_json(stored)],
        ).fetchall()
        if stored
        else [],
        key=lambda item: item[:3],
    )
    bulk_insert(
        db, "interactions", "INSERT INTO interactions (contact_id, kind, happened_at, summary) VALUES (?, ?, ?, ?)", new
    )
    touch_many(db, _latest((cid, at) for cid, _, at, _ in new if cid not in fresh))
    report.added["interactions"] += len(new)
    report.present["interactions"] += len(items) - len(new)
    report.changed_ids.update(item[0] for item in new)
    return len(new)


def save_messages(db: Database, rows: list[dict], report: ImportReport) -> int:
    """Insert messages whose `external_id` is new (the same key `add_messages` dedupes on)."""
    if not rows:
        return 0
    known = {
        r[0]
        for r in db.execute(
            "SELECT external_id FROM messages WHERE external_id IN (SELECT value FROM json_each(?))",
            [json.dumps([r["external_id"] for r in rows])],
        )
    }
    new = []
    for row in rows:
        if row["external_id"] not in known:
            known.add(row["external_id"])
            new.append(row)
    bulk_insert(
        db,
        "messages",
        "INSERT INTO messages (contact_id, direction, sender, sent_at, body, channel, thread_url,"
        " external_id) VALUES (:contact_id, :direction, :sender, :sent_at, :body, :channel, :thread_url,"
        " :external_id)",
        new,
    )
    touch_many(db, _latest((r["contact_id"], r["sent_at"]) for r in new if r["contact_id"] is not None))
    report.added["messages"] += len(new)
    report.present["messages"] += len(rows) - len(new)
    return len(new)


def _latest(pairs: Iterable[tuple[int, str]]) -> dict[int, str]:
    latest: dict[int, str] = defaultdict(str)
    for cid, at in pairs:
        if at and at > latest[cid]:
            latest[cid] = at
    return latest
