"""The plugin keeps its hooks whatever is imported first: a script or test that imports one of its
helper modules before Datasette must not make Datasette register a half-loaded plugin."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import ROOT

SCRIPT = """
import asyncio, sys
import {first}
from datasette.app import Datasette
from companion.store.db import open_db
path = sys.argv[1]
open_db(path).close()
async def main():
    response = await Datasette([path]).client.get("/-/kith/reconnect.json")
    print(response.status_code)
asyncio.run(main())
"""


@pytest.mark.parametrize(
    "first", ["datasette_plugins.queries", "datasette_plugins.views", "datasette_plugins", "datasette.app"]
)
def test_kith_pages_answer_whatever_was_imported_first(first, tmp_path):
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(first=first), str(tmp_path / "kith.db")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "200"
