"""Draw the Kith toolbar icons (three linked people-dots on a rounded square) as PNGs.

Pure standard library (zlib + struct) so it runs anywhere python3 does:
    python3 tools/make_icons.py   # writes icons/icon-{16,32,48,128}.png
"""

import math
import os
import struct
import zlib

BG = (43, 76, 126)  # deep blue
FG = (255, 255, 255)
NODES = [(0.32, 0.36), (0.70, 0.30), (0.52, 0.72)]  # in unit square
EDGES = [(0, 1), (1, 2), (2, 0)]


def seg_dist(px, py, ax, ay, bx, by):
    dx, dy = bx - ax, by - ay
    t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
    return math.hypot(px - (ax + t * dx), py - (ay + t * dy))


def coverage(x, y):
    """Return (alpha of the rounded square, is-foreground) for a point in [0,1]^2."""
    r = 0.22
    cx, cy = min(max(x, r), 1 - r), min(max(y, r), 1 - r)
    inside = math.hypot(x - cx, y - cy) <= r
    fg = any(math.hypot(x - nx, y - ny) <= 0.115 for nx, ny in NODES) or any(
        seg_dist(x, y, *NODES[a], *NODES[b]) <= 0.035 for a, b in EDGES
    )
    return inside, fg


def render(size, ss=4):
    rows = []
    for j in range(size):
        row = bytearray([0])  # filter type 0
        for i in range(size):
            a = f = 0
            for sj in range(ss):
                for si in range(ss):
                    inside, fg = coverage((i + (si + 0.5) / ss) / size, (j + (sj + 0.5) / ss) / size)
                    a += inside
                    f += inside and fg
            n = ss * ss
            if a == 0:
                row += bytes(4)
                continue
            w = f / a
            rgb = [round(BG[k] * (1 - w) + FG[k] * w) for k in range(3)]
            row += bytes(rgb + [round(255 * a / n)])
        rows.append(bytes(row))
    return b"".join(rows)


def png(size):
    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(render(size), 9))
        + chunk(b"IEND", b"")
    )


if __name__ == "__main__":
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "icons")
    os.makedirs(out, exist_ok=True)
    for s in (16, 32, 48, 128):
        with open(os.path.join(out, f"icon-{s}.png"), "wb") as fh:
            fh.write(png(s))
