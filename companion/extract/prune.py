"""Cut a big page down to what extruct and mf2py need, so they never walk a 2 MB DOM.

Microformat roots and microdata items are self-contained subtrees (implied properties only look
inside the root), so the top-level ones plus the <head> and the rel links parse the same way.
"""

from __future__ import annotations

import html as htmllib
import re

from .dom import classes

SMALL_PAGE = 60_000  # below this, libraries get the whole page
HTML5LIB_MAX = 20_000  # html5lib (browser-exact, slow) only for documents this small
MAX_PRUNED = 400_000  # never hand more than this to a pure-Python parser

_MF_ROOT = re.compile(r"^h-[a-z0-9]+(?:-[a-z0-9]+)*$")
# Microformats v1 roots mf2py reads through its backwards-compatible parsing (a `vcard` becomes an
# h-card); older personal sites and blog themes still carry them.
_MF1_ROOTS = frozenset({"vcard"})
_MF_HINT = re.compile(r"""class\s*=\s*["']?[^"'>]*(?:\bh-[a-z]|\bvcard\b)""", re.I)
_REL_ME = re.compile(r"""\brel\s*=\s*["']?[^"'>]*\bme\b""", re.I)


def has_microformats_hint(html: str) -> bool:
    """Only pages with an h-* (or v1 vcard) class or a rel=me link are worth an mf2py pass."""
    return bool(_MF_HINT.search(html) or _REL_ME.search(html))


def _is_mf_root(node) -> bool:
    return any(_MF_ROOT.match(c) or c in _MF1_ROOTS for c in classes(node))


def _top_level(nodes, is_root) -> list:
    out = []
    for node in nodes:
        parent = node.parent
        nested = False
        depth = 0
        while parent is not None and depth < 400:
            if is_root(parent):
                nested = True
                break
            parent = parent.parent
            depth += 1
        if not nested:
            out.append(node)
    return out


def _rel_links(dom) -> str:
    parts = []
    for node in dom.css("a[rel][href], link[rel][href], area[rel][href]"):
        attrs = node.attributes
        rel = htmllib.escape(attrs.get("rel") or "")
        href = htmllib.escape(attrs.get("href") or "")
        label = htmllib.escape(" ".join((node.text() or "").split())[:200]) if node.tag == "a" else ""
        parts.append(f'<a rel="{rel}" href="{href}">{label}</a>')
    return "\n".join(parts)


def _document(page, body_parts: list[str]) -> str:
    base = htmllib.escape(page.base_url or "")
    body = []
    size = 0
    for part in body_parts:
        size += len(part)
        if size > MAX_PRUNED:
            break
        body.append(part)
    head = [f'<base href="{base}">'] if base else []
    head_node = page.dom.head if page.dom is not None else None
    if head_node is not None:
        for node in head_node.css("title, meta, link"):
            head.append(node.html or "")
            if len(head) > 2000:
                break
    return f"<!DOCTYPE html><html><head>{''.join(head)}</head><body>{''.join(body)}</body></html>"


def microformats_doc(page) -> str | None:
    """The page itself when small, else head + top-level h-* roots + rel links; None if nothing."""
    if not has_microformats_hint(page.html):
        return None
    if len(page.html) <= SMALL_PAGE:
        return page.html
    dom = page.dom
    if dom is None:
        return None
    roots = _top_level([n for n in dom.css('[class*="h-"], .vcard') if _is_mf_root(n)], _is_mf_root)
    parts = [n.html or "" for n in roots]
    parts.append(_rel_links(dom))
    return _document(page, parts)


def microdata_doc(page) -> str:
    """The page itself when small, else head + top-level [itemscope] subtrees."""
    if len(page.html) <= SMALL_PAGE:
        return page.html
    dom = page.dom
    if dom is None:
        return ""

    def is_item(n):
        return "itemscope" in n.attributes

    roots = _top_level(dom.css("[itemscope]"), is_item)
    return _document(page, [n.html or "" for n in roots])
