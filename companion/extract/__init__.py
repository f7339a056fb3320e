"""Pure extraction: captured HTML + URL in, plain JSON-serialisable data out (docs/EXTRACTION.md).

No database, no network, and no exception escapes: a page nothing understands still yields its
title and URL with status "unparsed".  Site extractors are chosen by host (LinkedIn, GitHub, X,
Bluesky, Instagram, TikTok, Dribbble) or by page signals (Mastodon); the generic structured-data extractor runs when none of them
recognises the page.
"""

from __future__ import annotations

from . import generic, github, linkedin, mastodon, social, x
from .page import Page
from .result import Result, empty_profile
from .selection import extract_selection

__all__ = ["extract_page", "extract_selection"]


def _site_extractor(page: Page, result: Result) -> str | None:
    host = page.host
    if linkedin.is_linkedin(host):
        return linkedin.extract(page, result)
    if host in ("github.com", "www.github.com"):
        return "github" if github.extract(page, result) else None
    if x.is_x(host):
        return "x" if x.extract(page, result) else None
    site = social.site(host)
    if site:  # before Mastodon: a bridged Bluesky account also links an ActivityPub actor
        return site if social.extract(site, page, result) else None
    if mastodon.looks_like_mastodon(page):
        return "mastodon" if mastodon.extract(page, result) else None
    return None


def extract_page(html, url, title=None) -> dict:
    """Extract the page subject's profile, identities, links and messages; never raises."""
    page = Page(html, url, title)
    try:
        result = Result(page.url, page.title)
        name = _site_extractor(page, result)
        if name is None:
            result = Result(page.url, page.title)  # drop a site extractor's half-work
            generic.extract(page, result)
            name = "generic"
        return result.to_dict(name)
    except Exception:
        return _unparsed(page)


def _unparsed(page: Page) -> dict:
    try:
        title = page.title
    except Exception:
        title = None
    return {
        "url": page.url,
        "title": title,
        "extractor": "generic",
        "status": "unparsed",
        "profile": empty_profile(),
        "sources": {},
        "identities": [],
        "links": [],
        "messages": [],
        "thread": None,
    }
