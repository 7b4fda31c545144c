-- discards: the history a resumed run took back. A run resumed from a
-- checkpoint at after_step deletes the metric points and samples it had
-- logged after that step (Run.DiscardAfter); the resumed training logs those
-- steps again, with other values if its settings changed. Each discard is kept
-- here, so that a copy of the history made before it (an MLflow mirror, which
-- cannot delete points) can tell its points from before the discard.
-- through_step is the last step discarded, points how many metric points,
-- time_ms when.
CREATE TABLE discards (
	run_id       INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	after_step   INTEGER NOT NULL,
	through_step INTEGER NOT NULL,
	points       INTEGER NOT NULL,
	time_ms      INTEGER NOT NULL
);
CREATE INDEX discards_run ON discards (run_id, time_ms);
