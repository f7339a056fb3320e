"""The companion's gate in front of Datasette: Host pinned to loopback, no cross-site writes,
no framing. Installed through `asgi_wrapper`, so it guards `kith serve` and a plain
`datasette kith.db` alike, and answers before Datasette does any work (or opens a database).

Without it, a page that rebinds its own name to 127.0.0.1 becomes same-origin with Datasette:
it can read every table, JSON twin and SQL result, read the CSRF token, and post the forms.
Extra Host values (a user who deliberately serves Datasette on another interface) come from
the plugin setting `allowed_hosts`.
"""

from __future__ import annotations

import json

from companion.loopback import SAFE_METHODS, SECURITY_HEADERS, cross_site_fetch, host_allowed, same_origin

_HEADER_BYTES = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in SECURITY_HEADERS.items()]


def _headers(scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers") or []}


def refusal(scope, extra_hosts=()) -> tuple[str, str] | None:
    """(code, message) when this request must be refused, else None. Pure: scope in, verdict out."""
    headers = _headers(scope)
    server = scope.get("server")
    port = server[1] if server and len(server) > 1 else None
    host = headers.get("host")
    if not host_allowed(host, port, extra_hosts):
        return "HOST_FORBIDDEN", "this server only answers to 127.0.0.1, localhost or [::1] on its own port"
    if scope.get("method", "GET").upper() not in SAFE_METHODS:
        if not same_origin(headers.get("origin"), host, scope.get("scheme", "http")):
            return "ORIGIN_FORBIDDEN", "writes must come from Kith's own pages"
        if cross_site_fetch(headers.get("sec-fetch-site")):
            return "CROSS_SITE_FORBIDDEN", "writes must come from Kith's own pages"
    return None


async def _send_refusal(send, code: str, message: str) -> None:
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 403,
            "headers": [
                (b"content-type", b"application/json; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                *_HEADER_BYTES,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def wrap(app, extra_hosts=lambda: ()):
    """The ASGI app behind the gate. `extra_hosts` is read per request (plugin config can change)."""

    async def gate(scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await app(scope, receive, send)
        verdict = refusal(scope, tuple(extra_hosts()))
        if verdict is not None:
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
                return None
            return await _send_refusal(send, *verdict)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers") or []}
                message = dict(
                    message,
                    headers=[*(message.get("headers") or []), *[(k, v) for k, v in _HEADER_BYTES if k not in present]],
                )
            await send(message)

        return await app(scope, receive, send_with_headers)

    return gate
