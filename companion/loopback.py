"""Which Host and Origin values a Kith server on 127.0.0.1 answers to: one list for both servers.

DNS rebinding turns any web page into a same-origin client of a loopback server: the page's
own name is re-pointed at 127.0.0.1, so the browser sends `Host: evil.example:PORT`. Pinning
Host to the loopback names with the served port refuses those requests before any work. The
companion API (aiohttp) and Datasette (through the plugin's ASGI gate) both use this module, so
the two servers can never disagree about what is local.
"""

from __future__ import annotations

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")

# Sent with every answer of both servers: no page may frame Kith (clickjacking a form), and
# browsers must not guess content types or leak Kith URLs to other sites.
SECURITY_HEADERS = {
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def allowed_hosts(port: int | None, extra: tuple[str, ...] | list[str] = ()) -> set[str]:
    """Host header values (lowercase) accepted for a server on `port`.

    Without a port in the header a browser means the scheme's default, so bare names are only
    accepted for a server that really is on port 80 (or when the port is unknown).
    """
    hosts = {f"{name}:{port}" for name in LOOPBACK_NAMES} if port else set()
    if port in (None, 80):
        hosts.update(LOOPBACK_NAMES)
    hosts.update(h.lower() for h in extra)
    return hosts


def host_allowed(host_header: str | None, port: int | None, extra=()) -> bool:
    return (host_header or "").strip().lower() in allowed_hosts(port, extra)


def same_origin(origin: str | None, host_header: str | None, scheme: str = "http") -> bool:
    """An Origin header names the page's own server (the Host already checked) or is absent.

    Browsers send `Origin: null` from sandboxed frames, `file:` pages and some redirects: never ours.
    """
    if origin is None:
        return True
    return origin.strip().lower() == f"{scheme}://{(host_header or '').strip().lower()}"


def cross_site_fetch(sec_fetch_site: str | None) -> bool:
    """True when the browser says the request came from another site (`same-site` included:
    another port on localhost is another site to Kith)."""
    return (sec_fetch_site or "").strip().lower() in ("cross-site", "same-site")
