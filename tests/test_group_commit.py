"""Group commit on the single writer (`DbThread.run_grouped`), against a real SQLite file.

Calls that arrive while the writer is busy share one COMMIT; a failing call loses only its own
writes (the group is rolled back and the others run again alone), and nobody hears "done" before
the COMMIT returned.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time

import pytest

from companion.store import db as dbmod
from companion.store.db import DbThread


def _table(db) -> None:
    db.execute("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)")


def _insert(db, value: str, pause: float = 0.0) -> int:
    with db.atomic():
        time.sleep(pause)  # a writer busy long enough for others to queue up behind it
        return db.execute("INSERT INTO t (v) VALUES (?)", [value]).lastrowid


def _insert_then_fail(db, value: str) -> None:
    with db.atomic():
        db.execute("INSERT INTO t (v) VALUES (?)", [value])
        raise ValueError("this call fails after writing")


def _values(path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return sorted(r[0] for r in conn.execute("SELECT v FROM t"))
    finally:
        conn.close()


@pytest.fixture
def writer(tmp_path):
    w = DbThread(tmp_path / "kith.db")
    w._executor.submit(_table, w.db).result()
    yield w
    w.close()


@pytest.fixture
def groups(monkeypatch):
    """The sizes of the groups the writer committed (a spy around the real function)."""
    sizes: list[int] = []
    real = dbmod._commit_group

    def spy(db, calls):
        sizes.append(len(calls))
        return real(db, calls)

    monkeypatch.setattr(dbmod, "_commit_group", spy)
    return sizes


async def test_concurrent_calls_share_commits_and_all_land(writer, groups, tmp_path):
    values = [f"v{n}" for n in range(40)]
    ids = await asyncio.gather(*(writer.run_grouped(_insert, v, 0.003) for v in values))
    assert len(set(ids)) == 40
    assert _values(tmp_path / "kith.db") == sorted(values)  # visible to another connection: committed
    assert sum(groups) == 40
    assert len(groups) < 40 and max(groups) > 1, groups  # grouped, not one COMMIT per call
    assert max(groups) <= dbmod.GROUP_MAX


async def test_a_failing_call_loses_only_its_own_writes(writer, groups, tmp_path):
    calls = [writer.run_grouped(_insert, f"ok{n}", 0.002) for n in range(10)]
    calls.insert(5, writer.run_grouped(_insert_then_fail, "bad"))
    outcomes = await asyncio.gather(*calls, return_exceptions=True)
    failed = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(failed) == 1 and isinstance(failed[0], ValueError)
    assert _values(tmp_path / "kith.db") == sorted(f"ok{n}" for n in range(10))
    assert max(groups) > 1, groups


async def test_a_call_that_ends_the_transaction_does_not_take_the_group_with_it(writer, groups, tmp_path):
    """RAISE(ROLLBACK) in a trigger ends the whole transaction, savepoints included: the calls
    grouped with it are run again, each alone, and still land."""

    def add_trigger(db):
        db.execute(
            "CREATE TRIGGER t_no_poison BEFORE INSERT ON t WHEN new.v = 'poison'"
            " BEGIN SELECT RAISE(ROLLBACK, 'poison refused'); END"
        )

    await writer.run(add_trigger)
    calls = [writer.run_grouped(_insert, f"ok{n}", 0.002) for n in range(8)]
    calls.insert(4, writer.run_grouped(_insert, "poison"))
    outcomes = await asyncio.gather(*calls, return_exceptions=True)
    failed = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(failed) == 1 and "poison refused" in str(failed[0])
    assert _values(tmp_path / "kith.db") == sorted(f"ok{n}" for n in range(8))


async def test_a_failed_commit_reports_every_call_in_the_group(writer, tmp_path):
    """When COMMIT fails, nothing in the group is durable, so every caller gets the error."""
    calls = [(lambda db, v=v: db.execute("INSERT INTO t (v) VALUES (?)", [v]).lastrowid, ()) for v in "abc"]

    class RefusingCommit:
        """The writer's connection, except that COMMIT fails (as on a full disk)."""

        def __init__(self, conn):
            self._conn = conn

        def execute(self, sql, *args):
            if sql == "COMMIT":
                raise sqlite3.OperationalError("database or disk is full")
            return self._conn.execute(sql, *args)

        def __getattr__(self, name):
            return getattr(self._conn, name)

    def run(db):
        real = db.conn
        db.conn = RefusingCommit(real)
        try:
            return dbmod._commit_group(db, calls)
        finally:
            db.conn = real

    outcomes = await writer.run(run)
    assert [ok for ok, _ in outcomes] == [False, False, False]
    assert all("disk is full" in str(err) for _, err in outcomes)
    assert _values(tmp_path / "kith.db") == []
    assert not writer.db.conn.in_transaction


async def test_a_lone_call_commits_by_itself(writer, groups, tmp_path):
    assert await writer.run_grouped(_insert, "only") == 1
    assert groups == [1]
    assert _values(tmp_path / "kith.db") == ["only"]


def _save_person(db, fields: dict, identities: list[dict], pause: float = 0.0) -> int:
    from companion.store.contacts import resolve_and_upsert

    with db.atomic():
        time.sleep(pause)
        return resolve_and_upsert(db, fields, identities, now="2026-11-29T12:00:00Z")[0]


def _people(seed: int, n: int, first_id: int) -> list[tuple[dict, list[dict]]]:
    """People from small name pools at a few employers and places (spelled in varying case), half
    with a LinkedIn key (two different keys: provably two people), half with only an email."""
    import random

    rng = random.Random(seed)
    firsts, lasts = ["Ann", "Anne", "Jon", "John", "Maria", "Mario"], ["Lee", "Li", "Smith", "Smyth", "Garcia"]
    out = []
    for i in range(first_id, first_id + n):
        fields = {
            "name": f"{rng.choice(firsts)} {rng.choice(lasts)}",
            "company": rng.choice(["Acme", "ACME", "Globex", None]),
            "location": rng.choice(["Berlin", "berlin", None]),
        }
        if rng.random() < 0.5:
            ident = {"kind": "linkedin", "value": f"https://www.linkedin.com/in/p{i}/", "url": None}
        else:
            ident = {"kind": "email", "value": f"p{i}@example.com", "url": None}
        out.append((fields, [ident]))
    return out


async def test_grouped_new_contacts_get_the_suggestions_they_get_one_by_one(tmp_path, groups):
    """A group's new contacts are checked for similar names together at its end (one candidate
    read per company): the suggestions are exactly those of saving the same people one by one,
    past the 500-candidate limit, across spellings and with identities that tell people apart."""
    seed = _people(1, 700, 0)
    arrivals = _people(2, 60, 10_000)
    suggestions = {}
    for mode in ("one by one", "grouped"):
        writer = DbThread(tmp_path / f"{mode}.db")
        try:
            for fields, idents in seed:
                await writer.run(_save_person, fields, idents)
            if mode == "one by one":
                for fields, idents in arrivals:
                    await writer.run(_save_person, fields, idents)
            else:
                await asyncio.gather(
                    *(
                        writer.run_grouped(_save_person, f, i, 0.001 if n == 0 else 0.0)
                        for n, (f, i) in enumerate(arrivals)
                    )
                )

            def read(db):
                return db.execute(
                    "SELECT contact_id, other_contact_id, score, reason, status FROM merge_suggestions ORDER BY 1, 2"
                ).fetchall()

            suggestions[mode] = await writer.run(read)
        finally:
            writer.close()
    assert max(groups) > 5, groups  # the arrivals really were grouped
    assert len(suggestions["one by one"]) > 20  # and there was something to suggest
    assert suggestions["grouped"] == suggestions["one by one"]


async def test_inside_a_group_nested_blocks_open_no_savepoint(writer, groups, tmp_path):
    """Why it matters: the full-text index writes out its pending terms at every savepoint, which
    doubled the cost of a contact or a note. The group itself is the unit of rollback."""
    statements: list[str] = []

    def trace(db):
        db.conn.set_trace_callback(statements.append)

    def nested(db, value):
        with db.atomic():
            with db.atomic():
                return db.execute("INSERT INTO t (v) VALUES (?)", [value]).lastrowid

    await writer.run(trace)
    try:
        await asyncio.gather(
            writer.run_grouped(_insert, "first", 0.05), *(writer.run_grouped(nested, f"n{i}") for i in range(5))
        )
    finally:
        await writer.run(lambda db: db.conn.set_trace_callback(None))
    assert max(groups) > 1, groups
    assert not [s for s in statements if "SAVEPOINT" in s.upper()], statements
    assert _values(tmp_path / "kith.db") == sorted(["first", *(f"n{i}" for i in range(5))])
    # Alone (not grouped), nested blocks are still savepoints, as sqlite-utils makes them.
    statements.clear()
    await writer.run(trace)
    await writer.run(lambda db: nested(db, "alone") and db.conn.commit())
    await writer.run(lambda db: db.conn.set_trace_callback(None))
    assert any("SAVEPOINT" in s.upper() for s in statements), statements


class _Abandon(BaseException):
    """Not an Exception (as SystemExit is not): what a plain `except Exception` lets through."""


def _insert_then_abandon(db, value: str) -> None:
    with db.atomic():
        db.execute("INSERT INTO t (v) VALUES (?)", [value])
        raise _Abandon("gave up")


async def test_a_call_raising_a_base_exception_fails_alone_and_the_writer_goes_on(writer, groups, tmp_path):
    """Every caller hears back, the others' writes land, and the writer is left with no open
    transaction and no group state, ready for the next call (it used to hang every later call)."""
    calls = [writer.run_grouped(_insert, f"ok{n}", 0.002) for n in range(6)]
    calls.insert(3, writer.run_grouped(_insert_then_abandon, "abandoned"))
    outcomes = await asyncio.wait_for(asyncio.gather(*calls, return_exceptions=True), 10)
    failed = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(failed) == 1 and isinstance(failed[0], _Abandon)
    assert max(groups) > 1, groups
    assert await asyncio.wait_for(writer.run_grouped(_insert, "later"), 10)
    assert _values(tmp_path / "kith.db") == sorted([f"ok{n}" for n in range(6)] + ["later"])
    state = await writer.run(lambda db: (db.conn.in_transaction, getattr(db, "deferred", None)))
    assert state == (False, None)
