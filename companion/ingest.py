"""Ingest: turn a validated capture into stored rows without stalling the event loop.

Parsing a 2 MB page is CPU work, so it runs in a small process pool (a thread
would hold the GIL and make `/v1/ping` wait); compression and hashing happen
there too. The single writer then stores the result in one transaction.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import multiprocessing
import time
import zlib
from collections import OrderedDict

from .extract import extract_page, extract_selection
from .errors import ApiError
from .protocol import RAW_PAGE, decode_json, page_hashes, parse_capture, payload_digest
from .store.captures import existing_capture, save_capture
from .store.db import DbThread
from .worker_pool import WorkerDied, WorkerPool

log = logging.getLogger(__name__)

EXTRACT_TIMEOUT_S = 20.0
MEMO_ENTRIES = 4  # previews remembered; each Save sends them all to the worker, so few and small
MEMO_SECONDS = 600.0  # a preview older than this is not worth keeping for its Save
# zlib's fastest level: several times quicker than the default on a 2 MB page,
# and HTML still shrinks about 5x. Raw captures are an archive, not a hot path.
RAW_COMPRESSION_LEVEL = 1


def _page_sha256(html: str) -> bytes:
    return hashlib.sha256(html.encode("utf-8", "replace")).digest()


def compress_page(html: str) -> bytes:
    return zlib.compress(html.encode("utf-8", "replace"), RAW_COMPRESSION_LEVEL)


def decompress_html(blob: bytes | None) -> str:
    return zlib.decompress(blob).decode("utf-8", "replace") if blob else ""


def memo_key(page_sha256: bytes, url: str, title: str | None) -> str:
    """What an extraction depends on: the page's bytes, its URL and its title (extraction is pure)."""
    return f"{page_sha256.hex()} {url} {title or ''}"


def prepare(capture: dict, keep_raw: bool = True, hashes: dict | None = None, known: dict | None = None) -> dict:
    """The CPU-bound part of ingest (runs in a worker process): extract, hash, compress.

    `keep_raw=False` (a preview, which stores nothing) skips the compression. `hashes` are the
    pages' SHA-256 when the caller has them; `known` maps `memo_key`s to extractions the preview
    already made of the very same page, which Save then reuses instead of parsing it again.

    One after another, on this thread: hashing and compressing on a second thread beside the
    extraction was slower (2.2 vs 1.6 ms for a 40 KB profile page, 33 vs 25 ms for 2 MB), since the
    parser holds the GIL and the threads only took turns.
    """
    prepared: dict = {}
    key = "html" if capture["kind"] == "profile" else "page_html"
    page = capture.get(key)
    if page is not None:
        sent = capture.get(RAW_PAGE) if key == "html" else None  # a page that came compressed (html_z)
        sha256 = hashes[key] if hashes is not None else _page_sha256(page)
        extraction = known.get(memo_key(sha256, capture["url"], capture.get("title"))) if known else None
        if extraction is None:
            extraction = extract_page(page, capture["url"], capture.get("title"))
        else:
            prepared["extraction_reused"] = True
        prepared["extraction"] = extraction
        prepared["html_sha256"] = sha256.hex()
        if keep_raw:
            prepared["html_z"] = sent if sent is not None else compress_page(page)
    if capture["kind"] == "message":
        prepared["selection"] = extract_selection(
            capture["text"], capture.get("html"), capture["url"], capture.get("page_html")
        )
    return prepared


# A JSON body above this size that is not a capture (a /v1/preview page) is decoded on a thread
# (`handlers.read_json`): json.loads of a 2 MB page holds the GIL for ~20 ms, a thread does not help.
INLINE_BODY = 256 * 1024
# A capture body over this size carries a page: it goes to the pool whole, not decoded here first
# (decoding, validation, hashing and extraction all happen in the worker).
# Under load the companion's process is bound by its one GIL (the event loop and the writer's
# Python share it); decoding, hashing and pickling a 40 KB profile page for the pool took ~0.45 ms
# of it per capture, where sending the raw bytes costs a copy.
POOL_BODY = 16 * 1024
_PAGE_FIELDS = ("html", "page_html", RAW_PAGE)


def _needs_work(capture: dict) -> bool:
    return bool(capture["kind"] in ("profile", "message") or capture.get("page_html"))


def decode_and_prepare(body: bytes, known: dict | None = None) -> tuple:
    """Worker side of a big capture: bytes -> ("ok", capture without its pages, digest, prepared)
    or ("error", status, code, message). Tuples, because ApiError does not pickle."""
    started = time.perf_counter()
    try:
        capture = parse_capture(decode_json(body))
        hashes = page_hashes(capture)
        prepared = prepare(capture, True, hashes, known) if _needs_work(capture) else {}
        digest = payload_digest(capture, hashes)
    except ApiError as error:
        return ("error", error.status, error.code, error.message)
    prepared["worker_ms"] = (time.perf_counter() - started) * 1000
    return ("ok", {k: v for k, v in capture.items() if k not in _PAGE_FIELDS}, digest, prepared)


def unparsed(capture: dict, error: str) -> dict:
    """What is stored when extraction failed or timed out: the raw page, marked unparsed."""
    page = capture.get("html") if capture["kind"] == "profile" else capture.get("page_html")
    prepared: dict = {
        "extraction": {
            "url": capture.get("url"),
            "title": capture.get("title"),
            "extractor": None,
            "status": "unparsed",
            "profile": None,
            "sources": {},
            "identities": [],
            "links": [],
            "messages": [],
            "thread": None,
            "error": error,
        }
    }
    if page is not None:
        prepared["html_z"], prepared["html_sha256"] = compress_page(page), _page_sha256(page).hex()
    return prepared


class Extractor:
    """A small pool of worker processes for extraction, replaced if a worker hangs or dies."""

    def __init__(self, workers: int = 2):
        self.workers = workers
        self._pool = self._new_pool()
        # The last few previews' extractions, by `memo_key`: the popup previews a page, then saves
        # the same bytes; the worker reuses the extraction instead of parsing the page again.
        self._previewed: OrderedDict[str, tuple[float, dict]] = OrderedDict()

    def _remember(self, capture: dict, prepared: dict) -> None:
        extraction = prepared.get("extraction")
        if not extraction or extraction.get("status") == "unparsed" or not prepared.get("html_sha256"):
            return
        key = memo_key(bytes.fromhex(prepared["html_sha256"]), capture["url"], capture.get("title"))
        self._previewed[key] = (time.monotonic(), extraction)
        self._previewed.move_to_end(key)
        while len(self._previewed) > MEMO_ENTRIES:
            self._previewed.popitem(last=False)

    def _known(self) -> dict | None:
        """The remembered extractions still fresh (sent along with each page to the worker)."""
        horizon = time.monotonic() - MEMO_SECONDS
        while self._previewed and next(iter(self._previewed.values()))[0] < horizon:
            self._previewed.popitem(last=False)
        return {key: extraction for key, (_, extraction) in self._previewed.items()} or None

    def _new_pool(self) -> WorkerPool:
        # forkserver: workers fork from a clean, single-threaded server process,
        # never from the server with its event loop and writer thread.
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["companion.ingest"])
        # The workers run at the companion's own priority; Datasette's process gives way to both
        # (`serve.yield_cpu_to_captures`). Measured: niced to 10, and still at 5, beside Datasette's
        # readers the workers were starved and profile captures queued for them (load suite capture
        # p99 354 ms at nice 5, 269 ms at 0), while /v1/ping's p99 during four 2 MB ingests stays
        # under 10 ms at 0, since decoding moved into the workers.
        return WorkerPool(self.workers, context)

    async def prepare(self, capture: dict, keep_raw: bool = True, hashes: dict | None = None) -> dict:
        """`keep_raw=False` is a preview: its extraction is remembered for the Save that follows.
        `hashes`: the pages' SHA-256 when the caller has them (`protocol.page_hashes`)."""
        loop = asyncio.get_running_loop()
        known = self._known() if keep_raw else None
        try:
            # On a timeout, wait_for cancels the task and the pool replaces the worker still parsing.
            prepared = await asyncio.wait_for(
                self._pool.run(prepare, capture, keep_raw, hashes, known), EXTRACT_TIMEOUT_S
            )
            if not keep_raw:
                self._remember(capture, prepared)
            return prepared
        except asyncio.TimeoutError:
            log.warning("extraction of %s timed out; storing it unparsed", capture.get("url"))
            return await loop.run_in_executor(None, unparsed, capture, "extraction timed out")
        except WorkerDied:
            log.warning("an extraction worker died on %s; storing it unparsed", capture.get("url"))
            return await loop.run_in_executor(None, unparsed, capture, "extraction worker crashed")
        except Exception as exc:  # extractors promise not to raise; never lose the capture if one does
            log.exception("extraction failed for %s", capture.get("url"))
            return await loop.run_in_executor(None, unparsed, capture, f"extraction failed: {exc!r}")

    async def decode_and_prepare(self, body: bytes) -> tuple[dict, str, dict | None]:
        """A big body, start to finish in the pool; (capture, digest, prepared)."""
        loop = asyncio.get_running_loop()
        try:
            out = await asyncio.wait_for(self._pool.run(decode_and_prepare, body, self._known()), EXTRACT_TIMEOUT_S)
        except Exception as exc:  # noqa: BLE001 - a timeout, a dead worker, an answer that could not be read
            log.warning("a worker failed on a %d-byte capture (%r); storing it unparsed", len(body), exc)
            capture = parse_capture(await loop.run_in_executor(None, decode_json, body))
            digest = await loop.run_in_executor(None, payload_digest, capture)
            if isinstance(exc, asyncio.TimeoutError):
                reason = "extraction timed out"
            elif isinstance(exc, WorkerDied):
                reason = "extraction worker crashed"
            else:
                reason = f"extraction failed: {exc!r}"
            return capture, digest, await loop.run_in_executor(None, unparsed, capture, reason)
        if out[0] == "error":
            raise ApiError(out[1], out[2], out[3])
        return out[1], out[2], out[3]

    def close(self) -> None:
        self._pool.close()


async def ingest(capture: dict, writer: DbThread, extractor: Extractor, reader: DbThread | None = None) -> dict:
    """A validated capture to a committed one. A replay returns the stored result without re-parsing."""
    hashes = page_hashes(capture)  # small bodies only (see ingest_body): well under a millisecond
    digest = payload_digest(capture, hashes)
    prepared = None
    if _needs_work(capture):
        # Worth a look before the extraction; `save_capture` recognises any replay in its transaction.
        # On the reader (a WAL snapshot) when there is one: the writer may be busy with a whole group.
        earlier = await (reader or writer).run(existing_capture, capture["capture_id"], digest)
        if earlier is not None:
            return earlier
        prepared = await extractor.prepare(capture, hashes=hashes)
    return await writer.run_grouped(save_capture, capture, digest, prepared)


async def ingest_body(
    body: bytes, writer: DbThread, extractor: Extractor, timing: dict | None = None, reader: DbThread | None = None
) -> dict:
    """A raw POST /v1/captures body to a committed capture; big bodies never touch the server's GIL.

    A big body is decoded, hashed and extracted in the pool first; `save_capture`
    still recognises a replay (or a conflicting reuse of the id) in its transaction.
    """
    if len(body) <= POOL_BODY and b'"html_z"' not in body:  # a compressed page is inflated in the pool
        return await ingest(parse_capture(decode_json(body)), writer, extractor, reader)
    started = time.perf_counter()
    capture, digest, prepared = await extractor.decode_and_prepare(body)
    worker_ms = prepared.pop("worker_ms", None) if prepared else None
    if timing is not None:
        # For Server-Timing: the worker's own time, and the hand-over to and from it.
        if worker_ms is not None:
            timing["worker"] = f"dur={worker_ms:.1f}"
            timing["pool"] = f"dur={(time.perf_counter() - started) * 1000 - worker_ms:.1f}"
        if prepared.get("extraction_reused"):
            timing["extract"] = 'desc="reused"'  # the preview's, for the very same page (see `memo_key`)
    started = time.perf_counter()
    result = await writer.run_grouped(save_capture, capture, digest, prepared or None)
    if timing is not None:
        timing["store"] = f"dur={(time.perf_counter() - started) * 1000:.1f}"
    return result
