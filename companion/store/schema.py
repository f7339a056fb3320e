"""The database shape, declared once and applied by versioned migrations.

Table and column names here are Kith's public schema: users write SQL against
them, so existing names never change. A new version adds a migration at the end
of the list; a database made by an older version gains the new shape on open
and keeps its data.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

CIRCLES = ("professional", "personal", "both")
MESSAGE_DIRECTIONS = ("in", "out")
EXCHANGE_DIRECTIONS = ("gave", "received")

# The first shape: the public tables every feature builds on.
INITIAL_TABLES = """
CREATE TABLE contacts (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL DEFAULT '',
    headline TEXT,
    company TEXT,
    title TEXT,
    location TEXT,
    avatar_url TEXT,
    bio TEXT,
    circle TEXT CHECK (circle IS NULL OR circle IN ('professional', 'personal', 'both')),
    how_met TEXT,
    keep_in_touch_days INTEGER CHECK (keep_in_touch_days IS NULL OR keep_in_touch_days > 0),
    last_interaction_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE identities (
    id INTEGER PRIMARY KEY,
    contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    url TEXT,
    UNIQUE (kind, value)
);
CREATE TABLE captures (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    url TEXT,
    title TEXT,
    captured_at TEXT,
    received_at TEXT NOT NULL,
    contact_id INTEGER REFERENCES contacts(id) ON DELETE SET NULL,
    html BLOB,
    html_sha256 TEXT,
    extractor TEXT,
    status TEXT NOT NULL
);
CREATE TABLE notes (
    id INTEGER PRIMARY KEY,
    contact_id INTEGER REFERENCES contacts(id) ON DELETE CASCADE,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    capture_id TEXT REFERENCES captures(id) ON DELETE SET NULL
);
CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    contact_id INTEGER REFERENCES contacts(id) ON DELETE CASCADE,
    direction TEXT CHECK (direction IS NULL OR direction IN ('in', 'out')),
    sender TEXT,
    sent_at TEXT,
    body TEXT NOT NULL,
    channel TEXT,
    thread_url TEXT,
    external_id TEXT,
    capture_id TEXT REFERENCES captures(id) ON DELETE SET NULL
);
CREATE TABLE interactions (
    id INTEGER PRIMARY KEY,
    contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    happened_at TEXT NOT NULL,
    summary TEXT
);
CREATE TABLE profile_changes (
    id INTEGER PRIMARY KEY,
    contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    field TEXT NOT NULL,
    old_value TEXT,
    new_value TEXT,
    detected_at TEXT NOT NULL,
    capture_id TEXT REFERENCES captures(id) ON DELETE SET NULL
);
CREATE TABLE exchanges (
    id INTEGER PRIMARY KEY,
    contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    direction TEXT NOT NULL CHECK (direction IN ('gave', 'received')),
    kind TEXT,
    description TEXT NOT NULL,
    happened_at TEXT NOT NULL
);
CREATE TABLE relationships (
    id INTEGER PRIMARY KEY,
    from_contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    to_contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    note TEXT,
    UNIQUE (from_contact_id, to_contact_id, kind)
);
CREATE TABLE tags (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    keep_in_touch_days INTEGER
);
CREATE TABLE contact_tags (
    contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    tag_id INTEGER NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
    PRIMARY KEY (contact_id, tag_id)
);
CREATE TABLE tokens (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    token_sha256 TEXT NOT NULL UNIQUE,
    origin TEXT,
    created_at TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at TEXT
);
CREATE TABLE pairing_codes (
    code_sha256 TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    used_at TEXT
);
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT
);
"""

# Second shape: what the first release learned it needed (idempotency hashes,
# provenance, snoozing, the owner's own contact, merge suggestions).
SECOND_SHAPE = """
ALTER TABLE captures ADD COLUMN payload_sha256 TEXT;
ALTER TABLE captures ADD COLUMN payload TEXT;
ALTER TABLE captures ADD COLUMN error TEXT;
ALTER TABLE contacts ADD COLUMN given_name TEXT;
ALTER TABLE contacts ADD COLUMN family_name TEXT;
ALTER TABLE contacts ADD COLUMN pronouns TEXT;
ALTER TABLE contacts ADD COLUMN credentials TEXT;
ALTER TABLE contacts ADD COLUMN field_sources TEXT;
ALTER TABLE contacts ADD COLUMN snoozed_until TEXT;
ALTER TABLE contacts ADD COLUMN birthday TEXT;
ALTER TABLE contacts ADD COLUMN is_me INTEGER NOT NULL DEFAULT 0;
ALTER TABLE identities ADD COLUMN source TEXT;
ALTER TABLE interactions ADD COLUMN capture_id TEXT REFERENCES captures(id) ON DELETE SET NULL;
CREATE TABLE merge_suggestions (
    id INTEGER PRIMARY KEY,
    contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    other_contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    score REAL NOT NULL,
    reason TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'merged', 'dismissed')),
    created_at TEXT NOT NULL,
    UNIQUE (contact_id, other_contact_id)
);
CREATE TABLE paired_origins (
    origin TEXT PRIMARY KEY,
    token_id INTEGER REFERENCES tokens(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL
);
"""

INDEXES = [
    ("identities", ["contact_id"]),
    ("captures", ["contact_id"]),
    ("captures", ["received_at"]),
    ("notes", ["contact_id", "created_at"]),
    ("messages", ["contact_id", "sent_at"]),
    ("interactions", ["contact_id", "happened_at"]),
    ("profile_changes", ["contact_id", "detected_at"]),
    ("profile_changes", ["detected_at"]),
    ("exchanges", ["contact_id", "happened_at"]),
    ("relationships", ["to_contact_id"]),
    ("contact_tags", ["tag_id"]),
    ("contacts", ["company"]),
    ("contacts", ["last_interaction_at"]),
]

FTS = {
    "contacts": ["name", "headline", "company", "title", "location", "bio"],
    "notes": ["body"],
    "messages": ["body", "sender"],
}

# Every contact with its tags and identity count: the table most SQL starts from.
VIEWS = {
    "contact_overview": """
SELECT c.id, c.name, c.headline, c.company, c.title, c.location, c.circle, c.how_met,
       c.last_interaction_at, c.keep_in_touch_days,
       (SELECT group_concat(t.name, ', ') FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id
         WHERE ct.contact_id = c.id) AS tags,
       (SELECT count(*) FROM identities i WHERE i.contact_id = c.id) AS identity_count,
       (SELECT count(*) FROM notes n WHERE n.contact_id = c.id) AS note_count,
       (SELECT count(*) FROM messages m WHERE m.contact_id = c.id) AS message_count
FROM contacts c
""",
}

migrations = Migrations("kith")


@migrations(name="0001_initial_tables")
def _initial(db: Database) -> None:
    # sqlite-utils runs a script statement by statement inside the open
    # transaction, so each migration stays atomic.
    db.executescript(INITIAL_TABLES)


@migrations(name="0002_provenance_snooze_merge_pairing")
def _second(db: Database) -> None:
    db.executescript(SECOND_SHAPE)
    db.execute("CREATE UNIQUE INDEX idx_messages_external_id ON messages(external_id) WHERE external_id IS NOT NULL")


@migrations(name="0003_indexes_fts_views")
def _indexes_fts_views(db: Database) -> None:
    for table, columns in INDEXES:
        db[table].create_index(columns, if_not_exists=True)
    for table, columns in FTS.items():
        db[table].enable_fts(columns, create_triggers=True, tokenize="porter", replace=True)
    for name, sql in VIEWS.items():
        db.create_view(name, sql, replace=True)


def narrow_fts_update_trigger(db: Database, table: str) -> None:
    """Re-index a row only when an indexed column changes.

    sqlite-utils' update trigger fires on any column, so moving
    `last_interaction_at` (every note or message does) would rewrite the
    contact's search entry each time.
    """
    columns = FTS[table]
    old = ", ".join(f'old."{c}"' for c in columns)
    new = ", ".join(f'new."{c}"' for c in columns)
    names = ", ".join(f'"{c}"' for c in columns)
    db.execute(f'DROP TRIGGER IF EXISTS "{table}_au"')
    db.execute(
        f'CREATE TRIGGER "{table}_au" AFTER UPDATE OF {names} ON "{table}" BEGIN\n'
        f'  INSERT INTO "{table}_fts" ("{table}_fts", rowid, {names}) VALUES(\'delete\', old.rowid, {old});\n'
        f'  INSERT INTO "{table}_fts" (rowid, {names}) VALUES (new.rowid, {new});\nEND'
    )


def enable_search(db: Database, table: str) -> None:
    """Full-text search on one table, kept current by triggers (also used after bulk loads)."""
    db[table].enable_fts(FTS[table], create_triggers=True, tokenize="porter", replace=True)
    narrow_fts_update_trigger(db, table)


@migrations(name="0004_narrow_fts_triggers_nocase_indexes")
def _narrow_triggers(db: Database) -> None:
    for table in FTS:
        narrow_fts_update_trigger(db, table)
    # Merge suggestions compare company and location case-insensitively.
    db.execute("CREATE INDEX IF NOT EXISTS idx_contacts_company_nocase ON contacts(company COLLATE NOCASE)")
    db.execute("CREATE INDEX IF NOT EXISTS idx_contacts_location_nocase ON contacts(location COLLATE NOCASE)")
    # The reconnect queue (tag cadences) and the ledger's per-person grouping.
    db.execute("CREATE INDEX IF NOT EXISTS idx_contact_tags_tag_contact ON contact_tags(tag_id, contact_id)")
    db.execute(
        "CREATE INDEX IF NOT EXISTS idx_exchanges_contact_time_direction"
        " ON exchanges(contact_id, happened_at, direction)"
    )


@migrations(name="0005_auth_state_out_of_the_network_database")
def _auth_out(db: Database) -> None:
    # Tokens, pairing codes and paired origins move to the private auth file (store/auth.py):
    # anything in this database is readable through Datasette.
    from .auth import move_out_of

    move_out_of(db)


# Interactions brought in from mail and calendar exports: which way they went, where they came
# from, and the key that makes re-importing the same export add nothing.
INTERACTION_COLUMNS = {
    "direction": "TEXT CHECK (direction IS NULL OR direction IN ('in', 'out'))",
    "source": "TEXT",
    "external_id": "TEXT",
}


@migrations(name="0006_interaction_direction_source_external_id")
def _interaction_provenance(db: Database) -> None:
    # Column by column, so a migration re-applied over its own columns (kith doctor's repair) is a no-op.
    have = {c.name for c in db["interactions"].columns}
    for name, declaration in INTERACTION_COLUMNS.items():
        if name not in have:
            db.execute(f"ALTER TABLE interactions ADD COLUMN {name} {declaration}")
    db.execute(
        "CREATE UNIQUE INDEX IF NOT EXISTS idx_interactions_external_id ON interactions(external_id)"
        " WHERE external_id IS NOT NULL"
    )


# The reconnect queue as an index read. A contact's cadence is its own (`keep_in_touch_days`), else
# the shortest of its tags' (`tag_cadence_days`, kept current by the triggers below), else its
# circle's default (applied when the queue is read: the defaults live in settings and plugin
# config). The queue reads, per distinct cadence and per circle, the contacts whose last
# interaction (else creation) is oldest, from an index on that date, so it never ranks the whole
# table. Inserting a contact fires no trigger (the indexes are on expressions of its own columns).
RECONNECT_TAG_DAYS = (
    "(SELECT min(t.keep_in_touch_days) FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id"
    " WHERE ct.contact_id = contacts.id AND t.keep_in_touch_days > 0)"
)
RECONNECT_CADENCE = "coalesce(keep_in_touch_days, tag_cadence_days)"
RECONNECT_SINCE = "julianday(coalesce(last_interaction_at, created_at))"
RECONNECT_INDEXES = {
    "idx_contacts_reconnect_cadence": f"contacts({RECONNECT_CADENCE}, {RECONNECT_SINCE})"
    f" WHERE is_me = 0 AND {RECONNECT_CADENCE} IS NOT NULL",
    "idx_contacts_reconnect_circle": f"contacts(circle, {RECONNECT_SINCE}) WHERE is_me = 0"
    " AND keep_in_touch_days IS NULL AND tag_cadence_days IS NULL AND circle IS NOT NULL",
}


def _recompute(id_expr: str) -> str:
    return (
        f"UPDATE contacts SET tag_cadence_days = {RECONNECT_TAG_DAYS}"
        f" WHERE id = {id_expr} AND tag_cadence_days IS NOT {RECONNECT_TAG_DAYS};"
    )


RECONNECT_TRIGGERS = {
    "contact_tags_reconnect_ai": "AFTER INSERT ON contact_tags WHEN (SELECT keep_in_touch_days FROM tags"
    " WHERE id = new.tag_id) > 0 BEGIN " + _recompute("new.contact_id") + " END",
    "contact_tags_reconnect_ad": "AFTER DELETE ON contact_tags WHEN (SELECT keep_in_touch_days FROM tags"
    " WHERE id = old.tag_id) > 0 BEGIN " + _recompute("old.contact_id") + " END",
    "contact_tags_reconnect_au": "AFTER UPDATE ON contact_tags BEGIN "
    + _recompute("old.contact_id")
    + " "
    + _recompute("new.contact_id")
    + " END",
    "tags_reconnect_au": "AFTER UPDATE OF keep_in_touch_days ON tags BEGIN UPDATE contacts SET tag_cadence_days ="
    f" {RECONNECT_TAG_DAYS} WHERE id IN (SELECT contact_id FROM contact_tags WHERE tag_id = new.id); END",
    # Deleting a tag deletes its contact_tags rows first, so their trigger sees the tag's cadence
    # (also when foreign keys are off on the deleting connection).
    "tags_reconnect_bd": "BEFORE DELETE ON tags WHEN old.keep_in_touch_days > 0 BEGIN"
    " DELETE FROM contact_tags WHERE tag_id = old.id; END",
}


def create_reconnect_triggers(db: Database) -> None:
    for name, body in RECONNECT_TRIGGERS.items():
        db.execute(f'DROP TRIGGER IF EXISTS "{name}"')
        db.execute(f'CREATE TRIGGER "{name}" {body}')


@migrations(name="0007_reconnect_due_index")
def _reconnect_index(db: Database) -> None:
    if "tag_cadence_days" not in {c.name for c in db["contacts"].columns}:
        db.execute("ALTER TABLE contacts ADD COLUMN tag_cadence_days INTEGER")
    # Backfill: every contact's tag cadence, as the triggers keep it from now on.
    db.execute(
        f"UPDATE contacts SET tag_cadence_days = {RECONNECT_TAG_DAYS} WHERE id IN (SELECT contact_id FROM contact_tags)"
    )
    for name, target in RECONNECT_INDEXES.items():
        db.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {target}")
    create_reconnect_triggers(db)


# The daily loop (the Today page): dates a user cares about beyond a birthday (an anniversary, a
# child's name day, a visa renewal), stored like `contacts.birthday` as 'YYYY-MM-DD' or '--MM-DD'
# (no year); `yearly` ones come back every year. Indexes: upcoming dates by month and day (the
# last five characters, the same for both forms), and the name picker's "name starts with",
# newest contact first, read from the index alone.
DATED_NOTES = """
CREATE TABLE IF NOT EXISTS dated_notes (
    id INTEGER PRIMARY KEY,
    contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    label TEXT NOT NULL,
    date TEXT NOT NULL,
    yearly INTEGER NOT NULL DEFAULT 1 CHECK (yearly IN (0, 1)),
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_dated_notes_contact ON dated_notes(contact_id);
CREATE INDEX IF NOT EXISTS idx_dated_notes_day ON dated_notes(substr(date, -5));
CREATE INDEX IF NOT EXISTS idx_contacts_birthday_day ON contacts(substr(birthday, -5)) WHERE birthday IS NOT NULL;
CREATE INDEX IF NOT EXISTS idx_contacts_name_nocase_recent ON contacts(name COLLATE NOCASE, last_interaction_at);
"""


@migrations(name="0008_dated_notes_birthday_and_name_indexes")
def _dated_notes(db: Database) -> None:
    # IF NOT EXISTS throughout, so re-applying it (kith doctor's repair) is a no-op.
    db.executescript(DATED_NOTES)


@migrations(name="0009_identity_labels")
def _identity_labels(db: Database) -> None:
    # What an address book called an email or phone: cell, work, fax, pager… (a vCard's TYPE), so a
    # round trip keeps it. Column by column, so re-applying it (kith doctor's repair) is a no-op.
    if "label" not in {c.name for c in db["identities"].columns}:
        db.execute("ALTER TABLE identities ADD COLUMN label TEXT")


def ensure_db_shape(db: Database) -> list[str]:
    """Bring any Kith database, new or old, up to the current shape.

    Returns the names of the migrations applied now (empty when current).
    """
    pending = [m.name for m in migrations.pending(db)]
    migrations.apply(db)
    return pending
