"""The SQLite store: schema, connections, and the save/query functions every writer uses."""
