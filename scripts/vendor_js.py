#!/usr/bin/env python3
"""Re-vendor the graph library into datasette_plugins/static/vendor/.

Kith works offline, so the network page never loads JavaScript from a CDN.
This fetches the pinned cytoscape release with `npm pack` (the registry
tarball, no install scripts run), and copies its minified build and licence.

    python scripts/vendor_js.py            # the pinned version
    python scripts/vendor_js.py 3.35.0     # another version
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

PACKAGE = "cytoscape"
VERSION = "3.35.0"
FILES = {  # path inside the npm tarball -> name in static/vendor/
    "package/dist/cytoscape.min.js": "cytoscape.min.js",
    "package/LICENSE": "cytoscape.LICENSE.txt",
}
VENDOR = Path(__file__).resolve().parents[1] / "datasette_plugins" / "static" / "vendor"


def vendor(version: str = VERSION, dest: Path = VENDOR) -> list[Path]:
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        out = (
            subprocess.run(
                ["npm", "pack", f"{PACKAGE}@{version}", "--silent"], cwd=tmp, check=True, capture_output=True, text=True
            )
            .stdout.strip()
            .splitlines()
        )
        tarball = Path(tmp) / out[-1]
        written = []
        with tarfile.open(tarball) as tar:
            for member, name in FILES.items():
                source = tar.extractfile(member)
                if source is None:
                    raise SystemExit(f"{member} missing from {tarball.name}")
                target = dest / name
                with source, open(target, "wb") as fh:
                    shutil.copyfileobj(source, fh)
                written.append(target)
    (dest / "VERSIONS.txt").write_text(f"{PACKAGE} {version} (npm pack)\n")
    return written


if __name__ == "__main__":
    for path in vendor(*sys.argv[1:2]):
        print(path)
