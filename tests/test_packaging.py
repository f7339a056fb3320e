"""What ships: the extension's manifest asks for no more than it needs, and versions agree."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = json.loads((ROOT / "extension" / "manifest.json").read_text(encoding="utf-8"))


def test_extension_host_permission_is_the_companion_only():
    # The companion is always 127.0.0.1 (extension/lib/settings.js); pages are read through activeTab.
    # The browser tests add their fixture host to a temporary copy, never to this file.
    assert MANIFEST["host_permissions"] == ["http://127.0.0.1/*"]
    assert "<all_urls>" not in MANIFEST.get("permissions", [])


def test_one_version_everywhere():
    """companion/__init__.py holds the version; pyproject reads it; the extension states it too.

    The extension is a separate artifact (it ships to browser stores by itself), so its manifest and
    package.json carry their own copy, which must match the companion it was released with.
    """
    import tomllib
    from importlib.metadata import PackageNotFoundError, version

    from companion import __version__

    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in pyproject["project"] and "version" in pyproject["project"]["dynamic"]
    assert pyproject["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "companion.__version__"}
    package = json.loads((ROOT / "extension" / "package.json").read_text(encoding="utf-8"))
    assert MANIFEST["version"] == package["version"] == __version__
    try:
        installed = version(pyproject["project"]["name"])
    except PackageNotFoundError:  # running from a checkout that was never installed
        installed = __version__
    assert installed == __version__, "the installed metadata is stale: reinstall (make)"
