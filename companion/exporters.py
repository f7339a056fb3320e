"""Taking everything out: vCard 4.0/3.0, JSON (all of it) and CSV.

Exports stream: contacts and every per-contact table are read in contact-id
order and merged as they go, so exporting 100,000 contacts holds one contact's
timeline in memory, not the whole database. vCards are written by hand (a few
escaping and folding rules) because vobject's serialiser is ~10x slower; the
tests read them back with Kith's importer and with vobject.

What a vCard cannot say natively travels in `X-KITH-*` properties, so
`export vcard` then `import vcard` into an empty database gives back the same
contacts and identities.
"""

from __future__ import annotations

import csv
import json
import re
from typing import IO, Iterator

from sqlite_utils import Database

from .identity import canonical_identity
from .importers.vcard import KITH_FIELDS
from .timeutil import now_iso

EXPORT_FORMAT_VERSION = 1
# Identity kinds written as X-SOCIALPROFILE;TYPE=… (others go to X-KITH-IDENTITY).
SOCIAL_TYPES = {"linkedin": "linkedin", "x": "twitter", "github": "github", "mastodon": "mastodon"}
CSV_IDENTITY_COLUMNS = ("email", "phone", "linkedin", "github", "x", "mastodon", "url")
CSV_COLUMNS = (
    "kith_id",
    "name",
    "given_name",
    "family_name",
    "company",
    "title",
    "headline",
    "location",
    "birthday",
    "bio",
    "avatar_url",
    "pronouns",
    "credentials",
    "circle",
    "how_met",
    "keep_in_touch_days",
    *CSV_IDENTITY_COLUMNS,
    "other_identities",
    "tags",
    "notes",
    "last_interaction_at",
)
MULTI = " ::: "


# --- reading, in contact order --------------------------------------------------------------


class _Grouped:
    """Rows of a query ordered by its first column (a contact id), taken one contact at a time."""

    def __init__(self, db: Database, sql: str, params=()):
        cursor = db.execute(sql, params)
        self.columns = [d[0] for d in cursor.description]
        self._rows = iter(cursor)
        self._next = next(self._rows, None)

    def take(self, contact_id: int) -> list[dict]:
        out = []
        while self._next is not None and self._next[0] is not None and self._next[0] < contact_id:
            self._next = next(self._rows, None)  # rows of contacts no longer there
        while self._next is not None and self._next[0] == contact_id:
            out.append(dict(zip(self.columns[1:], self._next[1:])))
            self._next = next(self._rows, None)
        return out


def iter_contacts(db: Database, *, timeline: bool = False, notes: bool = False) -> Iterator[dict]:
    """Each contact as a dict with `identities` and `tags` (and `notes`, or the full `timeline`)."""
    identities = _Grouped(
        db, "SELECT contact_id, kind, value, url, source, label FROM identities ORDER BY contact_id, id"
    )
    tags = _Grouped(
        db,
        "SELECT ct.contact_id, t.name FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id"
        " ORDER BY ct.contact_id, t.name",
    )
    dates = _Grouped(db, "SELECT contact_id, label, date, yearly, created_at FROM dated_notes ORDER BY contact_id, id")
    streams = {}
    if notes or timeline:
        streams["note"] = _Grouped(
            db,
            "SELECT contact_id, created_at AS at, id, body, capture_id FROM notes"
            " WHERE contact_id IS NOT NULL ORDER BY contact_id, created_at, id",
        )
    if timeline:
        streams.update(
            message=_Grouped(
                db,
                "SELECT contact_id, sent_at AS at, id, direction, sender, body, channel,"
                " thread_url, external_id, capture_id FROM messages WHERE contact_id IS NOT NULL"
                " ORDER BY contact_id, sent_at, id",
            ),
            interaction=_Grouped(
                db,
                "SELECT contact_id, happened_at AS at, id, kind, summary, direction, source, external_id,"
                " capture_id FROM interactions ORDER BY contact_id, happened_at, id",
            ),
            exchange=_Grouped(
                db,
                "SELECT contact_id, happened_at AS at, id, direction, kind, description"
                " FROM exchanges ORDER BY contact_id, happened_at, id",
            ),
            profile_change=_Grouped(
                db,
                "SELECT contact_id, detected_at AS at, id, field, old_value, new_value,"
                " capture_id FROM profile_changes ORDER BY contact_id, detected_at, id",
            ),
            capture=_Grouped(
                db,
                "SELECT contact_id, coalesce(captured_at, received_at) AS at, id, kind, url,"
                " title, status, extractor FROM captures WHERE contact_id IS NOT NULL"
                " ORDER BY contact_id, at, id",
            ),
        )
        outgoing = _Grouped(
            db,
            "SELECT r.from_contact_id, r.kind, r.to_contact_id AS contact_id, c.name, r.note"
            " FROM relationships r JOIN contacts c ON c.id = r.to_contact_id"
            " ORDER BY r.from_contact_id, r.id",
        )
        incoming = _Grouped(
            db,
            "SELECT r.to_contact_id, r.kind, r.from_contact_id AS contact_id, c.name, r.note"
            " FROM relationships r JOIN contacts c ON c.id = r.from_contact_id"
            " ORDER BY r.to_contact_id, r.id",
        )
    cursor = db.execute("SELECT * FROM contacts ORDER BY id")
    columns = [d[0] for d in cursor.description]
    for row in cursor:
        contact = dict(zip(columns, row))
        cid = contact["id"]
        contact["identities"] = identities.take(cid)
        contact["tags"] = [t["name"] for t in tags.take(cid)]
        contact["dates"] = dates.take(cid)
        if notes and not timeline:
            contact["notes"] = streams["note"].take(cid)
        if timeline:
            events = [{"type": kind, **event} for kind, stream in streams.items() for event in stream.take(cid)]
            events.sort(key=lambda e: (e["at"] or "", e["type"], e["id"]))
            contact["timeline"] = events
            contact["relationships"] = [{"direction": "to", **r} for r in outgoing.take(cid)] + [
                {"direction": "from", **r} for r in incoming.take(cid)
            ]
        yield contact


# --- vCard ------------------------------------------------------------------------------------


def _escape(text) -> str:
    return (
        str(text)
        .replace("\\", "\\\\")
        .replace("\r\n", "\n")
        .replace("\r", "\n")
        .replace("\n", "\\n")
        .replace(",", "\\,")
        .replace(";", "\\;")
    )


def _fold(line: str) -> str:
    """RFC 6350 §3.2: lines longer than 75 octets continue on the next line after a space,
    never splitting a UTF-8 character."""
    if len(line.encode("utf-8")) <= 75:
        return line + "\r\n"
    out, current, size = [], [], 0
    for ch in line:
        width = len(ch.encode("utf-8"))
        if size + width > (75 if not out else 74):
            out.append("".join(current))
            current, size = [], 0
        current.append(ch)
        size += width
    out.append("".join(current))
    return "\r\n ".join(out) + "\r\n"


def _prop(name: str, value: str, params: str = "") -> str:
    return _fold(f"{name}{params}:{value}")


def _vcard_birthday(birthday: str, version: str) -> str | None:
    if birthday.startswith("--") and len(birthday) == 7:
        return "--" + birthday[2:].replace("-", "") if version == "4.0" else birthday
    if len(birthday) == 10:
        return birthday.replace("-", "") if version == "4.0" else birthday
    return None


def _types(label: str | None) -> str:
    """`;TYPE=cell` (or `;TYPE=work,fax`) from an identity's label; only vCard's safe characters."""
    kinds = [k for k in (label or "").replace(" ", "").lower().split(",") if k and k.replace("-", "").isalnum()]
    return f";TYPE={','.join(kinds)}" if kinds else ""


def _tel(value: str, types: str, v4: bool) -> str:
    """A phone key as TEL: a tel: URI in 4.0 (`tel:+16505550100;ext=102`), text in 3.0
    (`+16505550100 ext. 102`); a number kept without its country code is text in both."""
    number, _, ext = value.partition(";ext=")
    if v4 and number.startswith("+"):
        return _prop("TEL", f"tel:{value}", f"{types};VALUE=uri")
    text = f"{number} ext. {ext}" if ext else number
    return _prop("TEL", _escape(text), f"{types};VALUE=text" if v4 else types)


_ANNIVERSARY = re.compile(r"\banniversary\b", re.I)
_WORK = re.compile(r"\bwork\b", re.I)


def _social_value(ident: dict) -> str:
    """The profile URL when it reads back as the same key, else the key itself (e.g. a URN)."""
    url = ident.get("url")
    if url and url.startswith("http"):
        back = canonical_identity(url, kind=ident["kind"])
        if back and back["value"] == ident["value"]:
            return url
    return ident["value"]


def contact_vcard(contact: dict, version: str = "4.0") -> str:
    v4 = version == "4.0"
    lines = [
        "BEGIN:VCARD\r\n",
        f"VERSION:{version}\r\n",
        "PRODID:-//Kith//Kith export//EN\r\n",
        _prop("FN", _escape(contact["name"] or "")),
        _prop("N", ";".join(_escape(contact.get(k) or "") for k in ("family_name", "given_name")) + ";;;"),
    ]
    if contact.get("company"):
        lines.append(_prop("ORG", _escape(contact["company"])))
    if contact.get("title"):
        lines.append(_prop("TITLE", _escape(contact["title"])))
    for ident in contact["identities"]:
        kind, value = ident["kind"], ident["value"]
        types = _types(ident.get("label"))
        if kind == "email":
            lines.append(_prop("EMAIL", _escape(value), types))
        elif kind == "phone":
            lines.append(_tel(value, types, v4))
        elif kind == "url":
            lines.append(_prop("URL", ident.get("url") or value))
        elif kind in SOCIAL_TYPES:
            lines.append(_prop("X-SOCIALPROFILE", _social_value(ident), f";TYPE={SOCIAL_TYPES[kind]}"))
        else:
            lines.append(_prop("X-KITH-IDENTITY", _escape(value), f";TYPE={kind}"))
    birthday = _vcard_birthday(contact.get("birthday") or "", version)
    if birthday:
        lines.append(_prop("BDAY", birthday))
    anniversary = next(
        (
            _vcard_birthday(d["date"], version)
            for d in contact.get("dates") or ()
            if d["yearly"] and _ANNIVERSARY.search(d["label"]) and not _WORK.search(d["label"])
        ),
        None,
    )
    if anniversary:  # vCard 4.0's ANNIVERSARY (a marriage or equivalent); 3.0 has none, X-ANNIVERSARY is read widely
        lines.append(_prop("ANNIVERSARY" if v4 else "X-ANNIVERSARY", anniversary))
    if (contact.get("avatar_url") or "").startswith(("http://", "https://")):
        lines.append(_prop("PHOTO", contact["avatar_url"], "" if v4 else ";VALUE=uri"))
    if contact.get("location"):
        lines.append(_prop("ADR", f";;;{_escape(contact['location'])};;;"))
    if contact["tags"]:
        lines.append(_prop("CATEGORIES", ",".join(_escape(t) for t in contact["tags"])))
    for note in contact.get("notes", []):
        lines.append(_prop("NOTE", _escape(note["body"])))
    for prop, column in KITH_FIELDS.items():
        if contact.get(column) not in (None, ""):
            lines.append(_prop(prop, _escape(contact[column])))
    lines.append("END:VCARD\r\n")
    return "".join(lines)


def export_vcard(db: Database, out: IO[str], *, version: str = "4.0") -> int:
    """Every contact as one vCard (4.0, or 3.0 for Google Contacts); returns how many."""
    if version not in ("4.0", "3.0"):
        raise ValueError("vCard version must be 4.0 or 3.0")
    n = 0
    for contact in iter_contacts(db, notes=True):
        out.write(contact_vcard(contact, version))
        n += 1
    return n


# --- JSON ---------------------------------------------------------------------------------------


def export_json(db: Database, out: IO[str]) -> int:
    """Everything as one JSON document: `contacts` holds one document per contact with
    identities, tags, relationships and their full timeline (notes, messages,
    interactions, give/take, profile changes, captures); `unattached` holds notes
    and messages that belong to nobody, and `tags` the tag cadences."""
    out.write(
        json.dumps({"format": "kith-export", "version": EXPORT_FORMAT_VERSION, "exported_at": now_iso()})[:-1]
        + ', "contacts": [\n'
    )
    n = 0
    for contact in iter_contacts(db, timeline=True):
        contact["field_sources"] = json.loads(contact["field_sources"]) if contact.get("field_sources") else None
        out.write((",\n" if n else "") + json.dumps(contact, ensure_ascii=False))
        n += 1
    unattached = {
        "notes": list(
            db.query("SELECT id, body, created_at, capture_id FROM notes WHERE contact_id IS NULL ORDER BY id")
        ),
        "messages": list(
            db.query(
                "SELECT id, direction, sender, sent_at, body, channel, thread_url, external_id,"
                " capture_id FROM messages WHERE contact_id IS NULL ORDER BY id"
            )
        ),
    }
    tags = list(db.query("SELECT name, keep_in_touch_days FROM tags ORDER BY name"))
    out.write(
        '\n], "unattached": '
        + json.dumps(unattached, ensure_ascii=False)
        + ', "tags": '
        + json.dumps(tags, ensure_ascii=False)
        + "}\n"
    )
    return n


# --- CSV ----------------------------------------------------------------------------------------


def export_csv(db: Database, out: IO[str]) -> int:
    """One row per contact; multiple identities, tags and notes are joined with ' ::: ' as Google does
    (`kith import csv` splits a Kith export's notes back apart)."""
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    n = 0
    for contact in iter_contacts(db, notes=True):
        by_kind: dict[str, list[str]] = {}
        for ident in contact["identities"]:
            column = ident["kind"] if ident["kind"] in CSV_IDENTITY_COLUMNS else "other_identities"
            value = ident["value"] if column != "other_identities" else f"{ident['kind']}:{ident['value']}"
            by_kind.setdefault(column, []).append(value)
        row = {
            **contact,
            "kith_id": contact["id"],
            "tags": MULTI.join(contact["tags"]),
            "notes": MULTI.join(note["body"] for note in contact["notes"]),
            **{k: MULTI.join(v) for k, v in by_kind.items()},
        }
        writer.writerow(["" if row.get(c) is None else row.get(c) for c in CSV_COLUMNS])
        n += 1
    return n
