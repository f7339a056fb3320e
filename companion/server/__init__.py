"""The companion's HTTP API: an aiohttp app built by `init_app()`."""

from .app import init_app

__all__ = ["init_app"]
