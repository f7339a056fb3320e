"""vCard 2.1, 3.0 and 4.0 files (phones, Google, Apple, Monica, Outlook), read line by line.

Real address books break the grammar in small ways (Outlook's `ADR;HOME;PREF;:`, unindented 2.1
base64 photos, `#` comments, values continued after a backslash, a bare `FN`, `X-messaging/
twitter-All`, UTF-16 without a BOM), so the reader is Kith's own and forgiving: a line it cannot
read is skipped and reported with its file and line, and the rest is kept. Each property's bytes
are decoded by its own CHARSET (SHIFT_JIS, windows-1251…), UTF-8 first where none is named, after
unfolding, so a UTF-8 character split by a fold comes back whole.

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
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from ..identity import canonical_identity
from ..urls import http_url
from .dates import parse_birthday
from .files import read_bytes, utf16_without_bom
from .bulk import gc_paused
from .people import Person
from .report import ImportFileError, ImportReport
from .save import Loaded

SOURCE = "import:vcard"

# Kith columns without a standard vCard property: X-KITH-<NAME> in both directions.
KITH_FIELDS = {
    "X-KITH-HEADLINE": "headline",
    "X-KITH-BIO": "bio",
    "X-KITH-PRONOUNS": "pronouns",
    "X-KITH-CREDENTIALS": "credentials",
    "X-KITH-CIRCLE": "circle",
    "X-KITH-HOW-MET": "how_met",
    "X-KITH-KEEP-IN-TOUCH-DAYS": "keep_in_touch_days",
}
# X-SOCIALPROFILE TYPE values → identity kinds (identity.py also knows "twitter").
SOCIAL_KINDS = {"linkedin": "linkedin", "twitter": "x", "x": "x", "github": "github", "mastodon": "mastodon"}
# Other properties that name a social account, by the platform in their name.
_SOCIAL_NAME = re.compile(r"(TWITTER|GITHUB|LINKEDIN|MASTODON)")
# Read elsewhere, or bookkeeping with nothing to keep.
HANDLED = {
    "VERSION",
    "PRODID",
    "REV",
    "UID",
    "FN",
    "N",
    "ORG",
    "TITLE",
    "EMAIL",
    "TEL",
    "URL",
    "X-SOCIALPROFILE",
    "BDAY",
    "NOTE",
    "CATEGORIES",
    "PHOTO",
    "ADR",
    "KIND",
    "CLIENTPIDMAP",
    "X-ABLABEL",
    "X-ABUID",
    "X-ABSHOWAS",
    "LABEL",
    "SOUND",
    "KEY",
    "LOGO",
    "MAILER",
    "SORT-STRING",
    "X-KITH-IDENTITY",
    "SOURCE",
    *KITH_FIELDS,
}


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
        kinds = [
            t.lower()
            for t in self.param("TYPE") + self.flags
            if t.upper() not in ("INTERNET", "PREF", "VOICE", "X400", "QUOTED-PRINTABLE", "BASE64")
        ]
        return ", ".join(dict.fromkeys(kinds))

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


_UTF8 = {"utf-8", "utf8"}
# Charsets a file may claim while its values are really UTF-8 (an editor saved them that way).
_WESTERN = {"us-ascii", "ascii", "iso-8859-1", "latin-1", "latin1", "iso-8859-15", "windows-1252", "cp1252"}
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_NAME = re.compile(r"^(?:([A-Za-z0-9\-]+)\.)?([A-Za-z0-9][A-Za-z0-9\-_/.]*)$")
# A line that starts a property (to tell 2.1 base64 and backslash continuations from the next property).
_PROPERTY_START = re.compile(
    r"^(?:[A-Za-z0-9\-]+\.)?(?:BEGIN|END|VERSION|N|FN|ORG|TITLE|ROLE|EMAIL|TEL|ADR|URL|"
    r"NOTE|BDAY|PHOTO|LOGO|CATEGORIES|NICKNAME|LABEL|REV|UID|PRODID|KIND|GENDER|"
    r"ANNIVERSARY|IMPP|GEO|TZ|SOURCE|KEY|SOUND|AGENT|MAILER|X-[^;:\s]*)[;:]",
    re.I,
)


def decode_value(data: bytes, charset: str | None, utf8_file: bool = False) -> str:
    """One property's bytes as text, by its own CHARSET first.

    A value that is valid UTF-8 is UTF-8 when the property names no charset or a Western one (files
    that mix Windows-1252 lines with UTF-8 ones); otherwise the named charset (SHIFT_JIS,
    windows-1251, windows-1253…), then UTF-8, then Windows-1252, never failing."""
    if data.isascii():
        return data.decode("ascii")
    charset = (charset or "").strip().strip('"').lower() or None
    tries = []
    if utf8_file or charset is None or charset in _UTF8 or charset in _WESTERN:
        tries.append("utf-8")
    if charset:
        tries.append(charset)
    tries += ["utf-8", "cp1252"]
    for encoding in tries:
        try:
            return data.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("latin-1")


def _unescaped_backslash_at_end(text: str) -> bool:
    return (len(text) - len(text.rstrip("\\"))) % 2 == 1


def _split_outside_quotes(text: str, sep: str, limit: int = -1) -> list[str]:
    parts, current, quoted = [], [], False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch == sep and not quoted and limit != 0:
            parts.append("".join(current))
            current = []
            limit -= 1
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def _is_encoded(head: str, *encodings: str) -> bool:
    up = head.upper()
    return any(f"ENCODING={e}" in up or f";{e}" in up for e in encodings)


def logical_lines(raw: str) -> Iterator[tuple[str, int]]:
    """(logical line, first physical line number) of a file held as Latin-1 text (one char per byte).

    Unfolds RFC folding (a line starting with a space or tab), vCard 2.1's quoted-printable soft
    breaks (a value ending in "="), 2.1 base64 values written on unindented lines up to a blank
    line, and values continued after a trailing backslash (an unescaped line break)."""
    lines = _LINE_BREAK.split(raw)
    i, n = 0, len(lines)
    while i < n:
        buf = lines[i]
        number = i + 1
        i += 1
        if not buf.strip():
            continue
        head = _split_outside_quotes(buf, ":", 1)[0]
        qp = _is_encoded(head, "QUOTED-PRINTABLE")
        b64 = _is_encoded(head, "BASE64", "B")
        while i < n:
            nxt = lines[i]
            if nxt[:1] in (" ", "\t") and nxt.strip():
                buf = buf[:-1] + nxt.lstrip() if qp and buf.endswith("=") else buf + nxt[1:]
            elif qp and buf.endswith("=") and nxt:
                buf = buf[:-1] + nxt
            elif b64 and nxt.strip() and not _PROPERTY_START.match(nxt):
                buf += nxt.strip()
            elif not b64 and _unescaped_backslash_at_end(buf) and nxt.strip() and not _PROPERTY_START.match(nxt):
                buf = buf[:-1] + "\\n" + nxt
            else:
                break
            i += 1
        yield buf, number


class BadLine(ValueError):
    pass


def parse_line(line: str) -> tuple[str, dict, list, str]:
    """(NAME, params, flags, raw value) of one logical line; BadLine says why it is not one."""
    head_value = _split_outside_quotes(line, ":", 1)
    if len(head_value) < 2:
        raise BadLine("not a vCard property (no ':')")
    head, value = head_value
    pieces = _split_outside_quotes(head, ";")
    m = _NAME.match(pieces[0].strip())
    if not m:
        raise BadLine("not a vCard property name")
    table: dict = {}
    flags: list = []
    for item in pieces[1:]:
        item = item.strip()
        if not item:
            continue  # Outlook's "ADR;HOME;PREF;:" has an empty parameter
        key, eq, val = item.partition("=")
        if eq:
            table.setdefault(key.strip().upper(), []).extend(
                v.strip().strip('"') for v in _split_outside_quotes(val, ",") if v.strip()
            )
        else:
            flags.append(key.upper())
    return m.group(2).upper(), table, flags, value


def _prop(name: str, table: dict, flags: list, raw_value: str, number: int, utf8_file: bool) -> Prop:
    data = raw_value.encode("latin-1", "replace")
    if "QUOTED-PRINTABLE" in [e.upper() for e in table.get("ENCODING", [])] + flags:
        data = codecs.decode(data, "quoted-printable")
    value = decode_value(data, (table.get("CHARSET") or [None])[0], utf8_file)
    return Prop(name, value, table, flags, number)


def file_bytes(data: bytes) -> tuple[str, bool]:
    """The file as Latin-1 text (one character per byte, so each property decodes its own bytes),
    and whether every value is UTF-8 (a UTF-8 BOM, or UTF-16 re-encoded)."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("latin-1"), True
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", "replace").encode("utf-8").decode("latin-1"), True
    if b"\x00" in data[:4096]:
        text = utf16_without_bom(data)
        if text is None:
            raise BadLine("this is a binary file, not a vCard")
        return text.encode("utf-8").decode("latin-1"), True
    return data.decode("latin-1"), False


def read_cards(data: bytes, path: str, report: ImportReport) -> Iterator[tuple[int, list[Prop]]]:
    """The cards in a file as (first line, properties), one at a time.

    A line that cannot be read is skipped and reported with its file and line (`report.skip_line`);
    the rest of the card and of the file is kept, as phones and mail clients do. Only a file with
    no card at all is refused.
    """
    try:
        raw, utf8_file = file_bytes(data)
    except BadLine as exc:
        raise ImportFileError(path, None, str(exc)) from exc
    cards = 0
    current: list[Prop] | None = None
    start = depth = 0
    first = None
    orphans: list[tuple[int, str]] = []
    for line, number in logical_lines(raw):
        first = first or number
        if line.lstrip().startswith("#"):
            report.skip_line(path, number, "a comment line")
            continue
        try:
            name, table, flags, value = parse_line(line)
        except BadLine as exc:
            shown = line.strip()[:60].encode("latin-1", "replace").decode("utf-8", "replace")
            (
                report.skip_line(path, number, f"{exc}: {shown!r}")
                if current is not None or cards
                else orphans.append((number, f"{exc}: {shown!r}"))
            )
            continue
        if name == "BEGIN":
            if value.strip().upper() != "VCARD":
                if current is not None:
                    depth += 1
                else:
                    report.skip_line(path, number, f"BEGIN:{value.strip()[:20]} outside a vCard")
                continue
            if current is not None:
                if current and current[-1].name == "AGENT" and not current[-1].value.strip():
                    depth += 1  # 2.1 AGENT: an embedded card, whose lines are not this card's
                    continue
                report.skip_line(path, start, "this card has no END:VCARD; it ends where the next begins")
                cards += 1
                yield start, current
            current, start = [], number
            continue
        if name == "END":
            if current is None:
                report.skip_line(path, number, "END:VCARD without a BEGIN:VCARD")
            elif depth:
                depth -= 1
            else:
                cards += 1
                yield start, current
                current = None
            continue
        if current is None:
            orphans.append((number, f"{name} outside a vCard"))
            continue
        if depth:
            continue
        current.append(_prop(name, table, flags, value, number, utf8_file))
    if current is not None:
        report.skip_line(path, start, "this card has no END:VCARD; read to the end of the file")
        cards += 1
        yield start, current
    if not cards:
        raise ImportFileError(path, first or 1, "not a vCard file (no BEGIN:VCARD line)")
    for number, reason in orphans:
        report.skip_line(path, number, reason)


def load_vcards(path: Path, *, region: str | None = None) -> Loaded:
    """Parse every card in the file first (lines that cannot be read are skipped and reported);
    a file with no card raises ImportFileError."""
    report = ImportReport("vCard")
    report.files.append(str(path))
    with gc_paused():
        people = parse_vcards(read_bytes(path), str(path), report, region=region)
    report.skipped_lines.sort(key=lambda s: s.line or 0)
    return Loaded(people, report, SOURCE)


def parse_vcards(data: bytes, path: str, report: ImportReport, *, region: str | None = None) -> list[Person]:
    people = []
    unread_phones = embedded_photos = 0
    for line, props in read_cards(data, path, report):
        report.rows += 1
        embedded_photos += sum(1 for p in props if p.name == "PHOTO" and p.value.strip() and not http_url(p.text))
        person, phones = card_to_person(props, path, line, region)
        unread_phones += phones
        if person is None:
            report.skip(path, line, "the card has no name, email, phone or URL")
        else:
            people.append(person)
    report.unreadable["phones"] += unread_phones
    if embedded_photos:
        report.warnings.append(
            f"{embedded_photos} photos embedded in the cards were not kept (Kith keeps a photo's"
            " web address, not the image)"
        )
    report.note_local_phones(people)
    return people


def card_to_person(
    props: list[Prop], path: str, line: int | None, region: str | None = None
) -> tuple[Person | None, int]:
    """One card → a Person (or None when it names nobody), and how many phones could not be read
    (kept in the card's note)."""
    fields: dict = {}
    identities: list[dict] = []
    tags: list[str] = []
    notes: list[str] = []
    extra: list[str] = []
    unread_phones = 0

    def identity(value: str, kind: str | None, label: str, handle: str = "", prop: Prop | None = None) -> dict | None:
        key = canonical_identity(value, kind=kind, region=region) if value else None
        if key is not None and prop is not None and prop.types:
            key = {**key, "label": prop.types.replace(", ", ",")}  # what the card called it: cell, work…
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
            identity(text, "email", labelled("Email", prop), prop=prop)
        elif name == "TEL":
            if identity(text, "phone", labelled("Phone", prop), prop=prop) is None and text:
                unread_phones += 1
        elif name == "URL":
            identity(text, None, labelled("URL", prop))
        elif name == "X-SOCIALPROFILE":
            kind_name = (prop.param("TYPE") or [""])[0].lower()
            identity(
                text,
                SOCIAL_KINDS.get(kind_name, kind_name or None),
                f"Social profile ({kind_name or 'other'})",
                (prop.param("X-USER") or [""])[0],
            )
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
        elif name not in HANDLED and _SOCIAL_NAME.search(name) and text:
            # X-TWITTER, Apple's X-messaging/twitter-All, X-GITHUB…: a handle or profile URL
            kind_name = _SOCIAL_NAME.search(name).group(1).lower()
            identity(text, SOCIAL_KINDS.get(kind_name, kind_name), f"{name.title()}")
        elif name not in HANDLED and text and not prop.param("ENCODING"):
            extra.append(f"{name.title()}: {text}")

    fields["name"] = fields.get("name") or n_name or fields.get("company") or None
    if extra:
        notes.append("From vCard:\n" + "\n".join(extra))
    if not fields["name"] and not identities:
        return None, unread_phones
    return Person(path, line, fields, identities=identities, tags=tags, notes=notes), unread_phones
