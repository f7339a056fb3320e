"""Dates as exports and spreadsheets write them ("01 Jan 2024", "29-Aug-22", "1/2/24, 9:03 AM",
"20/01/1991", "2024-01-02 10:00:00 UTC") turned into Kith's sortable UTC text. Month names are matched here rather than
with strptime's %b, which follows the process locale."""

from __future__ import annotations

import re
from functools import lru_cache
from datetime import datetime, timedelta, timezone

MONTHS = {m: i for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), start=1)}

_ISO = re.compile(
    r"^(\d{4})-?(\d{2})-?(\d{2})(?:[ T](\d{2}):?(\d{2})(?::?(\d{2})(?:\.\d+)?)?)?"
    r"\s*(Z|UTC|GMT|[+-]\d{2}:?\d{2})?$",
    re.I,
)
# "01 Jan 2024", and spreadsheets' "29-Aug-22" / "29-Aug-2022" / "29 Aug. 22".
_DAY_MONTH_YEAR = re.compile(r"^(\d{1,2})[\s-]+([a-z]{3,})\.?,?[\s-]+(\d{4}|\d{2})$", re.I)
_MONTH_DAY_YEAR = re.compile(r"^([a-z]{3,})\.?\s+(\d{1,2}),?\s+(\d{4})$", re.I)
# "1/2/24, 9:03 AM" (month first, as LinkedIn writes), "20/01/1991" and "20.01.1991" (day first).
_US = re.compile(
    r"^(\d{1,2})([/.])(\d{1,2})\2(\d{2}|\d{4})"
    r"(?:,?\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([ap]\.?m\.?)?)?$",
    re.I,
)
_NO_YEAR = re.compile(r"^--(\d{2})-?(\d{2})$")


def _month(name: str) -> int | None:
    return MONTHS.get(name[:3].lower())


def _year(text: str) -> int:
    """A two-digit year is the nearest past one: 22 → 2022, 65 → 1965."""
    year = int(text)
    if len(text) == 2:
        this = datetime.now(timezone.utc).year
        year += 2000 if 2000 + year <= this else 1900
    return year


_NUMERIC = re.compile(r"^\s*(\d{1,2})[/.](\d{1,2})[/.]\d{2,4}\b")


def day_first(values) -> bool:
    """Whether a column's numeric dates put the day first: some value's first number is over 12
    (20/01/1991), and none's second is. A dotted date (20.01.1991) is always day first."""
    first_big = second_big = False
    for value in values:
        m = _NUMERIC.match(value or "")
        if not m:
            continue
        if "." in m.group(0):
            return True
        first_big |= int(m.group(1)) > 12
        second_big |= int(m.group(2)) > 12
    return first_big and not second_big


def _iso(y, mo, d, h=0, mi=0, s=0, tz: str | None = None) -> str | None:
    try:
        dt = datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0), tzinfo=timezone.utc)
    except ValueError:
        return None
    if tz and tz.upper() not in ("Z", "UTC", "GMT"):
        sign = -1 if tz[0] == "-" else 1
        digits = tz[1:].replace(":", "")
        dt -= sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    # %-formatting: strftime costs more than the rest of the parse.
    return "%04d-%02d-%02dT%02d:%02d:%02dZ" % (dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second)


@lru_cache(maxsize=65536)  # exports repeat dates a lot
def parse_datetime(text: str | None, dayfirst: bool = False) -> str | None:
    """'YYYY-MM-DDTHH:MM:SSZ' (UTC) for the date formats exports use; None when unreadable.

    Numeric dates are month first (1/2/24 is 2 January) unless `dayfirst` (see `day_first`), or
    unless only day first makes sense (20/01/1991); dotted ones (20.01.1991) are always day first."""
    s = (text or "").strip()
    if not s:
        return None
    m = _ISO.match(s)
    if m:
        return _iso(*m.groups()[:6], tz=m.group(7))
    m = _DAY_MONTH_YEAR.match(s)
    if m and _month(m.group(2)):
        return _iso(_year(m.group(3)), _month(m.group(2)), m.group(1))
    m = _MONTH_DAY_YEAR.match(s)
    if m and _month(m.group(1)):
        return _iso(m.group(3), _month(m.group(1)), m.group(2))
    m = _US.match(s)
    if m:
        month, sep, day, year, hour, minute, second, ampm = m.groups()
        if dayfirst or sep == "." or int(month) > 12:
            month, day = day, month
        year = _year(year)
        hour = int(hour or 0)
        if ampm:
            pm = ampm.lower().startswith("p")
            hour = (hour % 12) + (12 if pm else 0)
        return _iso(year, month, day, hour, minute, second)
    return None


def parse_birthday(text: str | None, dayfirst: bool = False) -> str | None:
    """'YYYY-MM-DD', or '--MM-DD' when the year is unknown (vCard's --MMDD, Google's --MM-DD)."""
    s = (text or "").strip()
    if not s:
        return None
    m = _NO_YEAR.match(s)
    if m:
        month, day = int(m.group(1)), int(m.group(2))
        try:
            datetime(2000, month, day)  # a leap year, so --02-29 is valid
        except ValueError:
            return None
        return f"--{month:02d}-{day:02d}"
    stamp = parse_datetime(s, dayfirst)
    if stamp is None:
        return None
    if stamp.startswith("1604-"):  # Apple's placeholder year for "no year"
        return "--" + stamp[5:10]
    return stamp[:10]
