"""Today in headless Debian Chromium, served by a real `kith serve` (companion and Datasette).

A fresh database opens on Today's onboarding at /; after `kith demo`, Today lists reconnects, job
changes, upcoming birthdays and merge suggestions; Merge merges (one contact fewer, both timelines
on the survivor); "Not the same person" removes a suggestion for good; a relationship is recorded by
typing part of a name and picking it. The README's Today screenshots are taken here (into
`$KITH_SCREENSHOTS_DIR`; `make screenshots` refreshes docs/screenshots/). `make test` runs it on
Datasette 0.65 and 1.0.
"""

from __future__ import annotations

import subprocess
import urllib.request
from pathlib import Path

import pytest

from companion.store import contacts
from companion.store.db import open_db

from .conftest import KITH, ROOT, SCREENSHOTS_DIR, CompanionProcess, free_port, wait_until

pytestmark = pytest.mark.browser

DEMO_CONTACTS = 400


def datasette_up(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/-/versions.json", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def serve(tmp_path: Path, *, demo: bool) -> CompanionProcess:
    db = tmp_path / "kith.db"
    if demo:
        subprocess.run(
            [*KITH, "demo", "--db", str(db), "--contacts", str(DEMO_CONTACTS), "--seed", "4"],
            cwd=ROOT,
            check=True,
            capture_output=True,
            timeout=300,
        )
    proc = CompanionProcess(db, log_path=tmp_path / "kith-serve.log", datasette_port=free_port())
    proc.start()
    wait_until(lambda: datasette_up(proc.datasette_url), timeout=90, what="Datasette under kith serve")
    return proc


@pytest.fixture
def fresh(chromium_path, tmp_path):
    proc = serve(tmp_path, demo=False)
    yield proc
    proc.stop()


@pytest.fixture
def demo(chromium_path, tmp_path):
    proc = serve(tmp_path, demo=True)
    yield proc
    proc.stop()


def shoot(tab, name: str) -> Path:
    SCREENSHOTS_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS_DIR / name
    tab.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
    return path


def test_a_fresh_database_opens_on_todays_onboarding(fresh, page):
    from playwright.sync_api import expect

    page.goto(fresh.datasette_url + "/")
    assert page.url == fresh.datasette_url + "/-/kith/today"
    onboarding = page.locator("#kith-onboarding")
    expect(onboarding).to_be_visible()
    expect(onboarding.locator(".kith-steps > li")).to_have_count(3)
    for text in (
        "Load unpacked",
        "kith pair",
        "Save someone",
        "kith import linkedin",
        "kith import vcard",
        "make demo",
    ):
        expect(onboarding).to_contain_text(text)
    shoot(page, "today-empty.png")
    # Datasette's own index is one click away; the Kith menu entry leads back to Today.
    page.click("#kith-datasette-index")
    expect(page.locator("h1")).to_contain_text("Datasette")
    expect(page.locator("h2 a[href='/kith']")).to_have_text("kith")  # the database, with all its tables
    assert page.locator("a[href='/-/kith/today']", has_text="Kith").count() == 1


def test_after_the_demo_today_lists_the_days_work(demo, page):
    from playwright.sync_api import expect

    page.goto(demo.datasette_url + "/")
    expect(page.locator("h1")).to_have_text("Today")
    expect(page.locator("#kith-onboarding")).to_have_count(0)
    expect(page.locator("#kith-today-reconnect .kith-queue-item")).to_have_count(10)  # the weekly capacity
    expect(page.locator("#kith-today-reconnect .kith-reason").first).to_contain_text("you wanted every")
    assert page.locator("#kith-today-jobs .kith-today-item").count() >= 1
    expect(page.locator("#kith-today-jobs")).to_contain_text("now ")
    expect(page.locator("#kith-today-upcoming")).to_contain_text("Birthday")
    assert page.locator("#kith-today-merges .kith-merge-pair").count() >= 1
    expect(page.locator("#kith-unparsed")).to_contain_text("extraction timed out")
    shoot(page, "today-demo.png")


def test_merge_from_today_merges_both_timelines(demo, page):
    from playwright.sync_api import expect

    page.goto(demo.datasette_url + "/-/kith/today")
    pair = page.locator("#kith-today-merges .kith-merge-pair").first
    keep, drop = int(pair.get_attribute("data-keep")), int(pair.get_attribute("data-drop"))
    notes = {
        cid: [r[0] for r in demo.query("SELECT body FROM notes WHERE contact_id = ? ORDER BY created_at DESC", (cid,))]
        for cid in (keep, drop)
    }
    assert notes[keep] and notes[drop]
    before = demo.count("contacts")
    with page.expect_navigation():
        pair.locator("button.kith-merge").click()
    assert page.url == f"{demo.datasette_url}/-/kith/contacts/{keep}"
    expect(page.locator(".message-info")).to_contain_text("Merged")
    assert demo.count("contacts") == before - 1
    assert demo.query("SELECT count(*) FROM contacts WHERE id = ?", (drop,))[0][0] == 0
    timeline = page.locator("#kith-timeline")
    expect(timeline).to_contain_text(notes[keep][0])
    expect(timeline).to_contain_text(notes[drop][0])
    expect(timeline).to_contain_text("merged with a duplicate record")
    page.goto(demo.datasette_url + "/-/kith/today")
    expect(page.locator(f"#kith-today-merges [data-drop='{drop}']")).to_have_count(0)


def test_not_the_same_person_is_gone_for_good(demo, page):
    from playwright.sync_api import expect

    page.goto(demo.datasette_url + "/-/kith/today")
    pair = page.locator("#kith-today-merges .kith-merge-pair").last
    keep, drop = int(pair.get_attribute("data-keep")), int(pair.get_attribute("data-drop"))
    with page.expect_navigation():
        pair.locator("button.kith-not-same").click()
    assert page.url == demo.datasette_url + "/-/kith/today"
    expect(page.locator(".message-info")).to_contain_text("not the same person")
    gone = page.locator(f"#kith-today-merges [data-keep='{keep}'][data-drop='{drop}']")
    expect(gone).to_have_count(0)
    # Suggested again by whatever would suggest it (here, the store, from another process): still gone.
    db = open_db(demo.db_path)
    contacts.suggest_merge(db, keep, drop, 100.0, "they share an identity")
    db.close()
    page.reload()
    expect(gone).to_have_count(0)
    assert (
        demo.query("SELECT status FROM merge_suggestions WHERE contact_id = ? AND other_contact_id = ?", (keep, drop))[
            0
        ][0]
        == "dismissed"
    )


def test_a_relationship_by_typing_part_of_a_name(demo, page):
    from playwright.sync_api import expect

    rows = demo.query(
        "SELECT c.id, c.name FROM contacts c WHERE c.is_me = 0 AND c.name IN"
        " (SELECT name FROM contacts GROUP BY name HAVING count(*) = 1) ORDER BY c.id LIMIT 2"
    )
    (this_id, _), (other_id, other_name) = rows
    first, last = other_name.split(" ", 1)
    page.goto(f"{demo.datasette_url}/-/kith/contacts/{this_id}")
    box = page.locator("#kith-relationship-form input[data-kith-picker]")
    box.click()
    box.press_sequentially(f"{first} {last[:2]}", delay=30)
    option = page.locator(f"#kith-relationship-form [role=option][data-id='{other_id}']")
    expect(option).to_be_visible()
    expect(option).to_contain_text(other_name)
    option.click()
    expect(box).to_have_value(other_name)
    assert page.locator("#kith-relationship-form input[type=hidden][name=other]").input_value() == str(other_id)
    page.select_option("#kith-relationship-form select[name=kind]", "works_with")
    with page.expect_navigation():
        page.click("#kith-relationship-form button[type=submit]")
    expect(page.locator(".message-info")).to_have_text("Relationship recorded")
    expect(page.locator(".kith-relationships")).to_contain_text(other_name)
    assert (
        demo.query(
            "SELECT count(*) FROM relationships WHERE from_contact_id = ? AND to_contact_id = ?"
            " AND kind = 'works_with'",
            (this_id, other_id),
        )[0][0]
        == 1
    )
    # The keyboard works too: the network page's "centre on", picked with arrows and Enter.
    page.goto(demo.datasette_url + "/-/kith/network")
    centre = page.locator("input[aria-label='Centre on person']")
    centre.click()
    centre.press_sequentially(other_name, delay=20)
    expect(page.locator("[role=option]").first).to_contain_text(other_name)
    centre.press("Enter")
    with page.expect_navigation():
        page.click(".kith-filters button[type=submit]")
    assert f"center={other_id}" in page.url
    expect(page.locator("#kith-graph")).to_have_attribute("data-ready", "true")
