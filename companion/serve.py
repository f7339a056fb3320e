"""`kith serve`: the companion API and Datasette, together in one process on one event loop."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from pathlib import Path

import click
import uvicorn
from aiohttp import web
from datasette.app import Datasette

from .server import init_app


class _QuietServer(uvicorn.Server):
    """uvicorn without its own signal handling: `kith serve` stops both servers itself."""

    @contextlib.contextmanager
    def capture_signals(self):
        yield


def make_datasette(db_path: Path) -> Datasette:
    # The Kith plugins load through the `datasette` entry point, as under plain `datasette kith.db`.
    return Datasette([str(db_path)], settings={"sql_time_limit_ms": 3000, "max_returned_rows": 1000})


async def serve(db_path: Path, port: int, datasette_port: int | None, *, announce=click.echo) -> None:
    datasette_url = f"http://127.0.0.1:{datasette_port}" if datasette_port else None
    app = init_app(db_path, port=port, datasette_url=datasette_url)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()  # opens the database (and migrates it) before Datasette reads it
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    server = None
    server_task = None
    if datasette_port:
        datasette = make_datasette(db_path)
        await datasette.invoke_startup()
        config = uvicorn.Config(datasette.app(), host="127.0.0.1", port=datasette_port,
                                log_level="warning", lifespan="off")
        server = _QuietServer(config)
        server_task = asyncio.create_task(server.serve())

    announce(f"Kith companion  http://127.0.0.1:{port}   (database: {db_path})")
    if datasette_url:
        announce(f"Datasette       {datasette_url}/-/kith/network")
    announce("Pair the extension: run `kith pair` in another terminal and enter the code in its options page.")
    announce("Press Ctrl-C to stop.")
    try:
        if server_task:
            await asyncio.wait([server_task, asyncio.create_task(stop.wait())],
                               return_when=asyncio.FIRST_COMPLETED)
        else:
            await stop.wait()
    finally:
        if server:
            server.should_exit = True
            with contextlib.suppress(Exception):
                await server_task
        await runner.cleanup()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        announce("Kith stopped.")
