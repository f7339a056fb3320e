"""The storage floor of an import: SQLite's own work to store rows already computed.

`bench_import` runs this as a command on rows it read back from a finished
`kith import`: the same contacts, identities, interactions and merge
suggestions, written into a new Kith database of the same shape (its schema
made beforehand, outside the timing), with every bulk shortcut the importer
has and a few it does not: only the columns that hold a value, the table's
secondary indexes and search trigger dropped and rebuilt after, the search
index filled with one INSERT … SELECT, one transaction. The only Python is
start-up, `sqlite3` and unpickling the rows, so no import that writes the same
rows to the same schema can take less.

    python scripts/storage_floor.py ROWS.pickle TARGET.db

Only the standard library: the figure must not include Kith's own imports.
"""

from __future__ import annotations

import pickle
import sqlite3
import sys

TABLES = ("contacts", "identities", "interactions", "merge_suggestions")


def dump_rows(source_db: str, out_path: str) -> dict[str, int]:
    """Pickle the rows of `TABLES` (only their non-empty columns); returns the row counts."""
    conn = sqlite3.connect(source_db)
    data = {}
    for table in TABLES:
        cursor = conn.execute(f"SELECT * FROM [{table}]")
        columns = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
        keep = [i for i in range(len(columns)) if any(r[i] is not None for r in rows)]
        data[table] = ([columns[i] for i in keep], [tuple(r[i] for i in keep) for r in rows])
    conn.close()
    with open(out_path, "wb") as f:
        pickle.dump(data, f, protocol=pickle.HIGHEST_PROTOCOL)
    return {table: len(rows) for table, (_, rows) in data.items()}


def store(rows_path: str, target_db: str) -> None:
    with open(rows_path, "rb") as f:
        data = pickle.load(f)
    conn = sqlite3.connect(target_db, isolation_level=None)
    conn.execute("PRAGMA synchronous = FULL")  # what Kith's connections use
    conn.execute("BEGIN IMMEDIATE")
    for table, (columns, rows) in data.items():
        ddl = conn.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE tbl_name = ? AND sql IS NOT NULL"
            " AND (type = 'trigger' OR (type = 'index' AND sql NOT LIKE 'CREATE UNIQUE%'))",
            [table],
        ).fetchall()
        for kind, name, _ in ddl:
            conn.execute(f"DROP {kind} [{name}]")
        conn.executemany(f"INSERT INTO [{table}] ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})", rows)
        for _, _, sql in ddl:
            conn.execute(sql)
    fts = [c[1] for c in conn.execute("PRAGMA table_info(contacts_fts)")]
    conn.execute(f"INSERT INTO contacts_fts (rowid, {', '.join(fts)}) SELECT rowid, {', '.join(fts)} FROM contacts")
    conn.execute("COMMIT")
    conn.close()


if __name__ == "__main__":
    store(sys.argv[1], sys.argv[2])
