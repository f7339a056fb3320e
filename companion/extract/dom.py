"""Small selectolax helpers: readable text out of nodes without tripping on hidden duplicates.

Sites duplicate text for screen readers (LinkedIn's ``visually-hidden`` spans), so text helpers
can prefer ``aria-hidden="true"`` copies or skip the hidden ones.
"""

from __future__ import annotations

_SKIP_TAGS = frozenset({"script", "style", "template", "noscript", "svg", "head"})
_BLOCK_TAGS = frozenset(
    {
        "p",
        "div",
        "li",
        "ul",
        "ol",
        "section",
        "article",
        "header",
        "footer",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "blockquote",
        "pre",
        "table",
        "tr",
        "dl",
        "dt",
        "dd",
        "figure",
    }
)
_HIDDEN_CLASSES = ("visually-hidden", "sr-only", "a11y-text", "screen-reader-text")


def classes(node) -> list[str]:
    try:
        return (node.attributes.get("class") or "").split()
    except Exception:
        return []


def attr(node, name: str) -> str | None:
    if node is None:
        return None
    value = node.attributes.get(name)
    return value.strip() if isinstance(value, str) and value.strip() else None


def is_hidden(node) -> bool:
    cls = classes(node)
    return any(c in _HIDDEN_CLASSES for c in cls)


def text(node, skip_hidden: bool = True) -> str:
    """Whitespace-collapsed text of a node, without script/style and screen-reader duplicates."""
    if node is None:
        return ""
    return " ".join(block_text(node, skip_hidden=skip_hidden).split())


def block_text(node, skip_hidden: bool = True) -> str:
    """Text with line breaks for <br> and block elements; iterative, so deep DOMs cannot recurse."""
    if node is None:
        return ""
    out: list[str] = []
    stack = [(node, False)]
    while stack:
        current, closing = stack.pop()
        if closing:
            out.append("\n")
            continue
        if current.is_text_node:
            out.append(current.text_content or "")
            continue
        if not current.is_element_node:
            continue
        tag = current.tag
        if tag in _SKIP_TAGS or (skip_hidden and current is not node and is_hidden(current)):
            continue
        if tag == "br":
            out.append("\n")
            continue
        if tag in _BLOCK_TAGS:
            out.append("\n")
            stack.append((current, True))
        children = list(current.iter(include_text=True))
        for child in reversed(children):
            stack.append((child, False))
    lines = [" ".join(line.split()) for line in "".join(out).split("\n")]
    # collapse runs of blank lines to one paragraph break
    result: list[str] = []
    for line in lines:
        if line or (result and result[-1]):
            result.append(line)
    return "\n".join(result).strip()


def aria_texts(node) -> list[str]:
    """The visible copies LinkedIn keeps in ``span[aria-hidden=true]``, in order, de-duplicated."""
    out: list[str] = []
    if node is None:
        return out
    for span in node.css('span[aria-hidden="true"]'):
        t = block_text(span, skip_hidden=True)
        if t and (not out or out[-1] != t):
            out.append(t)
    return out


def first(node, *selectors):
    """First node matching any selector, trying them in order."""
    if node is None:
        return None
    for sel in selectors:
        try:
            found = node.css_first(sel)
        except Exception:
            found = None
        if found is not None:
            return found
    return None


def first_text(node, *selectors, skip_hidden: bool = True) -> str | None:
    for sel in selectors:
        try:
            found = node.css(sel)
        except Exception:
            continue
        for n in found:
            t = text(n, skip_hidden=skip_hidden)
            if t:
                return t
    return None
