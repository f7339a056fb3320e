"""DNS rebinding against both servers of a real `kith serve`: a foreign Host reads and writes nothing.

Rebinding makes an attacker's page same-origin with a loopback server by pointing its own name at
127.0.0.1, so every request arrives with `Host: evil.example:PORT`. Two layers: raw HTTP requests
for every kind of Datasette and companion request, then a real headless Chromium whose local-network
checks are off and whose resolver maps the attacker's name to 127.0.0.1, running the attacker's
script in that origin. Each layer also runs the same requests with a loopback Host, which must work,
so the test fails if the servers merely broke.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import datasette
import pytest
from stress.conftest import KithServer, http_request

from companion.store import activity, contacts
from companion.store.db import open_db

from .conftest import CHROMIUM, CHROMIUM_ARGS, KITH, ROOT

EVIL = "evil.example"
# Arbitrary SQL moved to /db/-/query in Datasette 1.0.
SQL_BASE = "/kith.json" if datasette.__version__.startswith("0.") else "/kith/-/query.json"
SQL = SQL_BASE + "?sql=select+name+from+contacts&_shape=array"
READS = [
    "/-/kith/datasette",
    "/-/kith/today",
    "/-/kith/today.json",
    "/-/kith/people.json?q=ada",
    "/kith",
    "/kith.json",
    SQL,
    "/kith/contacts",
    "/kith/contacts.json",
    "/kith/notes.json",
    "/-/databases.json",
    "/-/kith/contacts/{cid}",
    "/-/kith/contacts/{cid}.json",
    "/-/kith/network",
    "/-/kith/network.json",
    "/-/kith/reconnect.json",
    "/-/kith/ledger.json",
    "/-/kith/search?q=secret",
    "/-/kith/search.json?q=secret",
    "/kith/contacts/{cid}.json",
]


def request(
    port: int, method: str, path: str, host: str, body: bytes | None = None, headers: dict | None = None
) -> tuple[int, bytes, dict]:
    """(status, body, headers) of one request with exactly this Host header."""
    response = http_request(method, port, path, body, headers, host=host, timeout=30)
    return response.status, response.body, response.headers


def counts(db_path: Path) -> dict:
    db = open_db(db_path)
    try:
        return {t: db[t].count for t in ("contacts", "notes", "interactions", "exchanges", "relationships", "captures")}
    finally:
        db.close()


@pytest.fixture
def served(tmp_path):
    db_path = tmp_path / "kith.db"
    db = open_db(db_path)
    cid = contacts.create_contact(db, {"name": "Ada Secret", "company": "Acme", "circle": "personal"})
    activity.add_note(db, cid, "secret: she is changing jobs in March")
    db.close()
    server = KithServer(db_path, log_path=tmp_path / "serve.log").start()
    try:
        token = (
            subprocess.run(
                [*KITH, "token", "new", "--name", "t", "--db", str(db_path)],
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        yield server, cid, token
    finally:
        server.stop()


def test_foreign_host_is_refused_on_both_ports_and_writes_nothing(served):
    server, cid, token = served
    before = counts(server.db_path)
    good_host, evil_host = f"127.0.0.1:{server.datasette_port}", f"{EVIL}:{server.datasette_port}"
    for path in (p.format(cid=cid) for p in READS):
        status, body, headers = request(server.datasette_port, "GET", path, good_host)
        assert status == 200, (path, status)  # the control: with a loopback Host it works
        assert headers["x-frame-options"] == "DENY" and "frame-ancestors 'none'" in headers["content-security-policy"]
        status, body, _ = request(server.datasette_port, "GET", path, evil_host)
        assert status == 403, (path, status)
        assert json.loads(body)["error"]["code"] == "HOST_FORBIDDEN"
        assert b"Ada" not in body and b"secret" not in body
    # `/` opens Today under kith serve (a redirect), and only for a loopback Host.
    status, _, headers = request(server.datasette_port, "GET", "/", good_host)
    assert status == 302 and headers["location"] == "/-/kith/today"
    status, body, _ = request(server.datasette_port, "GET", "/", evil_host)
    assert status == 403 and json.loads(body)["error"]["code"] == "HOST_FORBIDDEN"
    for host in (
        f"{EVIL}:{server.datasette_port}",
        f"localhost.{EVIL}:{server.datasette_port}",
        f"127.0.0.1:{server.port}",
        "127.0.0.1",
        f"127.0.0.1.{EVIL}:{server.datasette_port}",
        "",
    ):
        status, _, _ = request(server.datasette_port, "GET", SQL, host)
        assert status == 403, host
    # Form posts (the contact page's note form) and Datasette's own POST endpoints.
    form = b"action=note&body=planted&csrftoken=x"
    form_headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": "ds_csrftoken=x"}
    for path in (f"/-/kith/contacts/{cid}", "/kith/-/query", "/-/messages", "/kith/notes/-/insert"):
        status, body, _ = request(server.datasette_port, "POST", path, evil_host, form, form_headers)
        assert status == 403 and json.loads(body)["error"]["code"] == "HOST_FORBIDDEN", path
    # A write from another site's page, even with the right Host, is refused at the gate.
    status, body, _ = request(
        server.datasette_port,
        "POST",
        f"/-/kith/contacts/{cid}",
        good_host,
        form,
        {**form_headers, "Origin": f"http://{EVIL}:{server.datasette_port}"},
    )
    assert status == 403 and json.loads(body)["error"]["code"] == "ORIGIN_FORBIDDEN"
    status, body, _ = request(
        server.datasette_port,
        "POST",
        f"/-/kith/contacts/{cid}",
        good_host,
        form,
        {**form_headers, "Sec-Fetch-Site": "cross-site"},
    )
    assert status == 403 and json.loads(body)["error"]["code"] == "CROSS_SITE_FORBIDDEN"
    # The companion: every route, with a valid token, refused under a foreign Host.
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    note = json.dumps(
        {"capture_id": "0b7f3c1e-8a55-4d55-9c0e-2f0c8f1f4a11", "kind": "note", "contact_id": cid, "text": "planted"}
    ).encode()
    for method, path, body in (
        ("GET", "/v1/ping", None),
        ("GET", "/v1/contacts/lookup?url=https://a.example/", None),
        ("POST", "/v1/captures", note),
        ("POST", "/v1/preview", b"{}"),
        ("POST", "/v1/pair", b'{"code": "AAAAA-AAAAA"}'),
        ("POST", "/v1/unpair", b"{}"),
    ):
        status, answer, _ = request(server.port, method, path, f"{EVIL}:{server.port}", body, auth)
        assert status == 403 and json.loads(answer)["error"]["code"] == "HOST_FORBIDDEN", path
    assert counts(server.db_path) == before
    status, _, _ = request(server.port, "GET", "/v1/ping", f"localhost:{server.port}")
    assert status == 200


@pytest.mark.browser
def test_rebound_page_in_chromium_reads_and_writes_nothing(served, tmp_path):
    """The attacker's script runs in the origin http://evil.example:PORT, resolved to 127.0.0.1."""
    from playwright.sync_api import sync_playwright

    server, cid, token = served
    before = counts(server.db_path)
    attack = """async ([cid, sql]) => {
      const out = {};
      const grab = async (path) => { try { const r = await fetch(path); return [r.status, await r.text()]; }
                                      catch (e) { return [0, String(e)]; } };
      out.sql = await grab(sql);
      out.search = await grab('/-/kith/search.json?q=secret');
      out.contact = await grab(`/-/kith/contacts/${cid}.json`);
      out.databases = await grab('/-/databases.json');
      const page = await grab(`/-/kith/contacts/${cid}`);
      const token = (page[1].match(/name="csrftoken" value="([^"]+)"/) || [])[1] || '';
      const form = new URLSearchParams({action: 'note', body: 'planted by rebinding', csrftoken: token});
      try {
        const r = await fetch(`/-/kith/contacts/${cid}`, {method: 'POST', body: form, credentials: 'include'});
        out.post = [r.status, await r.text()];
      } catch (e) { out.post = [0, String(e)]; }
      return out;
    }"""
    args = [
        *CHROMIUM_ARGS,
        f"--host-resolver-rules=MAP {EVIL} 127.0.0.1",
        "--disable-features=LocalNetworkAccessChecks,PrivateNetworkAccessSendPreflights,"
        "PrivateNetworkAccessRespectPreflightResults,BlockInsecurePrivateNetworkRequests",
    ]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=args)
        try:
            page = browser.new_page()
            # Control: the same script in Kith's own origin reads the network (so the attack is real).
            page.goto(f"http://127.0.0.1:{server.datasette_port}/-/kith/reconnect")
            own = page.evaluate(attack, [cid, SQL])
            assert own["sql"][0] == 200 and "Ada Secret" in own["sql"][1]
            assert own["post"][0] == 200  # followed the redirect back to the contact page
            # The attack: the page is loaded from the rebound name, then runs the same script.
            response = page.goto(f"http://{EVIL}:{server.datasette_port}/")
            assert response.status == 403
            stolen = page.evaluate(attack, [cid, SQL])
            for key, (status, text) in stolen.items():
                assert status == 403, (key, status)
                assert "Ada" not in text and "secret:" not in text, key
            # And the companion, from its own rebound origin.
            response = page.goto(f"http://{EVIL}:{server.port}/v1/ping")
            assert response.status == 403
            answer = page.evaluate(
                """async ([token]) => {
              const r = await fetch('/v1/captures', {method: 'POST', headers: {'Content-Type': 'application/json',
                'Authorization': 'Bearer ' + token}, body: JSON.stringify({capture_id: '5d0c7a3e-9f1b-4c2e-8a47-1b2c3d4e5f60',
                kind: 'note', url: 'https://a.example/', text: 'planted'})});
              return [r.status, await r.text()];
            }""",
                [token],
            )
            assert answer[0] == 403 and "HOST_FORBIDDEN" in answer[1]
        finally:
            browser.close()
    after = counts(server.db_path)
    assert after["notes"] == before["notes"] + 1  # only the control's own-origin note
    assert {k: v for k, v in after.items() if k != "notes"} == {k: v for k, v in before.items() if k != "notes"}
    db = open_db(server.db_path)
    try:
        assert db.execute("SELECT count(*) FROM notes WHERE body = 'planted by rebinding'").fetchone()[0] == 1
    finally:
        db.close()
