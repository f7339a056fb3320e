"""`kith import ics`: the meetings in your calendar (Google, Apple, Outlook exports) as `met` interactions.

Each event whose organiser or attendees include someone already in Kith (by email identity)
becomes a `met` interaction with them at the event's start, with its summary. Recurring events are
expanded up to now by `recurring-ical-events` (RRULE, RDATE, EXDATE and overridden instances);
future events are not interactions yet. Cancelled events or instances, events the user declined,
and attendees who declined do not count. All-day events are recorded at midnight UTC of their day.

Times with a TZID are converted with the calendar's own VTIMEZONE (Outlook's Windows zone names
included); floating times are read in the calendar's X-WR-TIMEZONE (Google), else as UTC. Kith
applies X-WR-TIMEZONE itself: left to the expansion library, it also moved times that carry their
own TZID into that zone.

Re-importing adds nothing: the key is the event's UID, plus the RECURRENCE-ID of an instance of a
recurring event, plus the attendee's address.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import icalendar
import recurring_ical_events
from sqlite_utils import Database

from ..timeutil import now_iso
from .files import decode
from .mail.me import Me, from_options, from_profile, most_frequent
from .mail.message import canonical_address
from .mail.record import InteractionReport, InteractionWriter, import_or_dry_run, known_addresses
from .report import ImportFileError

SOURCE = "import:ics"
KIND = "met"
EPOCH = datetime(1900, 1, 1, tzinfo=timezone.utc)


def calendar_files(path: Path) -> list[Path]:
    path = Path(path)
    if not path.exists():
        raise ImportFileError(path, None, "no such file or folder")
    if path.is_file():
        return [path]
    found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in (".ics", ".ical", ".ifb"))
    if not found:
        raise ImportFileError(path, None, "no .ics file found")
    return found


def load_calendars(files: list[Path], report: InteractionReport) -> list[tuple[str, icalendar.Calendar]]:
    """Every readable calendar; one that cannot be parsed is skipped and named (refused when it is the only one)."""
    calendars = []
    for file in files:
        try:
            data = file.read_bytes()
            calendar = icalendar.Calendar.from_ical(decode(data))
            if calendar.name != "VCALENDAR":
                raise ValueError(f"it holds a {calendar.name}, not a VCALENDAR")
        except Exception as exc:  # noqa: BLE001 - icalendar raises ValueError, KeyError, IndexError...
            reason = f"not a readable calendar ({type(exc).__name__}: {str(exc)[:200]})"
            if len(files) == 1:
                raise ImportFileError(file, None, reason) from exc
            report.skip(file, None, reason)
            continue
        report.files.append(str(file))
        calendars.append((str(file), calendar))
    return calendars


def _address(value) -> str | None:
    text = str(value or "").strip()
    if text.lower().startswith("mailto:"):
        text = text[7:]
    return canonical_address(text)


def participants(event) -> list[tuple[str, str]]:
    """(address, PARTSTAT) for the organiser and every attendee, each address once."""
    found: dict[str, str] = {}
    organizer = event.get("ORGANIZER")
    attendees = event.get("ATTENDEE") or []
    if not isinstance(attendees, list):
        attendees = [attendees]
    for value, default in [(organizer, "ACCEPTED")] + [(a, "NEEDS-ACTION") for a in attendees]:
        if value is None:
            continue
        address = _address(value)
        if address is None:
            continue
        params = getattr(value, "params", {}) or {}
        status = str(params.get("PARTSTAT", default)).upper()
        if found.get(address) != "DECLINED":  # the organiser listed again as an attendee who declined
            found[address] = status if address not in found or status == "DECLINED" else found[address]
    return list(found.items())


def find_me(db: Database, calendars: list[tuple[str, icalendar.Calendar]], me_options) -> Me:
    """--me, else the Profile's addresses, else the calendar's owner (Google names the primary
    calendar after its address), else whoever is in the most events."""
    me = from_options(me_options) if me_options else from_profile(db)
    if me:
        return me
    owners = {canonical_address(str(cal.get("X-WR-CALNAME", ""))) for _, cal in calendars} - {None}
    if owners:
        return Me(owners, "the calendar's name (X-WR-CALNAME)")
    seen: Counter = Counter()
    for _, cal in calendars:
        for event in cal.walk("VEVENT"):
            people = participants(event)
            if len(people) > 1:
                seen.update(address for address, _ in people)
    return most_frequent(seen, "being in the most events")


def _utc(moment, zone) -> str:
    if isinstance(moment, datetime):
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=zone)
        return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(moment, date):
        return f"{moment.isoformat()}T00:00:00Z"
    raise ValueError(f"not a date: {moment!r}")


def _recurrence_key(moment) -> str:
    if isinstance(moment, datetime):
        return _utc(moment, timezone.utc).replace("-", "").replace(":", "")
    return moment.isoformat()


def _floating_zone(calendar: icalendar.Calendar, where: str, report: InteractionReport):
    name = str(calendar.get("X-WR-TIMEZONE", "") or "").strip()
    if not name:
        return timezone.utc
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        report.warnings.append(f"{where}: unknown X-WR-TIMEZONE {name!r}; floating times read as UTC")
        return timezone.utc


def _uid(event) -> str:
    uid = str(event.get("UID", "") or "").strip()
    if uid:
        return uid
    start = event.get("DTSTART")
    text = f"{event.get('SUMMARY', '')}\x1f{start.to_ical().decode() if start is not None else ''}"
    return "no-uid-" + hashlib.sha1(text.encode()).hexdigest()[:20]


def import_ics(
    db: Database,
    path: Path,
    *,
    me: list[str] | tuple[str, ...] = (),
    dry_run: bool = False,
    now: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> InteractionReport:
    now = now or now_iso()
    until = datetime.strptime(now, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    report = InteractionReport("calendar", unit="events")
    calendars = load_calendars(calendar_files(path), report)
    try:
        who = find_me(db, calendars, me)
    except ValueError as exc:
        raise ImportFileError(path, None, str(exc)) from exc
    if who:
        report.warnings.append(f"your addresses ({', '.join(sorted(who.addresses))}) came from {who.how}")
    else:
        report.warnings.append("could not tell which attendee is you (use --me): events you declined may count")
    with import_or_dry_run(db, report, dry_run):
        known = known_addresses(db)
        writer = InteractionWriter(
            db,
            report,
            source=SOURCE,
            kind=KIND,
            keep_earliest=False,
            fold_label="the same event met twice (overlapping calendars)",
        )
        for where, calendar in calendars:
            _record_calendar(where, calendar, who, known, writer, report, until)
        writer.finish()
    return report.finish()


def _record_calendar(
    where: str,
    calendar: icalendar.Calendar,
    me: Me,
    known: dict[str, int],
    writer: InteractionWriter,
    report: InteractionReport,
    until: datetime,
) -> None:
    zone = _floating_zone(calendar, where, report)
    recurring = {_uid(e) for e in calendar.walk("VEVENT") if "RRULE" in e or "RDATE" in e or "RECURRENCE-ID" in e}
    if "X-WR-TIMEZONE" in calendar:
        del calendar["X-WR-TIMEZONE"]  # applied to floating times below, not by the expansion
    reasons: Counter = Counter()
    declined = 0
    try:
        instances = recurring_ical_events.of(calendar, skip_bad_series=True).between(EPOCH, until)
    except Exception as exc:  # noqa: BLE001 - a calendar the expansion cannot read is skipped, not fatal
        report.skip(where, None, f"cannot expand its events ({type(exc).__name__}: {str(exc)[:200]})")
        return
    for event in instances:
        report.rows += 1
        if str(event.get("STATUS", "")).upper() == "CANCELLED":
            reasons["cancelled"] += 1
            continue
        people = participants(event)
        if any(address in me and status == "DECLINED" for address, status in people):
            reasons["you declined"] += 1
            continue
        declined += sum(1 for address, status in people if status == "DECLINED" and address in known)
        contacts = [(a, known[a]) for a, status in people if a not in me and status != "DECLINED" and a in known]
        if not contacts:
            reasons["with nobody who is in Kith"] += 1
            continue
        try:
            start = event["DTSTART"].dt
            happened_at = _utc(start, zone)
            recurrence = event.get("RECURRENCE-ID")
            uid = _uid(event)
            instance = (
                f"/{_recurrence_key(recurrence.dt if recurrence is not None else start)}" if uid in recurring else ""
            )
        except (KeyError, ValueError, OverflowError) as exc:
            report.skip(where, None, f"event {str(event.get('UID', ''))!r}: unreadable start ({exc})")
            continue
        summary = " ".join(str(event.get("SUMMARY", "") or "").split()) or None
        for address, cid in contacts:
            writer.add(
                {
                    "contact_id": cid,
                    "kind": KIND,
                    "happened_at": happened_at,
                    "summary": summary,
                    "direction": None,
                    "external_id": f"ics:{uid}{instance}/{address}",
                }
            )
    for reason, n in sorted(reasons.items()):
        report.skip(where, None, reason, count=n)
    if declined:
        report.warnings.append(f"{where}: {declined} declined invitations from people in Kith (not counted as met)")
