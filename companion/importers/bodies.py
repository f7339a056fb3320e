"""Message bodies as exports write them, turned into the plain text Kith stores.

One normaliser for every importer that brings messages in. LinkedIn's exports are the reason it
exists: 2022–2023 exports keep the editor's HTML (`<p class="spinmail-quill-editor__spin-break">`,
`&rsquo;`, `<br>`), and every row of a thread repeats the thread's subject. HTML goes through
BeautifulSoup with the same text rules as a saved selection (`extract.fragment.fragment_text`:
paragraphs and `<br>` become line breaks, entities are decoded); plain text is kept as written,
with only stray entities decoded.
"""

from __future__ import annotations

import html as htmllib
import re

from ..extract.fragment import _tidy_lines, fragment_text

# Markup that shows a body is HTML, not text that happens to hold a "<": an element an editor writes.
_HTML = re.compile(
    r"<(?:p|br|div|span|a|b|i|u|em|strong|ul|ol|li|blockquote|font|table|tr|td|h[1-6])"
    r"(?:\s[^<>]*)?/?>",
    re.I,
)
_ENTITY = re.compile(r"&(?:[a-zA-Z][a-zA-Z0-9]{1,31}|#\d{1,7}|#x[0-9a-fA-F]{1,6});")
# The editor's own markup: paragraphs, line breaks, links and emphasis. A body made only of these
# (nearly every LinkedIn body) is turned into the very text BeautifulSoup gives, without building a
# soup per message (1 ms each: minutes on a large export); anything else goes to BeautifulSoup.
_EDITOR_TAGS = r"(?:p|br|span|a|b|i|u|em|strong)"
_OTHER_MARKUP = re.compile(rf"<(?!/?{_EDITOR_TAGS}\b)", re.I)
_BREAK = re.compile(r"<br\b[^<>]*>", re.I)
_PARAGRAPH = re.compile(r"</?p\b[^<>]*>", re.I)
_INLINE = re.compile(rf"</?{_EDITOR_TAGS}\b[^<>]*>", re.I)


def editor_text(html: str) -> str | None:
    """`fragment_text` for a body of editor markup only; None when it holds anything else."""
    if _OTHER_MARKUP.search(html):
        return None
    text = _INLINE.sub("", _PARAGRAPH.sub("\n", _BREAK.sub("\n", html)))
    return _tidy_lines(htmllib.unescape(text))


def message_text(text: str | None) -> str:
    """The readable text of one message body ("" for nothing)."""
    if not text or not text.strip():
        return ""
    if _HTML.search(text):
        simple = editor_text(text)
        return simple if simple is not None else fragment_text(text)
    if _ENTITY.search(text):
        text = htmllib.unescape(text)
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def subject_once(
    messages: list[dict],
    *,
    subject: str = "subject",
    body: str = "body",
    thread: str = "conversation",
    when: str = "sent_at",
) -> None:
    """Put each thread's subject in front of its first message only (in place).

    Older LinkedIn exports repeat a thread's subject on every row; said once, it reads as it did
    in LinkedIn. A subject that changes within a thread is said again where it changes.
    """
    said: dict = {}
    for m in sorted(messages, key=lambda m: (m.get(when) or "", m.get("line") or 0)):
        topic = m.get(subject)
        if not topic:
            continue
        key = m.get(thread) or id(m)
        if said.get(key) == topic:
            continue
        said[key] = topic
        text = m.get(body) or ""
        if text != topic:
            m[body] = f"{topic}\n\n{text}" if text else topic
