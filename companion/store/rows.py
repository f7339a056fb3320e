"""One plain INSERT, for the capture path's hot writes."""

from __future__ import annotations

from sqlite_utils import Database


def insert_row(db: Database, table: str, row: dict) -> int:
    """INSERT one row of plain values; returns its rowid.

    The capture path's inserts use this rather than `db[table].insert(row)`: sqlite-utils
    checks the table's existence and columns on every call (a tenth of the writer's time
    under load) for rows whose shape the schema already fixes.
    """
    columns = ", ".join(f"[{c}]" for c in row)
    marks = ", ".join("?" * len(row))
    return db.execute(f"INSERT INTO [{table}] ({columns}) VALUES ({marks})", list(row.values())).lastrowid
