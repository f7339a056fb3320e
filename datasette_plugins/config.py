"""Kith's plugin configuration, read the Datasette way: `datasette.plugin_config("kith")`.

On Datasette 1.0 it is the `plugins: kith:` block of datasette.yaml (`datasette -c`),
on 0.65 the same block in metadata (`datasette -m`). Every key is optional:

    database: kith        # the database with Kith's tables; default: the first one served
    forms: true           # true: the contact forms for whoever Datasette lets write
                          #   (insert-row / update-row on the table the form writes)
                          # anyone: for anyone who may view the Kith pages: one local user
                          #   (what `kith serve` sets)
                          # false: no forms, and form posts are refused
    weekly_capacity: 10   # the reconnect queue's weekly capacity
    cadence_days:         # keep-in-touch defaults per circle, in days (null: never due)
      professional: 90
      personal: 30
      both: 60
    home: datasette       # what / opens: datasette (its own index) or today (Kith's Today page;
                          #   what `kith serve` sets); Datasette's index is always at /-/kith/datasette

Capacity and cadences are defaults: a value the user saved in Kith's `settings`
table (`reconnect.weekly_capacity`, `cadence.<circle>`) still wins. Keys Kith does
not know are left alone (other parts of Kith, or later versions, may read them).
"""

from __future__ import annotations

import re
import time
import weakref
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping

from datasette.utils import StartupError

from .queries import DEFAULT_CADENCE, DEFAULT_WEEKLY_CAPACITY

PLUGIN = "kith"
FORMS_DATASETTE = "datasette"  # `forms: true`: Datasette's write permissions decide
FORMS_ANYONE = "anyone"
FORMS_OFF = "off"  # `forms: false`
HOME_DATASETTE = "datasette"
HOME_TODAY = "today"
HOMES = (HOME_DATASETTE, HOME_TODAY)


class ConfigError(StartupError):
    """A bad `plugins: kith:` block; raised from the startup hook, so Datasette stops with it."""


@dataclass(frozen=True)
class KithConfig:
    database: str | None = None
    forms: str = FORMS_DATASETTE
    weekly_capacity: int = DEFAULT_WEEKLY_CAPACITY
    cadence_days: Mapping[str, int | None] = field(default_factory=lambda: MappingProxyType(dict(DEFAULT_CADENCE)))
    home: str = HOME_DATASETTE


def _positive_int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"plugins.kith.{where} must be a whole number of at least 1, not {value!r}")
    return value


def parse(raw: Any) -> KithConfig:
    """The checked configuration; None (no block) gives the defaults."""
    if raw is None:
        return KithConfig()
    if not isinstance(raw, dict):
        raise ConfigError(f"plugins.kith must be a mapping, not {raw!r}")
    database = raw.get("database")
    if database is not None and (not isinstance(database, str) or not database):
        raise ConfigError(f"plugins.kith.database must be a database name, not {database!r}")
    forms = raw.get("forms", True)
    if forms is True:
        forms = FORMS_DATASETTE
    elif forms is False:
        forms = FORMS_OFF
    elif forms != FORMS_ANYONE:
        raise ConfigError(f"plugins.kith.forms must be true, false or {FORMS_ANYONE!r}, not {forms!r}")
    capacity = raw.get("weekly_capacity")
    capacity = DEFAULT_WEEKLY_CAPACITY if capacity is None else _positive_int(capacity, "weekly_capacity")
    cadence = dict(DEFAULT_CADENCE)
    given = raw.get("cadence_days") or {}
    if not isinstance(given, dict):
        raise ConfigError(f"plugins.kith.cadence_days must map circles to days, not {given!r}")
    for circle, days in given.items():
        if circle not in DEFAULT_CADENCE:
            raise ConfigError(
                f"plugins.kith.cadence_days: unknown circle {circle!r} (circles: {', '.join(DEFAULT_CADENCE)})"
            )
        cadence[circle] = None if days is None else _positive_int(days, f"cadence_days.{circle}")
    home = raw.get("home", HOME_DATASETTE)
    if home not in HOMES:
        raise ConfigError(f"plugins.kith.home must be {' or '.join(HOMES)}, not {home!r}")
    return KithConfig(
        database=database, forms=forms, weekly_capacity=capacity, cadence_days=MappingProxyType(cadence), home=home
    )


_READ: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
REREAD_SECONDS = 1.0


def get(datasette) -> KithConfig:
    """This Datasette's Kith configuration, read again at most once a second: `render_cell`
    asks for it for every cell of a table page, and on 0.65 reading it calls a hook."""
    now = time.monotonic()
    cached = _READ.get(datasette)
    if cached is not None and now - cached[1] < REREAD_SECONDS:
        return cached[0]
    parsed = parse(datasette.plugin_config(PLUGIN))
    _READ[datasette] = (parsed, now)
    return parsed


def takes_config(version: str | None = None) -> bool:
    """Whether this Datasette reads plugin settings from `config=` (datasette.yaml): 1.0a8 and
    later. (Not read off the signature: Datasette's pytest plugin wraps `__init__`.)"""
    if version is None:
        from datasette.version import __version__ as version
    match = re.match(r"(\d+)\.(\d+)(?:a(\d+))?", version)
    if not match:
        return True
    major, minor, alpha = int(match[1]), int(match[2]), match[3]
    if (major, minor) != (1, 0) or alpha is None:
        return major >= 1
    return int(alpha) >= 8


def datasette_kwargs(plugin_config: dict) -> dict:
    """`Datasette(...)` keyword arguments carrying a `plugins: kith:` block on either line:
    `config=` (datasette.yaml) on 1.0, `metadata=` on 0.65."""
    return {"config" if takes_config() else "metadata": {"plugins": {PLUGIN: dict(plugin_config)}}}
