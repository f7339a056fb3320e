"""`kith import mbox` through the real CLI on real SQLite files, against a hand-written mailbox.

tests/fixtures/mail/mailbox.mbox holds no real person's mail. It has multipart/alternative,
quoted-printable and base64 (HTML-only) bodies, RFC 2047 names and subjects in ISO-8859-1, UTF-8
and KOI8-R, a Latin-1 message with no charset (8-bit header and body), a mailing-list message, a
no-reply sender, Precedence: bulk, a large Cc, a note to self, a stranger, a thread of six replies
over two days (out of order in the file), and a last message cut off in its headers.
mailbox.expected.json beside it lists, by hand, the interactions it must give.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from companion.cli import main
from companion.identity import canonical_identity
from companion.importers.mail.reader import read_mbox
from companion.store.contacts import create_contact
from companion.store.db import open_db
from datasette_plugins.queries import reconnect_queue

MAIL = Path(__file__).parent / "fixtures" / "mail"
MBOX = MAIL / "mailbox.mbox"
ME = "me@example.com"
# name, address, cadence in days (None: the circle's 30)
PEOPLE = [
    ("Ada Lovelace", "ada@example.com", None),
    ("Grace Hopper", "grace@example.org", None),
    ("Linus", "linus@example.net", 7),
    ("Renée Dupré", "renee@example.fr", None),
    ("Zoe", "zoe@example.be", None),
    ("Dmitri Orlov", "dmitri@example.ru", None),
    ("Niklaus Wirth", "niklaus@example.ch", None),
]
TABLES = ("contacts", "identities", "interactions", "notes", "messages", "merge_suggestions")


def people_db(db_path: Path, *, me_profile: bool = False) -> Path:
    """The people of the fixtures, in Kith since 2023, personal circle; optionally the user's own contact."""
    db = open_db(db_path)
    for name, address, cadence in PEOPLE + ([("Sam Rivera", ME, None)] if me_profile else []):
        cid = create_contact(
            db,
            {
                "name": name,
                "circle": "personal",
                "keep_in_touch_days": cadence,
                "is_me": int(address == ME),
                "created_at": "2023-01-01T00:00:00Z",
            },
        )
        db["identities"].insert({"contact_id": cid, **canonical_identity(address, kind="email"), "source": "test"})
    db.close()
    return db_path


def kith(*args, ok: bool = True):
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    if ok:
        assert result.exit_code == 0, result.output
    return result


def import_json(db_path: Path, *args) -> dict:
    return json.loads(kith("import", *args, "--db", db_path, "--json").output)


def interactions(db_path: Path, source: str) -> list[dict]:
    conn = sqlite3.connect(db_path)
    conn.row_factory = sqlite3.Row
    try:
        return [
            dict(r)
            for r in conn.execute(
                "SELECT (SELECT min(value) FROM identities WHERE contact_id = i.contact_id AND kind = 'email') AS contact,"
                " kind, happened_at, direction, summary, source, external_id FROM interactions i WHERE source = ?"
                " ORDER BY happened_at, external_id",
                [source],
            )
        ]
    finally:
        conn.close()


def dump(db_path: Path) -> dict:
    conn = sqlite3.connect(db_path)
    try:
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall() for t in TABLES}
    finally:
        conn.close()


def last_interactions(db_path: Path) -> dict[str, str | None]:
    conn = sqlite3.connect(db_path)
    try:
        return dict(conn.execute("SELECT name, last_interaction_at FROM contacts WHERE is_me = 0"))
    finally:
        conn.close()


def skips(report: dict) -> dict[str, int]:
    return {s["reason"]: s["count"] for s in report["skipped_rows"]}


def test_the_mailbox_gives_exactly_the_expected_interactions(tmp_path):
    db_path = people_db(tmp_path / "kith.db")
    report = import_json(db_path, "mbox", MBOX, "--me", ME)
    assert interactions(db_path, "import:mbox") == json.loads((MAIL / "mailbox.expected.json").read_text("utf-8"))
    assert report["rows"] == 22
    assert report["added"] == {"emailed interactions": 8}
    assert report["already_present"] == {"replies on a thread and day already counted": 4}
    assert (report["created"], report["updated"], report["unchanged"]) == (0, 6, 0)
    assert skips(report) == {
        "the file ends inside this message's headers (a truncated last message)": 1,
        "mailing list (List-Id)": 1,
        "a no-reply sender": 1,
        "bulk mail (Precedence: bulk)": 1,
        "you were only in a Cc of more than 10 people": 1,
        "sent only to yourself": 1,
        "with nobody who is in Kith": 4,
    }
    truncated = next(s for s in report["skipped_rows"] if "truncated" in s["reason"])
    assert truncated["file"] == f"{MBOX}, byte {MBOX.read_bytes().rindex(b'From grace@example.org')}"
    assert report["warnings"] == ["your addresses (me@example.com) came from --me"]
    # Imported interactions move the reconnect clock (forward only).
    assert last_interactions(db_path) == {
        "Ada Lovelace": "2024-03-11T08:00:00Z",
        "Grace Hopper": "2024-03-02T18:30:00Z",
        "Linus": "2024-03-03T15:00:00Z",
        "Renée Dupré": "2024-03-04T09:00:00Z",
        "Zoe": "2024-03-07T10:00:00Z",
        "Dmitri Orlov": "2024-03-08T06:00:00Z",
        "Niklaus Wirth": None,
    }


def test_reimporting_adds_nothing(tmp_path):
    db_path = people_db(tmp_path / "kith.db")
    import_json(db_path, "mbox", MBOX, "--me", ME)
    before = dump(db_path)
    again = import_json(db_path, "mbox", MBOX, "--me", ME)
    assert dump(db_path) == before
    assert again["added"] == {}
    assert again["already_present"] == {"emailed interactions": 8, "replies on a thread and day already counted": 4}
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 6)


def _messages(path: Path) -> list[tuple[int, bytes]]:
    """(offset, bytes) of each message in an mbox, cut at the reader's own offsets."""
    data = path.read_bytes()
    offsets = [m.offset for m in read_mbox(path)] + [len(data)]
    return [(a, data[a:b]) for a, b in zip(offsets, offsets[1:])]


def test_an_overlapping_export_adds_nothing_twice_and_finds_the_earlier_message(tmp_path):
    db_path = people_db(tmp_path / "kith.db")
    messages = _messages(MBOX)
    ids = [b"<t5@example.com>", b"<review-1@example.net>"]
    older = tmp_path / "older.mbox"  # an earlier export: the thread's second day holds only Ada's 08:20 reply
    older.write_bytes(b"".join(m for _, m in messages if any(i in m.split(b"\n\n")[0] for i in ids)))
    first = import_json(db_path, "mbox", older, "--me", ME)
    assert first["added"] == {"emailed interactions": 2}
    assert [(r["happened_at"], r["direction"]) for r in interactions(db_path, "import:mbox")] == [
        ("2024-03-03T15:00:00Z", "in"),
        ("2024-03-11T08:20:00Z", "in"),
    ]
    full = import_json(db_path, "mbox", MBOX, "--me", ME)
    assert full["added"] == {"emailed interactions": 6, "emailed interactions moved to an earlier message": 1}
    assert interactions(db_path, "import:mbox") == json.loads((MAIL / "mailbox.expected.json").read_text("utf-8"))


def test_small_blocks_split_the_mailbox_exactly_as_large_ones():
    # Separators that straddle a block boundary, at every possible place.
    whole = [(m.offset, m.header, m.body, m.size, m.problem) for m in read_mbox(MBOX)]
    assert len(whole) == 22
    for block in (1, 7, 64, 255, 4096):
        assert [(m.offset, m.header, m.body, m.size, m.problem) for m in read_mbox(MBOX, block=block)] == whole


def test_a_maildir_and_eml_files_read_like_the_mbox(tmp_path):
    db_path = people_db(tmp_path / "kith.db")
    maildir = tmp_path / "Mail"
    for n, (_, message) in enumerate(_messages(MBOX)):
        body = message.split(b"\n", 1)[1]  # a Maildir message has no "From " line
        folder = maildir / ("cur" if n % 2 else "new")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"1710000000.{n}.host:2,S").write_bytes(body)
    (maildir / "new" / "1710000000.0.host:2,S").rename(maildir / "slides.eml")
    report = import_json(db_path, "mbox", maildir, "--me", ME)
    assert interactions(db_path, "import:mbox") == json.loads((MAIL / "mailbox.expected.json").read_text("utf-8"))
    assert report["rows"] == 22
    assert skips(report)["the file ends inside this message's headers (a truncated last message)"] == 1


def test_who_you_are_comes_from_me_else_the_profile_else_your_sent_mail(tmp_path):
    guessed = people_db(tmp_path / "guessed.db")
    report = import_json(guessed, "mbox", MBOX)
    assert report["warnings"] == [
        "your addresses (me@example.com) came from the most frequent From of your sent"
        " mail: me@example.com (7 messages)"
    ]
    profile = people_db(tmp_path / "profile.db", me_profile=True)
    report = import_json(profile, "mbox", MBOX)
    assert report["warnings"] == ["your addresses (me@example.com) came from your own contact in Kith (is_me)"]
    assert interactions(profile, "import:mbox") == interactions(guessed, "import:mbox")
    # No --me, no Profile, no sent mail and no Delivered-To: refused, nothing written.
    blind = people_db(tmp_path / "blind.db")
    anonymous = tmp_path / "anonymous.mbox"
    anonymous.write_bytes(
        b"".join(
            m.replace(b"X-Gmail-Labels: Sent\n", b"").replace(b"Delivered-To: me@example.com\n", b"")
            for _, m in _messages(MBOX)
        )
    )
    before = dump(blind)
    result = kith("import", "mbox", anonymous, "--db", blind, ok=False)
    assert result.exit_code == 1 and "could not tell which address is yours" in result.output
    assert "--me ADDRESS" in result.output
    assert dump(blind) == before
    assert kith("import", "mbox", MBOX, "--db", blind, "--me", "not an address", ok=False).exit_code == 1
    calendar = kith("import", "mbox", MAIL / "calendar.ics", "--db", blind, "--me", ME, ok=False)
    assert calendar.exit_code == 1 and "neither an mbox file nor an email message" in calendar.output
    assert dump(blind) == before


def test_add_people_adds_whom_you_wrote_to_often_enough(tmp_path):
    db_path = people_db(tmp_path / "kith.db")
    report = import_json(db_path, "mbox", MBOX, "--me", ME, "--add-people", "3")
    assert report["created"] == 0  # Jürgen got two messages from you; the stranger none
    report = import_json(db_path, "mbox", MBOX, "--me", ME, "--add-people", "2")
    assert report["created"] == 1
    conn = sqlite3.connect(db_path)
    name, cid = conn.execute(
        "SELECT c.name, c.id FROM contacts c JOIN identities i ON i.contact_id = c.id"
        " WHERE i.value = 'juergen@example.de'"
    ).fetchone()
    rows = conn.execute(
        "SELECT happened_at, direction, summary FROM interactions WHERE contact_id = ? ORDER BY happened_at", [cid]
    ).fetchall()
    assert conn.execute("SELECT count(*) FROM identities WHERE value = 'stranger@example.com'").fetchone()[0] == 0
    conn.close()
    assert name == "Jürgen Weiß"  # from an RFC 2047 header
    # His thread of 5 March (his mail, your reply) counts once, at his message; the contract another day.
    assert rows == [
        ("2024-03-05T12:00:00Z", "in", "Angebot — Hallo Sam, anbei das Angebot."),
        ("2024-03-06T09:00:00Z", "out", "Vertrag — Hier ist der Vertrag."),
    ]


def test_dry_run_shows_what_would_be_recorded_and_writes_nothing(tmp_path):
    db_path = people_db(tmp_path / "kith.db")
    before = dump(db_path)
    report = import_json(db_path, "mbox", MBOX, "--me", ME, "--add-people", "2", "--dry-run")
    assert dump(db_path) == before
    assert report["dry_run"] is True
    assert len(report["would_record"]) == 10
    assert {r["contact"] for r in report["would_record"]} >= {"Jürgen Weiß", "Ada Lovelace"}
    text = kith("import", "mbox", MBOX, "--db", db_path, "--me", ME, "--dry-run").output
    assert text.startswith("Dry run: nothing was written.")
    assert "2024-03-11T08:00:00Z  emailed (out)  Ada Lovelace: Re: Lunch? — Still on for today?" in text
    assert dump(db_path) == before


def test_the_reconnect_queue_drops_the_people_you_emailed(tmp_path):
    db_path = people_db(tmp_path / "kith.db")
    now = "2024-03-20T12:00:00Z"

    def queue() -> list[str]:
        conn = sqlite3.connect(db_path)
        try:
            return [p["name"] for p in reconnect_queue(conn, now)["people"]]
        finally:
            conn.close()

    assert sorted(queue()) == sorted(name for name, _, _ in PEOPLE)  # in Kith for a year, never spoken to
    import_json(db_path, "mbox", MBOX, "--me", ME)
    # Everyone emailed in the last 30 days drops off. Niklaus was never emailed (a year overdue, first);
    # Linus wants a weekly word and was last emailed on 3 March.
    assert queue() == ["Niklaus Wirth", "Linus"]


def test_broken_mime_unknown_charsets_and_future_dates_never_stop_an_import(tmp_path):
    db_path = people_db(tmp_path / "kith.db")
    odd = tmp_path / "odd.mbox"
    odd.write_bytes(
        b"".join(
            [
                b"From ada@example.com Sat Mar 16 10:00:00 2024\n"
                b"From: Ada Lovelace <ada@example.com>\nTo: me@example.com\nDate: Sat, 16 Mar 2024 10:00:00 +0000\n"
                b"Subject: =?x-no-such-charset?q?Caf=E9?= and =?utf-8?b?broken*base64?=\nMessage-ID: <odd-1@example.com>\n"
                b"Content-Type: multipart/mixed\nContent-Transfer-Encoding: base64\n\n"
                b"--nowhere\n\x00\xff\xfe garbage !!! ====\n\n",
                b"From grace@example.org Sun Mar 17 10:00:00 2024\n"
                b"From: Grace Hopper <grace@example.org>\nTo: me@example.com\nDate: Thu, 1 Jan 2099 10:00:00 +0000\n"
                b"Subject: From the future\nMessage-ID: <future-1@example.com>\n\nHello from 2099.\n\n",
                b"From linus@example.net Mon Mar 18 10:00:00 2024\n"
                b"From: Linus <linus@example.net>\nTo: me@example.com\nDate: not a date at all\n"
                b"Subject: Dated by its postmark\nMessage-ID: <postmark-1@example.com>\n"
                b"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n"
                b"Soft=\nbreak and =E2=80=94 dash=ZZ.\n",
            ]
        )
    )
    report = import_json(db_path, "mbox", odd, "--me", ME)
    assert [(r["contact"], r["happened_at"], r["summary"]) for r in interactions(db_path, "import:mbox")] == [
        ("ada@example.com", "2024-03-16T10:00:00Z", "Café and =?utf-8?b?broken*base64?="),
        ("linus@example.net", "2024-03-18T10:00:00Z", "Dated by its postmark — Softbreak and — dash=ZZ."),
    ]
    assert skips(report) == {"dated in the future": 1}


def test_one_huge_message_does_not_enter_memory(tmp_path):
    """A 150 MB attachment streams past: the import's peak RSS (a real `kith` process) stays far below it."""
    db_path = people_db(tmp_path / "kith.db")
    big = tmp_path / "big.mbox"
    line = b"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0NTY3\n"
    with open(big, "wb") as out:
        out.write(
            b"From ada@example.com Sat Mar 16 10:00:00 2024\nFrom: Ada Lovelace <ada@example.com>\n"
            b"To: me@example.com\nDate: Sat, 16 Mar 2024 10:00:00 +0000\nSubject: The scans\n"
            b"Message-ID: <scans@example.com>\nContent-Type: multipart/mixed; boundary=b\n\n--b\n"
            b"Content-Type: text/plain\n\nAll of them, attached.\n--b\nContent-Type: image/tiff\n"
            b"Content-Disposition: attachment; filename=scans.tif\nContent-Transfer-Encoding: base64\n\n"
        )
        chunk = line * (1 << 14)
        for _ in range((150 << 20) // len(chunk)):
            out.write(chunk)
        out.write(
            b"--b--\n\nFrom grace@example.org Sun Mar 17 10:00:00 2024\nFrom: Grace Hopper <grace@example.org>\n"
            b"To: me@example.com\nDate: Sun, 17 Mar 2024 10:00:00 +0000\nSubject: After the scans\n\nHi.\n"
        )
    peak = tmp_path / "peak"
    # The process writes its own VmHWM (peak RSS since exec) as it exits; wait4's ru_maxrss would also
    # count the forked copy of this test process.
    kith = (
        "import atexit, sys\n"
        "def peak():\n"
        "    kib = next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM:'))\n"
        f"    open({str(peak)!r}, 'w').write(kib)\n"
        "atexit.register(peak)\n"
        "sys.argv[0] = 'kith'\n"
        "from companion.cli import main\n"
        "main()\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", kith, "import", "mbox", str(big), "--db", str(db_path), "--me", ME, "--json"],
        capture_output=True,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    assert json.loads(proc.stdout)["added"] == {"emailed interactions": 2}
    assert [r["summary"] for r in interactions(db_path, "import:mbox")] == [
        "The scans — All of them, attached.",
        "After the scans — Hi.",
    ]
    peak_mb = int(peak.read_text()) / 1024
    # Kith's own baseline (Python, the store, the importers) is 60-90 MB; reading the message whole
    # would add its 150 MB on top, so staying under the message's size shows it streamed past.
    assert peak_mb < 150, f"peak RSS {peak_mb:.0f} MB for a 150 MB message"


@pytest.mark.parametrize("flag", ["--me", "--add-people"])
def test_bad_options_are_refused(tmp_path, flag):
    db_path = people_db(tmp_path / "kith.db")
    value = "nobody" if flag == "--me" else "0"
    result = kith("import", "mbox", MBOX, "--db", db_path, flag, value, ok=False)
    assert result.exit_code != 0
    assert dump(db_path)["interactions"] == []
