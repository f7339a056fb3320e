"""Which addresses are the user's own: the direction of every message and whose "declined" counts.

In order: `--me` on the command line; the email identities of the user's own contact (`is_me`) in
Kith; else what the export itself says (for mail, the most frequent From of sent mail, else the most
frequent Delivered-To; for a calendar, its owner). The report says which was used, as the LinkedIn
importer does, because a wrong guess turns every message around.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlite_utils import Database

from .message import canonical_address


@dataclass
class Me:
    addresses: set[str] = field(default_factory=set)
    how: str = ""

    def __contains__(self, address: str) -> bool:
        return address in self.addresses

    def __bool__(self) -> bool:
        return bool(self.addresses)


def from_options(values: list[str] | tuple[str, ...]) -> Me:
    """--me ADDRESS (any number of times); ValueError names one that is not an email address."""
    me = Me(how="--me")
    for value in values:
        canonical = canonical_address(value)
        if canonical is None:
            raise ValueError(f"--me {value!r} is not an email address")
        me.addresses.add(canonical)
    return me


def from_profile(db: Database) -> Me:
    """The email identities of the user's own contact (contacts.is_me)."""
    rows = db.execute(
        "SELECT i.value FROM identities i JOIN contacts c ON c.id = i.contact_id WHERE c.is_me = 1 AND i.kind = 'email'"
    ).fetchall()
    return Me({value for (value,) in rows}, "your own contact in Kith (is_me)")


def most_frequent(counts: Counter, how: str) -> Me:
    """The clear leader of `counts` (ties are no answer)."""
    top = counts.most_common(2)
    if not top or (len(top) == 2 and top[0][1] == top[1][1]):
        return Me()
    address, n = top[0]
    return Me({address}, f"{how}: {address} ({n} messages)")
