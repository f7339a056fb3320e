"""One rule for which URLs Kith keeps, links or shows: absolute http(s) with a host.

Captured pages are attacker-controlled, so a `javascript:`, `data:` or `file:` URL from a page
(an h-card's u-photo, a JSON-LD `image`) must never be stored as an avatar or a link; checking
at storage time means nothing downstream has to remember to.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def http_url(value) -> str | None:
    """The trimmed URL if it is an absolute http(s) URL with a host and a valid port, else None."""
    if not isinstance(value, str):
        return None
    url = value.strip()
    if not url or _CONTROL.search(url):
        return None
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:  # e.g. an unclosed IPv6 bracket, "http://[::1"
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url
