"""Shared fixtures: real SQLite files, a real companion on a free loopback port, tokens."""

from __future__ import annotations

import socket
import uuid
from pathlib import Path

import pytest
from aiohttp import web

from companion.server import init_app
from companion.store import auth
from companion.store.db import open_db

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def db_path(tmp_path) -> Path:
    return tmp_path / "kith.db"


@pytest.fixture
def db(db_path):
    database = open_db(db_path)
    yield database
    database.close()


class Companion:
    """A running companion: its base URL, port, database path and a ready token."""

    def __init__(self, base_url: str, port: int, db_path: Path, token: str):
        self.base_url = base_url
        self.port = port
        self.db_path = db_path
        self.token = token

    def headers(self, **extra) -> dict:
        return {"Authorization": f"Bearer {self.token}", "X-Kith-API-Version": "1",
                "Content-Type": "application/json", **extra}

    def db(self):
        return open_db(self.db_path)


@pytest.fixture
async def companion(db_path):
    """The real aiohttp app from `init_app()`, served on a free 127.0.0.1 port."""
    port = free_port()
    app = init_app(db_path, port=port, extract_workers=1)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    database = open_db(db_path)
    _, token = auth.new_token(database, "tests")
    database.close()
    yield Companion(f"http://127.0.0.1:{port}", port, db_path, token)
    await runner.cleanup()


def new_capture_id() -> str:
    return str(uuid.uuid4())
