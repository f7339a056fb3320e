"""What an import did: the counts users check, and a reason for every row not imported.

Bulk imports are where people lose contacts silently (monica#1479: 800 in,
600 saved), so every skipped row carries its file, line and reason.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


class ImportFileError(Exception):
    """A file that cannot be read or parsed; nothing is written when this is raised."""

    def __init__(self, path, line: int | None, message: str):
        self.path = str(path)
        self.line = line
        self.message = message
        where = f"{self.path}, line {line}" if line else self.path
        super().__init__(f"{where}: {message}")


@dataclass
class Skip:
    file: str
    line: int | None
    reason: str
    count: int = 1  # one entry may stand for many rows skipped for the same reason


@dataclass
class ImportReport:
    """Counts per outcome. `created`/`updated`/`unchanged` count contacts; `added` counts
    timeline rows (messages, notes, interactions, tags, identities) that were new."""

    source: str
    files: list[str] = field(default_factory=list)
    rows: int = 0
    rows_per_file: dict = field(default_factory=dict)  # when an import reads several files
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    skipped: list[Skip] = field(default_factory=list)
    # Lines inside a file that were not read (a vCard line nobody can parse), the rest of the file was.
    skipped_lines: list[Skip] = field(default_factory=list)
    added: Counter = field(default_factory=Counter)
    present: Counter = field(default_factory=Counter)  # found already stored, not added again
    warnings: list[str] = field(default_factory=list)
    # Values read but not understood (a date, a phone number), by kind; each is kept as text in a note.
    unreadable: Counter = field(default_factory=Counter)
    # Contact ids behind the counts; `finish()` turns them into created/updated/unchanged.
    created_ids: set = field(default_factory=set, repr=False)
    seen_ids: set = field(default_factory=set, repr=False)
    changed_ids: set = field(default_factory=set, repr=False)

    def finish(self) -> "ImportReport":
        self.created = len(self.created_ids)
        self.updated = len(self.changed_ids - self.created_ids)
        self.unchanged = len(self.seen_ids - self.created_ids - self.changed_ids)
        return self

    def skip(self, file, line: int | None, reason: str, count: int = 1) -> None:
        self.skipped.append(Skip(str(file), line, reason, count))

    def skip_line(self, file, line: int | None, reason: str) -> None:
        self.skipped_lines.append(Skip(str(file), line, reason))

    def note_local_phones(self, people) -> None:
        """Say how many phone numbers were kept as written, without a country code."""
        local = sum(1 for p in people for i in p.identities if i["kind"] == "phone" and not i["value"].startswith("+"))
        if local:
            self.warnings.append(
                f"{local} phone numbers have no country code: kept as written; re-run with"
                " --region CC to store them in international form"
            )

    @property
    def skipped_count(self) -> int:
        return sum(s.count for s in self.skipped)

    def to_dict(self) -> dict:
        return {
            "source": self.source,
            "files": self.files,
            "rows": self.rows,
            "rows_per_file": dict(self.rows_per_file),
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "duplicates": self.duplicates,
            "skipped": self.skipped_count,
            "skipped_rows": [
                {"file": s.file, "line": s.line, "reason": s.reason, "count": s.count} for s in self.skipped
            ],
            "skipped_lines": [{"file": s.file, "line": s.line, "reason": s.reason} for s in self.skipped_lines],
            "added": dict(sorted(self.added.items())),
            "already_present": dict(sorted(self.present.items())),
            "warnings": self.warnings,
            "unreadable": dict(sorted((k, n) for k, n in self.unreadable.items() if n)),
        }

    def summary(self) -> str:
        lines = [
            f"{self.source}: {self.rows} rows read from {', '.join(self.files) or '-'}",
            f"  contacts: {self.created} created, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.skipped_count} skipped"
            + (f", {self.duplicates} duplicate rows folded in" if self.duplicates else ""),
        ]
        if len(self.rows_per_file) > 1:
            lines.append("  rows per file: " + ", ".join(f"{f} {n}" for f, n in self.rows_per_file.items()))
        if any(self.added.values()):
            lines.append("  added: " + ", ".join(f"{n} {k}" for k, n in sorted(self.added.items()) if n))
        if any(self.present.values()):
            lines.append("  already present: " + ", ".join(f"{n} {k}" for k, n in sorted(self.present.items()) if n))
        if any(self.unreadable.values()):
            lines.append(
                "  could not read: "
                + ", ".join(
                    f"{n} {kind[:-1] if n == 1 and kind.endswith('s') else kind}"
                    for kind, n in sorted(self.unreadable.items())
                    if n
                )
                + " (kept as text in the contact's notes)"
            )
        lines += [f"  warning: {w}" for w in self.warnings]
        for s in self.skipped:
            where = f"{s.file}, line {s.line}" if s.line else s.file
            many = f" ({s.count} rows)" if s.count > 1 else ""
            lines.append(f"  skipped {where}{many}: {s.reason}")
        for s in self.skipped_lines:
            lines.append(f"  line not read {s.file}, line {s.line}: {s.reason}")
        return "\n".join(lines)
