"""Dates worth remembering and whether someone is due for a catch-up.

A date is stored as 'YYYY-MM-DD', or '--MM-DD' when the year is unknown (vCard's
form, as the importers write `contacts.birthday`). Birthdays live on the contact;
other dates (an anniversary, a child's name day, a visa renewal) are `dated_notes`,
yearly or once. Both come back on the Today page and in the popup when they fall
in the next UPCOMING_DAYS days. The read functions take a plain sqlite3
connection or a sqlite-utils Database (only `.execute` is used), so the companion
and the Datasette plugin call the same code.
"""

from __future__ import annotations

import calendar
import json
import re
from datetime import date, datetime, timedelta, timezone

from sqlite_utils import Database

from ..timeutil import now_iso

UPCOMING_DAYS = 14
UPCOMING_LIMIT = 50
# Keep-in-touch defaults per circle when neither the contact nor a tag has a cadence. The same
# numbers as the reconnect queue's (datasette_plugins.queries.DEFAULT_CADENCE; a test keeps them
# equal); `cadence.<circle>` in the settings table wins over both.
DEFAULT_CADENCE = {"professional": 90, "personal": 30, "both": 60}

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)  # not calendar.month_name, which follows the locale
_FULL = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_NO_YEAR = re.compile(r"^(?:--)?(\d{1,2})-?(\d{2})$")


class DateError(ValueError):
    """Text that is not a date Kith can remember."""


def parse_date(text: str | None) -> str | None:
    """'YYYY-MM-DD', or '--MM-DD' for a month and day ('MM-DD', '--MMDD' and '--MM-DD' are
    read as that); None for empty text. Raises DateError for anything else."""
    s = (text or "").strip()
    if not s:
        return None
    full = _FULL.match(s)
    if full:
        year, month, day = (int(g) for g in full.groups())
        try:
            date(year, month, day)
        except ValueError:
            raise DateError(f"{s!r} is not a real date") from None
        if not 1800 <= year <= 2200:
            raise DateError(f"{s!r}: the year should be between 1800 and 2200")
        return f"{year:04d}-{month:02d}-{day:02d}"
    no_year = _NO_YEAR.match(s)
    if no_year:
        month, day = int(no_year.group(1)), int(no_year.group(2))
        try:
            date(2000, month, day)  # a leap year: --02-29 is a real birthday
        except ValueError:
            raise DateError(f"{s!r} is not a real month and day") from None
        return f"--{month:02d}-{day:02d}"
    raise DateError(f"{s!r} is not a date: write YYYY-MM-DD, or MM-DD when the year is unknown")


def year_of(stored: str | None) -> int | None:
    return int(stored[:4]) if stored and _FULL.match(stored) else None


def month_day(stored: str) -> tuple[int, int]:
    return int(stored[-5:-3]), int(stored[-2:])


def _on(year: int, month: int, day: int) -> date:
    """The day in `year`; 29 February falls on the 28th in other years."""
    if month == 2 and day == 29 and not calendar.isleap(year):
        return date(year, 2, 28)
    return date(year, month, day)


def next_occurrence(stored: str, today: date, yearly: bool = True) -> date | None:
    """When this date next falls, today included; None for a one-off date already past."""
    if not yearly and year_of(stored) is not None:
        once = date.fromisoformat(stored)
        return once if once >= today else None
    month, day = month_day(stored)
    this_year = _on(today.year, month, day)
    return this_year if this_year >= today else _on(today.year + 1, month, day)


def window_days(today: date, days: int) -> list[str]:
    """The 'MM-DD' keys whose dates can fall in [today, today + days): with '02-29' when the
    window holds 28 February of a year that has no 29th."""
    keys = []
    for offset in range(days):
        day = today + timedelta(days=offset)
        keys.append(f"{day.month:02d}-{day.day:02d}")
        if day.month == 2 and day.day == 28 and not calendar.isleap(day.year):
            keys.append("02-29")
    return keys


def pretty(stored: str) -> str:
    """'12 April 1990', or '12 April' without a year (month names in English, as the pages are)."""
    month, day = month_day(stored)
    year = year_of(stored)
    return f"{day} {MONTHS[month - 1]}" + (f" {year}" if year else "")


def _item(
    kind: str, contact_id: int, name: str | None, label: str, stored: str, yearly: bool, on: date, today: date, **extra
) -> dict:
    year = year_of(stored)
    return {
        "kind": kind,
        "contact_id": contact_id,
        "name": name,
        "label": label,
        "date": stored,
        "pretty": pretty(stored),
        "yearly": yearly,
        "on": on.isoformat(),
        "in_days": (on - today).days,
        "years": on.year - year if (yearly and year is not None and on.year > year) else None,
        **extra,
    }


def describe(item: dict) -> str:
    """'Birthday (turns 36)', 'Wedding anniversary (10 years)', 'Visa renewal'."""
    years = item.get("years")
    if years is None:
        return item["label"]
    if item["kind"] == "birthday":
        return f"{item['label']} (turns {years})"
    return f"{item['label']} ({years} year{'s' if years != 1 else ''})"


def when(item: dict) -> str:
    days = item["in_days"]
    return "today" if days == 0 else "tomorrow" if days == 1 else f"in {days} days"


# The soonest :n from the month-day index alone (window order, then id), and only then their rows:
# on 100,000 contacts two weeks hold ~1,300 birthdays, and reading every one of them costs 10 ms.
UPCOMING_BIRTHDAYS_SQL = """
SELECT c.id, c.name, c.avatar_url, c.birthday FROM (
  SELECT b.id, w.key AS k FROM json_each(:days) w
  JOIN contacts b ON substr(b.birthday, -5) = w.value AND b.birthday IS NOT NULL
  ORDER BY w.key, b.id LIMIT :n
) top JOIN contacts c ON c.id = top.id WHERE c.is_me = 0 ORDER BY top.k, c.id
"""
UPCOMING_DATES_SQL = """
SELECT d.id, d.contact_id, c.name, c.avatar_url, d.label, d.date, d.yearly FROM (
  SELECT n.id, w.key AS k FROM json_each(:days) w JOIN dated_notes n ON substr(n.date, -5) = w.value
  ORDER BY w.key, n.id LIMIT :n
) top JOIN dated_notes d ON d.id = top.id JOIN contacts c ON c.id = d.contact_id ORDER BY top.k, d.id
"""


def upcoming(conn, today: date, days: int = UPCOMING_DAYS, *, limit: int = UPCOMING_LIMIT) -> dict:
    """Birthdays and dated notes falling in the next `days` days (today first), soonest first;
    at most `limit`, and `more` when there were others."""
    keys = json.dumps(window_days(today, days))
    items = []
    birthdays = conn.execute(UPCOMING_BIRTHDAYS_SQL, {"days": keys, "n": limit + 2}).fetchall()  # + me, + one
    cut = len(birthdays) > limit
    for contact_id, name, avatar_url, birthday in birthdays:
        if not (_FULL.match(birthday) or _NO_YEAR.match(birthday)):
            continue  # written by hand with SQL in some other form
        on = next_occurrence(birthday, today)
        if (on - today).days < days:
            items.append(
                _item(
                    "birthday",
                    contact_id,
                    name,
                    "Birthday",
                    birthday,
                    True,
                    on,
                    today,
                    avatar_url=avatar_url,
                    dated_note_id=None,
                )
            )
    # One-off dates of another year share the month-day key, so take more than `limit` of them.
    for note_id, contact_id, name, avatar_url, label, stored, yearly in conn.execute(
        UPCOMING_DATES_SQL, {"days": keys, "n": limit * 4}
    ):
        if not (_FULL.match(stored) or _NO_YEAR.match(stored)):
            continue
        on = next_occurrence(stored, today, bool(yearly))
        if on is not None and (on - today).days < days:
            items.append(
                _item(
                    "date",
                    contact_id,
                    name,
                    label,
                    stored,
                    bool(yearly),
                    on,
                    today,
                    avatar_url=avatar_url,
                    dated_note_id=note_id,
                )
            )
    items.sort(key=lambda i: (i["on"], i["kind"] != "birthday", (i["name"] or "").lower(), i["contact_id"]))
    return {"days": days, "items": items[:limit], "more": cut or len(items) > limit}


def contact_dates(conn, contact_id: int, today: date) -> list[dict]:
    """One contact's birthday and dated notes, each with its next occurrence (None when past)."""
    found = []
    row = conn.execute("SELECT name, birthday FROM contacts WHERE id = ?", [contact_id]).fetchone()
    if row is None:
        return found
    name, birthday = row
    if birthday and (_FULL.match(birthday) or _NO_YEAR.match(birthday)):
        found.append(
            _item(
                "birthday",
                contact_id,
                name,
                "Birthday",
                birthday,
                True,
                next_occurrence(birthday, today),
                today,
                dated_note_id=None,
            )
        )
    for note_id, label, stored, yearly in conn.execute(
        "SELECT id, label, date, yearly FROM dated_notes WHERE contact_id = ? ORDER BY id", [contact_id]
    ):
        if not (_FULL.match(stored) or _NO_YEAR.match(stored)):
            continue
        on = next_occurrence(stored, today, bool(yearly))
        if on is None:
            found.append(
                {
                    "kind": "date",
                    "contact_id": contact_id,
                    "name": name,
                    "label": label,
                    "date": stored,
                    "pretty": pretty(stored),
                    "yearly": bool(yearly),
                    "on": None,
                    "in_days": None,
                    "years": None,
                    "dated_note_id": note_id,
                }
            )
        else:
            found.append(_item("date", contact_id, name, label, stored, bool(yearly), on, today, dated_note_id=note_id))
    return found


# --- catching up ------------------------------------------------------------------------------

CATCH_UP_SQL = """
SELECT c.keep_in_touch_days,
       (SELECT min(t.keep_in_touch_days) FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id
        WHERE ct.contact_id = c.id AND t.keep_in_touch_days > 0) AS tag_days,
       c.circle, coalesce(c.last_interaction_at, c.created_at) AS since, c.last_interaction_at,
       c.snoozed_until, c.is_me, julianday(:now) - julianday(coalesce(c.last_interaction_at, c.created_at))
FROM contacts c WHERE c.id = :id
"""


def circle_cadence(conn, circle: str | None, defaults: dict | None = None) -> int | None:
    if circle not in DEFAULT_CADENCE:
        return None
    base = {**DEFAULT_CADENCE, **(defaults or {})}[circle]
    row = conn.execute("SELECT value FROM settings WHERE key = ?", [f"cadence.{circle}"]).fetchone()
    try:
        number = int(str(row[0]).strip()) if row else None
    except ValueError:
        number = None
    return number if number and number > 0 else base


def catch_up(conn, contact_id: int, now: str | None = None, defaults: dict | None = None) -> dict | None:
    """Is this person due for a catch-up, as the reconnect queue reckons it (their cadence, else
    their tags' shortest, else their circle's; snoozed people are not due)? None for no contact."""
    now = now or now_iso()
    row = conn.execute(CATCH_UP_SQL, {"now": now, "id": contact_id}).fetchone()
    if row is None:
        return None
    own, tag_days, circle, since, last, snoozed_until, is_me, days_since = row
    cadence, source = (
        (own, "contact")
        if own
        else (tag_days, "tag")
        if tag_days
        else (circle_cadence(conn, circle, defaults), "circle")
    )
    answer = {
        "due": False,
        "cadence": cadence,
        "cadence_source": source if cadence else None,
        "days_since": int(days_since) if days_since is not None else None,
        "ever_spoke": last is not None,
        "due_on": None,
        "snoozed_until": None,
    }
    if is_me or not cadence or days_since is None:
        return answer
    due_on = (datetime.fromisoformat(since[:10]) + timedelta(days=cadence)).date()
    snoozed = bool(snoozed_until) and snoozed_until > now
    answer.update(
        due_on=due_on.isoformat(),
        due=days_since > cadence and not snoozed,
        snoozed_until=snoozed_until if snoozed else None,
    )
    return answer


# --- writes (through the one writer) ------------------------------------------------------------


def set_birthday(db: Database, contact_id: int, birthday: str | None) -> None:
    """Set (or with None, clear) a contact's birthday, as the user typed it (`parse_date` first)."""
    row = db.execute("SELECT field_sources FROM contacts WHERE id = ?", [contact_id]).fetchone()
    if row is None:
        raise ValueError(f"no contact {contact_id}")
    sources = json.loads(row[0] or "{}")
    sources["birthday"] = "user"
    db.execute(
        "UPDATE contacts SET birthday = ?, field_sources = ?, updated_at = ? WHERE id = ?",
        [birthday, json.dumps(sources, sort_keys=True), now_iso(), contact_id],
    )


def add_dated_note(
    db: Database, contact_id: int, label: str, when: str, *, yearly: bool = True, created_at: str | None = None
) -> int:
    """A date to remember about someone; a date without a year always comes back yearly."""
    label = (label or "").strip()
    if not label:
        raise ValueError("a dated note needs a label")
    stored = parse_date(when)
    if stored is None:
        raise ValueError("a dated note needs a date")
    return (
        db["dated_notes"]
        .insert(
            {
                "contact_id": contact_id,
                "label": label,
                "date": stored,
                "yearly": 1 if (yearly or stored.startswith("--")) else 0,
                "created_at": created_at or now_iso(),
            }
        )
        .last_pk
    )


def delete_dated_note(db: Database, contact_id: int, note_id: int) -> bool:
    return db.execute("DELETE FROM dated_notes WHERE id = ? AND contact_id = ?", [note_id, contact_id]).rowcount > 0


def today_utc() -> date:
    return datetime.now(timezone.utc).date()
