"""X / Twitter profiles: the ``ProfilePage`` JSON-LD (``data-testid="UserProfileSchema-test"``).

A page served without JavaScript has neither, only "Name (@handle) on X" in its og:title: the
name is read without that suffix, and the handle from it.

In it ``additionalName`` is the handle and ``givenName`` the display name; ``identifier`` is the
numeric id that survives renames.  The ``data-testid`` DOM is a fallback and supplies the
expanded website URL that ``relatedLink`` only gives as a t.co redirect.
"""

from __future__ import annotations

import re

from ..identity import canonical_identity
from . import jsonld as ld
from .dom import attr, first, text

SOURCE = "jsonld"


def is_x(host: str) -> bool:
    host = host[4:] if host.startswith("www.") else host
    host = host[7:] if host.startswith("mobile.") else host
    return host in ("x.com", "twitter.com")


def _profile_page(page):
    fallback = None
    for attrs, data in page.jsonld:
        for node in ld.top_nodes(data):
            if ld.types(node) & {"ProfilePage"}:
                if attrs.get("data-testid") == "UserProfileSchema-test":
                    return node
                fallback = fallback or node
    return fallback


def _is_tco(u: str) -> bool:
    return "://t.co/" in u


def extract(page, result) -> bool:
    node = _profile_page(page)
    person = None
    if node is not None:
        for key in ("mainEntity", "author"):
            cand = node.get(key)
            if isinstance(cand, dict):
                person = cand
                break
    dom = page.dom
    handle = None
    meta = False
    if person is not None:
        handle = ld.text(person.get("additionalName"))
        result.set_name(ld.text(person.get("givenName")) or ld.text(person.get("name")), SOURCE)
        result.set("bio", ld.text(person.get("description")), SOURCE)
        result.set(
            "location",
            ld.text(
                (person.get("homeLocation") or {}).get("name")
                if isinstance(person.get("homeLocation"), dict)
                else person.get("homeLocation")
            ),
            SOURCE,
        )
        result.set("avatar_url", ld.image_url(person.get("image")), SOURCE)
        ident = ld.text(person.get("identifier"))
        own = ld.text(person.get("url"))
        if not handle and own:
            key = canonical_identity(own, "x")
            handle = key["value"].rsplit("/", 1)[-1] if key else None
        related = ld.texts(person.get("relatedLink")) + ld.texts(node.get("relatedLink"))
    else:
        ident, related = None, []
    if dom is not None:
        _from_dom(dom, result, handle)
    if person is None and not result.recognised():
        handle = _from_meta(page, result)
        meta = bool(handle)
    handle = handle or result.profile["handle"]
    if not handle:
        key = canonical_identity(page.url, "x")
        handle = key["value"].rsplit("/", 1)[-1] if key and result.recognised() else None
    if not result.recognised():
        return False
    key = canonical_identity(handle, "x") if handle else None
    if key:
        source = SOURCE if person else "opengraph" if meta else "dom"
        result.set("handle", handle.lstrip("@"), source)
        result.add_identity(key)
        result.set("url", key["url"], source)
    if ident:
        result.add_identity(canonical_identity(ident, "x_id"))
    website = _dom_website(dom) if dom is not None else None
    if website:
        result.link_url(website, "website")
    for u in related:
        if not _is_tco(u) and canonical_identity(u) != (key or {}):
            result.link_url(u, "relatedLink")
    return True


_META_TITLE = re.compile(r"^\s*(?P<name>.*?)\s*\(@(?P<handle>[A-Za-z0-9_]{1,15})\)\s*(?:on|/)\s*(?:X|Twitter)\s*$")


def _from_meta(page, result) -> str | None:
    """A profile served without JavaScript has no JSON-LD and no app DOM, only "Name (@handle) on X"
    in og:title and <title>: the name without the suffix, and the handle."""
    for title in (page.meta1("og:title"), page.title):
        m = _META_TITLE.match(title or "")
        if m:
            result.set_name(m.group("name"), "opengraph")
            result.set("bio", page.meta1("og:description") or page.meta1("description"), "opengraph")
            result.set("avatar_url", page.meta1("og:image"), "opengraph")
            result.set("handle", m.group("handle"), "opengraph")
            return m.group("handle")
    return None


def _dom_website(dom) -> str | None:
    a = first(dom, '[data-testid="UserUrl"]')
    if a is None:
        return None
    shown = text(a).rstrip("…").strip()
    href = attr(a, "href") or ""
    if shown and "." in shown and " " not in shown:
        return shown if "://" in shown else "https://" + shown
    return href if href and not _is_tco(href) else None


def _from_dom(dom, result, handle) -> None:
    name_box = first(dom, '[data-testid="UserName"]')
    if name_box is not None:
        spans = [text(s) for s in name_box.css("span") if text(s)]
        name = next((s for s in spans if not s.startswith("@")), None)
        result.set_name(name, "dom")
        if not handle:
            at = next((s for s in spans if s.startswith("@")), None)
            if at:
                result.set("handle", at.lstrip("@"), "dom")
    result.set("bio", text(first(dom, '[data-testid="UserDescription"]')), "dom")
    result.set("location", text(first(dom, '[data-testid="UserLocation"]')), "dom")
    img = first(dom, '[data-testid^="UserAvatar-Container"] img', 'img[src*="profile_images"]')
    result.set("avatar_url", attr(img, "src"), "dom")
