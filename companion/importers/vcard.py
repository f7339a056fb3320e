"""vCard 2.1, 3.0 and 4.0 files (phones, Google, Apple, Monica), read with `vobject`.

FN/N → name, ORG → company, TITLE → title, EMAIL/TEL/URL/X-SOCIALPROFILE →
identity keys (phones in E.164), BDAY → birthday (`--MMDD` when the year is
unknown), NOTE → notes, CATEGORIES → tags, PHOTO → avatar when it is a URL,
ADR → location. Properties Kith has no column for (nicknames, street
addresses, anniversaries, numbers it cannot read…) are kept in one note per
card, so nothing in the address book is lost. `X-KITH-*` properties are what
`kith export vcard` writes for Kith's own fields, so a round trip is exact.
"""

from __future__ import annotations

import codecs
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from vobject import base

from ..identity import canonical_identity
from ..urls import http_url
from .dates import parse_birthday
from .files import decode, read_text
from .bulk import gc_paused
from .people import Person
from .report import ImportFileError, ImportReport
from .save import Loaded

SOURCE = "import:vcard"

# Kith columns without a standard vCard property: X-KITH-<NAME> in both directions.
KITH_FIELDS = {"X-KITH-HEADLINE": "headline", "X-KITH-BIO": "bio", "X-KITH-PRONOUNS": "pronouns",
               "X-KITH-CREDENTIALS": "credentials", "X-KITH-CIRCLE": "circle", "X-KITH-HOW-MET": "how_met",
               "X-KITH-KEEP-IN-TOUCH-DAYS": "keep_in_touch_days"}
# X-SOCIALPROFILE TYPE values → identity kinds (identity.py also knows "twitter").
SOCIAL_KINDS = {"linkedin": "linkedin", "twitter": "x", "x": "x", "github": "github", "mastodon": "mastodon"}
# Read elsewhere, or bookkeeping with nothing to keep.
HANDLED = {"VERSION", "PRODID", "REV", "UID", "FN", "N", "ORG", "TITLE", "EMAIL", "TEL", "URL",
           "X-SOCIALPROFILE", "BDAY", "NOTE", "CATEGORIES", "PHOTO", "ADR", "KIND", "CLIENTPIDMAP",
           "X-ABLABEL", "X-ABUID", "X-ABSHOWAS", "LABEL", "SOUND", "KEY", "LOGO", "MAILER", "SORT-STRING",
           "X-KITH-IDENTITY", "SOURCE", *KITH_FIELDS}


@dataclass
class Prop:
    """One content line, unfolded and QP-decoded, with its raw (still escaped) value."""

    name: str
    value: str
    params: dict
    flags: list
    line: int

    def param(self, name: str) -> list[str]:
        return [v for item in self.params.get(name, []) for v in item.split(",") if v]

    @property
    def types(self) -> str:
        kinds = [t for t in self.param("TYPE") + self.flags
                 if t.upper() not in ("INTERNET", "PREF", "VOICE", "X400", "QUOTED-PRINTABLE", "BASE64")]
        return ", ".join(k.lower() for k in kinds)

    @property
    def text(self) -> str:
        return unescape(self.value).replace("\r\n", "\n").strip()

    def parts(self, sep: str) -> list[str]:
        return [unescape(p).strip() for p in split_unescaped(self.value, sep)]


def unescape(value: str) -> str:
    if "\\" not in value:
        return value
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) in "nN" else m.group(1), value, flags=re.S)


def split_unescaped(value: str, sep: str) -> list[str]:
    """Split on `sep` where it is not backslash-escaped (vCard's ';' and ',' lists)."""
    parts, current, escaped = [], [], False
    for ch in value:
        if escaped:
            current.append("\\" + ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == sep:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def _decode_qp(value: str, charset: str | None) -> str:
    data = codecs.decode(value.encode("utf-8"), "quoted-printable")
    if charset:
        try:
            return data.decode(charset)
        except (LookupError, UnicodeDecodeError):
            pass
    return decode(data)


def read_cards(text: str, path: str) -> Iterator[tuple[int, list[Prop]]]:
    """The cards in a file as (first line, properties), one at a time.

    vobject unfolds lines (RFC folding and 2.1 quoted-printable soft breaks) and
    splits each into name, parameters and value. Values are decoded here, because
    vobject's text decoding keeps only what precedes the first unescaped comma,
    and old phones never escape commas.
    """
    cards = 0
    current: list[Prop] | None = None
    start = depth = 0
    last = 1
    for raw, number in base.getLogicalLines(io.StringIO(text), allowQP=True):
        number = max(int(number or 0), 1)
        last = number
        if not raw.strip():
            continue
        try:
            name, params, value, group = base.parseLine(raw, number)
        except base.ParseError as exc:
            what = "not a vCard line" if current is not None or cards else "not a vCard file"
            raise ImportFileError(path, number, f"{what}: {raw[:60]!r}") from exc
        name = name.upper()
        if name == "BEGIN":
            if current is None and value.strip().upper() == "VCARD":
                current, start = [], number
            elif current is None:
                raise ImportFileError(path, number, f"BEGIN:{value} outside a vCard")
            else:
                depth += 1  # an embedded component (2.1 AGENT): its lines are not this card's
            continue
        if name == "END":
            if current is None:
                raise ImportFileError(path, number, "END without BEGIN:VCARD")
            if depth:
                depth -= 1
            else:
                cards += 1
                yield start, current
                current = None
            continue
        if current is None:
            what = "not a vCard file" if not cards else f"{name} outside a vCard"
            raise ImportFileError(path, number, f"{what} (expected BEGIN:VCARD)")
        if depth:
            continue
        table: dict = {}
        flags: list = []
        for item in params:
            if len(item) == 1:
                flags.append(item[0].upper())
            else:
                table.setdefault(item[0].upper(), []).extend(item[1:])
        if "QUOTED-PRINTABLE" in [e.upper() for e in table.get("ENCODING", [])] + flags:
            value = _decode_qp(value, (table.get("CHARSET") or [None])[0])
        current.append(Prop(name, value, table, flags, number))
    if current is not None:
        raise ImportFileError(path, last, f"the vCard that begins on line {start} never ends (no END:VCARD)")
    if not cards:
        raise ImportFileError(path, 1, "no vCard found (no BEGIN:VCARD line)")


def load_vcards(path: Path, *, region: str | None = None) -> Loaded:
    """Parse every card in the file first; a broken file raises ImportFileError (file and line)."""
    report = ImportReport("vCard")
    report.files.append(str(path))
    with gc_paused():
        people = parse_vcards(read_text(path), str(path), report, region=region)
    return Loaded(people, report, SOURCE)


def parse_vcards(text: str, path: str, report: ImportReport, *, region: str | None = None) -> list[Person]:
    people = []
    unread_phones = 0
    for line, props in read_cards(text, path):
        report.rows += 1
        person, phones = card_to_person(props, path, line, region)
        unread_phones += phones
        if person is None:
            report.skip(path, line, "the card has no name, email, phone or URL")
        else:
            people.append(person)
    if unread_phones:
        report.warnings.append(f"{unread_phones} phone numbers without a country code were kept in notes;"
                               " re-run with --region CC to read them")
    return people


def card_to_person(props: list[Prop], path: str, line: int | None,
                   region: str | None = None) -> tuple[Person | None, int]:
    """One card → a Person (or None when it names nobody), and how many phones could not be read."""
    fields: dict = {}
    identities: list[dict] = []
    tags: list[str] = []
    notes: list[str] = []
    extra: list[str] = []
    unread_phones = 0

    def identity(value: str, kind: str | None, label: str, handle: str = "") -> dict | None:
        key = canonical_identity(value, kind=kind, region=region) if value else None
        if key is None and handle:
            key = canonical_identity(handle, kind=kind)
        if key is None and value and kind not in (None, "email", "phone"):
            key = canonical_identity(value)
        if key is None:
            if value:
                extra.append(f"{label}: {value}")
        elif key not in identities:
            identities.append(key)
        return key

    def labelled(label: str, prop: Prop) -> str:
        return f"{label} ({prop.types})" if prop.types else label

    n_name = ""
    for prop in props:
        name, text = prop.name, prop.text
        if name == "FN":
            fields.setdefault("name", text)
        elif name == "N":
            family, given, additional, prefix, suffix = (prop.parts(";") + [""] * 5)[:5]
            fields.setdefault("given_name", given)
            fields.setdefault("family_name", family)
            n_name = n_name or " ".join(p for p in (prefix, given, additional, family, suffix) if p)
        elif name == "ORG":
            org = [p for p in prop.parts(";") if p]
            fields.setdefault("company", org[0] if org else "")
            if len(org) > 1:
                extra.append(f"Department: {', '.join(org[1:])}")
        elif name == "TITLE":
            fields.setdefault("title", text)
        elif name == "EMAIL":
            identity(text, "email", labelled("Email", prop))
        elif name == "TEL":
            if identity(text, "phone", labelled("Phone", prop)) is None and text:
                unread_phones += not text.startswith(("+", "tel:+"))
        elif name == "URL":
            identity(text, None, labelled("URL", prop))
        elif name == "X-SOCIALPROFILE":
            kind_name = (prop.param("TYPE") or [""])[0].lower()
            identity(text, SOCIAL_KINDS.get(kind_name, kind_name or None),
                     f"Social profile ({kind_name or 'other'})", (prop.param("X-USER") or [""])[0])
        elif name == "X-KITH-IDENTITY":
            identity(text, (prop.param("TYPE") or [None])[0], "Identity")
        elif name == "BDAY":
            birthday = parse_birthday(text)
            if birthday:
                fields.setdefault("birthday", birthday)
            elif text:
                extra.append(f"Birthday: {text}")
        elif name == "NOTE":
            if text:
                notes.append(text)
        elif name == "CATEGORIES":
            tags += [t for t in prop.parts(",") if t]
        elif name == "PHOTO":
            if http_url(text):
                fields.setdefault("avatar_url", http_url(text))
        elif name == "ADR":
            box, extended, street, city, state, code, country = (prop.parts(";") + [""] * 7)[:7]
            fields.setdefault("location", ", ".join(p for p in (city, state, country) if p))
            if box or extended or street or code:
                full = ", ".join(p for p in (box, extended, street, city, state, code, country) if p)
                extra.append(f"{labelled('Address', prop)}: {full}")
        elif name in KITH_FIELDS:
            fields.setdefault(KITH_FIELDS[name], text)
        elif name not in HANDLED and text and not prop.param("ENCODING"):
            extra.append(f"{name.title()}: {text}")

    fields["name"] = fields.get("name") or n_name or fields.get("company") or None
    if extra:
        notes.append("From vCard:\n" + "\n".join(extra))
    if not fields["name"] and not identities:
        return None, unread_phones
    return Person(path, line, fields, identities=identities, tags=tags, notes=notes), unread_phones
