"""The bad-input table: each hostile or broken request gets its status and code, and writes no row."""

from __future__ import annotations

import json

import aiohttp
import pytest

from companion.store import auth
from companion.store.db import open_db
from conftest import new_capture_id
from test_api import profile_capture

COUNTED_TABLES = ("contacts", "captures", "identities", "notes", "messages", "interactions", "tags")


def row_counts(db_path) -> dict:
    db = open_db(db_path)
    try:
        return {t: db[t].count for t in COUNTED_TABLES}
    finally:
        db.close()


def _raw(capture: dict) -> bytes:
    return json.dumps(capture).encode()


def case_no_token(c):
    return {"headers": {"Content-Type": "application/json"}, "body": _raw(profile_capture())}


def case_wrong_token(c):
    return {"headers": c.headers(Authorization="Bearer kith_not-a-real-token"), "body": _raw(profile_capture())}


def case_revoked_token(c):
    store = auth.AuthStore(c.db_path)
    token_id, token = store.new_token("to revoke")
    store.revoke_token(token_id)
    store.close()
    return {"headers": c.headers(Authorization=f"Bearer {token}"), "body": _raw(profile_capture())}


def case_foreign_origin(c):
    return {"headers": c.headers(Origin="https://evil.example"), "body": _raw(profile_capture())}


def case_unpaired_extension_origin(c):
    return {
        "headers": c.headers(Origin="chrome-extension://abcdefghijklmnopabcdefghijklmnop"),
        "body": _raw(profile_capture()),
    }


def case_null_origin(c):
    return {"headers": c.headers(Origin="null"), "body": _raw(profile_capture())}


def case_foreign_host(c):
    return {"headers": c.headers(Host=f"evil.example:{c.port}"), "body": _raw(profile_capture())}


def case_rebinding_host_wrong_port(c):
    return {"headers": c.headers(Host="127.0.0.1:1"), "body": _raw(profile_capture())}


def case_text_plain(c):
    return {"headers": c.headers(**{"Content-Type": "text/plain"}), "body": _raw(profile_capture())}


def case_form_post(c):
    return {"headers": c.headers(**{"Content-Type": "application/x-www-form-urlencoded"}), "body": b"kind=profile"}


def case_malformed_json(c):
    return {"headers": c.headers(), "body": b'{"capture_id": "x", "kind": '}


def case_json_array(c):
    return {"headers": c.headers(), "body": b"[1, 2, 3]"}


def case_invalid_utf8(c):
    return {"headers": c.headers(), "body": b'{"kind": "profile", "title": "\xff\xfe"}'}


def case_missing_capture_id(c):
    capture = profile_capture()
    del capture["capture_id"]
    return {"headers": c.headers(), "body": _raw(capture)}


def case_missing_html(c):
    capture = profile_capture()
    del capture["html"]
    return {"headers": c.headers(), "body": _raw(capture)}


def case_wrong_type_tags(c):
    return {"headers": c.headers(), "body": _raw(profile_capture(tags="pycon"))}


def case_wrong_type_html(c):
    return {"headers": c.headers(), "body": _raw(profile_capture(html=12345))}


def case_bad_circle(c):
    return {"headers": c.headers(), "body": _raw(profile_capture(circle="enemies"))}


def case_unknown_kind(c):
    return {"headers": c.headers(), "body": _raw(profile_capture(kind="bookmark"))}


def case_javascript_url(c):
    return {"headers": c.headers(), "body": _raw(profile_capture(url="javascript:alert(1)"))}


def case_file_url(c):
    return {"headers": c.headers(), "body": _raw(profile_capture(url="file:///etc/passwd"))}


def case_not_a_uuid(c):
    return {"headers": c.headers(), "body": _raw(profile_capture(capture_id="1; DROP TABLE contacts"))}


def case_lone_surrogate(c):
    return {
        "headers": c.headers(),
        "body": b'{"capture_id": "%s", "kind": "note", "contact_id": 1, "text": "\\udc80"}' % new_capture_id().encode(),
    }


def case_version_mismatch(c):
    return {"headers": c.headers(**{"X-Kith-API-Version": "2"}), "body": _raw(profile_capture())}


def case_oversized_body(c):
    return {"headers": c.headers(), "body": _raw(profile_capture(html="x" * (33 * 1024 * 1024)))}


CASES = [
    (case_no_token, 401, "UNAUTHORIZED"),
    (case_wrong_token, 401, "UNAUTHORIZED"),
    (case_revoked_token, 401, "UNAUTHORIZED"),
    (case_foreign_origin, 403, "ORIGIN_FORBIDDEN"),
    (case_unpaired_extension_origin, 403, "ORIGIN_FORBIDDEN"),
    (case_null_origin, 403, "ORIGIN_FORBIDDEN"),
    (case_foreign_host, 403, "HOST_FORBIDDEN"),
    (case_rebinding_host_wrong_port, 403, "HOST_FORBIDDEN"),
    (case_text_plain, 415, "UNSUPPORTED_MEDIA_TYPE"),
    (case_form_post, 415, "UNSUPPORTED_MEDIA_TYPE"),
    (case_malformed_json, 400, "INVALID_JSON"),
    (case_json_array, 400, "INVALID_JSON"),
    (case_invalid_utf8, 400, "INVALID_JSON"),
    (case_missing_capture_id, 422, "VALIDATION_ERROR"),
    (case_missing_html, 422, "VALIDATION_ERROR"),
    (case_wrong_type_tags, 422, "VALIDATION_ERROR"),
    (case_wrong_type_html, 422, "VALIDATION_ERROR"),
    (case_bad_circle, 422, "VALIDATION_ERROR"),
    (case_unknown_kind, 422, "UNKNOWN_KIND"),
    (case_javascript_url, 422, "INVALID_URL"),
    (case_file_url, 422, "INVALID_URL"),
    (case_not_a_uuid, 422, "VALIDATION_ERROR"),
    (case_lone_surrogate, 400, "INVALID_UNICODE"),
    (case_version_mismatch, 412, "VERSION_MISMATCH"),
    (case_oversized_body, 413, "PAYLOAD_TOO_LARGE"),
]


@pytest.mark.parametrize("make_case, status, code", CASES, ids=[c[0].__name__[5:] for c in CASES])
async def test_bad_input_is_refused_and_writes_nothing(companion, make_case, status, code):
    case = make_case(companion)
    before = row_counts(companion.db_path)
    async with aiohttp.ClientSession(skip_auto_headers=["Content-Type"]) as session:
        async with session.post(
            f"{companion.base_url}/v1/captures", data=case["body"], headers=case["headers"]
        ) as response:
            assert response.status == status, await response.text()
            assert response.content_type == "application/json"
            body = await response.json()
            assert "Access-Control-Allow-Origin" not in response.headers
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    assert row_counts(companion.db_path) == before


async def test_replayed_capture_id_with_different_content_writes_nothing(companion):
    capture = profile_capture()
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{companion.base_url}/v1/captures", data=json.dumps(capture), headers=companion.headers()
        ) as response:
            assert response.status == 201
        before = row_counts(companion.db_path)
        changed = dict(capture, html=capture["html"].replace("Acme", "Globex"))
        async with session.post(
            f"{companion.base_url}/v1/captures", data=json.dumps(changed), headers=companion.headers()
        ) as response:
            assert response.status == 409
            assert (await response.json())["error"]["code"] == "CAPTURE_CONFLICT"
    assert row_counts(companion.db_path) == before


async def test_pairing_flow_and_origin_binding(companion):
    store = auth.AuthStore(companion.db_path)
    code = store.new_pairing_code()
    origin = "chrome-extension://kithkithkithkithkithkithkithkith"
    async with aiohttp.ClientSession() as session:
        url = f"{companion.base_url}/v1/pair"
        async with session.post(url, json={"code": "WRONG-1"}, headers={"Origin": origin}) as response:
            assert response.status == 403 and (await response.json())["error"]["code"] == "PAIRING_FAILED"
        async with session.post(url, json={"code": code}, headers={"Origin": "https://evil.example"}) as response:
            assert response.status == 403 and (await response.json())["error"]["code"] == "ORIGIN_FORBIDDEN"
        async with session.post(
            url, json={"code": code.lower(), "name": "Chromium"}, headers={"Origin": origin}
        ) as response:
            assert response.status == 201
            token = (await response.json())["token"]
        async with session.post(url, json={"code": code}, headers={"Origin": origin}) as response:
            assert response.status == 403  # one-time
        headers = {"Authorization": f"Bearer {token}", "Origin": origin, "X-Kith-API-Version": "1"}
        async with session.post(
            f"{companion.base_url}/v1/captures", json=profile_capture(), headers=headers
        ) as response:
            assert response.status == 201
    stored = [r["token_hmac"] for r in store.db["tokens"].rows]
    assert token not in stored and store.digest(token) in stored  # only keyed hashes are kept
    store.close()


async def test_pairing_codes_die_after_too_many_wrong_guesses(companion):
    store = auth.AuthStore(companion.db_path)
    code = store.new_pairing_code()
    store.close()
    async with aiohttp.ClientSession() as session:
        for _ in range(auth.MAX_PAIRING_ATTEMPTS):
            async with session.post(f"{companion.base_url}/v1/pair", json={"code": "AAA-AAA"}) as response:
                assert response.status == 403
        async with session.post(f"{companion.base_url}/v1/pair", json={"code": code}) as response:
            assert response.status == 403


async def test_unknown_route_and_method_are_json_errors(companion):
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{companion.base_url}/v1/nope", headers=companion.headers()) as response:
            assert response.status == 404 and (await response.json())["error"]["code"] == "NOT_FOUND"
        async with session.get(f"{companion.base_url}/v1/nope") as response:
            assert response.status == 401
        async with session.get(f"{companion.base_url}/v1/captures", headers=companion.headers()) as response:
            assert response.status == 405
            assert (await response.json())["error"]["code"] == "METHOD_NOT_ALLOWED"
