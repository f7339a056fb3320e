"""`kith serve` puts Datasette's process below the companion for the CPU (`serve.yield_cpu_to_captures`).

Why it matters: under 50 capture writers and 20 Datasette readers on 2 cores, Datasette at nice 10
still took the CPU from the capture path (captures/s 0.66x of writers alone); under SCHED_IDLE
it only uses what the companion leaves (see BENCHMARKS.md). Checked on the real processes.
"""

from __future__ import annotations

import os
import sys

import pytest
from stress.conftest import KithServer, process_tree


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SCHED_IDLE and /proc are Linux's")
def test_datasette_runs_idle_class_and_the_companion_does_not(tmp_path):
    with KithServer(tmp_path / "kith.db", log_path=tmp_path / "serve.log") as server:
        tree = process_tree(server.pid)
        datasette = [pid for pid in tree if "-m companion.serve" in _cmdline(pid)]
        assert len(datasette) == 1, [(pid, _cmdline(pid)) for pid in tree]
        assert os.sched_getscheduler(datasette[0]) == os.SCHED_IDLE
        # Its threads too (the SQL threads Datasette starts inherit the policy).
        for task in os.listdir(f"/proc/{datasette[0]}/task"):
            assert os.sched_getscheduler(int(task)) == os.SCHED_IDLE
        # The companion and its extraction workers keep the normal policy and priority.
        for pid in tree:
            if pid != datasette[0] and pid not in process_tree(datasette[0]):
                assert os.sched_getscheduler(pid) == os.SCHED_OTHER, _cmdline(pid)
                assert os.getpriority(os.PRIO_PROCESS, pid) == os.getpriority(os.PRIO_PROCESS, 0)
        assert server.datasette_ready()
