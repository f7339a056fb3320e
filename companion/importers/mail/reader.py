"""Mailboxes read one message at a time, keeping only the part of each message Kith looks at.

`mailbox.mbox` first scans the whole file for a table of contents, then reads every message whole,
so one 30 MB attachment is 30 MB in memory. Here an mbox is read once, front to back, in 1 MB
blocks: message boundaries are found with one regular expression per block, and of each message
only its first `KEEP` bytes (the headers and the start of the body) are kept; the rest is counted
and dropped as it streams past. Memory stays the same whatever the size of the file.

A "From " line starts a message when it follows a blank line, or when it looks like an mbox
postmark (`From sender Mon Jan  1 …`): that is how Gmail, Thunderbird and Apple Mail write them,
and it keeps an unescaped "From " in a body from cutting a message in two.

A folder is walked: mbox files (they begin with "From "), Maildir messages (files in `cur/` and
`new/`) and single `.eml` files. Every message carries its file and byte offset, so a message that
cannot be read is named in the report.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from ..report import ImportFileError

BLOCK = 1 << 20
KEEP = 320 * 1024  # headers (rarely over a few KB; 256 KB at most here) and the first 64 KB of the body
BODY_KEEP = 64 * 1024
HEADER_LIMIT = 256 * 1024
_SEPARATOR = re.compile(rb"\n(?:\r?\n(?=From )|(?=From \S{0,200}[ \t]+(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[ \t]))")
_LOOKAHEAD = 256  # a separator match is never longer than this
_BLANK_LINE = re.compile(rb"\r?\n\r?\n")


@dataclass
class RawMessage:
    path: str
    offset: int
    folder: str  # the mailbox's name (file stem or Maildir folder): "Sent", "Inbox", ...
    postmark: bytes  # the mbox "From " line, or b""
    header: bytes
    body: bytes  # at most BODY_KEEP bytes of the body
    size: int  # the whole message, in bytes
    problem: str | None = None  # why it cannot be read, when it cannot

    @property
    def where(self) -> str:
        return f"{self.path}, byte {self.offset}"


def _split(path: str, offset: int, folder: str, data: bytes, size: int, at_eof: bool) -> RawMessage:
    """One message's kept bytes → postmark, header block and body prefix."""
    postmark = b""
    if data.startswith(b"From "):
        end = data.find(b"\n")
        postmark, data = (data, b"") if end < 0 else (data[:end].rstrip(b"\r"), data[end + 1 :])
    found = _BLANK_LINE.search(data)
    problem = None
    if found:
        header, body = data[: found.start() + 1], data[found.end() : found.end() + BODY_KEEP]
    elif at_eof and size < KEEP:
        header, body = data, b""
        problem = "the file ends inside this message's headers (a truncated last message)"
    else:
        header, body = data, b""  # a message with headers and no body
    if len(header) > HEADER_LIMIT or (not found and size >= KEEP):
        problem = f"its headers are longer than {HEADER_LIMIT // 1024} KB"
    if not header.strip() and problem is None:
        problem = "an empty message"
    return RawMessage(path, offset, folder, postmark, header, body, size, problem)


def _keep(kept: bytearray, window: bytes, start: int, end: int) -> None:
    """Add window[start:end] to the message's kept bytes, up to KEEP (slicing only what is kept)."""
    room = KEEP - len(kept)
    if room > 0 and end > start:
        kept += window[start : min(end, start + room)]


def read_mbox(
    path: Path, folder: str | None = None, progress: Callable[[int], None] | None = None, block: int = BLOCK
) -> Iterator[RawMessage]:
    """The messages of one mbox file, in file order."""
    where = str(path)
    folder = folder if folder is not None else Path(path).stem
    try:
        handle = open(path, "rb")
    except OSError as exc:
        raise ImportFileError(path, None, f"cannot read the file: {exc.strerror or exc}") from exc
    with handle:
        window = b""  # bytes read but not yet given to a message
        window_at = 0  # file offset of window[0]
        start: int | None = None  # file offset where the current message starts
        kept = bytearray()
        size = 0
        while True:
            data = handle.read(block)
            if progress and data:
                progress(len(data))
            eof = not data
            window += data
            if start is None:
                # Leading blank lines are allowed; then the file must start with a postmark.
                stripped = window.lstrip(b"\r\n")
                if not stripped and not eof:
                    continue
                if not stripped.startswith(b"From "):
                    if eof or len(stripped) >= 5:
                        raise ImportFileError(path, None, 'not an mbox file (it does not begin with a "From " line)')
                    continue
                window_at += len(window) - len(stripped)
                window, start = stripped, window_at
            limit = len(window) if eof else max(0, len(window) - _LOOKAHEAD)
            consumed = 0
            for match in _SEPARATOR.finditer(window):
                if match.start() >= limit:
                    break
                _keep(kept, window, consumed, match.start() + 1)
                size += match.start() + 1 - consumed
                yield _split(where, start, folder, bytes(kept), size, at_eof=False)
                consumed = match.end()
                start = window_at + consumed
                kept = bytearray()
                size = 0
            cut = max(consumed, limit)  # a separator that started before the limit may end after it
            _keep(kept, window, consumed, cut)
            size += cut - consumed
            window_at += cut
            window = window[cut:]
            if eof:
                if size:
                    yield _split(where, start, folder, bytes(kept), size, at_eof=True)
                return


def read_one(path: Path, folder: str) -> RawMessage:
    """A file holding one message (Maildir, .eml): its first KEEP bytes."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(KEEP)
            size = os.fstat(handle.fileno()).st_size
    except OSError as exc:
        return RawMessage(str(path), 0, folder, b"", b"", b"", 0, f"cannot read the file: {exc.strerror or exc}")
    return _split(str(path), 0, folder, data, size, at_eof=True)


def _maildir_folder(message: Path) -> str:
    """Maildir++ keeps subfolders as `.Sent`, `.INBOX.Sent`: the name after the last dot."""
    name = message.parent.parent.name
    return name.rsplit(".", 1)[-1] if name.startswith(".") else name


def _is_mbox(path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            return handle.read(4096).lstrip(b"\r\n").startswith(b"From ")
    except OSError:
        return False


_MESSAGE_START = re.compile(rb"^(?:From|Date|Message-ID|Received|Return-Path|Delivered-To|To|Subject):", re.I | re.M)


def _is_message(path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            head = handle.read(4096)
    except OSError:
        return False
    return bool(_MESSAGE_START.search(head.split(b"\n\n", 1)[0]))


def mail_files(path: Path) -> list[tuple[str, Path]]:
    """("mbox" | "message", file) for everything under `path` that holds mail, in a stable order."""
    path = Path(path)
    if not path.exists():
        raise ImportFileError(path, None, "no such file or folder")
    if path.is_file():
        if _is_mbox(path):
            return [("mbox", path)]
        if not _is_message(path):
            raise ImportFileError(
                path,
                None,
                "neither an mbox file nor an email message (no From:, Date: or Message-ID: header at its start)",
            )
        return [("message", path)]
    found = []
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        if file.parent.name in ("cur", "new") and not file.name.startswith("."):
            found.append(("message", file))
        elif file.suffix.lower() == ".eml":
            found.append(("message", file))
        elif _is_mbox(file):
            found.append(("mbox", file))
    if not found:
        raise ImportFileError(path, None, "no mbox file, Maildir or .eml message found")
    return found


def read_mail(files: list[tuple[str, Path]], progress: Callable[[int], None] | None = None) -> Iterator[RawMessage]:
    """Every message in these files, one at a time."""
    for kind, file in files:
        if kind == "mbox":
            yield from read_mbox(file, progress=progress)
        else:
            message = read_one(file, _maildir_folder(file) if file.parent.name in ("cur", "new") else file.parent.name)
            if progress:
                progress(message.size)
            yield message


def total_bytes(files: list[tuple[str, Path]]) -> int:
    return sum(file.stat().st_size for _, file in files)
