"""Middlewares: every failure leaves as `{"error": {...}}` JSON, and no request skips the checks."""

from __future__ import annotations

import logging

from aiohttp import web

from ..errors import ApiError
from .security import check_request

log = logging.getLogger(__name__)

# aiohttp's own HTTP errors, named the way Kith names its codes.
_HTTP_CODES = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 413: "PAYLOAD_TOO_LARGE"}


def error_response(error: ApiError) -> web.Response:
    return web.json_response(error.to_json(), status=error.status)


@web.middleware
async def errors_middleware(request: web.Request, handler):
    try:
        return await handler(request)
    except ApiError as error:
        return error_response(error)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = _HTTP_CODES.get(exc.status, exc.reason.upper().replace(" ", "_").replace("-", "_"))
        return error_response(ApiError(exc.status, code, exc.text or exc.reason))
    except Exception:  # a bug must still answer in the error shape, and be retryable
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(ApiError(500, "INTERNAL_ERROR", "the companion hit an unexpected error", retryable=True))


@web.middleware
async def security_middleware(request: web.Request, handler):
    await check_request(request)
    return await handler(request)
