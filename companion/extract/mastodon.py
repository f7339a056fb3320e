"""Mastodon profiles: ``@user@host`` from ``profile:username``, the actor URI, verified links.

Any host can run Mastodon, so this is chosen by the page's own signals (``profile:username``
with an ``@``-less user@host value, an ``application/activity+json`` alternate link, or the
``account__header`` markup), never by host name.
"""

from __future__ import annotations

import re

from ..identity import canonical_identity
from .dom import attr, block_text, first, text

SOURCE_META = "meta"
SOURCE_DOM = "dom"
_COUNTS = re.compile(r"^[\d.,\s]+[KkMm]?\s+Posts?,.*?Followers?\s*·\s*", re.S)
_OG_TITLE = re.compile(r"^(?P<name>.*?)\s*\((?P<handle>@[^()\s]+@[^()\s]+)\)\s*$")


def looks_like_mastodon(page) -> bool:
    head = page.head_html
    if "application/activity+json" in head:
        return True
    if "account__header" in page.html:
        return True
    username = page.meta1("profile:username") if "profile:username" in head else None
    return bool(username and "@" in username.strip("@"))


def _actor(page) -> str | None:
    for link in page.head_links:
        if "alternate" in link["rel"] and link["type"] == "application/activity+json":
            return link["href"]
    return None


def extract(page, result) -> bool:
    dom = page.dom
    key = None
    username = page.meta1("profile:username")
    if username:
        key = canonical_identity(username, "mastodon")
    og_title = page.meta1("og:title") or ""
    m = _OG_TITLE.match(og_title)
    if m:
        key = key or canonical_identity(m.group("handle"), "mastodon")
    header = first(dom, ".account__header") if dom is not None else None
    if header is not None:
        name_box = first(header, ".account__header__tabs__name h1", ".account__header__tabs__name")
        if name_box is not None:
            small = first(name_box, "small")
            handle_text = text(small) if small is not None else ""
            name_text = text(name_box)
            if handle_text and name_text.endswith(handle_text):
                name_text = name_text[: -len(handle_text)].strip()
            result.set_name(name_text, SOURCE_DOM)
            if handle_text and "@" in handle_text.strip("@"):
                key = key or canonical_identity(handle_text.split()[0], "mastodon")
        result.set("bio", block_text(first(header, ".account__header__content")), SOURCE_DOM)
        avatar = first(header, ".account__avatar img", "img.account__avatar", ".avatar img")
        result.set("avatar_url", page.absolute(attr(avatar, "src")), SOURCE_DOM)
        for dl in header.css(".account__header__fields dl"):
            verified = "verified" in (attr(dl, "class") or "").split()
            if text(first(dl, "dt")).lower() in ("pronouns", "pronoun", "pronomen", "pronoms"):
                result.set("pronouns", text(first(dl, "dd")).lower(), SOURCE_DOM)
            for a in dl.css("dd a[href]"):
                result.link_url(page.absolute(attr(a, "href")), "verified" if verified else "field")
    if m:
        result.set_name(m.group("name"), "opengraph")
    result.set("bio", _COUNTS.sub("", page.meta1("og:description") or ""), "opengraph")
    result.set("avatar_url", page.meta1("og:image"), "opengraph")
    actor = _actor(page)
    if key is None and actor:
        key = canonical_identity(actor, "mastodon")
    if key is None:
        key = canonical_identity(page.url, "mastodon")
    if not result.recognised() and key is None:
        return False
    if key:
        result.add_identity(key)
        result.set("handle", key["value"], SOURCE_META if username else SOURCE_DOM)
        result.set("url", key["url"], SOURCE_META if username else SOURCE_DOM)
    if actor:
        result.add_identity(canonical_identity(actor, "activitypub"))
    for link in page.head_links:
        if "me" in link["rel"] and link["href"]:
            result.link_url(link["href"], "me")
    return result.recognised()
