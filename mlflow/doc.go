// Package mlflow mirrors lstmlab's tracker to an MLflow tracking server —
// MLflow itself, FastTrackML, Databricks, GitLab: anything that speaks
// MLflow's REST API — so a team sees everyone's runs in one web UI. The
// local SQLite tracker stays the source of truth; the server is a copy.
//
// # Client
//
// Client is a small REST client for the endpoints the mirror needs
// (experiments, runs, log-batch, metric history, artifacts), with MLflow's
// credentials (basic auth or bearer token, from MLFLOW_TRACKING_USERNAME,
// MLFLOW_TRACKING_PASSWORD, MLFLOW_TRACKING_TOKEN) and MLflow's JSON
// spelling of non-finite metric values ("NaN", "Infinity", "-Infinity").
//
// # Mirror
//
// Mirror.SyncRun copies one run and, called again, sends only what the
// server lacks: the remote run id is recorded in the tracker per server,
// and for each metric the server's latest step says where its copy of the
// history ends. The same call serves live mirroring (Live, a background
// goroutine that syncs the runs being trained every few seconds, backs
// off while the server is down and catches up from the database) and
// after-the-fact copies (lstmlab sync).
//
// The mapping, run by run:
//
//	experiment                   → experiment of the same name (created when missing)
//	name, start, end             → run_name (and tag mlflow.runName), start_time, end_time (ms)
//	status                       → running RUNNING, finished FINISHED, failed FAILED, interrupted KILLED
//	params                       → params (values as text; shortest float form), as at the start
//	a param changed on resume    → param <key>.from_step_<N> (MLflow params never change)
//	metric points                → metrics with step and wall time; NaN and ±Inf kept
//	steps a resume took back     → the server keeps the points it had (MLflow cannot delete them); if
//	  and logged with other        the run logged other values for them, tag
//	  values                       lstmlab.history_rewritten_after_step = the checkpoint's step, and one warning
//	                               (metrics of the machine, such as tokens_per_s, differ in every rerun and do not
//	                               count: tracker.MachineMetric)
//	tags                         → tags, listed in lstmlab.tags; a tag deleted here is deleted there
//	note                         → tag mlflow.note.content (the MLflow UI's description)
//	fine-tuning parent           → tag mlflow.parentRunId (the parent is synced first)
//	command                      → tags mlflow.source.name ("lstmlab train"), mlflow.source.type LOCAL, lstmlab.command (whole line)
//	git commit                   → tag mlflow.source.git.commit
//	backend, host                → tags lstmlab.backend, lstmlab.host
//	id, UUID, database           → tags lstmlab.run_id, lstmlab.run_uuid, lstmlab.origin (host:database#id)
//	(the user who mirrors it)    → tag mlflow.user, set when the remote run is created
//	latest sample                → tags lstmlab.sample, lstmlab.sample_step
//	all samples                  → artifact samples.txt
//	plot, best weights           → artifacts curves.png, model/best.safetensors (not checkpoints)
//
// Artifacts go up once the run has ended, when the server accepts them
// (see Client.CheckArtifactUpload); otherwise they are skipped with one
// note. Keys are kept as they are when MLflow accepts them (see Key);
// values longer than every MLflow backend accepts are cut (see Truncate).
//
// Package mlflowtest runs a real FastTrackML server and headless Chromium
// for the tests.
package mlflow
