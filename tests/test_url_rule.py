"""Only absolute http(s) URLs are kept from pages: a hostile u-photo or JSON-LD image is dropped."""

from __future__ import annotations

import json

import pytest

from companion.extract import extract_page
from companion.urls import http_url

HOSTILE = [
    "javascript:alert(1)",
    " JaVaScRiPt:alert(1)",
    "data:image/svg+xml,<svg onload=alert(1)>",
    "file:///etc/passwd",
    "//evil.example/x.png",
    "/relative.png",
    "http://",
    "http://[::1",
    "https://a.example:99999/",
    "https://a.example/\x00x",
    "vbscript:msgbox(1)",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_http_url_refuses(value):
    assert http_url(value) is None


def test_http_url_keeps_http_and_https():
    assert http_url(" https://a.example/p.png ") == "https://a.example/p.png"
    assert http_url("http://[::1]:8080/x") == "http://[::1]:8080/x"


@pytest.mark.parametrize("photo", ["javascript:alert(1)", "data:image/png;base64,AAAA"])
def test_hcard_u_photo_that_is_not_http_is_not_kept(photo):
    html = (
        f'<html><body><div class="h-card"><img class="u-photo" src="{photo}">'
        f'<a class="p-name u-url" href="javascript:alert(2)">Eve Example</a></div></body></html>'
    )
    result = extract_page(html, "https://eve.example/")
    assert result["profile"]["name"] == "Eve Example"
    assert result["profile"]["avatar_url"] is None
    assert not (result["profile"]["url"] or "").lower().startswith("javascript")


def test_json_ld_image_that_is_not_http_is_not_kept():
    person = {
        "@context": "https://schema.org",
        "@type": "Person",
        "name": "Eve Example",
        "image": "javascript:alert(1)",
        "url": "data:text/html,hi",
    }
    html = f'<html><head><script type="application/ld+json">{json.dumps(person)}</script></head></html>'
    result = extract_page(html, "https://eve.example/about")
    assert result["profile"]["name"] == "Eve Example"
    assert result["profile"]["avatar_url"] is None
    assert result["profile"]["url"] in (None, "https://eve.example/about")
    ok = html.replace("javascript:alert(1)", "https://eve.example/me.jpg")
    assert extract_page(ok, "https://eve.example/about")["profile"]["avatar_url"] == "https://eve.example/me.jpg"
