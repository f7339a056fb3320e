"""Stress harness: a real `kith serve` subprocess on free loopback ports, plain HTTP helpers,
realistic capture bodies, database checks and process-tree memory readings.

Quick forms of every suite run under plain `make test`; the full forms need `KITH_STRESS=1`
(`make stress`). Everything is bounded: every loop has a count and a deadline.

Plain (sync) code where possible so `scripts/bench.py` can reuse `KithServer` without pytest.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from ports import free_port

ROOT = Path(__file__).resolve().parents[2]
PAGES = ROOT / "tests" / "fixtures" / "pages"
LINKEDIN_PAGE = PAGES / "linkedin_profile_2022.html"

STRESS = os.environ.get("KITH_STRESS", "") not in ("", "0")
SCALE_1M = os.environ.get("KITH_SCALE_1M", "") not in ("", "0")

# A 2-core CI box also running Chromium: generous, but every wait has an end.
START_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 30.0

# Codes the API documents (docs/PROTOCOL.md) plus the two the code adds (noted in BENCHMARKS.md).
DOCUMENTED_STATUSES = {200, 201, 400, 401, 403, 404, 405, 409, 412, 413, 415, 422}
DOCUMENTED_CODES = {
    "HOST_FORBIDDEN",
    "ORIGIN_FORBIDDEN",
    "VERSION_MISMATCH",
    "UNAUTHORIZED",
    "UNSUPPORTED_MEDIA_TYPE",
    "PAYLOAD_TOO_LARGE",
    "INVALID_JSON",
    "VALIDATION_ERROR",
    "UNKNOWN_KIND",
    "INVALID_URL",
    "CAPTURE_CONFLICT",
    "PAIRING_FAILED",
    "NOT_FOUND",
    "METHOD_NOT_ALLOWED",
    "INVALID_UNICODE",
    "UNKNOWN_CONTACT",
}


def scaled(quick, full):
    """The quick value under `make test`, the full one under `KITH_STRESS=1`."""
    return full if STRESS else quick


# ---- the kith command ------------------------------------------------------------------------


def kith_command(*args: str) -> list[str]:
    """The installed `kith` console script beside this interpreter (what users run)."""
    script = Path(sys.executable).with_name("kith")
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-c", "from companion.cli import main; main()", *args]


def run_kith(*args: str, timeout: float = 180.0) -> subprocess.CompletedProcess:
    return subprocess.run(kith_command(*args), cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=True)


def new_token(db_path: Path, name: str = "stress") -> str:
    """`kith token new` prints the token as its last line."""
    return run_kith("token", "new", "--name", name, "--db", str(db_path)).stdout.strip().splitlines()[-1]


# ---- process tree and memory -------------------------------------------------------------------


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read().decode("latin-1")
        except OSError:
            continue
        # pid (comm) state ppid ...; comm may contain spaces and parentheses.
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    return children


def process_tree(pid: int) -> list[int]:
    """`pid` and all its descendants (the forkserver, the extraction workers, the resource tracker)."""
    children = _children_map()
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        todo.extend(children.get(current, []))
    return out


def proc_status_kib(pid: int, key: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class MemorySampler:
    """Samples the server's process tree every `interval` s: the peak of the summed RSS, and each
    process's own high-water mark (VmHWM) so a worker replaced mid-run still counts."""

    def __init__(self, pid: int, interval: float = 0.25):
        self.pid = pid
        self.interval = interval
        self.peak_tree_rss_kib = 0
        self.hwm_by_pid: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> None:
        total = 0
        for pid in process_tree(self.pid):
            total += proc_status_kib(pid, "VmRSS")
            hwm = proc_status_kib(pid, "VmHWM")
            if hwm:
                self.hwm_by_pid[pid] = max(hwm, self.hwm_by_pid.get(pid, 0))
        self.peak_tree_rss_kib = max(self.peak_tree_rss_kib, total)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self):
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=5)
        self.sample()

    @property
    def main_hwm_kib(self) -> int:
        return self.hwm_by_pid.get(self.pid, 0)

    @property
    def tree_hwm_sum_kib(self) -> int:
        """Sum of every process's own peak: an upper bound on the tree's peak."""
        return sum(self.hwm_by_pid.values())


# ---- the server --------------------------------------------------------------------------------


class KithServer:
    """`kith serve` as a real subprocess in its own session (so its whole tree can be cleaned up)."""

    def __init__(self, db_path: Path, *, port: int | None = None, datasette: bool = True, log_path: Path | None = None):
        self.db_path = Path(db_path)
        self.port = port or free_port()
        self.datasette_port = free_port() if datasette else 0
        self.log_path = log_path or Path(tempfile.mkstemp(prefix="kith-serve-", suffix=".log")[1])
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def datasette_url(self) -> str:
        return f"http://127.0.0.1:{self.datasette_port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self, *, wait: bool = True, timeout: float = START_TIMEOUT_S) -> "KithServer":
        log = open(self.log_path, "ab")
        log.write(f"\n---- start {self.starts} ----\n".encode())
        log.flush()
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(
            kith_command(
                "serve",
                "--db",
                str(self.db_path),
                "--port",
                str(self.port),
                "--datasette-port",
                str(self.datasette_port),
            ),
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env=env,
        )
        log.close()
        self.starts += 1
        if wait:
            self.wait_ready(timeout)
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def ping(self, timeout: float = 2.0) -> bool:
        try:
            response = http_request("GET", self.port, "/v1/ping", timeout=timeout)
        except OSError:
            return False
        return response.status == 200

    def datasette_ready(self, timeout: float = 2.0) -> bool:
        if not self.datasette_port:
            return True
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.datasette_port, timeout=timeout)
            conn.request("GET", "/-/versions.json")
            ok = conn.getresponse().status == 200
            conn.close()
            return ok
        except OSError:
            return False

    def wait_ready(self, timeout: float = START_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise AssertionError(f"kith serve exited with {self.proc.returncode}:\n{self.log_tail()}")
            if self.ping() and self.datasette_ready():
                return
            time.sleep(0.1)
        raise AssertionError(f"kith serve did not answer within {timeout:.0f}s:\n{self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL the companion process only, as a crash would; its pool children die with it
        or are cleaned up by `cleanup_group` later."""
        if self.alive():
            os.kill(self.proc.pid, signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait(timeout=STOP_TIMEOUT_S)
        self.cleanup_group()

    def stop(self) -> int | None:
        """A clean SIGTERM shutdown; returns the exit code."""
        if self.proc is None:
            return None
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=STOP_TIMEOUT_S)
        self.cleanup_group()
        return self.proc.returncode

    def cleanup_group(self) -> None:
        """Kill what is left of this server's own session (leftover forkserver/workers), by its id."""
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def __enter__(self):
        return self.start() if self.proc is None else self

    def __exit__(self, *exc):
        self.stop()


# ---- HTTP --------------------------------------------------------------------------------------


@dataclass
class Response:
    status: int
    headers: dict = field(default_factory=dict)
    body: bytes = b""

    def json(self):
        return json.loads(self.body)

    @property
    def error_code(self) -> str | None:
        try:
            return self.json()["error"]["code"]
        except Exception:
            return None


def http_request(
    method: str,
    port: int,
    path: str,
    body: bytes | None = None,
    headers: dict | None = None,
    *,
    host: str | None = None,
    timeout: float = 60.0,
) -> Response:
    """One request on its own connection. `host` overrides the Host header (None: 127.0.0.1:port)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", host if host is not None else f"127.0.0.1:{port}")
        for key, value in (headers or {}).items():
            conn.putheader(key, value)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        response = conn.getresponse()
        data = response.read()
        return Response(response.status, {k.lower(): v for k, v in response.getheaders()}, data)
    finally:
        conn.close()


def raw_request(port: int, data: bytes, *, timeout: float = 30.0, close_after: bool = False) -> Response:
    """Bytes on a socket, for requests http.client refuses to send. `close_after` hangs up right
    after sending (a client that dies mid-request); the response is then empty."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        sock.sendall(data)
        if close_after:
            return Response(0)
        raw = b""
        while True:
            # Stop at the end of a Content-Length body: the server may keep reading (lingering)
            # what it refused before it closes.
            head, sep, rest = raw.partition(b"\r\n\r\n")
            if sep:
                match = re.search(rb"(?im)^content-length:\s*(\d+)\s*$", head)
                if match and len(rest) >= int(match.group(1)):
                    break
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            raw += chunk
    finally:
        sock.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    if not lines or not lines[0].startswith("HTTP/"):
        return Response(0, {}, raw)
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        key, _, value = line.partition(":")
        headers[key.strip().lower()] = value.strip()
    return Response(status, headers, body)


def api_headers(token: str | None, **extra) -> dict:
    headers = {"Content-Type": "application/json", "X-Kith-API-Version": "1"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    headers.update(extra)
    return headers


# ---- realistic captures ------------------------------------------------------------------------

_URN = "ACoAAB3xK9sBq1pX7yZ2w4vHn5T8uJcLmQeRfGs"
_PAGE_CACHE: dict[str, str] = {}


def linkedin_page(i: int) -> tuple[str, str]:
    """(url, html): the 41 KB LinkedIn fixture page turned into person number `i` (own name,
    profile URL and member URN, so every page is a distinct contact)."""
    source = _PAGE_CACHE.get("linkedin")
    if source is None:
        source = _PAGE_CACHE["linkedin"] = LINKEDIN_PAGE.read_text(encoding="utf-8")
    slug = f"stress-person-{i}"
    html = source.replace(_URN, f"ACoAAS{i:010d}{_URN[16:]}")
    html = re.sub("priya-raman-42b1a7", slug, html, flags=re.I)
    html = html.replace("Priya", f"Pat{i}").replace("Raman", f"Stress{i}")
    return f"https://www.linkedin.com/in/{slug}/", html


def profile_capture(i: int, **overrides) -> dict:
    url, html = linkedin_page(i)
    capture = {
        "capture_id": str(uuid.uuid4()),
        "kind": "profile",
        "url": url,
        "title": f"(3) Pat{i} Stress{i}, PhD | LinkedIn",
        "captured_at": "2026-11-27T10:00:00Z",
        "html": html,
        "note": f"stress note {i}",
        "tags": ["stress"],
        "circle": "professional",
    }
    capture.update(overrides)
    return capture


def note_capture(text: str, *, url: str | None = None, contact_id: int | None = None) -> dict:
    capture = {"capture_id": str(uuid.uuid4()), "kind": "note", "text": text}
    if url:
        capture["url"] = url
    if contact_id:
        capture["contact_id"] = contact_id
    return capture


def big_page(target_bytes: int) -> str:
    """The LinkedIn fixture padded with realistic-looking activity sections to `target_bytes`."""
    _, html = linkedin_page(900_000)
    block = (
        "<section class='artdeco-card pv-recent-activity'><div class='feed-shared-update-v2'>"
        "<span dir='ltr'>"
        + "Shipping the new consensus layer this week, thanks to the team. "
        * 12
        + "</span><a href='https://www.linkedin.com/feed/update/urn:li:activity:1/'>see more</a>"
        "</div></section>\n"
    )
    repeat = max(0, (target_bytes - len(html)) // len(block) + 1)
    return html.replace("</body>", block * repeat + "</body>")


# ---- the database ------------------------------------------------------------------------------


def connect_ro(db_path: Path) -> sqlite3.Connection:
    from companion.store.db import sqlite_uri

    conn = sqlite3.connect(sqlite_uri(db_path, mode="ro"), uri=True, timeout=30)
    conn.execute("PRAGMA busy_timeout = 30000")
    return conn


def table_names(conn: sqlite3.Connection) -> list[str]:
    return [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    ]


def row_counts(db_path: Path) -> dict[str, int]:
    """Rows in every table (FTS shadow tables included), read from a WAL snapshot."""
    conn = connect_ro(db_path)
    try:
        return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in table_names(conn)}
    finally:
        conn.close()


def integrity_check(db_path: Path, *, readonly: bool = True) -> str:
    conn = connect_ro(db_path) if readonly else sqlite3.connect(str(db_path), timeout=30)
    try:
        return "\n".join(r[0] for r in conn.execute("PRAGMA integrity_check"))
    finally:
        conn.close()


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def report(title: str, numbers: dict) -> None:
    """Print measured numbers (visible with -s, and in the captured output of a failure), and append
    them as one JSON line to $KITH_STRESS_REPORT when set, so BENCHMARKS.md can quote them."""
    line = json.dumps({"suite": title, **numbers}, default=str)
    print(f"\n[stress] {line}")
    out = os.environ.get("KITH_STRESS_REPORT")
    if out:
        with open(out, "a") as fh:
            fh.write(line + "\n")


@pytest.fixture
def server_factory(tmp_path):
    """Start servers on demand; every one started is stopped (and its tree cleaned) at teardown."""
    started: list[KithServer] = []

    def make(db_path: Path | None = None, **kwargs) -> KithServer:
        server = KithServer(db_path or tmp_path / "kith.db", log_path=tmp_path / f"serve-{len(started)}.log", **kwargs)
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()
