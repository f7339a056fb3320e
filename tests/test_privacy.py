"""Kith's files are owner-only (0600, directories 0700) whatever the umask: the database and its
-wal/-shm, backups (and their `.partial`), restores, exports and the demo database. Looser
existing files are tightened, and `kith serve` says so once."""

from __future__ import annotations

import contextlib
import os
import stat
import subprocess

import pytest
from stress.conftest import ROOT, KithServer, kith_command

from companion import privacy
from companion.backup import _copy
from companion.config import default_data_dir, default_db_path
from companion.store.db import open_db


@contextlib.contextmanager
def umask(mask: int):
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


@pytest.fixture(autouse=True)
def usual_umask():
    with umask(0o022):  # the usual desktop umask: without care, files would be 0644
        yield


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def kith(*args: str, env=None) -> subprocess.CompletedProcess:
    result = subprocess.run(kith_command(*args), cwd=ROOT, capture_output=True, text=True, timeout=180, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def write_some(db_path) -> None:
    db = open_db(db_path)
    db.execute("INSERT INTO contacts (name, created_at, updated_at) VALUES ('Private Person', 'now', 'now')")
    return db


def test_a_new_database_and_its_directory_are_private(tmp_path):
    db_path = tmp_path / "new" / "dir" / "kith.db"
    db = write_some(db_path)
    try:
        assert mode(db_path.parent) == 0o700
        for path in (db_path, db_path.with_name("kith.db-wal"), db_path.with_name("kith.db-shm")):
            assert path.exists() and mode(path) == 0o600, path
        for path in privacy.kith_files(db_path):  # .auth, .key and theirs, when they exist
            if path.exists():
                assert mode(path) == 0o600, path
    finally:
        db.close()
    assert privacy.loose(db_path) == []


def test_create_private_file_whatever_the_umask(tmp_path):
    with umask(0o000):
        assert privacy.create_private_file(tmp_path / "a")
    assert mode(tmp_path / "a") == 0o600
    (tmp_path / "b").write_text("x")
    os.chmod(tmp_path / "b", 0o644)
    assert not privacy.create_private_file(tmp_path / "b")  # an existing file is left to tighten()
    assert (tmp_path / "b").read_text() == "x"
    assert privacy.private_dir(tmp_path / "d" / "e") and mode(tmp_path / "d" / "e") == 0o700


def test_backups_restores_exports_and_the_demo_are_private(tmp_path):
    db_path = tmp_path / "kith.db"
    write_some(db_path).close()
    partial = _copy(db_path, tmp_path / "direct.db")  # the temporary copy, before its rename
    assert partial.name == "direct.db.partial" and mode(partial) == 0o600
    partial.unlink()

    backup = tmp_path / "backup.db"
    kith("backup", "--db", str(db_path), str(backup))
    assert mode(backup) == 0o600
    assert not (tmp_path / "backup.db.partial").exists()

    restored = tmp_path / "restored" / "kith.db"
    kith("restore", "--db", str(restored), str(backup))
    assert mode(restored) == 0o600 and mode(restored.parent) == 0o700
    (tmp_path / "loose.db").write_bytes(b"")
    os.chmod(tmp_path / "loose.db", 0o644)
    kith("restore", "--db", str(tmp_path / "loose.db"), str(backup))  # replaces a 0644 file
    assert mode(tmp_path / "loose.db") == 0o600

    for fmt in ("json", "csv", "vcard"):
        out = tmp_path / f"export.{fmt}"
        kith("export", fmt, "--db", str(db_path), "-o", str(out))
        assert mode(out) == 0o600 and "Private Person" in out.read_text()
    existing = tmp_path / "existing.json"
    existing.write_text("old")
    os.chmod(existing, 0o644)
    kith("export", "json", "--db", str(db_path), "-o", str(existing))
    assert mode(existing) == 0o600 and "Private Person" in existing.read_text()

    demo = tmp_path / "demo dir" / "demo.db"
    kith("demo", "--db", str(demo), "--contacts", "30", "--seed", "3")
    assert mode(demo) == 0o600 and mode(demo.parent) == 0o700
    for suffix in ("-wal", "-shm"):
        if demo.with_name(demo.name + suffix).exists():
            assert mode(demo.with_name(demo.name + suffix)) == 0o600


def test_tighten_fixes_loose_files_and_the_default_data_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("KITH_DB", raising=False)
    db_path = default_db_path()
    assert db_path.parent == default_data_dir() and str(tmp_path) in str(db_path)
    db = write_some(db_path)
    wal = db_path.with_name("kith.db-wal")
    os.chmod(db_path, 0o644)
    os.chmod(wal, 0o664)
    os.chmod(db_path.parent, 0o755)
    lines = privacy.tighten(db_path)
    db.close()
    assert lines == [f"{db_path} 0644 -> 0600", f"{wal} 0664 -> 0600", f"{db_path.parent} 0755 -> 0700"]
    assert mode(db_path) == 0o600 and mode(db_path.parent) == 0o700
    assert privacy.tighten(db_path) == []


def test_a_users_own_directory_is_left_alone(tmp_path):
    home = tmp_path / "home"
    home.mkdir(mode=0o755)
    db_path = home / "kith.db"
    write_some(db_path).close()
    os.chmod(db_path, 0o644)
    assert privacy.tighten(db_path) == [f"{db_path} 0644 -> 0600"]
    assert mode(home) == 0o755  # $HOME, /tmp, a project folder: not Kith's to chmod


def test_a_directory_kith_created_stays_kiths(tmp_path):
    db_path = tmp_path / "made by kith" / "kith.db"
    write_some(db_path).close()
    os.chmod(db_path.parent, 0o755)
    assert privacy.tighten(db_path) == [f"{db_path.parent} 0755 -> 0700"]


def test_serve_tightens_loose_files_and_says_so_once(tmp_path):
    db_path = tmp_path / "kith dir" / "kith.db"
    write_some(db_path).close()
    auth = db_path.with_name("kith.db.auth")
    os.chmod(db_path, 0o644)
    os.chmod(db_path.parent, 0o750)
    if auth.exists():
        os.chmod(auth, 0o640)
    server = KithServer(db_path, datasette=False, log_path=tmp_path / "serve.log")
    with server:
        pass
    lines = [line for line in server.log_text().splitlines() if "Tightened" in line]
    assert len(lines) == 1, server.log_text()
    assert f"{db_path} 0644 -> 0600" in lines[0] and f"{db_path.parent} 0750 -> 0700" in lines[0]
    if auth.exists():
        assert f"{auth} 0640 -> 0600" in lines[0]
    assert mode(db_path) == 0o600 and mode(db_path.parent) == 0o700
    assert [p for p in privacy.kith_files(db_path) if p.exists() and mode(p) != 0o600] == []
