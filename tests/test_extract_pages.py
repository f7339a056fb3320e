"""Every fixture page against its hand-written NAME.expected.json, in-process and via `kith extract`."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from companion.extract import extract_page, extract_selection

ROOT = Path(__file__).resolve().parents[1]
PAGES = ROOT / "tests" / "fixtures" / "pages"
FIXTURES = sorted(p.name[: -len(".expected.json")] for p in PAGES.glob("*.expected.json"))
TOP_LEVEL = ("url", "title", "extractor", "status", "profile", "sources", "identities", "links", "messages", "thread")


def load(name: str) -> tuple[str, dict]:
    html = (PAGES / f"{name}.html").read_bytes().decode("utf-8", "replace")
    expected = json.loads((PAGES / f"{name}.expected.json").read_text(encoding="utf-8"))
    return html, expected


def assert_matches(got: dict, expected: dict, name: str) -> None:
    """Field by field, so a failure names the one field that is wrong."""
    assert set(got) >= set(TOP_LEVEL), f"{name}: result lacks {set(TOP_LEVEL) - set(got)}"
    for key, want in expected.items():
        if key == "profile":
            for field, value in want.items():
                assert got["profile"].get(field) == value, f"{name}: profile.{field}"
            assert set(got["profile"]) >= set(want), f"{name}: profile keys"
        elif key == "sources":
            for field, value in want.items():
                assert got["sources"].get(field) == value, f"{name}: sources.{field}"
            assert set(got["sources"]) == set(want), f"{name}: unexpected sources"
        elif key == "messages":
            assert len(got["messages"]) == len(want), f"{name}: number of messages"
            for i, (g, w) in enumerate(zip(got["messages"], want)):
                for field, value in w.items():
                    assert g.get(field) == value, f"{name}: messages[{i}].{field}"
        else:
            assert got.get(key) == want, f"{name}: {key}"


@pytest.mark.parametrize("name", FIXTURES)
def test_fixture_page(name):
    html, expected = load(name)
    got = extract_page(html, expected["url"])
    assert_matches(got, expected, name)
    json.dumps(got)  # plain JSON-serialisable data


@pytest.mark.parametrize("name", FIXTURES)
def test_every_profile_field_has_a_source(name):
    html, expected = load(name)
    got = extract_page(html, expected["url"])
    for field, value in got["profile"].items():
        if value not in (None, [], ""):
            assert field in got["sources"], f"{name}: {field} has no source"


def test_fixture_set_is_complete():
    assert {
        "linkedin_profile_2022",
        "linkedin_profile_2025",
        "linkedin_public",
        "linkedin_messaging",
        "github_user",
        "x_profile",
        "mastodon_profile",
        "personal_hcard",
        "nothing",
        "malformed_truncated",
    } <= set(FIXTURES)


def test_title_argument_wins():
    html, expected = load("github_user")
    assert extract_page(html, expected["url"], title="Given title")["title"] == "Given title"


def test_linkedin_dom_fallback_reads_the_older_layout_without_islands():
    html, expected = load("linkedin_profile_2022")
    stripped = re.sub(r"<code\b.*?</code>", "", html, flags=re.S)
    got = extract_page(stripped, expected["url"])
    assert got["sources"]["name"] == "dom"
    for field in ("name", "credentials", "headline", "title", "company", "location", "bio", "positions"):
        assert got["profile"][field] == expected["profile"][field], field
    assert got["identities"] == expected["identities"][:1]


def test_other_profiles_islands_are_never_used():
    # The 2022 page carries Marcus Okafor's and the viewer's islands; the 2025 page Priya's.
    others = {
        "linkedin_profile_2022": ("Marcus Okafor", "Alex Morgan", "Initech", "Austin"),
        "linkedin_profile_2025": ("Priya Raman", "Alex Morgan", "Acme Robotics", "London"),
    }
    for name, foreign in others.items():
        html, expected = load(name)
        dumped = json.dumps(extract_page(html, expected["url"]), ensure_ascii=False)
        for word in foreign:
            assert word not in dumped, (name, word)


def test_github_and_personal_site_link_to_each_other():
    """The GitHub website points at the h-card page, whose rel=me points back at the GitHub login."""
    gh_html, gh_exp = load("github_user")
    site_html, site_exp = load("personal_hcard")
    gh = extract_page(gh_html, gh_exp["url"])
    site = extract_page(site_html, site_exp["url"])
    gh_keys = {(k["kind"], k["value"]) for k in gh["identities"]}
    site_keys = {(k["kind"], k["value"]) for k in site["identities"]}
    assert any((k["kind"], k["value"]) in site_keys and k["rel"] == "me" for k in gh["links"])
    assert any((k["kind"], k["value"]) in gh_keys and k["rel"] == "me" for k in site["links"])


def test_big_generated_page_uses_the_dash_voyager_island():
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        from make_big_linkedin_page import EXPECTED, URL, make_page
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    page = make_page(400_000)
    got = extract_page(page, URL)
    for field, value in EXPECTED.items():
        assert got["profile"][field] == value, field
    assert got["sources"]["name"] == "voyager"
    assert [k["kind"] for k in got["identities"]] == ["linkedin", "linkedin_urn"]
    # Without its island the same page goes through the DOM fallback and still reads right.
    dom_only = extract_page(page.replace('id="bpr-guid-999999"', 'id="bpr-removed"'), URL)
    assert dom_only["sources"]["name"] == "dom"
    for field in ("name", "headline", "location", "title", "company"):
        assert dom_only["profile"][field] == EXPECTED[field], field


def test_linkedin_sign_in_wall_is_not_a_profile():
    wall = (
        "<html><head><title>Sign Up | LinkedIn</title></head><body><main><section>"
        "<h1>Join LinkedIn to see Jane's full profile</h1><form><input name=email>"
        "<button>Agree &amp; Join</button></form></section></main></body></html>"
    )
    got = extract_page(wall, "https://www.linkedin.com/in/jane-doe/")
    assert got["status"] == "unparsed"
    assert got["profile"]["name"] is None
    assert got["title"] == "Sign Up | LinkedIn"


def _kith() -> str | None:
    candidate = Path(sys.executable).parent / "kith"
    if candidate.exists():
        return str(candidate)
    return shutil.which("kith")


@pytest.mark.parametrize("name", FIXTURES)
def test_fixture_page_through_cli(name):
    kith = _kith()
    if kith is None:
        pytest.skip("the kith command is not installed yet")
    _html, expected = load(name)
    proc = subprocess.run(
        [kith, "extract", str(PAGES / f"{name}.html"), "--url", expected["url"]],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert_matches(json.loads(proc.stdout), expected, name)


# --- saved selections ---------------------------------------------------------------------

THREAD_URL = "https://www.linkedin.com/messaging/thread/2-ZTQ1NmE3OGQtYjA5Yy00ZmFlLTk1ZDMtN2E2OWI0ZTc5MTNlXzAxMw==/"
JANE_LI = {
    "kind": "linkedin",
    "value": "https://www.linkedin.com/in/jane-doe-9a1b2c/",
    "url": "https://www.linkedin.com/in/jane-doe-9a1b2c/",
}


def test_selection_in_a_linkedin_thread_takes_the_sender_from_the_page():
    page, _ = load("linkedin_messaging")
    got = extract_selection("Thursday works. 2pm UK time?", None, THREAD_URL, page)
    assert got["sender"] == "Jane Doe"
    assert got["direction"] == "in"
    assert got["channel"] == "linkedin"
    assert got["subject_identities"] == [JANE_LI]
    assert got["body"] == "Thursday works. 2pm UK time?"
    early = extract_selection("great meeting you at PyCon UK!", None, THREAD_URL, page)
    assert early["sent_at"] == "2025-10-30T16:12:00"


def test_selection_of_my_own_message_is_still_about_the_other_participant():
    page, _ = load("linkedin_messaging")
    got = extract_selection("Would a call next Thursday work?", None, THREAD_URL, page)
    assert got["sender"] == "Alex Morgan"
    assert got["direction"] == "out"
    assert got["subject_identities"] == [JANE_LI]


def test_selection_with_mail_headers():
    text = (
        "From: Jane Doe <Jane.Doe@Example.com>\nSent: Sat, 01 Nov 2025 10:00:00 +0100\n"
        "Subject: Coffee\n\nHi Alex, still on for Thursday?"
    )
    got = extract_selection(text, None, "https://outlook.office.com/mail/inbox/id/AAQk")
    assert got["sender"] == "Jane Doe"
    assert got["sent_at"] == "2025-11-01T09:00:00Z"
    assert got["channel"] == "email"
    assert got["subject_identities"] == [
        {"kind": "email", "value": "jane.doe@example.com", "url": "mailto:jane.doe@example.com"}
    ]


def test_selection_in_gmail_reads_the_sender_span():
    page = """<html><body><div role="main"><div class="adn ads"><div class="gs">
      <h3 class="iw"><span class="gD" email="priya@raman.example" name="Priya Raman">Priya Raman</span></h3>
      <span class="g3" title="Sat, Nov 1, 2025, 10:05 AM">10:05 AM (2 days ago)</span>
      <div class="a3s aiL"><div dir="ltr">Lovely to meet you. Here are the Raft slides.</div></div>
    </div></div></div></body></html>"""
    got = extract_selection(
        "Here are the Raft slides.",
        "<div>Here are the Raft slides.</div>",
        "https://mail.google.com/mail/u/0/#inbox/FMfcgzQ",
        page,
    )
    assert got["sender"] == "Priya Raman"
    assert got["sent_at"] == "2025-11-01T10:05:00"
    assert got["channel"] == "email"
    assert got["subject_identities"][0]["value"] == "priya@raman.example"


def test_selection_on_a_profile_page_is_about_that_profile():
    page, expected = load("github_user")
    got = extract_selection("Building local-first tools.", None, expected["url"], page)
    assert got["sender"] is None
    assert got["channel"] == "web"
    assert got["subject_identities"] == expected["identities"]


def test_selection_on_an_ordinary_page_has_no_subject():
    page, expected = load("nothing")
    got = extract_selection("", "<p>Install with <code>pip</code></p>", expected["url"], page)
    assert got["body"] == "Install with pip"
    assert got["subject_identities"] == []
    assert got["channel"] == "web"
