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

# Ports handed out by this process. Two calls in a row (a companion's port and its Datasette's) can
# get the same number back from the OS, since nothing is bound to it yet: `kith serve` then failed
# with "address already in use" for its second server. A port is never handed out twice.
_HANDED_OUT: set[int] = set()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago and that this process has not handed out before."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _HANDED_OUT:
            _HANDED_OUT.add(port)
            return port
