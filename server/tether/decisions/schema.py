"""The store's schema and its migrations.

Each migration is applied once, in order, inside a transaction, and bumps
`meta.schema_version`. The decision log keeps its whole content in `body` (canonical JSON,
the hashed bytes); the query columns are generated from it so they can never disagree with
what the hash covers.
"""

from __future__ import annotations

APP_ID = "tether"
GENESIS_HASH = "0" * 64

_DECISION_COLUMNS = {
    "ts": "TEXT",
    "outcome": "TEXT",
    "proposal_id": "TEXT",
    "actor": "TEXT",
    "class_key": "TEXT",
    "path": "TEXT",
    "model": "TEXT",
    "adapter_version": "TEXT",
    "reason": "TEXT",
}

_generated = ",\n".join(
    f"  {name} {typ} GENERATED ALWAYS AS (json_extract(body, '$.{name}')) VIRTUAL"
    for name, typ in _DECISION_COLUMNS.items()
)

MIGRATIONS: list[str] = [
    # 1: the initial schema.
    f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TABLE decisions (
  seq INTEGER PRIMARY KEY,
  body TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL,
{_generated}
);
CREATE INDEX decisions_ts ON decisions(ts);
CREATE INDEX decisions_proposal ON decisions(proposal_id);
CREATE INDEX decisions_class ON decisions(class_key);
CREATE INDEX decisions_path ON decisions(path);
CREATE INDEX decisions_outcome ON decisions(outcome);

CREATE TABLE proposals (
  id TEXT PRIMARY KEY,
  created_at TEXT NOT NULL,
  uri TEXT NOT NULL,
  path TEXT NOT NULL,
  task TEXT NOT NULL,
  class_key TEXT NOT NULL,
  model TEXT NOT NULL,
  adapter_version TEXT,
  state TEXT NOT NULL,
  body TEXT NOT NULL
);
CREATE INDEX proposals_state ON proposals(state);
CREATE INDEX proposals_uri ON proposals(uri, state);

CREATE TABLE adapters (
  version TEXT PRIMARY KEY,
  created_at TEXT NOT NULL,
  parent TEXT,
  status TEXT NOT NULL,
  path TEXT NOT NULL,
  body TEXT NOT NULL
);

CREATE TABLE profile_snapshots (
  id INTEGER PRIMARY KEY,
  created_at TEXT NOT NULL,
  head_seq INTEGER NOT NULL,
  body TEXT NOT NULL
);

CREATE TABLE memory_items (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  class_key TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  votes INTEGER NOT NULL DEFAULT 0,
  active INTEGER NOT NULL DEFAULT 1,
  body TEXT NOT NULL
);
CREATE INDEX memory_kind ON memory_items(kind, class_key);

CREATE TABLE pins (
  class_key TEXT PRIMARY KEY,
  mode TEXT NOT NULL,
  created_at TEXT NOT NULL
);
""",
    # 2: seals (HMAC with the store's key) on rows, profile snapshots and memory items. The
    # store seals what exists in the same transaction; old snapshots, a cache, are dropped.
    """
ALTER TABLE decisions ADD COLUMN seal TEXT;
ALTER TABLE profile_snapshots ADD COLUMN seal TEXT;
ALTER TABLE memory_items ADD COLUMN seal TEXT;
DELETE FROM profile_snapshots;
""",
]

SCHEMA_VERSION = len(MIGRATIONS)
