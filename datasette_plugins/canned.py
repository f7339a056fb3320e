"""Canned queries for the questions people ask of their network.

Plain SQL over the public schema, shown in Datasette like any other query so a
user can read and adapt it. User-typed words are quoted before reaching FTS5,
so punctuation cannot cause a syntax error.

Datasette 0.65 asks for them through the `canned_queries` hook; 1.0 dropped that
hook for stored queries, which `register` adds with `datasette.add_query` at startup.
"""

from __future__ import annotations

from . import kithdb

QUERIES = {
    "people_at_company": {
        "title": "People at a company",
        "sql": """SELECT id, name, title, company, headline, location, last_interaction_at
FROM contacts
WHERE company LIKE '%' || :company || '%'
ORDER BY name COLLATE NOCASE""",
    },
    "who_introduced_whom": {
        "title": "Who introduced me to whom",
        "description": "A relationship (from, to, 'introduced_by') means from was introduced by to.",
        "sql": """SELECT introducer.id AS introducer_id, introducer.name AS introducer,
       introduced.id AS introduced_id, introduced.name AS introduced, r.note
FROM relationships r
JOIN contacts introduced ON introduced.id = r.from_contact_id
JOIN contacts introducer ON introducer.id = r.to_contact_id
WHERE r.kind = 'introduced_by'
ORDER BY introducer.name COLLATE NOCASE, introduced.name COLLATE NOCASE""",
    },
    "job_changes_last_30_days": {
        "title": "Job changes in the last 30 days",
        "sql": """SELECT pc.contact_id, c.name, pc.field, pc.old_value, pc.new_value, pc.detected_at
FROM profile_changes pc JOIN contacts c ON c.id = pc.contact_id
WHERE pc.field IN ('title', 'company')
  AND pc.detected_at >= strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-30 days')
ORDER BY pc.detected_at DESC""",
    },
    "met_at_event_or_tag": {
        "title": "People I met at an event, or with a tag",
        "sql": """SELECT c.id, c.name, c.company, c.how_met,
       (SELECT group_concat(t.name, ', ') FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id
        WHERE ct.contact_id = c.id) AS tags
FROM contacts c
WHERE (:event_or_tag != '' AND c.how_met LIKE '%' || :event_or_tag || '%')
   OR c.id IN (SELECT ct.contact_id FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id
               WHERE t.name = :event_or_tag COLLATE NOCASE)
ORDER BY c.name COLLATE NOCASE""",
    },
    "notes_mentioning": {
        "title": "Notes mentioning a word",
        "sql": """SELECT n.id, n.contact_id, c.name,
       snippet(notes_fts, 0, '[', ']', '…', 16) AS snippet, n.created_at
FROM notes_fts
JOIN notes n ON n.id = notes_fts.rowid
LEFT JOIN contacts c ON c.id = n.contact_id
WHERE notes_fts MATCH '"' || replace(:word, '"', '""') || '"'
ORDER BY notes_fts.rank
LIMIT 200""",
    },
    "possible_duplicates": {
        "title": "Possible duplicates to merge",
        "description": "Open merge suggestions, strongest first. Merge them (or mark them as not the same"
        " person) on Kith's Today page, or with `kith merge KEEP_ID DROP_ID`.",
        "sql": """SELECT ms.score, ms.reason, a.id AS keep_id, a.name AS keep_name, a.company AS keep_company,
       b.id AS drop_id, b.name AS drop_name, b.company AS drop_company, ms.created_at
FROM merge_suggestions ms
JOIN contacts a ON a.id = ms.contact_id
JOIN contacts b ON b.id = ms.other_contact_id
WHERE ms.status = 'open'
ORDER BY ms.score DESC, ms.created_at DESC""",
    },
}


def for_database(datasette, database_name: str) -> dict:
    """QUERIES for 0.65's `canned_queries` hook, less any name the user's metadata already
    uses (0.65 would let the plugin's win). Copies: Datasette writes into what it gets."""
    own = datasette.metadata("queries", database=database_name, fallback=False) or {}
    return {name: dict(query) for name, query in QUERIES.items() if name not in own}


async def register(datasette) -> list[tuple[str, str]]:
    """Store QUERIES for every Kith database (Datasette 1.0); the (database, name) pairs added.

    Trusted: the SQL is Kith's own and read-only, so, as canned queries did on 0.65,
    they need view permission only, not `execute-sql` (which 1.0 denies by default).
    A query of the same name from the user's datasette.yaml is left alone.
    """
    added = []
    for db_name, database in list(datasette.databases.items()):
        if db_name.startswith("_") or not await kithdb.is_kith(database):
            continue
        for name, query in QUERIES.items():
            existing = await datasette.get_query(db_name, name)
            if existing is not None and existing.source != "plugin":
                continue
            await datasette.add_query(
                db_name,
                name,
                query["sql"],
                title=query.get("title"),
                description=query.get("description"),
                is_trusted=True,
                source="plugin",
            )
            added.append((db_name, name))
    return added
