"""Structured data any site may carry: JSON-LD, microformats2 h-card + rel=me, microdata, OpenGraph.

Sources are read strongest first (JSON-LD, h-card, microdata, OpenGraph/Twitter meta); the first
to give a field keeps it.  extruct and mf2py only ever see a pruned page (see prune.py).
"""

from __future__ import annotations

from ..identity import canonical_identity
from . import jsonld as ld
from . import microformats
from .person import apply_person
from .prune import microdata_doc


def extract(page, result) -> None:
    _from_jsonld(page, result)
    parsed = microformats.parse(page)
    card = microformats.representative_hcard(parsed, page.url)
    if card is not None:
        microformats.apply_hcard(result, card, page, parsed.get("rels") or {})
    else:
        for u in (parsed.get("rels") or {}).get("me", []):
            result.link_url(u, "me")
    _from_microdata_and_opengraph(page, result)
    _from_twitter_meta(page, result)


def _from_jsonld(page, result) -> None:
    blocks = [data for _attrs, data in page.jsonld]
    if not blocks:
        return
    person, index = ld.find_person(blocks, page.url)
    if person is not None:
        apply_person(result, person, index, "jsonld", page)


def _from_microdata_and_opengraph(page, result) -> None:
    wants_microdata = "itemscope" in page.html
    wants_og = "og:" in page.head_html or "profile:" in page.head_html
    if not (wants_microdata or wants_og):
        return
    syntaxes = (["microdata"] if wants_microdata else []) + (["opengraph"] if wants_og else [])
    doc = microdata_doc(page) if wants_microdata else page.head_html + "</head><body></body></html>"
    try:
        import extruct

        data = extruct.extract(doc, base_url=page.base_url or None, syntaxes=syntaxes, uniform=True)
    except Exception:
        return
    for item in data.get("microdata") or []:
        if isinstance(item, dict) and ld.types(item) & {"Person"}:
            apply_person(result, item, {}, "microdata", page)
            break
    for og in data.get("opengraph") or []:
        if isinstance(og, dict):
            _apply_opengraph(page, result, og)
            break


def _og(og: dict, key: str) -> str | None:
    value = og.get(key)
    if isinstance(value, list):
        value = value[0] if value else None
    return value.strip() if isinstance(value, str) and value.strip() else None


def _apply_opengraph(page, result, og: dict) -> None:
    """OpenGraph describes a person only when og:type is profile."""
    og_type = og.get("@type") or _og(og, "og:type")
    if not (isinstance(og_type, str) and og_type.lower() == "profile"):
        return
    first, last = _og(og, "profile:first_name"), _og(og, "profile:last_name")
    name = " ".join(p for p in (first, last) if p) or _og(og, "og:title")
    result.set_name(name, "opengraph", given=first, family=last)
    result.set("avatar_url", page.absolute(_og(og, "og:image")), "opengraph")
    result.set("bio", _og(og, "og:description"), "opengraph")
    result.set("handle", _og(og, "profile:username"), "opengraph")
    own = _og(og, "og:url") or page.url
    key = canonical_identity(own)
    if key:
        result.add_identity(key)
    result.set("url", own, "opengraph")


def _from_twitter_meta(page, result) -> None:
    if not result.recognised():
        return
    creator = page.meta1("twitter:creator")
    if creator and creator.strip().startswith("@"):
        result.add_link(canonical_identity(creator.strip(), "x"), "twitter:creator")
