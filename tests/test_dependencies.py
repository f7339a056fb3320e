"""Honest dependencies: what the code imports is declared in pyproject.toml, and what is declared is used.

Imports are read with `ast` (every `import` anywhere in a file, lazy ones included) from the shipped
packages (`companion/`, `datasette_plugins/`), `scripts/` and `tests/`. An import's distribution comes
from the installed metadata (`importlib.metadata.packages_distributions`, e.g. bs4 -> beautifulsoup4),
so the map cannot go stale. Rules:

- the shipped packages may import only declared runtime dependencies;
- scripts and tests may also import the `test` extra;
- every runtime dependency is imported by the shipped packages, or is named in `USED_BY_NAME`
  (a parser handed to another library by name), where the name must really appear;
- every `test` extra is imported by scripts or tests, or named in `TOOLS` with where it is used.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from functools import cache
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
SHIPPED = ("companion", "datasette_plugins")

# Our own modules: the packages, and what scripts/ and tests/ import from beside themselves.
FIRST_PARTY = {*SHIPPED, "conftest", "browser", "stress"}
FIRST_PARTY |= {p.stem for p in (ROOT / "scripts").glob("*.py")} | {p.stem for p in (ROOT / "tests").glob("*.py")}

# Runtime dependencies used by name, not by import: (file, the exact text that uses it).
USED_BY_NAME = {
    "html5lib": ("companion/extract/microformats.py", '"html5lib"'),  # mf2py's parser for small pages
    "lxml": ("companion/extract/fragment.py", 'BeautifulSoup(html, "lxml")'),  # BeautifulSoup's parser
}
# Test extras that are tools or pytest plugins rather than imports: (file, the text that uses it).
TOOLS = {
    "pytest-aiohttp": ("tests/conftest.py", "aiohttp_client"),  # its fixture serves the API in tests
    "ruff": ("Makefile", "ruff check"),  # the linter `make test` runs
}


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_names(requirements: list[str]) -> set[str]:
    return {normalise(re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", r.strip()).group(0)) for r in requirements}


RUNTIME = requirement_names(PYPROJECT["project"]["dependencies"])
TEST = requirement_names(PYPROJECT["project"]["optional-dependencies"]["test"])


def python_files(*dirs: str) -> list[Path]:
    return sorted(p for d in dirs for p in (ROOT / d).rglob("*.py") if "node_modules" not in p.parts)


def top_level_imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@cache
def distributions() -> dict[str, list[str]]:
    return packages_distributions()


def third_party(dirs: tuple[str, ...]) -> dict[str, set[str]]:
    """Distribution (normalised) -> files importing it; unknown modules map to `?module`."""
    found: dict[str, set[str]] = {}
    for path in python_files(*dirs):
        for module in top_level_imports(path) - FIRST_PARTY - set(sys.stdlib_module_names) - {"__future__"}:
            dists = distributions().get(module) or [f"?{module}"]
            for dist in dists:
                found.setdefault(normalise(dist), set()).add(str(path.relative_to(ROOT)))
    return found


def test_shipped_code_imports_only_declared_runtime_dependencies():
    undeclared = {d: sorted(f) for d, f in third_party(SHIPPED).items() if d not in RUNTIME}
    assert not undeclared, f"imported but not in [project].dependencies: {undeclared}"


def test_scripts_and_tests_import_only_declared_dependencies():
    undeclared = {d: sorted(f) for d, f in third_party(("scripts", "tests")).items() if d not in RUNTIME | TEST}
    assert not undeclared, f"imported but not declared (runtime or the test extra): {undeclared}"


def test_every_runtime_dependency_is_used():
    imported = set(third_party(SHIPPED))
    for dist, (file, text) in USED_BY_NAME.items():
        assert text in (ROOT / file).read_text(encoding="utf-8"), f"{dist}: {text!r} is no longer in {file}"
    unused = RUNTIME - imported - set(USED_BY_NAME)
    assert not unused, f"declared runtime dependencies that nothing in {SHIPPED} imports: {sorted(unused)}"


def test_every_test_extra_is_used():
    imported = set(third_party(("scripts", "tests")))
    for dist, (file, text) in TOOLS.items():
        assert text in (ROOT / file).read_text(encoding="utf-8"), f"{dist}: {text!r} is no longer in {file}"
    unused = TEST - imported - set(TOOLS)
    assert not unused, f"test extras that no script or test uses: {sorted(unused)}"


def test_the_known_import_names_map_to_their_distributions():
    # The mapping comes from installed metadata; these are the ones whose names differ.
    assert "beautifulsoup4" in map(normalise, distributions()["bs4"])
    assert "email-validator" in map(normalise, distributions()["email_validator"])
    assert "sqlite-utils" in map(normalise, distributions()["sqlite_utils"])
