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
import zlib
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from .extract import extract_page, extract_selection
from .protocol import payload_digest
from .store.captures import existing_capture, save_capture
from .store.db import Writer

log = logging.getLogger(__name__)

EXTRACT_TIMEOUT_S = 20.0
# zlib's fastest level: several times quicker than the default on a 2 MB page,
# and HTML still shrinks about 5x. Raw captures are an archive, not a hot path.
RAW_COMPRESSION_LEVEL = 1


def compress_html(html: str) -> tuple[bytes, str]:
    data = html.encode("utf-8", "replace")
    return zlib.compress(data, RAW_COMPRESSION_LEVEL), hashlib.sha256(data).hexdigest()


def decompress_html(blob: bytes | None) -> str:
    return zlib.decompress(blob).decode("utf-8", "replace") if blob else ""


def prepare(capture: dict, keep_raw: bool = True) -> dict:
    """The CPU-bound part of ingest (runs in a worker process): extract, hash, compress.

    `keep_raw=False` (a preview, which stores nothing) skips the compression.
    """
    prepared: dict = {}
    page = capture.get("html") if capture["kind"] == "profile" else capture.get("page_html")
    if page is not None:
        prepared["extraction"] = extract_page(page, capture["url"], capture.get("title"))
        if keep_raw:
            prepared["html_z"], prepared["html_sha256"] = compress_html(page)
    if capture["kind"] == "message":
        prepared["selection"] = extract_selection(capture["text"], capture.get("html"), capture["url"],
                                                  capture.get("page_html"))
    return prepared


def unparsed(capture: dict, error: str) -> dict:
    """What is stored when extraction failed or timed out: the raw page, marked unparsed."""
    page = capture.get("html") if capture["kind"] == "profile" else capture.get("page_html")
    prepared: dict = {"extraction": {
        "url": capture.get("url"), "title": capture.get("title"), "extractor": None,
        "status": "unparsed", "profile": None, "sources": {}, "identities": [], "links": [],
        "messages": [], "thread": None, "error": error}}
    if page is not None:
        prepared["html_z"], prepared["html_sha256"] = compress_html(page)
    return prepared


class Extractor:
    """A small pool of worker processes for extraction, replaced if a worker hangs or dies."""

    def __init__(self, workers: int = 2):
        self.workers = workers
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        # forkserver: workers fork from a clean, single-threaded server process,
        # never from the server with its event loop and writer thread.
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["companion.ingest"])
        return ProcessPoolExecutor(max_workers=self.workers, mp_context=context)

    def warm_up(self) -> None:
        for future in [self._pool.submit(int, 0) for _ in range(self.workers)]:
            future.result()

    async def prepare(self, capture: dict, keep_raw: bool = True) -> dict:
        loop = asyncio.get_running_loop()
        try:
            return await asyncio.wait_for(loop.run_in_executor(self._pool, prepare, capture, keep_raw),
                                          EXTRACT_TIMEOUT_S)
        except asyncio.TimeoutError:
            log.warning("extraction of %s timed out; storing it unparsed", capture.get("url"))
            self._restart()
            return await loop.run_in_executor(None, unparsed, capture, "extraction timed out")
        except BrokenProcessPool:
            log.warning("an extraction worker died on %s; storing it unparsed", capture.get("url"))
            self._restart()
            return await loop.run_in_executor(None, unparsed, capture, "extraction worker crashed")
        except Exception as exc:  # extractors promise not to raise; never lose the capture if one does
            log.exception("extraction failed for %s", capture.get("url"))
            return await loop.run_in_executor(None, unparsed, capture, f"extraction failed: {exc!r}")

    def _restart(self) -> None:
        old = self._pool
        self._pool = self._new_pool()
        for process in list(getattr(old, "_processes", {}).values()):
            process.kill()
        old.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


async def ingest(capture: dict, writer: Writer, extractor: Extractor) -> dict:
    """Validate-to-committed for one capture. Replays return the stored result without re-parsing."""
    loop = asyncio.get_running_loop()
    digest = await loop.run_in_executor(None, payload_digest, capture)
    earlier = await writer.run(existing_capture, capture["capture_id"], digest)
    if earlier is not None:
        return earlier
    needs_work = capture["kind"] == "profile" or capture.get("page_html") or capture["kind"] == "message"
    prepared = await extractor.prepare(capture) if needs_work else None
    return await writer.run(save_capture, capture, digest, prepared)
