"""LinkedIn (logged in) DOM fallback, for layouts whose islands do not carry the profile.

Class names change every year, so this leans on what survives redesigns: the ``h1``, the
contact-info link, ``profile-displayphoto`` image URLs, section anchors (``#about``,
``#experience``), ``h2`` heading text and the ``span[aria-hidden=true]`` visible copies.
"""

from __future__ import annotations

import re

from . import dates
from .dom import aria_texts, attr, block_text, first, is_hidden, text

SOURCE = "dom"

_HEADINGS = {
    "about": {"about", "info", "infos", "à propos", "acerca de", "über mich", "sobre"},
    "experience": {
        "experience",
        "berufserfahrung",
        "expérience",
        "experiencia",
        "experiência",
        "ervaring",
        "esperienza",
    },
}
_NOISE = re.compile(
    r"^(?:·?\s*(?:1st|2nd|3rd\+?|3rd)|\(?\s*(?:she|he|they|xe|ze)/\w+\s*\)?|contact info|"
    r"\d[\d,]*\+?\s+(?:connections|followers)|follow|message|more|connect|open to|"
    r"verified|premium|view profile|·)$",
    re.I,
)


def _visible_texts(node) -> list[str]:
    return aria_texts(node) or _own_texts(node, [])


def _topcard(main, h1):
    node = h1
    for _ in range(12):
        if node.parent is None:
            break
        node = node.parent
        if node.tag == "section":
            return node
    return node if node is not None else main


def _headline(card, h1, name: str) -> str | None:
    for sel in ("[data-generated-suggestion-target]", ".text-body-medium"):
        t = text(first(card, sel))
        if t and t != name:
            return t
    seen_h1 = False
    for el in card.traverse():
        if el.mem_id == h1.mem_id:
            seen_h1 = True
            continue
        if not seen_h1 or el.tag not in ("div", "p", "span", "h2"):
            continue
        if any(c.is_element_node and c.tag not in ("br", "b", "i", "em", "strong") for c in el.iter()):
            continue
        if is_hidden(el) or _inside(el, h1):
            continue
        t = text(el)
        if t and t != name and not _NOISE.match(t) and len(t) > 2:
            return t
    return None


_PRONOUNS = re.compile(r"^\(?\s*((?:she|he|they|xe|ze)(?:\s*/\s*\w+){1,2})\s*\)?$", re.I)


def _pronouns(card) -> str | None:
    """LinkedIn shows pronouns in their own small span next to the name."""
    for el in card.css("span, div"):
        if any(c.is_element_node for c in el.iter()):
            continue
        m = _PRONOUNS.match(text(el))
        if m:
            return re.sub(r"\s*/\s*", "/", m.group(1).lower())
    return None


def _inside(el, container) -> bool:
    node = el.parent
    while node is not None:
        if node.mem_id == container.mem_id:
            return True
        node = node.parent
    return False


# Where top cards have kept the location, for pages without a "Contact info" link next to it
# (contact details hidden from this viewer): 2021– layouts, the 2019–2020 bullet list, public pages.
_LOCATION_SELECTORS = (
    ".pv-text-details__left-panel .text-body-small.inline.t-black--light.break-words",
    ".text-body-small.inline.t-black--light.break-words",
    ".pv-top-card--list-bullet > li",
    ".top-card__subline-item",
    ".pv-top-card-section__location",
)


def _location(card) -> str | None:
    """The text just before the "Contact info" link (skipping the "·" separators), else the top
    card's location element."""
    found = _location_before_contact_info(card)
    if found:
        return found
    for selector in _LOCATION_SELECTORS:
        for el in card.css(selector):
            t = text(el)
            if t and not _NOISE.match(t) and not re.match(r"^\d[\d,]*\+?\s+(?:connections|followers)", t, re.I):
                return t
    return None


def _location_before_contact_info(card) -> str | None:
    link = first(card, 'a[href*="contact-info"]', "#top-card-text-details-contact-info")
    if link is None:
        return None
    link_text = text(link)
    holder = link
    while holder.parent is not None and text(holder.parent) == link_text:
        holder = holder.parent  # climb out of wrappers that hold only the link
    sibling = holder.prev
    while sibling is not None:
        if sibling.is_element_node:
            t = text(sibling)
            if t and not _NOISE.match(t):
                return t
        sibling = sibling.prev
    return None


def _photo(scope) -> str | None:
    for img in scope.css("img"):
        src = attr(img, "src") or ""
        if "profile-displayphoto" in src:
            return src
    return None


def _section_kind(section) -> str | None:
    for anchor, kind in (("about", "about"), ("experience", "experience")):
        if section.css_first(f"#{anchor}") is not None:
            return kind
    heading = first(section, "h2")
    if heading is None:
        return None
    label = (aria_texts(heading) or [text(heading)])[0].strip().lower()
    for kind, names in _HEADINGS.items():
        if label in names:
            return kind
    return None


def _about(section) -> str | None:
    heading = first(section, "h2")
    heading_texts = set(aria_texts(heading) or [text(heading)]) if heading is not None else set()
    texts = [t for t in _visible_texts(section) if t not in heading_texts]
    if not texts:
        return None
    return max(texts, key=len)


def _entities(section) -> list:
    """Experience entries: ``profile-component-entity`` nodes, else the outermost list items."""
    ents = section.css('[data-view-name="profile-component-entity"]')
    if ents:
        return ents
    return [li for li in section.css("li") if not any(p.tag == "li" for p in _parents(li))]


def _parents(node):
    p = node.parent
    while p is not None:
        yield p
        p = p.parent


def _sub_entities(entity) -> list:
    """Roles nested in a company group (a 'profile-component-entity' or list item inside it)."""
    subs = [s for s in entity.css('[data-view-name="profile-component-entity"]') if s.mem_id != entity.mem_id]
    if subs:
        return subs
    return [
        li
        for li in entity.css("li")
        if li.mem_id != entity.mem_id
        and next((p for p in _parents(li) if p.tag == "li"), entity).mem_id == entity.mem_id
    ]


def _own_texts(entity, subs: list) -> list[str]:
    """Visible texts of ``entity`` that are not inside one of its nested roles."""
    sub_ids = {s.mem_id for s in subs}
    nodes = entity.css('span[aria-hidden="true"]')
    texts_of = (lambda n: " ".join(block_text(n).split())) if nodes else text
    if not nodes:
        nodes = [
            el
            for el in entity.traverse()
            if not any(c.is_element_node and c.tag not in ("br", "b", "i", "em", "strong", "a") for c in el.iter())
        ]
    out: list[str] = []
    for node in nodes:
        if sub_ids and any(p.mem_id in sub_ids for p in _parents(node)):
            continue
        if node.tag in ("script", "style", "svg", "button") or is_hidden(node):
            continue
        t = texts_of(node)
        if t and (not out or out[-1] != t):
            out.append(t)
    return out


def _current_role(texts: list[str]) -> str | None:
    rng = next((t for t in texts if dates.is_date_range(t)), None)
    return rng if rng and dates.is_current_range(rng) else None


def _experience(section) -> list[dict]:
    positions = []
    for ent in _entities(section):
        subs = _sub_entities(ent)
        own = _own_texts(ent, subs)
        if not own:
            continue
        if subs:  # a company with several roles: the company is the group's first line
            for sub in subs:
                texts = _own_texts(sub, [])
                rng = _current_role(texts)
                if rng:
                    positions.append({"title": texts[0], "company": own[0], "start": dates.range_start(rng)})
            continue
        rng = _current_role(own)
        if not rng:
            continue
        company = own[1].split(" · ")[0].strip() if len(own) > 1 and own[1] != rng else None
        positions.append({"title": own[0], "company": company, "start": dates.range_start(rng)})
    return positions


def _looks_like_profile(main, card) -> bool:
    """A profile top card has a contact-info link, a member photo or profile sections."""
    if first(card, 'a[href*="contact-info"]', "[data-member-id]") is not None:
        return True
    if _photo(card):
        return True
    return any(_section_kind(s) for s in main.css("section"))


def extract_public_2015(page, result) -> bool:
    """The 2013–2016 public profile (`#topcard`, `h1#name.fn`, `#demographics .locality`,
    `currentPositionsDetails`, `#summary`), which has no JSON-LD and no islands; a sparse one may
    hold only the name and the place."""
    dom = page.dom
    if dom is None:
        return False
    top = first(dom, "#topcard", ".profile-card", "#top-card", ".profile-overview")
    name = text(first(top, "#name", "h1.fn", ".full-name")) if top is not None else ""
    if not name:
        return False
    result.set_name(name, SOURCE)
    result.set("headline", text(first(top, ".headline.title", "p.headline", "#headline .title")), SOURCE)
    result.set("location", text(first(top, "#demographics .locality", ".locality", "#location .locality")), SOURCE)
    photo = first(top, ".profile-picture img", "img.photo")
    result.set("avatar_url", page.absolute(attr(photo, "src")), SOURCE)
    positions = []
    for li in dom.css('#experience li.position[data-section="currentPositionsDetails"], #experience li.position'):
        rng = text(first(li, ".date-range"))
        if rng and not dates.is_current_range(rng):
            continue
        positions.append(
            {
                "title": text(first(li, ".item-title")),
                "company": text(first(li, ".item-subtitle")),
                "start": dates.range_start(rng) if rng else None,
            }
        )
    if not positions:
        current = first(top, '[data-section="currentPositionsDetails"] .org')
        if current is not None:
            positions.append({"title": None, "company": text(current), "start": None})
    result.set_positions(positions, SOURCE)
    result.set("bio", block_text(first(dom, "#summary .description")), SOURCE)
    return True


def extract(page, result) -> bool:
    dom = page.dom
    if dom is None:
        return False
    main = dom.css_first("main") or dom.body
    if main is None:
        return False
    candidates = main.css(".text-heading-xlarge") + main.css("h1")
    h1 = next((h for h in candidates if not is_hidden(h) and text(h)), None)
    if h1 is None:
        return False
    card = _topcard(main, h1)
    if not _looks_like_profile(main, card):
        return False  # e.g. the sign-in wall LinkedIn serves at the same /in/ URL
    raw_name = text(h1)
    result.set_name(raw_name, SOURCE)
    result.set("headline", _headline(card, h1, raw_name), SOURCE)
    result.set("pronouns", _pronouns(card), SOURCE)
    result.set("location", _location(card), SOURCE)
    result.set("avatar_url", _photo(card) or _photo(main), SOURCE)
    for section in main.css("section"):
        kind = _section_kind(section)
        if kind == "about":
            result.set("bio", _about(section), SOURCE)
        elif kind == "experience" and not result.profile["positions"]:
            result.set_positions(_experience(section), SOURCE)
    return True
