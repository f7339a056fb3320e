#!/usr/bin/env python3
"""`kith import mbox` throughput and peak memory, against Python's `mailbox` module on the same file.

A generated mailbox (no real person's mail): personal threads with a few hundred correspondents (300
of them in Kith), newsletters (List-Id), no-reply notifications, multipart/alternative and
quoted-printable bodies, and some messages with base64 attachments. It is written to a temporary
directory and deleted afterwards; it is never tracked.

Two real processes read it, one after the other, each timed, each writing its own peak RSS (VmHWM) as it exits:

* `kith import mbox FILE --me ADDRESS --json` into a fresh database holding the 300 contacts;
* the reference: `mailbox.mbox(FILE)` iterated with a factory that parses each message's headers
  (`email.parser.BytesHeaderParser`) and reads From, To, Date and Subject: merely iterating the
  file and parsing headers, writing nothing.

    .venv/bin/python scripts/bench_mbox.py                 # 100,000 messages
    .venv/bin/python scripts/bench_mbox.py --size-gb 1     # the memory check: a 1 GB mailbox, target < 200 MB
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ME = "sam.rivera@example.com"
KNOWN = 300
CORRESPONDENTS = 800
MESSAGES = 100_000
RSS_TARGET_MB = 200

WORDS = (
    "meeting project draft review lunch coffee notes slides budget plan launch customer report friday "
    "monday quarter design roadmap hiring offsite contract invoice travel conference demo feedback"
).split()

# Each measured process writes its own peak RSS (VmHWM, this program's since exec) when it exits.
# wait4's ru_maxrss would not do: on Linux it also counts the forked copy of this (bigger) parent.
PEAK = r"""
import atexit, os, sys
def _peak():
    with open("/proc/self/status") as status:
        kib = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    with open(os.environ["KITH_PEAK_FILE"], "w") as out:
        out.write(str(kib))
atexit.register(_peak)
"""
KITH = PEAK + "sys.argv[0] = 'kith'\nfrom companion.cli import main\nmain()\n"
REFERENCE = (
    PEAK
    + r"""
import email.parser, mailbox, sys
from email import policy
parser = email.parser.BytesHeaderParser(policy=policy.compat32)
n = 0
for message in mailbox.mbox(sys.argv[1], factory=lambda f: parser.parse(f), create=False):
    message["From"], message["To"], message["Date"], message["Subject"]
    n += 1
print(n)
"""
)


def _person(i: int) -> tuple[str, str]:
    return f"Person {i:04d}", f"person{i:04d}@example.org"


def _sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def _body(rng: random.Random, lines: int) -> str:
    return "\n".join(_sentence(rng, 12) for _ in range(lines))


def _message(rng: random.Random, i: int, moment: datetime, attachment: bytes) -> bytes:
    """One message as mbox bytes (postmark, headers, body, trailing blank line)."""
    kind = rng.random()
    date = moment.strftime("%a, %d %b %Y %H:%M:%S +0000")
    received = "".join(
        f"Received: from mx{k}.example.net (mx{k}.example.net [192.0.2.{k}]) by mail.example.com"
        f" with ESMTPS id {i:x}{k}; {date}\n"
        for k in range(3)
    )
    common = f"{received}Date: {date}\nMessage-ID: <m{i}@example.com>\nMIME-Version: 1.0\n"
    if kind < 0.25:  # a newsletter
        headers = (
            f"From: Weekly News <news@lists.example.net>\nTo: {ME}\nSubject: Issue {i}: {_sentence(rng, 5)}\n"
            f"List-Id: <weekly.lists.example.net>\nList-Unsubscribe: <mailto:leave@lists.example.net>\n"
            f"Content-Type: text/html; charset=utf-8\n"
        )
        body = "<html><body>" + "".join(f"<p>{_sentence(rng, 20)}</p>" for _ in range(12)) + "</body></html>\n"
    elif kind < 0.30:  # a notification
        headers = (
            f"From: Service <no-reply@service.example.net>\nTo: {ME}\nSubject: Your receipt {i}\n"
            "Content-Type: text/plain; charset=utf-8\n"
        )
        body = _body(rng, 6) + "\n"
    else:  # a conversation
        other = min(int(rng.paretovariate(0.8)) - 1, CORRESPONDENTS - 1)
        name, address = _person(other)
        thread = i - rng.randint(0, 3) if rng.random() < 0.6 else i
        refs = f"In-Reply-To: <m{thread}@example.com>\nReferences: <m{thread}@example.com>\n" if thread != i else ""
        outgoing = rng.random() < 0.4
        sender, to = (f"Sam Rivera <{ME}>", f"{name} <{address}>") if outgoing else (f"{name} <{address}>", ME)
        label = "Sent" if outgoing else "Inbox"
        headers = (
            f"From: {sender}\nTo: {to}\nSubject: {'Re: ' if refs else ''}{_sentence(rng, 4)}\n{refs}"
            f"X-Gmail-Labels: {label}\n"
        )
        text = _body(rng, rng.randint(3, 15))
        if attachment and rng.random() < 0.03:
            headers += 'Content-Type: multipart/mixed; boundary="mixed"\n'
            body = (
                (
                    f"--mixed\nContent-Type: text/plain; charset=utf-8\n\n{text}\n--mixed\n"
                    'Content-Type: application/pdf\nContent-Disposition: attachment; filename="file.pdf"\n'
                    "Content-Transfer-Encoding: base64\n\n"
                )
                + attachment.decode()
                + "--mixed--\n"
            )
        elif rng.random() < 0.5:
            headers += 'Content-Type: multipart/alternative; boundary="alt"\n'
            body = (
                f"--alt\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n"
                f"{text}\n--alt\nContent-Type: text/html; charset=utf-8\n\n<p>{text}</p>\n--alt--\n"
            )
        else:
            headers += "Content-Type: text/plain; charset=utf-8\n"
            body = text + "\n"
    postmark = f"From x@example.com {moment.strftime('%a %b %d %H:%M:%S %Y')}\n"
    return (postmark + common + headers + "\n" + body + "\n").encode()


def write_mbox(
    path: Path, messages: int | None = None, size: int | None = None, seed: int = 1, attachment_kb: int = 300
) -> tuple[int, int]:
    """Write a mailbox of `messages` messages, or of at least `size` bytes; returns (messages, bytes)."""
    rng = random.Random(seed)
    attachment = base64.encodebytes(rng.randbytes(attachment_kb * 1024 * 3 // 4))
    start = datetime(2015, 1, 1, tzinfo=timezone.utc)
    written = count = 0
    with open(path, "wb", buffering=1 << 20) as out:
        while (messages is not None and count < messages) or (size is not None and written < size):
            data = _message(rng, count, start + timedelta(minutes=45 * count), attachment)
            out.write(data)
            written += len(data)
            count += 1
    return count, written


def known_db(path: Path) -> None:
    from companion.identity import canonical_identity
    from companion.store.contacts import create_contact
    from companion.store.db import open_db

    db = open_db(path)
    with db.conn:
        for i in range(KNOWN):
            name, address = _person(i * CORRESPONDENTS // KNOWN)
            cid = create_contact(db, {"name": name, "circle": "professional"})
            db["identities"].insert({"contact_id": cid, **canonical_identity(address, kind="email")})
    db.close()


def measure(argv: list[str], out: Path) -> tuple[float, float, int]:
    """(seconds, peak RSS in MB, exit status) of one real process."""
    peak = out.with_suffix(".peak")
    with open(out, "wb") as stdout:
        started = time.perf_counter()
        status = subprocess.run(
            argv, stdout=stdout, stderr=subprocess.STDOUT, env={**os.environ, "KITH_PEAK_FILE": str(peak)}
        ).returncode
        seconds = time.perf_counter() - started
    return seconds, int(peak.read_text()) / 1024, status


def run(messages: int | None = MESSAGES, size_gb: float | None = None, log=print) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="kith-bench-mbox-"))
    try:
        mbox = tmp / "mail.mbox"
        t0 = time.perf_counter()
        if size_gb:
            count, written = write_mbox(mbox, size=int(size_gb * 1e9), attachment_kb=2000)
        else:
            count, written = write_mbox(mbox, messages=messages)
        log(f"generated {count:,} messages, {written / 1e6:,.0f} MB in {time.perf_counter() - t0:.0f} s")
        db = tmp / "kith.db"
        known_db(db)
        kith_s, kith_rss, status = measure(
            [sys.executable, "-c", KITH, "import", "mbox", str(mbox), "--db", str(db), "--me", ME, "--json"],
            tmp / "kith.out",
        )
        output = (tmp / "kith.out").read_text(errors="replace")
        if status:
            raise RuntimeError(f"kith import mbox failed: {output[-500:]}")
        report = json.loads(output[output.index("{") :])
        ref_s, ref_rss, status = measure([sys.executable, "-c", REFERENCE, str(mbox)], tmp / "ref.out")
        if status:
            raise RuntimeError(f"the mailbox reference failed: {(tmp / 'ref.out').read_text()[-500:]}")
        ref_count = int((tmp / "ref.out").read_text().split()[-1])
        return {
            "messages": count,
            "bytes": written,
            "kith_s": kith_s,
            "kith_rss_mb": kith_rss,
            "reference_s": ref_s,
            "reference_rss_mb": ref_rss,
            "reference_messages": ref_count,
            "rows": report["rows"],
            "added": report["added"],
            "skipped": report["skipped"],
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=MESSAGES)
    parser.add_argument(
        "--size-gb",
        type=float,
        default=None,
        help=f"generate a mailbox of this size instead (the memory check; target peak RSS < {RSS_TARGET_MB} MB)",
    )
    args = parser.parse_args()
    result = run(args.messages, args.size_gb)
    mb = result["bytes"] / 1e6
    print(json.dumps(result, indent=2))
    print(
        f"kith import mbox: {result['kith_s']:.1f} s ({mb / result['kith_s']:.0f} MB/s,"
        f" {result['messages'] / result['kith_s']:,.0f} messages/s), peak RSS {result['kith_rss_mb']:.0f} MB"
    )
    print(
        f"mailbox + headers: {result['reference_s']:.1f} s ({mb / result['reference_s']:.0f} MB/s), "
        f"peak RSS {result['reference_rss_mb']:.0f} MB"
    )
    if args.size_gb:
        ok = result["kith_rss_mb"] < RSS_TARGET_MB
        print(
            f"peak RSS {result['kith_rss_mb']:.0f} MB for {mb:,.0f} MB: target < {RSS_TARGET_MB} MB "
            f"{'met' if ok else 'MISSED'}"
        )
        sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
