"""Profiles on Bluesky, Instagram, TikTok and Dribbble.

None of them carries a schema.org Person, and a saved page is mostly what the server sends before
any script runs: OpenGraph and title text in a fixed shape ("Name (@handle) • Instagram photos and
videos"), plus, on TikTok, the app's own JSON island. Each reader takes the person's name and
handle from those shapes, never the shape itself as a name, and gives the site's identity key
(docs/IDENTITY.md): `bluesky` (the handle) and `bluesky_did` (the account's DID, which survives a
change of handle), `instagram`, `tiktok`, `dribbble`.
"""

from __future__ import annotations

import json
import re

from ..identity import canonical_identity
from .dom import attr, first, text

SOURCE = "opengraph"
_NAME_HANDLE = re.compile(r"^\s*(?P<name>.*?)\s*\(@(?P<handle>[^()\s]+)\)")


def _bare(host: str) -> str:
    for prefix in ("www.", "m.", "mobile."):
        if host.startswith(prefix):
            return host[len(prefix) :]
    return host


def site(host: str) -> str | None:
    """Which of these sites a page's host is, if any."""
    return {
        "bsky.app": "bluesky",
        "staging.bsky.app": "bluesky",
        "instagram.com": "instagram",
        "tiktok.com": "tiktok",
        "dribbble.com": "dribbble",
    }.get(_bare(host))


def extract(name: str, page, result) -> bool:
    return {"bluesky": bluesky, "instagram": instagram, "tiktok": tiktok, "dribbble": dribbble}[name](page, result)


def _name_and_handle(*titles: str | None) -> tuple[str | None, str | None]:
    for title in titles:
        m = _NAME_HANDLE.match(title or "")
        if m:
            return m.group("name") or None, m.group("handle")
    return None, None


def _own(result, key: dict | None, handle: str | None, source: str = SOURCE) -> None:
    if key:
        result.add_identity(key)
        result.set("url", key["url"], source)
    result.set("handle", handle, source)


# --- Bluesky ----------------------------------------------------------------------------------

_DID_IN = re.compile(r"\bdid:(?:plc:[a-z2-7]{24}|web:[a-z0-9.\-]+)")


def bluesky(page, result) -> bool:
    """bsky.app/profile/{handle or DID}: "Name (@handle)" in og:title, the DID in twitter:value1 or the
    at:// alternate link."""
    name, handle = _name_and_handle(page.meta1("og:title"), page.title)
    handle = handle or page.meta1("profile:username")
    result.set_name(name, SOURCE)
    result.set("bio", page.meta1("og:description") or page.meta1("description"), SOURCE)
    result.set("avatar_url", page.meta1("og:image"), SOURCE)
    from_url = canonical_identity(page.url, "bluesky")
    key = canonical_identity(handle, "bluesky") if handle else None
    if key is None and from_url and from_url["kind"] == "bluesky":
        key = from_url
    did = None
    if (page.meta1("twitter:label1") or "").lower().endswith("did"):
        did = page.meta1("twitter:value1")
    for link in page.head_links:
        m = _DID_IN.search(link["href"] or "") if link["href"] and link["href"].startswith("at://") else None
        did = did or (m.group(0) if m else None)
    did_key = canonical_identity(did, "bluesky_did") if did else None
    if did_key is None and from_url and from_url["kind"] == "bluesky_did":
        did_key = from_url
    if not result.recognised() and key is None:
        return False
    _own(result, key or did_key, key["value"] if key else None)
    result.add_identity(did_key)
    return True


# --- Instagram --------------------------------------------------------------------------------

_IG_BIO = re.compile(r'on Instagram:\s*"(?P<bio>.*)"\s*$', re.S)


def instagram(page, result) -> bool:
    """instagram.com/{user}/: "Name (@user) • Instagram photos and videos"; the bio is the quoted
    part of the description ('… (@user) on Instagram: "bio"'); the counts are not a bio."""
    name, handle = _name_and_handle(page.meta1("og:title"), page.title, page.meta1("description"))
    key = canonical_identity(handle, "instagram") if handle else canonical_identity(page.url, "instagram")
    if key is None or key["kind"] != "instagram":
        return False
    result.set_name(name, SOURCE)
    m = _IG_BIO.search(page.meta1("description") or "")
    result.set("bio", m.group("bio") if m else None, SOURCE)
    result.set("avatar_url", page.meta1("og:image"), SOURCE)
    _own(result, key, key["value"].rstrip("/").rsplit("/", 1)[-1])
    return True


# --- TikTok -----------------------------------------------------------------------------------


def _tiktok_user(page) -> dict | None:
    for attrs, body in page.scripts:
        if attrs.get("id") in ("__UNIVERSAL_DATA_FOR_REHYDRATION__", "SIGI_STATE"):
            try:
                data = json.loads(body)
            except ValueError:
                return None
            scope = data.get("__DEFAULT_SCOPE__") if isinstance(data, dict) else None
            detail = (scope or {}).get("webapp.user-detail") or {}
            user = (detail.get("userInfo") or {}).get("user")
            return user if isinstance(user, dict) else None
    return None


def tiktok(page, result) -> bool:
    """tiktok.com/@user: the app's user-detail island (uniqueId, nickname, signature, avatarLarger,
    bioLink), else "Name (@user) | TikTok" in the title."""
    user = _tiktok_user(page)
    if user is not None:
        handle = user.get("uniqueId") if isinstance(user.get("uniqueId"), str) else None
        result.set_name(user.get("nickname") if isinstance(user.get("nickname"), str) else None, "json")
        result.set("bio", user.get("signature") if isinstance(user.get("signature"), str) else None, "json")
        result.set("avatar_url", user.get("avatarLarger") or user.get("avatarMedium"), "json")
        link = (user.get("bioLink") or {}).get("link") if isinstance(user.get("bioLink"), dict) else None
        if isinstance(link, str) and link.strip():
            result.link_url(link if "://" in link else "https://" + link.strip(), "website")
        source = "json"
    else:
        name, handle = _name_and_handle(page.title, page.meta1("og:description"))
        result.set_name(name, SOURCE)
        result.set("avatar_url", page.meta1("og:image"), SOURCE)
        source = SOURCE
    key = canonical_identity(handle, "tiktok") if handle else canonical_identity(page.url, "tiktok")
    if key is None or key["kind"] != "tiktok":
        return False
    _own(result, key, key["value"].rsplit("@", 1)[-1], source)
    return True


# --- Dribbble ---------------------------------------------------------------------------------


def dribbble(page, result) -> bool:
    """dribbble.com/{user}: the masthead (name, locality, intro) and the profile's social links."""
    key = canonical_identity(page.url, "dribbble")
    if key is None or key["kind"] != "dribbble":
        return False
    dom = page.dom
    if dom is not None:
        result.set_name(text(first(dom, ".masthead-profile-name", "h1.profile-name")), "dom")
        result.set("location", text(first(dom, ".masthead-profile-locality", ".location")), "dom")
        result.set("bio", text(first(dom, ".masthead-intro", ".profile-bio")), "dom")
        result.set(
            "avatar_url", page.absolute(attr(first(dom, "img.profile-avatar", ".masthead-avatar img"), "src")), "dom"
        )
        for a in dom.css(".social-links a[href], .profile-info-mod a.social-link[href]"):
            rel = (attr(a, "rel") or "").split()
            result.link_url(page.absolute(attr(a, "href")), "me" if "me" in rel else "social")
    result.set_name(page.meta1("og:title"), SOURCE)
    result.set("bio", page.meta1("og:description"), SOURCE)
    result.set("avatar_url", page.meta1("og:image"), SOURCE)
    if not result.recognised():
        return False
    _own(result, key, key["value"].rsplit("/", 1)[-1], "url")
    return True
