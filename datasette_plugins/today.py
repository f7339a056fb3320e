"""The Today page: what to do about your network today, each with a one-click action.

Who to reach out to (the reconnect queue's top, within the weekly capacity), job changes and
new headlines of the last 30 days that you have not been in touch about since, birthdays and
dated notes of the next two weeks, open merge suggestions, and what was saved recently (with
captures that could not be parsed). On an empty database it is the onboarding instead.
Plain functions of a sqlite3 connection, like queries.py, run in one `execute_fn` hop.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import date, datetime, timedelta

from companion.store import reminders

from . import queries
from .queries import rows

JOB_CHANGE_DAYS = 30
JOB_FIELDS = ("company", "title", "headline")
JOB_CHANGE_SCAN = 500
LIST_LIMIT = 20
RECENT_LIMIT = 10
CONGRATULATED = "Congratulated on the new role"

ONBOARDING = [
    {
        "step": "Load the extension",
        "text": "In Chrome or Chromium open chrome://extensions, switch on Developer mode, click "
        "Load unpacked and choose the extension/ folder of Kith. In Firefox open "
        "about:debugging#/runtime/this-firefox, click Load Temporary Add-on… and choose "
        "extension/manifest.json.",
    },
    {
        "step": "Pair it with Kith",
        "text": "Leave kith serve running, and in another terminal run the command below. It prints a "
        "code like K7P4Q-X2M9R; open the extension's options page, enter the code and click Pair.",
        "command": "kith pair",
    },
    {
        "step": "Save someone",
        "text": "Open someone's profile (LinkedIn, GitHub, X, Mastodon or a personal site), click the "
        "Kith icon, check the fields, add how you met and a note, and press Save. They appear "
        "here, and Kith reminds you when it is time to get back in touch.",
    },
]
IMPORTS = [
    {
        "what": "A LinkedIn data export (the .zip, its folder or Connections.csv)",
        "command": "kith import linkedin ~/Downloads/Basic_LinkedInDataExport.zip",
    },
    {
        "what": "An address book as vCard (phones, Google, Apple, Monica)",
        "command": "kith import vcard ~/Downloads/contacts.vcf",
    },
    {"what": "Any CSV, Google Contacts' included", "command": "kith import csv ~/Downloads/contacts.csv"},
]
DEMO = {
    "text": "Or look around a made-up network first; it goes in its own file, never in this one.",
    "command": "make demo",
}


def is_empty(conn: sqlite3.Connection) -> bool:
    """No contacts besides, perhaps, the user's own."""
    return conn.execute("SELECT 1 FROM contacts WHERE is_me = 0 LIMIT 1").fetchone() is None


def onboarding() -> dict:
    return {"steps": ONBOARDING, "imports": IMPORTS, "demo": DEMO}


JOB_CHANGES_SQL = f"""
SELECT pc.contact_id, pc.field, pc.old_value, pc.new_value, pc.detected_at
FROM profile_changes pc JOIN contacts c ON c.id = pc.contact_id
WHERE pc.detected_at >= :since AND pc.field IN ({", ".join(f"'{f}'" for f in JOB_FIELDS)})
  AND c.is_me = 0 AND (c.last_interaction_at IS NULL OR c.last_interaction_at <= pc.detected_at)
ORDER BY pc.detected_at DESC, pc.id DESC LIMIT {JOB_CHANGE_SCAN}
"""
PEOPLE_SQL = """
SELECT id, name, headline, company, title, location, avatar_url, created_at, last_interaction_at
FROM contacts WHERE id IN (SELECT value FROM json_each(:ids))
"""


def _people(conn, ids) -> dict[int, dict]:
    return {p["id"]: p for p in rows(conn, PEOPLE_SQL, {"ids": json.dumps(list(ids))})}


def job_changes(conn: sqlite3.Connection, now: str, limit: int = LIST_LIMIT) -> dict:
    """People whose job or headline changed in the last 30 days, newest first, one entry per
    person with all their changes; left out once you have been in touch since the change."""
    since = (datetime.fromisoformat(now[:10]) - timedelta(days=JOB_CHANGE_DAYS)).strftime("%Y-%m-%d")
    grouped: dict[int, list[dict]] = {}
    for change in rows(conn, JOB_CHANGES_SQL, {"since": since}):
        grouped.setdefault(change.pop("contact_id"), []).append(change)
    ids = list(grouped)[:limit]
    people = _people(conn, ids)
    out = []
    for contact_id in ids:
        changes = sorted(grouped[contact_id], key=lambda c: JOB_FIELDS.index(c["field"]))
        out.append(
            {
                **people[contact_id],
                "contact_id": contact_id,
                "changes": changes,
                "detected_at": max(c["detected_at"] for c in changes),
                "summary": change_summary(changes),
            }
        )
    return {"days": JOB_CHANGE_DAYS, "people": out, "more": len(grouped) > limit}


def change_summary(changes: list[dict]) -> str:
    """'now VP Data at Globex (was Lead at Acme)', from the title and company changes."""
    by_field = {c["field"]: c for c in changes}
    parts = []
    if "title" in by_field or "company" in by_field:
        new_title = (by_field.get("title") or {}).get("new_value")
        new_company = (by_field.get("company") or {}).get("new_value")
        old_title = (by_field.get("title") or {}).get("old_value")
        old_company = (by_field.get("company") or {}).get("old_value")
        now_text = " at ".join(p for p in (new_title, new_company) if p)
        was_text = " at ".join(p for p in (old_title, old_company) if p)
        if now_text:
            parts.append(f"now {now_text}" + (f" (was {was_text})" if was_text else ""))
    if "headline" in by_field and by_field["headline"].get("new_value"):
        parts.append(f"new headline: {by_field['headline']['new_value']}")
    return "; ".join(parts) or "profile changed"


def wish(item: dict) -> tuple[str, str]:
    """(interaction kind, summary) that the upcoming item's one-click action logs."""
    if item["kind"] == "birthday":
        return "message", "Birthday wishes"
    if item["yearly"]:
        return "message", f"{item['label']} wishes"
    return "other", item["label"]


def upcoming(conn: sqlite3.Connection, today: date) -> dict:
    """Birthdays and dated notes in the next two weeks; `done` once the action was logged."""
    data = reminders.upcoming(conn, today)
    for item in data["items"]:
        kind, summary = wish(item)
        item["text"] = reminders.describe(item)
        item["when"] = reminders.when(item)
        item["action"] = {"kind": kind, "summary": summary}
        start = (date.fromisoformat(item["on"]) - timedelta(days=reminders.UPCOMING_DAYS)).isoformat()
        item["done"] = (
            conn.execute(
                "SELECT 1 FROM interactions WHERE contact_id = ? AND happened_at >= ? AND summary = ? LIMIT 1",
                [item["contact_id"], start, summary],
            ).fetchone()
            is not None
        )
    return data


SUGGESTIONS_SQL = """
SELECT id, score, reason, created_at, contact_id AS keep_id, other_contact_id AS drop_id
FROM merge_suggestions WHERE status = 'open'
ORDER BY score DESC, created_at DESC, id LIMIT :n
"""
SUGGESTIONS_FOR_SQL = """
SELECT id, score, reason, created_at, contact_id AS keep_id, other_contact_id AS drop_id
FROM merge_suggestions WHERE status = 'open' AND (contact_id = :id OR other_contact_id = :id)
ORDER BY score DESC, id LIMIT :n
"""
HISTORY_SQL = """
SELECT (SELECT count(*) FROM notes WHERE contact_id = :id) AS notes,
       (SELECT count(*) FROM messages WHERE contact_id = :id) AS messages,
       (SELECT count(*) FROM interactions WHERE contact_id = :id) AS interactions,
       (SELECT count(*) FROM identities WHERE contact_id = :id) AS identities
"""


def merge_suggestions(conn: sqlite3.Connection, limit: int = LIST_LIMIT, *, contact_id: int | None = None) -> dict:
    """Open merge suggestions, strongest first, each with both people and how much history each
    has. `keep` is the older record (the lower id), as the canned query and `kith merge` read it."""
    if contact_id is None:
        found = rows(conn, SUGGESTIONS_SQL, {"n": limit + 1})
    else:
        found = rows(conn, SUGGESTIONS_FOR_SQL, {"id": contact_id, "n": limit + 1})
    more = len(found) > limit
    found = found[:limit]
    people = _people(conn, {i for s in found for i in (s["keep_id"], s["drop_id"])})
    out = []
    for suggestion in found:
        keep, drop = people.get(suggestion["keep_id"]), people.get(suggestion["drop_id"])
        if keep is None or drop is None:
            continue  # a contact deleted by hand, without foreign keys
        for person in (keep, drop):
            person.setdefault("history", rows(conn, HISTORY_SQL, {"id": person["id"]})[0])
        out.append({**suggestion, "keep": keep, "drop": drop})
    return {"suggestions": out, "more": more}


RECENT_CAPTURES_SQL = """
SELECT k.id, k.kind, k.url, k.title, k.received_at, k.status, k.contact_id, c.name
FROM captures k LEFT JOIN contacts c ON c.id = k.contact_id
ORDER BY k.received_at DESC LIMIT :n
"""
UNPARSED_SQL = """
SELECT k.id, k.kind, k.url, k.title, k.received_at, k.status, k.error, k.contact_id, c.name,
       k.html IS NOT NULL AS can_reextract
FROM captures k LEFT JOIN contacts c ON c.id = k.contact_id
WHERE k.status = 'unparsed' ORDER BY k.received_at DESC LIMIT :n
"""


def recent(conn: sqlite3.Connection, limit: int = RECENT_LIMIT) -> dict:
    """The newest captures, and those whose page could not be parsed (re-extract them once the
    extractors know better)."""
    unparsed = rows(conn, UNPARSED_SQL, {"n": limit})
    for capture in unparsed:
        capture["can_reextract"] = bool(capture["can_reextract"]) and capture["contact_id"] is not None
    return {"captures": rows(conn, RECENT_CAPTURES_SQL, {"n": limit}), "unparsed": unparsed}


def today(conn: sqlite3.Connection, now: str, *, capacity: int = queries.DEFAULT_WEEKLY_CAPACITY, cadence=None) -> dict:
    """Everything the Today page shows; `onboarding` only while there is nobody yet."""
    day = datetime.fromisoformat(now[:10]).date()
    data = {
        "now": now,
        "reconnect": queries.reconnect_queue(conn, now, capacity=capacity, cadence=cadence),
        "job_changes": job_changes(conn, now),
        "upcoming": upcoming(conn, day),
        "merge_suggestions": merge_suggestions(conn),
        "recent": recent(conn),
    }
    if is_empty(conn):
        data["onboarding"] = onboarding()
    return data


def contact_extras(conn: sqlite3.Connection, contact_id: int, now: str, *, cadence=None) -> dict:
    """What the contact page adds for the daily loop: dates, catch-up (`cadence`: the circle
    defaults from the plugin config), open merge suggestions."""
    day = datetime.fromisoformat(now[:10]).date()
    dates = reminders.contact_dates(conn, contact_id, day)
    for item in dates:
        item["text"] = reminders.describe(item)
        item["when"] = reminders.when(item) if item["in_days"] is not None else None
    return {
        "dates": dates,
        "catch_up": reminders.catch_up(conn, contact_id, now, cadence),
        "merge_suggestions": merge_suggestions(conn, contact_id=contact_id)["suggestions"],
    }
