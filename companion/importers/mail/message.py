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
import calendar
import codecs
import email.charset
import email.utils
import hashlib
import re
import time
from dataclasses import dataclass, field
from functools import lru_cache

from bs4 import BeautifulSoup

from ...identity import email_key
from ..files import decode
from .reader import RawMessage

SNIPPET_CHARS = 200
SUBJECT_CHARS = 200
LARGE_CC = 10  # more recipients than this, with the user only in Cc: a broadcast, not a conversation
PRECEDENCE_BULK = {"bulk", "list", "junk"}
_NOREPLY = re.compile(
    r"(?:^|[-_.+])(?:no-?reply|do-?not-?reply|donotreply|mailer-daemon|postmaster|bounces?"
    r"|notifications?|alerts?)(?:$|[-_.+])|^no[-_.]?reply",
    re.I,
)
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
        between = text[last : match.start()]
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


_UNFOLD = re.compile(rb"\r?\n[ \t]+")
_HEADER_LINE = re.compile(rb"^([\x21-\x39\x3b-\x7e]+)[ \t]*:[ \t]*(.*?)\s*$", re.M)


def parse_header_block(block: bytes) -> dict[str, list[bytes]]:
    """Lower-cased name → raw values, unfolded, in order; lines that are not headers are ignored."""
    headers: dict[str, list[bytes]] = {}
    for name, value in _HEADER_LINE.findall(_UNFOLD.sub(b" ", block)):
        headers.setdefault(name.lower().decode("ascii"), []).append(value)
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
    if not values:
        return []
    if len(values) == 1:
        return list(_addresses(values[0]))
    return [found for value in values for found in _addresses(value)]


@lru_cache(maxsize=65536)  # a mailbox names the same people over and over
def _addresses(value: bytes) -> tuple[tuple[str, str], ...]:
    words: list[str] = []

    def hide(match: re.Match) -> str:  # an encoded word is one atom, even with a comma inside
        words.append(match.group(0))
        return f"kithencodedword{len(words) - 1}x"

    out = []
    for name, address in email.utils.getaddresses([_ENCODED_WORD.sub(hide, header_text(value))]):
        canonical = canonical_address(address)
        if canonical:
            if words:
                name = re.sub(r"kithencodedword(\d+)x", lambda m: words[int(m.group(1))], name)
            out.append((" ".join(decode_words(name).split()).strip("\"' "), canonical))
    return tuple(out)


def parse_date(value: str | None, postmark: bytes = b"") -> str | None:
    """The Date header in Kith's UTC form; else the mbox postmark's date; else None."""
    for text in (value, _postmark_date(postmark)):
        if not text:
            continue
        try:
            parts = email.utils.parsedate_tz(text)
            if parts is None or not 1 <= parts[0] <= 9999:
                continue
            stamp = calendar.timegm(parts[:6] + (0, 0, 0)) - (parts[9] or 0)
            moment = time.gmtime(stamp)
        except (TypeError, ValueError, IndexError, OverflowError, OSError):
            continue
        if not 1 <= moment.tm_year <= 9999:
            continue
        return "%04d-%02d-%02dT%02d:%02d:%02dZ" % moment[:6]
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
    headers: dict[str, list[bytes]] = field(default_factory=dict, repr=False)  # for the snippet's MIME walk

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
        digest = hashlib.sha1(
            b"\x1f".join([(headers.get(n) or [b""])[0] for n in ("date", "from", "subject", "to")])
        ).hexdigest()[:20]
        message_id = f"no-message-id-{digest}"
    gmail_thread = _first(headers, "x-gm-thrid")
    if gmail_thread and gmail_thread.strip():
        thread = "gmail-thread-" + gmail_thread.strip()
    else:
        parents = message_ids(headers.get("references", [])) or message_ids(headers.get("in-reply-to", []))
        thread = parents[0] if parents else message_id
    labels = {
        label.strip().lower()
        for v in headers.get("x-gmail-labels", [])
        for label in decode_words(header_text(v)).split(",")
        if label.strip()
    }
    delivered = {a for _, a in addresses(headers.get("delivered-to", []) + headers.get("x-original-to", []))}
    return Envelope(
        sender=sender,
        to=addresses(headers.get("to", [])),
        cc=addresses(headers.get("cc", [])),
        bcc=addresses(headers.get("bcc", [])),
        delivered_to=delivered,
        date=date,
        subject=subject[:SUBJECT_CHARS],
        message_id=message_id,
        thread=thread,
        labels=labels,
        bulk=bulk_reason(headers, sender),
        headers=headers,
    )


# --- the snippet -----------------------------------------------------------------------------

_QUOTE_HEADER = re.compile(
    r"^(?:On .{0,200}wrote:|Am .{0,200}schrieb .{0,100}:|Le .{0,200}a écrit ?:"
    r"|-{2,} ?Original Message ?-{2,}|-{2,} ?Forwarded message ?-{2,}"
    r"|From: .+|Sent from my .+)$",
    re.I,
)


_PARAM = re.compile(r';\s*([A-Za-z0-9][A-Za-z0-9_.*\-]*)\s*=\s*("(?:[^"\\]|\\.)*"|[^;\s]*)')
MAX_PARTS = 50
TEXT_BYTES = 32 * 1024  # of a text part, more than enough to find 200 characters of what was written


def content_type(value: str | None) -> tuple[str, dict[str, str]]:
    """'text/plain; charset="utf-8"' → ('text/plain', {'charset': 'utf-8'}); no value means text/plain."""
    if not value:
        return "text/plain", {}
    kind = value.split(";", 1)[0].strip().lower() or "text/plain"
    params = {m.group(1).lower(): m.group(2).strip('"') for m in _PARAM.finditer(value)}
    return (kind if "/" in kind else "text/plain"), params


def _decode_body(data: bytes, encoding: str) -> bytes:
    encoding = encoding.strip().lower()
    try:
        if encoding == "base64":
            return binascii.a2b_base64(data)
        if encoding == "quoted-printable":
            return binascii.a2b_qp(data)
    except (binascii.Error, ValueError):
        return b""
    return data


def _text_parts(headers: dict[str, list[bytes]], body: bytes, depth: int = 0):
    """(subtype, text) for each inline text part, walking multiparts by their boundaries.

    A small walker rather than `email`'s parser: only the kept start of the body is here, it may
    end mid-part, and this runs for every message that becomes an interaction."""
    kind, params = content_type(_first(headers, "content-type"))
    disposition = (_first(headers, "content-disposition") or "").strip().lower()
    if kind.startswith("multipart/"):
        boundary = params.get("boundary")
        if not boundary or depth > 5:
            return
        delimiter = b"--" + boundary.encode("ascii", "replace")
        chunks = body.split(delimiter)[1 : MAX_PARTS + 1]  # what precedes the first boundary is a preamble
        for chunk in chunks:
            if chunk.startswith(b"--"):
                break  # the closing delimiter
            chunk = chunk.split(b"\n", 1)[1] if b"\n" in chunk else b""
            found = _BLANK_LINE_TEXT.search(chunk)
            part_headers = parse_header_block(chunk[: found.start() + 1]) if found else {}
            part_body = chunk[found.end() :] if found else chunk
            if not found and chunk.strip():
                part_headers, part_body = parse_header_block(chunk), b""
            yield from _text_parts(part_headers, part_body, depth + 1)
        return
    if not kind.startswith("text/") or disposition.startswith("attachment") or "filename" in disposition:
        return
    data = _decode_body(body, _first(headers, "content-transfer-encoding") or "")[:TEXT_BYTES]
    yield kind.split("/", 1)[1], decode_bytes(data, params.get("charset"))


_BLANK_LINE_TEXT = re.compile(rb"\r?\n\r?\n")


def _html_text(html: str) -> str:
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["style", "script", "head", "title", "blockquote"]):
        tag.decompose()
    return soup.get_text("\n")


def body_text(raw: RawMessage, headers: dict[str, list[bytes]] | None = None) -> str:
    """The first text part of the kept bytes: text/plain preferred, else text/html as text."""
    html = None
    for subtype, text in _text_parts(headers if headers is not None else parse_header_block(raw.header), raw.body):
        if subtype == "plain":
            return text
        if subtype == "html" and html is None:
            html = text
    return _html_text(html) if html is not None else ""


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    """The first words of what the sender wrote: no quoted reply, no signature, whitespace collapsed."""
    lines = []
    kept = 0
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        stripped = line.strip()
        if not stripped or stripped[0] == ">":
            continue
        if stripped[0] in "OAL-FS" and (stripped == "--" or _QUOTE_HEADER.match(stripped)):
            break
        lines.append(stripped)
        kept += len(stripped) + 1
        if kept > 2 * limit:
            break  # enough words; the rest is never shown
    words = " ".join(" ".join(lines).split())
    if len(words) <= limit:
        return words
    cut = words[:limit].rsplit(" ", 1)[0] if " " in words[:limit] else words[:limit]
    return cut.rstrip(" ,.;:") + "…"


def message_snippet(raw: RawMessage, headers: dict[str, list[bytes]] | None = None) -> str:
    return snippet(body_text(raw, headers))
