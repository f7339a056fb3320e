"""Request checks that run before any handler does work (docs/PROTOCOL.md, "Why these rules").

Order matters: Host (DNS rebinding), Origin (web pages), API version, token,
content type, size. A refused request is answered before its body is read,
and nothing is written.
"""

from __future__ import annotations

from aiohttp import web

from ..errors import ApiError
from ..loopback import host_allowed
from ..store import auth
from ..store.auth import AuthStore
from .keys import AUTH, SETTINGS

PUBLIC_ROUTES = {("GET", "/v1/ping")}
PAIRING_ROUTE = ("POST", "/v1/pair")
# The checked token's row, for handlers that act on the caller's own token (unpair).
TOKEN = web.RequestKey("kith_token", dict)


def _bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


async def check_request(request: web.Request) -> None:
    settings = request.app[SETTINGS]
    secrets = request.app[AUTH]
    route = (request.method, request.path)

    if not host_allowed(request.headers.get("Host"), settings.port):
        raise ApiError(403, "HOST_FORBIDDEN", "this server only answers to 127.0.0.1, localhost or [::1]")

    origin = request.headers.get("Origin")
    if origin is not None:
        if not auth.is_extension_origin(origin):
            raise ApiError(403, "ORIGIN_FORBIDDEN", "web pages may not call the Kith companion")
        if route != PAIRING_ROUTE and not await secrets.run(AuthStore.origin_is_paired, origin):
            raise ApiError(403, "ORIGIN_FORBIDDEN", "this extension has not been paired; pair it first")

    version = request.headers.get("X-Kith-API-Version")
    if version is not None and version.strip().split(".")[0] != "1":
        raise ApiError(412, "VERSION_MISMATCH", "this companion speaks API version 1; update the extension or Kith")

    if route not in PUBLIC_ROUTES and route != PAIRING_ROUTE:
        token = await secrets.run(AuthStore.check_token, _bearer(request) or "")
        if token is None:
            raise ApiError(401, "UNAUTHORIZED", "a valid bearer token is required; pair with `kith pair`")
        if token["revoked"]:
            raise ApiError(401, "UNAUTHORIZED", "this token has been revoked; pair again")
        request[TOKEN] = token

    if request.method == "POST":
        if request.content_type != "application/json":
            raise ApiError(415, "UNSUPPORTED_MEDIA_TYPE", "POST bodies must be application/json")
        if request.content_length is not None and request.content_length > settings.max_body:
            raise ApiError(413, "PAYLOAD_TOO_LARGE", f"the body is larger than {settings.max_body} bytes")
