"""Saving many people at once, with the identity resolution captures use, in bulk.

`resolve_and_upsert` resolves one person with a handful of queries, and its
merge-suggestion scan reads the whole contacts table; 30,000 LinkedIn rows that
way take minutes. `save_people` applies the same rules to a batch:

* a person is the contact owning the first of their identity keys already
  known, else of their linked keys, else new (keys seen earlier in the same
  batch count, so a file never duplicates a person either);
* keys owned by someone else become a "they share an identity" merge
  suggestion; new people get "similar name and same company/location"
  suggestions against the same (at most 500) earlier candidates;
* an existing contact is updated with `update_contact`, so job changes land in
  `profile_changes`. An import only fills empty fields, except fields that an
  earlier import of the same source wrote (a newer export then wins over an
  older one, never over a capture or a user edit).

Lookups are one query per batch (json_each), new rows go in with executemany,
and the caller holds one transaction for the whole import.
"""

from __future__ import annotations

import json
from bisect import bisect_left
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable, Iterable

import numpy
from rapidfuzz import fuzz, process
from sqlite_utils import Database

from ..identity import SHARED_KINDS, same_person_name
from ..store.contacts import (
    MERGE_SUGGESTION_THRESHOLD,
    PROFILE_COLUMNS,
    provably_different_pairs,
    suggest_merge,
    update_contact,
)
from ..store.schema import CIRCLES
from ..timeutil import now_iso
from .bulk import bulk_insert
from .report import ImportReport

EXTRA_COLUMNS = ("circle", "how_met", "keep_in_touch_days")
SIMILAR_CANDIDATES = 500  # as in store.contacts.suggest_similar
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


@dataclass
class Person:
    """One person as a reader found them, before any database lookup."""

    file: str
    line: int | None
    fields: dict
    identities: list[dict] = field(default_factory=list)
    links: list[dict] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    interactions: list[dict] = field(default_factory=list)  # kind, happened_at, summary


@contextmanager
def import_transaction(db: Database):
    """One transaction per import, begun IMMEDIATE so the write lock is held from the
    start: ids allocated from max(id) stay valid, and any failure rolls back everything."""
    if db.conn.in_transaction:
        with db.atomic():
            yield db
        return
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.conn.execute("ROLLBACK")
        raise
    db.conn.execute("COMMIT")


def clean(value):
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def ids_json(ids: Iterable) -> str:
    return json.dumps(list(ids))


def lookup_identities(db: Database, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """Owners of these (kind, value) keys: one indexed query per kind, over a plain list of values
    (a list of [kind, value] pairs cost two json_extract calls per key)."""
    values: dict[str, dict[str, None]] = {}
    for kind, value in keys:
        values.setdefault(kind, {})[value] = None
    found = {}
    for kind, of_kind in values.items():
        for value, cid in db.execute(
            # json_each drives (CROSS JOIN keeps the order): one index seek per value, no temporary index
            "SELECT i.value, i.contact_id FROM json_each(?2) j CROSS JOIN identities i ON i.kind = ?1 AND i.value = j.value",
            [kind, json.dumps(list(of_kind))],
        ):
            found[(kind, value)] = cid
    return found


SHARED_NOTE = "Shared with another contact (kept as two people; see merge suggestions):"


def _names(db: Database, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(
        db.execute("SELECT id, name FROM contacts WHERE id IN (SELECT value FROM json_each(?))", [ids_json(ids)])
    )


def _name_key(fields: dict) -> tuple[str, str]:
    return ((clean(fields.get("name")) or "").casefold(), (clean(fields.get("company")) or "").casefold())


def _keyless_matches(
    db: Database, people: list[Person], source: str, owner: dict | None = None
) -> dict[tuple[str, str], list[int]]:
    """People with no identity key of their own (none at all, or only keys someone else
    holds) are matched by name and company, but only to contacts without keys that this
    same source created (so a re-import is idempotent without ever auto-merging with a
    captured person on a soft key; that stays a suggestion).

    Returns, per (name, company), those contacts in id order: the k-th such row of a
    file is the k-th such contact, so two "John Smith"s in one address book stay two.
    """
    owner = owner or {}
    names = sorted(
        {
            p.fields.get("name") or ""
            for p in people
            if all((i["kind"], i["value"]) in owner for i in p.identities + p.links)
        }
        - {""}
    )
    if not names:
        return {}
    found: dict[tuple[str, str], list[int]] = {}
    for cid, name, company, sources in db.execute(
        "SELECT id, name, company, field_sources FROM contacts WHERE name IN (SELECT value FROM json_each(?))"
        " AND NOT EXISTS (SELECT 1 FROM identities i WHERE i.contact_id = contacts.id) ORDER BY id",
        [json.dumps(names)],
    ):
        if json.loads(sources or "{}").get("name") == source:
            found.setdefault(_name_key({"name": name, "company": company}), []).append(cid)
    return found


def _sanitise(fields: dict, report: ImportReport, person: "Person") -> dict:
    """Drop values the schema's CHECKs would refuse (one bad row must not abort the import)."""
    if fields.get("circle") is None and fields.get("keep_in_touch_days") is None:
        return fields
    fields = dict(fields)
    where = f"{person.file}, line {person.line}"
    circle = clean(fields.get("circle"))
    if circle is not None and circle.lower() not in CIRCLES:
        report.warnings.append(f"{where}: ignored unknown circle {circle!r}")
        circle = None
    fields["circle"] = circle.lower() if circle else None
    days = fields.get("keep_in_touch_days")
    if days not in (None, ""):
        try:
            days = int(days)
            if days <= 0:
                raise ValueError
        except (TypeError, ValueError):
            report.warnings.append(f"{where}: ignored keep-in-touch days {fields['keep_in_touch_days']!r}")
            days = None
    fields["keep_in_touch_days"] = days or None
    return fields


_COLUMNS = PROFILE_COLUMNS + EXTRA_COLUMNS
_COLUMN_SET = frozenset(_COLUMNS)
_PROFILE_SET = frozenset(PROFILE_COLUMNS)
# A new contact's row holds only the columns with a value; the insert binds the batch's union of
# them in this order (an omitted column gets its schema default, NULL, as a bound NULL would).
_ROW_ORDER = ("id", *_COLUMNS, "field_sources", "last_interaction_at", "created_at", "updated_at")


@lru_cache(maxsize=4096)
def _sources_json(keys: tuple[str, ...], source: str) -> str | None:
    return json.dumps({k: source for k in keys}, sort_keys=True) if keys else None


def _new_row(cid: int, fields: dict, source: str, now: str) -> dict:
    row = {"id": cid, "name": ""}
    sourced = []  # the profile fields this source fills (any order: the JSON sorts its keys)
    for key, value in fields.items():
        if key in _COLUMN_SET:
            if isinstance(value, str):
                value = value.strip() or None
            if value is not None:
                row[key] = value
                if value and key in _PROFILE_SET:
                    sourced.append(key)
    row["name"] = row["name"] or ""
    row["field_sources"] = _sources_json(tuple(sourced), source)
    row["last_interaction_at"] = None
    row["created_at"] = row["updated_at"] = now
    return row


def _fill(row: dict, fields: dict) -> None:
    """A second row for a person created in this batch only fills what is still empty."""
    for key in PROFILE_COLUMNS + EXTRA_COLUMNS:
        new = clean(fields.get(key))
        if new is not None and not row.get(key):
            row[key] = new


def field_changes(current: dict, fields: dict, source: str, *, refresh: bool = True) -> dict:
    """What an import may change on an existing contact: empty fields, and (with `refresh`)
    fields the same source wrote before (so a newer export of the same kind updates them)."""
    out = {}
    sources = None
    for key, value in fields.items():
        new = clean(value)
        if new is None or key not in current:
            continue
        old = current[key]
        if old == new:
            continue
        if key in EXTRA_COLUMNS:
            if old is None:
                out[key] = new
        elif key in PROFILE_COLUMNS:
            if not old:
                out[key] = new
                continue
            if not refresh:
                continue
            if sources is None:
                sources = json.loads(current.get("field_sources") or "{}")
            if sources.get(key) == source:
                out[key] = new
    return out


def save_people(
    db: Database,
    people: list[Person],
    *,
    source: str,
    report: ImportReport,
    now: str | None = None,
    progress: Callable[[int], None] | None = None,
    count: bool = True,
    created: set[int] | None = None,
) -> list[int]:
    """Resolve and store every person; returns their contact ids in order.

    Must run inside the import's transaction. `count=False` keeps these
    contacts out of the created/updated/unchanged counts (message senders,
    counted apart). `created`, if given, receives the ids of the contacts created here.
    """
    assert db.conn.in_transaction, "save_people runs inside the import's transaction"
    now = now or now_iso()
    keys = [(i["kind"], i["value"]) for p in people for i in p.identities + p.links]
    owner = lookup_identities(db, keys)
    keyless = _keyless_matches(db, people, source, owner)
    next_id = db.execute("SELECT coalesce(max(id), 0) + 1 FROM contacts").fetchone()[0]
    owner_names = _names(db, {cid for (kind, _), cid in owner.items() if kind in SHARED_KINDS})
    kept_apart = 0

    def first_owner(idents: list[dict], name) -> int | None:
        """The first key's owner, skipping keys people share whose owner's name disagrees."""
        for ident in idents:
            kind = ident["kind"]
            holder = owner.get((kind, ident["value"]))
            if holder is None:
                continue
            if kind not in SHARED_KINDS:
                return holder
            held_by = new_rows[holder]["name"] if holder in new_rows else owner_names.get(holder)
            if same_person_name(name, held_by):
                return holder
        return None

    new_rows: dict[int, dict] = {}
    new_identities: list[tuple] = []  # (contact_id, kind, value, url, source, label)
    share_suggestions: list[tuple[int, int]] = []
    existing: dict[int, list[dict]] = {}  # contact id -> field dicts, in file order
    seen: set[int] = set()
    ids: list[int] = []
    for done, person in enumerate(people, 1):
        fields = _sanitise(person.fields, report, person)
        name = fields.get("name")
        cid = first_owner(person.identities, name)
        if cid is None and person.links:
            cid = first_owner(person.links, name)
        if cid is None and all((i["kind"], i["value"]) in owner for i in person.identities + person.links):
            same_name = keyless.get(_name_key(fields))
            cid = same_name.pop(0) if same_name else None
        if len(person.interactions) == 1:
            latest = person.interactions[0].get("happened_at") or None
        else:
            latest = max((i["happened_at"] for i in person.interactions if i.get("happened_at")), default=None)
        if cid is None:
            cid, next_id = next_id, next_id + 1
            new_rows[cid] = _new_row(cid, fields, source, now)
            # Set now, so the later `touch` finds nothing to move (and no FTS re-index).
            new_rows[cid]["last_interaction_at"] = latest
        elif cid in new_rows:
            _fill(new_rows[cid], fields)
            if latest and latest > (new_rows[cid]["last_interaction_at"] or ""):
                new_rows[cid]["last_interaction_at"] = latest
        else:
            existing.setdefault(cid, []).append(fields)
        if count and cid in seen:
            report.duplicates += 1
        seen.add(cid)
        others: list[int] = []
        shared: list[str] = []
        for idents, ident_source in ((person.identities, source), (person.links, "link")):
            for ident in idents:
                key = (ident["kind"], ident["value"])
                holder = owner.get(key)
                if holder is None:
                    owner[key] = cid
                    new_identities.append(
                        (cid, key[0], key[1], ident.get("url"), ident.get("rel") or ident_source, ident.get("label"))
                    )
                elif holder != cid:
                    if holder not in others:
                        others.append(holder)
                    if ident_source == source and key[0] in SHARED_KINDS:
                        shared.append(f"{key[0].title()}: {key[1]}")
        if others:
            share_suggestions += [(cid, other) for other in others]
        if shared and count:
            # The key stays with its first holder (keys are unique); this person keeps it as text.
            person.notes.append(SHARED_NOTE + "\n" + "\n".join(shared))
            kept_apart += 1
        ids.append(cid)
        if progress and done % 1000 == 0:
            progress(1000)
    if progress and len(people) % 1000:
        progress(len(people) % 1000)

    _insert_contacts(db, list(new_rows.values()))
    bulk_insert(
        db,
        "identities",
        "INSERT INTO identities (contact_id, kind, value, url, source, label) VALUES (?, ?, ?, ?, ?, ?)",
        new_identities,
    )
    changed = _update_existing(db, existing, source, now)
    changed.update(r[0] for r in new_identities if r[0] not in new_rows)
    for cid, other in share_suggestions:
        suggest_merge(db, cid, other, 100.0, "they share an identity", now=now)
    suggest_similar_batch(db, sorted(new_rows), now=now)
    if kept_apart:
        report.warnings.append(
            f"{kept_apart} people share an email, phone or URL with another contact: each"
            " keeps their own name (the shared value is in a note; a merge is suggested)"
        )
    report.added["identities"] += len(new_identities)
    if created is not None:
        created.update(new_rows)
    if count:
        report.created_ids.update(new_rows)
        report.seen_ids.update(ids)
        report.changed_ids.update(changed)
    else:
        report.added["contacts created from messages"] += len(new_rows)
    return ids


def _insert_contacts(db: Database, rows: list[dict]) -> None:
    """One executemany of plain tuples: binding by name, and binding the many empty columns,
    cost more than SQLite's own work for the row."""
    if rows:
        present = set().union(*rows)
        columns = [c for c in _ROW_ORDER if c in present]
        bulk_insert(
            db,
            "contacts",
            f"INSERT INTO contacts ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
            [tuple(map(row.get, columns)) for row in rows],
        )


def _update_existing(db: Database, existing: dict[int, list[dict]], source: str, now: str) -> set[int]:
    """Apply each row's allowed changes with the store's `update_contact`; returns changed ids."""
    if not existing:
        return set()
    cursor = db.execute("SELECT * FROM contacts WHERE id IN (SELECT value FROM json_each(?))", [ids_json(existing)])
    columns = [d[0] for d in cursor.description]
    current = {row[0]: dict(zip(columns, row)) for row in cursor}
    changed: set[int] = set()
    for cid, field_list in existing.items():
        row = current[cid]
        for n, fields in enumerate(field_list):
            # Only a person's first row refreshes what this source wrote; a second row of the same
            # person (a name written another way) fills gaps, as it did when the contact was new.
            changes = field_changes(row, fields, source, refresh=n == 0)
            if not changes:
                continue
            sources = {k: source for k in changes if k in PROFILE_COLUMNS}
            update_contact(db, cid, {**changes, "sources": sources}, now=now, overwrite=True)
            merged = json.loads(row.get("field_sources") or "{}")
            merged.update(sources)
            row.update(changes, field_sources=json.dumps(merged, sort_keys=True))
            changed.add(cid)
    return changed


def suggest_similar_batch(db: Database, new_ids: list[int], *, now: str | None = None) -> int:
    """`suggest_similar` for many new contacts at once: each is compared with the first
    500 earlier contacts sharing its company or location, as if created one by one."""
    if not new_ids:
        return 0
    fresh = set(new_ids)
    groups: dict[tuple[str, str], list[int]] = {}
    info: dict[int, tuple[str, str | None]] = {}
    sorted_keys: dict[str | None, str] = {}  # names repeat: sort each one's words once
    # Each spelling of a company or place -> (its group's key, the group): SQLite's lower() once per spelling.
    by_company: dict[str, tuple[tuple[str, str], list[int]]] = {}
    by_location: dict[str, tuple[tuple[str, str], list[int]]] = {}
    blocks: dict[tuple[str, str], list[tuple[int, int]]] = {}  # group -> (new id, its place in the group)
    both: list[tuple[int, tuple[str, str], tuple[str, str]]] = []  # new ids with a company and a place

    def join(index: dict, tag: str, value: str, cid: int) -> tuple[tuple[str, str], int]:
        """Add `cid` to the group of this spelling of a company or place: (the group's key, its place)."""
        found = index.get(value)
        if found is None:
            group = (tag, _ascii_lower(value))
            found = index[value] = (group, groups.setdefault(group, []))
        group, pool = found
        pool.append(cid)
        return group, len(pool) - 1

    # Everyone sharing a company or place with a new contact, in id order (the new ones among them);
    # lower() in SQL is what `suggest_similar` compares.
    for cid, name, company, location in db.execute(
        "WITH new AS (SELECT company, location FROM contacts WHERE id IN (SELECT value FROM json_each(?1))"
        " AND name != '') SELECT id, name, company, location FROM contacts"
        " WHERE lower(company) IN (SELECT lower(company) FROM new)"
        " OR lower(location) IN (SELECT lower(location) FROM new) ORDER BY id",
        [ids_json(new_ids)],
    ):
        # token_sort_ratio(a, b) is ratio() of the words sorted: sort once here, not per pair.
        key = sorted_keys.get(name)
        if key is None:
            key = sorted_keys[name] = " ".join(sorted((name or "").lower().split()))
        info[cid] = (key, company)
        company_group = location_group = None
        if company:
            company_group, place = join(by_company, "c", company, cid)
        if location:
            location_group, place = join(by_location, "l", location, cid)
        if cid in fresh and name:
            if company_group and location_group:
                both.append((cid, company_group, location_group))
            elif company_group or location_group:
                blocks.setdefault(company_group or location_group, []).append((cid, place))
    found_pairs: list[tuple[int, int, float]] = []
    for cid, *found in both:
        # Both groups are in id order: the first 500 earlier ids of their union come from
        # the first 500 earlier ids of each.
        heads = [groups[g][: min(bisect_left(groups[g], cid), SIMILAR_CANDIDATES)] for g in found]
        earlier = sorted(set(heads[0]).union(heads[1]))[:SIMILAR_CANDIDATES]
        if earlier:
            found_pairs += [
                (cid, earlier[index], score)
                for _, score, index in process.extract(
                    info[cid][0],
                    [info[i][0] for i in earlier],
                    scorer=fuzz.ratio,
                    score_cutoff=MERGE_SUGGESTION_THRESHOLD,
                    limit=None,
                )
            ]
    for group, block in blocks.items():
        found_pairs += _similar_in_group(groups[group], block, info)
    # In the order one-by-one creation would make them: by new contact, best score first.
    found_pairs.sort(key=lambda pair: (pair[0], -pair[2], pair[1]))
    apart = provably_different_pairs(db, found_pairs)
    rows = []
    for cid, other, score in found_pairs:
        if (cid, other) in apart:
            continue
        company, other_company = info[cid][1], info[other][1]
        same = "company" if company and other_company and company.lower() == other_company.lower() else "location"
        rows.append((cid, other, float(score), f"similar name ({score:.0f}%) and the same {same}"))
    db.conn.executemany(
        "INSERT OR IGNORE INTO merge_suggestions (contact_id, other_contact_id, score, reason, status, created_at)"
        " VALUES (min(?1, ?2), max(?1, ?2), ?3, ?4, 'open', ?5)",
        [(*r, now or now_iso()) for r in rows],
    )
    return len(rows)


def _ascii_lower(text: str) -> str:
    """SQLite's lower(): ASCII letters only (str.lower is the same on ASCII text, and quicker)."""
    return text.lower() if text.isascii() else text.translate(_ASCII_LOWER)


def _similar_in_group(pool: list[int], new_ids: list[tuple[int, int]], info: dict) -> list[tuple[int, int, float]]:
    """(new id, earlier id, score) for new contacts whose only group is `pool` (everyone at one
    company or place, in id order), given as (id, its index in `pool`): each is compared with the
    first 500 earlier members, as `suggest_similar` would. Names repeat within a group, so each
    distinct name is scored once against each distinct name among those 500 (one `cdist` matrix
    per group, the blocks), and the pairs are expanded after; a pair's score is fuzz.ratio itself
    (cdist works in float32)."""
    wanted = [(cid, place) for cid, place in new_ids if place]  # place 0: nobody earlier
    if not wanted:
        return []
    heads = pool[:SIMILAR_CANDIDATES]
    positions: dict[str, list[int]] = {}
    for position, member in enumerate(heads):
        positions.setdefault(info[member][0], []).append(position)
    head_keys = list(positions)
    query_keys = list(dict.fromkeys(info[cid][0] for cid, _ in wanted))
    # float32 rounding may put a pair a hair either side of the cutoff: take a margin, then keep
    # exactly the pairs whose own fuzz.ratio passes. Only which cells are non-zero matters (every
    # score kept is at least the cutoff, every other one 0), so one byte per cell is enough.
    matrix = process.cdist(
        query_keys,
        head_keys,
        scorer=fuzz.ratio,
        score_cutoff=MERGE_SUGGESTION_THRESHOLD - 0.01,
        dtype=numpy.uint8,
        workers=-1 if len(query_keys) * len(head_keys) > 200_000 else 1,
    )
    matches: dict[str, list[tuple[str, float]]] = {}
    for q, h in zip(*numpy.nonzero(matrix)):
        key, choice = query_keys[q], head_keys[h]
        score = fuzz.ratio(key, choice)
        if score >= MERGE_SUGGESTION_THRESHOLD:
            matches.setdefault(key, []).append((choice, score))
    out = []
    for cid, place in wanted:
        found = matches.get(info[cid][0])
        if not found:
            continue
        end = min(place, SIMILAR_CANDIDATES)
        for choice, score in found:
            for position in positions[choice]:
                if position >= end:
                    break
                out.append((cid, heads[position], score))
    return out
