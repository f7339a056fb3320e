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

from companion.store import activity, contacts, reminders

from . import people

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
    "birthday": ("update-row", "contacts"),
    "date": ("insert-row", "dated_notes"),
    "merge": ("delete-row", "contacts"),
}
# Actions on one item of a page (a dated note, a merge suggestion, a capture) rather than a form
# of the contact page; the same permission rule.
ITEM_WRITES = {
    "date_delete": ("delete-row", "dated_notes"),
    "not_same": ("update-row", "merge_suggestions"),
    "reextract": ("update-row", "captures"),
}
WRITES = {**FORM_WRITES, **ITEM_WRITES}


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
        return (
            partial(
                activity.log_interaction,
                contact_id=contact_id,
                kind=kind,
                happened_at=_when(form, "date", now),
                summary=_text(form, "summary"),
            ),
            f"Logged: {kind}",
        )
    if action == "exchange":
        direction = form.get("direction")
        if direction not in ("gave", "received"):
            raise FormError("Choose whether you gave or received")
        description = _text(form, "description", required="Say what was given or received")
        return (
            partial(
                activity.add_exchange,
                contact_id=contact_id,
                direction=direction,
                description=description,
                kind=_text(form, "kind", limit=40),
                happened_at=_when(form, "date", now),
            ),
            "Recorded what you gave" if direction == "gave" else "Recorded what you received",
        )
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
        return (partial(activity.set_cadence, contact_id=contact_id, days=days), f"Keep in touch every {days} days")
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
        return (
            partial(activity.snooze, contact_id=contact_id, until=until.isoformat()),
            f"Snoozed until {until.isoformat()}",
        )
    if action == "relationship":
        choice = RELATIONSHIP_CHOICES.get(form.get("kind") or "")
        if choice is None:
            raise FormError("Choose how they are related")
        other = _text(form, "other", required="Choose the other person", limit=300)
        kind, this_is_from = choice
        return (
            partial(
                _relate,
                contact_id=contact_id,
                other=other,
                kind=kind,
                this_is_from=this_is_from,
                note=_text(form, "note", limit=500),
            ),
            "Relationship recorded",
        )
    if action == "birthday":
        try:
            birthday = reminders.parse_date(form.get("birthday"))
        except reminders.DateError as error:
            raise FormError(str(error)) from None
        return (
            partial(reminders.set_birthday, contact_id=contact_id, birthday=birthday),
            "Birthday saved" if birthday else "Birthday cleared",
        )
    if action == "date":
        label = _text(form, "label", required="Say what the date is (an anniversary, a name day…)", limit=200)
        try:
            when = reminders.parse_date(form.get("date"))
        except reminders.DateError as error:
            raise FormError(str(error)) from None
        if when is None:
            raise FormError("Give the date: YYYY-MM-DD, or MM-DD when it comes back every year")
        yearly = form.get("yearly") in ("1", "on", "yes", "true")
        return (
            partial(reminders.add_dated_note, contact_id=contact_id, label=label, when=when, yearly=yearly),
            f"Date added: {label}",
        )
    if action == "date_delete":
        note_id = _number(form, "date_id", "Which date?")
        return partial(_delete_date, contact_id=contact_id, note_id=note_id), "Date removed"
    if action == "merge":
        other = _text(form, "other", required="Choose the duplicate to merge into this contact", limit=300)
        return (partial(_merge, keep_id=contact_id, other=other), "Merged: both histories are on this contact now")
    if action == "not_same":
        other = _number(form, "other", "Which suggestion?")
        if other == contact_id:
            raise FormError("A contact is always the same person as itself")
        return (
            partial(_not_same, contact_id=contact_id, other=other),
            "Noted: not the same person. Kith will not suggest them again.",
        )
    raise FormError("Unknown action")


def _number(form: dict, key: str, missing: str) -> int:
    try:
        return int((form.get(key) or "").strip().lstrip("#"))
    except ValueError:
        raise FormError(missing) from None


def _other(db, contact_id: int, other: str) -> int:
    try:
        other_id = people.resolve(db, other)
    except people.Unresolved as error:
        raise FormError(str(error)) from None
    if other_id == contact_id:
        raise FormError("That is this contact: choose someone else")
    return other_id


def _relate(db, *, contact_id: int, other: str, kind: str, this_is_from: bool, note: str | None) -> None:
    other_id = _other(db, contact_id, other)
    a, b = (contact_id, other_id) if this_is_from else (other_id, contact_id)
    activity.add_relationship(db, a, b, kind, note)


def _merge(db, *, keep_id: int, other: str) -> dict:
    """What `kith merge KEEP DROP` does: everything of the other contact moves to this one."""
    return contacts.merge_contacts(db, keep_id, _other(db, keep_id, other))


def _not_same(db, *, contact_id: int, other: int) -> None:
    if not db.execute("SELECT 1 FROM contacts WHERE id = ?", [other]).fetchone():
        raise FormError(f"There is no contact #{other}")
    contacts.dismiss_suggestion(db, contact_id, other)


def _delete_date(db, *, contact_id: int, note_id: int) -> None:
    if not reminders.delete_dated_note(db, contact_id, note_id):
        raise FormError("That date is not there any more")
