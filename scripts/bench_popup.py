"""Popup Save → row committed in SQLite, for a ~2 MB profile page, in headless Chromium.

    .venv/bin/python scripts/bench_popup.py [--runs 5] [--size 2000000] [--json]

What is timed (median over `--runs`, after one warm-up):

* popup_save_to_commit: from the Save click in the popup (timestamped in the page) to the
  moment the capture row is visible in the SQLite file (polled every few ms from here).
  The path: the popup compressed the page (html_z) while its preview ran → runtime message →
  service worker writes the capture to chrome.storage.local → reads it back → fetch POST to
  the companion → the worker inflates and hashes the page and reuses the preview's extraction
  → one write transaction. Target: under 150 ms.
* popup_save_to_sent: the same click to the popup showing "Saved" (the response came back).
* server_ingest_direct_post: a plain JSON body with the same page POSTed to /v1/captures with
  urllib from here, never previewed (loopback transfer + the companion's whole ingest, no browser).
* server_preview_extract: /v1/preview of the same page (transfer + JSON + extraction, no write).
* extract_in_process: `companion.extract.extract_page` called directly (pure parsing).
* sw_storage_set / runtime_message: the two browser-side steps that carry a page-sized string,
  timed alone inside the extension (the Save path now moves the compressed page instead).

`run() -> list[dict]` returns rows `{name, figure_ms, reference_ms, ratio, note}` for `make bench`.
Uses Debian's Chromium at /usr/bin/chromium (or $KITH_CHROMIUM); never downloads a browser.
"""

from __future__ import annotations

import argparse
import html as htmllib
import importlib.util
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for extra in (ROOT, ROOT / "tests"):  # the harness imports `ports` from tests/
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

RUNS = 5
TARGET_BYTES = 2_000_000
TIMEOUT_MS = 120_000


def _harness():
    """The browser-test harness (PageServer, CompanionProcess, launch_extension), loaded by path."""
    spec = importlib.util.spec_from_file_location("kith_browser_harness", ROOT / "tests" / "browser" / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---- a ~2 MB LinkedIn-like profile page ----------------------------------------------------

FIRST = [
    "Ada",
    "Grace",
    "Alan",
    "Katherine",
    "Edsger",
    "Barbara",
    "Donald",
    "Frances",
    "John",
    "Margaret",
    "Dennis",
    "Radia",
    "Ken",
    "Hedy",
    "Tim",
    "Sophie",
    "Linus",
    "Anita",
    "Guido",
    "Shafi",
]
LAST = [
    "Lovelace",
    "Hopper",
    "Turing",
    "Johnson",
    "Dijkstra",
    "Liskov",
    "Knuth",
    "Allen",
    "McCarthy",
    "Hamilton",
    "Ritchie",
    "Perlman",
    "Thompson",
    "Lamarr",
    "Berners-Lee",
    "Wilson",
    "Torvalds",
    "Borg",
]
COMPANIES = [
    "Analytical Engines Ltd",
    "Difference Works",
    "Babbage & Co",
    "Jacquard Looms",
    "Eckert Systems",
    "Bletchley Data",
    "Harvard Mark Labs",
    "Univac Services",
    "Plankalkül GmbH",
    "Colossus Partners",
]
WORDS = (
    "compiler notation engine loom punch card memory register program analysis bernoulli numbers "
    "algorithm operation variable store mill cycle table proof machine language team product launch "
    "hiring mentoring conference keynote research paper open source community design review"
).split()


def _sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def make_big_profile_page(target_bytes: int = TARGET_BYTES, seed: int = 1) -> str:
    """A realistic-shaped profile page of about `target_bytes`: JSON-LD Person, heavy inline CSS and
    JSON state blobs (as LinkedIn embeds), experience, an activity feed and "people also viewed".
    `{{PAGE_URL}}` / `{{BASE}}` are filled in by the page server."""
    rng = random.Random(seed)
    person = {
        "@context": "https://schema.org",
        "@type": "Person",
        "name": "Ada Lovelace",
        "givenName": "Ada",
        "familyName": "Lovelace",
        "url": "{{PAGE_URL}}",
        "image": "{{BASE}}/avatars/ada.svg",
        "jobTitle": "Principal Engineer",
        "worksFor": {"@type": "Organization", "name": "Analytical Engines Ltd"},
        "address": {"@type": "PostalAddress", "addressLocality": "London", "addressCountry": "GB"},
        "description": "Compilers for difference machines.",
    }
    head = [
        '<!doctype html><html lang="en"><head><meta charset="utf-8">',
        "<title>Ada Lovelace – Principal Engineer – Analytical Engines Ltd | Profile</title>",
        '<link rel="canonical" href="{{PAGE_URL}}">',
        f'<script type="application/ld+json">{json.dumps(person)}</script>',
        "<style>"
        + "".join(
            f".artdeco-card-{i}{{margin:{i % 7}px;padding:{i % 5}px {i % 9}px;color:#{rng.randrange(0xFFFFFF):06x}}}"
            for i in range(2500)
        )
        + "</style>",
        '</head><body class="render-mode-BIGPIPE"><div id="app">',
        '<main><section class="top-card"><img class="pv-top-card-profile-picture__image" '
        'src="{{BASE}}/avatars/ada.svg" alt="Ada Lovelace"><h1 class="text-heading-xlarge">Ada Lovelace</h1>'
        '<div class="text-body-medium">Principal Engineer at Analytical Engines Ltd</div>'
        '<span class="text-body-small">London, England, United Kingdom</span></section>',
        '<section id="experience"><h2>Experience</h2><ul>',
    ]
    body = head
    for i in range(40):
        body.append(
            f'<li class="artdeco-list__item"><div class="t-bold">{htmllib.escape(_sentence(rng, 3), quote=False)}</div>'
            f'<span class="t-14">{rng.choice(COMPANIES)} · Full-time</span>'
            f'<span class="t-black--light">{2024 - i} – {2025 - i}</span>'
            f"<p>{htmllib.escape(_sentence(rng, 30), quote=False)}</p></li>"
        )
    body.append('</ul></section><section id="activity"><h2>Activity</h2>')
    size = sum(len(x) for x in body)
    i = 0
    tail = "</div></body></html>"
    while size < target_bytes - 400:
        i += 1
        kind = i % 4
        if kind == 0:  # an embedded JSON state blob, as single-page apps ship
            blob = {
                "data": {
                    "entityUrn": f"urn:li:activity:{7000000000 + i}",
                    "$type": "com.example.Update",
                    "included": [
                        {
                            "entityUrn": f"urn:li:fsd_profile:ACo{rng.randrange(10**12)}",
                            "firstName": rng.choice(FIRST),
                            "lastName": rng.choice(LAST),
                            "headline": _sentence(rng, 8),
                        }
                        for _ in range(6)
                    ],
                }
            }
            chunk = (
                f'<code style="display:none" id="bpr-guid-{i}">{htmllib.escape(json.dumps(blob), quote=False)}</code>'
            )
        elif kind == 3:  # people also viewed
            name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
            chunk = (
                f'<li class="pv-browsemap-section__member"><a href="{{{{BASE}}}}/in/member-{i}/">'
                f'<span class="name">{name}</span></a><p class="headline">{htmllib.escape(_sentence(rng, 9), quote=False)}'
                f'</p><button class="artdeco-button" aria-label="Connect with {name}">Connect</button></li>'
            )
        else:  # a feed post
            chunk = (
                f'<article class="feed-shared-update-v2" data-urn="urn:li:activity:{7000000000 + i}">'
                f'<div class="update-components-text"><span dir="ltr">{htmllib.escape(_sentence(rng, 60), quote=False)}'
                f'</span></div><div class="social-details"><span>{rng.randrange(900)} reactions</span>'
                f"<span>{rng.randrange(90)} comments</span></div></article>"
            )
        body.append(chunk)
        size += len(chunk)
    body.append("</section></main>")
    body.append(tail)
    return "".join(body)


# ---- measuring ----------------------------------------------------------------------------


def _median(values):
    return statistics.median(values) if values else None


def _post(url: str, body: bytes, token: str, timeout: float = 120) -> tuple[int, dict]:
    req = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}", "X-Kith-API-Version": "1"},
    )
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return resp.status, json.loads(resp.read())


def _wait_row(db_path: Path, url: str, timeout_s: float = 120.0, interval_s: float = 0.002) -> float:
    """Epoch ms at which a capture row for `url` is first seen committed."""
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)
    try:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if con.execute("SELECT 1 FROM captures WHERE url = ? LIMIT 1", (url,)).fetchone():
                return time.time() * 1000
            time.sleep(interval_s)
    finally:
        con.close()
    raise TimeoutError(f"no capture row for {url} after {timeout_s:.0f}s")


ARM_AND_CLICK = """() => {
  window.__kithSentAt = null;
  const status = document.getElementById('status');
  new MutationObserver(() => {
    if (status.dataset.state === 'sent' && window.__kithSentAt === null)
      window.__kithSentAt = performance.timeOrigin + performance.now();
  }).observe(status, { attributes: true, attributeFilter: ['data-state'] });
  const t0 = performance.timeOrigin + performance.now();
  document.getElementById('save').click();
  return t0;
}"""

STORAGE_SET = """async (n) => {
  const s = 'x'.repeat(n);
  const t = performance.now();
  await chrome.storage.local.set({ 'bench.blob': { html: s } });
  const d = performance.now() - t;
  await chrome.storage.local.remove('bench.blob');
  return d;
}"""

RUNTIME_MESSAGE = """async (n) => {
  const pad = 'x'.repeat(n);
  const t = performance.now();
  await chrome.runtime.sendMessage({ type: 'status', pad });
  return performance.now() - t;
}"""


def _popup_runs(h, ext, pages, companion, runs: int, prefix: str) -> dict:
    from playwright.sync_api import expect

    commit, sent, sizes = [], [], []
    for i in range(runs + 1):  # the first is a warm-up
        url = pages.url(f"{prefix}{i}/")
        page, tab_id = ext.open_tab(url)
        sizes.append(len(page.evaluate("document.documentElement.outerHTML").encode("utf-8")))
        popup = ext.open_popup(tab_id)
        expect(popup.locator("#status")).to_have_attribute("data-state", "ready", timeout=TIMEOUT_MS)
        popup.fill("#note", "bench")
        t0 = popup.evaluate(ARM_AND_CLICK)
        t_commit = _wait_row(companion.db_path, url)
        expect(popup.locator("#status")).to_have_attribute("data-state", "sent", timeout=TIMEOUT_MS)
        t_sent = popup.evaluate("window.__kithSentAt")
        if i:
            commit.append(t_commit - t0)
            sent.append(t_sent - t0)
        popup.close()
        page.close()
    return {"commit": commit, "sent": sent, "bytes": max(sizes)}


def _server_runs(companion, pages, html: str, runs: int, token: str) -> dict:
    direct, preview = [], []
    for i in range(runs + 1):
        url = pages.url(f"/in/direct-{i}/")
        page_html = html.replace(pages.url("/in/bench-0/"), url)
        body = json.dumps(
            {
                "capture_id": str(uuid.uuid4()),
                "kind": "profile",
                "url": url,
                "title": "Ada Lovelace – Principal Engineer – Analytical Engines Ltd | Profile",
                "html": page_html,
                "note": "bench",
                "captured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            }
        ).encode()
        pv_body = json.dumps({"url": url, "html": page_html}).encode()
        t = time.perf_counter()
        status, _ = _post(companion.base_url + "/v1/preview", pv_body, token)
        t_preview = (time.perf_counter() - t) * 1000
        assert status == 200, status
        t = time.perf_counter()
        status, answer = _post(companion.base_url + "/v1/captures", body, token)
        t_direct = (time.perf_counter() - t) * 1000
        assert status == 201 and not answer.get("duplicate"), (status, answer)
        if i:
            preview.append(t_preview)
            direct.append(t_direct)
    return {"direct": direct, "preview": preview}


def _in_process_extract(html: str, url: str, runs: int) -> list[float]:
    from companion.extract import extract_page

    out = []
    for i in range(runs + 1):
        t = time.perf_counter()
        extract_page(html, url, None)
        if i:
            out.append((time.perf_counter() - t) * 1000)
    return out


def _row(name, figure, reference, note):
    ratio = round(figure / reference, 2) if figure is not None and reference else None
    return {
        "name": name,
        "figure_ms": None if figure is None else round(figure, 1),
        "reference_ms": None if reference is None else round(reference, 1),
        "ratio": ratio,
        "note": note,
    }


def run(runs: int = RUNS, target_bytes: int = TARGET_BYTES) -> list[dict]:
    h = _harness()
    problem = h.chromium_problem()
    if problem:
        return [_row("popup_save_to_commit_2mb", None, None, f"skipped: {problem}")]
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    from playwright.sync_api import sync_playwright

    big = make_big_profile_page(target_bytes)
    with tempfile.TemporaryDirectory(prefix="kith-bench-popup-") as tmp:
        tmp = Path(tmp)
        pages = h.PageServer()
        pages.add_prefix("/in/", big)
        pages.add("/avatars/ada.svg", (h.PAGES_DIR / "avatars" / "ada.svg").read_bytes(), "image/svg+xml")
        companion = h.CompanionProcess(tmp / "kith.db", log_path=tmp / "companion.log").start()
        pw = sync_playwright().start()
        ext = None
        try:
            ext = h.launch_extension(pw, tmp / "chromium-profile")
            ext.pair(companion)
            popup = _popup_runs(h, ext, pages, companion, runs, "/in/bench-")
            # Browser-side steps alone, with a payload of the page's size.
            storage = [ext.sw.evaluate(STORAGE_SET, popup["bytes"]) for _ in range(runs)]
            opts = ext.open_options()
            message = [opts.evaluate(RUNTIME_MESSAGE, popup["bytes"]) for _ in range(runs)]
            opts.close()
            # The exact HTML the extension read, for the server-side references.
            tab, _ = ext.open_tab(pages.url("/in/bench-0/"))
            live_html = tab.evaluate("document.documentElement.outerHTML")
            tab.close()
        finally:
            if ext is not None:
                ext.close()
            pw.stop()
        try:
            token = companion.new_token("bench")
            server = _server_runs(companion, pages, live_html, runs, token)
        finally:
            companion.stop()
            pages.close()
        extract = _in_process_extract(live_html, "http://localhost:1/in/bench-0/", runs)

    commit, sent = _median(popup["commit"]), _median(popup["sent"])
    direct, preview, inproc = _median(server["direct"]), _median(server["preview"]), _median(extract)
    st, msg = _median(storage), _median(message)
    mb = popup["bytes"] / 1e6
    shares = (
        f"{mb:.2f} MB page. The Save reuses the extraction its preview made of the same page (sent compressed "
        f"as html_z), so it is not parsed twice; the direct POST (plain JSON, never previewed) parses it "
        f"(≈ {preview:.0f} ms = /v1/preview)"
    )
    return [
        _row(
            "popup_save_to_commit_2mb",
            commit,
            direct,
            f"Save click → capture row committed, median of {runs}; ref = direct POST of the same page; {shares}",
        ),
        _row("popup_save_to_sent_2mb", sent, commit, "Save click → popup shows Saved; ref = click → commit"),
        _row(
            "server_ingest_direct_post_2mb",
            direct,
            preview,
            "urllib POST /v1/captures of the same body (no browser); ref = /v1/preview",
        ),
        _row(
            "server_preview_extract_2mb",
            preview,
            inproc,
            "POST /v1/preview (transfer + JSON + extraction in the worker pool); ref = extract_page in-process",
        ),
        _row("sw_storage_set_2mb", st, commit, "chrome.storage.local.set of a page-sized string in the worker"),
        _row("runtime_message_2mb", msg, commit, "extension page → worker sendMessage round trip, page-sized"),
    ]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=RUNS)
    ap.add_argument("--size", type=int, default=TARGET_BYTES, help="page size in bytes (default 2 MB)")
    ap.add_argument("--json", action="store_true", help="print rows as JSON")
    args = ap.parse_args(argv)
    rows = run(args.runs, args.size)
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return 0
    print(f"{'name':<32} {'figure_ms':>10} {'reference_ms':>13} {'ratio':>7}")
    for r in rows:
        fmt = lambda v: "-" if v is None else f"{v}"  # noqa: E731
        print(f"{r['name']:<32} {fmt(r['figure_ms']):>10} {fmt(r['reference_ms']):>13} {fmt(r['ratio']):>7}")
    print()
    for r in rows:
        print(f"- {r['name']}: {r['note']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
