"""HTML fragments to text: BeautifulSoup (small fragments) and lexbor (big ones) give the same text."""

from __future__ import annotations

import warnings

import pytest

from companion.extract.dom import block_text
from companion.extract.fragment import FRAGMENT_MAX, fragment_text
from companion.extract.page import Page

CASES = {
    "<p>Install with <code>pip</code></p>": "Install with pip",
    "<div>Hi <span class='visually-hidden'>Hi</span><span aria-hidden='true'>Ada</span><script>x()</script>"
    "<br>second line<ul><li>a</li><li>b</li></ul><style>p{}</style><div class='sr-only'><b>gone</b></div></div>": "Hi Ada\nsecond line\n\na\n\nb",
    "<p>a</p><p></p><p></p><p>b</p>": "a\n\nb",
    "<table><tr><td>1</td><td>2</td></tr></table>tail": "12\n\ntail",
    "plain   text\n\n\n\nmore": "plain text\n\nmore",
    "https://example.com/": "https://example.com/",
    "a\x00b<p>x": "a\ufffdb\nx",
    "": "",
}


def lexbor_text(html: str) -> str:
    dom = Page(html, "").dom
    return block_text(dom.body) if dom is not None and dom.body is not None else ""


@pytest.mark.parametrize("html, want", CASES.items())
def test_fragment_text(html, want):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no parser warnings leak out
        got = fragment_text(html)
    assert got == want
    assert got == lexbor_text(html)  # the same rules as the whole-page path


def test_none_is_empty():
    assert fragment_text(None) == ""


def test_a_page_sized_fragment_takes_the_fast_path_with_the_same_text():
    block = "<div class='msg'><p>Hello <b>there</b> &amp; more</p><br><span class='sr-only'>dup</span></div>"
    small = block * 10
    big = block * (FRAGMENT_MAX // len(block) + 1)
    assert len(small) <= FRAGMENT_MAX < len(big)
    assert fragment_text(small) == lexbor_text(small)
    assert fragment_text(big) == lexbor_text(big)
