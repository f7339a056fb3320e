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
