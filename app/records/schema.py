"""The database schema as an ordered list of migrations.

`PRAGMA user_version` holds how many migrations a file has had. Migration n (1-based) turns a version n-1
file into a version n file; each runs in one transaction with the version bump, so a file is always at
exactly one version. Never edit a released step: add a new one.
"""

from __future__ import annotations

# Version 1: patients, sessions and their events.
_V1 = (
    """
    CREATE TABLE patients (
        id INTEGER PRIMARY KEY,
        code TEXT NOT NULL UNIQUE,         -- pseudonymous code, what reports show
        name TEXT,                         -- optional, never in a de-identified export
        birth_date TEXT,                   -- optional ISO date
        created TEXT NOT NULL              -- ISO timestamp (UTC)
    )
    """,
    """
    CREATE TABLE sessions (
        id INTEGER PRIMARY KEY,
        patient_id INTEGER NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
        date TEXT NOT NULL,                -- ISO date of the recording session
        task TEXT NOT NULL,                -- reading, conversation, monologue, ...
        recording TEXT NOT NULL,           -- absolute path: the stored copy, or the original when linked
        recording_mode TEXT NOT NULL CHECK (recording_mode IN ('copy', 'link')),
        duration REAL NOT NULL CHECK (duration >= 0),  -- seconds
        notes TEXT NOT NULL DEFAULT '',
        model_id TEXT NOT NULL,            -- SHA-256 of the model file
        model_settings TEXT NOT NULL DEFAULT '{}',  -- JSON: thresholds, hop, ...
        summary TEXT NOT NULL DEFAULT '{}',         -- JSON: the model's RecordingSummary
        model_event_count INTEGER NOT NULL,         -- rows expected in events: a completeness check
        reviewed_event_count INTEGER NOT NULL,
        reviewed_at TEXT,                  -- ISO timestamp of the clinician's last review; NULL = not reviewed
        created TEXT NOT NULL
    )
    """,
    "CREATE INDEX sessions_patient ON sessions(patient_id, date)",
    """
    CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        source TEXT NOT NULL CHECK (source IN ('model', 'reviewed')),
        position INTEGER NOT NULL,         -- order within its list
        label TEXT NOT NULL,
        start REAL NOT NULL,
        end REAL NOT NULL CHECK (end >= start),
        confidence REAL,
        status TEXT,                       -- reviewed events: accepted, rejected, retyped, adjusted, added
        origin,                            -- reviewed events: index of the model event decided on, NULL if added
                                           -- (no declared type, so an integer stays an integer)
        extra TEXT NOT NULL DEFAULT '{}',  -- JSON: any other keys of the event's dict, kept as given
        UNIQUE (session_id, source, position)
    )
    """,
)

# Version 2: what audio cannot measure, entered by the clinician per session; app settings (clinic name).
_V2 = (
    "ALTER TABLE sessions ADD COLUMN physical_concomitants TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE sessions ADD COLUMN naturalness INTEGER CHECK (naturalness BETWEEN 1 AND 9)",
    """
    CREATE TABLE settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    )
    """,
)

# Version 3: what clinicians keep per session besides the recording: a Lidcombe severity rating, the
# SSI-4 physical concomitants as four 0-5 scores, and the recording's own file name (copies get a random one).
_V3 = (
    "ALTER TABLE sessions ADD COLUMN severity INTEGER CHECK (severity BETWEEN 0 AND 9)",
    "ALTER TABLE sessions ADD COLUMN ssi4_sounds INTEGER CHECK (ssi4_sounds BETWEEN 0 AND 5)",
    "ALTER TABLE sessions ADD COLUMN ssi4_face INTEGER CHECK (ssi4_face BETWEEN 0 AND 5)",
    "ALTER TABLE sessions ADD COLUMN ssi4_head INTEGER CHECK (ssi4_head BETWEEN 0 AND 5)",
    "ALTER TABLE sessions ADD COLUMN ssi4_limbs INTEGER CHECK (ssi4_limbs BETWEEN 0 AND 5)",
    "ALTER TABLE sessions ADD COLUMN recording_name TEXT NOT NULL DEFAULT ''",
)

# Version 4: the clinical measures' inputs per session (issue 14): JSON {"words": [...], "excluded":
# [[start, end], ...], "transcriber": ..., "measures": {...}}: the transcript with times, the stretches that are
# not the client, and the measures as saved ('{}' for sessions without words: the reports then show none).
_V4 = (
    "ALTER TABLE sessions ADD COLUMN clinical TEXT NOT NULL DEFAULT '{}'",
)

MIGRATIONS: tuple[tuple[str, ...], ...] = (_V1, _V2, _V3, _V4)
SCHEMA_VERSION = len(MIGRATIONS)  # 4
