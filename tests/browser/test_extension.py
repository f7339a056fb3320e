"""The extension in a real headless Chromium against a real companion (issue 4, "What it must show").

Each test gets a fresh Chromium profile (empty queue, no token) and a fresh companion database.
Waits are on DOM state (`expect`) or on polled extension/database state, never fixed sleeps.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

NOTE = "Talked about Babbage's notation at the Thursday meetup; send her the Bernoulli paper."


def save_profile_from_popup(
    ext,
    tab_id,
    *,
    circle="both",
    tags="compilers, London meetup",
    how_met="Analytical Engines meetup",
    note=NOTE,
    headline=None,
    screenshot=None,
):
    """Open the popup on a fresh profile, fill the form, click Save and wait until it is sent."""
    popup = ext.open_popup(tab_id)
    status = popup.locator("#status")
    expect(status).to_have_attribute("data-state", "ready")  # lookup said "new", preview filled the form
    expect(popup.locator("#save-form")).to_be_visible()
    expect(popup.get_by_test_id("pair-first")).to_be_hidden()
    if headline is not None:
        popup.fill("#field-headline", headline)
    popup.select_option("#circle", circle)
    popup.fill("#tags", tags)
    popup.fill("#how-met", how_met)
    popup.fill("#note", note)
    if screenshot is not None:
        photo = popup.locator("#photo-preview")
        expect(photo).to_be_visible()
        ext.wait_until(
            lambda: photo.evaluate("img => img.complete && img.naturalWidth > 0"),
            timeout=20,
            what="the photo preview to load",
        )
        popup.locator("#save").focus()
        popup.locator("main").screenshot(path=str(screenshot), animations="disabled")
    popup.click("#save")
    expect(status).to_have_attribute("data-state", "sent")
    return popup


@pytest.mark.browser
def test_pair_then_save_profile_with_note_tags_and_circle(ext, companion_proc, pages, screenshots_dir):
    ext.pair(companion_proc)
    url = pages.url("people/ada-lovelace.html")
    _, tab_id = ext.open_tab(url)

    popup = ext.open_popup(tab_id)
    # What the companion found is shown, editable, before anything is saved.
    expect(popup.locator("#status")).to_have_attribute("data-state", "ready")
    expect(popup.locator("#field-name")).to_have_value("Ada Lovelace")
    expect(popup.locator("#field-company")).to_have_value("Analytical Engines Ltd")
    expect(popup.locator("#field-title")).to_have_value("Principal Engineer")
    assert companion_proc.count("captures") == 0, "preview must not write"
    popup.close()

    popup = save_profile_from_popup(
        ext,
        tab_id,
        circle="both",
        tags="compilers, London meetup",
        headline="Compilers for difference machines",
        screenshot=screenshots_dir / "popup.png",
    )
    expect(popup.locator("#status")).to_contain_text("Saved: Ada Lovelace")
    assert (screenshots_dir / "popup.png").stat().st_size > 5_000

    contact = companion_proc.contact_for_url(url)
    assert contact is not None, "no contact owns the page URL"
    assert contact["name"] == "Ada Lovelace"
    assert contact["circle"] == "both"
    assert contact["how_met"] == "Analytical Engines meetup"
    assert contact["headline"] == "Compilers for difference machines"  # the user's edit
    assert contact["company"] == "Analytical Engines Ltd"  # extracted, untouched
    assert companion_proc.tags_of(contact["id"]) == ["London meetup", "compilers"]
    notes = companion_proc.query("SELECT body, capture_id FROM notes WHERE contact_id = ?", (contact["id"],))
    assert [n["body"] for n in notes] == [NOTE]
    captures = companion_proc.query("SELECT id, kind, url, status, contact_id FROM captures")
    assert len(captures) == 1
    assert (captures[0]["kind"], captures[0]["url"], captures[0]["contact_id"]) == ("profile", url, contact["id"])
    assert captures[0]["status"] == "parsed"
    assert notes[0]["capture_id"] == captures[0]["id"]

    # Sent means deleted from the queue.
    status = ext.status()
    assert (status["waiting"], status["failed"]) == (0, 0)
    ext.wait_badge("")


@pytest.mark.browser
def test_reopened_popup_shows_already_saved_and_last_note(ext, companion_proc, pages):
    ext.pair(companion_proc)
    url = pages.url("people/ada-lovelace.html")
    _, tab_id = ext.open_tab(url)
    save_profile_from_popup(ext, tab_id).close()

    popup = ext.open_popup(tab_id)
    expect(popup.locator("#status")).to_have_attribute("data-state", "saved")
    expect(popup.locator("#status")).to_contain_text("Already saved")
    panel = popup.get_by_test_id("already-saved")
    expect(panel).to_be_visible()
    expect(popup.locator("#save-form")).to_be_hidden()  # no second save
    expect(popup.locator("#saved-name")).to_have_text("Ada Lovelace")
    expect(popup.locator("#saved-first")).not_to_have_text("unknown")
    expect(popup.locator("#last-note")).to_contain_text(NOTE)
    expect(popup.get_by_test_id("add-note")).to_be_visible()
    expect(popup.get_by_test_id("log-interaction")).to_be_visible()

    # "Add note" instead of a second save: Enter in the textarea sends it, and it becomes the last note.
    popup.fill("#add-note-text", "Sent the paper.")
    popup.press("#add-note-text", "Enter")
    expect(popup.locator("#status")).to_have_attribute("data-state", "sent")
    expect(popup.locator("#last-note")).to_contain_text("Sent the paper.")
    contact = companion_proc.contact_for_url(url)
    bodies = {r[0] for r in companion_proc.query("SELECT body FROM notes WHERE contact_id = ?", (contact["id"],))}
    assert bodies == {NOTE, "Sent the paper."}
    assert companion_proc.count("contacts") == 1


SELECT_POST = """() => {
  const p = document.querySelector('#post-bernoulli .body');
  const range = document.createRange();
  range.selectNodeContents(p);
  const sel = getSelection();
  sel.removeAllRanges();
  sel.addRange(range);
  return sel.toString();
}"""


@pytest.mark.browser
def test_save_selection_via_context_menu_path_stores_a_message(ext, companion_proc, pages):
    ext.pair(companion_proc)
    url = pages.url("people/ada-lovelace.html")
    page, tab_id = ext.open_tab(url)
    # The person is saved first (the keyboard-shortcut path), so the message can attach to them.
    saved = ext.call("save-page", {"tabId": tab_id})
    assert saved["state"] == "sent", saved
    contact = companion_proc.contact_for_url(url)
    assert contact is not None
    # The shortcut sends the page compressed (html_z), and the companion keeps the bytes that came:
    # the browser's CompressionStream writes the default zlib level (header 78 9c); the companion,
    # compressing a plain page itself, writes level 1 (78 01).
    [raw] = companion_proc.query("SELECT html FROM captures WHERE kind = 'profile' AND url = ?", [url])
    assert raw["html"][:2] == b"\x78\x9c", raw["html"][:2]

    selected = page.evaluate(SELECT_POST)
    assert "compose elaborate" in selected
    # The same function the context-menu handler calls for "Save selection to Kith as message".
    result = ext.call("save-selection", {"tabId": tab_id, "kind": "message"})
    assert result["state"] == "sent", result
    assert result["response"]["status"] == 201

    rows = companion_proc.query(
        "SELECT m.body, m.contact_id, m.thread_url, m.capture_id, c.kind AS capture_kind, c.url AS capture_url"
        " FROM messages m JOIN captures c ON c.id = m.capture_id"
    )
    assert len(rows) == 1
    row = rows[0]
    assert "compose elaborate and scientific pieces of music" in " ".join(row["body"].split())
    assert row["capture_kind"] == "message"
    assert row["capture_url"] == url
    assert row["thread_url"] == url
    assert row["contact_id"] == contact["id"], "the selection should attach to the page's contact"
    assert ext.status()["waiting"] == 0


@pytest.mark.browser
def test_captures_wait_while_companion_is_down_and_flush_exactly_once(ext, companion_proc, pages):
    ext.pair(companion_proc)
    urls = [pages.url("people/ada-lovelace.html"), pages.url("people/grace-hopper.html")]
    tabs = [ext.open_tab(u)[1] for u in urls]

    companion_proc.stop()
    for n, tab_id in enumerate(tabs, start=1):
        popup = ext.open_popup(tab_id)
        status = popup.locator("#status")
        expect(status).to_have_attribute("data-state", "waiting")  # lookup failed: companion not reachable
        expect(popup.locator("#save-form")).to_be_visible()
        popup.fill("#note", f"offline note {n}")
        popup.click("#save")
        expect(popup.locator("#save")).to_have_text("Queued")
        expect(popup.locator("#save")).to_be_disabled()
        expect(status).to_have_attribute("data-state", "waiting")
        expect(status).to_contain_text("waiting in the queue")
        popup.close()

    ext.wait_badge("2")
    status = ext.status()
    assert (status["waiting"], status["failed"], status["needsPairing"]) == (2, 0, False)
    queued_ids = {m["id"] for m in status["waitingItems"]}
    assert {m["url"] for m in status["waitingItems"]} == set(urls)
    assert companion_proc.count("captures") == 0

    companion_proc.start()
    first = ext.flush()
    assert first["waiting"] == 0 and first["failed"] == 0, first
    stored = companion_proc.query("SELECT id, kind, url FROM captures")
    assert {r["id"] for r in stored} == queued_ids  # exactly the two queued captures
    assert {r["url"] for r in stored} == set(urls)
    assert companion_proc.count("contacts") == 2
    assert sorted(r[0] for r in companion_proc.query("SELECT body FROM notes")) == ["offline note 1", "offline note 2"]
    ext.wait_badge("")

    second = ext.flush()
    assert second["sent"] == 0 and second["waiting"] == 0, second
    assert companion_proc.count("captures") == 2
    assert companion_proc.count("notes") == 2


@pytest.mark.browser
def test_unpaired_save_shows_pair_first_and_waits_in_queue(ext, companion_proc, pages):
    ext.set_port(companion_proc.port)  # configured, but never paired
    url = pages.url("people/ada-lovelace.html")
    _, tab_id = ext.open_tab(url)

    popup = ext.open_popup(tab_id)
    banner = popup.get_by_test_id("pair-first")
    status = popup.locator("#status")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("Pair first")
    expect(status).to_have_attribute("data-state", "needs_pairing")
    expect(popup.locator("#save-form")).to_be_visible()  # saving is still offered
    popup.fill("#note", NOTE)
    popup.select_option("#circle", "professional")
    popup.click("#save")
    expect(status).to_have_attribute("data-state", "needs_pairing")
    expect(status).to_contain_text("pair first")
    expect(popup.locator("#save")).to_have_text("Queued")
    expect(banner).to_be_visible()

    # Kept, not dropped: one waiting capture, flagged as needing pairing; nothing reached the companion.
    st = ext.status()
    assert (st["waiting"], st["failed"], st["needsPairing"], st["paired"]) == (1, 0, True, False)
    assert st["waitingItems"][0]["url"] == url
    ext.wait_badge("1")
    queued_id = st["waitingItems"][0]["id"]
    assert companion_proc.count("captures") == 0
    # Still there after a flush attempt while unpaired.
    assert ext.flush()["waiting"] == 1
    assert ext.status()["waiting"] == 1

    ext.pair(companion_proc)
    ext.flush()
    ext.wait_until(lambda: ext.status()["waiting"] == 0, timeout=30, what="the queue to drain after pairing")
    stored = companion_proc.query("SELECT id, kind FROM captures")
    assert [(r["id"], r["kind"]) for r in stored] == [(queued_id, "profile")]
    contact = companion_proc.contact_for_url(url)
    assert contact["circle"] == "professional"
    assert [r[0] for r in companion_proc.query("SELECT body FROM notes")] == [NOTE]
    st = ext.status()
    assert (st["waiting"], st["failed"], st["needsPairing"], st["paired"]) == (0, 0, False, True)
    ext.wait_badge("")
