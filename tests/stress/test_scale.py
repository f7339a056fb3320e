"""Scale suite: the Datasette page timings (scripts/bench_datasette.run) on demo databases of growing size,
with the file size, and whether the timings grow linearly with the network or better.

Quick form (`make test`): a 2,000-contact smoke run. Full form (`KITH_STRESS=1`): 10k and 100k contacts
(10 messages and 3 notes per contact: 100k contacts = 1M messages, 300k notes). 1M contacts only with
`KITH_SCALE_1M=1` as well (about 10M messages; takes long and several GB of disk).
The 10k/100k/1M databases are generated once into bench-data/ (git-ignored), shared with `make bench`.
"""

from __future__ import annotations

import math
import sys
import time

from .conftest import ROOT, SCALE_1M, STRESS, integrity_check, report

sys.path.insert(0, str(ROOT / "scripts"))

import bench  # noqa: E402  (scripts/bench.py: the cached demo databases)
import bench_datasette  # noqa: E402

SIZES = ([10_000, 100_000] + ([1_000_000] if SCALE_1M else [])) if STRESS else [2_000]
RUNS = 10 if STRESS else 3


def _measure(contacts: int, tmp_path) -> dict:
    if STRESS:
        path, generated = bench.demo_db(contacts, log=lambda msg: print(msg, file=sys.stderr))
    else:
        t0 = time.perf_counter()
        path, _ = bench.demo_db(contacts, cache_dir=tmp_path, log=lambda msg: None)
        generated = time.perf_counter() - t0
    t0 = time.perf_counter()
    rows = bench_datasette.run(path, runs=RUNS, contacts=contacts)
    return {
        "contacts": contacts,
        "db_mb": round(path.stat().st_size / 1e6, 1),
        "generated_s": None if generated is None else round(generated, 1),
        "bench_s": round(time.perf_counter() - t0, 1),
        "path": path,
        "pages": {r["name"].split(" (")[0]: r for r in rows},
    }


def _growth(small: dict, large: dict) -> dict:
    """Per page: how much slower at the larger size, against how much larger the network is.
    The exponent k in time ∝ size^k: k ≈ 1 is linear, k < 1 better than linear."""
    size_ratio = large["contacts"] / small["contacts"]
    out = {}
    for page, row in large["pages"].items():
        before = small["pages"].get(page)
        if not before or not before["figure_ms"]:
            continue
        factor = row["figure_ms"] / before["figure_ms"]
        k = math.log(max(factor, 1e-9)) / math.log(size_ratio)
        out[page] = {
            "ms": (before["figure_ms"], row["figure_ms"]),
            "factor": round(factor, 2),
            "exponent": round(k, 2),
            "verdict": "sublinear (better than linear)" if k < 0.85 else "about linear" if k <= 1.15 else "superlinear",
        }
    return out


def test_datasette_pages_as_the_network_grows(tmp_path):
    results = [_measure(n, tmp_path) for n in SIZES]
    for result in results:
        assert len(result["pages"]) == 4, result["pages"]  # search, contact page, reconnect, network.json
        assert integrity_check(result["path"]) == "ok"
    sizes = {r["contacts"]: r["db_mb"] for r in results}
    numbers = {"sizes": [{k: v for k, v in r.items() if k != "path"} for r in results], "db_mb": sizes}
    if len(results) > 1:
        growth = {f"{a['contacts']}->{b['contacts']}": _growth(a, b) for a, b in zip(results, results[1:])}
        numbers["growth"] = growth
        first, last = results[0], results[-1]
        numbers["file_growth_factor"] = round(last["db_mb"] / first["db_mb"], 2)
        numbers["size_factor"] = last["contacts"] / first["contacts"]
        # The file holds the rows: it grows with them, never faster than linearly (+ slack for page rounding).
        assert last["db_mb"] / first["db_mb"] <= 1.3 * last["contacts"] / first["contacts"]
    report("scale", numbers)
