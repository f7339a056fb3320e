"""Bad-input suite against a live `kith serve` subprocess: hostile and broken requests, each with its
expected status and error code, each checked to write no row (or, for the few that are valid data,
exactly the rows expected). The server must still be healthy at the end.

A superset of tests/test_security.py's in-process table: every auth, Origin and Host case, content
types, truncated and deeply nested JSON, 10 MB strings in every field, invalid UTF-8, NUL bytes,
gzip bombs and lying Content-Lengths, HTML with 100,000 nested elements, a 15 MB page,
attribute soup, `javascript:`/`file:`/`data:` URLs and SQL-looking text in every field.
"""

from __future__ import annotations

import base64
import gzip
import json
import sqlite3
import time
import uuid
import zlib
from dataclasses import dataclass
from typing import Callable

import pytest

from companion.ingest import EXTRACT_TIMEOUT_S
from companion.server.keys import Settings

from .conftest import (
    STRESS,
    KithServer,
    Response,
    api_headers,
    big_page,
    connect_ro,
    http_request,
    integrity_check,
    linkedin_page,
    new_token,
    profile_capture,
    raw_request,
    report,
    row_counts,
    run_kith,
)

TEN_MB = 10 * 1024 * 1024
MAX_BODY = Settings.__dataclass_fields__["max_body"].default
SQL = "Robert'); DROP TABLE contacts; -- \" OR 1=1; /* */ UNION SELECT token_sha256 FROM tokens; --"
EXT_ORIGIN = "chrome-extension://kithstresskithstresskithstressab"


@dataclass
class Ctx:
    server: KithServer
    token: str
    revoked_token: str
    paired_origin: str
    paired_token: str
    contact_id: int
    contact_url: str
    known_capture: dict


@dataclass
class Req:
    method: str = "POST"
    path: str = "/v1/captures"
    body: bytes | None = None
    headers: dict | None = None
    host: str | None = None  # None: 127.0.0.1:PORT
    raw: bytes | None = None  # bytes on a socket instead of http.client
    close_after: bool = False  # hang up right after sending `raw`
    timeout: float = 120.0
    datasette: bool = False  # sent to the Datasette port instead of the companion's


@dataclass
class Case:
    name: str
    status: int  # 0: no answer expected (the client hung up)
    code: str | None  # None: refused by aiohttp's HTTP parser before Kith runs (text/plain)
    build: Callable[[Ctx], Req]
    writes: dict | None = None  # accepted data: exact row deltas for these tables (None: no row at all)
    check: Callable[[Ctx, Response], None] | None = None
    max_seconds: float = 30.0
    full_only: bool = False


def body(obj) -> bytes:
    return json.dumps(obj).encode()


def cap(c: Ctx, **overrides) -> bytes:
    return body(profile_capture(7, **overrides))


def post(c: Ctx, data: bytes, **headers) -> Req:
    return Req(body=data, headers=api_headers(c.token, **headers))


def replace_field(obj: dict, path: str, value) -> dict:
    """Set `a.b` (dicts) or `tags.0` (lists) inside a copy of `obj`."""
    obj = json.loads(json.dumps(obj))
    parts = path.split(".")
    target = obj
    for part in parts[:-1]:
        target = target[int(part)] if isinstance(target, list) else target.setdefault(part, {})
    last = parts[-1]
    if isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return obj


def raw_post(c: Ctx, data: bytes, extra_headers: str = "", *, content_length: int | None = None) -> bytes:
    port = c.server.port
    length = len(data) if content_length is None else content_length
    return (
        f"POST /v1/captures HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {c.token}\r\n"
        f"Content-Type: application/json\r\n{extra_headers}Content-Length: {length}\r\n"
        f"Connection: close\r\n\r\n"
    ).encode() + data


def note(**extra) -> dict:
    return {"capture_id": str(uuid.uuid4()), "kind": "note", "text": "hello", **extra}


def message(**extra) -> dict:
    return {
        "capture_id": str(uuid.uuid4()),
        "kind": "message",
        "url": "https://www.linkedin.com/messaging/t/1/",
        "text": "hi there",
        **extra,
    }


def interaction(c: Ctx, **extra) -> dict:
    return {"capture_id": str(uuid.uuid4()), "kind": "interaction", "contact_id": c.contact_id, **extra}


# ---- checks for the accepted big-page and SQL cases ----------------------------------------------


def _stored_capture(c: Ctx, response: Response) -> dict:
    capture_id = response.json()["capture_id"]
    conn = connect_ro(c.server.db_path)
    try:
        conn.row_factory = sqlite3.Row
        return dict(conn.execute("SELECT * FROM captures WHERE id = ?", [capture_id]).fetchone())
    finally:
        conn.close()


def raw_kept(expected_html: Callable[[], str]):
    def check(c: Ctx, response: Response) -> None:
        answer = response.json()
        assert answer["status"] in ("parsed", "partial", "unparsed")
        row = _stored_capture(c, response)
        assert row["html"] is not None, "the raw page was not kept"
        assert zlib.decompress(row["html"]).decode("utf-8") == expected_html(), "the raw page was not kept verbatim"

    return check


_BIG: dict[str, str] = {}


def big(name: str) -> str:
    """Big pages, built once per run."""
    if name not in _BIG:
        if name == "nested":
            _BIG[name] = (
                "<!DOCTYPE html><html><body>" + "<div>" * 100_000 + "deep" + "</div>" * 100_000 + "</body></html>"
            )
        elif name == "15mb":
            _BIG[name] = big_page(15_000_000)
        elif name == "soup":
            attrs = " ".join(f'data-k{j}="{j}" class="c{j}" id="i{j}"' for j in range(60))
            _BIG[name] = (
                "<!DOCTYPE html><html><head><title>soup</title></head><body>"
                + "".join(
                    f"<div {attrs} a{i}='<\">' onmouseover=\"alert({i})\" style='x:{i}' {attrs}>"
                    f"<span {attrs}><a href='javascript:{i}' {attrs}>{i}</a>"
                    for i in range(3000)
                )
                + "</body></html>"
            )
        elif name == "soup_one_element":
            _BIG[name] = (
                "<!DOCTYPE html><html><body><div "
                + " ".join(f'a{j}="{j}"' for j in range(300_000))
                + "></div></body></html>"
            )
        elif name == "ten_mb_html":
            _BIG[name] = "<html><body><p>" + "x" * TEN_MB + "</p></body></html>"
    return _BIG[name]


def big_case(name: str, page: str, url: str, *, full_only: bool = False) -> Case:
    return Case(
        name,
        201,
        None,
        lambda c: post(
            c, body({"capture_id": str(uuid.uuid4()), "kind": "profile", "url": url, "title": name, "html": big(page)})
        ),
        writes={"captures": 1},
        check=raw_kept(lambda: big(page)),
        max_seconds=EXTRACT_TIMEOUT_S + 40,
        full_only=full_only,
    )


SQL_FIELDS = {
    "title": SQL,
    "note": SQL,
    "how_met": SQL,
    "tags": [SQL[:100], "x" + SQL[:99]],
    "edits": {
        "name": SQL,
        "headline": SQL,
        "company": SQL,
        "title": SQL,
        "location": SQL,
        "bio": SQL,
        "pronouns": SQL,
        "credentials": SQL,
    },
}


def sql_profile(c: Ctx) -> Req:
    url, html = linkedin_page(424242)
    capture = {"capture_id": str(uuid.uuid4()), "kind": "profile", "url": url, "html": html, **SQL_FIELDS}
    return post(c, body(capture))


def check_sql_profile(c: Ctx, response: Response) -> None:
    contact_id = response.json()["contact_id"]
    conn = connect_ro(c.server.db_path)
    try:
        conn.row_factory = sqlite3.Row
        contact = dict(conn.execute("SELECT * FROM contacts WHERE id = ?", [contact_id]).fetchone())
        for key, value in SQL_FIELDS["edits"].items():
            assert contact[key] == value, key
        assert contact["how_met"] == SQL
        notes = [r[0] for r in conn.execute("SELECT body FROM notes WHERE contact_id = ?", [contact_id])]
        tags = sorted(
            r[0]
            for r in conn.execute(
                "SELECT t.name FROM tags t JOIN contact_tags ct ON ct.tag_id = t.id WHERE ct.contact_id = ?",
                [contact_id],
            )
        )
        row = _stored_capture(c, response)
        fts = conn.execute("SELECT count(*) FROM contacts_fts WHERE contacts_fts MATCH ?", ['"DROP TABLE"']).fetchone()[
            0
        ]
    finally:
        conn.close()
    assert notes == [SQL]
    assert tags == sorted(SQL_FIELDS["tags"])
    assert row["title"] == SQL
    assert fts >= 1


def check_stored_text(table: str, column: str, value: str):
    def check(c: Ctx, response: Response) -> None:
        conn = connect_ro(c.server.db_path)
        try:
            rows = [
                r[0]
                for r in conn.execute(
                    f"SELECT {column} FROM {table} WHERE capture_id = ?", [response.json()["capture_id"]]
                )
            ]
        finally:
            conn.close()
        assert rows == [value]

    return check


def no_cors(c: Ctx, response: Response) -> None:
    assert not any(k.startswith("access-control-") for k in response.headers), response.headers


# ---- the table ----------------------------------------------------------------------------------


def ten_mb_cases() -> list[Case]:
    s = "A" * TEN_MB
    fields = [
        ("capture_id", "VALIDATION_ERROR"),
        ("kind", "UNKNOWN_KIND"),
        ("url", "VALIDATION_ERROR"),
        ("title", "VALIDATION_ERROR"),
        ("captured_at", "VALIDATION_ERROR"),
        ("note", "VALIDATION_ERROR"),
        ("how_met", "VALIDATION_ERROR"),
        ("circle", "VALIDATION_ERROR"),
        ("tags.0", "VALIDATION_ERROR"),
        ("edits.name", "VALIDATION_ERROR"),
        ("edits.bio", "VALIDATION_ERROR"),
        ("edits.avatar_url", "VALIDATION_ERROR"),
    ]
    out = [
        Case(
            f"10mb_profile_{f.replace('.', '_')}",
            422,
            code,
            (lambda f: lambda c: post(c, body(replace_field(profile_capture(7), f, s))))(f),
        )
        for f, code in fields
    ]
    out += [
        Case("10mb_message_text", 422, "VALIDATION_ERROR", lambda c: post(c, body(message(text=s)))),
        Case("10mb_message_sender", 422, "VALIDATION_ERROR", lambda c: post(c, body(message(sender=s)))),
        Case("10mb_message_sent_at", 422, "VALIDATION_ERROR", lambda c: post(c, body(message(sent_at=s)))),
        Case("10mb_note_text", 422, "VALIDATION_ERROR", lambda c: post(c, body(note(contact_id=c.contact_id, text=s)))),
        Case("10mb_interaction_summary", 422, "VALIDATION_ERROR", lambda c: post(c, body(interaction(c, summary=s)))),
        Case(
            "10mb_interaction_kind",
            422,
            "VALIDATION_ERROR",
            lambda c: post(c, body(interaction(c, interaction_kind=s))),
        ),
        Case(
            "10mb_interaction_happened_at",
            422,
            "VALIDATION_ERROR",
            lambda c: post(c, body(interaction(c, happened_at=s))),
        ),
        Case(
            "10mb_pair_code",
            422,
            "VALIDATION_ERROR",
            lambda c: Req(path="/v1/pair", body=body({"code": s}), headers=api_headers(None)),
        ),
        Case(
            "10mb_pair_name",
            422,
            "VALIDATION_ERROR",
            lambda c: Req(path="/v1/pair", body=body({"code": "AAA-AAA", "name": s}), headers=api_headers(None)),
        ),
        Case(
            "10mb_preview_url",
            422,
            "VALIDATION_ERROR",
            lambda c: Req(path="/v1/preview", body=body({"url": s, "html": "<p>"}), headers=api_headers(c.token)),
        ),
        Case(
            "10mb_header_value",
            400,
            None,
            lambda c: Req(method="GET", path="/v1/ping", headers={"X-Junk": "A" * (1 << 20)}),
        ),
        # The page itself may be big: a 10 MB html field is a page, stored with its raw HTML.
        Case(
            "10mb_profile_html_is_a_page",
            201,
            None,
            lambda c: post(
                c,
                body(
                    {
                        "capture_id": str(uuid.uuid4()),
                        "kind": "profile",
                        "url": "https://example.com/ten-mb",
                        "html": big("ten_mb_html"),
                    }
                ),
            ),
            writes={"captures": 1},
            check=raw_kept(lambda: big("ten_mb_html")),
            max_seconds=EXTRACT_TIMEOUT_S + 40,
        ),
        Case(
            "10mb_preview_html_writes_nothing",
            200,
            None,
            lambda c: Req(
                path="/v1/preview",
                body=body({"url": "https://example.com/p", "html": big("ten_mb_html")}),
                headers=api_headers(c.token),
            ),
            max_seconds=EXTRACT_TIMEOUT_S + 40,
        ),
    ]
    return out


FORM = {"Content-Type": "application/x-www-form-urlencoded"}
HCARD_JS_PHOTO = (
    '<html><body><div class="h-card"><img class="u-photo" src="javascript:alert(1)">'
    '<a class="p-name u-url" href="https://eve.example/">Eve Hostile-Photo</a></div></body></html>'
)


def ds(
    path: str, *, method: str = "GET", host: str | None = None, headers: dict | None = None, data: bytes | None = None
) -> Callable[[Ctx], Req]:
    """A request to Datasette; `{cid}` in the path is the known contact, `{port}` Datasette's port."""

    def build(c: Ctx) -> Req:
        fill = {"cid": c.contact_id, "port": c.server.datasette_port, "api": c.server.port}
        return Req(
            method=method,
            path=path.format(**fill),
            body=data,
            datasette=True,
            host=host.format(**fill) if host else None,
            headers={k: v.format(**fill) for k, v in (headers or {}).items()},
        )

    return build


def check_no_avatar(c: Ctx, response: Response) -> None:
    conn = connect_ro(c.server.db_path)
    try:
        avatar = conn.execute(
            "SELECT avatar_url FROM contacts WHERE id = ?", [response.json()["contact_id"]]
        ).fetchone()
    finally:
        conn.close()
    assert avatar == (None,)


def trust_boundary_cases() -> list[Case]:
    """Datasette behind the companion's gate; secrets out of its reach; the small fixes."""
    evil = "evil.example:{port}"
    note_form = b"action=note&body=planted&csrftoken=x"
    return [
        Case("ds_host_foreign_contact_page", 403, "HOST_FORBIDDEN", ds("/-/kith/contacts/{cid}", host=evil)),
        Case("ds_host_foreign_json_twin", 403, "HOST_FORBIDDEN", ds("/-/kith/contacts/{cid}.json", host=evil)),
        Case("ds_host_foreign_search", 403, "HOST_FORBIDDEN", ds("/-/kith/search.json?q=stress", host=evil)),
        Case("ds_host_foreign_table", 403, "HOST_FORBIDDEN", ds("/kith/contacts.json", host=evil)),
        Case("ds_host_foreign_sql", 403, "HOST_FORBIDDEN", ds("/kith.json?sql=select+*+from+notes", host=evil)),
        Case("ds_host_foreign_databases_json", 403, "HOST_FORBIDDEN", ds("/-/databases.json", host=evil)),
        Case(
            "ds_host_foreign_form_post",
            403,
            "HOST_FORBIDDEN",
            ds(
                "/-/kith/contacts/{cid}",
                method="POST",
                host=evil,
                data=note_form,
                headers={**FORM, "Cookie": "ds_csrftoken=x"},
            ),
        ),
        Case("ds_host_companion_port", 403, "HOST_FORBIDDEN", ds("/kith/notes.json", host="127.0.0.1:{api}")),
        Case("ds_host_without_port", 403, "HOST_FORBIDDEN", ds("/kith/notes.json", host="localhost")),
        Case(
            "ds_host_suffix_trick", 403, "HOST_FORBIDDEN", ds("/kith/notes.json", host="127.0.0.1.evil.example:{port}")
        ),
        Case(
            "ds_origin_foreign_form_post",
            403,
            "ORIGIN_FORBIDDEN",
            ds(
                "/-/kith/contacts/{cid}",
                method="POST",
                data=note_form,
                headers={**FORM, "Origin": "http://evil.example:{port}", "Cookie": "ds_csrftoken=x"},
            ),
        ),
        Case(
            "ds_origin_null_form_post",
            403,
            "ORIGIN_FORBIDDEN",
            ds("/-/kith/contacts/{cid}", method="POST", data=note_form, headers={**FORM, "Origin": "null"}),
        ),
        Case(
            "ds_sec_fetch_cross_site_post",
            403,
            "CROSS_SITE_FORBIDDEN",
            ds(
                "/-/kith/contacts/{cid}",
                method="POST",
                data=note_form,
                headers={**FORM, "Sec-Fetch-Site": "cross-site", "Cookie": "ds_csrftoken=x"},
            ),
        ),
        Case(
            "ds_sec_fetch_same_site_other_port_post",
            403,
            "CROSS_SITE_FORBIDDEN",
            ds(
                "/-/kith/contacts/{cid}", method="POST", data=note_form, headers={**FORM, "Sec-Fetch-Site": "same-site"}
            ),
        ),
        # An Authorization header never stands in for the form's CSRF token.
        Case(
            "ds_bearer_header_instead_of_csrf_token",
            403,
            None,
            ds(
                "/-/kith/contacts/{cid}",
                method="POST",
                data=b"action=note&body=planted",
                headers={**FORM, "Authorization": "Bearer anything", "Cookie": "ds_csrftoken=x"},
            ),
        ),
        # Secrets are not in the served database at all.
        Case("ds_auth_table_tokens", 404, None, ds("/kith/tokens.json")),
        Case("ds_auth_table_pairing_codes", 404, None, ds("/kith/pairing_codes.json")),
        Case("ds_auth_table_paired_origins", 404, None, ds("/kith/paired_origins.json")),
        Case("ds_sql_select_tokens", 400, None, ds("/kith.json?sql=select+*+from+tokens")),
        Case("ds_sql_select_pairing_codes", 400, None, ds("/kith.json?sql=select+*+from+pairing_codes")),
        # Control characters in search are words apart, not a 500.
        Case("ds_search_nul", 200, None, ds("/-/kith/search.json?q=stress%00person")),
        Case("ds_search_control_chars", 200, None, ds("/-/kith/search.json?q=%01%1f%7f%22")),
        Case("ds_search_nul_html", 200, None, ds("/-/kith/search?q=%00")),
        # Unpair: only for a live token, only under the pinned Host.
        Case(
            "unpair_without_token",
            401,
            "UNAUTHORIZED",
            lambda c: Req(path="/v1/unpair", body=b"{}", headers=api_headers(None)),
        ),
        Case(
            "unpair_foreign_host",
            403,
            "HOST_FORBIDDEN",
            lambda c: Req(
                path="/v1/unpair", body=b"{}", headers=api_headers(c.token), host=f"evil.example:{c.server.port}"
            ),
        ),
        Case(
            "unpair_form_post",
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            lambda c: Req(
                path="/v1/unpair",
                body=b"a=b",
                headers={**api_headers(c.token), "Content-Type": "application/x-www-form-urlencoded"},
            ),
        ),
        # A page's javascript: photo is stored as no photo at all.
        Case(
            "extracted_javascript_photo_not_stored",
            201,
            None,
            lambda c: post(
                c,
                body(
                    {
                        "capture_id": str(uuid.uuid4()),
                        "kind": "profile",
                        "url": "https://eve.example/",
                        "html": HCARD_JS_PHOTO,
                    }
                ),
            ),
            writes={"captures": 1, "contacts": 1},
            check=check_no_avatar,
        ),
    ]


def nul_cases() -> list[Case]:
    return [
        Case(
            f"nul_in_{f.replace('.', '_')}",
            422,
            "VALIDATION_ERROR",
            (lambda f: lambda c: post(c, body(replace_field(profile_capture(7), f, "a\x00b"))))(f),
        )
        for f in ("title", "html", "note", "how_met", "tags.0", "edits.name")
    ] + [
        Case(
            "nul_raw_byte_in_json",
            400,
            "INVALID_JSON",
            lambda c: post(c, cap(c).replace(b'"title": "', b'"title": "\x00', 1)),
        ),
        Case(
            "nul_in_note_text",
            422,
            "VALIDATION_ERROR",
            lambda c: post(c, body(note(contact_id=c.contact_id, text="\x00"))),
        ),
    ]


CASES: list[Case] = (
    [
        # -- Host (checked first: DNS rebinding) --
        Case(
            "host_foreign",
            403,
            "HOST_FORBIDDEN",
            lambda c: Req(body=cap(c), headers=api_headers(c.token), host=f"evil.example:{c.server.port}"),
        ),
        Case(
            "host_wrong_port",
            403,
            "HOST_FORBIDDEN",
            lambda c: Req(body=cap(c), headers=api_headers(c.token), host="127.0.0.1:1"),
        ),
        Case(
            "host_without_port",
            403,
            "HOST_FORBIDDEN",
            lambda c: Req(body=cap(c), headers=api_headers(c.token), host="127.0.0.1"),
        ),
        Case(
            "host_trailing_dot",
            403,
            "HOST_FORBIDDEN",
            lambda c: Req(body=cap(c), headers=api_headers(c.token), host=f"localhost.:{c.server.port}"),
        ),
        Case(
            "host_userinfo_trick",
            403,
            "HOST_FORBIDDEN",
            lambda c: Req(body=cap(c), headers=api_headers(c.token), host=f"evil.example@127.0.0.1:{c.server.port}"),
        ),
        Case(
            "host_rebinding_with_paired_origin",
            403,
            "HOST_FORBIDDEN",
            lambda c: Req(
                body=cap(c),
                headers=api_headers(c.paired_token, Origin=c.paired_origin),
                host=f"attacker.example:{c.server.port}",
            ),
        ),
        Case("host_missing_http10", 403, "HOST_FORBIDDEN", lambda c: Req(raw=b"GET /v1/ping HTTP/1.0\r\n\r\n")),
        Case(
            "host_missing_http11", 400, None, lambda c: Req(raw=b"GET /v1/ping HTTP/1.1\r\nConnection: close\r\n\r\n")
        ),
        Case(
            "host_ping_foreign",
            403,
            "HOST_FORBIDDEN",
            lambda c: Req(method="GET", path="/v1/ping", host=f"evil.example:{c.server.port}"),
        ),
        # -- Origin --
        Case(
            "origin_foreign_web",
            403,
            "ORIGIN_FORBIDDEN",
            lambda c: post(c, cap(c), Origin="https://evil.example"),
            check=no_cors,
        ),
        Case("origin_null", 403, "ORIGIN_FORBIDDEN", lambda c: post(c, cap(c), Origin="null")),
        Case(
            "origin_localhost_web_page",
            403,
            "ORIGIN_FORBIDDEN",
            lambda c: post(c, cap(c), Origin=f"http://127.0.0.1:{c.server.port}"),
        ),
        Case("origin_file", 403, "ORIGIN_FORBIDDEN", lambda c: post(c, cap(c), Origin="file://")),
        Case(
            "origin_unpaired_extension",
            403,
            "ORIGIN_FORBIDDEN",
            lambda c: post(c, cap(c), Origin="chrome-extension://abcdefghijklmnopabcdefghijklmnop"),
        ),
        Case(
            "origin_paired_lookalike",
            403,
            "ORIGIN_FORBIDDEN",
            lambda c: post(c, cap(c), Origin=c.paired_origin + ".evil.example"),
        ),
        Case(
            "origin_foreign_on_ping",
            403,
            "ORIGIN_FORBIDDEN",
            lambda c: Req(method="GET", path="/v1/ping", headers={"Origin": "https://evil.example"}),
        ),
        Case(
            "origin_foreign_on_pair",
            403,
            "ORIGIN_FORBIDDEN",
            lambda c: Req(
                path="/v1/pair",
                body=body({"code": "AAA-AAA"}),
                headers=api_headers(None, Origin="https://evil.example"),
            ),
        ),
        Case(
            "origin_preflight_options",
            403,
            "ORIGIN_FORBIDDEN",
            lambda c: Req(
                method="OPTIONS",
                headers={
                    "Origin": "https://evil.example",
                    "Access-Control-Request-Method": "POST",
                    "Access-Control-Request-Headers": "authorization,content-type",
                },
            ),
            check=no_cors,
        ),
        # -- API version --
        Case("version_major_2", 412, "VERSION_MISMATCH", lambda c: post(c, cap(c), **{"X-Kith-API-Version": "2"})),
        Case("version_garbage", 412, "VERSION_MISMATCH", lambda c: post(c, cap(c), **{"X-Kith-API-Version": "v1"})),
        # -- token --
        Case("token_missing", 401, "UNAUTHORIZED", lambda c: Req(body=cap(c), headers=api_headers(None))),
        Case("token_wrong", 401, "UNAUTHORIZED", lambda c: Req(body=cap(c), headers=api_headers("kith_nope"))),
        Case("token_revoked", 401, "UNAUTHORIZED", lambda c: Req(body=cap(c), headers=api_headers(c.revoked_token))),
        Case(
            "token_basic_scheme",
            401,
            "UNAUTHORIZED",
            lambda c: Req(
                body=cap(c),
                headers=api_headers(
                    None, Authorization="Basic " + base64.b64encode(f"kith:{c.token}".encode()).decode()
                ),
            ),
        ),
        Case(
            "token_bearer_empty",
            401,
            "UNAUTHORIZED",
            lambda c: Req(body=cap(c), headers=api_headers(None, Authorization="Bearer ")),
        ),
        Case(
            "token_in_query_string",
            401,
            "UNAUTHORIZED",
            lambda c: Req(path=f"/v1/captures?token={c.token}", body=cap(c), headers=api_headers(None)),
        ),
        Case(
            "token_in_cookie",
            401,
            "UNAUTHORIZED",
            lambda c: Req(body=cap(c), headers=api_headers(None, Cookie=f"token={c.token}")),
        ),
        Case(
            "token_paired_origin_without_token",
            401,
            "UNAUTHORIZED",
            lambda c: Req(body=cap(c), headers=api_headers(None, Origin=c.paired_origin)),
        ),
        Case(
            "token_missing_on_lookup",
            401,
            "UNAUTHORIZED",
            lambda c: Req(method="GET", path=f"/v1/contacts/lookup?url={c.contact_url}"),
        ),
        Case(
            "token_missing_on_preview",
            401,
            "UNAUTHORIZED",
            lambda c: Req(
                path="/v1/preview", body=body({"url": "https://example.com/", "html": "<p>"}), headers=api_headers(None)
            ),
        ),
        Case(
            "pair_wrong_code",
            403,
            "PAIRING_FAILED",
            lambda c: Req(
                path="/v1/pair",
                body=body({"code": "ZZZ-ZZZ", "name": "x"}),
                headers=api_headers(None, Origin=EXT_ORIGIN),
            ),
        ),
        # -- content type --
        Case(
            "ctype_text_plain",
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            lambda c: post(c, cap(c), **{"Content-Type": "text/plain"}),
        ),
        Case(
            "ctype_form",
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            lambda c: post(
                c, b"kind=profile&url=https://x.example/", **{"Content-Type": "application/x-www-form-urlencoded"}
            ),
        ),
        Case(
            "ctype_multipart",
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            lambda c: post(
                c,
                b'--b\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--b--\r\n',
                **{"Content-Type": "multipart/form-data; boundary=b"},
            ),
        ),
        Case(
            "ctype_missing",
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            lambda c: Req(body=cap(c), headers={"Authorization": f"Bearer {c.token}"}),
        ),
        Case(
            "ctype_text_html", 415, "UNSUPPORTED_MEDIA_TYPE", lambda c: post(c, cap(c), **{"Content-Type": "text/html"})
        ),
        Case(
            "ctype_json_lookalike",
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            lambda c: post(c, cap(c), **{"Content-Type": "application/jsonx"}),
        ),
        # -- body size and transport --
        Case(
            "size_over_limit",
            413,
            "PAYLOAD_TOO_LARGE",
            lambda c: post(c, body(profile_capture(7, html="x" * (MAX_BODY + 16)))),
            max_seconds=60,
        ),
        Case(
            "size_declared_over_limit_no_body",
            413,
            "PAYLOAD_TOO_LARGE",
            lambda c: Req(raw=raw_post(c, b"", content_length=MAX_BODY + 1)),
        ),
        Case(
            "size_gzip_bomb",
            413,
            "PAYLOAD_TOO_LARGE",
            lambda c: Req(raw=raw_post(c, gzip.compress(b" " * (MAX_BODY * 4), 9), "Content-Encoding: gzip\r\n")),
            max_seconds=60,
        ),
        Case(
            "size_chunked_over_limit",
            413,
            "PAYLOAD_TOO_LARGE",
            lambda c: Req(
                raw=(
                    f"POST /v1/captures HTTP/1.1\r\nHost: 127.0.0.1:{c.server.port}\r\n"
                    f"Authorization: Bearer {c.token}\r\nContent-Type: application/json\r\n"
                    f"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                ).encode()
                + b"".join(b"%x\r\n%s\r\n" % (1 << 20, b" " * (1 << 20)) for _ in range(MAX_BODY // (1 << 20) + 2))
                + b"0\r\n\r\n"
            ),
            max_seconds=60,
        ),
        Case(
            "smuggling_cl_and_te", 400, None, lambda c: Req(raw=raw_post(c, cap(c), "Transfer-Encoding: chunked\r\n"))
        ),
        Case(
            "truncated_body_client_hangs_up",
            0,
            None,
            lambda c: Req(raw=raw_post(c, cap(c)[:500], content_length=len(cap(c))), close_after=True),
        ),
        # -- JSON --
        Case("json_empty_body", 400, "INVALID_JSON", lambda c: post(c, b"")),
        Case("json_truncated", 400, "INVALID_JSON", lambda c: post(c, cap(c)[: len(cap(c)) // 2])),
        Case("json_nested_100k_arrays", 400, "INVALID_JSON", lambda c: post(c, b"[" * 100_000 + b"]" * 100_000)),
        Case(
            "json_nested_1m_in_a_field",
            400,
            "INVALID_JSON",
            lambda c: post(c, b'{"kind": "profile", "edits": ' + b'{"a": ' * 1_000_000 + b"1" + b"}" * 1_000_001),
        ),
        Case("json_top_level_array", 400, "INVALID_JSON", lambda c: post(c, b"[1, 2, 3]")),
        Case("json_top_level_string", 400, "INVALID_JSON", lambda c: post(c, b'"profile"')),
        Case(
            "json_invalid_utf8",
            400,
            "INVALID_JSON",
            lambda c: post(c, cap(c).replace(b'"title": "', b'"title": "\xff\xfe\xc3\x28', 1)),
        ),
        Case(
            "json_lone_surrogate",
            400,
            "INVALID_UNICODE",
            lambda c: post(c, cap(c).replace(b'"title": "', b'"title": "\\udc80', 1)),
        ),
        Case(
            "json_huge_integer",
            400,
            "INVALID_JSON",
            lambda c: post(c, body(note(text="x"))[:-1] + b', "contact_id": 1' + b"0" * 5000 + b"}"),
        ),
        Case(
            "json_nan_contact_id",
            422,
            "VALIDATION_ERROR",
            lambda c: post(c, body(note(text="x"))[:-1] + b', "contact_id": NaN}'),
        ),
        Case(
            "json_duplicate_kind_key",
            422,
            "UNKNOWN_KIND",
            lambda c: post(c, body(note(text="x"))[:-1] + b', "kind": "bookmark"}'),
        ),
        # -- field validation --
        Case(
            "field_missing_capture_id",
            422,
            "VALIDATION_ERROR",
            lambda c: post(c, body({k: v for k, v in profile_capture(7).items() if k != "capture_id"})),
        ),
        Case(
            "field_capture_id_sql",
            422,
            "VALIDATION_ERROR",
            lambda c: post(c, cap(c, capture_id="1'; DROP TABLE captures; --")),
        ),
        Case("field_unknown_kind", 422, "UNKNOWN_KIND", lambda c: post(c, cap(c, kind="bookmark"))),
        Case("field_tags_not_list", 422, "VALIDATION_ERROR", lambda c: post(c, cap(c, tags="pycon"))),
        Case(
            "field_too_many_tags", 422, "VALIDATION_ERROR", lambda c: post(c, cap(c, tags=[f"t{i}" for i in range(51)]))
        ),
        Case("field_edits_is_me", 422, "VALIDATION_ERROR", lambda c: post(c, cap(c, edits={"is_me": "1"}))),
        Case("field_edits_id", 422, "VALIDATION_ERROR", lambda c: post(c, cap(c, edits={"id": "1"}))),
        Case("field_circle_sql", 422, "VALIDATION_ERROR", lambda c: post(c, cap(c, circle="both' OR '1'='1"))),
        Case(
            "field_contact_id_negative", 422, "VALIDATION_ERROR", lambda c: post(c, body(note(contact_id=-1, text="x")))
        ),
        Case(
            "field_contact_id_string",
            422,
            "VALIDATION_ERROR",
            lambda c: post(c, body(note(contact_id="1 OR 1=1", text="x"))),
        ),
        Case(
            "interaction_unknown_contact",
            422,
            "UNKNOWN_CONTACT",
            lambda c: post(c, body({"capture_id": str(uuid.uuid4()), "kind": "interaction", "contact_id": 2**52})),
        ),
        Case(
            "capture_id_reused_for_other_content",
            409,
            "CAPTURE_CONFLICT",
            lambda c: post(c, body(dict(c.known_capture, note="changed"))),
        ),
        # -- URLs --
        Case("url_javascript", 422, "INVALID_URL", lambda c: post(c, cap(c, url="javascript:alert(document.cookie)"))),
        Case("url_javascript_disguised", 422, "INVALID_URL", lambda c: post(c, cap(c, url="  JaVaScRiPt:alert(1)"))),
        Case("url_file", 422, "INVALID_URL", lambda c: post(c, cap(c, url="file:///etc/passwd"))),
        Case("url_data", 422, "INVALID_URL", lambda c: post(c, cap(c, url="data:text/html,<script>alert(1)</script>"))),
        Case("url_http_without_host", 422, "INVALID_URL", lambda c: post(c, cap(c, url="http:///in/x"))),
        # A bracket urlsplit cannot parse ("Invalid IPv6 URL"): a bad URL, not a server error (found by fuzzing).
        Case("url_malformed_ipv6", 422, "INVALID_URL", lambda c: post(c, cap(c, url="http://[::1"))),
        Case(
            "url_malformed_ipv6_on_lookup",
            422,
            "INVALID_URL",
            lambda c: Req(
                method="GET", path="/v1/contacts/lookup?url=http%3A%2F%2Fa%5Db%2F", headers=api_headers(c.token)
            ),
        ),
        Case(
            "url_malformed_ipv6_on_preview",
            422,
            "INVALID_URL",
            lambda c: Req(
                path="/v1/preview", body=body({"url": "http://[::1", "html": "<p>"}), headers=api_headers(c.token)
            ),
        ),
        Case(
            "url_port_out_of_range",
            422,
            "INVALID_URL",
            lambda c: post(c, cap(c, url="https://www.linkedin.com:99999/in/x/")),
        ),
        Case(
            "url_avatar_javascript",
            422,
            "INVALID_URL",
            lambda c: post(c, cap(c, edits={"avatar_url": "javascript:alert(1)"})),
        ),
        Case("url_note_file", 422, "INVALID_URL", lambda c: post(c, body(note(url="file:///etc/passwd")))),
        Case("url_message_data", 422, "INVALID_URL", lambda c: post(c, body(message(url="data:,hi")))),
        Case(
            "url_lookup_javascript",
            422,
            "INVALID_URL",
            lambda c: Req(
                method="GET", path="/v1/contacts/lookup?url=javascript:alert(1)", headers=api_headers(c.token)
            ),
        ),
        Case(
            "url_preview_file",
            422,
            "INVALID_URL",
            lambda c: Req(
                path="/v1/preview",
                body=body({"url": "file:///etc/passwd", "html": "<p>"}),
                headers=api_headers(c.token),
            ),
        ),
        # -- routes and methods --
        Case(
            "route_unknown",
            404,
            "NOT_FOUND",
            lambda c: Req(method="GET", path="/v1/../../etc/passwd", headers=api_headers(c.token)),
        ),
        Case(
            "method_get_captures", 405, "METHOD_NOT_ALLOWED", lambda c: Req(method="GET", headers=api_headers(c.token))
        ),
        Case(
            "method_delete_captures",
            405,
            "METHOD_NOT_ALLOWED",
            lambda c: Req(method="DELETE", headers=api_headers(c.token)),
        ),
        # -- big and pathological HTML: 201, the raw capture kept, in bounded time --
        big_case("html_100k_nested_elements", "nested", "https://example.com/nested"),
        big_case("html_15mb_page", "15mb", "https://www.linkedin.com/in/stress-person-900000/"),
        big_case("html_attribute_soup", "soup", "https://github.com/attribute-soup"),
        big_case(
            "html_300k_attributes_on_one_element", "soup_one_element", "https://github.com/soup-one", full_only=True
        ),
        # -- SQL-looking text: plain data, stored verbatim, tables intact --
        Case(
            "sql_in_every_profile_field",
            201,
            None,
            sql_profile,
            writes={"captures": 1, "contacts": 1, "notes": 1},
            check=check_sql_profile,
        ),
        Case(
            "sql_in_note_text",
            201,
            None,
            lambda c: post(c, body(note(contact_id=c.contact_id, text=SQL))),
            writes={"captures": 1, "notes": 1},
            check=check_stored_text("notes", "body", SQL),
        ),
        Case(
            "sql_in_message_fields",
            201,
            None,
            lambda c: post(c, body(message(text=SQL, sender=SQL, contact_id=c.contact_id))),
            writes={"captures": 1, "messages": 1},
            check=check_stored_text("messages", "body", SQL),
        ),
        Case(
            "sql_in_interaction_fields",
            201,
            None,
            lambda c: post(c, body(interaction(c, interaction_kind=SQL[:100], summary=SQL))),
            writes={"captures": 1, "interactions": 1},
            check=check_stored_text("interactions", "summary", SQL),
        ),
        # -- blank optional text: treated as absent, never a 5xx (found by the fuzz suite) --
        Case(
            "blank_note_on_profile",
            201,
            None,
            lambda c: post(c, body(profile_capture(8, note="  \n "))),
            writes={"captures": 1, "notes": 0},
        ),
        Case(
            "blank_summary_on_interaction",
            201,
            None,
            lambda c: post(c, body(interaction(c, summary="   "))),
            writes={"captures": 1, "interactions": 1},
        ),
        Case(
            "sql_in_lookup_url",
            200,
            None,
            lambda c: Req(
                method="GET",
                path="/v1/contacts/lookup?url=https://x.example/%27%3B%20DROP%20TABLE%20contacts%3B--",
                headers=api_headers(c.token),
            ),
        ),
    ]
    + ten_mb_cases()
    + nul_cases()
    + trust_boundary_cases()
)

ACTIVE = [case for case in CASES if STRESS or not case.full_only]


@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bad-input")
    db_path = tmp / "kith.db"
    token = new_token(db_path, "bad-input")
    revoked_out = run_kith("token", "new", "--name", "to-revoke", "--db", str(db_path)).stdout.strip().splitlines()
    revoked_id = revoked_out[0].split()[1]
    run_kith("token", "revoke", revoked_id, "--db", str(db_path))
    server = KithServer(db_path, log_path=tmp / "serve.log").start()
    try:
        code = run_kith("pair", "--db", str(db_path)).stdout.strip().splitlines()[-1]
        paired = http_request(
            "POST",
            server.port,
            "/v1/pair",
            body({"code": code, "name": "Chromium"}),
            api_headers(None, Origin=EXT_ORIGIN),
        )
        assert paired.status == 201, paired.body
        known = profile_capture(1)
        saved = http_request("POST", server.port, "/v1/captures", body(known), api_headers(token))
        assert saved.status == 201, saved.body
        yield Ctx(
            server,
            token,
            revoked_out[-1],
            EXT_ORIGIN,
            paired.json()["token"],
            saved.json()["contact_id"],
            known["url"],
            known,
        )
    finally:
        server.stop()


def send(c: Ctx, req: Req) -> Response:
    if req.raw is not None:
        return raw_request(c.server.port, req.raw, timeout=req.timeout, close_after=req.close_after)
    port = c.server.datasette_port if req.datasette else c.server.port
    return http_request(req.method, port, req.path, req.body, req.headers, host=req.host, timeout=req.timeout)


TIMINGS: dict[str, float] = {}


@pytest.mark.parametrize("case", ACTIVE, ids=[case.name for case in ACTIVE])
def test_hostile_request(ctx, case: Case):
    req = case.build(ctx)
    before = row_counts(ctx.server.db_path)
    t0 = time.monotonic()
    response = send(ctx, req)
    elapsed = time.monotonic() - t0
    TIMINGS[case.name] = elapsed
    if req.close_after:
        time.sleep(0.5)  # let the server notice the hang-up
    assert response.status == case.status, (response.status, response.body[:400])
    if case.code is not None:
        assert response.headers.get("content-type", "").startswith("application/json"), response.headers
        error = response.json()["error"]
        assert error["code"] == case.code, error
        assert error["message"]
    no_cors(ctx, response)
    assert elapsed < case.max_seconds, f"took {elapsed:.1f}s"
    assert ctx.server.alive() and ctx.server.ping(), ctx.server.log_tail()

    after = row_counts(ctx.server.db_path)
    if case.writes is None:
        assert after == before, {t: (before.get(t), after.get(t)) for t in after if after.get(t) != before.get(t)}
    else:
        for table, delta in case.writes.items():
            assert after[table] - before[table] == delta, (table, before[table], after[table])
        assert all(after[t] >= before[t] for t in before), "a table lost rows"
        assert set(after) == set(before), "the set of tables changed"
    if case.check:
        case.check(ctx, response)


def test_server_is_healthy_after_the_table(ctx):
    server = ctx.server
    assert server.alive() and server.ping()
    response = http_request("POST", server.port, "/v1/captures", body(profile_capture(31337)), api_headers(ctx.token))
    assert response.status == 201, response.body[:300]
    lookup = http_request(
        "GET", server.port, f"/v1/contacts/lookup?url={ctx.contact_url}", headers=api_headers(ctx.token)
    )
    assert lookup.status == 200 and lookup.json()["found"] is True
    assert integrity_check(server.db_path) == "ok"
    conn = connect_ro(server.db_path)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        conn.close()
    assert {"contacts", "captures", "notes", "messages", "identities"} <= tables
    assert not tables & {"tokens", "pairing_codes", "paired_origins"}
    # Datasette search with FTS syntax and SQL-looking text answers, without a 5xx.
    for q in (SQL, '"unbalanced', "NEAR(a b", "*", "a OR", "contacts_fts MATCH 'x'"):
        from urllib.parse import quote

        conn = http_request("GET", server.datasette_port, "/-/kith/search?q=" + quote(q), host=None)
        assert conn.status < 500, (q, conn.status, conn.body[:300])
    log = server.log_text()
    assert "database is locked" not in log
    report(
        "bad_input",
        {"cases": len(ACTIVE), "slowest": sorted(((round(v, 2), k) for k, v in TIMINGS.items()), reverse=True)[:6]},
    )
