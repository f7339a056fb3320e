"""Contact CSVs: Google Contacts (current and old layouts), Kith's own export, and any
other CSV with a header row, its columns recognised by name or mapped with --map.

Google puts several values in one cell joined with " ::: " (labels, emails,
phones); labels become tags, except Google's system labels ("* myContacts").
Columns that map to nothing are kept as a note on the contact, and the
per-value "Label"/"Type" columns are the only ones dropped.
"""

from __future__ import annotations

import re
from email.utils import parseaddr
from pathlib import Path

from ..identity import canonical_identity
from ..urls import http_url
from .dates import day_first, parse_birthday
from .files import CsvTable, norm, read_csv, read_text
from .bulk import gc_paused
from .people import Person
from .report import ImportFileError, ImportReport
from .save import Loaded

SOURCE = "import:csv"
IDENTITY_FIELDS = ("email", "phone", "linkedin", "github", "x", "mastodon", "url", "other_identities")
FIELDS = (
    "name",
    "given_name",
    "middle_name",
    "family_name",
    "name_prefix",
    "name_suffix",
    "company",
    "title",
    "headline",
    "location",
    "city",
    "region",
    "country",
    "birthday",
    "birth_year",
    "birth_month",
    "birth_day",
    "bio",
    "avatar_url",
    "pronouns",
    "credentials",
    "circle",
    "how_met",
    "keep_in_touch_days",
    *IDENTITY_FIELDS,
    "tags",
    "note",
)

# Normalised header (see files.norm) → field.
ALIASES = {
    "name": "name",
    "fullname": "name",
    "displayname": "name",
    "contactname": "name",
    "firstname": "given_name",
    "givenname": "given_name",
    "first": "given_name",
    "middlename": "middle_name",
    "additionalname": "middle_name",
    "lastname": "family_name",
    "familyname": "family_name",
    "surname": "family_name",
    "last": "family_name",
    "nameprefix": "name_prefix",
    "namesuffix": "name_suffix",
    "company": "company",
    "companyname": "company",
    "organization": "company",
    "organisation": "company",
    "employer": "company",
    "org": "company",
    "title": "title",
    "jobtitle": "title",
    "position": "title",
    "role": "title",
    "headline": "headline",
    "location": "location",
    "city": "city",
    "region": "region",
    "state": "region",
    "country": "country",
    "birthday": "birthday",
    "birthdate": "birthday",
    "bday": "birthday",
    "birthyear": "birth_year",
    "birthmonth": "birth_month",  # Thunderbird (its "Birth Day": see parse_rows)
    "dateofbirth": "birthday",
    "bio": "bio",
    "about": "bio",
    "photo": "avatar_url",
    "avatar": "avatar_url",
    "avatarurl": "avatar_url",
    "photourl": "avatar_url",
    "pronouns": "pronouns",
    "credentials": "credentials",
    "circle": "circle",
    "howmet": "how_met",
    "howwemet": "how_met",
    "keepintouchdays": "keep_in_touch_days",
    "linkedin": "linkedin",
    "linkedinurl": "linkedin",
    "linkedinprofile": "linkedin",
    "github": "github",
    "x": "x",
    "twitter": "x",
    "twitterhandle": "x",
    "mastodon": "mastodon",
    "tags": "tags",
    "labels": "tags",
    "groups": "tags",
    "groupmembership": "tags",
    "categories": "tags",
    "notes": "note",
    "note": "note",
    "comments": "note",
    "otheridentities": "other_identities",
    # Kith's own export: bookkeeping that an import recomputes.
    "kithid": "-",
    "lastinteractionat": "-",
}
# Where an email or phone column says what kind it is (Thunderbird's "Work Phone", Outlook's
# "Business Fax", "Email Home"), the kind becomes the identity's label, as a vCard's TYPE does.
_KIND = r"(?P<kind>home|work|business|mobile|cell|car|other|primary|secondary|personal|companymain|main)"
EMAIL_COLUMN = re.compile(
    rf"^{_KIND}?e?mail\d*(?:address)?\d*(?P<kind2>home|work|business|personal|other)?"
    r"(?:value|address)?$"
)
PHONE_COLUMN = re.compile(
    rf"^(?:{_KIND}?(?:phone|telephone|tel|phonenumber)\d*(?:value|number)?"
    r"|(?P<mobile>mobile|cell|cellphone|mobilephone)\d*(?:number)?"
    rf"|{_KIND.replace('kind', 'kind3')}number"
    r"|(?P<fax>home|work|business|other)?fax(?:number)?\d*|(?P<pager>pager)(?:number)?\d*)$"
)
LABELS = {
    "home": "home",
    "work": "work",
    "business": "work",
    "companymain": "work",
    "office": "work",
    "mobile": "cell",
    "cell": "cell",
    "car": "cell",
    "iphone": "cell",
    "personal": "home",
    "fax": "fax",
    "pager": "pager",
    "workfax": "work,fax",
    "homefax": "home,fax",
    "businessfax": "work,fax",
}
PATTERNS = [
    (EMAIL_COLUMN, "email"),
    (PHONE_COLUMN, "phone"),
    (re.compile(r"^(personal|business|work|home)?(website|webpage|web|url|homepage)\d*(value)?$"), "url"),
    (re.compile(r"^(home|work|business|other)(city)$"), "city"),
    (re.compile(r"^(home|work|business|other)(state|region)$"), "region"),
    (re.compile(r"^(home|work|business|other)(country|countryregion)$"), "country"),
    (re.compile(r"^(organization|organisation)\d*name$"), "company"),
    (re.compile(r"^(organization|organisation)\d*(title|jobtitle)$"), "title"),
    (re.compile(r"^address\d*(city|locality)$"), "city"),
    (re.compile(r"^address\d*region$"), "region"),
    (re.compile(r"^address\d*country$"), "country"),
    # Which kind of email/phone/… the next column holds: nothing to keep.
    (
        re.compile(
            r"^(e?mail|phone|website|address|organization|relation|event|im|customfield|externalid)"
            r"\d*(label|type)$"
        ),
        "-",
    ),
]
MULTI = " ::: "
SYSTEM_LABEL = "* "
HONORIFICS = frozenset("mr mrs ms miss mx dr prof sir dame rev fr hon herr frau m mme mlle sr sra srta".split())


def column_label(header: str) -> str | None:
    """The kind an email or phone column names ("Business Fax" → "work,fax", "Mobile Phone" → "cell")."""
    key = norm(header)
    for pattern in (EMAIL_COLUMN, PHONE_COLUMN):
        m = pattern.match(key)
        if not m:
            continue
        found = m.groupdict()
        if found.get("fax") is not None or key.startswith("fax") or "fax" in key:
            return LABELS.get((found.get("fax") or "") + "fax", "fax")
        if found.get("pager"):
            return "pager"
        if found.get("mobile"):
            return "cell"
        kind = found.get("kind") or found.get("kind2") or found.get("kind3")
        return LABELS.get(kind or "")
    return None


def value_label(label: str | None) -> str | None:
    """Google's per-value label ("Mobile", "Work Fax", "* Other") as a vCard-like type."""
    words = re.sub(r"[^a-z ]", " ", (label or "").lower()).split()
    kinds = [LABELS[w] for w in words if w in LABELS]
    return ",".join(dict.fromkeys(",".join(kinds).split(","))) if kinds else None


def field_for(header: str, mapping: dict[str, str]) -> str | None:
    """The field a column feeds: --map first (exact, then normalised), then aliases, then patterns."""
    if header in mapping:
        return mapping[header]
    by_norm = {norm(k): v for k, v in mapping.items()}
    key = norm(header)
    if key in by_norm:
        return by_norm[key]
    if key in ALIASES:
        return ALIASES[key]
    for pattern, target in PATTERNS:
        if pattern.match(key):
            return target
    return None


def load_csv(path: Path, *, mapping: dict[str, str] | None = None, region: str | None = None) -> Loaded:
    """Parse the whole file first; a broken file raises ImportFileError (file and line)."""
    mapping = mapping or {}
    report = ImportReport("CSV")
    report.files.append(str(path))
    table = read_csv(read_text(path), str(path))
    headers = {norm(h) for h in table.header} | set(table.header)
    missing = [col for col in mapping if col not in headers and norm(col) not in headers]
    if missing:
        raise ImportFileError(
            path,
            table.header_line,
            f"--map names no column called {', '.join(missing)} (columns: {', '.join(table.header)})",
        )
    google = {"labels", "groupmembership"} & set(table.index)
    if google:
        report.source = "Google Contacts CSV"
    with gc_paused():
        people = parse_rows(table, mapping, report, region=region)
    return Loaded(people, report, SOURCE)


def _values(cell: str) -> list[str]:
    return [v.strip() for v in cell.split(MULTI) if v.strip()] if cell else []


def _tags(cell: str) -> list[str]:
    parts = _values(cell) if MULTI in cell else [t.strip() for t in re.split(r"[;,]", cell)]
    return [t for t in parts if t and not t.startswith(SYSTEM_LABEL)]


def parse_rows(
    table: CsvTable, mapping: dict[str, str], report: ImportReport, *, region: str | None = None
) -> list[Person]:
    targets = [field_for(h, mapping) for h in table.header]
    _refine_targets(table, targets, mapping)
    # Google's "Custom Field 1 - Value" is only readable next to its "Custom Field 1 - Label"; its
    # "Phone 1 - Value" says its kind in "Phone 1 - Label" ("Mobile", "Work Fax").
    label_of = {
        i: table.column(h[: -len("Value")] + "Label") for i, h in enumerate(table.header) if h.endswith(" - Value")
    }
    kind_of = {i: column_label(h) for i, h in enumerate(table.header) if targets[i] in ("email", "phone")}
    birthdays = [row[i] for _, row in table.rows for i, t in enumerate(targets) if t == "birthday" and i < len(row)]
    dayfirst = day_first(birthdays)
    kith_export = "kithid" in table.index
    people = []
    for line, row in table.rows:
        report.rows += 1
        values: dict[str, list[str]] = {}
        labels: dict[str, list[str | None]] = {}
        extra: list[str] = []
        for i, cell in enumerate(row):
            cell = cell.strip()
            if not cell:
                continue
            target = targets[i] if i < len(targets) else None
            header = table.header[i] if i < len(table.header) else f"column {i + 1}"
            if target == "-":
                continue
            label = row[label_of[i]].strip() if label_of.get(i) is not None and label_of[i] < len(row) else ""
            if target is None:
                extra.append(f"{label or header}: {cell}")
            else:
                values.setdefault(target, []).append(cell)
                labels.setdefault(target, []).append(value_label(label) or kind_of.get(i))
        if kith_export and values.get("note"):
            values["note"] = [n.strip() for cell in values["note"] for n in cell.split(MULTI) if n.strip()]
        person = row_to_person(values, extra, table.path, line, region, labels=labels, report=report, dayfirst=dayfirst)
        if person is None:
            report.skip(table.path, line, "no name, email, phone or profile in this row")
        else:
            people.append(person)
    report.note_local_phones(people)
    return people


def _refine_targets(table: CsvTable, targets: list, mapping: dict[str, str]) -> None:
    """Columns whose meaning depends on their neighbours (unless --map named them):

    * Outlook's "Title" (Mr., Dr.) beside its "Job Title" is a name prefix, as is a "Title"
      column that holds only honorifics;
    * Thunderbird's "Birth Day" (which normalises like "Birthday") beside "Birth Month" is a day.
    """
    mapped = {norm(k) for k in mapping} | set(mapping)
    for i, header in enumerate(table.header):
        key = norm(header)
        if header in mapped or key in mapped:
            continue
        if key == "title" and targets[i] == "title":
            others = any(t == "title" for j, t in enumerate(targets) if j != i)
            cells = [row[i].strip().rstrip(".").lower() for _, row in table.rows if i < len(row) and row[i].strip()]
            if others or (cells and all(c in HONORIFICS for c in cells)):
                targets[i] = "name_prefix"
        elif key == "birthday" and "birthmonth" in table.index:
            targets[i] = "birth_day"


def _birthday_parts(values: dict[str, list[str]]) -> str | None:
    """Thunderbird's Birth Year / Birth Month / Birth Day as 'YYYY-MM-DD' (or '--MM-DD')."""
    month, day, year = (values.get(k, [""])[0] for k in ("birth_month", "birth_day", "birth_year"))
    if not (month.isdigit() and day.isdigit()):
        return None
    if year.isdigit() and len(year) == 4:
        return parse_birthday(f"{year}-{int(month):02d}-{int(day):02d}")
    return parse_birthday(f"--{int(month):02d}-{int(day):02d}")


def row_to_person(
    values: dict[str, list[str]],
    extra: list[str],
    path: str,
    line: int,
    region: str | None,
    *,
    labels: dict[str, list] | None = None,
    report: ImportReport | None = None,
    dayfirst: bool = False,
) -> Person | None:
    def first(name: str) -> str | None:
        return values.get(name, [None])[0]

    labels = labels or {}
    unreadable: dict[str, int] = {}
    identities: list[dict] = []
    display_names: list[str] = []
    for kind in IDENTITY_FIELDS:
        for cell, label in zip(values.get(kind, []), labels.get(kind, []) or [None] * len(values.get(kind, []))):
            for value in _values(cell):
                if kind == "other_identities":
                    key_kind, _, value = value.partition(":")
                    key = canonical_identity(value, kind=key_kind)
                else:
                    key = canonical_identity(value, kind=None if kind == "url" else kind, region=region)
                    if key is None and kind not in ("email", "phone"):
                        key = canonical_identity(value)
                if key is None:
                    extra.append(f"{kind.replace('_', ' ').title()} (not readable): {value}")
                    if kind in ("email", "phone"):
                        unreadable[kind + "s"] = unreadable.get(kind + "s", 0) + 1
                    continue
                if label and key["kind"] in ("email", "phone"):
                    key = {**key, "label": label}
                if key["kind"] == "email":
                    shown = parseaddr(value)[0].strip() if "<" in value else ""
                    if shown and shown.lower() != key["value"]:
                        display_names.append(shown)
                if key not in identities:
                    identities.append(key)
    name = first("name") or " ".join(
        filter(None, (first(k) for k in ("name_prefix", "given_name", "middle_name", "family_name", "name_suffix")))
    )
    fields = {
        k: first(k)
        for k in (
            "company",
            "title",
            "headline",
            "bio",
            "pronouns",
            "credentials",
            "circle",
            "how_met",
            "keep_in_touch_days",
            "given_name",
            "family_name",
        )
    }
    # A row with only an address is named by the name the address carries ("Omega" <omega@…>), or by the
    # address itself: never "".
    email = next((i["value"] for i in identities if i["kind"] == "email"), None)
    fields["name"] = name or fields["company"] or (display_names[0] if display_names else None) or email
    fields["location"] = (
        first("location") or ", ".join(filter(None, (first(k) for k in ("city", "region", "country")))) or None
    )
    avatar = http_url(first("avatar_url"))
    if avatar:
        fields["avatar_url"] = avatar
    birthday_raw = first("birthday")
    if birthday_raw:
        fields["birthday"] = parse_birthday(birthday_raw, dayfirst)
        if not fields["birthday"]:
            extra.append(f"Birthday: {birthday_raw}")
            unreadable["dates"] = unreadable.get("dates", 0) + 1
    elif first("birth_month") or first("birth_day"):
        fields["birthday"] = _birthday_parts(values)
        if not fields["birthday"]:
            parts = "/".join(first(k) or "?" for k in ("birth_year", "birth_month", "birth_day"))
            extra.append(f"Birthday (year/month/day): {parts}")
            unreadable["dates"] = unreadable.get("dates", 0) + 1
    for key in ("name", "company", "title", "location", "given_name", "family_name", "city", "region", "country"):
        extra += [f"{key.replace('_', ' ').title()}: {v}" for v in values.get(key, [])[1:]]
    if not fields["name"] and not identities:
        return None
    if report is not None:
        report.unreadable.update(unreadable)
    notes = list(values.get("note", []))
    if extra:
        notes.append("From CSV:\n" + "\n".join(extra))
    tags = [t for cell in values.get("tags", []) for t in _tags(cell)]
    return Person(path, line, fields, identities=identities, tags=tags, notes=notes)
