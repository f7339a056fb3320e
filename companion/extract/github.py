"""GitHub user pages: the sidebar ``div.h-card[itemtype=Person]``.

``p-nickname`` / ``itemprop=additionalName`` is the *login*, not a middle name; the website is
``li[itemprop=url] a[rel~=me]`` and social accounts are ``li[itemprop=social] a``.  The numeric
user id in the avatar URL survives renames, so it is kept as a ``github_id`` identity.
"""

from __future__ import annotations

import re

from ..identity import canonical_identity
from .dom import attr, first, first_text, text

SOURCE = "dom"
_AVATAR_ID = re.compile(r"avatars\d*\.githubusercontent\.com/u/(\d+)")


def extract(page, result) -> bool:
    dom = page.dom
    if dom is None:
        return False
    card = first(
        dom,
        'div.h-card[itemtype*="schema.org/Person"]',
        "div.h-card",
        ".js-profile-editable-area",
        ".vcard",
        ".avatared",
        '[itemtype*="schema.org/Person"]',
    )  # the last three: 2011–2014 pages
    if card is None:
        return False
    login = first_text(card, ".p-nickname", '[itemprop="additionalName"]', ".vcard-username", "h1 em")
    name = first_text(card, ".p-name", '[itemprop="name"]', ".vcard-fullname", "h1 .name")
    if not login and not name:
        return False
    key = canonical_identity(login, "github") if login else canonical_identity(page.url, "github")
    result.set_name(name or login, SOURCE)
    result.set("handle", login, SOURCE)
    bio = first(card, ".p-note", ".user-profile-bio")
    bio_text = attr(bio, "data-bio-text") or text(bio)
    result.set("bio", bio_text, SOURCE)
    company = first_text(card, '[itemprop="worksFor"] .p-org', '[itemprop="worksFor"]')
    if company and company.startswith("@") and " " not in company:
        company = company[1:]
    result.set("company", company, SOURCE)
    result.set("location", first_text(card, '[itemprop="homeLocation"] .p-label', '[itemprop="homeLocation"]'), SOURCE)
    avatar = first(
        card,
        '[itemprop="image"] img',
        "img.avatar-user.width-full",
        "img.avatar-user",
        "img.avatar",
        'img[itemprop="image"]',
        "img",
    )
    avatar_url = attr(avatar, "src")
    result.set("avatar_url", avatar_url, SOURCE)
    email = first(card, '[itemprop="email"] a', "a.u-email")
    email_key = canonical_identity(attr(email, "href") or text(email), "email") if email is not None else None
    if email_key:
        result.set("email", email_key["value"], SOURCE)
    if key:
        result.add_identity(key)
        result.set("url", key["url"], SOURCE)
    uid = page.meta1("octolytics-dimension-user_id")
    m = _AVATAR_ID.search(avatar_url or "")
    if not uid and m:
        uid = m.group(1)
    result.add_identity(canonical_identity(uid, "github_id") if uid else None)
    result.add_identity(email_key)
    for a in card.css('[itemprop="url"] a[href], .details a.url[href]'):
        result.link_url(page.absolute(attr(a, "href")), "me" if "me" in (attr(a, "rel") or "").split() else "website")
    for a in card.css('[itemprop="social"] a[href]'):
        result.link_url(page.absolute(attr(a, "href")), "me" if "me" in (attr(a, "rel") or "").split() else "social")
    return True
