"""Table-view cells: avatars as small images, profile URLs as links, names as Kith links.

Only http(s) URLs become src/href; anything else (javascript:, data:) falls
through to Datasette's default rendering, which shows it as escaped text.
"""

from __future__ import annotations

from markupsafe import Markup

from .safety import safe_url

AVATAR = (
    '<img src="{}" alt="" title="{}" width="32" height="32" loading="lazy"'
    ' referrerpolicy="no-referrer" style="border-radius:50%;object-fit:cover">'
)
LINK = '<a href="{}" rel="noopener noreferrer nofollow">{}</a>'
NAME_TABLES = ("contacts", "contact_overview")


def _row_id(row):
    try:
        return int(row["id"])
    except (KeyError, IndexError, TypeError, ValueError):
        return None


def render(value, column: str, table: str | None, row, contact_url) -> Markup | None:
    if column == "avatar_url":
        url = safe_url(value)
        return Markup(AVATAR).format(url, url) if url else None
    if column == "url" and table == "identities":
        url = safe_url(value)
        return Markup(LINK).format(url, url) if url else None
    if column == "name" and table in NAME_TABLES and isinstance(value, str) and value:
        contact_id = _row_id(row)
        if contact_id is not None:
            return Markup('<a href="{}">{}</a>').format(contact_url(contact_id), value)
    return None
