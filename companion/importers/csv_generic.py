"""Contact CSVs: Google Contacts (current and old layouts), Kith's own export, and any
other CSV with a header row, its columns recognised by name or mapped with --map.

Google puts several values in one cell joined with " ::: " (labels, emails,
phones); labels become tags, except Google's system labels ("* myContacts").
Columns that map to nothing are kept as a note on the contact, and the
per-value "Label"/"Type" columns are the only ones dropped.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..identity import canonical_identity
from ..urls import http_url
from .dates import parse_birthday
from .files import CsvTable, norm, read_csv, read_text
from .bulk import gc_paused
from .people import Person
from .report import ImportFileError, ImportReport
from .save import Loaded

SOURCE = "import:csv"
IDENTITY_FIELDS = ("email", "phone", "linkedin", "github", "x", "mastodon", "url", "other_identities")
FIELDS = ("name", "given_name", "middle_name", "family_name", "name_prefix", "name_suffix", "company", "title",
          "headline", "location", "city", "region", "country", "birthday", "bio", "avatar_url", "pronouns",
          "credentials", "circle", "how_met", "keep_in_touch_days", *IDENTITY_FIELDS, "tags", "note")

# Normalised header (see files.norm) → field.
ALIASES = {
    "name": "name", "fullname": "name", "displayname": "name", "contactname": "name",
    "firstname": "given_name", "givenname": "given_name", "first": "given_name",
    "middlename": "middle_name", "additionalname": "middle_name",
    "lastname": "family_name", "familyname": "family_name", "surname": "family_name", "last": "family_name",
    "nameprefix": "name_prefix", "namesuffix": "name_suffix",
    "company": "company", "companyname": "company", "organization": "company", "organisation": "company",
    "employer": "company", "org": "company",
    "title": "title", "jobtitle": "title", "position": "title", "role": "title",
    "headline": "headline", "location": "location", "city": "city", "region": "region", "state": "region",
    "country": "country", "birthday": "birthday", "birthdate": "birthday", "bday": "birthday",
    "dateofbirth": "birthday", "bio": "bio", "about": "bio", "photo": "avatar_url", "avatar": "avatar_url",
    "avatarurl": "avatar_url", "photourl": "avatar_url", "pronouns": "pronouns", "credentials": "credentials",
    "circle": "circle", "howmet": "how_met", "howwemet": "how_met", "keepintouchdays": "keep_in_touch_days",
    "linkedin": "linkedin", "linkedinurl": "linkedin", "linkedinprofile": "linkedin", "github": "github",
    "x": "x", "twitter": "x", "twitterhandle": "x", "mastodon": "mastodon",
    "tags": "tags", "labels": "tags", "groups": "tags", "groupmembership": "tags", "categories": "tags",
    "notes": "note", "note": "note", "comments": "note", "otheridentities": "other_identities",
    # Kith's own export: bookkeeping that an import recomputes.
    "kithid": "-", "lastinteractionat": "-",
}
PATTERNS = [
    (re.compile(r"^(e?mail|emailaddress)\d*(value|address)?$"), "email"),
    (re.compile(r"^(phone|phonenumber|mobile|mobilephone|telephone|tel|cell)\d*(value|number)?$"), "phone"),
    (re.compile(r"^(website|web|url|homepage)\d*(value)?$"), "url"),
    (re.compile(r"^(organization|organisation)\d*name$"), "company"),
    (re.compile(r"^(organization|organisation)\d*(title|jobtitle)$"), "title"),
    (re.compile(r"^address\d*(city|locality)$"), "city"),
    (re.compile(r"^address\d*region$"), "region"),
    (re.compile(r"^address\d*country$"), "country"),
    # Which kind of email/phone/… the next column holds: nothing to keep.
    (re.compile(r"^(e?mail|phone|website|address|organization|relation|event|im|customfield|externalid)"
                r"\d*(label|type)$"), "-"),
]
MULTI = " ::: "
SYSTEM_LABEL = "* "


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
        raise ImportFileError(path, table.header_line, f"--map names no column called {', '.join(missing)}"
                              f" (columns: {', '.join(table.header)})")
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


def parse_rows(table: CsvTable, mapping: dict[str, str], report: ImportReport, *,
               region: str | None = None) -> list[Person]:
    targets = [field_for(h, mapping) for h in table.header]
    # Google's "Custom Field 1 - Value" is only readable next to its "Custom Field 1 - Label".
    label_of = {i: table.column(h[:-len("Value")] + "Label") for i, h in enumerate(table.header)
                if h.endswith(" - Value")}
    people = []
    for line, row in table.rows:
        report.rows += 1
        values: dict[str, list[str]] = {}
        extra: list[str] = []
        for i, cell in enumerate(row):
            cell = cell.strip()
            if not cell:
                continue
            target = targets[i] if i < len(targets) else None
            header = table.header[i] if i < len(table.header) else f"column {i + 1}"
            if target == "-":
                continue
            if target is None:
                label = row[label_of[i]].strip() if label_of.get(i) is not None and label_of[i] < len(row) else ""
                extra.append(f"{label or header}: {cell}")
            else:
                values.setdefault(target, []).append(cell)
        person = row_to_person(values, extra, table.path, line, region)
        if person is None:
            report.skip(table.path, line, "no name, email, phone or profile in this row")
        else:
            people.append(person)
    return people


def row_to_person(values: dict[str, list[str]], extra: list[str], path: str, line: int,
                  region: str | None) -> Person | None:
    def first(name: str) -> str | None:
        return values.get(name, [None])[0]

    identities: list[dict] = []
    for kind in IDENTITY_FIELDS:
        for cell in values.get(kind, []):
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
                elif key not in identities:
                    identities.append(key)
    name = first("name") or " ".join(filter(None, (first(k) for k in (
        "name_prefix", "given_name", "middle_name", "family_name", "name_suffix"))))
    fields = {k: first(k) for k in ("company", "title", "headline", "bio", "pronouns", "credentials", "circle",
                                     "how_met", "keep_in_touch_days", "given_name", "family_name")}
    fields["name"] = name or fields["company"] or None
    fields["location"] = first("location") or ", ".join(filter(None, (first(k) for k in (
        "city", "region", "country")))) or None
    avatar = http_url(first("avatar_url"))
    if avatar:
        fields["avatar_url"] = avatar
    birthday_raw = first("birthday")
    if birthday_raw:
        fields["birthday"] = parse_birthday(birthday_raw)
        if not fields["birthday"]:
            extra.append(f"Birthday: {birthday_raw}")
    for key in ("name", "company", "title", "location", "given_name", "family_name"):
        extra += [f"{key.replace('_', ' ').title()}: {v}" for v in values.get(key, [])[1:]]
    if not fields["name"] and not identities:
        return None
    notes = list(values.get("note", []))
    if extra:
        notes.append("From CSV:\n" + "\n".join(extra))
    tags = [t for cell in values.get("tags", []) for t in _tags(cell)]
    return Person(path, line, fields, identities=identities, tags=tags, notes=notes)
