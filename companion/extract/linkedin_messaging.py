"""LinkedIn messaging threads: every message with its URN, sender, direction, time and body.

Consecutive messages from one sender share a group header (name + time), so sender and time
carry forward to the following list items.  Times are "10:32 AM" under day headings such as
"Oct 30, 2025" or "Today"; without a clock (extraction is pure) only headings with a year give
``sent_at``, and ``sent_at_text`` keeps what the page said for the store to resolve.
"""

from __future__ import annotations

import re

from ..identity import canonical_identity
from . import dates
from .dom import attr, block_text, first, text

SOURCE = "dom"
_THREAD = re.compile(r"^/messaging/thread/([^/?#]+)")


def thread_url(page) -> str | None:
    m = _THREAD.match(page.path or "")
    if m:
        return f"https://www.linkedin.com/messaging/thread/{m.group(1)}/"
    return page.url or None


def _classes(node) -> str:
    return " " + (node.attributes.get("class") or "") + " "


def _direction_marker(node) -> str | None:
    """'out'/'in' from --outbound / --other style classes on the message item itself."""
    cls = _classes(node)
    if "--outbound" in cls or "--self" in cls:
        return "out"
    if "--other" in cls or "--inbound" in cls:
        return "in"
    return None


def parse_thread(page) -> tuple[dict | None, list[dict]]:
    """(thread, messages) from a messaging page's DOM."""
    dom = page.dom
    if dom is None:
        return None, []
    title = text(
        first(
            dom,
            "h2.msg-entity-lockup__entity-title",
            ".msg-entity-lockup__entity-title",
            "#thread-detail-jump-target",
            ".msg-overlay-bubble-header__title",
        )
    )
    profile_link = first(
        dom,
        "a.msg-thread__link-to-profile[href*='/in/']",
        ".msg-title-bar a[href*='/in/']",
        ".msg-thread a[href*='/in/']",
    )
    container = first(dom, ".msg-s-message-list-content", ".msg-s-message-list", "main") or dom.body
    t_url = thread_url(page)
    messages: list[dict] = []
    state = {"day": None, "day_text": None, "sender": None, "clock": None, "url": None, "dir": None, "machine": None}
    done: set[int] = set()
    for node in container.traverse() if container is not None else []:
        if node.mem_id in done:
            continue
        cls = _classes(node)
        if "data-event-urn" in node.attributes or " msg-s-event-listitem " in cls:
            # Some layouts put the group header (name, time) inside the item: read it first.
            for inner in node.traverse():
                done.add(inner.mem_id)
                if inner.mem_id != node.mem_id:
                    _update(inner, _classes(inner), state, page)
            messages.append(_message(node, state, title, t_url))
        else:
            _update(node, cls, state, page)
    participants = []
    for m in messages:
        if m["direction"] == "in" and m["sender"] and m["sender"] not in participants:
            participants.append(m["sender"])
    if not participants and title:
        participants = [title]
    thread = None
    if title or messages:
        thread = {
            "title": title or None,
            "participants": participants,
            "url": t_url,
            "profile_url": page.absolute(attr(profile_link, "href")) if profile_link is not None else None,
        }
    return thread, messages


def _update(node, cls: str, state: dict, page) -> None:
    """Carry day heading, sender, time and direction forward from group headers."""
    if "msg-s-message-list__time-heading " in cls:
        state["day_text"] = text(node)
        state["day"] = dates.day_heading(state["day_text"])
    elif " msg-s-message-group " in cls or "msg-s-message-group--" in cls:
        state["dir"] = (
            "out"
            if "--outbound" in cls or "--self" in cls
            else ("in" if "--other" in cls or "--inbound" in cls else None)
        )
    elif "msg-s-message-group__name " in cls:
        name = text(node)
        if name:
            state.update(sender=name, clock=None, url=None, machine=None)
            link = node if node.tag == "a" else next((p for p in _up(node) if p.tag == "a"), None)
            if link is None:
                meta = next((p for p in _up(node) if "msg-s-message-group__meta" in _classes(p)), None)
                link = first(meta, "a[href*='/in/']") if meta is not None else None
            state["url"] = page.absolute(attr(link, "href")) if link is not None else None
    elif "msg-s-message-group__timestamp " in cls:
        state["clock"] = text(node)
        state["machine"] = attr(node, "datetime")


def _message(node, state: dict, title: str, t_url) -> dict:
    body_node = first(node, ".msg-s-event-listitem__body")
    body = block_text(body_node) if body_node is not None else ""
    direction = _direction_marker(node) or state["dir"]
    sender = state["sender"]
    if direction is None and sender and title:
        direction = "in" if sender == title else "out"
    machine = state.get("machine")
    sent_at = dates.iso_datetime(machine) or dates.local_iso(state["day"], dates.clock(state["clock"] or ""))
    return {
        "external_id": attr(node, "data-event-urn"),
        "sender": sender,
        "direction": direction,
        "sent_at": sent_at,
        "sent_at_text": " ".join(p for p in (state["day_text"], state["clock"]) if p) or None,
        "body": body,
        "thread_url": t_url,
        "channel": "linkedin",
        "sender_url": state["url"],
    }


def _up(node):
    p = node.parent
    while p is not None:
        yield p
        p = p.parent


def extract(page, result) -> bool:
    thread, messages = parse_thread(page)
    if not thread and not messages:
        return False
    result.thread = thread
    result.messages = messages
    # A one-to-one thread is about the other participant.
    if thread and len(thread["participants"]) == 1:
        result.set_name(thread["participants"][0], SOURCE)
        other_url = thread.get("profile_url") or next(
            (m["sender_url"] for m in messages if m["direction"] == "in" and m["sender_url"]), None
        )
        if other_url:
            key = canonical_identity(other_url)
            if key and key["kind"] == "linkedin":
                result.add_identity(key)
                result.set("url", key["url"], SOURCE)
    return True
