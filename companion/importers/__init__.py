"""Bringing a network in: LinkedIn data exports, vCards and contact CSVs.

Each format is read whole into plain records before anything is written, so a file that cannot be
read at all is refused with the database untouched (a vCard line nothing can read is skipped and
reported, the rest of the file kept): `linkedin.load_export`, `vcard.load_vcards`, `csv_generic.load_csv`.
Then one transaction saves them: `save.save_loaded` for vCards and CSVs; for a LinkedIn export,
`linkedin.save_export` inside `people.import_transaction`, once `linkedin.find_me` knows who "me" is
(`linkedin.import_linkedin` does all of that in one call). Every path ends in the batch saver in `people.py`, which resolves identities
exactly as captures do.
"""

from .report import ImportFileError, ImportReport

__all__ = ["ImportFileError", "ImportReport"]
