-- 0001_init: the first lstmlab tracker schema.
--
-- Times are INTEGER milliseconds since the Unix epoch (UTC): exact, compact
-- and easy to turn into dates with datetime(x / 1000, 'unixepoch').

-- application_id marks the file as an lstmlab tracker so that Open can refuse
-- an unrelated SQLite database instead of adding tables to it.
PRAGMA application_id = 1280529485; -- 0x4C53544D, "LSTM"

CREATE TABLE schema_migrations (
	version    INTEGER PRIMARY KEY,
	name       TEXT    NOT NULL,
	applied_ms INTEGER NOT NULL
);

-- An experiment is only a name that groups runs.
CREATE TABLE experiments (
	id         INTEGER PRIMARY KEY,
	name       TEXT    NOT NULL UNIQUE,
	created_ms INTEGER NOT NULL
);

-- AUTOINCREMENT so a deleted run's id is never given to a new run: people
-- quote run ids in notes and commit messages.
CREATE TABLE runs (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	experiment_id INTEGER NOT NULL REFERENCES experiments (id),
	name          TEXT    NOT NULL UNIQUE,
	status        TEXT    NOT NULL
		CHECK (status IN ('running', 'finished', 'failed', 'interrupted')),
	start_ms      INTEGER NOT NULL,
	end_ms        INTEGER,
	-- Written every few seconds by the process that owns a running run, so a
	-- reader can tell a live run from one whose process died.
	heartbeat_ms  INTEGER NOT NULL,
	command       TEXT    NOT NULL DEFAULT '',
	git_commit    TEXT    NOT NULL DEFAULT '',
	backend       TEXT    NOT NULL DEFAULT '',
	host          TEXT    NOT NULL DEFAULT '',
	note          TEXT    NOT NULL DEFAULT '',
	-- Fine-tuning lineage: the run whose weights this one started from.
	parent_id     INTEGER REFERENCES runs (id) ON DELETE SET NULL
);
CREATE INDEX runs_experiment ON runs (experiment_id);
CREATE INDEX runs_parent ON runs (parent_id);

CREATE TABLE tags (
	run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	key    TEXT    NOT NULL,
	value  TEXT    NOT NULL,
	PRIMARY KEY (run_id, key)
) WITHOUT ROWID;

-- value has no declared type on purpose: SQLite then keeps each value's own
-- storage class (INTEGER, REAL or TEXT), so filters compare numbers as
-- numbers and strings as strings. Booleans are stored as 0/1 with type 'bool'.
CREATE TABLE params (
	run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	key    TEXT    NOT NULL,
	type   TEXT    NOT NULL CHECK (type IN ('int', 'float', 'string', 'bool')),
	value,
	PRIMARY KEY (run_id, key)
) WITHOUT ROWID;

-- Metric history. The primary key makes a (run, key, step) point unique, so a
-- resumed run can never duplicate a step. value is NULL for NaN, which SQLite
-- cannot store.
CREATE TABLE metrics (
	run_id  INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	key     TEXT    NOT NULL,
	step    INTEGER NOT NULL,
	time_ms INTEGER NOT NULL,
	value   REAL,
	PRIMARY KEY (run_id, key, step)
) WITHOUT ROWID;

-- Latest and best point per (run, key), maintained in the same transaction
-- as each batch of points, so listing and filtering runs never scans history.
CREATE TABLE metric_summary (
	run_id       INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	key          TEXT    NOT NULL,
	goal         TEXT    NOT NULL CHECK (goal IN ('min', 'max')),
	count        INTEGER NOT NULL,
	last_step    INTEGER NOT NULL,
	last_time_ms INTEGER NOT NULL,
	last_value   REAL,
	best_step    INTEGER,
	best_time_ms INTEGER,
	best_value   REAL,
	PRIMARY KEY (run_id, key)
) WITHOUT ROWID;

CREATE TABLE samples (
	id          INTEGER PRIMARY KEY,
	run_id      INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	step        INTEGER NOT NULL,
	time_ms     INTEGER NOT NULL,
	prompt      TEXT    NOT NULL,
	text        TEXT    NOT NULL,
	temperature REAL    NOT NULL,
	top_k       INTEGER NOT NULL,
	top_p       REAL    NOT NULL,
	seed        INTEGER NOT NULL
);
CREATE INDEX samples_run_step ON samples (run_id, step);

CREATE TABLE artifacts (
	id         INTEGER PRIMARY KEY,
	run_id     INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	kind       TEXT    NOT NULL,
	path       TEXT    NOT NULL,
	sha256     TEXT    NOT NULL,
	size       INTEGER NOT NULL,
	created_ms INTEGER NOT NULL,
	UNIQUE (run_id, path)
);
CREATE INDEX artifacts_path ON artifacts (path);
