-- run_record: run identity, the folder of a run's files, the typed run record
-- and the history of params changed on resume.

-- uuid identifies a run across databases: two databases in one folder, or a
-- database deleted and created again, reuse ids but never uuids. Checkpoints
-- carry it, so a run's files cannot be mistaken for another run's.
ALTER TABLE runs ADD COLUMN uuid TEXT;
-- dir is the folder of the run's files, relative to the runs folder
-- ("runs" beside the database): "<id>-<first 8 hex digits of uuid>" for new
-- runs. Runs recorded before this migration keep their folder "<id>".
ALTER TABLE runs ADD COLUMN dir TEXT NOT NULL DEFAULT '';
-- record is the JSON document the program that trains rebuilds the run from
-- (for lstmlab: model and training config, data source and its SHA-256,
-- sample settings, lineage); '' when it has none.
ALTER TABLE runs ADD COLUMN record TEXT NOT NULL DEFAULT '';

UPDATE runs SET dir = CAST(id AS TEXT),
	uuid = lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-'
		|| substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)));

CREATE UNIQUE INDEX runs_uuid ON runs (uuid);

-- Params are fixed once logged, except through an explicit change (say a
-- resumed run trained for more steps or with another learning rate): the
-- params table then holds the new value, and this table every change with the
-- step from which it applies. old_type/old_value are NULL for a key the run
-- did not have.
CREATE TABLE param_changes (
	run_id    INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	key       TEXT    NOT NULL,
	step      INTEGER NOT NULL,
	time_ms   INTEGER NOT NULL,
	old_type  TEXT CHECK (old_type IN ('int', 'float', 'string', 'bool')),
	old_value,
	type      TEXT    NOT NULL CHECK (type IN ('int', 'float', 'string', 'bool')),
	value,
	PRIMARY KEY (run_id, key, step)
) WITHOUT ROWID;
