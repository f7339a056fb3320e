"""Kith: a local-first personal network. The companion server, store and CLI."""

__version__ = "0.1.0"
