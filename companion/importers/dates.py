"""Dates as exports write them ("01 Jan 2024", "1/2/24, 9:03 AM", "2024-01-02 10:00:00 UTC")
turned into Kith's sortable UTC text. Month names are matched here rather than
with strptime's %b, which follows the process locale."""

from __future__ import annotations

import re
from functools import lru_cache
from datetime import datetime, timedelta, timezone

MONTHS = {m: i for i, m in enumerate(
    "jan feb mar apr may jun jul aug sep oct nov dec".split(), start=1)}

_ISO = re.compile(r"^(\d{4})-?(\d{2})-?(\d{2})(?:[ T](\d{2}):?(\d{2})(?::?(\d{2})(?:\.\d+)?)?)?"
                  r"\s*(Z|UTC|GMT|[+-]\d{2}:?\d{2})?$", re.I)
_DAY_MONTH_YEAR = re.compile(r"^(\d{1,2})[\s-]+([a-z]{3,})\.?,?[\s-]+(\d{4})$", re.I)
_MONTH_DAY_YEAR = re.compile(r"^([a-z]{3,})\.?\s+(\d{1,2}),?\s+(\d{4})$", re.I)
_US = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})(?:,?\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([ap]\.?m\.?)?)?$",
                 re.I)
_NO_YEAR = re.compile(r"^--(\d{2})-?(\d{2})$")


def _month(name: str) -> int | None:
    return MONTHS.get(name[:3].lower())


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
def parse_datetime(text: str | None) -> str | None:
    """'YYYY-MM-DDTHH:MM:SSZ' (UTC) for the date formats exports use; None when unreadable."""
    s = (text or "").strip()
    if not s:
        return None
    m = _ISO.match(s)
    if m:
        return _iso(*m.groups()[:6], tz=m.group(7))
    m = _DAY_MONTH_YEAR.match(s)
    if m and _month(m.group(2)):
        return _iso(m.group(3), _month(m.group(2)), m.group(1))
    m = _MONTH_DAY_YEAR.match(s)
    if m and _month(m.group(1)):
        return _iso(m.group(3), _month(m.group(1)), m.group(2))
    m = _US.match(s)
    if m:
        month, day, year, hour, minute, second, ampm = m.groups()
        year = int(year) + (2000 if len(year) == 2 else 0)
        hour = int(hour or 0)
        if ampm:
            pm = ampm.lower().startswith("p")
            hour = (hour % 12) + (12 if pm else 0)
        return _iso(year, month, day, hour, minute, second)
    return None


def parse_birthday(text: str | None) -> str | None:
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
    stamp = parse_datetime(s)
    if stamp is None:
        return None
    if stamp.startswith("1604-"):  # Apple's placeholder year for "no year"
        return "--" + stamp[5:10]
    return stamp[:10]
