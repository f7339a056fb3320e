"""Shared fixtures: real SQLite files, a real companion served in-process by pytest-aiohttp, tokens."""

from __future__ import annotations

import socket
import uuid
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from companion.server import init_app
from companion.store.auth import AuthStore
from companion.store.db import open_db

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"


@pytest.fixture
def db_path(tmp_path) -> Path:
    return tmp_path / "kith.db"


@pytest.fixture
def db(db_path):
    database = open_db(db_path)
    yield database
    database.close()


class Companion:
    """A running companion: its base URL, port, database path, a ready token, and a client for it.

    `client` is pytest-aiohttp's `TestClient` (paths only: `await companion.client.get("/v1/ping")`);
    `base_url` is for tests that need their own session or raw sockets.
    """

    def __init__(self, base_url: str, port: int, db_path: Path, token: str, client: TestClient):
        self.base_url = base_url
        self.port = port
        self.db_path = db_path
        self.token = token
        self.client = client

    def headers(self, **extra) -> dict:
        return {
            "Authorization": f"Bearer {self.token}",
            "X-Kith-API-Version": "1",
            "Content-Type": "application/json",
            **extra,
        }

    def db(self):
        return open_db(self.db_path)


@pytest.fixture
async def companion(db_path, aiohttp_client):
    """The real aiohttp app from `init_app()`, served on 127.0.0.1 by pytest-aiohttp.

    The app answers only to `Host: 127.0.0.1:<its port>` (DNS-rebinding defence), so it must know its
    port before it starts. The listening socket is therefore bound to port 0 first, the app is built
    with the port the kernel chose, and the test server serves on that same socket: no free-port race.
    aiohttp_client closes the client and the server (and so the app) at teardown.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    app = init_app(db_path, port=port, extract_workers=1)
    server = TestServer(app, host="127.0.0.1", port=port, socket_factory=lambda host, port, family: sock)
    client = await aiohttp_client(server)
    store = AuthStore(db_path)
    _, token = store.new_token("tests")
    store.close()
    yield Companion(f"http://127.0.0.1:{port}", port, db_path, token, client)


def new_capture_id() -> str:
    return str(uuid.uuid4())
