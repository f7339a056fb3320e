"""LinkedIn (logged in): Voyager JSON from the HTML-escaped ``<code id="bpr-guid-N">`` islands.

A single-page app keeps islands of profiles viewed earlier, so the profile is chosen by its
``publicIdentifier`` matching the URL slug (or its member id), never by position.  Both the
old ``identity.profile`` entities (publicIdentifier on the MiniProfile, ``fs_profile`` URNs)
and the ``dash`` ones (``fsd_profile``) are read, and so is the 2016–2019 ``profileView`` response
(denormalised: ``profile``, ``positionView``).  Only islands that mention the slug or the
member id are JSON-decoded, which keeps a 2 MB page fast.
"""

from __future__ import annotations

import json
import re
from urllib.parse import unquote

from ..identity import canonical_identity
from . import dates
from .page import loads_lenient, unescape_fast

SOURCE = "voyager"
_MEMBER_ID = re.compile(r"urn:li:(?:fsd?_(?:profile|miniProfile)):([A-Za-z0-9_\-]+)")
_ISLAND_ID = re.compile(r"^bpr-guid-\d+$")


def _entities(data) -> list[dict]:
    out = []
    if not isinstance(data, dict):
        return out
    included = data.get("included")
    if isinstance(included, list):
        out.extend(item for item in included if isinstance(item, dict))
    inner = data.get("data")
    if isinstance(inner, dict) and (inner.get("entityUrn") or inner.get("$type")):
        out.append(inner)
    return out


def _type(entity: dict) -> str:
    t = entity.get("$type") or ""
    return t if isinstance(t, str) else ""


def member_id(urn) -> str | None:
    m = _MEMBER_ID.search(urn) if isinstance(urn, str) else None
    return m.group(1) if m else None


class Islands:
    """Lazily decoded Voyager islands of one page."""

    def __init__(self, page):
        self.raw = {k: v for k, v in page.code_islands.items() if _ISLAND_ID.match(k)}
        self.decoded: dict[str, list[dict]] = {}

    def load_matching(self, needles: list[str]) -> None:
        needles = [n.lower() for n in needles if n]
        if not needles:
            return
        for cid, text in self.raw.items():
            if cid in self.decoded:
                continue
            low = text.lower()
            if any(n in low for n in needles):
                data = loads_lenient(unescape_fast(text))
                self.decoded[cid] = _entities(data)

    def entities(self) -> list[dict]:
        out = []
        for ents in self.decoded.values():
            out.extend(ents)
        return out


def _slug_variants(slug: str) -> list[str]:
    """The slug as it may appear inside the escaped JSON: decoded, percent-encoded or \\u-escaped."""
    decoded = unquote(slug)
    return [v for v in {slug, decoded, json.dumps(decoded)[1:-1]} if v]


def find_profile(page, slug: str):
    """(merged profile dict, member id, all loaded entities) for the URL's slug, or (None, None, [])."""
    islands = Islands(page)
    if not islands.raw or not slug:
        return None, None, []
    islands.load_matching(_slug_variants(slug))
    want = unquote(slug).lower()
    mid = None
    for ent in islands.entities():
        pid = ent.get("publicIdentifier")
        if isinstance(pid, str) and pid.lower() == want:
            mid = member_id(ent.get("entityUrn")) or member_id(ent.get("objectUrn"))
            if mid:
                break
    if mid is None and re.match(r"^ACoA[A-Za-z0-9_\-]+$", slug):
        mid = slug  # /in/ACoAA... links name the member id itself
    if mid is None:
        return None, None, []
    islands.load_matching([mid])
    entities = islands.entities()
    merged: dict = {}
    # Profile first so its fields win over the MiniProfile's.
    mine = [
        e
        for e in entities
        if member_id(e.get("entityUrn")) == mid and (_type(e).endswith(".Profile") or _type(e).endswith(".MiniProfile"))
    ]
    mine.sort(key=lambda e: 0 if _type(e).endswith(".Profile") else 1)
    for ent in mine:
        for key, value in ent.items():
            if value not in (None, "", [], {}) and key not in merged:
                merged[key] = value
    if not merged:
        return None, None, []
    merged.setdefault("entityUrn", f"urn:li:fsd_profile:{mid}")
    # The profile's place is an entity of its own, often in an island that names neither the
    # slug nor the member id: load the islands that mention the geo URN it points at.
    geo = merged.get("geoLocation")
    urns = [geo.get(k) for k in ("*geo", "geoUrn", "geo") if isinstance(geo, dict) and isinstance(geo.get(k), str)]
    if urns:
        islands.load_matching(urns)
        entities = islands.entities()
    return merged, mid, entities


def _index(entities: list[dict]) -> dict[str, dict]:
    return {e["entityUrn"]: e for e in entities if isinstance(e.get("entityUrn"), str)}


def _ref(profile: dict, *keys):
    for key in keys:
        v = profile.get(key)
        if isinstance(v, str) and v:
            return v
    return None


def _location(profile: dict, index: dict) -> str | None:
    for key in ("geoLocationName", "locationName"):
        v = profile.get(key)
        if isinstance(v, str) and v.strip():
            return v
    geo = profile.get("geoLocation")
    if isinstance(geo, dict):
        urn = geo.get("*geo") or geo.get("geoUrn")
        ent = index.get(urn) if isinstance(urn, str) else None
        if ent:
            for key in ("defaultLocalizedName", "defaultLocalizedNameWithoutCountryName"):
                if isinstance(ent.get(key), str):
                    return ent[key]
    loc = profile.get("location")
    if isinstance(loc, dict) and isinstance(loc.get("basicLocation"), dict):
        return loc["basicLocation"].get("countryCode")
    return None


def _vector_image(node, depth=0):
    """Largest artifact URL of the first VectorImage under a picture key."""
    if depth > 6:
        return None
    if isinstance(node, dict):
        if isinstance(node.get("rootUrl"), str) and isinstance(node.get("artifacts"), list):
            arts = [
                a
                for a in node["artifacts"]
                if isinstance(a, dict) and isinstance(a.get("fileIdentifyingUrlPathSegment"), str)
            ]
            if arts:
                best = max(arts, key=lambda a: a["width"] if isinstance(a.get("width"), (int, float)) else 0)
                return node["rootUrl"] + best["fileIdentifyingUrlPathSegment"]
        for key, value in node.items():
            if "background" in key.lower():
                continue
            found = _vector_image(value, depth + 1)
            if found:
                return found
    return None


def _photo(profile: dict, index: dict) -> str | None:
    for key in ("profilePicture", "picture"):
        found = _vector_image(profile.get(key))
        if found:
            return found
    mini = index.get(_ref(profile, "*miniProfile", "miniProfile") or "")
    if mini:
        return _vector_image(mini.get("picture"))
    return None


def _pronoun(profile: dict) -> str | None:
    """Dash profiles carry {"standardizedPronoun": "SHE_HER"} or a custom string."""
    p = profile.get("pronoun")
    if isinstance(p, dict):
        std = p.get("standardizedPronoun")
        if isinstance(std, str) and "_" in std:
            return "/".join(std.lower().split("_"))
        custom = p.get("customPronoun")
        if isinstance(custom, str) and custom.strip():
            return custom.strip().lower()
    if isinstance(p, str) and p.strip():
        return p.strip().lower()
    return None


def _company_name(pos: dict, index: dict) -> str | None:
    if isinstance(pos.get("companyName"), str):
        return pos["companyName"]
    ref = _ref(pos, "*company", "companyUrn")
    ent = index.get(ref) if ref else None
    if ent and isinstance(ent.get("name"), str):
        return ent["name"]
    company = pos.get("company")
    if isinstance(company, dict):
        mini = company.get("miniCompany")
        if isinstance(mini, dict) and isinstance(mini.get("name"), str):
            return mini["name"]
        ent = index.get(company.get("miniCompany")) if isinstance(company.get("miniCompany"), str) else None
        if ent and isinstance(ent.get("name"), str):
            return ent["name"]
    return None


def _positions(entities: list[dict], mid: str, index: dict) -> list[dict]:
    out = []
    for ent in entities:
        if not _type(ent).endswith(".Position"):
            continue
        urn = ent.get("entityUrn") or ""
        if not isinstance(urn, str) or mid not in urn:
            continue
        period = ent.get("dateRange") or ent.get("timePeriod") or {}
        if not isinstance(period, dict):
            period = {}
        start = period.get("start") or period.get("startDate")
        end = period.get("end") or period.get("endDate")
        if end:
            continue
        out.append(
            {
                "title": ent.get("title") if isinstance(ent.get("title"), str) else None,
                "company": _company_name(ent, index),
                "start": dates.ym(start),
            }
        )
    return out


def legacy_profile_view(page, slug: str) -> dict | None:
    """The 2016–2019 `profileView` response, denormalised (`{"profile": {...}, "positionView":
    {"elements": [...]}}`), whose profile's miniProfile names the URL's slug."""
    want = unquote(slug).lower()
    needles = [v.lower() for v in _slug_variants(slug)]
    for cid, text in page.code_islands.items():
        if not _ISLAND_ID.match(cid) or "&quot;profile&quot;" not in text and '"profile"' not in text:
            continue
        low = text.lower()
        if not any(n in low for n in needles):
            continue
        data = loads_lenient(unescape_fast(text))
        profile = data.get("profile") if isinstance(data, dict) else None
        if not isinstance(profile, dict) or not isinstance(profile.get("firstName"), str):
            continue
        mini = profile.get("miniProfile") if isinstance(profile.get("miniProfile"), dict) else {}
        pid = profile.get("publicIdentifier") or mini.get("publicIdentifier")
        if isinstance(pid, str) and pid.lower() == want:
            return data
    return None


def _extract_legacy(page, result, slug: str) -> bool:
    data = legacy_profile_view(page, slug)
    if data is None:
        return False
    profile = data["profile"]
    mini = profile.get("miniProfile") if isinstance(profile.get("miniProfile"), dict) else {}
    first = profile.get("firstName") or ""
    last = profile.get("lastName") if isinstance(profile.get("lastName"), str) else ""
    result.set_name(f"{first} {last}".strip(), SOURCE, given=first, family=last)
    headline = profile.get("headline") or mini.get("occupation")
    result.set("headline", headline if isinstance(headline, str) else None, SOURCE)
    view = data.get("positionView") if isinstance(data.get("positionView"), dict) else {}
    positions = []
    for pos in view.get("elements") or []:
        if not isinstance(pos, dict):
            continue
        period = pos.get("timePeriod") if isinstance(pos.get("timePeriod"), dict) else {}
        if period.get("endDate"):
            continue
        positions.append(
            {
                "title": pos.get("title") if isinstance(pos.get("title"), str) else None,
                "company": _company_name(pos, {}),
                "start": dates.ym(period.get("startDate")),
            }
        )
    result.set_positions(positions, SOURCE)
    result.set("location", _location(profile, {}), SOURCE)
    result.set("avatar_url", _vector_image(mini.get("picture")) or _vector_image(profile.get("picture")), SOURCE)
    summary = profile.get("summary")
    result.set("bio", summary if isinstance(summary, str) else None, SOURCE)
    pid = profile.get("publicIdentifier") or mini.get("publicIdentifier")
    key = canonical_identity(pid, "linkedin") if isinstance(pid, str) else None
    if key:
        result.set("handle", key["value"].rsplit("/", 2)[-2], SOURCE)
        result.add_identity(key)
        result.set("url", key["url"], SOURCE)
    mid = member_id(profile.get("entityUrn")) or member_id(mini.get("entityUrn"))
    if mid:
        result.add_identity(canonical_identity(f"urn:li:fsd_profile:{mid}", "linkedin_urn"))
    return True


def extract(page, result, slug: str) -> bool:
    """Fill ``result`` from the matching island; False when no island is about this profile."""
    profile, mid, entities = find_profile(page, slug)
    if not profile:
        return _extract_legacy(page, result, slug)
    index = _index(entities)
    first = profile.get("firstName") if isinstance(profile.get("firstName"), str) else ""
    last = profile.get("lastName") if isinstance(profile.get("lastName"), str) else ""
    result.set_name(f"{first} {last}".strip(), SOURCE, given=first, family=last)
    result.set("pronouns", _pronoun(profile), SOURCE)
    headline = profile.get("headline") or profile.get("occupation")
    result.set("headline", headline if isinstance(headline, str) else None, SOURCE)
    result.set_positions(_positions(entities, mid, index), SOURCE)
    result.set("location", _location(profile, index), SOURCE)
    result.set("avatar_url", _photo(profile, index), SOURCE)
    summary = profile.get("summary")
    result.set("bio", summary if isinstance(summary, str) else None, SOURCE)
    pid = profile.get("publicIdentifier")
    if isinstance(pid, str) and pid:
        key = canonical_identity(pid, "linkedin")
        result.set("handle", key["value"].rsplit("/", 2)[-2] if key else None, SOURCE)
        result.add_identity(key)
        result.set("url", key["url"] if key else None, SOURCE)
    result.add_identity(canonical_identity(f"urn:li:fsd_profile:{mid}", "linkedin_urn"))
    return True
