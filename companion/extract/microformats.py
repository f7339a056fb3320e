"""microformats2 h-card and rel=me via mf2py, mapped onto the Kith profile.

Microformats v1 (`class="vcard"` with `fn`, `org`, `title`, `email`, `adr`), still on older
personal sites and blog themes, is read through mf2py's backwards-compatible parsing. A vcard that
is itself a v1 property of another root (a blog theme's `<div class="vcard author">` inside an
`hentry`) comes back from mf2py without its properties, so each top-level vcard is also parsed on
its own.

The representative h-card (uid = url = page, else url also a rel=me, else the first top-level
h-card) is the page subject; its other urls and the page's rel=me links are the same person.
"""

from __future__ import annotations

from ..identity import canonical_identity
from .dom import classes
from .names import looks_like_url
from .prune import HTML5LIB_MAX, microformats_doc

SOURCE = "h-card"


def parse(page) -> dict:
    """mf2py output for the page (pruned when big); an empty result on any failure."""
    doc = microformats_doc(page)
    if not doc:
        return {"items": [], "rels": {}}
    try:
        import mf2py

        parser = "html5lib" if len(doc) <= HTML5LIB_MAX else "lxml"
        parsed = mf2py.parse(doc=doc, url=page.url or None, html_parser=parser)
    except Exception:
        return {"items": [], "rels": {}}
    if "vcard" in doc:
        parsed["items"] = list(parsed.get("items") or []) + _v1_cards(page, parsed)
    return parsed


def _v1_cards(page, parsed: dict) -> list[dict]:
    """Each top-level v1 vcard (without an h-card class) parsed alone, unless mf2py already gave it."""
    dom = page.dom
    if dom is None:
        return []
    known = [i.get("properties") for i in parsed.get("items") or [] if "h-card" in (i.get("type") or [])]
    out = []
    try:
        import mf2py

        for node in dom.css(".vcard")[:20]:
            if "h-card" in classes(node) or any("vcard" in classes(p) for p in _parents(node)):
                continue
            html = node.html or ""
            if len(html) > 50_000:
                continue
            for item in (
                mf2py.parse(doc=f"<html><body>{html}</body></html>", url=page.url or None, html_parser="html5lib").get(
                    "items"
                )
                or []
            ):
                if "h-card" in (item.get("type") or []) and item.get("properties") not in known:
                    out.append(item)
    except Exception:
        return out
    return out


def _parents(node):
    parent = node.parent
    while parent is not None:
        yield parent
        parent = parent.parent


def _value(v):
    """A property value as a string: plain, {"value": ...} (u-photo alt, embedded h-card), or html."""
    if isinstance(v, str):
        return v.strip() or None
    if isinstance(v, dict):
        for key in ("value", "html"):
            if isinstance(v.get(key), str) and v[key].strip():
                return v[key].strip()
        props = v.get("properties") or {}
        return _first(props, "name")
    return None


def _first(props: dict, key: str):
    for v in props.get(key) or []:
        s = _value(v)
        if s:
            return s
    return None


def _all(props: dict, key: str) -> list[str]:
    out = []
    for v in props.get(key) or []:
        s = _value(v)
        if s and s not in out:
            out.append(s)
    return out


def _norm(u: str | None) -> str:
    return (u or "").rstrip("/").lower()


def representative_hcard(parsed: dict, page_url: str) -> dict | None:
    cards = [i for i in parsed.get("items") or [] if "h-card" in (i.get("type") or [])]
    if not cards:
        return None
    page = _norm(page_url)
    rel_me = {_norm(u) for u in (parsed.get("rels") or {}).get("me", [])}
    for card in cards:
        props = card.get("properties") or {}
        if page and page in {_norm(u) for u in _all(props, "uid")} & {_norm(u) for u in _all(props, "url")}:
            return card
    for card in cards:
        if rel_me & {_norm(u) for u in _all(card.get("properties") or {}, "url")}:
            return card
    # A card with a person's name first; else the one that says the most (a card whose only "name"
    # is its link text, a URL, names nobody).
    named = [c for c in cards if not looks_like_url(_first(c.get("properties") or {}, "name"))]
    if named:
        return named[0]
    return max(cards, key=lambda c: len(c.get("properties") or {}))


def _location(props: dict) -> str | None:
    adr = None
    for v in props.get("adr") or []:
        if isinstance(v, dict) and v.get("properties"):
            adr = v["properties"]
            break
        if isinstance(v, str) and v.strip():
            return v.strip()
    parts = []
    for source in (props, adr or {}):
        for key in ("locality", "region", "country-name"):
            s = _first(source, key)
            if s and s not in parts:
                parts.append(s)
    if parts:
        return ", ".join(parts)
    if adr:
        return _first(adr, "name") or _first(adr, "label")
    return _first(props, "label")


def apply_hcard(result, card: dict, page, rels: dict) -> None:
    """Fill ``result`` from one h-card (and the page's rel=me links)."""
    props = card.get("properties") or {}
    result.set_name(
        _first(props, "name"), SOURCE, given=_first(props, "given-name"), family=_first(props, "family-name")
    )
    urls = _all(props, "url")
    result.set("url", urls[0] if urls else None, SOURCE)
    result.set("avatar_url", _first(props, "photo"), SOURCE)
    result.set("company", _first(props, "org"), SOURCE)
    result.set("title", _first(props, "job-title") or _first(props, "role"), SOURCE)
    result.set("bio", _first(props, "note"), SOURCE)
    result.set("location", _location(props), SOURCE)
    result.set("handle", _first(props, "nickname"), SOURCE)
    pronouns = _first(props, "pronouns") or _first(props, "pronoun")
    result.set("pronouns", pronouns.lower() if pronouns else None, SOURCE)
    for email in _all(props, "email"):
        key = canonical_identity(email, "email")
        if key:
            result.set("email", key["value"], SOURCE)
            result.add_identity(key)
    for tel in _all(props, "tel"):
        result.add_link(canonical_identity(tel, "phone"), "tel")

    page_key = canonical_identity(page.url)
    page_host = _host(page.url)
    for u in urls + _all(props, "uid"):
        key = canonical_identity(u)
        if not key:
            continue
        if key["kind"] == "url" and page_host and _host(u) == page_host:
            result.add_identity(key)
        elif page_key and key["value"] == page_key["value"]:
            result.add_identity(key)
        else:
            result.add_link(key, "url")
    for u in (rels or {}).get("me", []):
        result.link_url(u, "me")


def _host(u: str | None) -> str:
    from urllib.parse import urlsplit

    try:
        host = (urlsplit(u or "").hostname or "").lower()
    except ValueError:
        return ""
    return host[4:] if host.startswith("www.") else host
