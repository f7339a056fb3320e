"""JSON-LD reading: flatten @graph, tolerate scalars / lists / lists of lists everywhere.

extruct does not flatten @graph and sites nest Person nodes under ProfilePage, @graph or
arrays, so the Person is found here and its values read through ``values`` / ``text``.
"""

from __future__ import annotations


def as_list(value) -> list:
    """Scalar, list or list of lists → flat list without None."""
    out: list = []
    stack = [value]
    while stack:
        v = stack.pop()
        if v is None:
            continue
        if isinstance(v, (list, tuple)):
            stack.extend(reversed(v))
        else:
            out.append(v)
    return out


def types(node) -> set[str]:
    if not isinstance(node, dict):
        return set()
    out = set()
    for t in as_list(node.get("@type")):
        if isinstance(t, str):
            out.add(t.rsplit("/", 1)[-1].rsplit(":", 1)[-1])
    return out


def top_nodes(data) -> list[dict]:
    """Top-level nodes of one JSON-LD block: the block, array items and @graph members."""
    out: list[dict] = []
    for item in as_list(data):
        if not isinstance(item, dict):
            continue
        graph = item.get("@graph")
        if graph is not None:
            out.extend(n for n in as_list(graph) if isinstance(n, dict))
            if types(item):
                out.append(item)
        else:
            out.append(item)
    return out


def by_id(nodes: list[dict]) -> dict[str, dict]:
    return {n["@id"]: n for n in nodes if isinstance(n.get("@id"), str)}


def resolve(value, index: dict[str, dict]):
    """Follow a {"@id": ...} reference to its node in the same document."""
    if isinstance(value, dict) and set(value) <= {"@id"} and value.get("@id") in index:
        return index[value["@id"]]
    return value


def text(value) -> str | None:
    """First usable string: plain strings, {"@value"}, {"name"} and ImageObject-ish dicts."""
    for v in as_list(value):
        if isinstance(v, str) and v.strip():
            return " ".join(v.split())
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return str(v)
        if isinstance(v, dict):
            for key in ("@value", "name", "contentUrl", "url", "@id"):
                t = text(v.get(key)) if key in v else None
                if t:
                    return t
    return None


def texts(value) -> list[str]:
    out = []
    for v in as_list(value):
        t = text(v)
        if t and t not in out:
            out.append(t)
    return out


def image_url(value) -> str | None:
    for v in as_list(value):
        if isinstance(v, str) and v.strip():
            return v.strip()
        if isinstance(v, dict):
            for key in ("contentUrl", "url", "@id", "thumbnailUrl"):
                t = text(v.get(key))
                if t:
                    return t
    return None


def find_person(blocks: list, page_url: str | None = None) -> tuple[dict | None, dict]:
    """The page subject: ProfilePage.mainEntity/author, else a top-level Person.

    Returns (person, @id index).  Persons nested as an Article's author are not the subject.
    """
    nodes: list[dict] = []
    for data in blocks:
        nodes.extend(top_nodes(data))
    index = by_id(nodes)
    for node in nodes:
        if types(node) & {"ProfilePage"}:
            for key in ("mainEntity", "mainEntityOfPage", "about", "author"):
                for cand in as_list(node.get(key)):
                    cand = resolve(cand, index)
                    if isinstance(cand, dict) and types(cand) & {"Person"}:
                        return cand, index
    persons = [n for n in nodes if types(n) & {"Person"}]
    if not persons:
        return None, index
    referenced_as_part = set()
    for n in nodes:
        if types(n) & {"Person", "WebSite", "WebPage", "ProfilePage", "AboutPage"}:
            continue
        for key in ("author", "creator", "editor", "contributor"):
            for ref in as_list(n.get(key)):
                if isinstance(ref, dict) and isinstance(ref.get("@id"), str):
                    referenced_as_part.add(ref["@id"])
                if isinstance(ref, dict) and types(ref) & {"Person"}:
                    referenced_as_part.add(id(ref))
    subjects = [p for p in persons if p.get("@id") not in referenced_as_part and id(p) not in referenced_as_part]
    if not subjects:
        return None, index
    if page_url:
        for p in subjects:
            if page_url.rstrip("/") in {u.rstrip("/") for u in texts(p.get("url")) + texts(p.get("@id"))}:
                return p, index
    return subjects[0], index
