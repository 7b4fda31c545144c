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
// run's heartbeat every few seconds. Run.Flush commits everything logged so
// far: call it before publishing anything the history must agree with,
// such as a checkpoint.
//
// # Runs and statuses
//
// A run is running, finished, failed or interrupted. Each run has a UUID
// (two databases, or a database and its re-creation, never share one) and
// a folder for its files, Run.Dir: runs/<id>-<uuid prefix>/ beside the
// database (Options.RunsDir). The process that owns a running run holds an
// OS lock on the run.lock file in that folder, which the kernel releases
// however the process ends (kill -9 included). On the same host readers
// decide from the lock, at once: a run whose lock is free is shown as
// interrupted (and the next writable Open records it so), while a stopped
// (SIGSTOP) process keeps its run running. Runs owned by another host,
// which cannot see the lock, are judged by their heartbeat instead.
//
// A run can be resumed (DB.ResumeRun): it keeps its id and history, and
// for each metric key the steps must continue after the last one logged —
// a point at an earlier or equal step is ignored (counted by Run.Skipped).
// Run.DiscardAfter drops what was logged after a checkpoint's step, so a
// resumed run logs those steps again and keeps one point per step. Params
// are fixed once logged; Run.ChangeParams changes one explicitly and keeps
// the change, with its step, in the param history (DB.ParamChanges). Tags
// and the note may change. Run.SetRecord stores the document the trainer
// rebuilds the run from (DB.Record).
//
// # Latest and best
//
// For every (run, metric) the tracker keeps the latest and the best point,
// updated in the same transaction as the points, so listing and filtering
// runs never reads the history. "Best" is the minimum for loss-like metrics
// and the maximum for accuracy-like ones, by the rule of DefaultGoal;
// Run.SetGoal overrides it per run and key. NaN and infinite values are
// stored (a diverged loss is worth seeing) but never best. Each run also
// accumulates its active training time over its sessions, leaving out the
// idle time between an interruption and its resume (RunInfo.Active).
//
// # Reading
//
// DB.ListRuns and DB.SearchRuns filter and sort runs with MLflow's search
// language (package tracker/filter; filter.Help describes it):
//
//	params.hidden >= 256 and metrics.val_bpc < 2.1 and status = finished order by metrics.val_loss
//
// Fields are params.<key>, metrics.<key> (latest value), best.<key>,
// tags.<key> and the attributes id, run_id, name, experiment, status,
// start and end (milliseconds, as MLflow's start_time), duration and active
// (seconds), backend, host, git_commit, command, note and parent. The
// filter is parsed into a tree and compiled to SQL in which every key and
// value is a bound parameter: user text never becomes SQL. ilike folds
// case with full Unicode case folding through a Go function registered on
// the reading connections (sqlfuncs.go). SearchRuns also names the params
// and metrics the filter uses that no run has, with the closest known keys.
//
// DB.Compare lays runs side by side; DB.Show gathers one run; DB.History
// returns a metric's points; DB.SetTags, DB.DeleteTags and DB.SetNote
// annotate any run. Package tracker/render prints runs, comparisons, one
// run, histories and samples as text, CSV, JSON, HTML or Markdown; package
// tracker/plot draws learning curves.
//
// # Storage
//
// The file uses SQLite's WAL journal, so readers never block the writer.
// Each DB has one writer connection and a read-only pool; several
// processes may log into the same file at once. A write blocked by another
// process's long transaction waits it out with backoff
// (Options.WriteRetry) while metric points stay buffered; a full disk is
// ErrDiskFull, and the run's final status is still recorded thanks to a
// reserve file kept in its folder. Options.ReadOnly opens a database
// without writing anything and leaves no file behind (no -wal/-shm files
// either), which works on read-only files, folders and mounts; where a
// writer may start meanwhile, the reader sees what it commits. The schema is created and
// upgraded by numbered migrations embedded in the binary, applied in one
// transaction; a file from a newer lstmlab, or another program's SQLite
// file, is refused without being modified. Times are stored as Unix
// milliseconds.
package tracker
