-- remote_runs: where a run is mirrored. A run copied to a remote tracking
-- server (an MLflow server, package mlflow) keeps the id the server gave it,
-- per server, so that syncing again continues that remote run instead of
-- creating another one. uri is the server's address without credentials.
CREATE TABLE remote_runs (
	run_id    INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	uri       TEXT    NOT NULL,
	remote_id TEXT    NOT NULL,
	linked_ms INTEGER NOT NULL,
	PRIMARY KEY (run_id, uri)
) WITHOUT ROWID;
