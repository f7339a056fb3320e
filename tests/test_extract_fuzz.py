"""Property tests: arbitrary, truncated and mutated HTML never makes an extractor raise or stall.

Every extractor is driven both through ``extract_page`` (with URLs that dispatch to it) and
directly, so a bug cannot hide behind the top-level catch-all.  Hypothesis' deadline bounds
each call's time instead of timed asserts.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from companion.extract import (
    extract_page,
    extract_selection,
    generic,
    github,
    linkedin_dom,
    linkedin_messaging,
    linkedin_public,
    linkedin_voyager,
    mastodon,
    x,
)
from companion.extract.page import Page
from companion.extract.result import PROFILE_KEYS, Result
from companion.identity import canonical_identity

PAGES = Path(__file__).resolve().parent / "fixtures" / "pages"
FIXTURES = {p.stem: p.read_text(encoding="utf-8") for p in sorted(PAGES.glob("*.html"))}

URLS = [
    "https://www.linkedin.com/in/jane-doe/",
    "https://www.linkedin.com/in/priya-raman-42b1a7/",
    "https://www.linkedin.com/messaging/thread/2-abc==/",
    "https://uk.linkedin.com/in/amara-nwosu",
    "https://github.com/janedoe",
    "https://x.com/JaneDoe",
    "https://hachyderm.io/@jane",
    "https://jane.example/",
    "http://example.com/",
    "not a url",
    "",
]

# Every extractor, called directly on a Page and a fresh Result.
DIRECT = [
    ("generic", lambda p, r: generic.extract(p, r)),
    ("github", lambda p, r: github.extract(p, r)),
    ("x", lambda p, r: x.extract(p, r)),
    ("mastodon", lambda p, r: mastodon.extract(p, r)),
    ("linkedin_voyager", lambda p, r: linkedin_voyager.extract(p, r, "jane-doe")),
    ("linkedin_dom", lambda p, r: linkedin_dom.extract(p, r)),
    ("linkedin_public", lambda p, r: linkedin_public.extract(p, r, "jane-doe")),
    ("linkedin_messaging", lambda p, r: linkedin_messaging.extract(p, r)),
]

FUZZ = settings(
    deadline=timedelta(milliseconds=900),
    max_examples=60,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)

# Import extruct/mf2py/html5lib once, so the first example is not charged for module loading.
extract_page(
    '<div class="h-card" itemscope itemtype="http://schema.org/Person">'
    '<a class="p-name u-url" href="/">J</a></div><meta property="og:type" content="profile">'
    '<script type="application/ld+json">{"@type":"Person","name":"J"}</script>',
    "https://warm.example/",
)

# Markup built from the vocabulary the extractors look for, so examples reach deep code paths.
TAGS = [
    "div",
    "span",
    "a",
    "li",
    "ul",
    "section",
    "h1",
    "h2",
    "p",
    "img",
    "time",
    "code",
    "script",
    "main",
    "dl",
    "dt",
    "dd",
    "small",
    "br",
    "meta",
    "link",
    "area",
    "data",
    "abbr",
    "table",
    "td",
]
ATTRS = [
    'class="h-card"',
    'class="p-name u-url"',
    'class="u-photo"',
    'class="p-org h-card"',
    'class="h-adr p-adr"',
    'class="u-email"',
    'class="p-note"',
    'class="p-job-title"',
    'rel="me"',
    'href="/in/jane-doe/"',
    'href="https://github.com/x"',
    'href="mailto:a@b.c"',
    "itemscope",
    'itemtype="http://schema.org/Person"',
    'itemprop="name"',
    'itemprop="worksFor"',
    'itemprop="url"',
    'itemprop="social"',
    'aria-hidden="true"',
    'class="visually-hidden"',
    'data-view-name="profile-component-entity"',
    'id="about"',
    'id="experience"',
    'id="bpr-guid-1"',
    'type="application/ld+json"',
    'data-testid="UserProfileSchema-test"',
    'data-testid="UserName"',
    'data-testid="UserUrl"',
    'class="msg-s-message-list-content"',
    'class="msg-s-event-listitem"',
    'data-event-urn="urn:li:msg_message:1"',
    'class="msg-s-message-group__name"',
    'class="msg-s-message-group msg-s-message-group--outbound"',
    'class="msg-s-message-list__time-heading"',
    'class="msg-s-message-group__timestamp"',
    'class="msg-s-event-listitem__body"',
    'class="account__header"',
    'class="account__header__tabs__name"',
    'class="account__header__fields"',
    'property="og:type" content="profile"',
    'property="profile:username" content="a@b.example"',
    'rel="alternate" type="application/activity+json" href="/users/a"',
    'src="profile-displayphoto-x"',
    'href="overlay/contact-info/"',
    'class="p-nickname"',
    'class="avatar-user"',
    'datetime="2025-01-01T10:00:00Z"',
]
TEXTS = st.sampled_from(
    [
        "Jane Doe",
        "Jane Doe, PhD (She/Her) 🚀",
        "Jan 2022 - Present · 1 yr",
        "About",
        "Experience",
        "Oct 30, 2025",
        "10:32 AM",
        "Today",
        '{"@type":"Person","name":"X","worksFor":[[{"name":"A"}]]}',
        "{&quot;included&quot;:[{&quot;publicIdentifier&quot;:&quot;jane-doe&quot;,&quot;entityUrn&quot;:"
        "&quot;urn:li:fsd_profile:ACoA1&quot;,&quot;$type&quot;:&quot;x.Profile&quot;}]}",
        "@jane@hachyderm.io",
        "Contact info",
        "·",
        "",
        "<",
        "&amp;",
        "\x00",
        "\ud800",
        "]]>",
        "-->",
    ]
) | st.text(max_size=40)


@st.composite
def tag_soup(draw, depth=0):
    parts = []
    for _ in range(draw(st.integers(0, 6))):
        choice = draw(st.integers(0, 4))
        if choice == 0 or depth > 4:
            parts.append(draw(TEXTS))
        else:
            tag = draw(st.sampled_from(TAGS))
            attrs = " ".join(draw(st.lists(st.sampled_from(ATTRS), max_size=3)))
            inner = draw(tag_soup(depth + 1))
            close = draw(st.sampled_from([f"</{tag}>", "", f"</{tag}", "</div>"]))
            parts.append(f"<{tag} {attrs}>{inner}{close}")
    return "".join(parts)


def check_result(result: dict) -> None:
    assert result["status"] in ("parsed", "partial", "unparsed")
    assert set(PROFILE_KEYS) <= set(result["profile"])
    for field, value in result["profile"].items():
        if field == "positions":
            assert all(isinstance(v, (str, type(None))) for p in value for v in p.values())
        else:
            assert value is None or isinstance(value, str), (field, value)
            assert value is None or field in result["sources"], field
    for key in result["identities"] + result["links"]:
        assert isinstance(key["value"], str) and key["kind"]
    json.dumps(result)


def run_direct(html: str, url: str) -> None:
    for _name, fn in DIRECT:
        page = Page(html, url)
        fn(page, Result(page.url, page.title))


@FUZZ
@given(html=st.text(max_size=3000), url=st.sampled_from(URLS))
def test_arbitrary_text(html, url):
    check_result(extract_page(html, url))
    run_direct(html, url)


@FUZZ
@given(html=tag_soup(), url=st.sampled_from(URLS))
def test_structured_tag_soup(html, url):
    check_result(extract_page(html, url))
    run_direct(html, url)


@FUZZ
@given(name=st.sampled_from(sorted(FIXTURES)), cut=st.floats(0, 1), url=st.sampled_from(URLS))
def test_truncated_fixture_pages(name, cut, url):
    html = FIXTURES[name]
    html = html[: int(len(html) * cut)]
    check_result(extract_page(html, url))
    run_direct(html, url)


@st.composite
def mutated_fixture(draw):
    html = FIXTURES[draw(st.sampled_from(sorted(FIXTURES)))]
    for _ in range(draw(st.integers(1, 8))):
        i = draw(st.integers(0, len(html)))
        j = min(len(html), i + draw(st.integers(0, 400)))
        op = draw(st.integers(0, 3))
        if op == 0:  # delete a slice
            html = html[:i] + html[j:]
        elif op == 1:  # duplicate a slice
            html = html[:j] + html[i:j] + html[j:]
        elif op == 2:  # insert junk
            html = (
                html[:i]
                + draw(
                    st.sampled_from(
                        ["<", ">", '"', "</div>", "<div>", "&", "<!--", "<script>", "\x00", "\ud800", "</code>"]
                    )
                )
                + html[i:]
            )
        else:  # swap case of a slice
            html = html[:i] + html[i:j].swapcase() + html[j:]
    return html


@FUZZ
@given(html=mutated_fixture(), url=st.sampled_from(URLS))
def test_mutated_fixture_pages(html, url):
    check_result(extract_page(html, url))
    run_direct(html, url)


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.sampled_from(
        [
            "jane-doe",
            "urn:li:fsd_profile:ACoA1",
            "x.Profile",
            "x.Position",
            "Person",
            "ProfilePage",
            "urn:li:fsd_position:(ACoA1,1)",
            "@graph",
            "https://x.com/a",
        ]
    ),
    lambda kids: (
        st.lists(kids, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "included",
                    "data",
                    "publicIdentifier",
                    "entityUrn",
                    "$type",
                    "firstName",
                    "lastName",
                    "headline",
                    "geoLocation",
                    "*geo",
                    "profilePicture",
                    "vectorImage",
                    "rootUrl",
                    "artifacts",
                    "width",
                    "fileIdentifyingUrlPathSegment",
                    "dateRange",
                    "start",
                    "end",
                    "year",
                    "month",
                    "companyName",
                    "*company",
                    "title",
                    "@type",
                    "@graph",
                    "mainEntity",
                    "name",
                    "jobTitle",
                    "worksFor",
                    "member",
                    "startDate",
                    "address",
                    "image",
                    "sameAs",
                    "url",
                    "additionalName",
                    "givenName",
                    "identifier",
                    "relatedLink",
                    "homeLocation",
                    "pronoun",
                ]
            )
            | st.text(max_size=8),
            kids,
            max_size=6,
        )
    ),
    max_leaves=40,
)


@FUZZ
@given(data=JSON, url=st.sampled_from(URLS))
def test_arbitrary_json_in_islands_and_json_ld(data, url):
    import html as htmllib

    text = json.dumps(data)
    page = (
        f'<script type="application/ld+json" data-testid="UserProfileSchema-test">{text}</script>'
        f'<code id="bpr-guid-7">{htmllib.escape(text)}</code>'
        f'<code id="bpr-guid-8">{htmllib.escape(json.dumps({"included": [data]}))}</code>'
    )
    check_result(extract_page(page, url))
    run_direct(page, url)


@FUZZ
@given(
    html=st.one_of(st.none(), st.binary(max_size=500), st.integers(), st.text(max_size=200)),
    url=st.one_of(st.none(), st.integers(), st.text(max_size=100)),
    title=st.one_of(st.none(), st.integers(), st.text(max_size=50)),
)
def test_wrong_types_never_raise(html, url, title):
    check_result(extract_page(html, url, title))


@FUZZ
@given(
    text=st.one_of(st.none(), st.text(max_size=300)),
    html=st.one_of(st.none(), tag_soup()),
    url=st.sampled_from(URLS),
    page=st.one_of(st.none(), tag_soup(), st.sampled_from(sorted(FIXTURES))),
)
def test_selection_never_raises(text, html, url, page):
    page_html = FIXTURES.get(page, page) if isinstance(page, str) else page
    result = extract_selection(text, html, url, page_html)
    assert set(result) >= {"body", "sender", "sent_at", "subject_identities", "channel"}
    json.dumps(result)


@FUZZ
@given(
    text=st.text(max_size=200),
    kind=st.sampled_from(
        [None, "linkedin", "github", "x", "mastodon", "email", "phone", "url", "linkedin_urn", "x_id"]
    ),
)
def test_identity_never_raises(text, kind):
    key = canonical_identity(text, kind)
    assert key is None or set(key) == {"kind", "value", "url"}
