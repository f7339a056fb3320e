"""HTML fragments as readable text, with BeautifulSoup: a saved selection's HTML, or any small piece.

Fragments are small (a selection is typically a few KB), so the clearest API wins: find what to
drop, mark line breaks, take the text. Whole pages never come through here: they are parsed once
by lexbor (`page.Page.dom`), 30-60 times faster than a soup on a 2 MB page (ARCHITECTURE.md).
A "fragment" bigger than `FRAGMENT_MAX` (a select-all on a huge page) takes that fast path too.

The text rules are those of `dom.block_text`: no script/style, no screen-reader duplicates, a line
break for `<br>` and around block elements, whitespace collapsed, at most one blank line in a row.
"""

from __future__ import annotations

import warnings

from .dom import _BLOCK_TAGS, _HIDDEN_CLASSES, _SKIP_TAGS, block_text
from .page import Page

FRAGMENT_MAX = 50_000  # characters (~0.1 s with BeautifulSoup); above this, lexbor (module docstring)


def fragment_text(html: str | None) -> str:
    """The readable text of an HTML fragment ("" for None or empty)."""
    if not isinstance(html, str) or not html.strip():
        return ""
    if len(html) > FRAGMENT_MAX:
        dom = Page(html, "").dom
        return block_text(dom.body) if dom is not None and dom.body is not None else ""
    # Imported here, not at the top: importing bs4 takes ~0.25 s, and most `kith` commands never need it.
    from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning

    # lxml would stop at a NUL and cannot encode lone surrogates: make the text safe first.
    html = html.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")
    with warnings.catch_warnings():  # a selection that is just a URL is text, not a mistake
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        soup = BeautifulSoup(html, "lxml")
    for node in soup.find_all(list(_SKIP_TAGS)) + soup.find_all(class_=list(_HIDDEN_CLASSES)):
        if not node.decomposed:  # already gone with a dropped ancestor
            node.decompose()
    for br in soup.find_all("br"):
        br.replace_with("\n")
    for block in soup.find_all(list(_BLOCK_TAGS)):
        block.insert_before("\n")
        block.insert_after("\n")
    return _tidy_lines(soup.get_text())


def _tidy_lines(text: str) -> str:
    lines = [" ".join(line.split()) for line in text.split("\n")]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()
