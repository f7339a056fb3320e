"""Contacts and their identities: find the person, create or update them, keep history.

Every path that brings a person in (captures, importers, the Datasette forms)
goes through `resolve_and_upsert`, so a person is never duplicated because they
arrived by a different door.
"""

from __future__ import annotations

import bisect
import json
from typing import Iterable

import orjson
from rapidfuzz import fuzz, process
from sqlite_utils import Database

from ..identity import SHARED_KINDS, same_person_name
from ..timeutil import now_iso
from .db import defer_to_group_end
from .rows import insert_row

# Columns a profile may fill, in the order they are shown.
PROFILE_COLUMNS = (
    "name",
    "given_name",
    "family_name",
    "pronouns",
    "credentials",
    "headline",
    "company",
    "title",
    "location",
    "avatar_url",
    "bio",
    "birthday",
)
# A change in one of these is a reason to get back in touch ("moved from Acme to Globex").
TRACKED_FIELDS = ("title", "company", "headline", "location")
MERGE_SUGGESTION_THRESHOLD = 88.0


def find_contact(db: Database, identities: Iterable[dict], name: str | None = None) -> int | None:
    """The contact that owns the first of these identity keys already known, if any.

    A key several people may share (an email, phone or web page: `identity.SHARED_KINDS`) finds
    its owner only when `name` agrees with the owner's (`identity.same_person_name`): a family's
    email never folds two differently named people into one contact."""
    for ident in identities:
        row = db.execute(
            "SELECT i.contact_id, c.name FROM identities i JOIN contacts c ON c.id = i.contact_id"
            " WHERE i.kind = ? AND i.value = ?",
            [ident["kind"], ident["value"]],
        ).fetchone()
        if row and (ident["kind"] not in SHARED_KINDS or same_person_name(name, row[1])):
            return row[0]
    return None


def attach_identities(
    db: Database, contact_id: int, identities: Iterable[dict], source: str | None = None
) -> list[int]:
    """Give these identities to the contact. Returns other contacts that already own one."""
    owners: list[int] = []
    for ident in identities:
        row = db.execute(
            "SELECT contact_id FROM identities WHERE kind = ? AND value = ?",
            [ident["kind"], ident["value"]],
        ).fetchone()
        if row is None:
            insert_row(
                db,
                "identities",
                {
                    "contact_id": contact_id,
                    "kind": ident["kind"],
                    "value": ident["value"],
                    "url": ident.get("url"),
                    "source": ident.get("rel") or source,
                    "label": ident.get("label"),
                },
            )
        elif row[0] != contact_id and row[0] not in owners:
            owners.append(row[0])
    return owners


def _clean(value):
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def create_contact(db: Database, fields: dict, *, now: str | None = None) -> int:
    now = now or now_iso()
    row = {k: _clean(fields.get(k)) for k in PROFILE_COLUMNS}
    row["name"] = row["name"] or ""
    for key in ("circle", "how_met", "keep_in_touch_days", "last_interaction_at", "is_me"):
        if fields.get(key) is not None:
            row[key] = fields[key]
    if fields.get("sources"):
        row["field_sources"] = json.dumps(fields["sources"], sort_keys=True)
    row["created_at"] = fields.get("created_at") or now
    row["updated_at"] = now
    return insert_row(db, "contacts", row)


def update_contact(
    db: Database,
    contact_id: int,
    fields: dict,
    *,
    now: str | None = None,
    capture_id: str | None = None,
    overwrite: bool = True,
    track_changes: bool = True,
) -> list[dict]:
    """Apply newer values to a contact, recording tracked changes in `profile_changes`.

    With `overwrite=False` only empty columns are filled (importers: the
    freshest structured source, a capture, wins over an old address book).
    Returns the changes recorded.
    """
    now = now or now_iso()
    current = db["contacts"].get(contact_id)
    updates: dict = {}
    changes: list[dict] = []
    for key in PROFILE_COLUMNS:
        new = _clean(fields.get(key))
        if new is None:
            continue
        old = current.get(key)
        if old == new or (old and not overwrite):
            continue
        updates[key] = new
        if track_changes and key in TRACKED_FIELDS and old:
            changes.append(
                {
                    "contact_id": contact_id,
                    "field": key,
                    "old_value": old,
                    "new_value": new,
                    "detected_at": now,
                    "capture_id": capture_id,
                }
            )
    for key in ("circle", "how_met", "keep_in_touch_days"):
        if fields.get(key) is not None and fields[key] != current.get(key):
            updates[key] = fields[key]
    if fields.get("sources"):
        merged = json.loads(current.get("field_sources") or "{}")
        merged.update({k: v for k, v in fields["sources"].items() if k in updates})
        updates["field_sources"] = json.dumps(merged, sort_keys=True)
    if updates:
        updates["updated_at"] = now
        db["contacts"].update(contact_id, updates)
    if changes:
        db["profile_changes"].insert_all(changes)
    return changes


def resolve_and_upsert(
    db: Database,
    fields: dict,
    identities: list[dict],
    links: list[dict] | None = None,
    *,
    capture_id: str | None = None,
    overwrite: bool = True,
    track_changes: bool = True,
    now: str | None = None,
) -> tuple[int, bool]:
    """Find the person by any identity key (their own first, then linked ones) or create them.

    Returns (contact_id, created). Linked identities (rel=me, sameAs) are
    attached too; an identity already owned by someone else becomes a merge
    suggestion rather than a silent merge.
    """
    now = now or now_iso()
    links = links or []
    name = fields.get("name")
    contact_id = find_contact(db, identities, name) or find_contact(db, links, name)
    created = contact_id is None
    if created:
        contact_id = create_contact(db, fields, now=now)
    else:
        update_contact(
            db, contact_id, fields, now=now, capture_id=capture_id, overwrite=overwrite, track_changes=track_changes
        )
    others = attach_identities(db, contact_id, identities, source="page")
    others += attach_identities(db, contact_id, links, source="link")
    for other in dict.fromkeys(others):
        suggest_merge(db, contact_id, other, 100.0, "they share an identity", now=now)
    if created:
        # In the writer's group commit, the group's new contacts are checked together at its end.
        if not defer_to_group_end(db, suggest_similar_many, contact_id):
            suggest_similar(db, contact_id, now=now)
    return contact_id, created


def suggest_merge(db: Database, a: int, b: int, score: float, reason: str, *, now: str | None = None) -> None:
    """Suggest merging a and b, once: a pair already suggested (open, or dismissed as "not the
    same person") is left as it is, so a dismissed pair never comes back."""
    low, high = sorted((a, b))
    db.execute(
        "INSERT OR IGNORE INTO merge_suggestions (contact_id, other_contact_id, score, reason, status, created_at)"
        " VALUES (?, ?, ?, ?, 'open', ?)",
        [low, high, score, reason, now or now_iso()],
    )


def dismiss_suggestion(db: Database, a: int, b: int, *, now: str | None = None) -> None:
    """ "Not the same person": remembered for good (`suggest_merge` never reopens the pair, and a
    merge carries it over to the contact that remains)."""
    if a == b:
        raise ValueError("a contact is always the same person as itself")
    low, high = sorted((a, b))
    db.execute(
        "INSERT INTO merge_suggestions (contact_id, other_contact_id, score, reason, status, created_at)"
        " VALUES (?, ?, 0, 'marked as not the same person', 'dismissed', ?)"
        " ON CONFLICT (contact_id, other_contact_id) DO UPDATE SET status = 'dismissed'",
        [low, high, now or now_iso()],
    )


def similar_candidates(db: Database, contact_id: int, company: str | None, location: str | None) -> list[tuple]:
    """(id, name, company, location) of the first 500 others, by id, at the same company or place
    (case-insensitive). Each side reads at most 500 rows in id order straight from its NOCASE
    index; one OR query read and sorted everyone at the company (thousands at a big employer)
    for every new contact."""
    return db.execute(
        "SELECT id, name, company, location FROM ("
        " SELECT * FROM (SELECT id, name, company, location FROM contacts"
        "  WHERE company = :company COLLATE NOCASE AND id != :id ORDER BY id LIMIT 500)"
        " UNION"
        " SELECT * FROM (SELECT id, name, company, location FROM contacts"
        "  WHERE location = :location COLLATE NOCASE AND id != :id ORDER BY id LIMIT 500)"
        ") ORDER BY id LIMIT 500",
        {"id": contact_id, "company": company, "location": location},
    ).fetchall()


def suggest_similar(db: Database, contact_id: int, *, now: str | None = None) -> None:
    """Suggest (never perform) a merge with people of a similar name at the same company or place.

    The names are scored first (one rapidfuzz call over all candidates); only the few that score
    high enough are checked for conflicting identities. Checking every candidate first cost one
    query each, up to 500 per saved profile, on the writer's thread."""
    row = db.execute("SELECT name, company, location FROM contacts WHERE id = ?", [contact_id]).fetchone()
    name, company, location = row
    if name and (company or location):
        _suggest_among(db, contact_id, name, company, similar_candidates(db, contact_id, company, location), now)


def suggest_similar_many(db: Database, contact_ids: Iterable[int], *, now: str | None = None) -> None:
    """`suggest_similar` for contacts created one after another in this transaction, each as if
    checked right after its creation (against the people with a smaller id: the ones that existed
    then). One candidate read per company and per place serves them all; the writer's group
    commit runs this once per group instead of once per new contact."""
    ids = sorted(set(contact_ids))
    if not ids:
        return
    sides: dict[tuple[str, str | None], list[tuple]] = {}
    pools: dict[tuple, tuple[list[tuple], list[int], list[str]]] = {}

    def side(column: str, value: str | None) -> list[tuple]:
        # The first 500 at this company (or place) by id; those before a contact are a prefix.
        if value is None:
            return []
        if (column, value) not in sides:
            # As one JSON row: fetching 500 rows is 500 steps, each giving up and taking back the
            # GIL, which the companion's event loop holds much of the time under load.
            (found,) = db.execute(
                "SELECT json_group_array(json_array(id, name, company, location)) FROM (SELECT id, name,"
                f" company, location FROM contacts WHERE {column} = ? COLLATE NOCASE ORDER BY id LIMIT 500)",
                [value],
            ).fetchone()
            sides[column, value] = [tuple(row) for row in orjson.loads(found)]
        return sides[column, value]

    def pool(company: str | None, location: str | None) -> tuple[list[tuple], list[int], list[str]]:
        # Both sides merged by id: the first 500 before any contact are in it, and a prefix of it.
        if (company, location) not in pools:
            rows = sorted({r[0]: tuple(r) for r in side("company", company) + side("location", location)}.values())
            pools[company, location] = (rows, [r[0] for r in rows], [(r[1] or "").lower() for r in rows])
        return pools[company, location]

    rows = db.execute(
        "SELECT id, name, company, location FROM contacts WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id",
        [json.dumps(ids)],
    ).fetchall()
    for contact_id, name, company, location in rows:
        if not name or not (company or location):
            continue
        candidates, pool_ids, names = pool(company, location)
        cut = min(bisect.bisect_left(pool_ids, contact_id), 500)
        _suggest_among(db, contact_id, name, company, candidates[:cut], now, names[:cut])


def _suggest_among(
    db: Database,
    contact_id: int,
    name: str,
    company: str | None,
    candidates: list,
    now: str | None,
    names: list[str] | None = None,
) -> None:
    """Score `name` against the candidates' names (`names`: them lowercased, when already known)."""
    if not candidates:
        return
    name = name.lower()
    # cdist's float32 scores only pick the few worth a look (a hair below the line, for rounding);
    # each kept score is the exact float64 one, as before.
    rough = process.cdist(
        [name],
        names if names is not None else [(other_name or "").lower() for _, other_name, _, _ in candidates],
        scorer=fuzz.token_sort_ratio,
        score_cutoff=MERGE_SUGGESTION_THRESHOLD - 0.01,
    )[0]
    similar = []
    for index in rough.nonzero()[0].tolist():  # the few above the line, not all (up to 500) candidates
        other_id, other_name, other_company, _ = candidates[index]
        score = fuzz.token_sort_ratio(name, (other_name or "").lower())
        if score >= MERGE_SUGGESTION_THRESHOLD:
            similar.append((contact_id, other_id, score, other_company))
    apart = provably_different_pairs(db, similar)  # one query for them all, not one per candidate
    for _, other_id, score, other_company in similar:
        if (contact_id, other_id) in apart:
            continue
        same = "company" if other_company and company and other_company.lower() == company.lower() else "location"
        suggest_merge(
            db, contact_id, other_id, float(score), f"similar name ({score:.0f}%) and the same {same}", now=now
        )


# Keys a person has exactly one of: two contacts with different values are two people.
_SINGLE_VALUED_KINDS = (
    "linkedin",
    "linkedin_urn",
    "github",
    "github_id",
    "x",
    "x_id",
    "bluesky",
    "bluesky_did",
    "instagram",
    "tiktok",
    "dribbble",
)


def provably_different(db: Database, a: int, b: int) -> bool:
    row = db.execute(
        f"SELECT 1 FROM identities x JOIN identities y ON x.kind = y.kind AND x.value != y.value"
        f" WHERE x.contact_id = ? AND y.contact_id = ? AND x.kind IN ({', '.join('?' * len(_SINGLE_VALUED_KINDS))})"
        " LIMIT 1",
        [a, b, *_SINGLE_VALUED_KINDS],
    ).fetchone()
    return row is not None


def provably_different_pairs(db: Database, pairs: list[tuple]) -> set[tuple[int, int]]:
    """`provably_different` for many (a, b, ...) pairs in one query: two contacts holding
    different values of a key a person has only one of (LinkedIn, GitHub, X) are two people."""
    if not pairs:
        return set()
    ids = {i for cid, other, *_ in pairs for i in (cid, other)}
    keys: dict[int, dict[str, set[str]]] = {}
    # json_each drives the join (CROSS JOIN keeps that order): one contact_id index seek per contact,
    # not a scan of every LinkedIn key tested against the list.
    for cid, kind, value in db.execute(
        "SELECT i.contact_id, i.kind, i.value FROM json_each(?) j CROSS JOIN identities i ON i.contact_id = j.value"
        f" WHERE i.kind IN ({', '.join('?' * len(_SINGLE_VALUED_KINDS))})",
        [json.dumps(list(ids)), *_SINGLE_VALUED_KINDS],
    ):
        keys.setdefault(cid, {}).setdefault(kind, set()).add(value)
    apart = set()
    for cid, other, *_ in pairs:
        mine, theirs = keys.get(cid), keys.get(other)
        if mine and theirs and any(kind in theirs and len(values | theirs[kind]) > 1 for kind, values in mine.items()):
            apart.add((cid, other))
    return apart


def set_tags(db: Database, contact_id: int, tags: Iterable[str], *, replace: bool = False) -> None:
    """Add tags to a contact (creating them); `replace=True` makes them the only tags."""
    names = []
    for tag in tags:
        tag = (tag or "").strip()
        if tag and tag.lower() not in {n.lower() for n in names}:
            names.append(tag)
    if replace:
        db.execute("DELETE FROM contact_tags WHERE contact_id = ?", [contact_id])
    for name in names:
        row = db.execute("SELECT id FROM tags WHERE name = ? COLLATE NOCASE", [name]).fetchone()
        tag_id = row[0] if row else db["tags"].insert({"name": name}).last_pk
        db.execute("INSERT OR IGNORE INTO contact_tags (contact_id, tag_id) VALUES (?, ?)", [contact_id, tag_id])


def contact_tags(db: Database, contact_id: int) -> list[str]:
    return [
        r[0]
        for r in db.execute(
            "SELECT t.name FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id"
            " WHERE ct.contact_id = ? ORDER BY t.name",
            [contact_id],
        )
    ]


# Tables whose rows belong to one contact via a `contact_id` column.
_OWNED_TABLES = (
    "identities",
    "captures",
    "notes",
    "messages",
    "interactions",
    "profile_changes",
    "exchanges",
    "dated_notes",
)

# The dropped contact's suggestions with third people, now about the kept one: dismissed pairs stay
# dismissed (if B is not C and B is A, A is not C), open ones stay open unless already decided.
_CARRY_SUGGESTIONS = """
INSERT INTO merge_suggestions (contact_id, other_contact_id, score, reason, status, created_at)
SELECT min(:keep, other), max(:keep, other), score, reason, status, created_at FROM (
  SELECT CASE WHEN contact_id = :drop THEN other_contact_id ELSE contact_id END AS other,
         score, reason, status, created_at
  FROM merge_suggestions WHERE (contact_id = :drop OR other_contact_id = :drop) AND status IN ('open', 'dismissed')
) WHERE other != :keep
ON CONFLICT (contact_id, other_contact_id) DO UPDATE SET status = 'dismissed'
  WHERE excluded.status = 'dismissed' AND merge_suggestions.status = 'open'
"""


def merge_contacts(db: Database, keep_id: int, drop_id: int) -> dict:
    """Fold `drop_id` into `keep_id`, moving everything attached to it. Nothing is lost:
    empty fields of the kept contact are filled from the dropped one, and the
    merge itself is recorded in `profile_changes`."""
    if keep_id == drop_id:
        raise ValueError("cannot merge a contact into itself")
    keep = db["contacts"].get(keep_id)
    drop = db["contacts"].get(drop_id)
    moved: dict[str, int] = {}
    with db.atomic():
        for table in _OWNED_TABLES:
            cursor = db.execute(f"UPDATE {table} SET contact_id = ? WHERE contact_id = ?", [keep_id, drop_id])
            moved[table] = cursor.rowcount
        db.execute(
            "INSERT OR IGNORE INTO contact_tags (contact_id, tag_id)"
            " SELECT ?, tag_id FROM contact_tags WHERE contact_id = ?",
            [keep_id, drop_id],
        )
        for column, other in (("from_contact_id", "to_contact_id"), ("to_contact_id", "from_contact_id")):
            db.execute(
                f"UPDATE OR IGNORE relationships SET {column} = ? WHERE {column} = ? AND {other} != ?",
                [keep_id, drop_id, keep_id],
            )
        fill = {
            k: drop[k]
            for k in PROFILE_COLUMNS + ("circle", "how_met", "keep_in_touch_days")
            if not keep.get(k) and drop.get(k)
        }
        last = max(filter(None, [keep.get("last_interaction_at"), drop.get("last_interaction_at")]), default=None)
        fill["last_interaction_at"] = last
        fill["created_at"] = min(keep["created_at"], drop["created_at"])
        fill["updated_at"] = now_iso()
        db["contacts"].update(keep_id, fill)
        db["profile_changes"].insert(
            {
                "contact_id": keep_id,
                "field": "merged",
                "old_value": json.dumps(drop, default=str),
                "new_value": str(keep_id),
                "detected_at": now_iso(),
                "capture_id": None,
            }
        )
        db.execute(
            "UPDATE merge_suggestions SET status = 'merged' WHERE "
            "(contact_id = ? AND other_contact_id = ?) OR (contact_id = ? AND other_contact_id = ?)",
            [min(keep_id, drop_id), max(keep_id, drop_id)] * 2,
        )
        db.execute(_CARRY_SUGGESTIONS, {"keep": keep_id, "drop": drop_id})
        # What still names the dropped contact goes with it. Spelled out rather than left to ON DELETE
        # CASCADE, which needs `PRAGMA foreign_keys`: on, on Kith's connections; off, on the one
        # Datasette writes through when the companion is not running.
        db.execute("DELETE FROM contact_tags WHERE contact_id = ?", [drop_id])
        db.execute("DELETE FROM relationships WHERE from_contact_id = ? OR to_contact_id = ?", [drop_id, drop_id])
        db.execute("DELETE FROM merge_suggestions WHERE contact_id = ? OR other_contact_id = ?", [drop_id, drop_id])
        db.execute("DELETE FROM contacts WHERE id = ?", [drop_id])
    return moved
