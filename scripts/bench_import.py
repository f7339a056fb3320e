"""Import speed, measured against a bare `sqlite3` executemany of the same rows in the same run.

Machines differ and this one is shared, so each figure comes with a reference
taken moments apart on the same machine: parse the same CSV with the csv
module and executemany its rows into a plain table in one transaction. The
ratio is what to watch; the aim is 30,000 connections (LinkedIn's maximum)
in under 3 s.

    .venv/bin/python scripts/bench_import.py
    .venv/bin/python scripts/bench_import.py --phases   # where the 30k clustered import's time goes
"""

from __future__ import annotations

import csv
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from companion.demo import FIRST_NAMES, FUNCTIONS, LAST_NAMES, _zipf, company_names  # noqa: E402
from companion.importers.linkedin import import_linkedin  # noqa: E402
from companion.store.db import open_db  # noqa: E402

CONNECTIONS = 30_000
MESSAGES = 100_000
ME = ("Sam Rivera", "https://www.linkedin.com/in/sam-rivera")
PREAMBLE = (
    'Notes:\n"When exporting your connection data, you may notice that some of the email addresses are missing."\n\n'
)
MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


def _connection_row(rng: random.Random, first: str, last: str, url: str, email: str, companies, weights) -> list:
    """One Connections.csv row: the company Zipf-drawn, a function and a date."""
    return [
        first,
        last,
        url,
        email,
        rng.choices(companies, cum_weights=weights)[0],
        rng.choice(FUNCTIONS),
        f"{rng.randint(1, 28):02d} {rng.choice(MONTHS)} {rng.randint(2008, 2024)}",
    ]


def write_connections(path: Path, n: int, seed: int = 1) -> list[tuple[str, str]]:
    """A realistic Connections.csv (preamble, Zipf companies, few emails); returns (name, url) per row."""
    rng = random.Random(seed)
    companies = company_names(rng)
    weights = _zipf(len(companies), 1.0)
    people = []
    with open(path, "w", newline="", encoding="utf-8") as f:
        f.write(PREAMBLE)
        w = csv.writer(f)
        w.writerow(["First Name", "Last Name", "URL", "Email Address", "Company", "Position", "Connected On"])
        for i in range(n):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            url = f"https://www.linkedin.com/in/{first.lower()}-{last.lower()}-{i:x}".replace(" ", "-")
            email = f"{first.lower()}.{i}@example.com" if rng.random() < 0.1 else ""
            w.writerow(_connection_row(rng, first, last, url, email, companies, weights))
            people.append((f"{first} {last}", url))
    return people


def write_clustered_connections(path: Path, n: int, seed: int = 1) -> list[tuple[str, str]]:
    """A Connections.csv clustered the way real networks are: first and last names from small pools
    (so many people share a name), employers Zipf-sized (thousands at the biggest few), about 4 %
    of rows without a URL (LinkedIn leaves it out for some members), the URL shapes LinkedIn
    exports (with and without a trailing slash or `www.`, a few `http:`), few emails, and a few
    people listed twice (the same URL on two rows). Returns (name, url) per row."""
    rng = random.Random(seed)
    firsts, lasts = FIRST_NAMES[:60], LAST_NAMES[:80]
    companies = company_names(rng) + [
        f"{c} {suffix}" for c in company_names(random.Random(seed + 1))[:200] for suffix in ("Group", "Labs")
    ]
    weights = _zipf(len(companies), 1.15)
    people: list[tuple[str, str]] = []
    with open(path, "w", newline="", encoding="utf-8") as f:
        f.write(PREAMBLE)
        w = csv.writer(f)
        w.writerow(["First Name", "Last Name", "URL", "Email Address", "Company", "Position", "Connected On"])
        for i in range(n):
            if people and rng.random() < 0.005:  # listed twice
                name, url = rng.choice(people)
                first, _, last = name.partition(" ")
            else:
                first, last = rng.choice(firsts), rng.choice(lasts)
                slug = f"{first.lower()}-{last.lower()}".replace(" ", "-")
                shape = rng.random()
                if shape < 0.04:
                    url = ""
                elif shape < 0.70:
                    url = f"https://www.linkedin.com/in/{slug}-{rng.randrange(16**8):08x}"
                elif shape < 0.90:
                    url = f"https://www.linkedin.com/in/{slug}{rng.randrange(1000)}/"
                elif shape < 0.97:
                    url = f"https://linkedin.com/in/{slug}-{i}"
                else:
                    url = f"http://www.linkedin.com/in/{slug}-{i:x}/"
            email = f"{first.lower()}.{last.lower()}{i}@example.com".replace(" ", "") if rng.random() < 0.03 else ""
            w.writerow(_connection_row(rng, first, last, url, email, companies, weights))
            people.append((f"{first} {last}", url))
    return people


def write_messages(path: Path, people: list[tuple[str, str]], n: int, seed: int = 2) -> None:
    rng = random.Random(seed)
    weights = _zipf(len(people), 0.9)
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(
            [
                "CONVERSATION ID",
                "CONVERSATION TITLE",
                "FROM",
                "SENDER PROFILE URL",
                "TO",
                "RECIPIENT PROFILE URLS",
                "DATE",
                "SUBJECT",
                "CONTENT",
                "FOLDER",
            ]
        )
        for i, (name, url) in enumerate(rng.choices(people, cum_weights=weights, k=n)):
            them, me = (name, url), ME
            sender, recipient = (me, them) if rng.random() < 0.5 else (them, me)
            w.writerow(
                [
                    f"2-{zlib.crc32(url.encode()):08x}",
                    "",
                    sender[0],
                    sender[1],
                    recipient[0],
                    recipient[1],
                    f"20{rng.randint(15, 24)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} "
                    f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{i % 60:02d} UTC",
                    "",
                    f"Message {i}: thanks for the chat about {rng.choice(FUNCTIONS)} roles, talk soon!",
                    "INBOX",
                ]
            )


def bare_executemany(csv_path: Path, db_path: Path, skip: int = 0) -> float:
    """The reference: csv.reader + one executemany into a plain table, one commit."""
    started = time.perf_counter()
    conn = sqlite3.connect(db_path)
    with open(csv_path, newline="", encoding="utf-8") as f:
        for _ in range(skip):
            f.readline()
        rows = list(csv.reader(f))
    header, rows = rows[0], rows[1:]
    conn.execute(f"CREATE TABLE t ({', '.join(f'c{i} TEXT' for i in range(len(header)))})")
    with conn:
        conn.executemany(f"INSERT INTO t VALUES ({', '.join('?' * len(header))})", rows)
    conn.close()
    return time.perf_counter() - started


def timed(fn) -> tuple[float, float]:
    """(wall, cpu) seconds."""
    started, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - started, time.process_time() - cpu


def row(name: str, figure: tuple[float, float], reference: float, target: str) -> dict:
    return {
        "name": name,
        "figure_ms": round(figure[0] * 1000, 1),
        "reference_ms": round(reference * 1000, 1),
        "ratio": round(figure[0] / reference, 1) if reference else None,
        "target": target,
        "figure_cpu_ms": round(figure[1] * 1000, 1),
        "note": f"best of runs; CPU {figure[1] * 1000:,.0f} ms; reference: csv.reader + one executemany "
        "into a plain table",
    }


def best(trials: list[tuple[float, float]]) -> tuple[float, float]:
    """The fastest of a few runs, as timeit does: this machine is shared, noise only adds time."""
    return min(trials)


CLUSTERED_SIZES = (10_000, 30_000, 100_000)
HEADLINE = 30_000


def _command(args: list[str]) -> float:
    """Wall seconds of a command, start to exit (Python start-up and imports included)."""
    started = time.perf_counter()
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def _storage_floor(imported: Path, target: Path) -> float:
    """Wall seconds of `scripts/storage_floor.py` writing what `imported` holds into a new Kith
    database whose schema is made first (outside the timing)."""
    import storage_floor

    rows = target.with_suffix(".pickle")
    counts = storage_floor.dump_rows(str(imported), str(rows))
    open_db(target).close()
    took = _command([sys.executable, str(Path(__file__).with_name("storage_floor.py")), str(rows), str(target)])
    check = sqlite3.connect(target)
    stored = {table: check.execute(f"SELECT count(*) FROM [{table}]").fetchone()[0] for table in counts}
    searchable = check.execute("SELECT count(*) FROM contacts_fts").fetchone()[0]
    check.close()
    assert stored == counts and searchable == counts["contacts"], (stored, counts, searchable)
    return took


def _command_row(name: str, seconds: float, reference_s: float, target: str, note: str) -> dict:
    return {
        "name": name,
        "figure_ms": round(seconds * 1000, 1),
        "reference_ms": round(reference_s * 1000, 1),
        "ratio": round(seconds / reference_s, 2),
        "target": target,
        "note": note,
    }


def run_clustered(sizes=CLUSTERED_SIZES, repeat: int = 3) -> list[dict]:
    """The headline: `kith import linkedin` of a clustered Connections.csv as a command, against
    `sqlite-utils insert db t Connections.csv --csv` of the same file (what a Datasette user would
    run instead), alternately, best of `repeat`; then the growth with the file's size."""
    bindir = Path(sys.executable).parent
    kith, sqlite_utils = str(bindir / "kith"), str(bindir / "sqlite-utils")
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        per_size, floors = {}, []
        for n in sizes:
            folder = tmp / f"c{n}"
            folder.mkdir()
            write_clustered_connections(folder / "Connections.csv", n)
            trials, refs = [], []
            for r in range(repeat if n == HEADLINE else 1):
                trials.append(
                    _command(
                        [kith, "import", "linkedin", "--db", str(folder / f"k{r}.db"), str(folder / "Connections.csv")]
                    )
                )
                if n == HEADLINE:
                    floors.append(_storage_floor(folder / f"k{r}.db", folder / f"floor{r}.db"))
                refs.append(
                    _command(
                        [
                            sqlite_utils,
                            "insert",
                            str(folder / f"s{r}.db"),
                            "t",
                            str(folder / "Connections.csv"),
                            "--csv",
                        ]
                    )
                )
            per_size[n] = (min(trials), min(refs))
        kith_s, ref_s = per_size[HEADLINE]
        out.append(
            _command_row(
                f"kith import linkedin, clustered {HEADLINE:,} rows (command)",
                kith_s,
                ref_s,
                "≤ 0.5× sqlite-utils",
                f"end to end as commands, best of {repeat}, alternating; reference: `sqlite-utils insert "
                "db t Connections.csv --csv` of the same file",
            )
        )
        floor_s = min(floors)
        out.append(
            _command_row(
                f"storage floor: the same rows written by bare sqlite3, clustered {HEADLINE:,} (command)",
                floor_s,
                ref_s,
                "reported: no import of these rows can be quicker",
                f"scripts/storage_floor.py, best of {repeat}: the import's contacts, identities, interactions "
                f"and suggestions into the same schema, no Kith code; kith import is {kith_s / floor_s:.1f}× this",
            )
        )
        base = sizes[0]
        for n in sizes:
            if n == HEADLINE:
                continue
            kith_n, ref_n = per_size[n]
            growth = (kith_n / per_size[base][0]) / (n / base)
            out.append(
                _command_row(
                    f"kith import linkedin, clustered {n:,} rows (command)",
                    kith_n,
                    ref_n,
                    "growth: linear or better",
                    f"one run; time per row relative to {base:,} rows: {growth:.2f}",
                )
            )
    return out


def phases(n: int = HEADLINE, repeat: int = 3) -> dict[str, float]:
    """Wall milliseconds of each step of one clustered import, in process and without a profiler
    (cProfile doubles the Python-heavy steps), best of `repeat`. Start-up and imports are the
    command's: `kith --help` (the CLI alone) and the import's own modules."""
    from companion.importers import linkedin, people, save
    from companion.importers.people import import_transaction

    best: dict[str, float] = {}

    def timing(module, name: str, label: str, spent: dict) -> Callable[[], None]:
        original = getattr(module, name)

        def timed_call(*args, **kwargs):
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                spent[label] = spent.get(label, 0.0) + time.perf_counter() - started

        setattr(module, name, timed_call)
        return lambda: setattr(module, name, original)

    def command(args: list[str]) -> float:
        return min(_command(args) for _ in range(repeat))

    bindir = Path(sys.executable).parent
    best["kith --help (start-up, CLI)"] = command([str(bindir / "kith"), "--help"])
    best["python -c 'import the importer and store'"] = command(
        [sys.executable, "-c", "import companion.cli, companion.importers.linkedin, companion.store.db"]
    )
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        write_clustered_connections(tmp / "Connections.csv", n)
        for r in range(repeat):
            spent: dict[str, float] = {}
            restore = [
                timing(people, "_insert_contacts", "save_people: contacts insert (rows, indexes, search)", spent),
                timing(people, "suggest_similar_batch", "save_people: merge suggestions", spent),
                timing(save, "save_people", "save_people (all)", spent),
                timing(save, "save_interactions", "interactions", spent),
            ]
            try:
                started = time.perf_counter()
                db = open_db(tmp / f"p{r}.db")
                spent["open the store"] = time.perf_counter() - started
                started = time.perf_counter()
                export = linkedin.load_export(tmp / "Connections.csv")
                spent["load_export (CSV, keys)"] = time.perf_counter() - started
                started = time.perf_counter()
                with import_transaction(db):
                    linkedin.save_export(db, export, linkedin.find_me(db, export))
                    spent["save_export (before commit)"] = time.perf_counter() - started
                spent["commit"] = time.perf_counter() - started - spent["save_export (before commit)"]
                db.close()
            finally:
                for undo in restore:
                    undo()
            inner = ("save_people: contacts insert (rows, indexes, search)", "save_people: merge suggestions")
            spent["save_people: the rest (resolving, identities)"] = spent["save_people (all)"] - sum(
                spent[k] for k in inner
            )
            for key, value in spent.items():
                best[key] = min(best.get(key, value), value)
    return {key: round(value * 1000, 1) for key, value in best.items()}


def run(repeat: int = 3) -> list[dict]:
    """Each figure and its reference are the best of `repeat` runs, taken alternately."""
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        export = tmp / "export"
        export.mkdir()
        people = write_connections(export / "Connections.csv", CONNECTIONS)
        write_messages(tmp / "messages.csv", people, MESSAGES)
        connections, again, messages, ref_connections, ref_messages = [], [], [], [], []
        for n in range(repeat):
            db = open_db(tmp / f"kith{n}.db")
            connections.append(timed(lambda: import_linkedin(db, export / "Connections.csv")))
            ref_connections.append(bare_executemany(export / "Connections.csv", tmp / f"ref1-{n}.db", skip=3))
            again.append(timed(lambda: import_linkedin(db, export / "Connections.csv")))
            messages.append(timed(lambda: import_linkedin(db, tmp / "messages.csv", me_url=ME[1])))
            ref_messages.append(bare_executemany(tmp / "messages.csv", tmp / f"ref2-{n}.db"))
            db.close()
        return [
            row(f"import linkedin {CONNECTIONS} connections", best(connections), min(ref_connections), "< 3 s"),
            row(f"re-import {CONNECTIONS} connections (no change)", best(again), min(ref_connections), "reported"),
            row(f"import linkedin {MESSAGES} messages", best(messages), min(ref_messages), "reported"),
        ]


def main() -> None:
    if "--phases" in sys.argv:
        for name, ms in phases().items():
            print(f"{name}: {ms} ms")
        return
    print("name, figure_ms, reference_ms, ratio")
    for r in run_clustered() + run():
        print(f"{r['name']}, {r['figure_ms']}, {r['reference_ms']}, {r['ratio']}")


if __name__ == "__main__":
    main()
