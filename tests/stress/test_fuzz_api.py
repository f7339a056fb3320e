"""Fuzz suite: hypothesis-generated JSON bodies against a live `kith serve`.

Every answer is a documented status (docs/PROTOCOL.md) with the `{"error": {...}}` shape for errors,
never a 5xx; a refused capture writes no row, an accepted one exactly one capture row; no request
hangs. A second property posts mutated real fixture pages (every extractor's site) as profile
captures end to end, through the extraction worker pool: always stored, never lost.

100 examples per property under `make test`, 2,000 under `KITH_STRESS=1`.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from companion.store.db import sqlite_uri

from .conftest import (
    DOCUMENTED_CODES,
    DOCUMENTED_STATUSES,
    KithServer,
    ROOT,
    api_headers,
    http_request,
    integrity_check,
    new_token,
    report,
    scaled,
)

EXAMPLES = scaled(100, 2_000)
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
    ],
)
REQUEST_S = 30.0

PAGES = {p.stem: p.read_text(encoding="utf-8") for p in sorted((ROOT / "tests" / "fixtures" / "pages").glob("*.html"))}
PAGES.update(
    {
        p.stem: p.read_text(encoding="utf-8")
        for p in sorted((ROOT / "tests" / "fixtures" / "browser" / "people").glob("*.html"))
    }
)
SITE_URLS = [
    "https://www.linkedin.com/in/fuzz-person/",
    "https://www.linkedin.com/messaging/thread/2-fuzz==/",
    "https://uk.linkedin.com/in/fuzz",
    "https://github.com/fuzzer",
    "https://x.com/fuzzer",
    "https://twitter.com/fuzzer",
    "https://hachyderm.io/@fuzz",
    "https://fuzz.example/about",
]
FIELDS = [
    "capture_id",
    "kind",
    "url",
    "title",
    "captured_at",
    "html",
    "edits",
    "note",
    "tags",
    "circle",
    "how_met",
    "text",
    "contact_id",
    "sender",
    "direction",
    "sent_at",
    "page_html",
    "interaction_kind",
    "summary",
    "happened_at",
    "code",
    "name",
]
EDIT_FIELDS = ["name", "headline", "company", "title", "location", "avatar_url", "bio", "birthday", "is_me", "id"]


class Live:
    def __init__(self, server: KithServer, token: str):
        self.server, self.token = server, token
        self.statuses: dict[int, int] = {}
        self.requests = 0
        self.slowest = 0.0


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fuzz")
    db_path = tmp / "kith.db"
    token = new_token(db_path, "fuzz")
    server = KithServer(db_path, datasette=False, log_path=tmp / "serve.log").start()
    try:
        yield Live(server, token)
    finally:
        server.stop()


def captures_count(db_path: Path) -> int:
    conn = sqlite3.connect(sqlite_uri(db_path, mode="ro"), uri=True, timeout=30)
    try:
        return conn.execute("SELECT count(*) FROM captures").fetchone()[0]
    finally:
        conn.close()


# ---- strategies --------------------------------------------------------------------------------

edge_strings = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "a\x00b",
        "\udc80",
        "\ud83d",
        "😀" * 3,
        "‮rtl",
        "<script>alert(1)</script>",
        "javascript:alert(1)",
        "file:///etc/passwd",
        "data:text/html,x",
        "http://",
        "https://",
        "http://[::1",
        "https://www.linkedin.com/in/x/",
        "https://127.0.0.1:5151/v1/ping",
        "' OR 1=1 --",
        "%00",
        "\\",
        "2026-11-27T10:00:00Z",
        "2026-13-45T99:99:99Z",
        "9999-12-31",
        "NaN",
        "profile",
        "note",
        "message",
        "interaction",
        "both",
        "in",
        "out",
        str(uuid.uuid4()),
        "00000000-0000-0000-0000-000000000000",
        "x" * 2_001,
        "y" * 8_193,
    ]
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=60),
    edge_strings,
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(st.text(max_size=12), inner, max_size=5)),
    max_leaves=20,
)


def _value_for(field: str):
    valid = {
        "capture_id": st.builds(lambda: str(uuid.uuid4())),
        "kind": st.sampled_from(["profile", "message", "note", "interaction"]),
        "url": st.sampled_from(SITE_URLS),
        "html": st.sampled_from(list(PAGES.values())[:4]) | st.text(max_size=200),
        "edits": st.dictionaries(
            st.sampled_from(EDIT_FIELDS), st.one_of(st.text(max_size=40), edge_strings, scalars), max_size=4
        ),
        "tags": st.lists(st.one_of(st.text(max_size=20), edge_strings), max_size=6),
        "circle": st.sampled_from(["professional", "personal", "both", "PERSONAL"]),
        "direction": st.sampled_from(["in", "out", "sideways"]),
        "contact_id": st.integers(min_value=-3, max_value=50) | st.sampled_from([2**53, 2**53 + 1, 2**64]),
    }.get(field, st.text(max_size=80))
    return st.one_of(valid, valid, edge_strings, json_values)


capture_bodies = st.fixed_dictionaries(
    {"capture_id": _value_for("capture_id"), "kind": _value_for("kind")},
    optional={field: _value_for(field) for field in FIELDS if field not in ("capture_id", "kind")},
)


@st.composite
def one_bad_field(draw):
    """A valid capture of each kind with one field replaced by a fuzzed value (or dropped)."""
    kind = draw(st.sampled_from(["profile", "message", "note", "interaction"]))
    base = {
        "capture_id": str(uuid.uuid4()),
        "kind": kind,
        "url": draw(st.sampled_from(SITE_URLS)),
        "title": "t",
        "captured_at": "2026-11-27T10:00:00Z",
    }
    base.update(
        {
            "profile": {
                "html": PAGES["linkedin_profile_2022"],
                "tags": ["a"],
                "circle": "both",
                "note": "n",
                "how_met": "h",
                "edits": {"name": "Fuzz Person"},
            },
            "message": {"text": "hello", "direction": "in", "sender": "Fuzz", "sent_at": "2026-11-27T10:00:00Z"},
            "note": {"text": "a note"},
            "interaction": {"summary": "coffee", "interaction_kind": "met"},
        }[kind]
    )
    field = draw(st.sampled_from(sorted(base) + ["contact_id", "edits"]))
    if draw(st.integers(0, 9)) == 0:
        base.pop(field, None)
    else:
        base[field] = draw(_value_for(field))
    return base


any_object = st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=10), json_values, max_size=8)


@st.composite
def encoded_bodies(draw):
    """A JSON text (sometimes damaged on the way: truncated, re-encoded, junk appended)."""
    obj = draw(st.one_of(one_bad_field(), one_bad_field(), capture_bodies, any_object, json_values))
    text = json.dumps(obj, ensure_ascii=draw(st.booleans()), allow_nan=True)
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate with ensure_ascii=False
        data = text.encode("utf-8", "surrogatepass")
    damage = draw(st.sampled_from(["none"] * 6 + ["truncate", "utf16", "latin1", "junk", "bom"]))
    if damage == "truncate" and data:
        data = data[: draw(st.integers(0, len(data) - 1))]
    elif damage == "utf16":
        data = text.encode("utf-16", "surrogatepass")
    elif damage == "latin1":
        data = text.encode("latin-1", "replace")
    elif damage == "junk":
        data += draw(st.binary(min_size=1, max_size=8))
    elif damage == "bom":
        data = b"\xef\xbb\xbf" + data
    return data


ROUTES = [("POST", "/v1/captures")] * 6 + [("POST", "/v1/preview"), ("POST", "/v1/pair")]


def check_answer(live: Live, route: str, response) -> None:
    live.statuses[response.status] = live.statuses.get(response.status, 0) + 1
    assert response.status < 500, (route, response.status, response.body[:500], live.server.log_tail(20))
    assert response.status in DOCUMENTED_STATUSES, (route, response.status, response.body[:300])
    assert response.headers.get("content-type", "").startswith("application/json"), response.headers
    payload = response.json()
    if response.status >= 400:
        error = payload["error"]
        assert error["code"] in DOCUMENTED_CODES, error
        assert isinstance(error["message"], str) and error["message"]
        assert isinstance(error["retryable"], bool)


@FUZZ
@given(data=encoded_bodies(), route=st.sampled_from(ROUTES))
def test_fuzzed_json_bodies_get_documented_answers(live, data, route):
    method, path = route
    before = captures_count(live.server.db_path) if path == "/v1/captures" else None
    t0 = time.monotonic()
    response = http_request(method, live.server.port, path, data, api_headers(live.token), timeout=REQUEST_S + 30)
    elapsed = time.monotonic() - t0
    live.requests += 1
    live.slowest = max(live.slowest, elapsed)
    check_answer(live, path, response)
    assert elapsed < REQUEST_S, f"{path} took {elapsed:.1f}s"
    if before is not None:
        after = captures_count(live.server.db_path)
        if response.status == 201:
            assert after == before + 1
        else:
            assert after == before, (response.status, response.body[:200])


# ---- mutated real pages, end to end -------------------------------------------------------------

TAGS = ["div", "span", "a", "script", "code", "h1", "section", "li", "meta", "template", "svg", "table", "!--"]


@st.composite
def mutated_pages(draw):
    html = draw(st.sampled_from(sorted(PAGES.values(), key=len)))
    for _ in range(draw(st.integers(0, 4))):
        op = draw(
            st.sampled_from(
                ["truncate", "delete", "duplicate", "insert_tag", "insert_attr", "insert_text", "swap_quotes", "entity"]
            )
        )
        n = len(html)
        i = draw(st.integers(0, max(0, n - 1)))
        if op == "truncate":
            html = html[:i]
        elif op == "delete":
            html = html[:i] + html[i + draw(st.integers(1, 2000)) :]
        elif op == "duplicate":
            html = html[:i] + html[i : i + draw(st.integers(1, 5000))] * draw(st.integers(2, 5)) + html[i:]
        elif op == "insert_tag":
            tag = draw(st.sampled_from(TAGS))
            html = html[:i] + draw(st.sampled_from([f"<{tag}>", f"</{tag}>", f"<{tag} ", f"<{tag}/>"])) + html[i:]
        elif op == "insert_attr":
            html = (
                html[:i]
                + draw(
                    st.sampled_from(
                        [
                            ' class="pv-top-card"',
                            " id=bpr-guid-1",
                            ' itemprop="name"',
                            ' class="h-card p-name"',
                            ' property="og:title" content="X"',
                            ' data-x="\'"',
                            " onerror=alert(1)",
                        ]
                    )
                )
                + html[i:]
            )
        elif op == "insert_text":
            html = html[:i] + draw(st.text(max_size=40)) + html[i:]
        elif op == "swap_quotes":
            html = html.replace('"', "'", draw(st.integers(1, 50)))
        elif op == "entity":
            html = (
                html[:i] + draw(st.sampled_from(["&amp;", "&#0;", "&#x110000;", "&quot;", "&", "&#xD800;"])) + html[i:]
            )
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "latin-1", "cp1252"]))
    html = html.encode(encoding, "replace").decode("utf-8", "replace")  # a page read with the wrong charset
    html = html.replace("\x00", "")  # NUL is refused by validation (422); that path is the other property's
    return html if html.strip() else "<p>" + html  # an empty page is refused too (422)


@FUZZ
@given(html=mutated_pages(), url=st.sampled_from(SITE_URLS), kind=st.sampled_from(["profile", "message"]))
def test_mutated_real_pages_are_always_stored(live, html, url, kind):
    capture = {"capture_id": str(uuid.uuid4()), "kind": kind, "url": url, "title": "fuzz"}
    if kind == "profile":
        capture["html"] = html
    else:
        capture.update(text="a selected message", html=html[:20_000], page_html=html)
    before = captures_count(live.server.db_path)
    t0 = time.monotonic()
    response = http_request(
        "POST",
        live.server.port,
        "/v1/captures",
        json.dumps(capture).encode(),
        api_headers(live.token),
        timeout=REQUEST_S + 30,
    )
    elapsed = time.monotonic() - t0
    live.requests += 1
    live.slowest = max(live.slowest, elapsed)
    check_answer(live, "/v1/captures", response)
    assert response.status == 201, response.body[:300]
    answer = response.json()
    assert answer["status"] in (("parsed", "partial", "unparsed") if kind == "profile" else ("stored",))
    assert captures_count(live.server.db_path) == before + 1
    assert elapsed < REQUEST_S, f"took {elapsed:.1f}s"


def test_server_healthy_after_fuzzing(live):
    assert live.server.alive() and live.server.ping()
    assert integrity_check(live.server.db_path) == "ok"
    log = live.server.log_text()
    assert "unhandled error" not in log, live.server.log_tail(40)
    report(
        "fuzz",
        {
            "examples_per_property": EXAMPLES,
            "requests": live.requests,
            "statuses": live.statuses,
            "slowest_s": round(live.slowest, 2),
        },
    )
