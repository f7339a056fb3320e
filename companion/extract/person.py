"""Map a schema.org Person (JSON-LD, or microdata made uniform by extruct) onto the profile.

Shared by the generic extractor and LinkedIn's public page, whose Person uses lists for
jobTitle and worksFor (with member.startDate) and a PostalAddress for the location.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from ..identity import canonical_identity
from . import jsonld as ld


def location_text(value, index=None) -> str | None:
    for v in ld.as_list(value):
        v = ld.resolve(v, index or {})
        if isinstance(v, str) and v.strip():
            return " ".join(v.split())
        if not isinstance(v, dict):
            continue
        if ld.types(v) & {"Place"} or "address" in v:
            inner = location_text(v.get("address"), index)
            if inner:
                return inner
            name = ld.text(v.get("name"))
            if name:
                return name
        parts = []
        for key in ("addressLocality", "addressRegion", "addressCountry"):
            t = ld.text(v.get(key))
            if not t or t in parts:
                continue
            if key == "addressCountry" and len(t) == 2 and t.isalpha() and parts:
                continue  # an ISO code ("SE", "GB") is not what the page shows: "Göteborg", not "Göteborg, SE"
            parts.append(t)
        if parts:
            return ", ".join(parts)
        name = ld.text(v.get("name"))
        if name:
            return name
    return None


def _date(value) -> str | None:
    t = ld.text(value)
    if not t:
        return None
    t = t.strip()
    if len(t) >= 7 and t[4] == "-":
        return t[:7]
    return t[:10]


def current_positions(person: dict, index=None) -> list[dict]:
    """Current roles: worksFor entries without an end date, paired with jobTitle by position."""
    index = index or {}
    titles = ld.texts(person.get("jobTitle"))
    orgs = []
    for org in ld.as_list(person.get("worksFor")):
        org = ld.resolve(org, index)
        if isinstance(org, str):
            orgs.append({"company": org.strip(), "start": None, "current": True})
            continue
        if not isinstance(org, dict):
            continue
        member = org.get("member") if isinstance(org.get("member"), dict) else {}
        if isinstance(org.get("member"), list):
            member = next((m for m in org["member"] if isinstance(m, dict)), {})
        end = member.get("endDate") or org.get("endDate")
        orgs.append(
            {
                "company": ld.text(org.get("name")),
                "start": _date(member.get("startDate") or org.get("startDate")),
                "current": not end,
                "title": ld.text(member.get("roleName")),
            }
        )
    current = [o for o in orgs if o["current"]]
    if len(titles) == len(orgs):
        pairs = [(titles[i], o) for i, o in enumerate(orgs) if o["current"]]
    elif len(titles) == len(current):
        pairs = list(zip(titles, current))
    else:
        pairs = [(titles[0] if titles and i == 0 else None, o) for i, o in enumerate(current)]
    positions = [{"title": o.get("title") or t, "company": o["company"], "start": o["start"]} for t, o in pairs]
    if not positions and titles:
        positions.append({"title": titles[0], "company": None, "start": None})
    return positions


def apply_person(result, person: dict, index: dict, source: str, page) -> None:
    """Fill ``result`` from a schema.org Person node."""
    name = ld.text(person.get("name"))
    given, family = ld.text(person.get("givenName")), ld.text(person.get("familyName"))
    if not name and (given or family):
        name = " ".join(p for p in (given, family) if p)
    result.set_name(name, source, given=given, family=family)
    result.set_positions(current_positions(person, index), source)
    result.set(
        "location",
        location_text(person.get("address"), index) or location_text(person.get("homeLocation"), index),
        source,
    )
    result.set("avatar_url", ld.image_url(person.get("image")), source)
    result.set("bio", ld.text(person.get("description")), source)
    urls = [u for u in ld.texts(person.get("url")) if u.startswith(("http://", "https://"))]
    result.set("url", urls[0] if urls else None, source)
    for email in ld.texts(person.get("email")):
        key = canonical_identity(email, "email")
        if key:
            result.set("email", key["value"], source)
            result.add_identity(key)
    for tel in ld.texts(person.get("telephone")):
        result.add_link(canonical_identity(tel, "phone"), "tel")
    page_key = canonical_identity(page.url)
    page_host = _host(page.url)
    for u in urls:
        key = canonical_identity(u)
        if key and (
            (page_key and key["value"] == page_key["value"])
            or (key["kind"] == "url" and page_host and _host(u) == page_host)
        ):
            result.add_identity(key)
        else:
            result.add_link(key, "url")
    for u in ld.texts(person.get("sameAs")):
        result.link_url(u, "sameAs")


def _host(u: str) -> str:
    try:
        host = (urlsplit(u or "").hostname or "").lower()
    except ValueError:
        return ""
    return host[4:] if host.startswith("www.") else host
