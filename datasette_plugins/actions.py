"""The contact page's forms, turned into calls to the companion's store functions.

Parsing is kept apart from the view so it is tested without HTTP, and so the
only thing a form can do is call one of these store functions with checked
arguments: the same code path as the companion, with the same side effects
(any note or interaction resets the reconnect clock).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from functools import partial
from typing import Any, Callable

from companion.store import activity

INTERACTION_KINDS = ("met", "call", "video", "coffee", "meal", "email", "message", "event", "other")
# What the relationship form offers, read from this contact's side, and how it is stored:
# (kind, this contact is the `from` side). `(from, to, 'introduced_by')` reads
# "from was introduced to me by to".
RELATIONSHIP_CHOICES = {
    "knows": ("knows", True),
    "works_with": ("works_with", True),
    "introduced_by": ("introduced_by", True),
    "introduced_you_to": ("introduced_by", False),
}
MAX_TEXT = 20_000
# Datasette's write permission each form needs, on the table it writes (every one of
# them also touches `contacts`: the reconnect clock, the cadence or the snooze).
FORM_WRITES = {
    "note": ("insert-row", "notes"),
    "interaction": ("insert-row", "interactions"),
    "exchange": ("insert-row", "exchanges"),
    "relationship": ("insert-row", "relationships"),
    "cadence": ("update-row", "contacts"),
    "snooze": ("update-row", "contacts"),
}


class FormError(ValueError):
    """A message for the user: the form was not filled in as expected."""


def _text(form: dict, key: str, *, required: str | None = None, limit: int = MAX_TEXT) -> str | None:
    value = (form.get(key) or "").strip()
    if not value:
        if required:
            raise FormError(required)
        return None
    if len(value) > limit:
        raise FormError(f"{key} is longer than {limit} characters")
    return value


def _day(value: str | None) -> date | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise FormError(f"{value!r} is not a date (YYYY-MM-DD)") from None


def _when(form: dict, key: str, now: datetime) -> str | None:
    """A date field as a stored timestamp: today means now, another day means its start."""
    day = _day(form.get(key))
    if day is None or day == now.date():
        return None  # the store function stamps "now" itself
    return f"{day.isoformat()}T00:00:00Z"


def parse(form: dict, contact_id: int, now: datetime | None = None) -> tuple[Callable[[Any], Any], str]:
    """(a function of the store `db`, a confirmation message) for one submitted form."""
    now = now or datetime.now(timezone.utc)
    action = form.get("action")
    if action == "note":
        body = _text(form, "body", required="Write something for the note")
        return partial(activity.add_note, contact_id=contact_id, body=body), "Note added"
    if action == "interaction":
        kind = _text(form, "kind", limit=40) or "met"
        return (partial(activity.log_interaction, contact_id=contact_id, kind=kind,
                        happened_at=_when(form, "date", now), summary=_text(form, "summary")),
                f"Logged: {kind}")
    if action == "exchange":
        direction = form.get("direction")
        if direction not in ("gave", "received"):
            raise FormError("Choose whether you gave or received")
        description = _text(form, "description", required="Say what was given or received")
        return (partial(activity.add_exchange, contact_id=contact_id, direction=direction,
                        description=description, kind=_text(form, "kind", limit=40),
                        happened_at=_when(form, "date", now)),
                "Recorded what you gave" if direction == "gave" else "Recorded what you received")
    if action == "cadence":
        raw = (form.get("days") or "").strip()
        if not raw:
            return partial(activity.set_cadence, contact_id=contact_id, days=None), "Cadence cleared"
        try:
            days = int(raw)
        except ValueError:
            raise FormError("The cadence is a whole number of days") from None
        if not 1 <= days <= 3650:
            raise FormError("The cadence must be between 1 and 3650 days")
        return (partial(activity.set_cadence, contact_id=contact_id, days=days),
                f"Keep in touch every {days} days")
    if action == "snooze":
        if form.get("weeks"):
            try:
                until = now.date() + timedelta(weeks=max(1, min(int(form["weeks"]), 104)))
            except ValueError:
                raise FormError("Snooze for a whole number of weeks") from None
        else:
            until = _day(form.get("until"))
        if until is None:
            return partial(activity.snooze, contact_id=contact_id, until=None), "Snooze cleared"
        return (partial(activity.snooze, contact_id=contact_id, until=until.isoformat()),
                f"Snoozed until {until.isoformat()}")
    if action == "relationship":
        choice = RELATIONSHIP_CHOICES.get(form.get("kind") or "")
        if choice is None:
            raise FormError("Choose how they are related")
        try:
            other = int((form.get("other") or "").strip().lstrip("#"))
        except ValueError:
            raise FormError("Give the other person's contact number") from None
        if other == contact_id:
            raise FormError("A relationship needs two different people")
        kind, this_is_from = choice
        a, b = (contact_id, other) if this_is_from else (other, contact_id)
        return (partial(_relate, from_id=a, to_id=b, kind=kind, note=_text(form, "note", limit=500),
                        other=other), "Relationship recorded")
    raise FormError("Unknown action")


def _relate(db, *, from_id: int, to_id: int, kind: str, note: str | None, other: int) -> None:
    if not db.execute("SELECT 1 FROM contacts WHERE id = ?", [other]).fetchone():
        raise FormError(f"There is no contact #{other}")
    activity.add_relationship(db, from_id, to_id, kind, note)
