"""`kith import mbox`: when you last wrote to each person, from your own mail (Gmail, Thunderbird, Maildir).

Each message between the user and someone already in Kith (matched by email identity, as every
importer matches) becomes an `emailed` interaction at its date, `in` or `out`, with its subject
and a short snippet; a thread counts once per day per person. Mailing lists, bulk and automated
mail, no-reply senders, drafts, spam, and messages where the user is only one of many in Cc are
never interactions. Unknown correspondents are added only with `--add-people N` (people the user
wrote to at least N times). Only headers, the subject and the snippet are read into Kith: never an
attachment or a whole body.

The mailbox is streamed (`mail/reader.py`) and interactions are written in batches
(`mail/record.py`), so memory stays flat for any size of file. Finding the user's address without
`--me` or a Profile, or counting whom they wrote to for `--add-people`, takes one extra pass over
the headers. A message that cannot be read is skipped, named by file and byte offset, and never
stops the import; everything else is one transaction.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Iterator

from sqlite_utils import Database

from ..identity import email_key
from ..timeutil import now_iso
from .mail.me import Me, from_options, from_profile, most_frequent
from .mail.message import Envelope, LARGE_CC, message_snippet, parse_envelope
from .mail.reader import RawMessage, mail_files, read_mail, total_bytes
from .mail.record import InteractionReport, InteractionWriter, import_or_dry_run, known_addresses
from .people import Person, save_people
from .report import ImportFileError

SOURCE = "import:mbox"
KIND = "emailed"
FUTURE_SLACK = timedelta(days=1)  # a sender's clock may be a little ahead; a year ahead is spam


def _is_sent(envelope: Envelope, folder: str) -> bool:
    return "sent" in envelope.labels or "sent" in folder.lower()


def _envelopes(files, report: InteractionReport | None, progress) -> Iterator[tuple[RawMessage, Envelope]]:
    """Readable messages with their envelopes; unreadable ones go to the report (once, on the main pass)."""
    for raw in read_mail(files, progress):
        if report is not None:
            report.rows += 1
        if raw.problem:
            if report is not None:
                report.skip(raw.where, None, raw.problem)
            continue
        try:
            envelope = parse_envelope(raw)
        except Exception as exc:  # noqa: BLE001 - one broken message must never stop an import
            if report is not None:
                report.skip(raw.where, None, f"cannot read the message ({type(exc).__name__}: {exc})")
            continue
        yield raw, envelope


def find_me(db: Database, files, me_options, progress=None) -> Me:
    """--me, else the Profile's addresses, else the export's own evidence (one pass over the headers)."""
    me = from_options(me_options) if me_options else from_profile(db)
    if me:
        return me
    sent: Counter = Counter()
    delivered: Counter = Counter()
    for raw, envelope in _envelopes(files, None, progress):
        if envelope.bulk:
            continue
        if envelope.sender and _is_sent(envelope, raw.folder):
            sent[envelope.sender[1]] += 1
        delivered.update(envelope.delivered_to)
    return most_frequent(sent, "the most frequent From of your sent mail") or most_frequent(
        delivered, "the most frequent Delivered-To of your mail"
    )


def classify(envelope: Envelope, folder: str, me: Me) -> tuple[str | None, list[tuple[str, str]], str | None]:
    """(direction, the other people, why it is not an interaction)."""
    if "spam" in envelope.labels or folder.lower() in ("spam", "junk"):
        return None, [], "marked as spam"
    if envelope.labels & {"draft", "drafts"} or folder.lower() in ("draft", "drafts"):
        return None, [], "a draft, never sent"
    if envelope.bulk:
        return None, [], envelope.bulk
    if envelope.sender is None:
        return None, [], "no From address"
    if envelope.sender[1] in me:
        others = list({a: (n, a) for n, a in envelope.recipients if a not in me}.values())
        return ("out", others, None) if others else (None, [], "sent only to yourself")
    in_to = any(a in me for _, a in envelope.to)
    in_cc = any(a in me for _, a in envelope.cc)
    if not (in_to or in_cc or any(a in me for _, a in envelope.bcc) or envelope.delivered_to & me.addresses):
        return None, [], "not addressed to you (a list or an alias?)"
    if not in_to and in_cc and len(envelope.to) + len(envelope.cc) > LARGE_CC:
        return None, [], f"you were only in a Cc of more than {LARGE_CC} people"
    return "in", [envelope.sender], None


def _recipients_to_add(files, me: Me, known: dict[str, int], at_least: int, progress) -> list[Person]:
    """People the user wrote to at least `at_least` times who are not in Kith yet."""
    counts: Counter = Counter()
    names: dict[str, Counter] = {}
    first_seen: dict[str, str] = {}
    for raw, envelope in _envelopes(files, None, progress):
        direction, others, reason = classify(envelope, raw.folder, me)
        if direction != "out":
            continue
        for name, address in others:
            if address in known:
                continue
            counts[address] += 1
            first_seen.setdefault(address, raw.where)
            if name:
                names.setdefault(address, Counter())[name] += 1
    people = []
    for address, n in sorted(counts.items()):
        if n < at_least:
            continue
        name = names[address].most_common(1)[0][0] if address in names else address
        key = email_key(address)
        if key:
            people.append(Person(first_seen[address], None, {"name": name}, identities=[key]))
    return people


def bytes_to_read(db: Database, path: Path, me, add_people: int | None) -> int:
    """How many bytes the import will read in all its passes (a progress bar's length)."""
    passes = 1 + (not me and not from_profile(db)) + bool(add_people)
    return passes * total_bytes(mail_files(path))


def import_mbox(
    db: Database,
    path: Path,
    *,
    me: list[str] | tuple[str, ...] = (),
    add_people: int | None = None,
    dry_run: bool = False,
    now: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> InteractionReport:
    """Import a mailbox (mbox file, folder of them, Maildir); `progress` is told each block's bytes."""
    now = now or now_iso()
    files = mail_files(path)
    report = InteractionReport("mbox")
    report.files = [str(f) for _, f in files]
    try:
        who = find_me(db, files, me, progress)
    except ValueError as exc:
        raise ImportFileError(path, None, str(exc)) from exc
    if not who:
        raise ImportFileError(
            path,
            None,
            "could not tell which address is yours (no sent mail, no Delivered-To); re-run with --me ADDRESS",
        )
    report.warnings.append(f"your addresses ({', '.join(sorted(who.addresses))}) came from {who.how}")
    with import_or_dry_run(db, report, dry_run):
        known = known_addresses(db)
        if add_people:
            people = _recipients_to_add(files, who, known, add_people, progress)
            ids = save_people(db, people, source=SOURCE, report=report, now=now)
            known.update((p.identities[0]["value"], cid) for p, cid in zip(people, ids))
        _record(db, files, who, known, report, now, progress)
    return report.finish()


def _record(db: Database, files, me: Me, known: dict[str, int], report: InteractionReport, now: str, progress) -> None:
    writer = InteractionWriter(
        db,
        report,
        source=SOURCE,
        kind=KIND,
        keep_earliest=True,
        fold_label="replies on a thread and day already counted",
    )
    future = (datetime.strptime(now, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc) + FUTURE_SLACK).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    reasons: Counter = Counter()
    current = None
    for raw, envelope in _envelopes(files, report, progress):
        if raw.path != current:
            _skips(report, current, reasons)
            current = raw.path
        direction, others, reason = classify(envelope, raw.folder, me)
        if reason:
            reasons[reason] += 1
            continue
        if envelope.date is None:
            report.skip(raw.where, None, "no readable date")
            continue
        if envelope.date > future:
            reasons["dated in the future"] += 1
            continue
        contacts = [(address, known[address]) for _, address in others if address in known]
        if not contacts:
            reasons["with nobody who is in Kith"] += 1
            continue
        summary = _summary(envelope, raw)
        day = envelope.date[:10]
        for address, cid in contacts:
            writer.add(
                {
                    "contact_id": cid,
                    "kind": KIND,
                    "happened_at": envelope.date,
                    "summary": summary,
                    "direction": direction,
                    "external_id": f"mail:{envelope.thread}/{day}/{address}",
                }
            )
    _skips(report, current, reasons)
    writer.finish()


def _summary(envelope: Envelope, raw: RawMessage) -> str | None:
    try:
        text = message_snippet(raw, envelope.headers)
    except Exception:  # noqa: BLE001 - broken MIME: the subject alone still says what it was about
        text = ""
    return " — ".join(part for part in (envelope.subject, text) if part) or None


def _skips(report: InteractionReport, path: str | None, reasons: Counter) -> None:
    """One report line per reason per file (a mailbox has thousands of newsletters)."""
    for reason, n in sorted(reasons.items()):
        report.skip(path, None, reason, count=n)
    reasons.clear()
