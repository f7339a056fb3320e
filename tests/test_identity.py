"""Canonical identity keys (docs/IDENTITY.md): the same person from different URLs gives one key."""

from __future__ import annotations

import re

import pytest

from companion.identity import canonical_identity, identities_for_url, name_similarity


def value(text, kind=None, **kw):
    key = canonical_identity(text, kind, **kw)
    return key["value"] if key else None


def kind_of(text, kind=None):
    key = canonical_identity(text, kind)
    return key["kind"] if key else None


JANE_LI = "https://www.linkedin.com/in/jane-doe/"


@pytest.mark.parametrize(
    "url",
    [
        "uk.linkedin.com/in/Jane-Doe?trk=x",
        "https://uk.linkedin.com/in/Jane-Doe?trk=x",
        "https://www.linkedin.com/in/jane-doe/",
        "https://www.linkedin.com/in/jane-doe",
        "http://linkedin.com/in/JANE-DOE/",
        "https://de.linkedin.com/in/jane-doe?originalSubdomain=de",
        "https://www.linkedin.com/in/jane-doe/?miniProfileUrn=urn%3Ali%3Afs_miniProfile%3AACoAAB",
        "https://www.linkedin.com/in/jane-doe/#experience",
        "https://www.linkedin.com/in/jane-doe/details/experience/",
        "https://www.linkedin.com/in/jane-doe/overlay/contact-info/",
        "https://www.linkedin.com/in/jane%2Ddoe/",
        "https://www.linkedin.com/mwlite/in/jane-doe",
    ],
)
def test_linkedin_variants_are_one_key(url):
    key = canonical_identity(url)
    assert key == {"kind": "linkedin", "value": JANE_LI, "url": JANE_LI}


def test_the_issue_example():
    assert value("uk.linkedin.com/in/Jane-Doe?trk=x") == value("www.linkedin.com/in/jane-doe/")


def test_linkedin_percent_encoding_is_decoded_then_lowercased():
    a = value("https://www.linkedin.com/in/jos%C3%A9-garc%C3%ADa/")
    b = value("https://fr.linkedin.com/in/JOSÉ-GARCÍA")
    c = value("https://www.linkedin.com/in/JOS%C3%89-GARC%C3%8DA?trk=public_profile")
    assert a == b == c == "https://www.linkedin.com/in/josé-garcía/"


def test_linkedin_non_profile_urls_are_plain_urls():
    assert kind_of("https://www.linkedin.com/company/acme-robotics/") == "url"
    assert kind_of("https://www.linkedin.com/feed/") == "url"
    assert kind_of("https://www.linkedin.com/in/") == "url"


def test_linkedin_slug_and_urn_with_kind():
    assert value("Jane-Doe", "linkedin") == JANE_LI
    assert value("urn:li:fsd_profile:ACoAAB3xK9s") == "urn:li:fsd_profile:ACoAAB3xK9s"
    # older Voyager generations name the same member differently
    assert value("urn:li:fs_profile:ACoAAB3xK9s") == "urn:li:fsd_profile:ACoAAB3xK9s"
    assert value("urn:li:fs_miniProfile:ACoAAB3xK9s") == "urn:li:fsd_profile:ACoAAB3xK9s"
    assert kind_of("urn:li:fsd_profile:ACoAAB3xK9s") == "linkedin_urn"
    assert canonical_identity("urn:li:fsd_profile:ACoAAB3xK9s")["url"] is None


@pytest.mark.parametrize(
    "url",
    [
        "https://twitter.com/JaneDoe",
        "https://x.com/janedoe",
        "https://mobile.twitter.com/JaneDoe",
        "https://www.x.com/JaneDoe/",
        "http://www.twitter.com/JaneDoe?lang=en",
        "https://x.com/JaneDoe/with_replies",
        "https://mobile.x.com/janedoe/media",
        "twitter.com/JANEDOE",
    ],
)
def test_twitter_is_x(url):
    assert canonical_identity(url) == {"kind": "x", "value": "https://x.com/janedoe", "url": "https://x.com/janedoe"}


def test_x_handles_ids_and_non_profiles():
    assert value("@JaneDoe", "x") == "https://x.com/janedoe"
    assert value("JaneDoe", "twitter") == "https://x.com/janedoe"
    assert canonical_identity("1412345678901234567", "x_id") == {
        "kind": "x_id",
        "value": "1412345678901234567",
        "url": "https://x.com/i/user/1412345678901234567",
    }
    assert kind_of("https://x.com/i/user/1412345678901234567") == "x_id"
    assert kind_of("https://x.com/JaneDoe/status/1859999999999999999") == "url"
    assert kind_of("https://x.com/home") == "url"
    assert kind_of("https://twitter.com/search?q=kith") == "url"
    assert canonical_identity("@this_handle_is_far_too_long", "x") is None


@pytest.mark.parametrize(
    "text,kind",
    [
        ("@jane@hachyderm.io", None),
        ("@jane@Hachyderm.IO", None),
        ("jane@hachyderm.io", "mastodon"),
        ("acct:jane@hachyderm.io", None),
        ("https://hachyderm.io/@jane", None),
        ("https://HACHYDERM.io/@jane/", None),
        ("https://mastodon.social/@jane@hachyderm.io", None),
        ("https://hachyderm.io/users/jane", "mastodon"),
        ("https://hachyderm.io/@jane/113498765432109876", "mastodon"),
    ],
)
def test_mastodon_forms(text, kind):
    assert canonical_identity(text, kind) == {
        "kind": "mastodon",
        "value": "@jane@hachyderm.io",
        "url": "https://hachyderm.io/@jane",
    }


def test_mastodon_remote_host_wins_and_ambiguous_paths_stay_urls():
    assert value("https://mastodon.social/@bob@fosstodon.org") == "@bob@fosstodon.org"
    assert kind_of("https://stackoverflow.com/users/12345/jane") == "url"  # /users/ only when told
    assert kind_of("https://medium.com/@jane") == "url"
    assert kind_of("https://hachyderm.io/@jane/113498765432109876") == "url"  # a post, not a profile


@pytest.mark.parametrize(
    "url",
    [
        "https://github.com/JaneDoe",
        "https://github.com/janedoe?tab=repositories",
        "https://www.github.com/janedoe/",
        "github.com/JANEDOE?tab=stars#top",
    ],
)
def test_github(url):
    assert canonical_identity(url) == {
        "kind": "github",
        "value": "https://github.com/janedoe",
        "url": "https://github.com/janedoe",
    }


@pytest.mark.parametrize(
    "url",
    [
        "https://github.com/orgs/acme/people",
        "https://github.com/settings/profile",
        "https://github.com/features",
        "https://github.com/janedoe/kith-sync",
        "https://github.com/marketplace",
        "https://github.com/",
    ],
)
def test_github_reserved_and_repo_paths_are_not_users(url):
    assert kind_of(url) == "url"


def test_github_login_and_id_with_kind():
    assert value("JaneDoe", "github") == "https://github.com/janedoe"
    assert canonical_identity("settings", "github") is None
    assert canonical_identity("4815162", "github_id") == {"kind": "github_id", "value": "4815162", "url": None}


@pytest.mark.parametrize(
    "text", ["Jane.Doe@Example.COM", "mailto:jane.doe@example.com?subject=hi", "  jane.doe@EXAMPLE.com "]
)
def test_email_normalised(text):
    assert canonical_identity(text) == {
        "kind": "email",
        "value": "jane.doe@example.com",
        "url": "mailto:jane.doe@example.com",
    }


def test_bad_emails():
    assert canonical_identity("not an email", "email") is None
    assert canonical_identity("jane@", "email") is None


def test_phones_e164():
    assert value("+44 20 7946 0958") == "+442079460958"
    assert value("tel:+44-20-7946-0958") == "+442079460958"
    assert value("020 7946 0958", "phone", region="GB") == "+442079460958"
    assert value("(202) 555-0173", "phone", region="us") == "+12025550173"
    # No country and no default region: kept as its digits, never dropped (docs/IDENTITY.md).
    assert canonical_identity("020 7946 0958", "phone") == {"kind": "phone", "value": "02079460958", "url": None}
    assert canonical_identity("020 7946 0958") is None  # only an explicit phone is read that way
    assert value("+1 650 555 0100 ext. 102", "phone") == "+16505550100;ext=102"
    assert canonical_identity("+44 20 7946 0958")["url"] == "tel:+442079460958"


def test_generic_urls():
    a = canonical_identity("https://www.Jane.Example/?utm_source=x#top")
    b = canonical_identity("http://jane.example")
    assert a["kind"] == b["kind"] == "url"
    assert a["value"] == b["value"] == "https://jane.example/"
    assert value("https://jane.example/about/") == value("https://jane.example/about")
    assert value("https://jane.example/search?q=1&fbclid=abc") == "https://jane.example/search?q=1"
    assert value("jane.example") == "https://jane.example/"


@pytest.mark.parametrize(
    "junk",
    [
        None,
        123,
        "",
        "   ",
        "http://",
        "https://[::1",
        "ftp://example.com/x",
        "javascript:alert(1)",
        "@",
        "@@",
        "x" * 5000,
        "https://x.com/" + "a" * 3000,
        "\ud800",
        "https://exa mple.com/",
    ],
)
def test_never_raises(junk):
    canonical_identity(junk)
    for kind in ("linkedin", "github", "x", "mastodon", "email", "phone", "url", "linkedin_urn"):
        canonical_identity(junk, kind)
    identities_for_url(junk)


def test_identities_for_url():
    assert identities_for_url("https://uk.linkedin.com/in/Jane-Doe?trk=x") == [
        {"kind": "linkedin", "value": JANE_LI, "url": JANE_LI}
    ]
    assert identities_for_url("https://jane.example/blog/") == [
        {"kind": "url", "value": "https://jane.example/blog", "url": "https://jane.example/blog/"}
    ]
    assert identities_for_url("not a url at all") == []


def test_name_similarity():
    assert name_similarity("Jane Doe", "Doe, Jane") >= 90
    assert name_similarity("José García", "Jose Garcia") >= 95
    assert name_similarity("Jane Doe", "jane  doe") == 100
    assert name_similarity("Jane Doe", "John Smith") < 50
    assert name_similarity("Jane Doe", None) == 0
    assert 0 <= name_similarity("Jane A. Doe", "Jane Doe") <= 100


def test_pages_on_an_ip_address_get_a_url_identity():
    key = canonical_identity("http://127.0.0.1:8080/about/?utm_source=x")
    assert key == {"kind": "url", "value": "https://127.0.0.1:8080/about", "url": "http://127.0.0.1:8080/about/"}


def test_linkedin_fast_path_gives_the_general_paths_key():
    """canonical_identity answers the common LinkedIn URL shapes without urlsplit; the key must be
    exactly what the general path gives, for those shapes and for near misses."""
    import random

    from companion import identity

    rng = random.Random(12)
    alphabet = "abcXYZ019-_%.~ /?#@éß"
    urls = []
    for _ in range(3000):
        chars = alphabet if rng.random() < 0.3 else "abcXYZ019-_"
        slug = "".join(rng.choice(chars) for _ in range(rng.randint(0, 14)))
        scheme = rng.choice(["https://", "http://", "HTTPS://", "", "//"])
        host = rng.choice(
            [
                "www.linkedin.com",
                "linkedin.com",
                "uk.linkedin.com",
                "WWW.LinkedIn.com",
                "www.linkedin.com.evil.example",
                "linkedin.co",
            ]
        )
        path = rng.choice(["/in/", "/in//", "/pub/", "/mwlite/in/", "/IN/"])
        tail = rng.choice(["", "/", "//", "?trk=x", "#about", "/details/", " ", "\n"])
        urls.append(rng.choice([" ", ""]) + scheme + host + path + slug + tail)
    urls += [
        "https://www.linkedin.com/in/Jane-Doe-1a2b3c",
        "https://linkedin.com/in/jane_doe/",
        "http://www.linkedin.com/in/x" + "a" * 300,
        "https://www.linkedin.com/in/-/",
    ]
    fast_hits = 0
    for url in urls:
        fast = identity._LINKEDIN_FAST.fullmatch(url) is not None
        fast_hits += fast
        for kind in (None, "linkedin"):
            got = identity.canonical_identity(url, kind=kind)
            saved = identity._LINKEDIN_FAST
            identity._LINKEDIN_FAST = re.compile(r"(?!)")  # never matches: the general path only
            try:
                want = identity.canonical_identity(url, kind=kind)
            finally:
                identity._LINKEDIN_FAST = saved
            assert got == want, (url, kind, got, want)
    assert fast_hits > 20, "the comparison must exercise the fast path"


def test_email_fast_path_gives_email_validators_key():
    """Plain ASCII addresses skip email_validator's per-address checks (the domain is validated once);
    the key must be exactly what the general path gives, for such addresses and for near misses."""
    import random

    from companion import identity

    rng = random.Random(7)
    locals_ = ["jane", "Jane.Doe", "j_d+tag", "a-b.c", "x" * 70, ".jane", "jane.", "ja..ne", "ja ne", "é", "a!b", "a=b"]
    domains = [
        "example.com",
        "EXAMPLE.Com",
        "mail.example.co.uk",
        "localhost",
        "example",
        "host.test",
        "x.invalid",
        "x.local",
        "x.onion",
        "1.2.3.4",
        "[1.2.3.4]",
        "example.123",
        "-bad.com",
        "bad-.com",
        "ex..com",
        ".ex.com",
        "ex.com.",
        "a" * 64 + ".com",
        ("b" * 60 + ".") * 4 + "com",
        "xn--bcher-kva.de",
        "XN--bcher-kva.de",
        "bücher.de",
        "ex_ample.com",
    ]
    addresses = [f"{local}@{domain}" for local in locals_ for domain in domains]
    for _ in range(400):
        local = "".join(rng.choice("aZ9._+-") for _ in range(rng.randint(1, 8)))
        chars = "ab9" if rng.random() < 0.5 else "ab9.-"
        domain = "".join(rng.choice(chars) for _ in range(rng.randint(1, 10))) + rng.choice([".com", ".org", ""])
        addresses.append(f"{local}@{domain}")
    addresses += ["a@b@example.com", "@example.com", "jane@", "mailto:Jane@Example.com", '"J" <j@example.com>']
    fast_hits = fast_keys = 0
    for address in addresses:
        got = identity.canonical_identity(address, kind="email")
        if identity._EMAIL_FAST.fullmatch(address):
            fast_hits += 1
            fast_keys += got is not None
        saved = identity._EMAIL_FAST
        identity._EMAIL_FAST = re.compile(r"(?!)")  # never matches: email_validator for every address
        try:
            want = identity.canonical_identity(address, kind="email")
        finally:
            identity._EMAIL_FAST = saved
        assert got == want, (address, got, want)
    assert fast_keys > 30 and fast_hits - fast_keys > 30, "the comparison must exercise the fast path both ways"
