"""`init_app()`: the companion app factory. Resources open and close in `cleanup_ctx`."""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiohttp import web

from ..ingest import Extractor
from ..loopback import SECURITY_HEADERS
from ..store.auth import AuthStore
from ..store.db import Checkpointer, DbThread, register_writer, unregister_writer
from .keys import AUTH, EXTRACTOR, READER, SETTINGS, WRITER, Settings
from .middleware import errors_middleware, security_middleware
from .routes import setup_routes


async def _database(app: web.Application):
    settings = app[SETTINGS]
    loop = asyncio.get_running_loop()
    app[WRITER] = await loop.run_in_executor(None, DbThread, settings.db_path)
    app[READER] = await loop.run_in_executor(None, lambda: DbThread(settings.db_path, readonly=True))
    app[AUTH] = await loop.run_in_executor(
        None, lambda: DbThread(settings.db_path, opener=lambda: AuthStore(settings.db_path), name="kith-auth")
    )
    await app[WRITER].run(lambda db: db.execute("PRAGMA wal_autocheckpoint = 0"))
    checkpointer = await loop.run_in_executor(None, Checkpointer, settings.db_path)
    register_writer(app[WRITER])
    yield
    unregister_writer(app[WRITER])
    checkpointer.close()
    app[AUTH].close()
    app[READER].close()
    app[WRITER].close()


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    response.headers.update(SECURITY_HEADERS)


async def _extractor(app: web.Application):
    # On the loop: the pool's workers answer through it (`worker_pool`). Their start-up (the
    # forkserver's imports) happens here, before the server takes requests.
    extractor = Extractor(app[SETTINGS].extract_workers)
    app[EXTRACTOR] = extractor
    yield
    extractor.close()


def init_app(
    db_path: str | Path,
    *,
    port: int = 5151,
    datasette_url: str | None = "http://127.0.0.1:8001",
    max_body: int | None = None,
    extract_workers: int = 2,
) -> web.Application:
    settings = Settings(
        db_path=Path(db_path),
        port=port,
        datasette_url=datasette_url,
        extract_workers=extract_workers,
        **({"max_body": max_body} if max_body else {}),
    )
    # client_max_size sits a little above the checked limit so the JSON 413
    # comes from Kith's own check, with the Kith error shape.
    app = web.Application(middlewares=[errors_middleware, security_middleware], client_max_size=settings.max_body + 1)
    app[SETTINGS] = settings
    app.on_response_prepare.append(_security_headers)
    app.cleanup_ctx.append(_database)
    app.cleanup_ctx.append(_extractor)
    setup_routes(app)
    return app
