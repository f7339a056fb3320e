"""Real-browser harness: Debian's Chromium with the unpacked extension, a real companion
subprocess on a loopback port, and fixture pages from a local HTTP server.

Everything here is plain (sync) code so `scripts/bench_popup.py` can reuse it without pytest
running: `PageServer`, `CompanionProcess`, `launch_extension`, `Extension`.

Fixture pages are addressed as `http://localhost:PORT/...`. The shipped extension may only reach
`http://127.0.0.1/*` (the companion); it reads the page a user is on through `activeTab`, which the
browser grants when the user clicks the toolbar button or a menu entry. A test cannot make that
click, so `launch_extension` loads a *copy* of `extension/` whose manifest adds one test-only host
permission, `http://localhost/*`, for the fixture pages. What ships is never changed.

Browser tests fail (they do not skip) when Chromium is missing; `KITH_SKIP_BROWSER=1` is the explicit
opt-out. Screenshots go to `$KITH_SCREENSHOTS_DIR`, by default the git-ignored `build/screenshots/`
(`make screenshots` points it at `docs/screenshots/`), so a test run never rewrites tracked files.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from ports import free_port

ROOT = Path(__file__).resolve().parents[2]
EXTENSION_DIR = ROOT / "extension"
PAGES_DIR = ROOT / "tests" / "fixtures" / "browser"
SCREENSHOTS_DIR = Path(os.environ.get("KITH_SCREENSHOTS_DIR") or ROOT / "build" / "screenshots").resolve()
CHROMIUM = Path(os.environ.get("KITH_CHROMIUM", "/usr/bin/chromium"))
SKIP_BROWSER = os.environ.get("KITH_SKIP_BROWSER", "") not in ("", "0")
# The fixture pages' host, granted only to the test copy of the extension (see the module docstring).
TEST_HOST_PERMISSION = "http://localhost/*"

# The `kith` command with this interpreter. Not `python -m companion.cli`: run as __main__, cli.py is
# a second copy of companion.cli, and a module importing `companion.cli` back then hits a circular import.
KITH = [sys.executable, "-c", "import sys; from companion.cli import main; sys.exit(main(prog_name='kith'))"]

# Generous: CI is a 2-core machine running Chromium, the companion and its extract workers.
UI_TIMEOUT_MS = 45_000
START_TIMEOUT_S = 90.0

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
]


def chromium_args(extension_dir: Path) -> list[str]:
    """Headless Chromium with one unpacked extension and no background traffic of its own."""
    return [f"--disable-extensions-except={extension_dir}", f"--load-extension={extension_dir}", *CHROMIUM_ARGS]


def wait_until(predicate, *, timeout: float = 30.0, interval: float = 0.05, what: str = "condition"):
    """Poll `predicate` until it returns a truthy value (which is returned); fail after `timeout` s."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = predicate()
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what} (last value: {last!r})")
        time.sleep(interval)


# ---- fixture pages -----------------------------------------------------------------------------


class _PageHandler(SimpleHTTPRequestHandler):
    """Static files from PAGES_DIR; `*.html` get `{{BASE}}` / `{{PAGE_URL}}` filled in.

    `server.extra` maps a path to (bytes, content type) for generated pages (e.g. the 2 MB bench page).
    """

    def log_message(self, format, *args):  # keep pytest output clean
        pass

    def do_GET(self):
        path = self.path.split("?", 1)[0].split("#", 1)[0]
        extra = self.server.extra.get(path)
        if extra is None:
            for prefix, value in self.server.extra_prefixes.items():
                if path.startswith(prefix):
                    extra = value
                    break
        if extra is not None:
            body, ctype = extra
            return self._send(self._fill(body, path) if ctype.startswith("text/html") else body, ctype)
        if path.endswith(".html"):
            file = (PAGES_DIR / path.lstrip("/")).resolve()
            if PAGES_DIR.resolve() in file.parents and file.is_file():
                return self._send(self._fill(file.read_bytes(), path), "text/html; charset=utf-8")
        return super().do_GET()

    def _fill(self, body: bytes, path: str) -> bytes:
        base = self.server.base_url.encode()
        return body.replace(b"{{PAGE_URL}}", base + path.encode()).replace(b"{{BASE}}", base)

    def _send(self, body: bytes, ctype: str):
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)


class PageServer:
    """Serves the fixture pages on 127.0.0.1, addressed as http://localhost:PORT."""

    def __init__(self, directory: Path = PAGES_DIR):
        self.port = free_port()
        self.base_url = f"http://localhost:{self.port}"
        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), partial(_PageHandler, directory=str(directory)))
        self.httpd.daemon_threads = True
        self.httpd.base_url = self.base_url
        self.httpd.extra = {}
        self.httpd.extra_prefixes = {}
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="kith-pages", daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return self.base_url + "/" + path.lstrip("/")

    def add(self, path: str, body: bytes | str, ctype: str = "text/html; charset=utf-8") -> str:
        """Serve generated content at `path` (`{{PAGE_URL}}`/`{{BASE}}` filled in for HTML)."""
        self.httpd.extra[path] = (body.encode() if isinstance(body, str) else body, ctype)
        return self.url(path)

    def add_prefix(self, prefix: str, body: bytes | str, ctype: str = "text/html; charset=utf-8") -> None:
        """Serve the same content at every path under `prefix` (one URL per run, one contact each)."""
        self.httpd.extra_prefixes[prefix] = (body.encode() if isinstance(body, str) else body, ctype)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# ---- the companion as a subprocess -----------------------------------------------------------


class CompanionProcess:
    """`kith serve` in a subprocess on a fixed port, so it can be stopped and started again."""

    def __init__(
        self, db_path: Path, port: int | None = None, log_path: Path | None = None, *, datasette_port: int | None = None
    ):
        self.db_path = Path(db_path)
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        # Datasette too (the Kith pages), on this port; by default `kith serve` runs without it here.
        self.datasette_port = datasette_port or 0
        self.datasette_url = f"http://127.0.0.1:{datasette_port}" if datasette_port else None
        self.log_path = Path(log_path) if log_path else self.db_path.with_suffix(".log")
        self.proc: subprocess.Popen | None = None
        self._log = None

    # -- lifecycle --
    def start(self, timeout: float = START_TIMEOUT_S) -> "CompanionProcess":
        assert not self.running, "companion already running"
        self._log = open(self.log_path, "ab")
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [
                *KITH,
                "serve",
                "--db",
                str(self.db_path),
                "--port",
                str(self.port),
                "--datasette-port",
                str(self.datasette_port),
            ],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )  # its own process group: its extract workers go with it
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                code = self.proc.returncode
                self.stop()
                raise RuntimeError(f"companion exited with {code}:\n{self.log_tail()}")
            if self.ping():
                return self
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"companion did not answer /v1/ping in {timeout:.0f}s:\n{self.log_tail()}")
            time.sleep(0.1)

    def stop(self, timeout: float = 30.0) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)  # `kith serve` shuts down cleanly on SIGTERM
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)  # the group this class started, by its id
                proc.wait(10)
        if proc is not None:
            try:  # stray extract workers of that group, if any
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if self._log:
            self._log.close()
            self._log = None
        wait_until(lambda: not self._port_open(), timeout=timeout, what=f"port {self.port} to close")

    def restart(self) -> "CompanionProcess":
        self.stop()
        return self.start()

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def _port_open(self) -> bool:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.settimeout(0.5)
            return s.connect_ex(("127.0.0.1", self.port)) == 0

    def ping(self) -> bool:
        try:
            with urllib.request.urlopen(self.base_url + "/v1/ping", timeout=2) as resp:
                return json.load(resp).get("app") == "kith"
        except (OSError, ValueError):
            return False

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text("utf-8", "replace")[-chars:]
        except OSError:
            return ""

    # -- the CLI, as a user would run it --
    def _cli(self, *args: str) -> str:
        out = subprocess.run(
            [*KITH, *args, "--db", str(self.db_path)], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
        )
        return out.stdout

    def pair_code(self) -> str:
        """A fresh code from `kith pair` (its last stdout line)."""
        return self._cli("pair").strip().splitlines()[-1].strip()

    def new_token(self, name: str = "bench") -> str:
        return self._cli("token", "new", "--name", name).strip().splitlines()[-1].strip()

    # -- reading the database (plain sqlite3, read-only, so nothing here can change it) --
    def query(self, sql: str, params=()) -> list[sqlite3.Row]:
        con = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=30)
        try:
            con.row_factory = sqlite3.Row
            return con.execute(sql, params).fetchall()
        finally:
            con.close()

    def contact_for_url(self, url: str) -> sqlite3.Row | None:
        """The contact owning this page URL's identity (what the companion's lookup finds)."""
        from companion.identity import identities_for_url

        for ident in identities_for_url(url):
            rows = self.query(
                "SELECT c.* FROM contacts c JOIN identities i ON i.contact_id = c.id WHERE i.kind = ? AND i.value = ?",
                (ident["kind"], ident["value"]),
            )
            if rows:
                return rows[0]
        return None

    def tags_of(self, contact_id: int) -> list[str]:
        return [
            r[0]
            for r in self.query(
                "SELECT t.name FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id"
                " WHERE ct.contact_id = ? ORDER BY t.name",
                (contact_id,),
            )
        ]

    def count(self, table: str) -> int:
        return self.query(f"SELECT count(*) FROM {table}")[0][0]


# ---- the browser with the extension ---------------------------------------------------------


def extension_for_tests(dest: Path) -> Path:
    """A copy of `extension/` at `dest` whose manifest also grants the fixture pages' host.

    The shipped manifest asks only for the companion (`http://127.0.0.1/*`); pages are read through
    `activeTab`, granted by the user's click on the toolbar button or a menu entry. Tests drive the
    popup and the worker directly, with no such click, so this copy adds `TEST_HOST_PERMISSION` in
    its place. Only the files the browser loads are copied (no node_modules, tests or tools).
    """
    dest = Path(dest)
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(
        EXTENSION_DIR,
        dest,
        ignore=shutil.ignore_patterns(
            "node_modules", "test", "tools", "package.json", "package-lock.json", ".gitignore", "*.md"
        ),
    )
    manifest_path = dest / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    hosts = manifest.setdefault("host_permissions", [])
    if TEST_HOST_PERMISSION not in hosts:
        hosts.append(TEST_HOST_PERMISSION)
    manifest_path.write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return dest


def launch_extension(playwright, user_data_dir: Path | str, *, color_scheme: str = "light"):
    """A persistent Chromium context with the test copy of the unpacked extension loaded.

    Playwright drives Debian's Chromium (`CHROMIUM`); its own browser download is never used. The
    copy sits beside the profile directory, so it goes away with the test's temporary folder.
    """
    user_data_dir = Path(user_data_dir)
    extension_dir = extension_for_tests(user_data_dir.with_name(user_data_dir.name + "-extension"))
    ctx = playwright.chromium.launch_persistent_context(
        str(user_data_dir),
        executable_path=str(CHROMIUM),
        headless=True,
        args=chromium_args(extension_dir),
        color_scheme=color_scheme,
        viewport={"width": 1100, "height": 800},
    )
    ctx.set_default_timeout(UI_TIMEOUT_MS)
    return Extension(ctx)


class Extension:
    """Handles on the loaded extension: its worker, its pages, its message API."""

    wait_until = staticmethod(wait_until)  # for test modules, which cannot import a conftest

    def __init__(self, ctx):
        self.ctx = ctx
        sw = self._find_worker() or ctx.wait_for_event("serviceworker", timeout=UI_TIMEOUT_MS)
        self.id = sw.url.split("/")[2]
        # The background registers `globalThis.kith` at the end of its module: wait for it.
        wait_until(
            lambda: self.sw.evaluate("typeof globalThis.kith === 'object'"),
            timeout=30,
            what="the background's kith test hooks",
        )

    def _find_worker(self):
        workers = [w for w in self.ctx.service_workers if w.url.startswith("chrome-extension://")]
        return workers[-1] if workers else None

    @property
    def sw(self):
        """The current worker (MV3 may stop and restart it; a fresh handle is picked up)."""
        sw = self._find_worker()
        if sw is None:
            # Wake it: any extension page talking to the runtime starts the worker again.
            page = self.ctx.new_page()
            page.goto(self.url("options.html"))
            sw = self._find_worker() or self.ctx.wait_for_event("serviceworker", timeout=UI_TIMEOUT_MS)
            page.close()
        return sw

    def url(self, page: str) -> str:
        return f"chrome-extension://{self.id}/{page}"

    def call(self, type_: str, payload: dict | None = None):
        """`kith[type](payload)` in the worker: the same handlers the runtime messages reach."""
        return self.sw.evaluate("([t, p]) => globalThis.kith[t](p)", [type_, payload or {}])

    def status(self) -> dict:
        return self.call("status")

    def flush(self) -> dict:
        return self.call("flush")

    def badge(self) -> str:
        return self.sw.evaluate("chrome.action.getBadgeText({})")

    def wait_badge(self, text: str, timeout: float = 30.0) -> str:
        wait_until(lambda: self.badge() == text, timeout=timeout, what=f"badge {text!r}")
        return text

    def settings(self) -> dict:
        return self.sw.evaluate("chrome.storage.local.get('kith.settings').then(s => s['kith.settings'] || {})")

    # -- tabs and pages --
    def open_tab(self, url: str):
        """Open a web page in a new tab; returns (page, chrome tab id)."""
        page = self.ctx.new_page()
        page.goto(url, wait_until="load")
        tab_id = wait_until(
            lambda: self.sw.evaluate(
                "(u) => chrome.tabs.query({}).then(ts => (ts.find(t => t.url === u && t.status === 'complete') || {}).id || null)",
                url,
            ),
            timeout=30,
            what=f"a chrome tab for {url}",
        )
        return page, tab_id

    def open_popup(self, tab_id: int, *, width: int = 384, height: int = 760):
        """The popup, opened as a tab that targets `tab_id` (a tab-popup would target itself)."""
        page = self.ctx.new_page()
        page.set_viewport_size({"width": width, "height": height})
        page.goto(self.url(f"popup.html?tabId={tab_id}"))
        return page

    def open_options(self):
        page = self.ctx.new_page()
        page.goto(self.url("options.html"))
        return page

    # -- settings through the options page, as a user does it --
    def set_port(self, port: int, page=None):
        from playwright.sync_api import expect

        own = page is None
        page = page or self.open_options()
        page.fill("#port", str(port))
        page.click("#save-port")
        expect(page.locator("#companion-address")).to_have_text(f"http://127.0.0.1:{port}")
        if own:
            page.close()
        return page

    def pair(self, companion: CompanionProcess, page=None):
        """Options page: set the companion's port, enter a code from `kith pair`, click Pair."""
        from playwright.sync_api import expect

        own = page is None
        page = page or self.open_options()
        self.set_port(companion.port, page)
        expect(page.locator("#connection-status")).to_have_attribute("data-state", "connected")
        page.fill("#pair-code", companion.pair_code())
        page.click("#pair")
        expect(page.locator("#pair-state")).to_have_attribute("data-state", "paired")
        expect(page.locator("#pair-status")).to_have_attribute("data-state", "paired")
        expect(page.locator("#pair")).to_be_enabled()  # re-enabled once the post-pairing flush is done
        assert self.settings().get("token"), "pairing did not store a token"
        if own:
            page.close()
        return page

    def close(self) -> None:
        self.ctx.close()


# ---- pytest fixtures ----------------------------------------------------------------------


SKIP_REASON = "KITH_SKIP_BROWSER is set: the browser tests were NOT run"


def pytest_collection_modifyitems(config, items):
    """`KITH_SKIP_BROWSER=1` is the only way to leave the browser tests out; it is reported loudly."""
    if SKIP_BROWSER:
        for item in items:
            if item.get_closest_marker("browser"):
                item.add_marker(pytest.mark.skip(reason=SKIP_REASON))


def pytest_terminal_summary(terminalreporter):
    if SKIP_BROWSER:
        terminalreporter.section("BROWSER TESTS SKIPPED", sep="!", red=True, bold=True)
        terminalreporter.write_line(
            "KITH_SKIP_BROWSER is set: the extension and Datasette pages were not tested "
            "in a browser. Unset it (and install Chromium) for a full run.",
            red=True,
            bold=True,
        )


def chromium_problem() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        return (
            f"the browser tests need Chromium at {CHROMIUM}, and there is none. Fix: `make chromium` "
            "(installs Debian's chromium; needs root or sudo), or set KITH_CHROMIUM=/path/to/chromium. "
            "To run everything else without them, set KITH_SKIP_BROWSER=1 (reported as skipped)."
        )
    return None


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    problem = chromium_problem()
    if problem:
        pytest.fail(problem, pytrace=False)
    return CHROMIUM


@pytest.fixture
def playwright_instance(chromium_path):
    # Per test, not per session: a started sync Playwright leaves its event loop marked as running
    # in this thread, which would break every pytest-asyncio test collected after the browser tests.
    from playwright import sync_api  # a test dependency: missing means a broken install, not a skip

    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    pw = sync_api.sync_playwright().start()
    sync_api.expect.set_options(timeout=UI_TIMEOUT_MS)
    yield pw
    pw.stop()


@pytest.fixture(scope="session")
def pages():
    server = PageServer()
    yield server
    server.close()


@pytest.fixture
def companion_proc(tmp_path):
    """A running `kith serve` on a fresh database; `.stop()`, `.start()`, `.restart()` as needed."""
    proc = CompanionProcess(tmp_path / "kith.db", log_path=tmp_path / "companion.log")
    proc.start()
    yield proc
    proc.stop()


@pytest.fixture
def ext(playwright_instance, tmp_path):
    """A fresh Chromium profile with the extension loaded (empty queue, no token)."""
    extension = launch_extension(playwright_instance, tmp_path / "chromium-profile")
    yield extension
    extension.close()


@pytest.fixture
def paired_ext(ext, companion_proc):
    ext.pair(companion_proc)
    return ext


@pytest.fixture
def screenshots_dir() -> Path:
    SCREENSHOTS_DIR.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS_DIR


__all__ = [
    "CompanionProcess",
    "Extension",
    "PageServer",
    "SCREENSHOTS_DIR",
    "free_port",
    "launch_extension",
    "wait_until",
]


@pytest.fixture
def page(playwright_instance, chromium_path):
    """A Chromium tab (no extension) for the Datasette pages; any dialog (an XSS that ran) fails the test."""
    browser = playwright_instance.chromium.launch(executable_path=str(chromium_path), headless=True, args=CHROMIUM_ARGS)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    tab = context.new_page()
    tab.dialogs = []
    tab.on("dialog", lambda dialog: (tab.dialogs.append(dialog.message), dialog.dismiss()))
    yield tab
    assert tab.dialogs == [], f"a dialog opened: {tab.dialogs}"
    context.close()
    browser.close()
