"""`kith import ics` through the real CLI on real SQLite files, against a hand-written calendar.

tests/fixtures/mail/calendar.ics: a weekly meeting in New York time with an EXDATE, an RDATE, one
instance moved (RECURRENCE-ID) and one cancelled; an all-day event; an attendee who declined; an
event the user declined; events in Berlin and Tokyo time, an Outlook zone ("W. Europe Standard
Time", defined by its VTIMEZONE) and a floating time under Google's X-WR-TIMEZONE; a cancelled
event, a stranger and a future event. calendar.expected.json lists, by hand, what it must give.
"""

from __future__ import annotations

import json
import sqlite3

from test_import_mbox import MAIL, ME, dump, import_json, interactions, kith, people_db

from companion.importers.ics import import_ics
from companion.store.db import open_db
from datasette_plugins.queries import reconnect_queue

ICS = MAIL / "calendar.ics"
EXPECTED = json.loads((MAIL / "calendar.expected.json").read_text("utf-8"))


def skips(report: dict) -> dict[str, int]:
    return {s["reason"]: s["count"] for s in report["skipped_rows"]}


def test_the_calendar_gives_exactly_the_expected_interactions(tmp_path):
    db_path = people_db(tmp_path / "kith.db")
    report = import_json(db_path, "ics", ICS, "--me", ME)
    assert interactions(db_path, "import:ics") == EXPECTED
    assert report["added"] == {"met interactions": 11}
    assert skips(report) == {"cancelled": 2, "you declined": 1, "with nobody who is in Kith": 1}
    assert report["warnings"] == [
        "your addresses (me@example.com) came from --me",
        f"{ICS}: 1 declined invitations from people in Kith (not counted as met)",
    ]
    assert report["rows"] == 15  # instances up to now: 6 weekly - EXDATE + RDATE + 9 single events (not 2099's)


def test_reimporting_adds_nothing_and_a_folder_reads_every_calendar(tmp_path):
    db_path = people_db(tmp_path / "kith.db")
    import_json(db_path, "ics", ICS, "--me", ME)
    before = dump(db_path)
    again = import_json(db_path, "ics", ICS, "--me", ME)
    assert dump(db_path) == before
    assert again["added"] == {}
    assert again["already_present"] == {"met interactions": 11}
    # A folder with the same calendar twice (an overlapping second export) and a broken file.
    folder = tmp_path / "calendars"
    folder.mkdir()
    (folder / "work.ics").write_bytes(ICS.read_bytes())
    (folder / "copy.ics").write_bytes(ICS.read_bytes())
    (folder / "broken.ics").write_text("BEGIN:VCALENDAR\nthis is not\nEND:VEVENT\n")
    report = import_json(db_path, "ics", folder, "--me", ME)
    assert dump(db_path) == before
    assert report["already_present"] == {"met interactions": 11, "the same event met twice (overlapping calendars)": 11}
    assert [s["file"] for s in report["skipped_rows"] if s["reason"].startswith("not a readable calendar")] == [
        str(folder / "broken.ics")
    ]


def test_a_broken_single_file_is_refused_and_nothing_written(tmp_path):
    db_path = people_db(tmp_path / "kith.db")
    broken = tmp_path / "broken.ics"
    broken.write_text("BEGIN:VCARD\nFN:Not a calendar\nEND:VCARD\n")
    before = dump(db_path)
    result = kith("import", "ics", broken, "--db", db_path, ok=False)
    assert result.exit_code == 1 and "not a readable calendar" in result.output
    assert dump(db_path) == before


def test_the_owner_comes_from_the_calendar_when_not_given(tmp_path):
    db_path = people_db(tmp_path / "kith.db")
    report = import_json(db_path, "ics", ICS)
    assert report["warnings"][0] == "your addresses (me@example.com) came from the calendar's name (X-WR-CALNAME)"
    assert interactions(db_path, "import:ics") == EXPECTED


def test_open_ended_recurrence_is_expanded_up_to_now_only(tmp_path):
    db_path = people_db(tmp_path / "kith.db")
    open_ended = tmp_path / "daily.ics"
    open_ended.write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Kith tests//EN\r\nBEGIN:VEVENT\r\nUID:standup@example.com\r\n"
        "DTSTAMP:20240101T000000Z\r\nDTSTART;TZID=Europe/Berlin:20240325T093000\r\nRRULE:FREQ=DAILY\r\n"
        "SUMMARY:Stand-up\r\nORGANIZER:mailto:me@example.com\r\nATTENDEE:mailto:grace@example.org\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    db = open_db(db_path)
    report = import_ics(db, open_ended, me=[ME], now="2024-04-01T08:00:00Z").to_dict()
    db.close()
    rows = interactions(db_path, "import:ics")
    # 25–31 March; 1 April's 09:30 Berlin (07:30Z) is before 08:00Z. Berlin went to summer time on 31 March.
    assert [r["happened_at"] for r in rows] == [f"2024-03-{d}T08:30:00Z" for d in range(25, 31)] + [
        "2024-03-31T07:30:00Z",
        "2024-04-01T07:30:00Z",
    ]
    assert rows[0]["external_id"] == "ics:standup@example.com/20240325T083000Z/grace@example.org"
    assert report["added"] == {"met interactions": 8}


def test_dry_run_writes_nothing(tmp_path):
    db_path = people_db(tmp_path / "kith.db")
    before = dump(db_path)
    report = import_json(db_path, "ics", ICS, "--me", ME, "--dry-run")
    assert dump(db_path) == before
    assert [(r["happened_at"], r["summary"]) for r in report["would_record"]] == [
        (r["happened_at"], r["summary"]) for r in EXPECTED
    ]


def test_meetings_move_the_reconnect_queue_and_show_on_the_timeline(tmp_path):
    from datasette_plugins.queries import contact_page

    db_path = people_db(tmp_path / "kith.db")
    now = "2024-07-01T12:00:00Z"
    conn = sqlite3.connect(db_path)
    assert len(reconnect_queue(conn, now)["people"]) == 7
    import_json(db_path, "ics", ICS, "--me", ME)
    # Met within 30 days of 1 July: Zoe (10 June) and Ada (15 June). Everyone else is still due.
    assert [p["name"] for p in reconnect_queue(conn, now)["people"]] == [
        "Niklaus Wirth",
        "Linus",
        "Grace Hopper",
        "Renée Dupré",
        "Dmitri Orlov",
    ]
    ada = conn.execute("SELECT contact_id FROM identities WHERE value = 'ada@example.com'").fetchone()[0]
    timeline = [i for i in contact_page(conn, ada)["timeline"] if i["kind"] == "interaction"]
    conn.close()
    assert timeline[0]["at"] == "2024-06-15T11:00:00Z" and timeline[0]["text"] == "Picnic"
    assert "import:ics" in (timeline[0]["title"] + " " + (timeline[0]["extra"] or ""))
