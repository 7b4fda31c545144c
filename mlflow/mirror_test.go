package mlflow_test

import (
	"bytes"
	"context"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lstmlab/lstmlab/mlflow"
	"github.com/lstmlab/lstmlab/mlflow/mlflowtest"
	"github.com/lstmlab/lstmlab/tracker"
)

// These tests mirror real tracker databases to a real FastTrackML server and read everything back
// through its REST API.

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func openDB(t *testing.T) *tracker.DB {
	t.Helper()
	db, err := tracker.Open(filepath.Join(t.TempDir(), "lstmlab.db"))
	must(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

func newMirror(t *testing.T, db *tracker.DB, srv *mlflowtest.Server, creds mlflow.Credentials) (*mlflow.Mirror, *[]string) {
	t.Helper()
	c, err := mlflow.NewClient(srv.URL, mlflow.ClientOptions{Credentials: creds})
	must(t, err)
	var mu sync.Mutex
	notes := &[]string{}
	return mlflow.NewMirror(db, c, mlflow.MirrorOptions{Note: func(s string) { mu.Lock(); *notes = append(*notes, s); mu.Unlock() }}), notes
}

// checkHistories asserts that the server holds a complete copy of the run (mlflowtest.CheckRun) under
// remoteID and returns the number of points the run has.
func checkHistories(t *testing.T, db *tracker.DB, c *mlflow.Client, runID int64, remoteID string) int {
	t.Helper()
	if r := mlflowtest.CheckRun(t, db, c, runID); r.Info.ID != remoteID {
		t.Errorf("run %d is remote run %s, want %s", runID, r.Info.ID, remoteID)
	}
	info, err := db.GetRun(context.Background(), runID)
	must(t, err)
	total := 0
	for _, m := range info.Metrics {
		total += int(m.Count)
	}
	return total
}

func writeFile(t *testing.T, path, content string) string {
	t.Helper()
	must(t, os.WriteFile(path, []byte(content), 0o644))
	return path
}

func TestSyncCopiesEverything(t *testing.T) {
	srv := mlflowtest.Start(t, mlflowtest.Options{})
	db := openDB(t)
	ctx := context.Background()
	dir := t.TempDir()

	parent, err := db.StartRun(ctx, tracker.RunSpec{Experiment: "study", Name: "base"})
	must(t, err)
	must(t, parent.LogMetric("train_loss", 0, 4.2))
	must(t, parent.Finish(tracker.StatusFinished))

	run, err := db.StartRun(ctx, tracker.RunSpec{Experiment: "study", Name: "child", Command: "lstmlab train --init-from base",
		GitCommit: "abc1234", Backend: "go", Host: "box", Tags: map[string]string{"purpose": "test", "odd:key": "x"},
		Note: "fine-tuned on notes", ParentID: parent.ID()})
	must(t, err)
	must(t, run.LogParams(map[string]any{"hidden": 64, "lr": 3e-4, "optimizer": "adam", "tie": true, "data": strings.Repeat("d", 600)}))
	for step := range 2500 { // three log-batch requests
		must(t, run.LogMetrics(int64(step), map[string]float64{"train_loss": 3 - float64(step)/1000, "lr": 3e-4}))
	}
	for i, v := range []float64{2.5, math.NaN(), math.Inf(1), math.Inf(-1), 1.25} {
		must(t, run.LogMetric("val_loss", int64(500*i), v))
	}
	must(t, run.LogSample(tracker.Sample{Step: 500, Prompt: "Call me", Text: " Ishmael.", Temperature: 0.8, Seed: 1}))
	must(t, run.LogSample(tracker.Sample{Step: 2000, Prompt: "Call me", Text: " Ahab, said the whale.", Temperature: 0.8, Seed: 2}))
	plot := writeFile(t, filepath.Join(dir, "curves.png"), "\x89PNG fake plot")
	model := writeFile(t, filepath.Join(dir, "best.safetensors"), "weights")
	ckpt := writeFile(t, filepath.Join(dir, "checkpoint.safetensors"), "optimizer state")
	for kind, path := range map[string]string{tracker.ArtifactPlot: plot, tracker.ArtifactModel: model, tracker.ArtifactCheckpoint: ckpt} {
		_, err := run.LogArtifact(kind, path)
		must(t, err)
	}
	must(t, run.Finish(tracker.StatusFinished))

	m, notes := newMirror(t, db, srv, mlflow.Credentials{})
	res, err := m.SyncRun(ctx, run.ID())
	must(t, err)
	if !res.Created || res.Status != mlflow.StatusFinished || res.Metrics != 5005 || res.Params != 5 || res.Artifacts != 3 {
		t.Errorf("sync result %+v; want created, FINISHED, 5005 points, 5 params, 3 artifacts", res)
	}
	if len(*notes) > 0 {
		t.Errorf("notes: %q", *notes)
	}

	c := m.Client()
	exp, err := c.ExperimentByName(ctx, "study")
	must(t, err)
	r, err := c.GetRun(ctx, res.RemoteID)
	must(t, err)
	info, err := db.GetRun(ctx, run.ID())
	must(t, err)
	if r.Info.ExperimentID != exp.ID || r.Info.Name != "child" || r.Info.Status != mlflow.StatusFinished ||
		r.Info.StartTime != info.Start.UnixMilli() || r.Info.EndTime != info.End.UnixMilli() {
		t.Errorf("remote run info %+v; want experiment %s, name child, FINISHED, start %d, end %d",
			r.Info, exp.ID, info.Start.UnixMilli(), info.End.UnixMilli())
	}
	wantParams := map[string]string{"hidden": "64", "lr": "0.0003", "optimizer": "adam", "tie": "true",
		"data": strings.Repeat("d", 497) + "…"}
	params := r.Data.ParamMap()
	for k, v := range wantParams {
		if params[k] != v {
			t.Errorf("param %s = %q, want %q", k, params[k], v)
		}
	}
	parentRemote, err := db.RemoteRun(ctx, parent.ID(), c.URI())
	must(t, err)
	if parentRemote == "" {
		t.Fatal("the parent was not synced first")
	}
	tags := r.Data.TagMap()
	for k, v := range map[string]string{
		"mlflow.note.content":      "fine-tuned on notes",
		"mlflow.parentRunId":       parentRemote,
		"mlflow.source.name":       "lstmlab train",
		"lstmlab.command":          "lstmlab train --init-from base",
		"mlflow.source.git.commit": "abc1234",
		"mlflow.runName":           "child",
		"purpose":                  "test",
		"odd_key":                  "x",
		"lstmlab.run_id":           strconv.FormatInt(run.ID(), 10),
		"lstmlab.backend":          "go",
		"lstmlab.sample":           "Call me Ahab, said the whale.",
		"lstmlab.sample_step":      "2000",
	} {
		if tags[k] != v {
			t.Errorf("tag %s = %q, want %q", k, tags[k], v)
		}
	}
	if tags["mlflow.user"] == "" {
		t.Error("no mlflow.user on the remote run")
	}
	if n := checkHistories(t, db, c, run.ID(), res.RemoteID); n != 5005 {
		t.Errorf("%d points compared, want 5005", n)
	}

	// Artifacts: written where the server keeps them, and listed by it; never the checkpoint.
	files, err := c.ListArtifacts(ctx, res.RemoteID, "")
	must(t, err)
	listed := map[string]bool{}
	for _, f := range files {
		listed[f.Path] = true
	}
	if !listed["curves.png"] || !listed["samples.txt"] || !listed["model"] || len(files) != 3 {
		t.Errorf("artifacts listed by the server: %+v; want curves.png, model/, samples.txt", files)
	}
	root := filepath.Join(srv.ArtifactRoot(), exp.ID, res.RemoteID, "artifacts")
	for name, want := range map[string]string{"curves.png": "\x89PNG fake plot", "model/best.safetensors": "weights"} {
		if b, err := os.ReadFile(filepath.Join(root, name)); err != nil || string(b) != want {
			t.Errorf("artifact %s: %q, %v", name, b, err)
		}
	}
	samples, err := os.ReadFile(filepath.Join(root, "samples.txt"))
	must(t, err)
	if !bytes.Contains(samples, []byte("--- step 500 ")) || !bytes.Contains(samples, []byte("Call me Ahab, said the whale.")) {
		t.Errorf("samples.txt:\n%s", samples)
	}

	// The parent: finished, with its own history, no parent of its own.
	pr, err := c.GetRun(ctx, parentRemote)
	must(t, err)
	if pr.Info.Status != mlflow.StatusFinished || pr.Data.TagMap()["mlflow.parentRunId"] != "" {
		t.Errorf("parent %+v", pr.Info)
	}
	checkHistories(t, db, c, parent.ID(), parentRemote)
}

func TestResyncSendsOnlyWhatIsNew(t *testing.T) {
	srv := mlflowtest.Start(t, mlflowtest.Options{})
	db := openDB(t)
	ctx := context.Background()
	m, _ := newMirror(t, db, srv, mlflow.Credentials{})
	c := m.Client()

	run, err := db.StartRun(ctx, tracker.RunSpec{Name: "long"})
	must(t, err)
	must(t, run.LogParams(map[string]any{"hidden": 64, "lr": 0.01}))
	logSteps := func(r *tracker.Run, from, to int) {
		for s := from; s < to; s++ {
			must(t, r.LogMetrics(int64(s), map[string]float64{"train_loss": 1 / float64(s+1), "lr": 0.01}))
		}
	}
	logSteps(run, 0, 100)
	first, err := m.SyncRun(ctx, run.ID())
	must(t, err)
	if !first.Created || first.Status != mlflow.StatusRunning || first.Metrics != 200 {
		t.Fatalf("first sync %+v; want a created RUNNING run with 200 points", first)
	}
	again, err := m.SyncRun(ctx, run.ID())
	must(t, err)
	if again.Sent() || again.RemoteID != first.RemoteID {
		t.Errorf("sync with nothing new: %+v; want nothing sent, same remote run", again)
	}
	logSteps(run, 100, 150)
	more, err := m.SyncRun(ctx, run.ID())
	must(t, err)
	if more.Metrics != 100 || more.Params != 0 || more.Created {
		t.Errorf("sync after 50 more steps: %+v; want exactly 100 new points", more)
	}
	must(t, run.Finish(tracker.StatusInterrupted)) // Ctrl-C
	stopped, err := m.SyncRun(ctx, run.ID())
	must(t, err)
	r, err := c.GetRun(ctx, first.RemoteID)
	must(t, err)
	info, err := db.GetRun(ctx, run.ID())
	must(t, err)
	if stopped.Status != mlflow.StatusKilled || r.Info.Status != mlflow.StatusKilled || r.Info.EndTime != info.End.UnixMilli() {
		t.Errorf("interrupted run: result %s, server %s end %d; want KILLED, end %d", stopped.Status, r.Info.Status, r.Info.EndTime, info.End.UnixMilli())
	}

	// Resumed locally: the same remote run continues, in a new process (a new Mirror).
	resumed, err := db.ResumeRun(ctx, run.ID())
	must(t, err)
	must(t, resumed.ChangeParams(150, map[string]any{"lr": 0.001, "hidden": 64}))
	logSteps(resumed, 140, 200) // steps 140..149 repeat a checkpoint's and are ignored by the tracker
	m2, _ := newMirror(t, db, srv, mlflow.Credentials{})
	cont, err := m2.SyncRun(ctx, run.ID())
	must(t, err)
	if cont.RemoteID != first.RemoteID || cont.Created || cont.Status != mlflow.StatusRunning || cont.Metrics != 100 || cont.Params != 1 {
		t.Errorf("resumed run: %+v; want remote run %s continued, RUNNING, 100 new points, 1 new param", cont, first.RemoteID)
	}
	r, err = c.GetRun(ctx, first.RemoteID)
	must(t, err)
	if p := r.Data.ParamMap(); p["lr"] != "0.01" || p["lr.from_step_150"] != "0.001" || len(p) != 3 {
		t.Errorf("params after a change on resume: %v; want lr 0.01 and lr.from_step_150 0.001 besides hidden", p)
	}
	must(t, resumed.Finish(tracker.StatusFailed))
	final, err := m2.SyncRun(ctx, run.ID())
	must(t, err)
	if final.Status != mlflow.StatusFailed {
		t.Errorf("failed run mirrored as %s", final.Status)
	}
	if n := checkHistories(t, db, c, run.ID(), first.RemoteID); n != 400 {
		t.Errorf("%d points on both sides, want 400", n)
	}

	// A sync that created the remote run but died before recording its id (here: a record pointing
	// at a run the server does not know) finds the run by its origin tag instead of creating another.
	must(t, db.SetRemoteRun(ctx, run.ID(), c.URI(), "0123456789abcdef0123456789abcdef"))
	found, err := m2.SyncRun(ctx, run.ID())
	must(t, err)
	if found.RemoteID != first.RemoteID || found.Created || found.Metrics != 0 {
		t.Errorf("after losing the link: %+v; want remote run %s found again, nothing resent", found, first.RemoteID)
	}
	runs, _, err := c.SearchRuns(ctx, mlflow.SearchRuns{ExperimentIDs: []string{first.ExperimentID}})
	must(t, err)
	if len(runs) != 1 {
		t.Errorf("%d remote runs, want 1", len(runs))
	}
}

func TestLiveMirrorCatchesUpAfterServerRestart(t *testing.T) {
	srv := mlflowtest.Start(t, mlflowtest.Options{})
	db := openDB(t)
	ctx := context.Background()
	m, _ := newMirror(t, db, srv, mlflow.Credentials{})
	var mu sync.Mutex
	var warnings []string
	live := m.StartLive(mlflow.LiveOptions{Interval: 100 * time.Millisecond, MaxBackoff: 400 * time.Millisecond,
		Warn: func(s string) { mu.Lock(); warnings = append(warnings, s); mu.Unlock() }})

	run, err := db.StartRun(ctx, tracker.RunSpec{Name: "live"})
	must(t, err)
	live.Add(run.ID())
	step := 0
	logFor := func(d time.Duration) {
		for end := time.Now().Add(d); time.Now().Before(end); step++ {
			must(t, run.LogMetric("train_loss", int64(step), float64(step)))
			time.Sleep(2 * time.Millisecond)
		}
	}
	remoteSteps := func() int64 {
		id, err := db.RemoteRun(ctx, run.ID(), m.Client().URI())
		if err != nil || id == "" {
			return -1
		}
		r, err := m.Client().GetRun(ctx, id)
		if err != nil || len(r.Data.Metrics) == 0 {
			return -1
		}
		return r.Data.Metrics[0].Step
	}
	logFor(500 * time.Millisecond)
	deadline := time.Now().Add(20 * time.Second)
	for remoteSteps() < 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if remoteSteps() < 0 {
		t.Fatal("nothing reached the server while it was up")
	}
	srv.Kill()
	logFor(time.Second)
	srv.Restart()
	logFor(time.Second)
	must(t, run.Finish(tracker.StatusFinished))
	closeCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	behind, err := live.Close(closeCtx)
	if len(behind) > 0 || err != nil {
		t.Fatalf("after Close: runs %v behind: %v", behind, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(warnings) != 1 || !strings.Contains(warnings[0], "unreachable") {
		t.Errorf("warnings %q; want exactly one, saying the server is unreachable", warnings)
	}
	id, err := db.RemoteRun(ctx, run.ID(), m.Client().URI())
	must(t, err)
	r, err := m.Client().GetRun(ctx, id)
	must(t, err)
	if r.Info.Status != mlflow.StatusFinished {
		t.Errorf("remote status %s, want FINISHED", r.Info.Status)
	}
	if n := checkHistories(t, db, m.Client(), run.ID(), id); n != step {
		t.Errorf("%d points compared, %d logged", n, step)
	}
}

func TestBasicAuth(t *testing.T) {
	const password = "pw-5f1e2d3c"
	srv := mlflowtest.Start(t, mlflowtest.Options{Username: "alice", Password: password})
	db := openDB(t)
	ctx := context.Background()
	run, err := db.StartRun(ctx, tracker.RunSpec{Name: "guarded"})
	must(t, err)
	must(t, run.LogMetric("train_loss", 0, 1))
	must(t, run.Finish(tracker.StatusFinished))

	anon, _ := newMirror(t, db, srv, mlflow.Credentials{})
	_, err = anon.SyncRun(ctx, run.ID())
	if err == nil || !strings.Contains(err.Error(), "HTTP 401") || !strings.Contains(err.Error(), "MLFLOW_TRACKING_USERNAME") {
		t.Errorf("without credentials: %v; want HTTP 401 naming MLFLOW_TRACKING_USERNAME", err)
	}
	wrong, _ := newMirror(t, db, srv, mlflow.Credentials{Username: "alice", Password: "nope"})
	if _, err := wrong.SyncRun(ctx, run.ID()); err == nil {
		t.Error("a wrong password was accepted")
	}
	m, _ := newMirror(t, db, srv, mlflow.Credentials{Username: "alice", Password: password})
	res, err := m.SyncRun(ctx, run.ID())
	must(t, err)
	if res.Status != mlflow.StatusFinished || res.Metrics != 1 {
		t.Errorf("with credentials: %+v", res)
	}
	must(t, db.Close())
	for _, f := range []string{"lstmlab.db", "lstmlab.db-wal"} {
		b, err := os.ReadFile(filepath.Join(filepath.Dir(db.Path()), f))
		if err == nil && bytes.Contains(b, []byte(password)) {
			t.Errorf("%s holds the password", f)
		}
	}
}

func TestRemoteParams(t *testing.T) {
	current := map[string]any{"lr": 0.0001, "steps": int64(3000), "hidden": int64(64), "clip": 1.0}
	changes := []tracker.ParamChange{
		{Key: "lr", Step: 1001, Old: 0.003, Value: 0.001},
		{Key: "steps", Step: 1001, Old: int64(1000), Value: int64(3000)},
		{Key: "clip", Step: 1001, Old: nil, Value: 1.0}, // a key the run did not have
		{Key: "lr", Step: 2001, Old: 0.001, Value: 0.0001},
	}
	got := mlflow.RemoteParams(current, changes)
	want := map[string]string{"lr": "0.003", "lr.from_step_1001": "0.001", "lr.from_step_2001": "0.0001",
		"steps": "1000", "steps.from_step_1001": "3000", "hidden": "64", "clip": "1"}
	if len(got) != len(want) {
		t.Errorf("RemoteParams = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("param %s = %q, want %q", k, got[k], v)
		}
	}
}

// TestSyncFromReadOnlyCopy: a database opened read-only (another user's, a read-only mount) syncs too;
// with no record of the remote run, the next sync finds it by the run's UUID.
func TestSyncFromReadOnlyCopy(t *testing.T) {
	srv := mlflowtest.Start(t, mlflowtest.Options{})
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "lstmlab.db")
	w, err := tracker.Open(path)
	must(t, err)
	run, err := w.StartRun(ctx, tracker.RunSpec{Name: "shared"})
	must(t, err)
	must(t, run.LogMetric("train_loss", 0, 2))
	must(t, run.Finish(tracker.StatusFinished))
	must(t, w.Close())

	var remote string
	for i := range 2 {
		db, err := tracker.OpenWith(path, tracker.Options{ReadOnly: true})
		must(t, err)
		m, _ := newMirror(t, db, srv, mlflow.Credentials{})
		res, err := m.SyncRun(ctx, run.ID())
		must(t, err)
		if i == 0 && (!res.Created || res.Metrics != 1) || i == 1 && (res.Sent() || res.RemoteID != remote) {
			t.Errorf("sync %d from a read-only database: %+v", i+1, res)
		}
		remote = res.RemoteID
		mlflowtest.CheckRun(t, db, m.Client(), run.ID())
		must(t, db.Close())
	}
}

// TestResumeThatRewritesHistory: a run mirrored up to step 20 is resumed from its checkpoint at step 10
// (DiscardAfter) and logs steps 11-30 again. When the new values are the old ones (an exact resume) the
// server's copy is the run's: nothing is flagged. When they differ (a resume that changed settings) the
// server keeps its earlier values of steps 11-20 (MLflow cannot delete points): the remote run is tagged
// TagHistoryRewritten=10 before any later point goes up, one warning says so, and a later sync from
// another process neither warns again nor sends anything twice. Syncs while the resumed run is still
// below step 20 send nothing of those metrics and decide nothing yet.
func TestResumeThatRewritesHistory(t *testing.T) {
	srv := mlflowtest.Start(t, mlflowtest.Options{})
	db := openDB(t)
	ctx := context.Background()
	for _, changed := range []bool{false, true} {
		name := map[bool]string{false: "exact", true: "changed"}[changed]
		t.Run(name, func(t *testing.T) {
			var warnings []string
			c, err := mlflow.NewClient(srv.URL, mlflow.ClientOptions{})
			must(t, err)
			m := mlflow.NewMirror(db, c, mlflow.MirrorOptions{Warn: func(s string) { warnings = append(warnings, s) }})
			run, err := db.StartRun(ctx, tracker.RunSpec{Name: name})
			must(t, err)
			value := func(s int, factor float64) map[string]float64 {
				return map[string]float64{"train_loss": factor / float64(s), "lr": 0.01 * factor}
			}
			for s := 1; s <= 20; s++ {
				must(t, run.LogMetrics(int64(s), value(s, 1)))
			}
			first, err := m.SyncRun(ctx, run.ID())
			must(t, err)
			must(t, run.Finish(tracker.StatusInterrupted))

			resumed, err := db.ResumeRun(ctx, run.ID())
			must(t, err)
			n, err := resumed.DiscardAfter(10)
			must(t, err)
			if n != 20 {
				t.Fatalf("discarded %d points, want 20", n)
			}
			factor := 1.0
			if changed {
				factor = 0.5
			}
			for s := 11; s <= 15; s++ {
				must(t, resumed.LogMetrics(int64(s), value(s, factor)))
			}
			early, err := m.SyncRun(ctx, run.ID())
			must(t, err)
			if early.Metrics != 0 || len(warnings) != 0 {
				t.Errorf("sync at step 15 of 20: %d points sent, warnings %q; want none yet", early.Metrics, warnings)
			}
			for s := 16; s <= 30; s++ {
				must(t, resumed.LogMetrics(int64(s), value(s, factor)))
			}
			res, err := m.SyncRun(ctx, run.ID())
			must(t, err)
			if res.Metrics != 20 || res.RemoteID != first.RemoteID {
				t.Errorf("sync at step 30: %+v; want the 20 points of steps 21-30 on remote run %s", res, first.RemoteID)
			}
			r, err := c.GetRun(ctx, first.RemoteID)
			must(t, err)
			tag, tagged := r.Data.TagMap()[mlflow.TagHistoryRewritten]
			switch {
			case !changed && (tagged || len(warnings) != 0):
				t.Errorf("exact resume flagged: tag %q, warnings %q", tag, warnings)
			case changed && (tag != "10" || len(warnings) != 1 || !strings.Contains(warnings[0], "resumed from step 10") ||
				!strings.Contains(warnings[0], "steps 11-20")):
				t.Errorf("changed resume: tag %s=%q, warnings %q; want 10 and one warning naming steps 11-20", mlflow.TagHistoryRewritten, tag, warnings)
			}
			// The server: one point per step, 1-30; steps 11-20 as first sent, 21-30 the run's new values.
			got, err := c.MetricHistory(ctx, first.RemoteID, "train_loss")
			must(t, err)
			if len(got) != 30 {
				t.Fatalf("%d train_loss points on the server, want 30", len(got))
			}
			for _, p := range got {
				want := 1 / float64(p.Step)
				if p.Step > 20 || (p.Step > 10 && !changed) {
					want = factor / float64(p.Step)
				}
				if p.Value != want {
					t.Errorf("server train_loss step %d = %v, want %v", p.Step, p.Value, want)
				}
			}
			must(t, resumed.Finish(tracker.StatusFinished))
			m2 := mlflow.NewMirror(db, c, mlflow.MirrorOptions{Warn: func(s string) { warnings = append(warnings, s) }})
			again, err := m2.SyncRun(ctx, run.ID())
			must(t, err)
			if again.Metrics != 0 || len(warnings) != map[bool]int{false: 0, true: 1}[changed] {
				t.Errorf("sync from another process: %d points, warnings %q; want nothing new", again.Metrics, warnings)
			}
			mlflowtest.CheckRun(t, db, c, run.ID())
		})
	}
}

// TestSyncDeletesDeletedTags: a tag deleted locally (lstmlab tag --delete) is deleted on the server by the
// next sync (runs/delete-tag), while tags set on the server by someone else and MLflow's own tags stay.
func TestSyncDeletesDeletedTags(t *testing.T) {
	srv := mlflowtest.Start(t, mlflowtest.Options{})
	db := openDB(t)
	ctx := context.Background()
	run, err := db.StartRun(ctx, tracker.RunSpec{Experiment: "tags", Name: "tagged", Tags: map[string]string{"team": "nlp"}})
	must(t, err)
	must(t, run.LogMetric("train_loss", 1, 2.5))
	must(t, run.Finish(tracker.StatusFinished))
	must(t, db.SetTags(ctx, run.ID(), map[string]string{"stage": "final"}))
	m, _ := newMirror(t, db, srv, mlflow.Credentials{})
	res, err := m.SyncRun(ctx, run.ID())
	must(t, err)
	c := m.Client()
	// Someone sets a tag of their own on the server.
	must(t, c.LogBatch(ctx, res.RemoteID, mlflow.Batch{Tags: []mlflow.Tag{{Key: "reviewer", Value: "bob"}}}))

	must(t, db.DeleteTags(ctx, run.ID(), []string{"stage"}))
	res, err = m.SyncRun(ctx, run.ID())
	must(t, err)
	if res.TagsDeleted != 1 || !res.Sent() {
		t.Errorf("second sync: %+v, want one tag deleted", res)
	}
	r, err := c.GetRun(ctx, res.RemoteID)
	must(t, err)
	tags := r.Data.TagMap()
	if _, ok := tags["stage"]; ok {
		t.Errorf("tag stage, deleted here, still on the server: %v", tags)
	}
	if tags["team"] != "nlp" || tags["reviewer"] != "bob" || tags["mlflow.runName"] != "tagged" || tags[mlflow.TagUserTags] != `["team"]` {
		t.Errorf("tags on the server after the deletion: %v", tags)
	}
	mlflowtest.CheckRun(t, db, c, run.ID())
	if res, err := m.SyncRun(ctx, run.ID()); err != nil || res.Sent() {
		t.Errorf("a third sync sent %+v, %v; want nothing", res, err)
	}

	must(t, db.DeleteTags(ctx, run.ID(), []string{"team"})) // the last one: the list empties
	res, err = m.SyncRun(ctx, run.ID())
	must(t, err)
	r, err = c.GetRun(ctx, res.RemoteID)
	must(t, err)
	if tags := r.Data.TagMap(); tags["team"] != "" || tags[mlflow.TagUserTags] != "[]" || tags["reviewer"] != "bob" || res.TagsDeleted != 1 {
		t.Errorf("after deleting the last tag: %v (%+v)", tags, res)
	}
}

// lostCreates counts experiments/create requests the server refused: races lost to another process.
type lostCreates struct{ n atomic.Int64 }

func (l *lostCreates) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err == nil && strings.HasSuffix(req.URL.Path, "/experiments/create") && resp.StatusCode != http.StatusOK {
		l.n.Add(1)
	}
	return resp, err
}

// TestConcurrentSyncsCreateOneExperiment is several machines mirroring into an experiment that does not
// exist yet, at the same moment: all create it, all but one lose the race (FastTrackML answers HTTP 500,
// MLflow RESOURCE_ALREADY_EXISTS), and all must still land in the one experiment, without an error. Rounds
// go on until a race was lost at least once, so the test shows the losing side works.
func TestConcurrentSyncsCreateOneExperiment(t *testing.T) {
	srv := mlflowtest.Start(t, mlflowtest.Options{})
	ctx := context.Background()
	const machines, maxRounds = 4, 20
	lost := &lostCreates{}
	c, err := mlflow.NewClient(srv.URL, mlflow.ClientOptions{})
	must(t, err)
	for round := 0; round < maxRounds && lost.n.Load() == 0; round++ {
		experiment := "shared-" + strconv.Itoa(round)
		mirrors, runIDs := make([]*mlflow.Mirror, machines), make([]int64, machines)
		for k := range machines {
			db := openDB(t)
			run, err := db.StartRun(ctx, tracker.RunSpec{Experiment: experiment, Name: "m" + strconv.Itoa(k)})
			must(t, err)
			must(t, run.LogMetric("train_loss", 0, 1))
			must(t, run.Finish(tracker.StatusFinished))
			client, err := mlflow.NewClient(srv.URL, mlflow.ClientOptions{HTTPClient: &http.Client{Transport: lost}})
			must(t, err)
			mirrors[k], runIDs[k] = mlflow.NewMirror(db, client, mlflow.MirrorOptions{}), run.ID()
		}
		start := make(chan struct{})
		errs := make([]error, machines)
		var wg sync.WaitGroup
		for k := range machines {
			wg.Go(func() {
				<-start
				_, errs[k] = mirrors[k].SyncRun(ctx, runIDs[k])
			})
		}
		close(start)
		wg.Wait()
		for k, err := range errs {
			if err != nil {
				t.Errorf("round %d, machine %d: %v", round, k, err)
			}
		}
		e, err := c.ExperimentByName(ctx, experiment)
		must(t, err)
		runs, _, err := c.SearchRuns(ctx, mlflow.SearchRuns{ExperimentIDs: []string{e.ID}, MaxResults: 100})
		must(t, err)
		if len(runs) != machines {
			t.Errorf("round %d: experiment %s holds %d runs; want %d", round, e.ID, len(runs), machines)
		}
	}
	if lost.n.Load() == 0 {
		t.Fatalf("no create lost a race in %d rounds of %d machines: the test did not reach the losing side", maxRounds, machines)
	}
	t.Logf("%d creates lost a race", lost.n.Load())
}
