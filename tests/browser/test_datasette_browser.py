"""The Datasette pages in headless Debian Chromium, served by a real `datasette serve`.

The graph draws nodes, the contact page's form writes a note that shows in the
timeline, hostile captured text stays text (any dialog fails the test), and
the README screenshots are taken here (into `$KITH_SCREENSHOTS_DIR`; `make screenshots`
refreshes docs/screenshots/). `make test` runs it on Datasette 0.65 and 1.0.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from companion.store import activity, contacts
from companion.store.db import open_db
from datasette_plugins.config import takes_config

from .conftest import SCREENSHOTS_DIR, free_port, wait_until

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
XSS_NAME = "<img src=x onerror=alert(1)>"
XSS_NOTE = "<script>alert(1)</script> said to ping her after the launch"
NOW = datetime.now(timezone.utc)

PEOPLE = [  # name, company, title, circle, days since last contact, tags
    ("Priya Natarajan", "Acme Energy", "Head of Grid Analytics", "professional", 94, ["climate"]),
    ("Tom Okafor", "Acme Energy", "Data Engineer", "professional", 12, ["climate"]),
    ("Lena Fischer", "Acme Energy", "Product Manager", "professional", 160, []),
    ("Marco Rossi", "Globex", "CTO", "professional", 200, ["mentor"]),
    ("Aiko Tanaka", "Globex", "Staff Engineer", "both", 75, ["pycon"]),
    ("Sofia Alvarez", "Initech", "Founder", "professional", 30, ["pycon"]),
    ("Jonas Berg", "Initech", "Designer", "personal", 41, []),
    ("Grace Liu", "Umbrella Labs", "Research Scientist", "both", 130, ["climate"]),
    ("Omar Haddad", "Umbrella Labs", "ML Engineer", "professional", 5, []),
    ("Hannah Kim", None, None, "personal", 38, ["climbing"]),
    ("Diego Santos", None, None, "personal", 65, ["climbing"]),
    ("Chloe Martin", "Hooli", "Recruiter", "professional", 210, []),
    ("Ben Carter", "Hooli", "Engineering Manager", "professional", 88, ["mentor"]),
    ("Yara Costa", "Stark Ventures", "Partner", "professional", 300, []),
    ("Ravi Menon", "Stark Ventures", "Associate", "professional", 20, ["pycon"]),
    ("Nina Petrova", None, None, "personal", 9, []),
]
LINKS = [
    (0, "me", "knows"),
    (1, 0, "works_with"),
    (2, 0, "works_with"),
    (3, 4, "works_with"),
    (4, "me", "knows"),
    (5, 4, "introduced_by"),
    (6, 5, "works_with"),
    (7, 0, "introduced_by"),
    (8, 7, "works_with"),
    (9, "me", "knows"),
    (10, 9, "introduced_by"),
    (11, 12, "works_with"),
    (12, 3, "knows"),
    (13, 5, "introduced_by"),
    (14, 13, "works_with"),
    (15, 9, "knows"),
    ("mallory", 15, "knows"),
]


def iso(days_ago: float) -> str:
    return (NOW - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def seed(path: Path, *, hostile: bool) -> dict:
    """A believable small network (the screenshots use it as is) and, if asked, a hostile contact."""
    rng = random.Random(5)
    db = open_db(path)
    ids = {"me": contacts.create_contact(db, {"name": "You", "is_me": 1, "circle": "both"})}
    people = []
    for i, (name, company, title, circle, days, tags) in enumerate(PEOPLE):
        cid = contacts.create_contact(
            db,
            {
                "name": name,
                "company": company,
                "title": title,
                "circle": circle,
                "headline": f"{title} at {company}" if company else None,
                "location": rng.choice(["Lisbon", "Berlin", "London", "Toronto", "Singapore"]),
                "how_met": rng.choice(["PyCon 2023", "Climate Week", "via a friend", "old colleague"]),
                "created_at": iso(days + 200),
            },
        )
        people.append(cid)
        contacts.set_tags(db, cid, tags)
        activity.add_note(
            db,
            cid,
            f"Talked about {rng.choice(['grid storage', 'hiring', 'their new role', 'a side project'])}.",
            created_at=iso(days + 30),
        )
        activity.log_interaction(
            db, cid, rng.choice(["coffee", "call", "video"]), happened_at=iso(days), summary="Caught up"
        )
    db.execute("UPDATE tags SET keep_in_touch_days = 45 WHERE name = 'mentor'")
    priya = people[0]
    ids["priya"], ids["tom"] = priya, people[1]
    contacts.attach_identities(
        db,
        priya,
        [
            {"kind": "linkedin", "value": "priya-natarajan", "url": "https://www.linkedin.com/in/priya-natarajan"},
            {"kind": "github", "value": "priyan", "url": "https://github.com/priyan"},
        ],
    )
    activity.set_cadence(db, priya, 60)
    activity.add_messages(
        db,
        priya,
        [
            {
                "body": "Would love your take on our storage forecasting model.",
                "direction": "in",
                "sent_at": iso(96),
                "channel": "linkedin",
            }
        ],
    )
    activity.add_exchange(db, priya, "received", "Intro to the Acme grid team", kind="intro", happened_at=iso(100))
    activity.add_exchange(db, priya, "gave", "Reviewed her PyData talk", kind="advice", happened_at=iso(97))
    contacts.update_contact(
        db, priya, {"title": "VP Grid Analytics", "headline": "VP Grid Analytics at Acme Energy"}, now=iso(6)
    )
    if hostile:
        ids["mallory"], _ = contacts.resolve_and_upsert(
            db,
            {
                "name": XSS_NAME,
                "headline": '"><script>alert(2)</script>',
                "avatar_url": "javascript:alert(3)",
                "bio": "<svg onload=alert(4)>",
                "circle": "personal",
                "company": "Acme Energy",
                "created_at": iso(300),
            },
            [{"kind": "url", "value": "evil.example/x", "url": "javascript:alert(5)"}],
        )
        activity.add_note(db, ids["mallory"], XSS_NOTE, created_at=iso(90))
    for a, b, kind in LINKS if hostile else LINKS[:-1]:
        resolve = lambda x: ids[x] if isinstance(x, str) else people[x]  # noqa: E731
        activity.add_relationship(db, resolve(a), resolve(b), kind)
    db.conn.commit()
    db.close()
    ids["people"] = len(PEOPLE) + (2 if hostile else 1)
    return ids


class DatasetteServer:
    """`datasette serve` (uvicorn underneath) on a free loopback port, stopped by its own pid."""

    def __init__(self, db_path: Path, log_path: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(log_path, "wb")
        # As `kith serve` has it: the forms for the one local user, whom Datasette 1.0 would
        # not let write. A datasette.yaml (`-c`) on 1.0, metadata (`-m`) on 0.65.
        config = db_path.parent / "datasette.json"
        config.write_text(json.dumps({"plugins": {"kith": {"forms": "anyone"}}}))
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "datasette",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "-c" if takes_config() else "-m",
                str(config),
                str(db_path),
            ],
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        wait_until(self._ready, timeout=60, what="datasette to answer")

    def _ready(self) -> bool:
        assert self.proc.poll() is None, f"datasette exited with {self.proc.returncode}"
        try:
            with urllib.request.urlopen(self.url + "/-/versions.json", timeout=2) as resp:
                return resp.status == 200
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.log.close()


def _serve(tmp_path_factory, hostile: bool):
    tmp = tmp_path_factory.mktemp("kith-datasette")
    ids = seed(tmp / "kith.db", hostile=hostile)
    server = DatasetteServer(tmp / "kith.db", tmp / "datasette.log")
    return server, ids


@pytest.fixture(scope="module")
def served(chromium_path, tmp_path_factory):
    """The network the screenshots show (no server at all when Chromium is missing)."""
    server, ids = _serve(tmp_path_factory, hostile=False)
    yield server, ids
    server.stop()


@pytest.fixture(scope="module")
def hostile(chromium_path, tmp_path_factory):
    """The same network with a contact whose every field is an attack."""
    server, ids = _serve(tmp_path_factory, hostile=True)
    yield server, ids
    server.stop()


def shoot(tab, name: str, **kwargs) -> Path:
    SCREENSHOTS_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS_DIR / name
    tab.screenshot(path=str(path), **kwargs)
    assert path.stat().st_size > 10_000
    return path


def test_graph_page_renders_nodes_for_the_seeded_network(served, page):
    from playwright.sync_api import expect

    server, ids = served
    page.goto(server.url + "/-/kith/network")
    graph = page.locator("#kith-graph")
    expect(graph).to_have_attribute("data-ready", "true")
    people = page.evaluate("window.kithGraph.nodes('[kind = \"person\"]').length")
    orgs = page.evaluate("window.kithGraph.nodes('[kind = \"org\"]').length")
    assert people == ids["people"]
    assert orgs == 6  # Acme, Globex, Initech, Umbrella, Hooli, Stark: each with two or more people
    assert page.evaluate("window.kithGraph.edges().length") >= len(LINKS)
    expect(page.locator("#kith-graph-status")).to_contain_text(f"{ids['people']} people")
    assert page.locator("#kith-graph canvas").count() > 0
    # The drawing is real: some canvas layer has painted pixels.
    page.wait_for_function("""() => [...document.querySelectorAll('#kith-graph canvas')].some(c => {
        if (!c.width || !c.height) return false;
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        for (let i = 3; i < d.length; i += 16) if (d[i] !== 0) return true;
        return false; })""")
    page.wait_for_timeout(300)
    shoot(page, "network.png", full_page=True)
    # Tapping a node opens its panel; "how do I know" draws the path.
    page.evaluate(f"window.kithGraph.getElementById('{ids['priya']}').emit('tap'); null")
    expect(page.locator("#kith-panel")).to_contain_text("Priya Natarajan")
    expect(page.locator("#kith-panel a").first).to_have_attribute("href", f"/-/kith/contacts/{ids['priya']}")
    page.goto(server.url + f"/-/kith/network?path_to={ids['tom']}")
    expect(page.locator("#kith-path li")).to_have_count(3)  # You, Priya, Tom
    expect(page.locator("#kith-path")).to_contain_text("Priya Natarajan")


def test_centre_and_depth_limit_the_graph(served, page):
    from playwright.sync_api import expect

    server, ids = served
    page.goto(server.url + f"/-/kith/network?center={ids['priya']}&depth=1")
    expect(page.locator("#kith-graph")).to_have_attribute("data-ready", "true")
    shown = page.evaluate("window.kithGraph.nodes('[kind = \"person\"]').map(n => n.data('label')).sort()")
    assert shown == sorted(["Priya Natarajan", "You", "Tom Okafor", "Lena Fischer", "Grace Liu"])


def test_add_note_form_writes_a_note_that_appears_in_the_timeline(served, page):
    from playwright.sync_api import expect

    server, ids = served
    page.goto(server.url + f"/-/kith/contacts/{ids['tom']}")  # not Priya: her clock stays for the queue
    expect(page.locator("#kith-name")).to_have_text("Tom Okafor")
    text = f"Follow up on the storage pilot ({time.time():.0f})"
    page.fill("#kith-note-body", text)
    with page.expect_navigation():
        page.click("#kith-note-form button[type=submit]")
    assert page.url.endswith(f"/-/kith/contacts/{ids['tom']}")
    expect(page.locator(".message-info")).to_have_text("Note added")
    first = page.locator("#kith-timeline li").first
    expect(first).to_contain_text(text)
    expect(first.locator(".kith-badge")).to_have_text("note")
    page.goto(server.url + f"/-/kith/contacts/{ids['priya']}")
    expect(page.locator("#kith-name")).to_have_text("Priya Natarajan")
    shoot(page, "contact.png", full_page=True)


def test_hostile_name_and_note_appear_as_text_and_run_nothing(hostile, page):
    from playwright.sync_api import expect

    server, ids = hostile
    page.goto(server.url + f"/-/kith/contacts/{ids['mallory']}")
    expect(page.locator("#kith-name")).to_have_text(XSS_NAME)
    expect(page.locator("#kith-timeline")).to_contain_text(XSS_NOTE)
    expect(page.locator(".kith-headline")).to_have_text('"><script>alert(2)</script>')
    assert page.locator("img[src='x'], .kith-card svg, a[href^='javascript']").count() == 0
    for path in [
        "/-/kith/reconnect",
        "/-/kith/search?q=launch",
        "/-/kith/search?q=alert",
        f"/-/kith/network?path_to={ids['mallory']}",
        "/kith/contacts",
        "/kith/notes",
        "/kith/identities",
        f"/kith/contacts/{ids['mallory']}",
    ]:
        page.goto(server.url + path)
        page.wait_for_load_state("load")
        assert page.locator("a[href^='javascript'], img[src^='javascript'], img[src='x']").count() == 0, path
    page.goto(server.url + "/-/kith/search?q=launch")
    expect(page.locator("#kith-results")).to_contain_text("<script>alert(1)</script>")
    expect(page.locator("#kith-results mark").first).to_have_text("launch")
    page.goto(server.url + "/-/kith/network")
    expect(page.locator("#kith-graph")).to_have_attribute("data-ready", "true")
    page.evaluate(f"window.kithGraph.getElementById('{ids['mallory']}').emit('tap'); null")
    expect(page.locator("#kith-panel strong")).to_have_text(XSS_NAME)
    page.goto(server.url + f"/-/kith/network?path_to={ids['mallory']}")
    expect(page.locator("#kith-path li")).to_have_count(4)  # You, Hannah, Nina, the hostile contact
    expect(page.locator("#kith-path")).to_contain_text(XSS_NAME)
    page.goto(server.url + "/-/kith/reconnect")
    expect(page.locator("#kith-queue")).to_contain_text(XSS_NAME)
    page.wait_for_timeout(500)  # give any injected handler time to fire
    assert page.dialogs == [], f"hostile text ran script: {page.dialogs}"


def test_reconnect_queue(served, page):
    from playwright.sync_api import expect

    server, ids = served
    page.goto(server.url + "/-/kith/reconnect")
    items = page.locator("#kith-queue li")
    expect(items).to_have_count(10)  # the default weekly capacity
    expect(page.locator("#kith-queue")).to_contain_text("last spoke 94 days ago; you wanted every 60")
    expect(page.locator("#kith-queue")).not_to_contain_text("Tom Okafor")  # 12 days, every 90
    shoot(page, "reconnect.png", full_page=True)
