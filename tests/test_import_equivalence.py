"""The fast LinkedIn import gives the same contacts, identities and merge suggestions as the old path.

The fast path has these parts: canonical LinkedIn and email keys without the general parsers
(identity._LINKEDIN_FAST, identity._EMAIL_FAST), contacts inserted as tuples of only the
columns with values, large batches indexed after the insert (search index and secondary
indexes, bulk.bulk_insert), and merge suggestions by blocks (one rapidfuzz cdist per company,
set-based "provably different"). The reference here turns them all off: every URL and address
takes the general parser, every contact column is bound, rows go in one by one through the
schema's triggers and indexes, and
suggestions come from a straightforward per-row resolver written out below -- for each new
contact, in id order, the first 500 earlier contacts at the same company or place, fuzz.ratio of
the sorted lowercased names >= 88, one `provably_different` query per pair -- the rules the old
`suggest_similar_batch` applied. Both run on the benchmark's clustered Connections.csv (thousands
at the same employer, repeated names, rows without URLs, people listed twice), on top of
contacts that already have a company and a place, then once more with a newer export.
"""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

import pytest
from rapidfuzz import fuzz

from companion import identity
from companion.importers import bulk, people
from companion.importers import linkedin
from companion.importers.linkedin import import_linkedin
from companion.store import contacts
from companion.store.db import open_db

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from bench_import import write_clustered_connections  # noqa: E402

ROWS = 4000


def reference_suggest_similar_batch(db, new_ids, *, now=None):
    """The old rules, one new contact at a time, one query per candidate pair."""
    made = 0
    for cid in sorted(new_ids):
        cid, name, company, location = db.execute(
            "SELECT id, name, company, location FROM contacts WHERE id = ?", [cid]
        ).fetchone()
        if not name or not (company or location):
            continue
        candidates = db.execute(
            "SELECT id, name, company FROM contacts WHERE id < ? AND ((? IS NOT NULL AND lower(company) = lower(?))"
            " OR (? IS NOT NULL AND lower(location) = lower(?))) ORDER BY id LIMIT 500",
            [cid, company, company, location, location],
        ).fetchall()
        mine = " ".join(sorted(name.lower().split()))
        scored = []
        for other, other_name, other_company in candidates:
            score = fuzz.ratio(mine, " ".join(sorted((other_name or "").lower().split())))
            if score >= contacts.MERGE_SUGGESTION_THRESHOLD:
                scored.append((-score, other, other_company))
        for negative, other, other_company in sorted(scored):
            if contacts.provably_different(db, cid, other):
                continue
            same = "company" if company and other_company and company.lower() == other_company.lower() else "location"
            contacts.suggest_merge(
                db, cid, other, float(-negative), f"similar name ({-negative:.0f}%) and the same {same}", now=now
            )
            made += 1
    return made


def seed(db):
    """Contacts already there: some at the big employers, with a place, some sharing names."""
    rng_names = ["Emily Wilson", "Timothy Gonzalez", "Jessica Williams", "Emily Wilsen", "Tim Gonzalez"]
    for i, name in enumerate(rng_names * 3):
        contacts.resolve_and_upsert(
            db,
            {
                "name": name,
                "company": ["Nova Cloud", "Polar Media", "nova cloud"][i % 3],
                "location": ["Berlin", "Lisbon"][i % 2],
            },
            [{"kind": "url", "value": f"https://example.com/{i}", "url": None}],
        )
    db.conn.commit()


def reference_insert_contacts(db, rows):
    """The old insert: every column bound by name (None where the row has no value), one row
    at a time through the search-index trigger."""
    columns = people._ROW_ORDER
    db.conn.executemany(
        f"INSERT INTO contacts ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)})",
        [{c: row.get(c) for c in columns} for row in rows],
    )


def snapshot(db) -> dict:
    def table(sql):
        return db.execute(sql).fetchall()

    columns = [c for c in db["contacts"].columns_dict if c not in ("created_at", "updated_at")]
    companies = [r[0] for r in table("SELECT company FROM contacts GROUP BY company ORDER BY count(*) DESC LIMIT 5")]
    return {
        "contacts": [
            dict(zip(columns, row)) for row in table(f"SELECT {', '.join(columns)} FROM contacts ORDER BY id")
        ],
        "search": [
            table(f"SELECT rowid FROM contacts_fts WHERE contacts_fts MATCH '\"{c}\"' ORDER BY rowid")
            for c in companies
            if c
        ],
        "indexes": table("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name"),
        "identities": table("SELECT * FROM identities ORDER BY id"),
        "suggestions": table(
            "SELECT id, contact_id, other_contact_id, score, reason, status FROM merge_suggestions ORDER BY id"
        ),
        "interactions": table("SELECT contact_id, kind, happened_at, summary FROM interactions ORDER BY id"),
        "notes": table("SELECT contact_id, body FROM notes ORDER BY id"),
        "changes": table("SELECT contact_id, field, old_value, new_value FROM profile_changes ORDER BY id"),
    }


def newer_export(src: Path, dst: Path) -> None:
    """The same network a while later: every 7th person moved to another employer."""
    lines = src.read_text(encoding="utf-8").splitlines(keepends=True)
    preamble, body = lines[:3], lines[3:]
    rows = list(csv.reader(body))
    for n, row in enumerate(rows[1:], 1):
        if n % 7 == 0:
            row[4] = "Nova Cloud" if row[4] != "Nova Cloud" else "Polar Media"
    with open(dst, "w", newline="", encoding="utf-8") as f:
        f.writelines(preamble)
        csv.writer(f).writerows(rows)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("equivalence")
    first = tmp / "Connections.csv"
    write_clustered_connections(first, ROWS, seed=4)
    later = tmp / "later" / "Connections.csv"
    later.parent.mkdir()
    newer_export(first, later)
    return tmp, first, later


def run(tmp: Path, name: str, files: list[Path], *, reference: bool, monkeypatch) -> list[dict]:
    linkedin._linkedin_key.cache_clear()  # keys cached by the other run must be computed again
    with monkeypatch.context() as patch:
        if reference:
            patch.setattr(identity, "_LINKEDIN_FAST", re.compile(r"(?!)"))  # never matches
            patch.setattr(identity, "_EMAIL_FAST", re.compile(r"(?!)"))
            patch.setattr(people, "suggest_similar_batch", reference_suggest_similar_batch)
            patch.setattr(people, "_insert_contacts", reference_insert_contacts)
            patch.setattr(bulk, "BULK_THRESHOLD", 10**9)  # row by row: triggers and indexes as they are
        db = open_db(tmp / name)
        seed(db)
        shots = []
        for path in files:
            import_linkedin(db, path)
            shots.append(snapshot(db))
        db.close()
    return shots


def test_fast_import_matches_the_per_row_reference(files, monkeypatch):
    tmp, first, later = files
    fast = run(tmp, "fast.db", [first, first, later], reference=False, monkeypatch=monkeypatch)
    slow = run(tmp, "slow.db", [first, first, later], reference=True, monkeypatch=monkeypatch)
    for step, (got, want) in enumerate(zip(fast, slow)):
        for table in want:
            assert got[table] == want[table], f"import {step + 1}: {table} differ"
    # The file really is clustered, and the comparison covers what matters.
    first_import = fast[0]
    assert len(first_import["contacts"]) > 3500
    assert len(first_import["suggestions"]) >= 10
    biggest = max(
        sum(1 for c in first_import["contacts"] if c["company"] == company)
        for company in {c["company"] for c in first_import["contacts"]}
    )
    assert biggest > 500, "a company bigger than the 500-candidate window"
    assert len(fast[2]["changes"]) > len(fast[1]["changes"]), "the newer export changed jobs"
    assert any(kind == "email" for _, _, kind, *_ in first_import["identities"]), "email keys are compared"
    assert all(first_import["search"]), "the search index finds the biggest employers"
