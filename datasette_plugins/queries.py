"""The SQL behind the contact page, reconnect queue, ledger and search.

Every function takes a plain sqlite3 connection and returns plain dicts, so
the views run them in one `execute_fn` hop, the tests call them directly, and
the benchmark times the same SQL through bare sqlite3 as its reference.
"""

from __future__ import annotations

import re
import sqlite3

from .safety import MARK_END, MARK_START

DEFAULT_CADENCE = {"professional": 90, "personal": 30, "both": 60}
DEFAULT_WEEKLY_CAPACITY = 10
MAX_LIMIT = 500
TIMELINE_LIMIT = 100
LEDGER_LIMIT = 100
SEARCH_RANK_WINDOW = 5000
SEARCH_LIMITS = {"contacts": 50, "notes": 100, "messages": 100}


def rows(conn: sqlite3.Connection, sql: str, params=()) -> list[dict]:
    cursor = conn.execute(sql, params)
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row)) for row in cursor.fetchall()]


def settings(conn: sqlite3.Connection) -> dict[str, str]:
    return {k: v for k, v in conn.execute("SELECT key, value FROM settings")}


def int_setting(values: dict, key: str, default: int | None) -> int | None:
    try:
        number = int(str(values.get(key, "")).strip())
    except ValueError:
        return default
    return number if number > 0 else default


def me_id(conn: sqlite3.Connection) -> int | None:
    """The user's own contact: `contacts.is_me = 1`, else the `me.contact_id` setting."""
    row = conn.execute("SELECT id FROM contacts WHERE is_me = 1 ORDER BY id LIMIT 1").fetchone()
    if row:
        return row[0]
    return int_setting(settings(conn), "me.contact_id", None)


# --- the contact page -------------------------------------------------------

TIMELINE_SQL = """
SELECT * FROM (SELECT 'note' AS kind, id, created_at AS at, NULL AS title, body AS text,
  NULL AS url, NULL AS extra FROM notes WHERE contact_id = :id ORDER BY created_at DESC LIMIT :n)
UNION ALL SELECT * FROM (SELECT 'message', id, sent_at, sender, body, thread_url,
  direction || coalesce(' · ' || channel, '') FROM messages WHERE contact_id = :id
  ORDER BY sent_at DESC LIMIT :n)
UNION ALL SELECT * FROM (SELECT 'interaction', id, happened_at, kind || coalesce(' (' || source || ')', ''),
  summary, NULL, direction FROM interactions WHERE contact_id = :id ORDER BY happened_at DESC LIMIT :n)
UNION ALL SELECT * FROM (SELECT 'capture', id, coalesce(captured_at, received_at), title, kind,
  url, status FROM captures WHERE contact_id = :id
  ORDER BY coalesce(captured_at, received_at) DESC LIMIT :n)
UNION ALL SELECT * FROM (SELECT 'profile_change', id, detected_at, field, old_value, NULL,
  new_value FROM profile_changes WHERE contact_id = :id ORDER BY detected_at DESC LIMIT :n)
UNION ALL SELECT * FROM (SELECT 'exchange', id, happened_at, direction, description, NULL, kind
  FROM exchanges WHERE contact_id = :id ORDER BY happened_at DESC LIMIT :n)
ORDER BY at DESC, kind, id DESC LIMIT :n
"""

RELATIONSHIPS_SQL = """
SELECT r.id, r.kind, r.note, 'out' AS direction, c.id AS other_id, c.name AS other_name,
       c.avatar_url AS other_avatar_url
FROM relationships r JOIN contacts c ON c.id = r.to_contact_id WHERE r.from_contact_id = :id
UNION ALL
SELECT r.id, r.kind, r.note, 'in', c.id, c.name, c.avatar_url
FROM relationships r JOIN contacts c ON c.id = r.from_contact_id WHERE r.to_contact_id = :id
ORDER BY 2, 6 LIMIT 500
"""


def relationship_label(kind: str, direction: str) -> str:
    """How a relationship reads from this contact's side.

    `(from, to, 'introduced_by')` means "from was introduced to me by to".
    """
    if kind == "introduced_by":
        return "introduced by" if direction == "out" else "introduced you to"
    return (kind or "related").replace("_", " ")


def contact_page(conn: sqlite3.Connection, contact_id: int, limit=None) -> dict | None:
    """The card, identities, tags, relationships and the newest `limit` timeline items."""
    limit = clamp_limit(limit, TIMELINE_LIMIT)
    found = rows(conn, "SELECT * FROM contacts WHERE id = ?", [contact_id])
    if not found:
        return None
    contact = found[0]
    contact.pop("field_sources", None)
    params = {"id": contact_id, "n": limit + 1}
    timeline = rows(conn, TIMELINE_SQL, params)
    relationships = rows(conn, RELATIONSHIPS_SQL, params)
    for rel in relationships:
        rel["label"] = relationship_label(rel["kind"], rel["direction"])
    return {
        "contact": contact,
        "identities": rows(
            conn,
            "SELECT id, kind, value, url, source FROM identities WHERE contact_id = ? ORDER BY kind, value",
            [contact_id],
        ),
        "tags": [
            r[0]
            for r in conn.execute(
                "SELECT t.name FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id"
                " WHERE ct.contact_id = ? ORDER BY t.name",
                [contact_id],
            )
        ],
        "relationships": relationships,
        "timeline": timeline[:limit],
        "timeline_limit": limit,
        "timeline_more": len(timeline) > limit,
    }


# --- the reconnect queue ------------------------------------------------------

# Narrow first (ids and numbers for every contact, top N kept by the sorter), then
# join the display columns for those N only. Tag cadences are expanded from the
# few tags that have one. `LIMIT -1` keeps `due` a single pass (a flattened CTE
# would re-evaluate julianday() for every place days_since is used).
RECONNECT_SQL = """
WITH tag_cadence AS (
  SELECT ct.contact_id, min(t.keep_in_touch_days) AS days
  FROM tags t CROSS JOIN contact_tags ct ON ct.tag_id = t.id
  WHERE t.keep_in_touch_days > 0 GROUP BY ct.contact_id
),
due AS (
  SELECT c.id, tc.days AS tag_days,
         julianday(:now) - julianday(coalesce(c.last_interaction_at, c.created_at)) AS days_since,
         coalesce(c.keep_in_touch_days, tc.days, CASE c.circle WHEN 'professional' THEN :professional
                  WHEN 'personal' THEN :personal WHEN 'both' THEN :both END) AS cadence
  FROM contacts c LEFT JOIN tag_cadence tc ON tc.contact_id = c.id
  WHERE c.is_me = 0 AND (c.snoozed_until IS NULL OR c.snoozed_until <= :now)
  LIMIT -1
),
top AS (
  SELECT * FROM due WHERE days_since > cadence
  ORDER BY days_since / cadence DESC, days_since DESC, id LIMIT :limit + 1
)
SELECT c.id, c.name, c.avatar_url, c.headline, c.company, c.circle, c.last_interaction_at,
       c.created_at, top.days_since, top.cadence, CAST(top.days_since AS INTEGER) AS days,
       top.days_since / top.cadence AS overdue_ratio,
       CASE WHEN c.keep_in_touch_days IS NOT NULL THEN 'contact'
            WHEN top.tag_days IS NOT NULL THEN 'tag' ELSE 'circle' END AS cadence_source
FROM top JOIN contacts c ON c.id = top.id
ORDER BY overdue_ratio DESC, top.days_since DESC, c.id
"""


# The same ranking as an index read (migration 0007): within one cadence, the most overdue are
# those whose last interaction (else creation) is oldest, so each cadence -- every distinct
# own-or-tag cadence (`keep_in_touch_days`, else `tag_cadence_days`), and each circle's default for the rest --
# contributes its `limit + 1` oldest from an index on that date; the union of those few rows is
# ranked exactly as RECONNECT_SQL ranks everyone. `RECONNECT_SQL` stays for a database that has
# not been migrated yet (a read-only copy of an older file).
_SINCE = "julianday(coalesce(last_interaction_at, created_at))"
_CADENCE = "coalesce(keep_in_touch_days, tag_cadence_days)"
_BRANCH = f"""SELECT * FROM (SELECT id, {{cadence}} AS cadence, {_SINCE} AS since FROM contacts
  WHERE is_me = 0 AND {{group}} AND {_SINCE} < julianday(:now) - {{cadence}} + 1e-6
    AND julianday(:now) - {_SINCE} > {{cadence}} AND (snoozed_until IS NULL OR snoozed_until <= :now)
  ORDER BY {_SINCE}, id LIMIT :limit + 1)"""
RECONNECT_INDEX_SQL = """
WITH picked AS ({branches}),
due AS (
  SELECT id, cadence, julianday(:now) - since AS days_since FROM picked
),
top AS (
  SELECT * FROM due WHERE days_since > cadence
  ORDER BY days_since / cadence DESC, days_since DESC, id LIMIT :limit + 1
)
SELECT c.id, c.name, c.avatar_url, c.headline, c.company, c.circle, c.last_interaction_at,
       c.created_at, top.days_since, top.cadence, CAST(top.days_since AS INTEGER) AS days,
       top.days_since / top.cadence AS overdue_ratio,
       CASE WHEN c.keep_in_touch_days IS NOT NULL THEN 'contact'
            WHEN c.tag_cadence_days IS NOT NULL THEN 'tag' ELSE 'circle' END AS cadence_source
FROM top JOIN contacts c ON c.id = top.id
ORDER BY overdue_ratio DESC, top.days_since DESC, c.id
"""
# Each distinct cadence in one index seek, not a scan of the index.
_CADENCES_SQL = f"""
WITH RECURSIVE d(days) AS (
  SELECT min({_CADENCE}) FROM contacts WHERE is_me = 0 AND {_CADENCE} IS NOT NULL
  UNION ALL
  SELECT (SELECT min({_CADENCE}) FROM contacts WHERE is_me = 0 AND {_CADENCE} > d.days)
  FROM d WHERE d.days IS NOT NULL
)
SELECT days FROM d WHERE days IS NOT NULL
"""


def reconnect_index_sql(conn: sqlite3.Connection, params: dict) -> str | None:
    """The index-read form of the queue for this database, or None before migration 0007."""
    try:
        cadences = [r[0] for r in conn.execute(_CADENCES_SQL)]
    except sqlite3.OperationalError:  # no tag_cadence_days column yet
        return None
    branches = [
        _BRANCH.format(cadence=int(days), group=f"{_CADENCE} = {int(days)}") for days in cadences if int(days) > 0
    ]
    branches += [
        _BRANCH.format(
            cadence=f":{circle}",
            group=f"keep_in_touch_days IS NULL AND tag_cadence_days IS NULL AND circle = '{circle}'",
        )
        for circle in DEFAULT_CADENCE
        if params.get(circle)
    ]
    if not branches:
        branches = ["SELECT NULL AS id, NULL AS cadence, NULL AS since WHERE 0"]
    return RECONNECT_INDEX_SQL.format(branches="\n  UNION ALL ".join(branches))


def cadence_defaults(values: dict, base=None) -> dict[str, int | None]:
    """Circle defaults (`base`: the plugin config's, else DEFAULT_CADENCE), overridable
    with settings keys `cadence.<circle>`."""
    base = {**DEFAULT_CADENCE, **(base or {})}
    return {circle: int_setting(values, f"cadence.{circle}", base[circle]) for circle in DEFAULT_CADENCE}


def reconnect_reason(days: int, cadence: int, ever_spoke: bool) -> str:
    if ever_spoke:
        return f"last spoke {days} days ago; you wanted every {cadence}"
    return f"added {days} days ago and never spoken to; you wanted every {cadence}"


def clamp_limit(value, default: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return max(1, min(number, MAX_LIMIT))


def reconnect_queue(
    conn: sqlite3.Connection, now: str, limit=None, *, capacity: int = DEFAULT_WEEKLY_CAPACITY, cadence=None
) -> dict:
    """Overdue people, most overdue (relative to their cadence) first, capped at capacity.

    `capacity` and `cadence` (per circle) are defaults, from the plugin config; the
    `settings` table keys `reconnect.weekly_capacity` and `cadence.<circle>` win.

    Cadence: the contact's own, else the shortest of their tags' defaults, else
    their circle's default; contacts with none of these never come due. `more`
    says whether anyone overdue was left out; an exact backlog count would cost
    a second full pass and is not something to act on this week anyway.
    """
    values = settings(conn)
    capacity = int_setting(values, "reconnect.weekly_capacity", capacity)
    limit = clamp_limit(limit, capacity)
    params = {**cadence_defaults(values, cadence), "now": now, "limit": limit}
    sql = reconnect_index_sql(conn, params)
    people = rows(conn, RECONNECT_SQL if sql is None else sql, params)
    more = len(people) > limit
    del people[limit:]
    for person in people:
        person["reason"] = reconnect_reason(
            person["days"], person["cadence"], person["last_interaction_at"] is not None
        )
    return {"people": people, "limit": limit, "capacity": capacity, "more": more, "now": now}


# --- the give/take ledger ------------------------------------------------------

LEDGER_FILTERS = {
    "all": ("1", "last_at DESC"),
    "only_taken": ("gave = 0 AND received > 0", "received DESC, last_at DESC"),
    "could_help": ("received > gave", "balance ASC, last_at DESC"),
}

LEDGER_SQL = """
WITH s AS (
  SELECT contact_id, sum(direction = 'gave') AS gave, sum(direction = 'received') AS received,
         sum(direction = 'gave') - sum(direction = 'received') AS balance, max(happened_at) AS last_at
  FROM exchanges GROUP BY contact_id
),
top AS (SELECT * FROM s WHERE {where} ORDER BY {order}, contact_id LIMIT :limit + 1)
SELECT c.id, c.name, c.avatar_url, c.company, top.gave, top.received, top.balance, top.last_at,
       (SELECT e.description FROM exchanges e WHERE e.contact_id = c.id
        ORDER BY e.happened_at DESC LIMIT 1) AS last_description
FROM top JOIN contacts c ON c.id = top.contact_id
ORDER BY {order}, c.id
"""


def ledger(conn: sqlite3.Connection, filter_name: str = "all", limit=None) -> dict:
    """Per person: what was given and received. `only_taken`: received and never gave;
    `could_help`: they have given you more than you gave them."""
    if filter_name not in LEDGER_FILTERS:
        filter_name = "all"
    where, order = LEDGER_FILTERS[filter_name]
    limit = clamp_limit(limit, LEDGER_LIMIT)
    people = rows(conn, LEDGER_SQL.format(where=where, order=order), {"limit": limit})
    totals = rows(
        conn,
        "SELECT coalesce(sum(direction = 'gave'), 0) AS gave,"
        " coalesce(sum(direction = 'received'), 0) AS received FROM exchanges",
    )[0]
    more = len(people) > limit
    return {"filter": filter_name, "people": people[:limit], "totals": totals, "limit": limit, "more": more}


# --- search ---------------------------------------------------------------------

SEARCH_SQL = {
    "contacts": f"""
SELECT f.rowid AS contact_id, f.rowid AS id, f.rank, f.snippet FROM (
  SELECT rowid, bm25(contacts_fts, 10.0, 3.0, 3.0, 2.0, 1.0, 1.0) AS rank,
         snippet(contacts_fts, -1, '{MARK_START}', '{MARK_END}', '…', 12) AS snippet
  FROM contacts_fts WHERE contacts_fts MATCH :q AND rowid >= :floor ORDER BY rank LIMIT :n) f""",
    "notes": f"""
SELECT n.contact_id, n.id, f.rank, f.snippet, n.created_at AS at FROM (
  SELECT rowid, rank, snippet(notes_fts, 0, '{MARK_START}', '{MARK_END}', '…', 16) AS snippet
  FROM notes_fts WHERE notes_fts MATCH :q AND rowid >= :floor ORDER BY rank LIMIT :n) f
JOIN notes n ON n.id = f.rowid""",
    "messages": f"""
SELECT m.contact_id, m.id, f.rank, f.snippet, m.sent_at AS at, m.direction FROM (
  SELECT rowid, rank, snippet(messages_fts, -1, '{MARK_START}', '{MARK_END}', '…', 16) AS snippet
  FROM messages_fts WHERE messages_fts MATCH :q AND rowid >= :floor ORDER BY rank LIMIT :n) f
JOIN messages m ON m.id = f.rowid""",
}


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def fts_query(text: str) -> str:
    """User text as an FTS5 query: every word must match, no operators or syntax errors.

    Control characters separate words: FTS5 ends a quoted string at a NUL ("unterminated string").
    """
    words = [w for w in _CONTROL.sub(" ", (text or "").replace('"', " ")).split() if w]
    return " ".join(f'"{w}"' for w in words)


def _rank_floor(conn: sqlite3.Connection, source: str, query: str) -> tuple[int, int]:
    """(matches, lowest rowid to rank). bm25 must score every match it orders, so for a
    very common word only the newest SEARCH_RANK_WINDOW matches are ranked; walking
    the doclist to find where they start costs far less than scoring them all."""
    matches = conn.execute(f"SELECT count(*) FROM {source}_fts WHERE {source}_fts MATCH ?", [query]).fetchone()[0]
    if matches <= SEARCH_RANK_WINDOW:
        return matches, 0
    edge = conn.execute(
        f"SELECT rowid FROM {source}_fts WHERE {source}_fts MATCH ? ORDER BY rowid DESC LIMIT 1 OFFSET ?",
        [query, SEARCH_RANK_WINDOW],
    ).fetchone()
    return matches, edge[0] + 1


def search(conn: sqlite3.Connection, text: str, limits: dict | None = None) -> dict:
    """Contacts, notes and messages matching `text`, grouped by person, best match first.

    Each table is ranked by bm25 (lower is better) and cut to its top N before
    grouping; `counts` says per table how many matched and how many were ranked.
    """
    query = fts_query(text)
    if not query:
        return {"q": text, "people": [], "unassigned": [], "counts": {}}
    limits = {**SEARCH_LIMITS, **(limits or {})}
    groups: dict = {}
    unassigned: list[dict] = []
    counts = {}
    for source, sql in SEARCH_SQL.items():
        matches, floor = _rank_floor(conn, source, query)
        hits = rows(conn, sql, {"q": query, "n": limits[source], "floor": floor}) if matches else []
        counts[source] = {"matches": matches, "ranked": min(matches, SEARCH_RANK_WINDOW), "shown": len(hits)}
        for hit in hits:
            hit["source"] = source
            if hit["contact_id"] is None:
                unassigned.append(hit)
                continue
            group = groups.setdefault(hit["contact_id"], {"hits": [], "rank": hit["rank"]})
            group["hits"].append(hit)
            group["rank"] = min(group["rank"], hit["rank"])
    people = []
    if groups:
        ids = list(groups)
        placeholders = ",".join("?" * len(ids))
        for contact in rows(
            conn, f"SELECT id, name, headline, company, avatar_url FROM contacts WHERE id IN ({placeholders})", ids
        ):
            group = groups[contact["id"]]
            people.append({**contact, "rank": group["rank"], "hits": group["hits"]})
    people.sort(key=lambda p: (p["rank"], p["id"]))
    return {"q": text, "people": people, "unassigned": unassigned, "counts": counts}
