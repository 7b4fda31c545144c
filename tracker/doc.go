// Package tracker records training runs in a single SQLite file and answers
// the questions people ask of MLflow or TensorBoard — which run was best,
// what differed, how did the curves go, what did the model write at step N —
// without a server. It knows nothing about models: anything that trains can
// log into it.
//
// # Logging
//
//	db, err := tracker.Open("lstmlab.db")
//	...
//	defer db.Close()
//	run, err := db.StartRun(ctx, tracker.RunSpec{Experiment: "moby", Command: strings.Join(os.Args, " ")})
//	run.LogParams(map[string]any{"hidden": 256, "layers": 2, "lr": 1e-3})
//	for step := ... {
//		run.LogMetrics(step, map[string]float64{tracker.MetricTrainLoss: loss, tracker.MetricLR: lr})
//	}
//	run.LogMetrics(step, map[string]float64{tracker.MetricValLoss: vl, tracker.MetricValBPC: vl / math.Ln2})
//	run.LogSample(tracker.Sample{Step: step, Prompt: "Call me", Text: text, Temperature: 0.8})
//	run.LogArtifact(tracker.ArtifactCheckpoint, "runs/moby-1/last.ckpt")
//	run.Finish(tracker.StatusFinished)
//
// Metric points are buffered in memory and written in batches, one
// transaction each, by a background goroutine: a LogMetrics call costs the
// training loop well under a microsecond. The same goroutine refreshes the
// run's heartbeat every few seconds.
//
// # Runs and statuses
//
// A run is running, finished, failed or interrupted. A process that dies
// (kill -9, power cut) stops heartbeating: readers then show its run as
// interrupted, and the next Open records it so. A run can be resumed
// (DB.ResumeRun): it keeps its id and history, and for each metric key the
// steps must continue after the last one logged — a point at an earlier or
// equal step is ignored (counted by Run.Skipped), so re-running a few steps
// from a checkpoint never duplicates history. Params are fixed once logged
// (logging the same value again is fine); tags and the note may change.
//
// # Latest and best
//
// For every (run, metric) the tracker keeps the latest and the best point,
// updated in the same transaction as the points, so listing and filtering
// runs never reads the history. "Best" is the minimum for loss-like metrics
// and the maximum for accuracy-like ones, by the rule of DefaultGoal;
// Run.SetGoal overrides it per run and key. NaN values are stored (a
// diverged loss is worth seeing) but never best.
//
// # Reading
//
// DB.ListRuns filters and sorts runs with an MLflow-like language (package
// tracker/filter):
//
//	params.hidden >= 256 and metrics.val_bpc < 2.1 and status = finished order by metrics.val_loss
//
// Fields are params.<key>, metrics.<key> (latest value), best.<key>,
// tags.<key> and the attributes id, name, experiment, status, start, end,
// duration (seconds), backend, host, git_commit, command, note and parent.
// The filter is parsed into a tree and compiled to SQL in which every key
// and value is a bound parameter: user text never becomes SQL.
//
// DB.Compare lays runs side by side; DB.History returns a metric's points.
// Package tracker/render prints runs and comparisons as text, CSV, JSON,
// HTML or Markdown; package tracker/plot draws learning curves.
//
// # Storage
//
// The file uses SQLite's WAL journal, so readers never block the writer.
// Each DB has one writer connection and a read-only pool; several
// processes may log into the same file at once (writes wait on a busy
// timeout instead of failing). The schema is created and upgraded by
// numbered migrations embedded in the binary, applied in one transaction; a
// file from a newer lstmlab, or another program's SQLite file, is refused
// without being modified. Times are stored as Unix milliseconds.
package tracker
