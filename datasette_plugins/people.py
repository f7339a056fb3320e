"""Finding people by name: `/-/kith/people.json?q=`, the name picker's source, and turning
what someone typed into a form ("Priya", "#12", "12") into a contact id.

Matches come in tiers, each ranked by who you were last in touch with, and later tiers only
fill what earlier ones left: the number itself (`12`, `#12`), names that start with the text
(a B-tree range on `name COLLATE NOCASE`, read from a covering index), names with a word
starting with each typed word (FTS5 prefix queries, so accents do not matter), then the same
in headline and company. Typed text never reaches FTS5 as syntax: it is cut into words and each
word is quoted, so `AND (`, `"`, `*` or `name:` are just text.
"""

from __future__ import annotations

import json
import re
import sqlite3

from .queries import rows

PICK_LIMIT = 20
FTS_CANDIDATES = 1000  # FTS matches (newest first) ranked by recency; bounds the work for short prefixes
MAX_QUERY = 200
_WORD = re.compile(r"\w+")
_NUMBER = re.compile(r"^#?\s*(\d{1,18})$|#(\d{1,18})\s*$")
# U+10FFFF sorts after every other character (and NOCASE only folds ASCII), so [text, text + TOP)
# is "starts with text" as a range on the index.
TOP = "\U0010ffff"

COLUMNS = "c.id, c.name, c.headline, c.company, c.title, c.avatar_url, c.is_me, c.last_interaction_at"
STARTS_SQL = """
SELECT id FROM contacts WHERE name >= :lo COLLATE NOCASE AND name < :hi COLLATE NOCASE
ORDER BY last_interaction_at DESC, id DESC LIMIT :n
"""
FTS_SQL = """
SELECT c.id FROM (SELECT rowid FROM contacts_fts WHERE contacts_fts MATCH :q ORDER BY rowid DESC LIMIT :cap) f
JOIN contacts c ON c.id = f.rowid ORDER BY c.last_interaction_at DESC, c.id DESC LIMIT :n
"""
RECENT_SQL = f"SELECT {COLUMNS} FROM contacts c ORDER BY c.last_interaction_at DESC, c.id DESC LIMIT :n"


def words(text: str) -> list[str]:
    return _WORD.findall(text or "")


MAX_WORDS = 6


def prefix_query(parts: list[str], columns: str) -> str:
    """An FTS5 query: every word starts a word in one of `columns`. A one-letter word before the
    last is an initial ("J Smith") and must be a whole word: as a prefix it would expand to
    every word starting with that letter, the slowest query FTS5 can be asked."""
    parts = parts[:MAX_WORDS]
    terms = [f'"{w}"' if len(w) == 1 and i < len(parts) - 1 else f'"{w}"*' for i, w in enumerate(parts)]
    return "{" + columns + "} : (" + " ".join(terms) + ")"


def number_in(text: str) -> int | None:
    match = _NUMBER.search((text or "").strip())
    return int(match.group(1) or match.group(2)) if match else None


def search_people(conn: sqlite3.Connection, q: str | None, limit: int = PICK_LIMIT) -> dict:
    """At most `limit` people for the text typed so far; with no text, the people you were
    most recently in touch with. Each carries `match`: id, name, word, details or recent."""
    text = " ".join((q or "").split())[:MAX_QUERY]
    parts = words(text)
    if not parts:
        people = rows(conn, RECENT_SQL, {"n": limit})
        for person in people:
            person["match"] = "recent"
        return {"q": text, "people": _clean(people), "limit": limit}
    found: dict[int, str] = {}

    def take(ids, how):
        for contact_id in ids:
            if len(found) >= limit:
                return
            found.setdefault(contact_id, how)

    number = number_in(text)
    if number is not None:
        take([r[0] for r in conn.execute("SELECT id FROM contacts WHERE id = ?", [number])], "id")
    steps = [
        ("name", STARTS_SQL, {"lo": text, "hi": text + TOP}),
        ("word", FTS_SQL, {"q": prefix_query(parts, "name"), "cap": FTS_CANDIDATES}),
        ("details", FTS_SQL, {"q": prefix_query(parts, "name headline company"), "cap": FTS_CANDIDATES}),
    ]
    for how, sql, params in steps:
        if len(found) >= limit:
            break
        take([r[0] for r in conn.execute(sql, {**params, "n": limit + len(found)})], how)
    if not found:
        return {"q": text, "people": [], "limit": limit}
    by_id = {
        p["id"]: p
        for p in rows(
            conn,
            f"SELECT {COLUMNS} FROM contacts c WHERE c.id IN (SELECT value FROM json_each(:ids))",
            {"ids": json.dumps(list(found))},
        )
    }
    people = []
    for contact_id, how in found.items():
        if contact_id in by_id:
            people.append({**by_id[contact_id], "match": how})
    return {"q": text, "people": _clean(people), "limit": limit}


def _clean(people: list[dict]) -> list[dict]:
    for person in people:
        person["is_me"] = bool(person["is_me"])
    return people


class Unresolved(ValueError):
    """What a person typed names nobody, or more than one person."""


def resolve(conn, text: str | None) -> int:
    """The contact a form's person field means: a number (`12`, `#12`, `Name #12`), else the one
    person with exactly that name, else the only search match. Raises Unresolved, saying why."""
    text = " ".join((text or "").split())
    if not text:
        raise Unresolved("Choose a person")
    number = number_in(text)
    if number is not None:
        if conn.execute("SELECT 1 FROM contacts WHERE id = ?", [number]).fetchone():
            return number
        raise Unresolved(f"There is no contact #{number}")
    exact = [r[0] for r in conn.execute("SELECT id FROM contacts WHERE name = ? COLLATE NOCASE LIMIT 2", [text])]
    if len(exact) == 1:
        return exact[0]
    if len(exact) > 1:
        raise Unresolved(f"More than one person is called {text}: pick one from the list, or give their number (#id)")
    found = search_people(conn, text, limit=2)["people"]
    if len(found) == 1:
        return found[0]["id"]
    if not found:
        raise Unresolved(f"Nobody called {text} was found")
    raise Unresolved(f"More than one person matches {text}: pick one from the list, or give their number (#id)")
