"""Bringing a network in: LinkedIn data exports, vCards and contact CSVs.

Each format has a reader that parses the whole file into plain records first
(so a broken file is refused before anything is written) and an `import_*`
function that saves the records in one transaction through the shared batch
saver in `people.py`, which resolves identities exactly as captures do.
"""

from .report import ImportFileError, ImportReport

__all__ = ["ImportFileError", "ImportReport"]
