"""Turning hostile captured text into safe HTML.

Names, bios, notes and URLs come from pages the user visited, so they are
attacker-controlled. Templates auto-escape everything; these helpers cover the
two places where we build markup ourselves: URLs (only http and https may
become an href or src) and FTS snippets (highlight markers become <mark>).
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

from companion.urls import http_url

# snippet() wraps matches in these; control characters never survive into HTML.
MARK_START = "\x02"
MARK_END = "\x03"
_MARKED = re.compile(re.escape(MARK_START) + "(.*?)" + re.escape(MARK_END), re.S)
_STRAY = re.compile("[" + MARK_START + MARK_END + "]")


def safe_url(value) -> str | None:
    """The URL if it is an absolute http(s) URL, else None (javascript:, data:, relative...).

    Stored URLs were already checked on the way in; this covers rows written by older versions
    or by hand with SQL."""
    return http_url(value)


def highlight(snippet: str | None) -> Markup:
    """Escape a snippet, then turn its match markers (and only those) into <mark>."""
    text = str(escape(snippet or ""))
    text = _MARKED.sub(lambda m: "<mark>" + m.group(1) + "</mark>", text)
    return Markup(_STRAY.sub("", text))


def plain(snippet: str | None) -> str:
    """A snippet with its markers removed, for JSON consumers."""
    return _STRAY.sub("", snippet or "")
