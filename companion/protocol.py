"""Validating what clients send: one place that knows the shape of a capture.

Pure functions: a JSON object in, a normalised capture dict out, or a
`ValidationError` naming the field. Nothing here touches the database.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import uuid
import zlib

import orjson

from .errors import ApiError, ValidationError
from .store.contacts import PROFILE_COLUMNS
from .store.schema import CIRCLES, MESSAGE_DIRECTIONS
from .timeutil import normalise_iso
from .urls import http_url

KINDS = ("profile", "message", "note", "interaction")
MAX_URL = 8_192
MAX_SHORT_TEXT = 2_000  # names, titles, tags, how we met
MAX_LONG_TEXT = 200_000  # notes, selections, bios
MAX_TAGS = 50
MAX_HTML = 30 * 1024 * 1024  # the body limit bounds it anyway; this names the field


def check_http_url(value, field: str = "url") -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{field} must be a non-empty string")
    if len(value) > MAX_URL:
        raise ValidationError(f"{field} is longer than {MAX_URL} characters")
    url = http_url(value)
    if url is None:
        raise ApiError(422, "INVALID_URL", f"{field} must be a well-formed http(s) URL")
    return url


def _text(payload: dict, field: str, limit: int, *, required: bool = False) -> str | None:
    value = payload.get(field)
    if value is None:
        if required:
            raise ValidationError(f"{field} is required")
        return None
    if not isinstance(value, str):
        raise ValidationError(f"{field} must be a string")
    if "\x00" in value:
        raise ValidationError(f"{field} must not contain NUL characters")
    if len(value) > limit:
        raise ValidationError(f"{field} is longer than {limit} characters")
    if required and (not value or value.isspace()):  # not .strip(): that copies a 2 MB page
        raise ValidationError(f"{field} must not be empty")
    return value


def _int(payload: dict, field: str) -> int | None:
    value = payload.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0 or value > 2**53:
        raise ValidationError(f"{field} must be a positive integer")
    return value


def _time(payload: dict, field: str) -> str | None:
    value = _text(payload, field, 64)
    if value is None:
        return None
    parsed = normalise_iso(value)
    if parsed is None:
        raise ValidationError(f"{field} must be an ISO 8601 time")
    return parsed


def _choice(payload: dict, field: str, choices: tuple[str, ...]) -> str | None:
    value = payload.get(field)
    if value is None:
        return None
    if value not in choices:
        raise ValidationError(f"{field} must be one of {', '.join(choices)}")
    return value


def parse_capture(payload) -> dict:
    """Validate a POST /v1/captures body into a normalised capture dict."""
    if not isinstance(payload, dict):
        raise ApiError(400, "INVALID_JSON", "the body must be a JSON object")
    raw_id = payload.get("capture_id")
    if raw_id is None:
        raise ValidationError("capture_id is required")
    if not isinstance(raw_id, str) or len(raw_id) > 64:
        raise ValidationError("capture_id must be a UUID string")
    try:
        capture_id = str(uuid.UUID(raw_id))
    except ValueError:
        raise ValidationError("capture_id must be a UUID string") from None
    kind = payload.get("kind")
    if kind is None:
        raise ValidationError("kind is required")
    if not isinstance(kind, str) or kind not in KINDS:
        raise ApiError(422, "UNKNOWN_KIND", f"kind must be one of {', '.join(KINDS)}")

    capture: dict = {"capture_id": capture_id, "kind": kind}
    capture["title"] = _text(payload, "title", MAX_SHORT_TEXT)
    capture["captured_at"] = _time(payload, "captured_at")
    capture["contact_id"] = _int(payload, "contact_id")
    url_required = kind in ("profile", "message") or capture["contact_id"] is None
    if payload.get("url") is not None or url_required:
        capture["url"] = check_http_url(payload.get("url"))
    else:
        capture["url"] = None

    if kind == "profile":
        if payload.get("html_z") is not None and payload.get("html") is None:
            capture["html"], capture[RAW_PAGE] = inflate_page(payload["html_z"])
        else:
            capture["html"] = _text(payload, "html", MAX_HTML, required=True)
        # A blank note or "how we met" from the popup means "none", not an error.
        capture["note"] = (_text(payload, "note", MAX_LONG_TEXT) or "").strip() or None
        capture["how_met"] = (_text(payload, "how_met", MAX_SHORT_TEXT) or "").strip() or None
        capture["circle"] = _choice(payload, "circle", CIRCLES)
        tags = payload.get("tags")
        if tags is not None:
            if not isinstance(tags, list) or len(tags) > MAX_TAGS:
                raise ValidationError(f"tags must be a list of at most {MAX_TAGS} strings")
            for tag in tags:
                if not isinstance(tag, str) or len(tag) > 100 or "\x00" in tag:
                    raise ValidationError("each tag must be a string of at most 100 characters")
        capture["tags"] = [t.strip() for t in tags or [] if t.strip()]
        edits = payload.get("edits")
        if edits is not None:
            if not isinstance(edits, dict):
                raise ValidationError("edits must be an object")
            unknown = sorted(set(edits) - set(PROFILE_COLUMNS))
            if unknown:
                raise ValidationError(f"edits has unknown fields: {', '.join(unknown)}")
            limit = {"bio": MAX_LONG_TEXT}
            capture["edits"] = {k: _text(edits, k, limit.get(k, MAX_SHORT_TEXT)) for k in edits}
            if capture["edits"].get("avatar_url"):
                check_http_url(capture["edits"]["avatar_url"], "edits.avatar_url")
    elif kind == "message":
        capture["text"] = _text(payload, "text", MAX_LONG_TEXT, required=True)
        capture["html"] = _text(payload, "html", MAX_HTML)
        capture["page_html"] = _text(payload, "page_html", MAX_HTML)
        capture["sender"] = _text(payload, "sender", MAX_SHORT_TEXT)
        capture["direction"] = _choice(payload, "direction", MESSAGE_DIRECTIONS)
        capture["sent_at"] = _time(payload, "sent_at")
    elif kind == "note":
        capture["text"] = _text(payload, "text", MAX_LONG_TEXT, required=True)
    else:  # interaction
        capture["interaction_kind"] = _text(payload, "interaction_kind", 100)
        capture["summary"] = _text(payload, "summary", MAX_LONG_TEXT)
        capture["happened_at"] = _time(payload, "happened_at")
    return {k: v for k, v in capture.items() if v is not None}


# A profile page may come compressed (the extension sends `html_z`: base64 of zlib, what
# CompressionStream('deflate') makes). It is inflated here (in the worker for any such body) and
# the received bytes are kept under this key, to be stored as the raw capture as they are.
RAW_PAGE = "_html_z"


def inflate_page(value) -> tuple[str, bytes]:
    """`html_z` to (the page, its zlib bytes); refuses what is not base64 zlib of UTF-8 text,
    and a page that would inflate past MAX_HTML (a small body must not become gigabytes)."""
    if not isinstance(value, str) or len(value) > MAX_HTML:
        raise ValidationError("html_z must be a base64 string")
    try:
        data = base64.b64decode(value, validate=True)
        inflater = zlib.decompressobj()
        page = inflater.decompress(data, MAX_HTML + 1)
    except (binascii.Error, ValueError, zlib.error):
        raise ValidationError("html_z must be base64 of zlib-compressed HTML") from None
    if len(page) > MAX_HTML or inflater.unconsumed_tail:
        raise ApiError(413, "PAYLOAD_TOO_LARGE", f"html_z inflates to more than {MAX_HTML} bytes")
    if not inflater.eof:
        raise ValidationError("html_z is cut short")
    try:
        return page.decode("utf-8"), data
    except UnicodeDecodeError:
        raise ValidationError("html_z is not UTF-8 text") from None


def decode_json(body: bytes) -> dict:
    """A request body to a JSON object, or the API's INVALID_JSON error (pure; runs in a worker too)."""
    if not body:
        raise ApiError(400, "INVALID_JSON", "the body is empty")
    try:
        # orjson first (about twice as fast on a 2 MB page); anything it refuses goes through json,
        # which accepts a little more (NaN, huge integers) and words its errors as the API always has.
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        payload = _stdlib_json(body)
    if not isinstance(payload, dict):
        raise ApiError(400, "INVALID_JSON", "the body must be a JSON object")
    return payload


def _stdlib_json(body: bytes):
    try:
        return json.loads(body)
    except UnicodeDecodeError:
        raise ApiError(400, "INVALID_JSON", "the body is not valid UTF-8") from None
    except RecursionError:
        raise ApiError(400, "INVALID_JSON", "the JSON is nested too deeply") from None
    except ValueError as exc:
        raise ApiError(400, "INVALID_JSON", f"the body is not valid JSON: {exc}") from None


def page_hashes(capture: dict) -> dict[str, bytes]:
    """SHA-256 of each page a capture carries (`html`, `page_html`), computed once: the payload
    digest, the stored `html_sha256` and the preview's extraction memo all use them."""
    pages = {k: capture[k] for k in ("html", "page_html") if k in capture}
    try:
        return {k: hashlib.sha256(v.encode("utf-8")).digest() for k, v in pages.items()}
    except UnicodeEncodeError:
        # JSON may smuggle lone surrogates ("\udc80") that SQLite cannot store.
        raise ApiError(400, "INVALID_UNICODE", "the body contains invalid Unicode (a lone surrogate)") from None


def payload_digest(capture: dict, hashes: dict[str, bytes] | None = None) -> str:
    """A stable hash of a capture's content, for telling a replay from a conflicting reuse of an id.
    Pages are hashed on their own (hashlib releases the GIL), not re-serialised as JSON."""
    hashes = page_hashes(capture) if hashes is None else hashes
    rest = {k: v for k, v in capture.items() if k not in ("html", "page_html", RAW_PAGE)}
    canonical = json.dumps(rest, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    try:
        digest = hashlib.sha256(canonical.encode("utf-8"))
    except UnicodeEncodeError:
        raise ApiError(400, "INVALID_UNICODE", "the body contains invalid Unicode (a lone surrogate)") from None
    for key in sorted(hashes):
        digest.update(b"\0" + key.encode() + b"\0" + hashes[key])
    return digest.hexdigest()
