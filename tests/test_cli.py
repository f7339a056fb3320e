"""The `kith` command as a user runs it: real subprocesses, real ports, real files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request


from companion.store.db import open_db
from conftest import new_capture_id
from ports import free_port
from test_api import PROFILE_HTML

KITH = [sys.executable, "-m", "companion"]


def kith(*args, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(KITH + list(args), capture_output=True, text=True, timeout=120, **kwargs)


def http(method, url, body=None, headers=None, timeout=10):
    request = urllib.request.Request(
        url, method=method, data=json.dumps(body).encode() if body else None, headers=headers or {}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def wait_for(url, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.status
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(url)


def test_token_new_prints_token_last(db_path):
    result = kith("token", "new", "--name", "script", "--db", str(db_path))
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip().splitlines()[-1]
    assert token.startswith("kith_") and len(token) > 30
    listed = kith("token", "list", "--db", str(db_path)).stdout
    assert "script" in listed and token not in listed
    assert kith("token", "revoke", "1", "--db", str(db_path)).returncode == 0
    assert "revoked" in kith("token", "list", "--db", str(db_path)).stdout


def test_kith_db_environment_variable(tmp_path):
    target = tmp_path / "from-env.db"
    result = kith("pair", env={**os.environ, "KITH_DB": str(target)})
    assert result.returncode == 0 and target.exists()


def test_extract_prints_json_without_a_database(tmp_path):
    page = tmp_path / "jane.html"
    page.write_text(PROFILE_HTML)
    result = kith("extract", str(page), "--url", "https://www.linkedin.com/in/jane-doe/", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["profile"]["name"] == "Jane Doe"
    assert list(tmp_path.iterdir()) == [page]


def test_serve_runs_companion_and_datasette_and_stops_cleanly(db_path):
    port, dport = free_port(), free_port()
    server = subprocess.Popen(
        KITH + ["serve", "--db", str(db_path), "--port", str(port), "--datasette-port", str(dport)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/v1/ping")
        wait_for(f"http://127.0.0.1:{dport}/-/versions.json")
        # Pairing codes live in the database, so `kith pair` works beside the running server.
        code = kith("pair", "--db", str(db_path)).stdout.strip().splitlines()[-1]
        origin = "chrome-extension://abcdefabcdefabcdefabcdefabcdefab"
        status, paired = http(
            "POST",
            f"http://127.0.0.1:{port}/v1/pair",
            {"code": code, "name": "test"},
            {"Content-Type": "application/json", "Origin": origin},
        )
        assert status == 201, paired
        capture = {
            "capture_id": new_capture_id(),
            "kind": "profile",
            "html": PROFILE_HTML,
            "url": "https://www.linkedin.com/in/jane-doe/",
            "note": "hello from the CLI test",
        }
        status, body = http(
            "POST",
            f"http://127.0.0.1:{port}/v1/captures",
            capture,
            {
                "Content-Type": "application/json",
                "Authorization": f"Bearer {paired['token']}",
                "Origin": origin,
                "X-Kith-API-Version": "1",
            },
        )
        assert status == 201, body
        status, rows = http("GET", f"http://127.0.0.1:{dport}/{db_path.stem}/contacts.json?_shape=array")
        assert status == 200 and rows[0]["name"] == "Jane Doe"
        server.send_signal(signal.SIGINT)
        out, _ = server.communicate(timeout=30)
        assert server.returncode == 0, out
        assert f"http://127.0.0.1:{port}" in out and f"http://127.0.0.1:{dport}" in out and "kith pair" in out
        assert "Kith stopped." in out
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    # Nothing the server acknowledged is missing after it stopped.
    db = open_db(db_path)
    assert db["captures"].count == 1 and db["notes"].count == 1


def test_import_commands_start_without_the_server_stack(tmp_path):
    """`kith import` is timed as a command against `sqlite-utils insert`: asyncio (and the ssl it
    pulls in) is the server's, so loading the CLI and an importer must not import it."""
    probe = (
        "import sys, companion.cli, companion.importers.linkedin, companion.store.db;"
        "print(sorted(m for m in ('asyncio', 'ssl', 'aiohttp') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "[]"
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "Connections.csv").write_text(
        "First Name,Last Name,URL,Email Address,Company,Position,Connected On\n"
        "Ada,Lovelace,https://www.linkedin.com/in/ada,,Engines,Analyst,01 Jan 2020\n"
    )
    result = kith("import", "linkedin", "--db", str(tmp_path / "k.db"), str(folder / "Connections.csv"))
    assert result.returncode == 0, result.stderr
    assert "1 created" in result.stdout
