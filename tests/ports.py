"""One free-port helper for the harnesses that start servers in another process.

A subprocess (`kith serve --port N`, `datasette --port N`) must be told its port on the command
line, so the port is picked here first and bound there a moment later: another process could take
it in between (rare on a test machine, and the harness then fails loudly at start-up). In-process
servers never need this: the `companion` fixture binds port 0 itself and reads the port back.

Importable as `ports` from test modules and conftests (pytest puts tests/ on sys.path) and from
scripts that put tests/ on sys.path (scripts/bench.py, scripts/bench_popup.py).
"""

from __future__ import annotations

import socket


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
