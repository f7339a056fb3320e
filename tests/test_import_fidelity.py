"""Files nobody on the project wrote, in the shapes they really come in (issue 15): LinkedIn exports of
other years and re-saved by spreadsheets, vCards from phones and mail clients, Thunderbird/Outlook CSVs.

Every fixture under tests/fixtures/imports/fidelity/ is hand-made from the formats' public
documentation, with invented people; every expected value here is written by hand.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from test_importers import contact_by_identity, dump, import_json, kith, q

FIDELITY = Path(__file__).parent / "fixtures" / "imports" / "fidelity"
SAM = "https://www.linkedin.com/in/sam-rivera"


def names(db_path: Path) -> list[str]:
    return [r[0] for r in q(db_path, "SELECT name FROM contacts ORDER BY name")]


def reimport_changes_nothing(db_path: Path, *args) -> dict:
    before = dump(db_path)
    report = import_json(*args)
    assert dump(db_path) == before
    assert (report["created"], report["updated"]) == (0, 0)
    return report


# --- LinkedIn exports ---------------------------------------------------------------------------


def test_linkedin_2023_html_bodies_and_one_subject_per_thread(db_path):
    """2022-2023 exports: HTML in bodies (`<p class="spinmail-…">`, `&rsquo;`), the thread's subject on
    every row. The subject is said once, on the thread's first message; bodies are text."""
    import_json("linkedin", "--db", db_path, FIDELITY / "linkedin_2023")
    noor = contact_by_identity(db_path, "linkedin", "https://www.linkedin.com/in/noor-haddad-5c/")
    bodies = [r[0] for r in q(db_path, "SELECT body FROM messages WHERE contact_id = ? ORDER BY sent_at", [noor["id"]])]
    assert bodies == [
        "Portfolio review\n\nHi Sam,\n\nCould you look at my portfolio? It\u2019s short & sweet.",
        "Happy to \u2014 send it over.",
        "Here it is: https://noor.example.com/work\nThanks!",
    ]


def test_linkedin_2023_joins_people_by_name_when_urls_are_missing(db_path):
    """No URL column in Connections.csv, none for recipients or invitations: the connection, the message
    partner and the inviter are one person, joined by name inside the export."""
    report = import_json("linkedin", "--db", db_path, FIDELITY / "linkedin_2023")
    assert names(db_path) == ["Aiko Mori", "Noor Haddad", "Tomasz Wrona"]
    assert report["created"] == 3 and report["skipped"] == 0
    assert q(db_path, "SELECT count(*) FROM messages WHERE contact_id IS NULL") == [(0,)]
    noor = contact_by_identity(db_path, "linkedin", "https://www.linkedin.com/in/noor-haddad-5c/")
    assert (noor["name"], noor["company"], noor["title"]) == ("Noor Haddad", "Cedar Labs", "Product Designer")
    assert q(
        db_path, "SELECT kind, happened_at, summary FROM interactions WHERE contact_id = ? ORDER BY 2", [noor["id"]]
    ) == [
        ("invitation", "2022-03-13T18:40:00Z", "LinkedIn invitation received: We met at the design meetup."),
        ("connected", "2022-03-14T00:00:00Z", "Connected on LinkedIn"),
    ]
    aiko = q(db_path, "SELECT id FROM contacts WHERE name = 'Aiko Mori'")[0][0]
    assert q(db_path, "SELECT direction, body FROM messages WHERE contact_id = ?", [aiko]) == [
        ("out", "Congrats on the new role!")
    ]
    assert q(db_path, "SELECT kind FROM interactions WHERE contact_id = ? ORDER BY happened_at", [aiko]) == [
        ("invitation",),
        ("connected",),
    ]
    reimport_changes_nothing(db_path, "linkedin", "--db", db_path, FIDELITY / "linkedin_2023")


def test_linkedin_2025_draft_column_and_note_to_self(db_path):
    """The current export's `IS CONVERSATION DRAFT` column is not text of the message (it was appended to
    every body as `[IS CONVERSATION DRAFT: No]`); a draft is skipped; the owner's note to self is no contact."""
    report = import_json("linkedin", "--db", db_path, FIDELITY / "linkedin_2025", "--me-url", SAM)
    assert names(db_path) == ["Kai Lindqvist"]
    assert not q(db_path, "SELECT body FROM messages WHERE body LIKE '%DRAFT%'")
    kai = contact_by_identity(db_path, "linkedin", "https://www.linkedin.com/in/kai-lindqvist/")
    assert q(db_path, "SELECT direction, body FROM messages WHERE contact_id = ? ORDER BY sent_at", [kai["id"]]) == [
        ("in", "Are you going to the Lisbon meetup?"),
        ("out", "Yes, see you there."),
    ]
    reasons = {(Path(s["file"]).name, s["line"]): s["reason"] for s in report["skipped_rows"]}
    assert reasons == {("messages.csv", 4): "a draft, never sent"}
    assert q(db_path, "SELECT contact_id, body FROM messages WHERE body LIKE 'Reminder%'") == [
        (None, "Reminder to self: renew the domain")
    ]
    assert any("note to yourself" in w for w in report["warnings"])
    reimport_changes_nothing(db_path, "linkedin", "--db", db_path, FIDELITY / "linkedin_2025", "--me-url", SAM)


def test_linkedin_spreadsheet_dates_and_the_report_counts_the_rest(db_path):
    """Re-saved by a spreadsheet: `29-Aug-22`, `14/02/2021`; what is still unreadable is counted."""
    report = import_json("linkedin", "--db", db_path, FIDELITY / "linkedin_spreadsheet" / "Connections.csv")
    connected = dict(
        q(
            db_path,
            "SELECT c.name, i.happened_at FROM interactions i JOIN contacts c"
            " ON c.id = i.contact_id WHERE i.kind = 'connected'",
        )
    )
    assert connected == {
        "Marta Quispe": "2022-08-29T00:00:00Z",
        "Idris Bello": "2023-01-03T00:00:00Z",
        "Lena Vogt": "2021-02-14T00:00:00Z",
    }
    assert report["unreadable"] == {"dates": 1}
    owen = contact_by_identity(db_path, "linkedin", "https://www.linkedin.com/in/owen-price/")
    assert q(db_path, "SELECT body FROM notes WHERE contact_id = ?", [owen["id"]]) == [
        ("From LinkedIn Connections.csv:\nConnected On (unreadable date): sometime in 2019",)
    ]
    text = kith("import", "linkedin", "--db", db_path, FIDELITY / "linkedin_spreadsheet" / "Connections.csv").output
    assert "could not read: 1 date" in text


# --- who is who in an address book --------------------------------------------------------------

SHARED_NOTE = (
    "Shared with another contact (kept as two people; see merge suggestions):\n"
    "Email: delgado.family@example.net\nPhone: +34912345678"
)


def test_people_sharing_an_email_or_phone_stay_two_people(db_path):
    """A family's email and home phone, an office's front-desk number: two differently named people who
    share a key are two contacts and a merge suggestion, never one contact that loses a name."""
    report = import_json("vcard", "--db", db_path, FIDELITY / "shared_identities.vcf")
    assert report["created"] == 4
    assert names(db_path) == ["Dr. Ines Okoro", "Front Desk", "Mateo Delgado", "Rosa Delgado"]
    rosa = contact_by_identity(db_path, "email", "delgado.family@example.net")
    assert (rosa["name"], rosa["title"]) == ("Rosa Delgado", "Architect")  # her second card is her
    assert sorted(r[0] for r in q(db_path, "SELECT value FROM identities WHERE contact_id = ?", [rosa["id"]])) == [
        "+34912345678",
        "delgado.family@example.net",
        "rosa@studio-delgado.example",
    ]
    mateo = q(db_path, "SELECT id FROM contacts WHERE name = 'Mateo Delgado'")[0][0]
    assert q(db_path, "SELECT body FROM notes WHERE contact_id = ?", [mateo]) == [(SHARED_NOTE,)]
    desk = contact_by_identity(db_path, "phone", "+442079460000")
    ines = contact_by_identity(db_path, "email", "i.okoro@harbour-dental.example")
    assert desk["name"] == "Front Desk" and ines["name"] == "Dr. Ines Okoro"
    assert q(db_path, "SELECT contact_id, other_contact_id, reason FROM merge_suggestions ORDER BY 1") == [
        (rosa["id"], mateo, "they share an identity"),
        (desk["id"], ines["id"], "they share an identity"),
    ]
    assert any("2 people share an email, phone or URL" in w for w in report["warnings"])
    # The README's promise: the same file again changes nothing, and renames nobody.
    reimport_changes_nothing(db_path, "vcard", "--db", db_path, FIDELITY / "shared_identities.vcf")
    assert names(db_path) == ["Dr. Ines Okoro", "Front Desk", "Mateo Delgado", "Rosa Delgado"]


def test_a_second_card_of_the_same_person_renames_nobody(db_path, tmp_path):
    """Two rows of one person (one email, a name written two ways) fold; a re-import keeps the first name."""
    data = tmp_path / "twice.csv"
    data.write_text(
        "Name,E-mail Address,Company\nJohn Smith,js@example.org,Acme\nJ. Smith,js@example.org,\n", encoding="utf-8"
    )
    assert import_json("csv", "--db", db_path, data)["created"] == 1
    reimport_changes_nothing(db_path, "csv", "--db", db_path, data)
    assert names(db_path) == ["John Smith"]


# --- vCards from phones and mail clients --------------------------------------------------------


def notes_of(db_path: Path, contact_id: int) -> list[str]:
    return [r[0] for r in q(db_path, "SELECT body FROM notes WHERE contact_id = ? ORDER BY id", [contact_id])]


def test_vcard_odd_lines_are_skipped_and_reported_the_rest_is_kept(db_path):
    """Outlook's `ADR;HOME;PREF;:`, an unindented 2.1 base64 photo, a `#` comment, an address continued
    after a trailing backslash, a bare `FN`, a property named `X-messaging/twitter-All`."""
    path = FIDELITY / "wild.vcf"
    report = import_json("vcard", "--db", db_path, path)
    assert report["created"] == 2
    assert report["skipped_lines"] == [
        {"file": str(path), "line": 1, "reason": "a comment line"},
        {"file": str(path), "line": 16, "reason": "not a vCard property (no ':'): 'FN'"},
    ]
    elodie = contact_by_identity(db_path, "email", "elodie@example.fr")
    assert (elodie["name"], elodie["given_name"], elodie["location"], elodie["avatar_url"]) == (
        "Élodie Fournier",
        "Élodie",
        "Lyon, France",
        None,
    )
    assert contact_by_identity(db_path, "phone", "+33612345678")["id"] == elodie["id"]
    assert notes_of(db_path, elodie["id"]) == ["From vCard:\nAddress (home): 12 rue des Lilas, Lyon, 69003, France"]
    henrik = contact_by_identity(db_path, "email", "henrik@example.de")
    assert (henrik["name"], henrik["location"]) == ("Henrik Brandt", "Hamburg, Germany")
    assert contact_by_identity(db_path, "x", "https://x.com/henrikb")["id"] == henrik["id"]
    assert notes_of(db_path, henrik["id"]) == [
        "From vCard:\nAddress (work): Hafenstraße 5\nGebäude B, Hamburg, 20457, Germany"
    ]
    text = kith("import", "vcard", "--db", db_path, path).output
    assert f"line not read {path}, line 16: not a vCard property (no ':'): 'FN'" in text
    reimport_changes_nothing(db_path, "vcard", "--db", db_path, path)


def test_vcard_each_property_in_its_own_charset(db_path):
    """CHARSET on a property is honoured whatever its encoding (SHIFT_JIS, windows-1251, windows-1253),
    and UTF-8 lines inside a Windows-1252 file are UTF-8."""
    import_json("vcard", "--db", db_path, FIDELITY / "charsets.vcf")
    taro = contact_by_identity(db_path, "email", "taro.noto@example.jp")
    assert (taro["name"], taro["given_name"], taro["family_name"], taro["company"]) == (
        "能登 太郎",
        "太郎",
        "能登",
        "表参道デザイン",
    )
    irina = contact_by_identity(db_path, "email", "irina@example.ru")
    assert (irina["name"], irina["given_name"], irina["family_name"]) == ("Ирина Павлова", "Ирина", "Павлова")
    assert contact_by_identity(db_path, "email", "nikos@example.gr")["name"] == "Νίκος Παπαδόπουλος"
    cafe = contact_by_identity(db_path, "email", "cafe@example.de")
    assert cafe["name"] == "Café Müller" and notes_of(db_path, cafe["id"]) == ["Spotkanie w Łodzi, wrzesień"]
    assert contact_by_identity(db_path, "email", "lukasz@example.pl")["name"] == "Łukasz Żółw"
    reimport_changes_nothing(db_path, "vcard", "--db", db_path, FIDELITY / "charsets.vcf")


def test_vcard_utf8_folded_mid_character_and_utf16_without_bom(db_path):
    import_json("vcard", "--db", db_path, FIDELITY / "utf8_folded.vcf")
    ana = contact_by_identity(db_path, "email", "ana@example.es")
    assert (ana["name"], ana["given_name"], ana["family_name"], ana["title"]) == (
        "Ana Sofía Núñez",
        "Ana Sofía",
        "Núñez",
        "Directora de Innovación y Tecnología en la Fundación Ibérica de Estudios Avanzados",
    )
    import_json("vcard", "--db", db_path, FIDELITY / "utf16_nobom.vcf")
    assert contact_by_identity(db_path, "email", "soren@example.dk")["name"] == "Søren Kierkegaard-Holm"


QUIRKS = {  # one odd line each, inside an otherwise plain card
    "outlook empty parameter": ["ADR;HOME;PREF;:;;1 Main St;Springfield;;;"],
    "unindented 2.1 base64": [
        "PHOTO;ENCODING=BASE64;TYPE=JPEG:/9j/4AAQSkZJRgABAQEASABIAAD",
        "/2wBDAAMCAgMCAgMDAwMEAwMEBQgFBQQEBQoHBwYIDAoMDAsKCwsNDhIQDQ4R",
        "",
    ],
    "comment line": ["# a comment"],
    "trailing backslash": ["ADR;TYPE=WORK:;;Unit 4\\", "Mill Lane;Leeds;;LS1 4AB;UK"],
    "bare FN": ["FN"],
    "slash in a property name": ["X-messaging/twitter-All:quirky"],
}


@pytest.mark.parametrize("quirk", sorted(QUIRKS))
def test_vcard_one_odd_line_never_refuses_the_file(db_path, tmp_path, quirk):
    path = tmp_path / "one.vcf"
    lines = ["BEGIN:VCARD", "VERSION:2.1", "FN:Quinn Quirk", *QUIRKS[quirk], "EMAIL:quinn@example.org", "END:VCARD"]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode())
    report = import_json("vcard", "--db", db_path, path)
    assert report["created"] == 1
    assert contact_by_identity(db_path, "email", "quinn@example.org")["name"] == "Quinn Quirk"


# --- CSVs from Thunderbird and Outlook -----------------------------------------------------------


def identities_of(db_path: Path, contact_id: int) -> list[tuple]:
    return q(
        db_path, "SELECT kind, value, label FROM identities WHERE contact_id = ? ORDER BY kind, value", [contact_id]
    )


def test_thunderbird_csv(db_path):
    """`Primary Email`/`Secondary Email`, `Work Phone`/`Mobile Number`, `Home City`…, `Birth Year/Month/Day`."""
    report = import_json("csv", "--db", db_path, FIDELITY / "thunderbird.csv")
    assert report["created"] == 2
    priya = contact_by_identity(db_path, "email", "priya.nair@example.in")
    assert (priya["name"], priya["company"], priya["title"], priya["location"], priya["birthday"]) == (
        "Priya Nair",
        "Lotus Insights",
        "Data Scientist",
        "Bengaluru, Karnataka, India",
        "1988-07-14",
    )
    assert identities_of(db_path, priya["id"]) == [
        ("email", "pnair@example.org", None),
        ("email", "priya.nair@example.in", None),
        ("phone", "+918041234567", "work"),
        ("phone", "+919845012345", "cell"),
        ("url", "https://priya.example.in/", None),
    ]
    assert notes_of(db_path, priya["id"]) == ["Met at PyCon India.", "From CSV:\nDepartment: Analytics"]
    tomas = contact_by_identity(db_path, "email", "tomas@example.cl")
    assert (tomas["name"], tomas["birthday"]) == ("Tomás Ríos", "--03-09")
    assert notes_of(db_path, tomas["id"]) == ["From CSV:\nPhone (not readable): ask at reception"]
    assert report["unreadable"] == {"phones": 1}
    reimport_changes_nothing(db_path, "csv", "--db", db_path, FIDELITY / "thunderbird.csv")


def test_outlook_semicolon_csv(db_path):
    """Semicolons, Windows-1252, `Title` (Dr.) beside `Job Title`, `E-mail Address`/`Email Home`, day-first
    birthdays, phones with their kind, an extension, one without a country code (no --region), rows that
    have only an email (one as `"Omega" <omega@example.com>`)."""
    report = import_json("csv", "--db", db_path, FIDELITY / "outlook_semicolon.csv")
    assert report["created"] == 4 and report["skipped"] == 0
    helga = contact_by_identity(db_path, "email", "helga@nordlys.example")
    assert (
        helga["name"],
        helga["given_name"],
        helga["family_name"],
        helga["title"],
        helga["company"],
        helga["location"],
        helga["birthday"],
    ) == (
        "Dr. Helga Sørensen",
        "Helga",
        "Sørensen",
        "Chief Physician",
        "Nordlys Klinik",
        "Tromsø, Norway",
        "1971-01-20",
    )
    assert identities_of(db_path, helga["id"]) == [
        ("email", "helga.s@example.no", "home"),
        ("email", "helga@nordlys.example", None),
        ("phone", "+4722000099", "pager"),
        ("phone", "+4777600000;ext=214", "work"),
        ("phone", "+4777600001", "work,fax"),
        ("phone", "0412345678", "cell"),
    ]
    assert notes_of(db_path, helga["id"]) == [
        "Prefers mornings; speaks Sami.",
        "From CSV:\nBusiness Street: Fjordgata 3\nBusiness Postal Code: 9008",
    ]
    ken = contact_by_identity(db_path, "email", "ken@example.ng")
    assert (ken["name"], ken["title"], ken["birthday"]) == ("Mr. Ken Adeyemi", None, "1985-03-02")
    assert contact_by_identity(db_path, "email", "omega@example.com")["name"] == "Omega"
    assert contact_by_identity(db_path, "email", "solo@example.org")["name"] == "solo@example.org"
    assert not q(db_path, "SELECT id FROM contacts WHERE name = ''")
    assert any("1 phone numbers have no country code" in w for w in report["warnings"])
    reimport_changes_nothing(db_path, "csv", "--db", db_path, FIDELITY / "outlook_semicolon.csv")


# --- round trips ------------------------------------------------------------------------------------


def card_data(db_path: Path) -> list[tuple]:
    """Name, organisation, title, birthday, every email and phone with its type, every note."""
    out = []
    for cid, name, company, title, birthday in q(db_path, "SELECT id, name, company, title, birthday FROM contacts"):
        keys = tuple(q(db_path, "SELECT kind, value, label FROM identities WHERE contact_id = ? ORDER BY 1, 2", [cid]))
        out.append((name, company, title, birthday, keys, tuple(sorted(notes_of(db_path, cid)))))
    return sorted(out)


MARGUERITE = (
    "Marguerite Oyelaran",
    "Tidewater Instruments",
    "Principal Engineer",
    "1979-04-23",
    (
        ("email", "m.oyelaran@tidewater.example", "work"),
        ("email", "marguerite@example.net", "home"),
        ("phone", "+14155550100;ext=102", "work"),
        ("phone", "+14155550132", "cell"),
        ("phone", "+14155550133", "work,fax"),
        ("phone", "+14155550134", "pager"),
        ("phone", "02079460321", "home"),
    ),
    ("From vCard:\nDepartment: R&D", "Loves tide tables.\nCall before noon."),
)
BARTHOLOMEW = (
    "Bartholomew Achterberg",
    None,
    None,
    None,
    (("phone", "0101234567;ext=45", "home"), ("phone", "0612345678", "cell")),
    ("Only local numbers on this card.",),
)


@pytest.mark.parametrize("version", ["4.0", "3.0"])
def test_vcard_export_import_keeps_types_extensions_and_local_numbers(db_path, tmp_path, version):
    """Seven numbers in, seven TEL lines out (none had been written for numbers without a country code),
    each with its TYPE; an extension survives; emails keep theirs."""
    import_json("vcard", "--db", db_path, FIDELITY / "address_book.vcf")
    assert card_data(db_path) == [BARTHOLOMEW, MARGUERITE]
    out = tmp_path / "out.vcf"
    kith("export", "vcard", "--db", db_path, "--version", version, "-o", out)
    assert out.read_bytes().decode("utf-8").count("\r\nTEL;") == 7
    copy = tmp_path / "copy.db"
    import_json("vcard", "--db", copy, out)
    assert card_data(copy) == card_data(db_path)
    reimport_changes_nothing(db_path, "vcard", "--db", db_path, FIDELITY / "address_book.vcf")


def test_csv_export_import_keeps_notes(db_path, tmp_path):
    import_json("vcard", "--db", db_path, FIDELITY / "address_book.vcf")
    out = tmp_path / "out.csv"
    kith("export", "csv", "--db", db_path, "-o", out)
    copy = tmp_path / "copy.db"
    import_json("csv", "--db", copy, out)
    strip = [(c[0], c[1], c[2], c[3], tuple(k[:2] for k in c[4]), c[5]) for c in card_data(db_path)]
    assert [(c[0], c[1], c[2], c[3], tuple(k[:2] for k in c[4]), c[5]) for c in card_data(copy)] == strip


# --- every fixture: the report says what happened, and a second import changes nothing ----------------

FIXTURES_BY_KIND = [
    ("linkedin", "linkedin_2023"),
    ("linkedin", "linkedin_spreadsheet"),
    ("vcard", "shared_identities.vcf"),
    ("vcard", "wild.vcf"),
    ("vcard", "charsets.vcf"),
    ("vcard", "utf8_folded.vcf"),
    ("vcard", "utf16_nobom.vcf"),
    ("vcard", "address_book.vcf"),
    ("csv", "thunderbird.csv"),
    ("csv", "outlook_semicolon.csv"),
]


@pytest.mark.parametrize("kind,name", FIXTURES_BY_KIND)
def test_every_fixture_reimports_as_nothing(db_path, kind, name):
    first = import_json(kind, "--db", db_path, FIDELITY / name)
    assert first["created"] > 0
    again = reimport_changes_nothing(db_path, kind, "--db", db_path, FIDELITY / name)
    assert again["unchanged"] == first["created"] + first["updated"] + first["unchanged"]


def test_report_counts_rows_per_file_and_embedded_photos(db_path):
    report = import_json("linkedin", "--db", db_path, FIDELITY / "linkedin_2023")
    assert {Path(f).name: n for f, n in report["rows_per_file"].items()} == {
        "Connections.csv": 3,
        "Invitations.csv": 2,
        "messages.csv": 4,
    }
    text = kith("import", "linkedin", "--db", db_path, FIDELITY / "linkedin_2023").output
    assert "rows per file:" in text and "Connections.csv 3" in text
    report = import_json("vcard", "--db", db_path, FIDELITY / "wild.vcf")
    assert any(w.startswith("1 photos embedded in the cards were not kept") for w in report["warnings"])


EDITOR_BODIES = [
    '<p class="spinmail-quill-editor__spin-break">Hi Sam,</p><p class="spinmail-quill-editor__spin-break">'
    "It&rsquo;s short &amp; sweet.</p>",
    "Here it is: https://noor.example.com/work<br>Thanks!",
    '<p>See <a href="https://example.com/a?b=1&amp;c=2">the  deck</a>,<br/>page <b>4</b>.</p><p></p><p>&nbsp;</p><p>Bye</p>',
    "<p>Line one\nstill one</p>\n<p>Two &lt;3 &#8212; done</p>",
]


@pytest.mark.parametrize("body", EDITOR_BODIES)
def test_editor_markup_fast_path_reads_as_beautifulsoup_does(body):
    from companion.extract.fragment import fragment_text
    from companion.importers.bodies import editor_text, message_text

    assert editor_text(body) == fragment_text(body)
    assert message_text(body) == fragment_text(body)


def test_other_markup_goes_to_beautifulsoup():
    from companion.importers.bodies import editor_text, message_text

    body = "<div>Quoted:<blockquote>earlier text</blockquote></div><script>x()</script>"
    assert editor_text(body) is None
    assert message_text(body) == "Quoted:\nearlier text"
