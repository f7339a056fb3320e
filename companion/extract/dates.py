"""Turn the dates pages show ("Jan 2022 - Present", "Oct 30, 2025", "10:32 AM") into ISO strings.

Pure: no clock is read, so relative dates ("Today", "Monday") stay unresolved (None) and the
caller keeps the raw text to resolve against the capture time.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

MONTHS = {
    "jan": 1,
    "january": 1,
    "janv": 1,
    "januar": 1,
    "ene": 1,
    "enero": 1,
    "feb": 2,
    "february": 2,
    "févr": 2,
    "fevr": 2,
    "februar": 2,
    "febrero": 2,
    "mar": 3,
    "march": 3,
    "mars": 3,
    "mär": 3,
    "märz": 3,
    "marzo": 3,
    "apr": 4,
    "april": 4,
    "avr": 4,
    "avril": 4,
    "abr": 4,
    "abril": 4,
    "may": 5,
    "mai": 5,
    "mayo": 5,
    "jun": 6,
    "june": 6,
    "juin": 6,
    "juni": 6,
    "junio": 6,
    "jul": 7,
    "july": 7,
    "juil": 7,
    "juillet": 7,
    "juli": 7,
    "julio": 7,
    "aug": 8,
    "august": 8,
    "août": 8,
    "aout": 8,
    "ago": 8,
    "agosto": 8,
    "sep": 9,
    "sept": 9,
    "september": 9,
    "septembre": 9,
    "septiembre": 9,
    "oct": 10,
    "october": 10,
    "okt": 10,
    "oktober": 10,
    "octobre": 10,
    "octubre": 10,
    "nov": 11,
    "november": 11,
    "novembre": 11,
    "noviembre": 11,
    "dec": 12,
    "december": 12,
    "déc": 12,
    "dez": 12,
    "dezember": 12,
    "décembre": 12,
    "dic": 12,
    "diciembre": 12,
}
PRESENT = re.compile(r"\b(present|current|now|heute|aujourd[’']hui|présent|actualidad|presente)\b", re.I)
_MONTH_YEAR = re.compile(r"([A-Za-zÀ-ÿ]{3,10})\.?\s+(\d{4})")
_YEAR = re.compile(r"\b(19|20)\d{2}\b")
_RANGE = re.compile(r"^\s*(?:[A-Za-zÀ-ÿ]{3,10}\.?\s+)?\d{4}\s*[-–—]\s*", re.I)
_DAY_HEADING = re.compile(r"^\s*(?:[A-Za-z]+,\s*)?([A-Za-z]{3,10})\.?\s+(\d{1,2})(?:,\s*(\d{4}))?\s*$")
_DAY_HEADING_EU = re.compile(r"^\s*(\d{1,2})\.?\s+([A-Za-zÀ-ÿ]{3,10})\.?(?:\s+(\d{4}))?\s*$")
_CLOCK = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*([AaPp]\.?\s*[Mm]\.?)?\s*$")


def is_date_range(text: str) -> bool:
    """'Jan 2022 - Present · 2 yrs 3 mos' and the like."""
    return bool(_RANGE.match(text or "")) and (bool(PRESENT.search(text)) or len(_YEAR.findall(text)) >= 2)


def range_start(text: str) -> str | None:
    """'Mar 2022 - Present' → '2022-03'; '2019 - 2021' → '2019'."""
    head = re.split(r"\s*[-–—]\s*", text or "", maxsplit=1)[0]
    m = _MONTH_YEAR.search(head)
    if m and m.group(1).lower().rstrip(".") in MONTHS:
        return f"{int(m.group(2)):04d}-{MONTHS[m.group(1).lower().rstrip('.')]:02d}"
    y = _YEAR.search(head)
    return y.group(0) if y else None


def is_current_range(text: str) -> bool:
    parts = re.split(r"\s*[-–—]\s*", text or "", maxsplit=1)
    return len(parts) == 2 and bool(PRESENT.search(parts[1].split("·")[0]))


def ym(date: dict | None) -> str | None:
    """Voyager {"year": 2022, "month": 3} → '2022-03'."""
    if not isinstance(date, dict):
        return None
    year, month = date.get("year"), date.get("month")
    if not isinstance(year, int):
        return None
    if isinstance(month, int) and 1 <= month <= 12:
        return f"{year:04d}-{month:02d}"
    return f"{year:04d}"


def day_heading(text: str) -> tuple[int, int, int | None] | None:
    """'Oct 30, 2025' → (2025, 10, 30); 'Nov 1' → (None-year tuple); 'Today' → None."""
    t = (text or "").strip()
    m = _DAY_HEADING.match(t)
    if m and m.group(1).lower() in MONTHS:
        year = int(m.group(3)) if m.group(3) else None
        return (year, MONTHS[m.group(1).lower()], int(m.group(2)))
    m = _DAY_HEADING_EU.match(t)
    if m and m.group(2).lower().rstrip(".") in MONTHS:
        year = int(m.group(3)) if m.group(3) else None
        return (year, MONTHS[m.group(2).lower().rstrip(".")], int(m.group(1)))
    return None


def clock(text: str) -> tuple[int, int] | None:
    """'10:32 AM' → (10, 32); '22:05' → (22, 5)."""
    m = _CLOCK.match(text or "")
    if not m:
        return None
    hour, minute = int(m.group(1)), int(m.group(2))
    ampm = (m.group(3) or "").replace(".", "").replace(" ", "").lower()
    if ampm == "pm" and hour < 12:
        hour += 12
    if ampm == "am" and hour == 12:
        hour = 0
    if hour > 23 or minute > 59:
        return None
    return hour, minute


def local_iso(day: tuple | None, time: tuple | None) -> str | None:
    """A naive local timestamp ('2025-10-30T10:32:00') when both the full date and time are known."""
    if not day or day[0] is None or not time:
        return None
    try:
        return datetime(day[0], day[1], day[2], time[0], time[1]).isoformat()
    except ValueError:
        return None


def iso_datetime(value: str | None) -> str | None:
    """Normalise a machine datetime attribute to ISO 8601 (UTC 'Z' when it carries an offset)."""
    if not isinstance(value, str) or not value.strip():
        return None
    s = value.strip().replace("Z", "+00:00")
    try:
        dt = datetime.fromisoformat(s)
    except ValueError:
        return None
    if dt.tzinfo is not None:
        return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return dt.isoformat()
