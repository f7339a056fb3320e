"""A small archive cannot make `kith import` read gigabytes: members are capped, by name and size."""

from __future__ import annotations

import subprocess
import sys
import zipfile

import pytest

from companion.importers.files import MAX_MEMBER_BYTES, read_member
from companion.importers.report import ImportFileError
from conftest import ROOT

HEADER = b"First Name,Last Name,URL,Email Address,Company,Position,Connected On\n"
ROW = b"Ada,Lovelace,https://www.linkedin.com/in/ada,,Engines Ltd,Analyst,01 Jan 2024\n"


def write_member(archive: zipfile.ZipFile, name: str, total: int) -> None:
    with archive.open(name, "w", force_zip64=True) as member:
        member.write(HEADER)
        block = ROW * (1024 * 1024 // len(ROW))
        written = len(HEADER)
        while written < total:
            member.write(block)
            written += len(block)


def test_an_oversized_member_is_refused_by_name_and_size_without_reading_it(tmp_path, db_path):
    bomb = tmp_path / "export.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        write_member(archive, "Connections.csv", MAX_MEMBER_BYTES + 16 * 1024 * 1024)
    assert bomb.stat().st_size < 2 * 1024 * 1024  # a small file on disk
    peak = tmp_path / "peak"
    # The process reports its own peak RSS (VmHWM) as it exits: getrusage(RUSAGE_CHILDREN) would give
    # the largest of every child this test run has waited for.
    kith = (
        "import atexit, sys\n"
        "def peak():\n"
        "    kib = next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM:'))\n"
        f"    open({str(peak)!r}, 'w').write(kib)\n"
        "atexit.register(peak)\n"
        "from companion.cli import main\n"
        "sys.exit(main(prog_name='kith'))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", kith, "import", "linkedin", str(bomb), "--db", str(db_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode != 0
    message = out.stderr + out.stdout
    assert "Connections.csv" in message and "MB uncompressed" in message, message
    peak_mb = int(peak.read_text()) / 1024
    assert peak_mb < 200, peak_mb  # far below the member's 270 MB: it was never read


def test_members_are_read_up_to_the_limit_and_an_under_declared_one_cannot_grow(tmp_path):
    archive_path = tmp_path / "small.zip"
    with zipfile.ZipFile(archive_path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        write_member(archive, "messages.csv", 3 * 1024 * 1024)
    with zipfile.ZipFile(archive_path) as archive:
        info = archive.getinfo("messages.csv")
        assert read_member(archive, info, "small.zip:messages.csv").startswith(HEADER)
        with pytest.raises(ImportFileError, match="messages.csv is 3.1 MB uncompressed"):
            read_member(archive, info, "small.zip:messages.csv", limit=2 * 1024 * 1024)
        info.file_size = 1000  # an archive that under-declares its size is not inflated past it
        with pytest.raises(zipfile.BadZipFile):
            read_member(archive, info, "small.zip:messages.csv", limit=2 * 1024 * 1024)
