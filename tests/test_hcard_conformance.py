"""microformats2 h-card conformance: the Kith profile agrees with the first h-card of each case.

Cases live in tests/fixtures/microformats-h-card/ (CC0, copied from the microformats test suite;
see the README there).
For every property the expected JSON has among name, url, photo, email, org, job-title and
note, the profile field it maps to must equal the expected first value.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from companion.extract import extract_page

CASES_DIR = Path(__file__).resolve().parent / "fixtures" / "microformats-h-card"
CASES = sorted(p.stem for p in CASES_DIR.glob("*.json")) if CASES_DIR.is_dir() else []
BASE_URL = "http://example.com/"  # the suite's implied document URL

# mf2 property -> (profile key, how to read the profile value)
MAPPING = {
    "name": "name",
    "url": "url",
    "photo": "avatar_url",
    "email": "email",
    "org": "company",
    "job-title": "title",
    "note": "bio",
}


def first_value(values):
    v = values[0]
    if isinstance(v, dict):  # {"value": ..., "alt": ...} photos and embedded h-cards
        return v.get("value") or (v.get("properties", {}).get("name") or [None])[0]
    return v


def test_cases_are_present():
    assert CASES, f"no h-card conformance cases found in {CASES_DIR}"


@pytest.mark.parametrize("case", CASES)
def test_hcard_case(case):
    html = (CASES_DIR / f"{case}.html").read_text(encoding="utf-8")
    expected = json.loads((CASES_DIR / f"{case}.json").read_text(encoding="utf-8"))
    cards = [i for i in expected["items"] if "h-card" in i.get("type", [])]
    assert cards, "case has no top-level h-card"
    props = cards[0].get("properties", {})
    got = extract_page(html, BASE_URL)
    assert got["extractor"] == "generic"
    checked = 0
    for prop, field in MAPPING.items():
        if not props.get(prop):
            continue
        want = first_value(props[prop])
        have = got["profile"][field]
        if prop == "email":
            want = want.removeprefix("mailto:").lower()
        assert have == want, f"{case}: {prop} -> profile.{field}"
        assert got["sources"][field] == "h-card"
        checked += 1
    if not props:
        assert got["profile"]["name"] is None  # an h-card with no properties yields no name
    assert checked or not props
