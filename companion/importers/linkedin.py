"""LinkedIn's data export (Settings → Data privacy → Get a copy of your data).

Reads the .zip, the unzipped folder, or one CSV from it (recognised by its
columns). Columns are matched by name because LinkedIn changes them; columns
this code does not know are kept, as a note on the contact (connections), at
the end of the message (messages) or in the summary (invitations).

* Connections.csv → contacts with a LinkedIn identity, company, position, and a
  "connected" interaction on the Connected On date.
* messages.csv → messages on the other participant's contact, found by profile
  URL (people messaged but not connected become contacts too) or, without a
  URL, by a unique exact name (this export's connections first: `join_by_name`
  gives a URL-less connection the key its namesake sender carries); direction
  comes from which participant is the user; the user's note-to-self thread is
  filed under nobody. Bodies become plain text (`bodies.message_text`: the
  2022–2023 exports' HTML) and a thread's subject is said once. LinkedIn gives messages no id, so `external_id` is a hash of the
  conversation, date, sender and text: re-importing the same export (or a
  newer one that overlaps) adds nothing twice.
* Invitations.csv → "invitation" interactions with people who are contacts.
"""

from __future__ import annotations

import hashlib
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable

from sqlite_utils import Database

from ..identity import canonical_identity
from ..timeutil import now_iso
from .dates import day_first, parse_datetime
from .files import CsvTable, norm, read_csv, read_member, read_text
from .bulk import gc_paused
from .people import Person, import_transaction, lookup_identities, save_people
from .report import ImportFileError, ImportReport
from .save import save_batch
from .timeline import save_interactions, save_messages

SOURCE = "import:linkedin"
CONNECTION_COLUMNS = {"firstname", "lastname", "url", "emailaddress", "email", "company", "position", "connectedon"}
MESSAGE_COLUMNS = {
    "conversationid",
    "conversationtitle",
    "from",
    "senderprofileurl",
    "to",
    "recipientprofileurls",
    "date",
    "subject",
    "content",
    "folder",
    "ismessagedraft",
    "direction",
}
# A message's external id hashes its body as earlier versions built it (unknown columns appended),
# so re-importing an export read by an earlier version adds nothing twice.
LEGACY_MESSAGE_COLUMNS = frozenset(MESSAGE_COLUMNS)
MESSAGE_COLUMNS |= {"isconversationdraft"}  # the current export's draft flag, not text of the message
INVITATION_COLUMNS = {"from", "to", "sentat", "message", "direction", "inviterprofileurl", "inviteeprofileurl"}
DIRECTIONS = {"incoming": "in", "outgoing": "out"}  # older exports say which way each row went
FILE_NAMES = {
    "connections.csv": "connections",
    "messages.csv": "messages",
    "invitations.csv": "invitations",
    "profile.csv": "profile",
}


@dataclass
class Export:
    """Everything parsed from an export, before any write."""

    connections: list[Person] = field(default_factory=list)
    messages: list[dict] = field(default_factory=list)
    invitations: list[dict] = field(default_factory=list)
    profile_name: str | None = None
    report: ImportReport = field(default_factory=lambda: ImportReport("LinkedIn export"))

    @property
    def size(self) -> int:
        return len(self.connections) + len(self.messages) + len(self.invitations)


# --- reading ------------------------------------------------------------------------------


def _kind_by_header(table: CsvTable) -> str | None:
    cols = set(table.index)
    if {"firstname", "lastname"} <= cols and ("url" in cols or "connectedon" in cols):
        return "connections"
    if "content" in cols and ("from" in cols or "conversationid" in cols):
        return "messages"
    if "sentat" in cols and "from" in cols:
        return "invitations"
    return None


def _is_header(cells: list[str]) -> bool:
    cols = set(cells)
    return (
        {"firstname", "lastname"} <= cols
        or {"from", "content"} <= cols
        or {"conversationid", "content"} <= cols
        or {"from", "sentat"} <= cols
    )


def read_files(path: Path) -> list[tuple[str, str, str | None]]:
    """(display name, text, role from the file name) for each CSV in the export."""
    path = Path(path)
    if not path.exists():
        raise ImportFileError(path, None, "no such file or folder")
    out = []
    if path.is_dir():
        for member in sorted(path.rglob("*")):
            if member.is_file() and member.name.lower() in FILE_NAMES:
                out.append((str(member), read_text(member), FILE_NAMES[member.name.lower()]))
    elif zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as archive:
                for info in archive.infolist():
                    name = info.filename.rsplit("/", 1)[-1].lower()
                    if name in FILE_NAMES:
                        where = f"{path}:{info.filename}"
                        out.append((where, read_text(where, read_member(archive, info, where)), FILE_NAMES[name]))
        except (zipfile.BadZipFile, OSError, RuntimeError) as exc:
            raise ImportFileError(path, None, f"cannot read the zip archive ({exc})") from exc
    else:
        out.append((str(path), read_text(path), FILE_NAMES.get(path.name.lower())))
    if not out:
        raise ImportFileError(path, None, "no Connections.csv, messages.csv or Invitations.csv found")
    return out


def load_export(path: Path) -> Export:
    """Read and parse the whole export; raises ImportFileError (naming file and line) on a broken file."""
    export = Export()
    with gc_paused():
        _parse_files(export, read_files(path))
        join_by_name(export)
    return export


def join_by_name(export: Export) -> int:
    """Inside one export, a message or invitation partner named like exactly one connection is
    that connection. Exports of 2022–2023 have no URL in Connections.csv (and none for recipients
    or invitations) while messages.csv gives senders' URLs: the connection takes the sender's
    LinkedIn key, and name-only partners take the connection's, so one person stays one contact.
    Returns how many connections learned a key this way."""
    if not export.messages and not export.invitations:
        return 0  # nobody to join
    by_name: dict[str, Person | None] = {}
    for person in export.connections:
        name = _name_key(person.fields.get("name") or "")
        if name:
            by_name[name] = None if name in by_name else person  # None: two connections share it
    if not by_name:
        return 0
    participants = [p for m in export.messages for p in (m["sender"], *m["recipients"])]
    participants += [p for inv in export.invitations for p in (inv["from"], inv["to"])]

    def linkedin_of(person: Person) -> dict | None:
        return next((i for i in person.identities if i["kind"] == "linkedin"), None)

    seen_keys: dict[str, set] = {}
    for p in participants:
        if p["key"]:
            seen_keys.setdefault(_name_key(p["name"]), set()).add(p["key"]["value"])
    learned = 0
    for p in participants:
        person = by_name.get(_name_key(p["name"])) if p["key"] else None
        if person is not None and linkedin_of(person) is None and len(seen_keys[_name_key(p["name"])]) == 1:
            person.identities.insert(0, dict(p["key"]))
            learned += 1
    for p in participants:
        person = by_name.get(_name_key(p["name"])) if not p["key"] else None
        if person is not None and linkedin_of(person) is not None:
            p["key"] = dict(linkedin_of(person))
    return learned


def _parse_files(export: Export, files: list[tuple[str, str, str | None]]) -> None:
    for where, text, role in files:
        if role == "profile":
            table = read_csv(text, where)
            export.profile_name = _profile_name(table)
            continue
        table = read_csv(text, where, _is_header)
        role = role or _kind_by_header(table)
        if role is None or _kind_by_header(table) != role:
            raise ImportFileError(
                where,
                table.header_line,
                f"not a LinkedIn Connections, messages or Invitations file (columns: {', '.join(table.header)})",
            )
        export.report.files.append(where)
        export.report.rows += len(table.rows)
        export.report.rows_per_file[where] = len(table.rows)
        if role == "connections":
            export.connections += parse_connections(table, export.report)
        elif role == "messages":
            export.messages += parse_messages(table, export.report)
        else:
            export.invitations += parse_invitations(table, export.report)


def _cell(row: list[str], index: int | None) -> str:
    if index is None or index >= len(row):
        return ""
    return row[index].strip()


def _unknown_columns(table: CsvTable, known: set[str]) -> list[tuple[int, str]]:
    return [(i, name) for i, name in enumerate(table.header) if norm(name) not in known]


def _unknown(table: CsvTable, row: list[str], columns: list[tuple[int, str]]) -> list[tuple[str, str]]:
    """Values of the columns this importer does not use (and of any cells beyond the header)."""
    out = [(name, row[i].strip()) for i, name in columns if i < len(row) and row[i].strip()]
    if len(row) > len(table.header):
        out += [(f"column {i + 1}", row[i].strip()) for i in range(len(table.header), len(row)) if row[i].strip()]
    return out


def _profile_name(table: CsvTable) -> str | None:
    if not table.rows:
        return None
    row = table.rows[0][1]
    name = " ".join(filter(None, [_cell(row, table.column("First Name")), _cell(row, table.column("Last Name"))]))
    return name or None


def linkedin_identity(url: str) -> dict | None:
    key = _linkedin_key(url) if url else None
    return dict(key) if key else None


@lru_cache(maxsize=131072)  # messages.csv names the same few people over and over
def _linkedin_key(url: str) -> tuple | None:
    key = canonical_identity(url, kind="linkedin")
    return tuple(key.items()) if key and key["kind"] == "linkedin" else None


def _padded(table: CsvTable, row: list[str]) -> list[str]:
    """Stripped cells, padded to the header's width plus one empty cell that absent columns point at."""
    cells = [c.strip() for c in row]
    cells.extend([""] * (len(table.header) + 1 - len(cells)))
    return cells


def parse_connections(table: CsvTable, report: ImportReport) -> list[Person]:
    missing = len(table.header)  # index of the padding cell
    first_i, last_i, url_i, email_i, company_i, position_i, connected_i = (
        missing if i is None else i
        for i in (
            table.column("First Name"),
            table.column("Last Name"),
            table.column("URL", "Profile URL"),
            table.column("Email Address", "Email"),
            table.column("Company"),
            table.column("Position"),
            table.column("Connected On"),
        )
    )
    unknown = _unknown_columns(table, CONNECTION_COLUMNS)
    # A spreadsheet may have re-saved the dates day first (14/02/2021): decided once for the column.
    dayfirst = day_first(row[connected_i] for _, row in table.rows if connected_i < len(row))
    people = []
    for line, row in table.rows:
        cells = _padded(table, row)
        first, last, url, email = cells[first_i], cells[last_i], cells[url_i], cells[email_i]
        name = f"{first} {last}" if first and last else first or last
        identities, extra = [], _unknown(table, row, unknown) if unknown or len(row) > missing else []
        key = linkedin_identity(url)
        if key:
            identities.append(key)
        elif url:
            extra.append(("URL (not a LinkedIn profile)", url))
        if email:
            email_key = canonical_identity(email, kind="email")
            if email_key:
                identities.append(email_key)
            else:
                extra.append(("Email Address (not valid)", email))
        if not name and not identities:
            report.skip(table.path, line, "no name, profile URL or email")
            continue
        connected_raw = cells[connected_i]
        connected = parse_datetime(connected_raw, dayfirst)
        if connected_raw and not connected:
            extra.append(("Connected On (unreadable date)", connected_raw))
            report.unreadable["dates"] += 1
        people.append(
            Person(
                table.path,
                line,
                {
                    "name": name or None,
                    "given_name": first or None,
                    "family_name": last or None,
                    "company": cells[company_i] or None,
                    "title": cells[position_i] or None,
                },
                identities=identities,
                notes=["From LinkedIn Connections.csv:\n" + "\n".join(f"{k}: {v}" for k, v in extra)] if extra else [],
                interactions=[{"kind": "connected", "happened_at": connected, "summary": "Connected on LinkedIn"}]
                if connected
                else [],
            )
        )
    return people


def _split_urls(text: str) -> list[str]:
    return [u.strip() for u in text.replace(";", ",").split(",") if u.strip()]


def _participant(name: str, url: str, cache: dict | None = None) -> dict:
    """{"name", "key", "url"}; shared (read-only) between the rows that name the same person."""
    if cache is not None and (name, url) in cache:
        return cache[(name, url)]
    found = {"name": name.strip(), "key": linkedin_identity(url), "url": url}
    if cache is not None:
        cache[(name, url)] = found
    return found


def parse_messages(table: CsvTable, report: ImportReport) -> list[dict]:
    from .bodies import message_text, subject_once  # BeautifulSoup and the extractors: only for messages

    missing = len(table.header)
    (conv_i, from_i, sender_url_i, to_i, urls_i, date_i, subject_i, content_i, draft_i, conv_draft_i, direction_i) = (
        missing if i is None else i
        for i in (
            table.column(name)
            for name in (
                "CONVERSATION ID",
                "FROM",
                "SENDER PROFILE URL",
                "TO",
                "RECIPIENT PROFILE URLS",
                "DATE",
                "SUBJECT",
                "CONTENT",
                "IS MESSAGE DRAFT",
                "IS CONVERSATION DRAFT",
                "DIRECTION",
            )
        )
    )
    unknown = _unknown_columns(table, MESSAGE_COLUMNS)
    legacy_unknown = _unknown_columns(table, LEGACY_MESSAGE_COLUMNS)
    people: dict = {}
    messages = []
    for line, row in table.rows:
        cells = _padded(table, row)
        if any(cells[i] and cells[i].lower() in ("yes", "true", "1") for i in (draft_i, conv_draft_i)):
            report.skip(table.path, line, "a draft, never sent")
            continue
        subject, content = cells[subject_i], cells[content_i]
        legacy = f"{subject}\n\n{content}" if subject and content and subject != content else content or subject
        subject, body = message_text(subject), message_text(content)
        if not body and not subject:
            report.skip(table.path, line, "an empty message")
            continue
        if unknown or legacy_unknown or len(row) > missing:
            extra = _unknown(table, row, unknown)
            if extra:
                body += ("\n\n" if body else "") + "\n".join(f"[{k}: {v}]" for k, v in extra)
            extra = _unknown(table, row, legacy_unknown)
            if extra:
                legacy += "\n\n" + "\n".join(f"[{k}: {v}]" for k, v in extra)
        date_raw = cells[date_i]
        sent_at = parse_datetime(date_raw)
        if not sent_at:
            report.skip(table.path, line, f"unreadable date {date_raw!r}" if date_raw else "no date")
            continue
        urls, to = cells[urls_i], cells[to_i]
        if "," in urls or ";" in urls:
            urls = _split_urls(urls)
            names = [n.strip() for n in to.split(",")]
            if len(names) != len(urls):
                names = [""] * len(urls)
            recipients = [_participant(n, u, people) for n, u in zip(names, urls)]
        elif not urls and "," in to:  # older exports name the recipients only
            recipients = [_participant(n, "", people) for n in to.split(",") if n.strip()]
        else:
            recipients = [_participant(to, urls, people)] if to or urls else []
        conversation = cells[conv_i]
        sender = _participant(cells[from_i], cells[sender_url_i], people)
        who = sender["key"]["value"] if sender["key"] else sender["name"]
        digest = hashlib.sha1("\x1f".join([conversation, date_raw, who, legacy]).encode()).hexdigest()[:20]
        messages.append(
            {
                "file": table.path,
                "line": line,
                "conversation": conversation or None,
                "sender": sender,
                "recipients": recipients,
                "sent_at": sent_at,
                "body": body,
                "subject": subject,
                "direction": DIRECTIONS.get(cells[direction_i].lower()),
                "external_id": f"linkedin-export:{digest}",
                "thread_url": f"https://www.linkedin.com/messaging/thread/{conversation}/" if conversation else None,
            }
        )
    subject_once(messages)
    return messages


def parse_invitations(table: CsvTable, report: ImportReport) -> list[dict]:
    col = {
        name: table.column(name)
        for name in ("From", "To", "Sent At", "Message", "Direction", "inviterProfileUrl", "inviteeProfileUrl")
    }
    unknown = _unknown_columns(table, INVITATION_COLUMNS)
    invitations = []
    for line, row in table.rows:

        def cell(name):
            return _cell(row, col[name])

        sent_raw = cell("Sent At")
        sent_at = parse_datetime(sent_raw)
        if not sent_at:
            report.skip(table.path, line, f"unreadable date {sent_raw!r}" if sent_raw else "no date")
            continue
        extra = _unknown(table, row, unknown)
        invitations.append(
            {
                "file": table.path,
                "line": line,
                "sent_at": sent_at,
                "message": cell("Message"),
                "direction": DIRECTIONS.get(cell("Direction").lower()),
                "from": _participant(cell("From"), cell("inviterProfileUrl")),
                "to": _participant(cell("To"), cell("inviteeProfileUrl")),
                "extra": "; ".join(f"{k}: {v}" for k, v in extra),
            }
        )
    return invitations


# --- who is the user ----------------------------------------------------------------------


def _name_key(name: str) -> str:
    return " ".join((name or "").casefold().split())


@dataclass
class Me:
    urls: set = field(default_factory=set)  # canonical LinkedIn identity values
    names: set = field(default_factory=set)  # casefolded names
    how: str = ""

    def __bool__(self) -> bool:
        return bool(self.urls or self.names)

    def matches(self, participant: dict) -> bool:
        if participant["key"] and participant["key"]["value"] in self.urls:
            return True
        if participant["key"] and self.urls:
            return False  # a different profile, even if the name is the same
        return _name_key(participant["name"]) in self.names


def find_me(db: Database, export: Export, me_url: str | None = None, me_name: str | None = None) -> Me:
    """Who the user is: --me-url/--me-name, else the `is_me` contact, else Profile.csv's name,
    else the participant present in the most conversations (when one clearly is)."""
    me = Me()
    if me_url:
        key = linkedin_identity(me_url)
        if key is None:
            raise ValueError(f"--me-url {me_url!r} is not a LinkedIn profile URL")
        me.urls.add(key["value"])
    if me_name:
        me.names.add(_name_key(me_name))
    if me:
        me.how = "--me-url/--me-name"
        return me
    for name, value in db.execute(
        "SELECT c.name, i.value FROM contacts c LEFT JOIN identities i ON i.contact_id = c.id"
        " AND i.kind = 'linkedin' WHERE c.is_me = 1"
    ):
        me.names.add(_name_key(name))
        if value:
            me.urls.add(value)
    me.names.discard("")
    if me:
        me.how = "your own contact (is_me)"
        return me
    if export.profile_name:
        me.names.add(_name_key(export.profile_name))
        me.how = "Profile.csv"
        return me
    return _most_frequent(export) or Me()


def _most_frequent(export: Export) -> Me | None:
    seen: Counter = Counter()
    names_for: dict[str, set] = {}
    for conv, participants in _conversations(export).items():
        for key in participants:
            seen[key] += 1
    for m in export.messages:
        for p in [m["sender"], *m["recipients"]]:
            if p["key"]:
                names_for.setdefault(p["key"]["value"], set()).add(_name_key(p["name"]))
    top = seen.most_common(2)
    if not top or (len(top) == 2 and top[0][1] == top[1][1]):
        return None
    key = top[0][0]
    me = Me(how=f"being in the most conversations ({top[0][1]})")
    if key.startswith("name:"):
        me.names.add(key[5:])
    else:
        me.urls.add(key)
        me.names |= names_for.get(key, set()) - {""}
    return me


def _conversations(export: Export) -> dict[str, set]:
    out: dict[str, set] = {}
    for m in export.messages:
        conv = m["conversation"] or m["thread_url"] or m["external_id"]
        keys = out.setdefault(conv, set())
        for p in [m["sender"], *m["recipients"]]:
            keys.add(p["key"]["value"] if p["key"] else "name:" + _name_key(p["name"]))
    return out


# --- saving -------------------------------------------------------------------------------


class _Directory:
    """Contacts by LinkedIn key (resolved through `save_people`) and by unique exact name."""

    def __init__(self, db: Database, here: Iterable[tuple[str, int]] = ()):
        self.by_name: dict[str, int | None] = {}
        for cid, name in db.execute("SELECT id, name FROM contacts WHERE is_me = 0"):
            key = _name_key(name)
            self.by_name[key] = None if key in self.by_name else cid  # None: ambiguous
        # This export's own connections by name come first: a namesake elsewhere in Kith is not them.
        self.here: dict[str, int | None] = {}
        for name, cid in here:
            key = _name_key(name)
            self.here[key] = None if self.here.get(key, cid) != cid else cid
        self.by_key: dict[str, int] = {}

    def find(self, participant: dict) -> int | None:
        if participant["key"]:
            return self.by_key.get(participant["key"]["value"])
        name = _name_key(participant["name"])
        if name in self.here:
            return self.here[name]
        return self.by_name.get(name)


def save_export(
    db: Database, export: Export, me: Me, *, now: str | None = None, progress: Callable[[int], None] | None = None
) -> ImportReport:
    """Write a parsed export; the caller holds the transaction."""
    with gc_paused():
        return _save_export(db, export, me, now=now or now_iso(), progress=progress)


def _save_export(
    db: Database, export: Export, me: Me, *, now: str, progress: Callable[[int], None] | None
) -> ImportReport:
    report = export.report
    connection_ids = save_batch(db, export.connections, source=SOURCE, report=report, now=now, progress=progress)
    messages = _plan_messages(export, me, report)
    people = {}
    for m in messages:
        p = m["counterparty"]
        if p and p["key"]:
            people.setdefault(
                p["key"]["value"], Person(m["file"], m["line"], {"name": p["name"] or None}, identities=[p["key"]])
            )
    invitations = [(inv, inv["from"] if _incoming(inv, me) else inv["to"]) for inv in export.invitations]
    senders = list(people.values())
    ids = save_people(db, senders, source=SOURCE + "-messages", report=report, now=now, count=False)
    if messages or invitations:  # a Connections.csv alone needs no directory (it reads every contact)
        directory = _Directory(
            db, ((p.fields.get("name") or "", cid) for p, cid in zip(export.connections, connection_ids))
        )
        directory.by_key.update((p.identities[0]["value"], cid) for p, cid in zip(senders, ids))
        directory.by_key.update(
            (value, cid)
            for (_, value), cid in lookup_identities(
                db, [("linkedin", other["key"]["value"]) for _, other in invitations if other["key"]]
            ).items()
        )
    rows, unattached, to_self = [], 0, 0
    for m in messages:
        cid = directory.find(m["counterparty"]) if m["counterparty"] else None
        unattached += cid is None and m["counterparty"] is not None
        to_self += m.get("to_self", False)
        rows.append(
            {
                "contact_id": cid,
                "direction": m["direction"],
                "sender": m["sender"]["name"] or None,
                "sent_at": m["sent_at"],
                "body": m["body"],
                "channel": "linkedin",
                "thread_url": m["thread_url"],
                "external_id": m["external_id"],
            }
        )
    save_messages(db, rows, report)
    if to_self:
        report.warnings.append(f"{to_self} messages in a note to yourself were kept without a contact")
    if unattached:
        report.warnings.append(
            f"{unattached} messages with someone who has no profile URL and no unique name"
            " match were stored without a contact"
        )
    if progress:
        progress(len(export.messages))
    interactions = []
    for inv, other in invitations:
        cid = directory.find(other)
        if cid is None:
            report.skip(
                inv["file"],
                inv["line"],
                f"invitation {'from' if _incoming(inv, me) else 'to'} "
                f"{other['name'] or other['url'] or 'someone'}, who is not a contact",
            )
            continue
        verb = "received" if _incoming(inv, me) else "sent"
        summary = f"LinkedIn invitation {verb}" + (f": {inv['message']}" if inv["message"] else "")
        if inv["extra"]:
            summary += f" ({inv['extra']})"
        interactions.append(
            {"contact_id": cid, "kind": "invitation", "happened_at": inv["sent_at"], "summary": summary}
        )
    save_interactions(db, interactions, report)
    if progress:
        progress(len(export.invitations))
    return report


def _incoming(inv: dict, me: Me) -> bool:
    if inv["direction"]:
        return inv["direction"] == "in"
    return not me.matches(inv["from"])


def _member_id_url(key: dict | None) -> bool:
    """A /in/ACoAA… URL names the member by internal id, not by their public slug."""
    return bool(key) and key["value"].startswith("https://www.linkedin.com/in/acoa")


def _to_self(m: dict) -> bool:
    """A message whose every recipient is its sender: the same key, or the same name where the keys
    cannot be compared (one missing, or given as a member-id URL)."""
    sender = m["sender"]
    if not m["recipients"]:
        return False
    for r in m["recipients"]:
        if sender["key"] and r["key"] and not (_member_id_url(sender["key"]) or _member_id_url(r["key"])):
            if sender["key"]["value"] != r["key"]["value"]:
                return False
        elif not (sender["name"] and _name_key(sender["name"]) == _name_key(r["name"])):
            return False
    return True


def _plan_messages(export: Export, me: Me, report: ImportReport) -> list[dict]:
    """Decide each message's direction and the contact it belongs to (one copy per
    recipient for the user's own messages to a group)."""
    if export.messages and not me and not all(m["direction"] for m in export.messages):
        report.skip(
            export.messages[0]["file"],
            None,
            "could not tell which participant is you; re-run with --me-url or --me-name",
            count=len(export.messages),
        )
        return []
    if export.messages and me:
        report.warnings.append(f"messages: you were recognised from {me.how}")
    planned = []
    for m in export.messages:
        if _to_self(m):  # the owner's note-to-self thread: nobody else to file it under
            planned.append({**m, "direction": "out", "counterparty": None, "to_self": True})
            continue
        outgoing = m["direction"] == "out" if m["direction"] else me.matches(m["sender"])
        if not outgoing:
            planned.append({**m, "direction": "in", "counterparty": m["sender"]})
            continue
        others = [r for r in m["recipients"] if not me.matches(r)] or [None]
        for other in others:
            suffix = ""
            if len(others) > 1:
                who = other["key"]["value"] if other["key"] else other["name"]
                suffix = ":" + hashlib.sha1(who.encode()).hexdigest()[:8]
            planned.append({**m, "direction": "out", "counterparty": other, "external_id": m["external_id"] + suffix})
    return planned


def import_linkedin(
    db: Database,
    path: Path,
    *,
    me_url: str | None = None,
    me_name: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Parse everything first (a broken file raises before any write), then save in one transaction."""
    export = load_export(path)
    me = find_me(db, export, me_url, me_name)
    with import_transaction(db):
        save_export(db, export, me, progress=progress)
    return export.report.finish()
