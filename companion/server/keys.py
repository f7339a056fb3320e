"""Typed keys for what the app holds (aiohttp's AppKey), shared by app, middleware and handlers."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from ..ingest import Extractor
from ..store.db import DbThread


@dataclass(frozen=True)
class Settings:
    db_path: Path
    port: int = 5151
    max_body: int = 32 * 1024 * 1024
    datasette_url: str | None = "http://127.0.0.1:8001"
    extract_workers: int = 2


SETTINGS = web.AppKey("settings", Settings)
WRITER = web.AppKey("writer", DbThread)
READER = web.AppKey("reader", DbThread)
# Tokens, pairing codes and paired origins: the auth file's own thread (store/auth.py).
AUTH = web.AppKey("auth", DbThread)
EXTRACTOR = web.AppKey("extractor", Extractor)
