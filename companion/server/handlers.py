"""Route handlers: read the request, call ingest or the store, answer JSON.

Checks already ran in the security middleware; handlers only parse bodies.
"""

from __future__ import annotations

import asyncio
import time

import aiohttp
from aiohttp import web

from .. import __version__
from ..errors import ApiError, ValidationError
from ..ingest import INLINE_BODY, ingest_body
from ..protocol import check_http_url, decode_json
from ..store.auth import AuthStore
from ..store.captures import lookup
from .keys import AUTH, EXTRACTOR, READER, SETTINGS, WRITER
from .security import TOKEN


async def read_body(request: web.Request) -> bytes:
    try:
        return await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise ApiError(
            413, "PAYLOAD_TOO_LARGE", f"the body is larger than {request.app[SETTINGS].max_body} bytes"
        ) from None
    except (ConnectionError, aiohttp.ClientError):  # the client hung up mid-body; nothing to store
        raise ApiError(400, "INCOMPLETE_BODY", "the request body ended early") from None


async def read_json(request: web.Request) -> dict:
    body = await read_body(request)
    if len(body) > INLINE_BODY:
        # A big body (a /v1/preview page) is decoded on a thread, but json.loads holds the GIL, so the
        # loop, pings included, still waits about as long as the parse (~6 ms for 2 MB). Capture bodies
        # avoid even that: they are decoded in the worker pool (ingest.decode_and_prepare).
        return await asyncio.get_running_loop().run_in_executor(None, decode_json, body)
    return decode_json(body)


def _datasette_link(request: web.Request, contact_id: int | None) -> str | None:
    base = request.app[SETTINGS].datasette_url
    return f"{base}/-/kith/contacts/{contact_id}" if base and contact_id else None


async def ping(request: web.Request) -> web.Response:
    return web.json_response({"app": "kith", "api_version": 1, "version": __version__})


async def pair(request: web.Request) -> web.Response:
    payload = await read_json(request)
    code, name = payload.get("code"), payload.get("name") or "browser extension"
    if not isinstance(code, str) or not code.strip() or len(code) > 64:
        raise ValidationError("code is required")
    if not isinstance(name, str) or len(name) > 200:
        raise ValidationError("name must be a short string")
    redeemed = await request.app[AUTH].run(AuthStore.redeem_pairing_code, code, name, request.headers.get("Origin"))
    if redeemed is None:
        raise ApiError(403, "PAIRING_FAILED", "that pairing code is wrong, used or expired; run `kith pair` again")
    token_id, token = redeemed
    return web.json_response({"token": token, "token_id": token_id}, status=201)


async def unpair(request: web.Request) -> web.Response:
    """Revoke the caller's own token (the extension's Unpair), and forget its paired origin."""
    token = request[TOKEN]
    await request.app[AUTH].run(AuthStore.revoke_token, token["id"])
    return web.json_response({"revoked": True, "token_id": token["id"]})


async def post_capture(request: web.Request) -> web.Response:
    started = time.perf_counter()
    body = await read_body(request)
    received = time.perf_counter()
    timing: dict = {}
    result = await ingest_body(body, request.app[WRITER], request.app[EXTRACTOR], timing, request.app[READER])
    result["datasette_url"] = _datasette_link(request, result.get("contact_id"))
    response = web.json_response(result, status=200 if result["duplicate"] else 201)
    # Server-side timings (receiving the body; decoding to commit; for a big body its parts), for
    # benchmarks and devtools; `extract;desc="reused"` says the extraction came from the preview.
    response.headers["Server-Timing"] = (
        f"receive;dur={(received - started) * 1000:.1f}, ingest;dur={(time.perf_counter() - received) * 1000:.1f}"
        + "".join(f", {name};{value}" for name, value in timing.items())
    )
    return response


async def preview(request: web.Request) -> web.Response:
    """Extract without storing, so the popup can show editable fields before Save."""
    payload = await read_json(request)
    url = check_http_url(payload.get("url"))
    html, title = payload.get("html"), payload.get("title")
    if not isinstance(html, str):
        raise ValidationError("html is required")
    if title is not None and not isinstance(title, str):
        raise ValidationError("title must be a string")
    capture = {"capture_id": "preview", "kind": "profile", "url": url, "title": title, "html": html}
    prepared = await request.app[EXTRACTOR].prepare(capture, keep_raw=False)
    existing = await request.app[READER].run(lookup, url)
    return web.json_response(
        {"extraction": prepared["extraction"], "existing": existing if existing["found"] else None}
    )


async def contact_lookup(request: web.Request) -> web.Response:
    url = check_http_url(request.query.get("url"))
    found = await request.app[READER].run(lookup, url)
    if found["found"]:
        found["datasette_url"] = _datasette_link(request, found["contact"]["id"])
    return web.json_response(found)
