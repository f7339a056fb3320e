"""LinkedIn public (logged-out) profile: the JSON-LD ``@graph`` Person, plus the top-card headline.

The Person's properties may be scalars, lists or lists of lists; ``person.apply_person`` copes.
The headline is not in the JSON-LD, so it is read from the top card's ``h2``.
"""

from __future__ import annotations

from ..identity import canonical_identity
from . import jsonld as ld
from .dom import first, text
from .person import apply_person

SOURCE = "jsonld"


def extract(page, result, slug: str | None) -> bool:
    blocks = [data for _attrs, data in page.jsonld]
    if not blocks:
        return False
    person, index = ld.find_person(blocks, page.url)
    if person is None:
        return False
    apply_person(result, person, index, SOURCE, page)
    dom = page.dom
    if dom is not None:
        headline = text(first(dom, "h2.top-card-layout__headline", ".top-card-layout__headline"))
        result.set("headline", headline, "dom")
    key = None
    for u in ld.texts(person.get("url")) + ([page.url] if slug else []):
        key = canonical_identity(u)
        if key and key["kind"] == "linkedin":
            break
        key = None
    if key:
        result.add_identity(key)
        result.set("url", key["url"], SOURCE, override=True)
        result.set("handle", key["value"].rstrip("/").rsplit("/", 1)[-1], SOURCE)
    return result.recognised()
