"""One message's headers read into an envelope (who, when, which thread, is it bulk), and its snippet.

Headers are unfolded and decoded here rather than through `email.message`: real mailboxes hold raw
8-bit headers, unknown charsets and broken encoded words, and the envelope must come out of every
one of them. Encoded words (RFC 2047) are decoded with any charset Python's `email` package knows;
undeclared 8-bit text is read as UTF-8, else Windows-1252. Addresses are split before their names
are decoded, so an encoded comma inside a name does not split it in two.

Only the body's first part is ever parsed (the reader keeps 64 KB), with `email`'s lenient parser,
and only for messages that become interactions: the snippet is the first lines of the text part
(HTML turned into text with BeautifulSoup), without quoted replies or the signature.
"""

from __future__ import annotations

import binascii
import codecs
import email.charset
import email.utils
import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email import message_from_bytes, policy
from functools import lru_cache

from bs4 import BeautifulSoup

from ...identity import email_key
from ..files import decode
from .reader import RawMessage

SNIPPET_CHARS = 200
SUBJECT_CHARS = 200
LARGE_CC = 10  # more recipients than this, with the user only in Cc: a broadcast, not a conversation
PRECEDENCE_BULK = {"bulk", "list", "junk"}
_NOREPLY = re.compile(r"(?:^|[-_.+])(?:no-?reply|do-?not-?reply|donotreply|mailer-daemon|postmaster|bounces?"
                      r"|notifications?|alerts?)(?:$|[-_.+])|^no[-_.]?reply", re.I)
_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")
_MSGID = re.compile(r"<([^<>\s]+)>")
_POSTMARK_DATE = re.compile(rb"^From \S*\s+(.+)$")


def header_text(raw: bytes) -> str:
    """Header bytes as text: ASCII as is, 8-bit as UTF-8 else Windows-1252."""
    try:
        return raw.decode("ascii")
    except UnicodeDecodeError:
        return decode(raw)


@lru_cache(maxsize=256)
def codec_for(charset: str) -> str | None:
    """The Python codec for a MIME charset name, as the `email` package maps them; None if unknown."""
    name = charset.strip().strip('"').lower().split("*", 1)[0]
    name = email.charset.ALIASES.get(name, name)
    name = email.charset.CODEC_MAP.get(name, name) or "ascii"
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_bytes(data: bytes, charset: str | None) -> str:
    codec = codec_for(charset) if charset else None
    if codec:
        try:
            return data.decode(codec)
        except UnicodeDecodeError:
            pass
    return decode(data)


def _decode_word(charset: str, encoding: str, text: str) -> str | None:
    try:
        if encoding in "bB":
            data = binascii.a2b_base64(text + "=" * (-len(text) % 4), strict_mode=True)
        else:
            data = binascii.a2b_qp(text.encode("ascii", "replace"), header=True)
    except (binascii.Error, ValueError):
        return None
    return decode_bytes(data, charset)


def decode_words(text: str) -> str:
    """RFC 2047 encoded words decoded; whitespace between two encoded words dropped; broken ones kept as written."""
    if "=?" not in text:
        return text
    out: list[str] = []
    last = 0
    previous_encoded = False
    for match in _ENCODED_WORD.finditer(text):
        between = text[last:match.start()]
        decoded = _decode_word(*match.groups())
        if decoded is None:
            out.append(between + match.group(0))
            previous_encoded = False
        else:
            if not (previous_encoded and not between.strip()):
                out.append(between)
            out.append(decoded)
            previous_encoded = True
        last = match.end()
    out.append(text[last:])
    return "".join(out)


def parse_header_block(block: bytes) -> dict[str, list[bytes]]:
    """Lower-cased name → raw values, unfolded, in order."""
    headers: dict[str, list[bytes]] = {}
    current: list[bytes] | None = None
    for line in block.split(b"\n"):
        line = line.rstrip(b"\r")
        if not line.strip():
            continue
        if line[:1] in (b" ", b"\t"):
            if current is not None:
                current[-1] += b" " + line.strip()
            continue
        name, sep, value = line.partition(b":")
        if not sep or not name.strip() or b" " in name.strip():
            current = None  # not a header line; ignore it
            continue
        current = headers.setdefault(name.strip().lower().decode("ascii", "replace"), [])
        current.append(value.strip())
    return headers


@lru_cache(maxsize=65536)
def canonical_address(address: str) -> str | None:
    """An address as Kith's email identity value (identity.py), or None when it is not one."""
    address = address.strip().strip("<>").strip()
    if "@" not in address:
        return None
    key = email_key(address)
    return key["value"] if key else None


def addresses(values: list[bytes]) -> list[tuple[str, str]]:
    """(display name, canonical address) for each address in these header values."""
    words: list[str] = []

    def hide(match: re.Match) -> str:  # an encoded word is one atom, even with a comma inside
        words.append(match.group(0))
        return f"kithencodedword{len(words) - 1}x"

    texts = [_ENCODED_WORD.sub(hide, header_text(v)) for v in values]
    out = []
    for name, address in email.utils.getaddresses(texts):
        canonical = canonical_address(address)
        if canonical:
            if words:
                name = re.sub(r"kithencodedword(\d+)x", lambda m: words[int(m.group(1))], name)
            out.append((" ".join(decode_words(name).split()).strip('"\' '), canonical))
    return out


def _utc(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_date(value: str | None, postmark: bytes = b"") -> str | None:
    """The Date header in Kith's UTC form; else the mbox postmark's date; else None."""
    for text in (value, _postmark_date(postmark)):
        if not text:
            continue
        try:
            moment = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            continue
        if moment is None:
            continue
        try:
            return _utc(moment)
        except (OverflowError, ValueError):
            continue
    return None


def _postmark_date(postmark: bytes) -> str | None:
    found = _POSTMARK_DATE.match(postmark)
    if not found:
        return None
    text = found.group(1).decode("ascii", "replace").strip()
    # asctime ("Mon Jan  1 10:00:00 2024", perhaps with a zone before the year) → RFC 2822 order.
    parts = text.split()
    if len(parts) >= 5:
        day, month, date, clock = parts[:4]
        rest = parts[4:]
        year = rest[-1]
        zone = rest[0] if len(rest) > 1 else "+0000"
        return f"{day}, {date} {month} {year} {clock} {zone}"
    return None


def message_ids(values: list[bytes]) -> list[str]:
    return [m for v in values for m in _MSGID.findall(header_text(v))]


@dataclass
class Envelope:
    """What Kith reads from a message's headers."""

    sender: tuple[str, str] | None  # (name, canonical address)
    to: list[tuple[str, str]]
    cc: list[tuple[str, str]]
    bcc: list[tuple[str, str]]
    delivered_to: set[str]
    date: str | None
    subject: str
    message_id: str
    thread: str
    labels: set[str] = field(default_factory=set)
    bulk: str | None = None  # why this is bulk or automated mail, when it is

    @property
    def recipients(self) -> list[tuple[str, str]]:
        return self.to + self.cc + self.bcc


def _first(headers: dict[str, list[bytes]], name: str) -> str | None:
    values = headers.get(name)
    return header_text(values[0]) if values else None


def bulk_reason(headers: dict[str, list[bytes]], sender: tuple[str, str] | None) -> str | None:
    """Why a message is mailing-list, bulk or automated mail (never an interaction), or None."""
    if "list-id" in headers:
        return "mailing list (List-Id)"
    if "list-unsubscribe" in headers:
        return "bulk mail (List-Unsubscribe)"
    precedence = (_first(headers, "precedence") or "").strip().lower()
    if precedence in PRECEDENCE_BULK:
        return f"bulk mail (Precedence: {precedence})"
    auto = (_first(headers, "auto-submitted") or "").strip().lower()
    if auto and auto != "no":
        return f"automated mail (Auto-Submitted: {auto.split(';')[0]})"
    if sender and _NOREPLY.search(sender[1].split("@", 1)[0]):
        return "a no-reply sender"
    return None


def parse_envelope(raw: RawMessage) -> Envelope:
    headers = parse_header_block(raw.header)
    sender_list = addresses(headers.get("from", []))
    sender = sender_list[0] if sender_list else None
    subject = " ".join(decode_words(header_text(headers["subject"][0])).split()) if headers.get("subject") else ""
    date = parse_date(_first(headers, "date"), raw.postmark)
    ids = message_ids(headers.get("message-id", []))
    if ids:
        message_id = ids[0]
    else:  # stable across exports of the same message
        digest = hashlib.sha1(b"\x1f".join(
            [(headers.get(n) or [b""])[0] for n in ("date", "from", "subject", "to")])).hexdigest()[:20]
        message_id = f"no-message-id-{digest}"
    gmail_thread = _first(headers, "x-gm-thrid")
    if gmail_thread and gmail_thread.strip():
        thread = "gmail-thread-" + gmail_thread.strip()
    else:
        parents = message_ids(headers.get("references", [])) or message_ids(headers.get("in-reply-to", []))
        thread = parents[0] if parents else message_id
    labels = {label.strip().lower() for v in headers.get("x-gmail-labels", [])
              for label in decode_words(header_text(v)).split(",") if label.strip()}
    delivered = {a for _, a in addresses(headers.get("delivered-to", []) + headers.get("x-original-to", []))}
    return Envelope(sender=sender, to=addresses(headers.get("to", [])), cc=addresses(headers.get("cc", [])),
                    bcc=addresses(headers.get("bcc", [])), delivered_to=delivered, date=date,
                    subject=subject[:SUBJECT_CHARS], message_id=message_id, thread=thread, labels=labels,
                    bulk=bulk_reason(headers, sender))


# --- the snippet -----------------------------------------------------------------------------

_QUOTE_HEADER = re.compile(r"^(?:On .{0,200}wrote:|Am .{0,200}schrieb .{0,100}:|Le .{0,200}a écrit ?:"
                           r"|-{2,} ?Original Message ?-{2,}|-{2,} ?Forwarded message ?-{2,}"
                           r"|From: .+|Sent from my .+)$", re.I)


def _text_of(part) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    text = decode_bytes(payload, part.get_content_charset())
    if part.get_content_type() == "text/html":
        soup = BeautifulSoup(text, "html.parser")
        for tag in soup(["style", "script", "head", "title"]):
            tag.decompose()
        for quote in soup.find_all("blockquote"):
            quote.decompose()
        text = soup.get_text("\n")
    return text


def body_text(raw: RawMessage) -> str:
    """The first text part of the kept bytes: text/plain preferred, else text/html as text."""
    message = message_from_bytes(raw.header + b"\n" + raw.body, policy=policy.compat32)
    plain = html = None
    for part in message.walk():
        if part.is_multipart():
            continue
        if part.get_content_maintype() != "text" or part.get_filename():
            continue
        if (part.get("Content-Disposition") or "").strip().lower().startswith("attachment"):
            continue
        kind = part.get_content_subtype()
        if kind == "plain" and plain is None:
            plain = part
        elif kind == "html" and html is None:
            html = part
    chosen = plain if plain is not None else html
    return _text_of(chosen) if chosen is not None else ""


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    """The first words of what the sender wrote: no quoted reply, no signature, whitespace collapsed."""
    lines = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        stripped = line.strip()
        if line.rstrip() == "--" or line == "-- " or _QUOTE_HEADER.match(stripped):
            break
        if stripped.startswith(">"):
            continue
        lines.append(stripped)
    words = " ".join(" ".join(lines).split())
    if len(words) <= limit:
        return words
    cut = words[:limit].rsplit(" ", 1)[0] if " " in words[:limit] else words[:limit]
    return cut.rstrip(" ,.;:") + "…"


def message_snippet(raw: RawMessage) -> str:
    return snippet(body_text(raw))
