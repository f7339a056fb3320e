"""A saved selection (a quote, an email excerpt, a chat message) → a message with its sender.

The sender comes from the selection itself when it carries mail headers ("From:", "Date:"),
else from the page around it: the LinkedIn message group whose body contains the selection,
or Gmail's ``span.gD[email]``.  ``subject_identities`` are the identity keys of the person the
selection is about (the sender, or the profile the page shows).
"""

from __future__ import annotations

import re
from email.utils import getaddresses, parsedate_to_datetime
from datetime import timezone

from ..identity import canonical_identity
from . import dates, linkedin_messaging
from .dom import attr, text
from .fragment import fragment_text
from .page import Page

_HEADER = re.compile(r"^\s*(From|Von|De|Date|Sent|Datum|Envoyé|Gesendet)\s*:\s*(.+?)\s*$", re.I | re.M)
_MAIL_HOSTS = (
    "mail.google.com",
    "outlook.live.com",
    "outlook.office.com",
    "outlook.office365.com",
    "mail.yahoo.com",
    "app.fastmail.com",
    "www.fastmail.com",
    "mail.proton.me",
    "app.hey.com",
    "mail.zoho.com",
)


def _squash(s: str) -> str:
    return " ".join((s or "").split())


def _empty(body: str, channel: str) -> dict:
    return {
        "body": body,
        "sender": None,
        "sent_at": None,
        "subject_identities": [],
        "channel": channel,
        "direction": None,
    }


def _channel(page: Page) -> str:
    host = page.host
    if host == "linkedin.com" or host.endswith(".linkedin.com"):
        return "linkedin"
    if host in _MAIL_HOSTS:
        return "email"
    if host in ("x.com", "twitter.com", "mobile.x.com", "mobile.twitter.com"):
        return "x"
    return "web"


def _mail_date(value: str) -> str | None:
    try:
        dt = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        dt = None
    if dt is not None:
        if dt.tzinfo is not None:
            return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        return dt.isoformat()
    return _human_date(value)


def _human_date(value: str) -> str | None:
    """'Sat, Nov 1, 2026, 10:00 AM' / 'Nov 1, 2026 at 10:00' → naive local ISO."""
    m = re.search(r"([A-Za-z]{3,9})\.?\s+(\d{1,2}),?\s+(\d{4})\D+(\d{1,2}:\d{2}\s*(?:[AaPp]\.?[Mm]\.?)?)", value or "")
    if not m:
        return None
    day = dates.day_heading(f"{m.group(1)} {m.group(2)}, {m.group(3)}")
    return dates.local_iso(day, dates.clock(m.group(4)))


def _from_headers(text_: str, result: dict) -> bool:
    found = False
    for m in _HEADER.finditer(text_ or ""):
        field, value = m.group(1).lower(), m.group(2)
        if field in ("from", "von", "de") and result["sender"] is None:
            ((name, addr),) = getaddresses([value])[:1] or [("", "")]
            result["sender"] = name.strip().strip('"') or addr or None
            key = canonical_identity(addr, "email") if addr else None
            if key:
                result["subject_identities"].append(key)
            result["channel"] = "email"
            result["direction"] = "in"
            found = True
        elif field in ("date", "sent", "datum", "envoyé", "gesendet") and result["sent_at"] is None:
            result["sent_at"] = _mail_date(value)
    return found


def _from_linkedin_thread(page: Page, body: str, result: dict) -> None:
    thread, messages = linkedin_messaging.parse_thread(page)
    want = _squash(body)
    match = None
    if want:
        for m in messages:
            have = _squash(m["body"])
            if have and (want in have or have in want):
                match = m
                break
    if match:
        result["sender"] = match["sender"]
        result["sent_at"] = match["sent_at"]
        result["direction"] = match["direction"]
        if match["direction"] == "in" and match.get("sender_url"):
            key = canonical_identity(match["sender_url"])
            if key:
                result["subject_identities"].append(key)
    if not result["subject_identities"] and thread and len(thread["participants"]) == 1:
        url = thread.get("profile_url") or next(
            (m["sender_url"] for m in messages if m["direction"] == "in" and m.get("sender_url")), None
        )
        key = canonical_identity(url) if url else None
        if key:
            result["subject_identities"].append(key)


def _from_gmail(page: Page, body: str, result: dict) -> None:
    dom = page.dom
    if dom is None:
        return
    senders = dom.css("span.gD[email]")
    if not senders:
        return
    chosen = senders[-1]
    want = _squash(body)
    if want:
        for sender in senders:
            container = sender
            for _ in range(30):
                container = container.parent
                if container is None or "adn" in (attr(container, "class") or "").split():
                    break
            content = container.css_first("div.a3s") if container is not None else None
            if content is not None and want[:200] in _squash(text(content)):
                chosen = sender
                break
    result["sender"] = attr(chosen, "name") or text(chosen) or attr(chosen, "email")
    key = canonical_identity(attr(chosen, "email") or "", "email")
    if key:
        result["subject_identities"].append(key)
    result["direction"] = "in"
    node = chosen
    for _ in range(30):
        node = node.parent
        if node is None:
            break
        stamp = node.css_first("span.g3[title]")
        if stamp is not None:
            result["sent_at"] = _human_date(attr(stamp, "title") or "")
            break


def extract_selection(text_, html, url, page_html=None) -> dict:
    """Body, sender, time and subject identities of a saved selection; never raises."""
    try:
        return _extract(text_, html, url, page_html)
    except Exception:
        body = text_.strip() if isinstance(text_, str) else ""
        return _empty(body, "web")


def _extract(text_, html, url, page_html) -> dict:
    body = text_.strip() if isinstance(text_, str) else ""
    if not body:
        body = fragment_text(html)
    page = Page(page_html or "", url or "")
    result = _empty(body, _channel(page))
    _from_headers(body, result)
    if page_html:
        if result["channel"] == "linkedin" and page.path.startswith("/messaging"):
            _from_linkedin_thread(page, body, result)
        elif page.host == "mail.google.com" and result["sender"] is None:
            _from_gmail(page, body, result)
    if not result["subject_identities"] and result["channel"] != "email":
        result["subject_identities"] = _page_subject(page, page_html, url)
    return result


def _page_subject(page: Page, page_html, url) -> list[dict]:
    """Identity keys of the person whose page this is (a profile page), else []."""
    if page_html:
        from . import extract_page

        extracted = extract_page(page_html, url or "")
        if extracted["status"] != "unparsed" and extracted["extractor"] != "generic":
            return extracted["identities"]
    key = canonical_identity(url or "")
    return [key] if key and key["kind"] != "url" else []
