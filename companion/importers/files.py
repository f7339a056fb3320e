"""Reading what users bring: any encoding, CSV with preambles, columns matched by name.

Address books and exports arrive as UTF-8, UTF-8 with a BOM, UTF-16 with or
without a BOM (Excel, Outlook) or Windows-1252/Latin-1 (old phones). Decoding is done once here so
every reader gets text, and CSV problems become an `ImportFileError` naming
the file and line.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from pathlib import Path
from typing import Callable, Iterator

from .report import ImportFileError

# Some fields (long LinkedIn messages, embedded photos) exceed csv's 128 KiB default.
csv.field_size_limit(64 * 1024 * 1024)


def utf16_without_bom(data: bytes) -> str | None:
    """The text of UTF-16 written without a byte-order mark (some Windows address books), told by
    its NUL bytes: ASCII characters in UTF-16 have a zero high byte, on odd offsets for
    little-endian and even ones for big-endian. None when the data does not look like that."""
    sample = data[:4096]
    if len(sample) < 4 or len(sample) % 2:
        sample = sample[: len(sample) - len(sample) % 2]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    half = len(sample) // 2
    for zeros, other, encoding in ((odd, even, "utf-16-le"), (even, odd, "utf-16-be")):
        if zeros > half * 0.6 and other < half * 0.05:
            return data[: len(data) - len(data) % 2].decode(encoding, "replace")
    return None


def decode(data: bytes) -> str:
    """Bytes to text: BOMs first, UTF-16 without one, then UTF-8, then Windows-1252, then Latin-1
    (never fails)."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8", "replace")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", "replace")
    if b"\x00" in data[:4096]:
        text = utf16_without_bom(data)
        if text is not None:
            return text
    for encoding in ("utf-8", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


# The largest file Kith reads from an archive. Real exports' biggest member (messages.csv) is tens
# of megabytes; a small zip can declare (or inflate to) gigabytes, which would be read into memory.
MAX_MEMBER_BYTES = 256 * 1024 * 1024


def _megabytes(n: int) -> str:
    return f"{n / 1_000_000:,.1f} MB"


def read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, where: str, limit: int = MAX_MEMBER_BYTES) -> bytes:
    """An archive member's bytes, refused (naming the member and its size) past `limit`.

    Checking the declared size is enough: zipfile stops inflating at that size (a member that
    under-declares fails its CRC check instead of growing).
    """
    if info.file_size > limit:
        raise ImportFileError(
            where,
            None,
            f"{info.filename} is {_megabytes(info.file_size)} uncompressed; "
            f"Kith reads archive members up to {_megabytes(limit)}",
        )
    return archive.read(info)


def read_bytes(path: Path | str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ImportFileError(path, None, f"cannot read the file: {exc.strerror or exc}") from exc


def read_text(path: Path | str, data: bytes | None = None) -> str:
    """The text of a file (or of `data` read from it, e.g. a zip member)."""
    if data is None:
        data = read_bytes(path)
    text = decode(data)
    if "\x00" in text:
        raise ImportFileError(path, None, "this is a binary file, not text")
    return text


def norm(header: str) -> str:
    """Column names compare without case, spaces or punctuation: 'Email Address' == 'emailAddress'."""
    return re.sub(r"[^0-9a-z]", "", (header or "").lower())


class CsvTable:
    """A parsed CSV: the header as written, and rows as (first line number, cells)."""

    def __init__(self, path: str, header: list[str], rows: list[tuple[int, list[str]]], header_line: int):
        self.path = path
        self.header = header
        self.rows = rows
        self.header_line = header_line
        self.index = {}
        for i, name in enumerate(header):
            self.index.setdefault(norm(name), i)

    def column(self, *names: str) -> int | None:
        for name in names:
            i = self.index.get(norm(name))
            if i is not None:
                return i
        return None


_DELIMITERS = (",", ";", "\t")


def sniff_delimiter(text: str, lines: int = 20) -> str:
    """The separator of a CSV: a comma unless semicolons (European spreadsheets and Outlook) or
    tabs are more frequent on some early line, outside quotes."""
    best, best_count = ",", 0
    counts = dict.fromkeys(_DELIMITERS, 0)
    quoted = False
    seen = 0
    line_counts = dict.fromkeys(_DELIMITERS, 0)
    for ch in text[:65536]:
        if ch == '"':
            quoted = not quoted
        elif ch == "\n" and not quoted:
            for d in _DELIMITERS:
                counts[d] = max(counts[d], line_counts[d])
            line_counts = dict.fromkeys(_DELIMITERS, 0)
            seen += 1
            if seen >= lines:
                break
        elif ch in line_counts and not quoted:
            line_counts[ch] += 1
    for d in _DELIMITERS:
        counts[d] = max(counts[d], line_counts[d])
    for d in _DELIMITERS:
        if counts[d] > best_count:
            best, best_count = d, counts[d]
    return best


def _records(text: str, path: str) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True, delimiter=sniff_delimiter(text))
    start = 1
    try:
        for row in reader:
            yield start, row
            start = reader.line_num + 1
    except csv.Error as exc:
        raise ImportFileError(path, start, f"malformed CSV ({exc})") from exc


def read_csv(
    text: str, path: str, is_header: Callable[[list[str]], bool] | None = None, max_preamble: int = 50
) -> CsvTable:
    """Parse a whole CSV. The header is the first row `is_header` accepts (skipping a
    preamble such as LinkedIn's "Notes:" lines), or the first non-empty row."""
    header = None
    header_line = 0
    rows: list[tuple[int, list[str]]] = []
    for line, row in _records(text, path):
        if header is None:
            if not "".join(row).strip():
                continue
            if is_header is None or is_header([norm(c) for c in row]):
                header, header_line = [c.strip() for c in row], line
                continue
            if line > max_preamble:
                break
            continue
        if "".join(row).strip():  # some cell is not blank (one join, not a strip per cell)
            rows.append((line, row))
    if header is None:
        raise ImportFileError(path, None, "no header row with the expected column names was found")
    return CsvTable(path, header, rows, header_line)
