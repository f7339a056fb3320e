"""LinkedIn dispatch: messaging threads, logged-in profiles (Voyager islands, then DOM), public pages.

Returns the extractor name for the result ("linkedin" or "linkedin_public"), or None when the
page is not a LinkedIn page this module understands (the generic extractor then runs).
"""

from __future__ import annotations

from urllib.parse import unquote

from ..identity import canonical_identity
from . import linkedin_dom, linkedin_messaging, linkedin_public, linkedin_voyager

_PROFILE_FIELDS = ("name", "headline", "location", "avatar_url", "bio")


def is_linkedin(host: str) -> bool:
    return host == "linkedin.com" or host.endswith(".linkedin.com")


def profile_slug(path: str) -> str | None:
    parts = [p for p in (path or "").split("/") if p]
    if parts and parts[0] in ("mwlite", "m"):
        parts = parts[1:]
    if len(parts) >= 2 and parts[0] == "in":
        return unquote(parts[1])
    return None


def extract(page, result) -> str | None:
    if page.path.startswith("/messaging"):
        return "linkedin" if linkedin_messaging.extract(page, result) else None
    slug = profile_slug(page.path)
    if slug is None:
        return None
    used_voyager = linkedin_voyager.extract(page, result, slug)
    if not used_voyager and page.jsonld and linkedin_public.extract(page, result, slug):
        return "linkedin_public"
    extractor = "linkedin"
    if not used_voyager and linkedin_dom.extract_public_2015(page, result):
        extractor = "linkedin_public"  # a 2013–2016 public page: its own markup, no islands to fill in
    missing = any(not result.has(f) for f in _PROFILE_FIELDS) or not result.profile["positions"]
    if missing and extractor == "linkedin":
        linkedin_dom.extract(page, result)
    if not result.recognised():
        return None
    if result.has("headline") and not result.has("title"):
        _title_from_headline(result)
    key = canonical_identity(f"https://www.linkedin.com/in/{slug}/")
    if key:
        if not any(i["kind"] == "linkedin" for i in result.identities):
            result.identities.insert(0, key)
        result.set("url", key["url"], "url")
        result.set("handle", key["value"].rstrip("/").rsplit("/", 1)[-1], "url")
    return extractor


def _title_from_headline(result) -> None:
    """'Staff Engineer at Acme | ...' gives title and company when no position says so."""
    headline = result.profile["headline"] or ""
    first_part = headline.split("|")[0].split("·")[0].strip()
    for sep in (" at ", " @ "):
        if sep in first_part:
            title, company = first_part.split(sep, 1)
            result.set("title", title.strip(), "headline")
            result.set("company", company.strip(), "headline")
            return
