"""The extraction result (docs/EXTRACTION.md) and the bookkeeping every extractor shares.

Extractors call ``set`` in priority order; the first source to give a field wins and is recorded
in ``sources``, so provenance never has to be tracked by hand.
"""

from __future__ import annotations

import html as htmllib
import re

from ..identity import canonical_identity
from ..urls import http_url
from .names import clean_name, looks_like_url

PROFILE_KEYS = (
    "name",
    "given_name",
    "family_name",
    "pronouns",
    "credentials",
    "headline",
    "title",
    "company",
    "location",
    "avatar_url",
    "bio",
    "url",
    "positions",
    "email",
    "handle",
)
URL_FIELDS = ("avatar_url", "url")
NAME_PARTS = ("name", "given_name", "family_name", "pronouns", "credentials")


def empty_profile() -> dict:
    profile = {k: None for k in PROFILE_KEYS}
    profile["positions"] = []
    return profile


class Result:
    """Mutable builder for one page's extraction."""

    def __init__(self, url: str, title: str | None):
        self.url = url
        self.title = title
        self.profile = empty_profile()
        self.sources: dict[str, str] = {}
        self.identities: list[dict] = []
        self.links: list[dict] = []
        self.messages: list[dict] = []
        self.thread: dict | None = None

    # -- profile fields ----------------------------------------------------------------
    def has(self, field: str) -> bool:
        value = self.profile.get(field)
        return value not in (None, "", [])

    def set(self, field: str, value, source: str, override: bool = False) -> bool:
        """Set ``field`` unless an earlier (stronger) source already did."""
        if field in URL_FIELDS:
            value = http_url(value)  # a page's javascript:/data: "photo" is never kept
        elif isinstance(value, str):
            value = " ".join(value.split()) if field not in ("bio",) else _bio_text(value)
        if value in (None, "", []):
            return False
        if self.has(field) and not override:
            return False
        self.profile[field] = value
        self.sources[field] = source
        return True

    def set_name(self, raw, source: str, given=None, family=None) -> bool:
        """Clean a display name into name/given/family/pronouns/credentials, all from ``source``."""
        if self.has("name") or not isinstance(raw, str) or looks_like_url(raw):
            return False  # a URL is never a name (an h-card's implied name may be its link text)
        parts = clean_name(raw)
        if not parts["name"]:
            return False
        if given or family:
            parts["given_name"] = _clean_part(given) or parts["given_name"]
            parts["family_name"] = _clean_part(family) or parts["family_name"]
        for key in NAME_PARTS:
            self.set(key, parts[key], source)
        return True

    def set_positions(self, positions: list[dict], source: str) -> None:
        clean = []
        for p in positions:
            item = {"title": _s(p.get("title")), "company": _s(p.get("company")), "start": _s(p.get("start"))}
            if (item["title"] or item["company"]) and item not in clean:
                clean.append(item)
        if clean and not self.profile["positions"]:
            self.profile["positions"] = clean
            self.sources["positions"] = source
            self.set("title", clean[0]["title"], source)
            self.set("company", clean[0]["company"], source)

    # -- identities and links ------------------------------------------------------------
    def add_identity(self, key: dict | None) -> None:
        if key and not any(_same(key, k) for k in self.identities):
            self.identities.append(key)
            self.links = [link for link in self.links if not _same(link, key)]

    def add_link(self, key: dict | None, rel: str) -> None:
        if not key:
            return
        if any(_same(key, k) for k in self.identities) or any(_same(key, k) for k in self.links):
            return
        self.links.append({**key, "rel": rel})

    def link_url(self, href, rel: str, kind: str | None = None) -> None:
        if isinstance(href, str) and href.strip():
            self.add_link(canonical_identity(href.strip(), kind), rel)

    # -- output ----------------------------------------------------------------------------
    def status(self) -> str:
        if self.profile["name"] or self.messages:
            return "parsed"
        if any(self.has(k) for k in PROFILE_KEYS):
            return "partial"
        return "unparsed"

    def recognised(self) -> bool:
        return self.status() != "unparsed"

    def to_dict(self, extractor: str) -> dict:
        self.identities.sort(key=lambda k: _RANK.get(k.get("kind"), 9))
        return {
            "url": self.url,
            "title": self.title,
            "extractor": extractor,
            "status": self.status(),
            "profile": self.profile,
            "sources": self.sources,
            "identities": self.identities,
            "links": self.links,
            "messages": self.messages,
            "thread": self.thread,
        }


# Profile URLs first (docs/EXTRACTION.md puts the LinkedIn URL before its URN), then the
# stable internal ids, then addresses.
_RANK = {
    "linkedin": 0,
    "github": 0,
    "x": 0,
    "mastodon": 0,
    "bluesky": 0,
    "instagram": 0,
    "tiktok": 0,
    "dribbble": 0,
    "url": 1,
    "linkedin_urn": 2,
    "github_id": 2,
    "x_id": 2,
    "bluesky_did": 2,
    "activitypub": 2,
    "email": 3,
    "phone": 4,
}


def _same(a: dict, b: dict) -> bool:
    return a.get("kind") == b.get("kind") and a.get("value") == b.get("value")


_MARKUP = re.compile(r"<(?:br|/?p|/?div|/?span|/?b|/?i|/?em|/?strong|/?a)\b[^<>]*>", re.I)
_BREAK = re.compile(r"<br\s*/?>|</p>\s*<p\b[^<>]*>|</div>\s*<div\b[^<>]*>", re.I)


def _bio_text(value: str) -> str:
    """A bio as text: markup some sources leave in it (`<br>`, `<p>`) becomes line breaks."""
    if "<" in value and _MARKUP.search(value):
        value = htmllib.unescape(_MARKUP.sub("", _BREAK.sub("\n", value)))
        value = "\n".join(" ".join(line.split()) for line in value.split("\n"))
    return value.strip()


def _s(v):
    if isinstance(v, str):
        v = " ".join(v.split())
        return v or None
    return None


def _clean_part(v):
    if not isinstance(v, str):
        return None
    return clean_name(v, split=False)["name"]
