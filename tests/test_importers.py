"""Importers through the real CLI on real SQLite files: LinkedIn export, vCards, Google/generic CSV."""

from __future__ import annotations

import json
import shutil
import sqlite3
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from companion.cli import main
from companion.identity import canonical_identity
from companion.importers.bulk import bulk_insert
from companion.importers.people import Person, import_transaction, save_people
from companion.importers.report import ImportReport
from companion.store.contacts import resolve_and_upsert
from companion.store.db import open_db

FIXTURES = Path(__file__).parent / "fixtures" / "imports"
LINKEDIN = FIXTURES / "linkedin"
ADA = "https://www.linkedin.com/in/ada-lovelace/"
SAM = "https://www.linkedin.com/in/sam-rivera"
TABLES = (
    "contacts",
    "identities",
    "notes",
    "messages",
    "interactions",
    "profile_changes",
    "tags",
    "contact_tags",
    "merge_suggestions",
    "relationships",
    "exchanges",
)


def kith(*args: str, ok: bool = True):
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    if ok:
        assert result.exit_code == 0, result.output
    return result


def import_json(*args) -> dict:
    return json.loads(kith("import", *args, "--json").output)


def dump(db_path: Path) -> dict:
    """Every row of every table Kith writes, to compare databases before and after."""
    conn = sqlite3.connect(db_path)
    try:
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall() for t in TABLES}
    finally:
        conn.close()


def q(db_path: Path, sql: str, params=()):
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def contact_by_identity(db_path: Path, kind: str, value: str) -> dict:
    conn = sqlite3.connect(db_path)
    conn.row_factory = sqlite3.Row
    try:
        row = conn.execute(
            "SELECT c.* FROM contacts c JOIN identities i ON i.contact_id = c.id WHERE i.kind = ? AND i.value = ?",
            [kind, value],
        ).fetchone()
        return dict(row) if row else None
    finally:
        conn.close()


# --- LinkedIn ---------------------------------------------------------------------------------


def test_linkedin_folder_import(db_path):
    report = import_json("linkedin", "--db", db_path, LINKEDIN)
    assert report["created"] == 7 and report["updated"] == 0
    reasons = {(Path(s["file"]).name, s["line"]): s["reason"] for s in report["skipped_rows"]}
    assert reasons == {
        ("Connections.csv", 11): "no name, profile URL or email",
        ("messages.csv", 12): "an empty message",
        ("Invitations.csv", 4): "invitation from Stranger Danger, who is not a contact",
    }
    assert report["added"]["messages"] == 10 and report["added"]["contacts created from messages"] == 1

    ada = contact_by_identity(db_path, "linkedin", ADA)
    assert (ada["name"], ada["company"], ada["title"]) == (
        "Ada Lovelace",
        "Analytical Engines Ltd",
        "Programmer, Poet of Science",
    )
    jose = contact_by_identity(db_path, "email", "jose.muller@example.com")
    assert jose["name"] == "José Müller-Lüdenscheidt" and jose["company"] == "Acme, Inc."
    zoe = contact_by_identity(db_path, "linkedin", "https://www.linkedin.com/in/zoe-angstrom/")
    assert zoe["company"] == 'Nordic "Light" AB'  # uk. subdomain and ?trk= dropped by identity.py
    wei = contact_by_identity(db_path, "linkedin", "https://www.linkedin.com/in/zhang-wei-88/")
    assert (wei["name"], wei["title"]) == ("Wei 张", "高级工程师")

    # Connected On is the first interaction, and moves the reconnect clock.
    assert q(
        db_path, "SELECT kind, happened_at FROM interactions WHERE contact_id = ? ORDER BY happened_at", [ada["id"]]
    ) == [("invitation", "2015-12-09T20:03:00Z"), ("connected", "2015-12-10T00:00:00Z")]
    # Messages: direction from the user (auto-detected), the sender's contact, or the recipient's for ours.
    ada_messages = q(
        db_path, "SELECT direction, sender, sent_at FROM messages WHERE contact_id = ? ORDER BY sent_at", [ada["id"]]
    )
    assert ada_messages == [
        ("in", "Ada Lovelace", "2024-01-02T10:00:00Z"),
        ("out", "Sam Rivera", "2024-01-02T11:30:05Z"),
        ("in", "Ada Lovelace", "2024-01-03T09:15:00Z"),
        ("out", "Sam Rivera", "2024-04-01T10:00:00Z"),
    ]
    assert ada["last_interaction_at"] == "2024-04-01T10:00:00Z"
    # A message with no profile URL is matched by the sender's (unique) name.
    linus = q(db_path, "SELECT id FROM contacts WHERE name = 'Linus Nakamura'")[0][0]
    assert q(db_path, "SELECT body FROM messages WHERE contact_id = ?", [linus]) == [("Thanks for the intro!",)]
    # Someone who messaged but is not a connection becomes a contact with their LinkedIn key.
    assert (
        contact_by_identity(db_path, "linkedin", "https://www.linkedin.com/in/rita-recruiter-42/")["name"]
        == "Rita Recruiter"
    )
    # Subject and unknown columns are kept with the message, not dropped.
    body = q(db_path, "SELECT body FROM messages WHERE body LIKE 'Tuesday works%'")[0][0]
    assert "[ATTACHMENTS: https://www.linkedin.com/dms/attachment/notes.pdf]" in body
    assert (
        q(db_path, "SELECT body FROM messages WHERE body LIKE 'Exciting opportunity%'")[0][0]
        == "Exciting opportunity\n\nHi Sam, are you open to new roles?"
    )
    # The user's message to a group is on each recipient's timeline, each with its own external id.
    group = q(db_path, "SELECT contact_id, external_id FROM messages WHERE body LIKE 'Ada, meet Grace%'")
    assert len(group) == 2 and len({g[1] for g in group}) == 2
    # Nobody was created for the user themself.
    assert not q(db_path, "SELECT 1 FROM identities WHERE value = ?", [SAM + "/"])


def test_linkedin_reimport_changes_nothing(db_path):
    import_json("linkedin", "--db", db_path, LINKEDIN)
    before = dump(db_path)
    report = import_json("linkedin", "--db", db_path, LINKEDIN)
    assert dump(db_path) == before
    assert (report["created"], report["updated"], report["unchanged"]) == (0, 0, 7)
    assert report["added"].get("messages", 0) == 0 and report["already_present"]["messages"] == 10


def test_linkedin_zip_and_single_csv(db_path, tmp_path):
    archive = tmp_path / "Basic_LinkedInDataExport_01-02-2025.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for f in LINKEDIN.iterdir():
            zf.write(f, f"Basic_LinkedInDataExport_01-02-2025/{f.name}")
        # Profile.csv names the user, so direction does not rely on guessing.
        zf.writestr(
            "Basic_LinkedInDataExport_01-02-2025/Profile.csv",
            "First Name,Last Name,Maiden Name,Headline\nSam,Rivera,,Engineer\n",
        )
    report = import_json("linkedin", "--db", db_path, archive)
    assert report["created"] == 7 and report["added"]["messages"] == 10
    assert "Profile.csv" in " ".join(report["warnings"])
    folder_db = tmp_path / "folder.db"
    import_json("linkedin", "--db", folder_db, LINKEDIN)
    assert q(db_path, "SELECT direction, body FROM messages ORDER BY external_id") == q(
        folder_db, "SELECT direction, body FROM messages ORDER BY external_id"
    )

    single = tmp_path / "single.db"
    report = import_json("linkedin", "--db", single, LINKEDIN / "Connections.csv")
    assert report["created"] == 7 and "messages" not in report["added"]
    # messages.csv alone, later, attaches to the contacts the connections made.
    report = import_json("linkedin", "--db", single, LINKEDIN / "messages.csv", "--me-url", SAM)
    assert report["added"]["messages"] == 10 and report["created"] == 0


def test_capture_saved_contact_is_not_duplicated(db_path):
    db = open_db(db_path)
    # As a capture of Ada's profile would save her: another URL form of the same key, fresher fields.
    key = canonical_identity("https://de.linkedin.com/in/Ada-Lovelace?trk=public_profile", kind="linkedin")
    cid, _ = resolve_and_upsert(
        db,
        {
            "name": "Ada Lovelace (she/her)",
            "title": "Countess & Analyst",
            "sources": {"name": "json-ld", "title": "json-ld"},
        },
        [key],
    )
    db.close()
    report = import_json("linkedin", "--db", db_path, LINKEDIN)
    assert report["created"] == 6 and report["updated"] == 1
    rows = q(db_path, "SELECT id, name, title, company FROM contacts WHERE id = ?", [cid])
    # The capture's fields win; the import fills only what was empty.
    assert rows == [(cid, "Ada Lovelace (she/her)", "Countess & Analyst", "Analytical Engines Ltd")]
    assert q(db_path, "SELECT count(*) FROM identities WHERE kind = 'linkedin' AND value = ?", [ADA]) == [(1,)]
    assert q(db_path, "SELECT count(*) FROM messages WHERE contact_id = ?", [cid])[0][0] == 4


def test_newer_export_records_a_job_change(db_path, tmp_path):
    import_json("linkedin", "--db", db_path, LINKEDIN / "Connections.csv")
    newer = tmp_path / "Connections.csv"
    newer.write_text(
        (LINKEDIN / "Connections.csv")
        .read_text(encoding="utf-8")
        .replace("US Navy,Rear Admiral", "Remington Rand,Director of Automatic Programming"),
        encoding="utf-8",
    )
    report = import_json("linkedin", "--db", db_path, newer)
    assert report["updated"] == 1 and report["created"] == 0
    grace = contact_by_identity(db_path, "linkedin", "https://www.linkedin.com/in/gracehopper/")
    assert grace["company"] == "Remington Rand"
    changes = q(
        db_path,
        "SELECT field, old_value, new_value FROM profile_changes WHERE contact_id = ? ORDER BY field",
        [grace["id"]],
    )
    assert changes == [
        ("company", "US Navy", "Remington Rand"),
        ("title", "Rear Admiral", "Director of Automatic Programming"),
    ]


def test_columns_by_name_and_unknown_columns_kept(db_path, tmp_path):
    csv_file = tmp_path / "Connections.csv"
    csv_file.write_text(
        "Position,Company,Connected On,URL,Last Name,First Name,Phone Number,Birthday\n"
        "CTO,Hooli,02 Feb 2023,https://www.linkedin.com/in/gavin-b,Belson,Gavin,+1 650 555 0100,\n",
        encoding="utf-8",
    )
    report = import_json("linkedin", "--db", db_path, csv_file)
    assert report["created"] == 1
    gavin = contact_by_identity(db_path, "linkedin", "https://www.linkedin.com/in/gavin-b/")
    assert (gavin["name"], gavin["company"], gavin["title"]) == ("Gavin Belson", "Hooli", "CTO")
    assert q(db_path, "SELECT body FROM notes WHERE contact_id = ?", [gavin["id"]]) == [
        ("From LinkedIn Connections.csv:\nPhone Number: +1 650 555 0100",)
    ]


def test_message_direction_needs_to_know_the_user(db_path, tmp_path):
    one = tmp_path / "messages.csv"
    lines = (LINKEDIN / "messages.csv").read_text(encoding="utf-8").splitlines()
    one.write_text("\n".join(lines[:3]) + "\n", encoding="utf-8")  # one conversation: Ada and Sam tie
    report = import_json("linkedin", "--db", db_path, one)
    assert report["skipped_rows"] == [
        {
            "file": str(one),
            "line": None,
            "count": 2,
            "reason": "could not tell which participant is you; re-run with --me-url or --me-name",
        }
    ]
    assert q(db_path, "SELECT count(*) FROM messages") == [(0,)]
    report = import_json("linkedin", "--db", db_path, one, "--me-name", "Sam Rivera")
    assert q(db_path, "SELECT direction, sender FROM messages ORDER BY sent_at") == [
        ("in", "Ada Lovelace"),
        ("out", "Sam Rivera"),
    ]
    result = kith("import", "linkedin", "--db", db_path, one, "--me-url", "https://example.com/sam", ok=False)
    assert result.exit_code == 2 and "not a LinkedIn profile URL" in result.output


def test_broken_file_writes_nothing(db_path, tmp_path):
    result = kith("import", "linkedin", "--db", db_path, FIXTURES / "broken_connections.csv", ok=False)
    assert result.exit_code == 1
    assert "broken_connections.csv, line 3: malformed CSV" in result.output
    assert q(db_path, "SELECT count(*) FROM contacts") == [(0,)]
    # A good Connections.csv next to a broken messages.csv: still nothing written.
    folder = tmp_path / "export"
    shutil.copytree(LINKEDIN, folder)
    (folder / "messages.csv").write_text('CONVERSATION ID,FROM,CONTENT\n1,Ada,"never closed\n', encoding="utf-8")
    result = kith("import", "linkedin", "--db", db_path, folder, ok=False)
    assert "messages.csv, line 2" in result.output
    assert dump(db_path)["contacts"] == [] and dump(db_path)["messages"] == []
    result = kith("import", "vcard", "--db", db_path, LINKEDIN / "Connections.csv", ok=False)
    assert "Connections.csv, line 1: not a vCard file" in result.output
    assert q(db_path, "SELECT count(*) FROM contacts") == [(0,)]


# --- vCard ----------------------------------------------------------------------------------------


def test_vcard_versions(db_path):
    for name in ("v21.vcf", "v30.vcf", "v40.vcf", "monica.vcf", "latin1.vcf"):
        kith("import", "vcard", "--db", db_path, FIXTURES / name)
    jorg = contact_by_identity(db_path, "email", "joerg.mueller@example.de")  # 2.1, quoted-printable UTF-8
    assert (jorg["name"], jorg["given_name"], jorg["company"], jorg["birthday"]) == (
        "Dr. Jörg Müller",
        "Jörg",
        "Bergbau AG",
        "1970-01-02",
    )
    assert q(db_path, "SELECT body FROM notes WHERE contact_id = ? ORDER BY id", [jorg["id"]]) == [
        ("Met at the Berlin mining expo.\nLikes long walks in abandoned mines.",),
        ("From vCard:\nDepartment: Forschung",),
    ]
    assert contact_by_identity(db_path, "phone", "+4930901820")["id"] == jorg["id"]
    # Without --region, a number with no country code is kept as written, with its type.
    assert q(db_path, "SELECT contact_id, label FROM identities WHERE kind = 'phone' AND value = '01711234567'") == [
        (jorg["id"], "cell")
    ]
    assert contact_by_identity(db_path, "github", "https://github.com/chidi-okafor")["name"] == "Chidi Okafor"

    grace = contact_by_identity(db_path, "phone", "+12125550199")  # 3.0, Apple style
    assert (grace["name"], grace["location"], grace["birthday"], grace["avatar_url"]) == (
        "Grace Hopper",
        "Arlington, VA, USA",
        "1906-12-09",
        "https://example.com/photos/grace.jpg",
    )
    assert {
        r[0] for r in q(db_path, "SELECT kind || ' ' || value FROM identities WHERE contact_id = ?", [grace["id"]])
    } == {
        "email grace@navy.example.mil",
        "phone +12125550199",
        "linkedin https://www.linkedin.com/in/gracehopper/",
        "x https://x.com/gracehopper",
    }
    assert q(
        db_path,
        "SELECT t.name FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id WHERE contact_id = ? ORDER BY 1",
        [grace["id"]],
    ) == [("Computing History",), ("Mentors",)]

    kat = contact_by_identity(db_path, "phone", "+17575550142")  # 4.0: tel: URI, --MMDD, mastodon URL
    assert (kat["birthday"], kat["location"]) == ("--08-26", "Hampton, VA, USA")
    assert contact_by_identity(db_path, "mastodon", "@kjohnson@mathstodon.xyz")["id"] == kat["id"]

    maggie = contact_by_identity(db_path, "linkedin", "https://www.linkedin.com/in/margaret-hamilton/")  # Monica
    assert (maggie["name"], maggie["company"], maggie["title"], maggie["birthday"]) == (
        "Margaret Hamilton",
        "Hamilton Technologies",
        "Founder & CEO",
        "--08-17",
    )
    assert contact_by_identity(db_path, "x", "https://x.com/mhamilton")["id"] == maggie["id"]
    assert "Nickname: Maggie" in q(db_path, "SELECT body FROM notes WHERE contact_id = ?", [maggie["id"]])[0][0]

    zoe = contact_by_identity(db_path, "email", "zoe@example.se")  # Latin-1 bytes, folded lines
    assert zoe["name"] == "Zoë Ångström"
    assert zoe["title"] == "Physicist and occasional café owner who writes very long job titles that need folding"
    assert q(db_path, "SELECT body FROM notes WHERE contact_id = ?", [zoe["id"]])[0][0].endswith(
        "Speaks Français, Español and Svenska; the note is long enough to be folded over several physical lines"
        " by the exporting phone."
    )


def test_vcard_line_that_cannot_be_read_is_skipped_and_reported(db_path):
    """Phones and mail clients read past a line they do not understand; so does Kith, and says where."""
    report = import_json("vcard", "--db", db_path, FIXTURES / "broken.vcf")
    assert report["created"] == 2
    assert report["skipped_lines"] == [
        {
            "file": str(FIXTURES / "broken.vcf"),
            "line": 10,
            "reason": "not a vCard property (no ':'): 'this line is not a vCard property'",
        }
    ]
    assert contact_by_identity(db_path, "email", "broken@example.com")["name"] == "Broken Person"


def test_vcard_reimport_and_card_without_keys(db_path):
    first = import_json("vcard", "--db", db_path, FIXTURES / "v30.vcf")
    assert first["created"] == 3 and first["skipped"] == 1
    before = dump(db_path)
    again = import_json("vcard", "--db", db_path, FIXTURES / "v30.vcf")
    assert dump(db_path) == before
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 3)


def test_vcard_region_reads_local_numbers(db_path):
    report = import_json("vcard", "--db", db_path, FIXTURES / "v21.vcf", "--region", "DE")
    assert report["warnings"] == []
    assert contact_by_identity(db_path, "phone", "+491711234567")["name"] == "Dr. Jörg Müller"


# --- CSV -------------------------------------------------------------------------------------------


def test_google_contacts_csv(db_path):
    report = import_json("csv", "--db", db_path, FIXTURES / "google_contacts.csv")
    assert report["source"] == "Google Contacts CSV" and report["created"] == 3
    assert report["skipped_rows"][0]["line"] == 8
    grace = contact_by_identity(db_path, "email", "grace.hopper@example.com")
    assert (grace["name"], grace["company"], grace["title"], grace["location"], grace["birthday"]) == (
        "Rear Admiral Grace Brewster Hopper",
        "US Navy",
        "Computer Scientist",
        "Arlington, VA, USA",
        "1906-12-09",
    )
    assert contact_by_identity(db_path, "linkedin", "https://www.linkedin.com/in/gracehopper/")["id"] == grace["id"]
    assert q(
        db_path,
        "SELECT t.name FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id WHERE contact_id = ? ORDER BY 1",
        [grace["id"]],
    ) == [("Computing History",), ("Mentors",)]  # no "* myContacts"
    notes = [r[0] for r in q(db_path, "SELECT body FROM notes WHERE contact_id = ? ORDER BY id", [grace["id"]])]
    assert notes[0] == "Invented the first compiler.\nAsk her about nanoseconds."
    assert "Favourite language: COBOL" in notes[1] and "Nickname: Amazing Grace" in notes[1]
    bjork = contact_by_identity(db_path, "phone", "+3545559876")  # two numbers in one cell, " ::: "
    assert contact_by_identity(db_path, "phone", "+3545551234")["id"] == bjork["id"]
    assert bjork["location"] == "Reykjavík, Iceland"
    assert contact_by_identity(db_path, "email", "ada@example.com")["birthday"] == "--12-10"
    before = dump(db_path)
    import_json("csv", "--db", db_path, FIXTURES / "google_contacts.csv")
    assert dump(db_path) == before


def test_generic_csv_with_map(db_path, tmp_path):
    data = tmp_path / "crm.csv"
    data.write_text(
        "Full Name;Work Email;Employer;Handle;Shoe Size\n".replace(";", ",")
        + "Ruth Lichterman,ruth@eniac.example,ENIAC,@ruthl,38\n",
        encoding="utf-8",
    )
    report = import_json("csv", "--db", db_path, data, "--map", "Work Email=email", "--map", "Handle=x")
    assert report["created"] == 1
    ruth = contact_by_identity(db_path, "x", "https://x.com/ruthl")
    assert (ruth["name"], ruth["company"]) == ("Ruth Lichterman", "ENIAC")
    assert contact_by_identity(db_path, "email", "ruth@eniac.example")["id"] == ruth["id"]
    assert q(db_path, "SELECT body FROM notes") == [("From CSV:\nShoe Size: 38",)]
    bad = kith("import", "csv", "--db", db_path, data, "--map", "Handle=shoe", ok=False)
    assert bad.exit_code == 2 and "is not a field" in bad.output
    missing = kith("import", "csv", "--db", db_path, data, "--map", "Nope=email", ok=False)
    assert missing.exit_code == 1 and "no column called Nope" in missing.output


def test_progress_bar_only_on_a_terminal(monkeypatch, capsys):
    import io
    import sys

    from companion import transfer_cli

    class Tty(io.StringIO):
        def isatty(self):
            return True

    tty = Tty()
    monkeypatch.setattr(sys, "stderr", tty)
    with transfer_cli._progress(10, "Importing") as advance:
        advance(10)
    assert "Importing" in tty.getvalue()


# --- the batch saver resolves exactly as captures do ------------------------------------------------


def _people():
    li = lambda slug: canonical_identity(f"https://www.linkedin.com/in/{slug}", kind="linkedin")  # noqa: E731
    em = lambda a: canonical_identity(a, kind="email")  # noqa: E731
    rows = [
        ({"name": "Ann Lee", "company": "Acme"}, [li("ann-lee")], []),
        ({"name": "Anne Lee", "company": "ACME"}, [li("anne-lee")], []),  # similar name, same company
        ({"name": "Bo Chen", "location": "Oslo"}, [em("bo@x.example")], []),
        ({"name": "Bo Chen", "location": "Oslo", "title": "CTO"}, [em("bo2@x.example")], [em("bo@x.example")]),
        ({"name": "Cy Twombly", "company": "Acme"}, [li("cy"), em("cy@x.example")], []),
        ({"name": "Cy T.", "company": "Other"}, [em("cy@x.example"), li("cy-2")], []),  # same person, new key
        ({"name": "Dee Dee", "company": "Acme"}, [li("dee"), em("ann@x.example")], []),
        ({"name": "Ann L", "company": "Acme"}, [em("ann@x.example"), li("ann-lee")], []),  # keys of 2 people
    ]
    return rows


def _state(db):
    return {
        "contacts": db.execute("SELECT id, name, company, title, location FROM contacts ORDER BY id").fetchall(),
        "identities": db.execute("SELECT contact_id, kind, value FROM identities ORDER BY kind, value").fetchall(),
        "suggestions": db.execute(
            "SELECT contact_id, other_contact_id, round(score, 3), reason FROM merge_suggestions ORDER BY 1, 2"
        ).fetchall(),
    }


def test_batch_matches_resolve_and_upsert(tmp_path):
    one = open_db(tmp_path / "one.db")
    for fields, idents, links in _people():
        resolve_and_upsert(one, dict(fields), idents, links, overwrite=False)
    batch = open_db(tmp_path / "batch.db")
    with import_transaction(batch):
        save_people(
            batch,
            [Person("x", i, dict(f), idents, links) for i, (f, idents, links) in enumerate(_people())],
            source="test",
            report=ImportReport("test"),
        )
    assert _state(batch) == _state(one)
    assert _state(one)["suggestions"]  # the fixture exercises both kinds of suggestion


def test_bulk_import_keeps_search_index_exact(db_path, tmp_path):
    """Large imports index new rows in one statement with the FTS triggers off: the index must
    still match the tables exactly, and the triggers must be back afterwards."""
    folder = tmp_path / "big"
    folder.mkdir()
    rows = ["First Name,Last Name,URL,Email Address,Company,Position,Connected On"]
    rows += [
        f"Person{i},Surname{i % 37},https://www.linkedin.com/in/person-{i},,Company {i % 23},Engineer,"
        f"0{1 + i % 9} Mar 2020"
        for i in range(800)
    ]
    (folder / "Connections.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    msgs = ["CONVERSATION ID,FROM,SENDER PROFILE URL,TO,RECIPIENT PROFILE URLS,DATE,CONTENT"]
    msgs += [
        f"c{i % 700},Person{i % 700} Surname{i % 700 % 37},https://www.linkedin.com/in/person-{i % 700},"
        f"Sam Rivera,{SAM},2024-01-01 10:{i // 60 % 60:02d}:{i % 60:02d} UTC,zebra message number {i}"
        for i in range(1200)
    ]
    (folder / "messages.csv").write_text("\n".join(msgs) + "\n", encoding="utf-8")
    open_db(db_path).close()
    schema_sql = "SELECT type, name, sql FROM sqlite_master WHERE tbl_name IN ('contacts', 'messages') ORDER BY name"
    conn = sqlite3.connect(db_path)
    schema = conn.execute(schema_sql).fetchall()
    conn.close()
    report = import_json("linkedin", "--db", db_path, folder, "--me-url", SAM)
    assert report["created"] == 800 and report["added"]["messages"] == 1200
    conn = sqlite3.connect(db_path)
    for table in ("contacts", "messages"):
        conn.execute(f"INSERT INTO {table}_fts({table}_fts) VALUES ('integrity-check')")  # raises if not exact
    assert conn.execute("SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'zebra'").fetchone()[0] == 1200
    assert conn.execute("SELECT count(*) FROM contacts_fts WHERE contacts_fts MATCH 'person799'").fetchone()[0] == 1
    triggers = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    assert {"contacts_ai", "contacts_au", "contacts_ad", "messages_ai", "notes_ai"} <= triggers
    # The indexes dropped for the batch are back, with the same SQL, and hold every row.
    assert conn.execute(schema_sql).fetchall() == schema
    assert any(r[1].startswith("idx_contacts_") for r in schema)
    assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    by_index = "SELECT count(*) FROM contacts INDEXED BY idx_contacts_company_nocase WHERE company = 'Company 7'"
    assert conn.execute(by_index).fetchone()[0] == len([i for i in range(800) if i % 23 == 7])
    conn.execute("UPDATE contacts SET company = 'Quokka Ltd' WHERE id = 5")
    conn.commit()
    assert conn.execute("SELECT rowid FROM contacts_fts WHERE contacts_fts MATCH 'quokka'").fetchall() == [(5,)]
    conn.close()


def test_bulk_insert_failure_rolls_back_the_dropped_indexes(tmp_path):
    """A row the schema refuses, in a batch big enough to rebuild the indexes: the whole
    transaction rolls back, DDL included, so the table keeps its indexes and triggers."""
    db = open_db(tmp_path / "k.db")
    before = db.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE tbl_name = 'contacts' ORDER BY name"
    ).fetchall()
    rows = [(i, f"P{i}", "2024-01-01T00:00:00Z", "2024-01-01T00:00:00Z", None) for i in range(1, 900)]
    rows.append((900, "Bad", "2024-01-01T00:00:00Z", "2024-01-01T00:00:00Z", -1))  # keep_in_touch_days > 0
    with pytest.raises(sqlite3.IntegrityError):
        with import_transaction(db):
            bulk_insert(
                db,
                "contacts",
                "INSERT INTO contacts (id, name, created_at, updated_at, keep_in_touch_days) VALUES (?, ?, ?, ?, ?)",
                rows,
            )
    after = db.execute("SELECT type, name, sql FROM sqlite_master WHERE tbl_name = 'contacts' ORDER BY name").fetchall()
    assert after == before and db.execute("SELECT count(*) FROM contacts").fetchone()[0] == 0
    db.close()
