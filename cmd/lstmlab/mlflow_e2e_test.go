package main

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lstmlab/lstmlab/mlflow"
	"github.com/lstmlab/lstmlab/mlflow/mlflowtest"
	"github.com/lstmlab/lstmlab/tracker"
)

// The MLflow end-to-end test: real lstmlab processes train and mirror to a real FastTrackML server
// (killed and restarted while they train), lstmlab sync copies the rest, and everything is read back
// through the server's REST API and looked at in its MLflow UI with headless Chromium.

func init() {
	// A developer's own tracking server must not receive the test runs of this package.
	for _, v := range []string{mlflow.EnvTrackingURI, mlflow.EnvTrackingUsername, mlflow.EnvTrackingPassword, mlflow.EnvTrackingToken} {
		os.Unsetenv(v)
	}
}

// bgProc is an lstmlab process running in the background, with its output kept.
type bgProc struct {
	cmd            *exec.Cmd
	stdout, stderr syncBuffer
	done           chan struct{}
	err            error
}

// syncBuffer is a bytes.Buffer that can be read while the process writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// launch runs lstmlab with the test's database in the background, with extra environment variables.
func (c *cli) launch(env []string, args ...string) *bgProc {
	c.t.Helper()
	p := &bgProc{done: make(chan struct{})}
	p.cmd = exec.Command(binary, append([]string{"--db", c.db}, args...)...)
	p.cmd.Dir = c.dir
	p.cmd.Env = append(append(os.Environ(), "GOMLX_BACKEND=go"), env...)
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	c.t.Cleanup(func() { _ = p.cmd.Process.Kill(); <-p.done })
	return p
}

func (p *bgProc) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// wait waits for the process to exit with the status want (0, or 130 after a SIGINT) and returns its
// stderr.
func (p *bgProc) wait(t *testing.T, what string, want int) string {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(5 * time.Minute):
		t.Fatalf("%s: still running after 5 minutes", what)
	}
	code := 0
	if ee, ok := p.err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if p.err != nil {
		t.Fatalf("%s: %v", what, p.err)
	}
	if code != want {
		t.Fatalf("%s: exit status %d, want %d\nstderr:\n%s", what, code, want, p.stderr.String())
	}
	return p.stderr.String()
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(timeout); !cond(); time.Sleep(200 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
	}
}

// remoteRuns returns the runs of an experiment on the server by name (none if it does not exist yet).
func remoteRuns(t *testing.T, c *mlflow.Client, experiment string) map[string]mlflow.Run {
	t.Helper()
	ctx := context.Background()
	exp, err := c.ExperimentByName(ctx, experiment)
	if mlflow.IsNotFound(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	runs, _, err := c.SearchRuns(ctx, mlflow.SearchRuns{ExperimentIDs: []string{exp.ID}, MaxResults: 1000})
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]mlflow.Run{}
	for _, r := range runs {
		if _, dup := byName[r.Info.Name]; dup {
			t.Errorf("two remote runs named %s", r.Info.Name)
		}
		byName[r.Info.Name] = r
	}
	return byName
}

// warnings returns the lines of stderr that are warnings.
func warnings(stderr string) []string {
	var w []string
	for line := range strings.SplitSeq(stderr, "\n") {
		if strings.Contains(line, "warning") {
			w = append(w, line)
		}
	}
	return w
}

// openTracker opens a database file the test's processes wrote.
func openTracker(t *testing.T, path string) *tracker.DB {
	t.Helper()
	db, err := tracker.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func runID(t *testing.T, db *tracker.DB, name string) int64 {
	t.Helper()
	info, err := db.FindRun(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return info.ID
}

func TestMirrorToMLflowEndToEnd(t *testing.T) {
	srv := mlflowtest.Start(t, mlflowtest.Options{})
	mlflowtest.Chromium(t) // fail (CI) or skip now rather than after minutes of training
	shots := mlflowtest.OutputDir(t)
	client, err := mlflow.NewClient(srv.URL, mlflow.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Two people on two machines: each has a database of their own.
	root := t.TempDir()
	for _, d := range []string{"alice", "bob"} {
		if err := os.Mkdir(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	alice := &cli{t: t, db: filepath.Join(root, "alice", "lab.db"), dir: filepath.Join(root, "alice")}
	bob := &cli{t: t, db: filepath.Join(root, "bob", "lab.db"), dir: filepath.Join(root, "bob")}
	sea := generatedText(t, root, "sea.txt", 1, seaWords)
	land := generatedText(t, root, "land.txt", 2, landWords)
	small := []string{"--preset", "tiny", "-q", "--experiment", "team", "--set=hidden=32", "--set=embed=16", "--set=batch=8", "--set=seq_len=32"}
	train := func(args ...string) []string { return append(append([]string{"train"}, small...), args...) }

	// 1. Two train processes mirror live to one server, which is killed mid-run and restarted.
	const steps = 8000
	a := alice.launch(nil, train("--data", sea, "--name", "a", "--note", "first of two", "--tag", "owner=alice",
		"--set=steps="+strconv.Itoa(steps), "--set=eval_every=2000", "--tracking-uri", srv.URL)...)
	b := bob.launch([]string{mlflow.EnvTrackingURI + "=" + srv.URL}, train("--data", land, "--name", "b", "--tag", "owner=bob",
		"--set=steps="+strconv.Itoa(steps), "--set=eval_every=2000", "--set=lr=1e-2")...)
	var mirrored map[string]int64 // the last step of each run on the server when it was killed
	waitFor(t, 2*time.Minute, "points of both runs on the server", func() bool {
		mirrored = map[string]int64{}
		for name, r := range remoteRuns(t, client, "team") {
			for _, m := range r.Data.Metrics {
				if m.Key == "train_loss" {
					mirrored[name] = m.Step
				}
			}
		}
		return len(mirrored) == 2
	})
	srv.Kill()
	if !a.running() || !b.running() {
		t.Fatal("a run ended before the server was killed: raise steps")
	}
	// Training goes on; each mirror meets the dead server (one warning line) and keeps trying.
	waitFor(t, time.Minute, "both mirrors to find the server down", func() bool {
		return len(warnings(a.stderr.String())) > 0 && len(warnings(b.stderr.String())) > 0
	})
	if !a.running() || !b.running() {
		t.Fatal("a run ended while the server was down: raise steps")
	}
	srv.Restart()
	// Live catch-up: the server receives the steps trained while it was down, while training goes on.
	if a.running() {
		waitFor(t, 2*time.Minute, "a's mirror to catch up", func() bool {
			r := remoteRuns(t, client, "team")["a"]
			for _, m := range r.Data.Metrics {
				if m.Key == "train_loss" && (m.Step > mirrored["a"]+100 || m.Step == steps) {
					return true
				}
			}
			return false
		})
	}
	for name, p := range map[string]*bgProc{"a": a, "b": b} {
		stderr := p.wait(t, "train "+name, 0)
		if w := warnings(stderr); len(w) != 1 || !strings.Contains(w[0], "unreachable") {
			t.Errorf("train %s: warnings %q; want exactly one, saying the server is unreachable", name, w)
		}
	}

	// 2. A run trained with mirroring off (--tracking-uri none beats $MLFLOW_TRACKING_URI), and a
	// fine-tuned child of a: both only local for now.
	alice.launch([]string{mlflow.EnvTrackingURI + "=" + srv.URL}, train("--data", sea, "--name", "c", "--set=steps=300",
		"--set=eval_every=100", "--tracking-uri", "none")...).wait(t, "train c", 0)
	alice.ok("train", "--preset", "tiny", "-q", "--experiment", "team", "--data", land, "--name", "d", "--init-from", "a",
		"--set=steps=200", "--set=eval_every=100")
	if runs := remoteRuns(t, client, "team"); len(runs) != 2 {
		t.Fatalf("remote runs %v; want only a and b before the sync", slices.Collect(maps.Keys(runs)))
	}

	// 3. A run interrupted by Ctrl-C while mirrored is KILLED there; resumed, it continues its remote run.
	env := []string{mlflow.EnvTrackingURI + "=" + srv.URL}
	e := alice.launch(env, train("--data", sea, "--name", "e", "--set=steps=1000000", "--set=eval_every=200")...)
	waitFor(t, 2*time.Minute, "points of e on the server", func() bool { return len(remoteRuns(t, client, "team")["e"].Data.Metrics) > 0 })
	if err := e.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	e.wait(t, "train e (interrupted)", 130) // the shell's status for SIGINT
	killed := remoteRuns(t, client, "team")["e"]
	if killed.Info.Status != mlflow.StatusKilled {
		t.Errorf("interrupted run e is %s on the server, want KILLED", killed.Info.Status)
	}
	db := openTracker(t, alice.db)
	eInfo, err := db.FindRun(context.Background(), "e")
	if err != nil {
		t.Fatal(err)
	}
	stopped := eInfo.Metrics["train_loss"].Last.Step
	alice.launch(env, "resume", "e", "--steps", strconv.FormatInt(stopped+50, 10), "-q").wait(t, "resume e", 0)
	resumed := remoteRuns(t, client, "team")["e"]
	if resumed.Info.ID != killed.Info.ID || resumed.Info.Status != mlflow.StatusFinished {
		t.Errorf("resumed e: remote run %s %s; want %s continued and FINISHED", resumed.Info.ID, resumed.Info.Status, killed.Info.ID)
	}

	// 4. sync copies what is missing (c, and d with a as its parent); syncing again sends nothing.
	var results []mlflow.SyncResult
	if err := json.Unmarshal([]byte(alice.ok("sync", "--tracking-uri", srv.URL, "--format", "json")), &results); err != nil {
		t.Fatal(err)
	}
	created := map[string]bool{}
	for _, r := range results {
		created[r.RunName] = r.Created
		if (r.RunName == "a" || r.RunName == "e") && r.Metrics+r.Params+r.Artifacts > 0 {
			t.Errorf("sync resent data of live-mirrored run %s: %+v", r.RunName, r)
		}
	}
	if len(results) != 4 || !created["c"] || !created["d"] || created["a"] || created["e"] {
		t.Errorf("sync results %+v; want a, c, d, e with c and d created", results)
	}
	again := alice.ok("sync", "--tracking-uri", srv.URL)
	if n := strings.Count(again, "up to date"); n != 4 {
		t.Errorf("second sync:\n%s\nwant 4 runs up to date", again)
	}

	// 5. Everything, read back through the REST API: complete histories, params, tags, status, parent.
	runs := remoteRuns(t, client, "team")
	if len(runs) != 5 {
		t.Fatalf("remote runs %v; want a, b, c, d, e", slices.Collect(maps.Keys(runs)))
	}
	bobDB := openTracker(t, bob.db)
	history := map[string]int{} // train_loss points per run
	for _, name := range []string{"a", "b", "c", "d", "e"} {
		d := db
		if name == "b" {
			d = bobDB
		}
		id := runID(t, d, name)
		r := mlflowtest.CheckRun(t, d, client, id)
		if r.Info.Status != mlflow.StatusFinished {
			t.Errorf("run %s is %s on the server", name, r.Info.Status)
		}
		info, _ := d.GetRun(context.Background(), id)
		history[name] = int(info.Metrics["train_loss"].Count)
	}
	if p := runs["d"].Data.TagMap()["mlflow.parentRunId"]; p != runs["a"].Info.ID {
		t.Errorf("d's mlflow.parentRunId = %q, want a's remote id %s", p, runs["a"].Info.ID)
	}
	if tags := runs["a"].Data.TagMap(); tags["mlflow.note.content"] != "first of two" || tags["owner"] != "alice" ||
		tags["mlflow.source.name"] != "lstmlab" || !strings.Contains(tags["lstmlab.command"], " train ") || tags["lstmlab.sample"] == "" {
		t.Errorf("tags of a: %v", tags)
	}
	if ao, bo := runs["a"].Data.TagMap()["lstmlab.origin"], runs["b"].Data.TagMap()["lstmlab.origin"]; ao == bo {
		t.Errorf("a and b, run 1 of two databases, share the origin %q", ao)
	}
	if history["a"] != steps || history["b"] != steps || history["e"] != int(stopped)+50 {
		t.Errorf("train_loss points: %v; want %d for a and b, %d for e", history, steps, stopped+50)
	}
	files, err := client.ListArtifacts(context.Background(), runs["c"].Info.ID, "")
	if err != nil || len(files) != 3 {
		t.Errorf("artifacts of c: %+v, %v; want curves.png, model/, samples.txt", files, err)
	}

	// 6. The MLflow UI lists the five runs (d nested under its parent a) and draws the full train_loss
	// curves of the four it shows (a child stays folded under its parent).
	exp, err := client.ExperimentByName(context.Background(), "team")
	if err != nil {
		t.Fatal(err)
	}
	table := mlflowtest.DOM(t, mlflowtest.ExperimentURL(srv, exp.ID, false))
	_ = os.WriteFile(filepath.Join(shots, "mlflow-runs.html"), []byte(table), 0o644)
	names := mlflowtest.RunNames(table)
	slices.Sort(names)
	if !slices.Equal(names, []string{"a", "b", "c", "e"}) || !strings.Contains(table, "<strong>5</strong> matching runs") {
		t.Errorf("the MLflow UI's runs table shows %q; want a, b, c, e and 5 matching runs (d under a)", names)
	}
	chart := mlflowtest.DOM(t, mlflowtest.ExperimentURL(srv, exp.ID, true))
	_ = os.WriteFile(filepath.Join(shots, "mlflow-charts.html"), []byte(chart), 0o644)
	lines := mlflowtest.ChartLines(chart, "train_loss")
	want := []int{history["a"], history["b"], history["c"], history["e"]}
	slices.Sort(lines)
	slices.Sort(want)
	if !slices.Equal(lines, want) {
		t.Errorf("the MLflow UI's train_loss chart draws lines of %v points; want %v (every run's full history)", lines, want)
	}
	child := mlflowtest.DOM(t, mlflowtest.RunURL(srv, exp.ID, runs["d"].Info.ID))
	_ = os.WriteFile(filepath.Join(shots, "mlflow-run-d.html"), []byte(child), 0o644)
	if !strings.Contains(child, "Parent Run") || !strings.Contains(child, `href="#/experiments/`+exp.ID+`/runs/`+runs["a"].Info.ID+`"`) {
		t.Error("the MLflow UI's page of run d does not link to its parent a")
	}
	mlflowtest.Screenshot(t, mlflowtest.ExperimentURL(srv, exp.ID, false), filepath.Join(shots, "mlflow-runs.png"))
	mlflowtest.Screenshot(t, mlflowtest.ExperimentURL(srv, exp.ID, true), filepath.Join(shots, "mlflow-charts.png"))
	mlflowtest.Screenshot(t, mlflowtest.RunURL(srv, exp.ID, runs["d"].Info.ID), filepath.Join(shots, "mlflow-run-d.png"))
	t.Logf("MLflow UI screenshots in %s", shots)
}

// TestTrainMirrorCredentials: MLflow's credential variables reach a server with basic auth, and the
// password appears nowhere lstmlab writes (output, database); without them, one warning line.
func TestTrainMirrorCredentials(t *testing.T) {
	const password = "pw-0b7a6e"
	srv := mlflowtest.Start(t, mlflowtest.Options{Username: "carol", Password: password})
	dir := t.TempDir()
	c := &cli{t: t, db: filepath.Join(dir, "lab.db"), dir: dir}
	sea := generatedText(t, dir, "sea.txt", 1, seaWords)
	args := func(name string) []string {
		return append([]string{"train", "--preset", "tiny", "--data", sea, "--name", name, "--tracking-uri", srv.URL},
			strings.Fields(tinyTrain)...)
	}
	denied := c.launch(nil, args("anonymous")...)
	stderr := denied.wait(t, "train without credentials", 0)
	if w := warnings(stderr); len(w) < 1 || !strings.Contains(w[0], "HTTP 401") || !strings.Contains(w[0], "MLFLOW_TRACKING_USERNAME") {
		t.Errorf("without credentials: warnings %q; want one naming HTTP 401 and MLFLOW_TRACKING_USERNAME", w)
	}
	p := c.launch([]string{mlflow.EnvTrackingUsername + "=carol", mlflow.EnvTrackingPassword + "=" + password}, args("signed-in")...)
	stderr = p.wait(t, "train with credentials", 0)
	if w := warnings(stderr); len(w) != 0 {
		t.Errorf("with credentials: warnings %q", w)
	}
	client, err := mlflow.NewClient(srv.URL, mlflow.ClientOptions{Credentials: mlflow.Credentials{Username: "carol", Password: password}})
	if err != nil {
		t.Fatal(err)
	}
	if r := remoteRuns(t, client, "default")["signed-in"]; r.Info.Status != mlflow.StatusFinished {
		t.Errorf("signed-in run on the server: %+v", r.Info)
	}
	if strings.Contains(p.stdout.String()+stderr, password) {
		t.Error("the password appears in lstmlab's output")
	}
	for _, f := range []string{"lab.db", "lab.db-wal"} {
		if b, err := os.ReadFile(filepath.Join(dir, f)); err == nil && bytes.Contains(b, []byte(password)) {
			t.Errorf("%s holds the password", f)
		}
	}
	c.fails("holds credentials", "sync", "--tracking-uri", "http://carol:"+password+"@"+strings.TrimPrefix(srv.URL, "http://"))
	c.fails("no MLflow tracking server", "sync")
	c.fails("http:// or https://", "train", "--preset", "tiny", "--data", sea, "--tracking-uri", "file:///tmp/mlruns")
}

// TestSyncAfterKill9: a mirrored training process killed outright leaves its remote run RUNNING; once the
// tracker sees the run is dead, sync marks it KILLED with everything the database holds.
func TestSyncAfterKill9(t *testing.T) {
	srv := mlflowtest.Start(t, mlflowtest.Options{})
	client, err := mlflow.NewClient(srv.URL, mlflow.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	c := &cli{t: t, db: filepath.Join(dir, "lab.db"), dir: dir}
	sea := generatedText(t, dir, "sea.txt", 1, seaWords)
	p := c.launch(nil, append([]string{"train", "--preset", "tiny", "--data", sea, "--name", "crashed", "-q",
		"--set=steps=1000000", "--set=eval_every=100", "--tracking-uri", srv.URL}, "--set=hidden=32", "--set=batch=8")...)
	waitFor(t, 2*time.Minute, "points on the server", func() bool { return len(remoteRuns(t, client, "default")["crashed"].Data.Metrics) > 0 })
	time.Sleep(time.Duration(time.Now().UnixNano()%1000) * time.Millisecond) // a random moment
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-p.done
	if r := remoteRuns(t, client, "default")["crashed"]; r.Info.Status != mlflow.StatusRunning {
		t.Fatalf("right after kill -9 the remote run is %s; want RUNNING (nobody could say otherwise)", r.Info.Status)
	}
	// On the run's host the tracker knows at once that the run is dead (the kernel released its lock).
	out := c.ok("sync", "--tracking-uri", srv.URL)
	if !strings.Contains(out, "KILLED") || strings.Contains(out, "created") {
		t.Fatalf("sync after the crash:\n%s\nwant the same remote run, KILLED", out)
	}
	db := openTracker(t, c.db)
	id := runID(t, db, "crashed")
	remote := mlflowtest.CheckRun(t, db, client, id) // every point the database kept
	last := c.runInfo("crashed").Metrics["train_loss"].Last.Step
	must(t, db.Close())

	// Resumed with the mirror on, it continues the same remote run. The steps after its last checkpoint
	// are trained and logged again; the server keeps the copies it had (it cannot delete points), which
	// hold the same values: one point per step on both sides.
	resumeOut := c.launch(nil, "resume", "crashed", "--steps", strconv.FormatInt(last+30, 10), "-q", "--tracking-uri", srv.URL).
		wait(t, "resume crashed", 0)
	db = openTracker(t, c.db)
	r := remoteRuns(t, client, "default")["crashed"]
	if r.Info.ID != remote.Info.ID || r.Info.Status != mlflow.StatusFinished {
		t.Errorf("after resume: remote run %s %s; want %s FINISHED", r.Info.ID, r.Info.Status, remote.Info.ID)
	}
	// An exact resume is not flagged as having rewritten the history.
	if tag, ok := r.Data.TagMap()[mlflow.TagHistoryRewritten]; ok || strings.Contains(resumeOut, "warning") {
		t.Errorf("exact resume flagged: tag %s=%q, output %q", mlflow.TagHistoryRewritten, tag, resumeOut)
	}
	local, err := db.History(context.Background(), id, "train_loss")
	must(t, err)
	got, err := client.MetricHistory(context.Background(), remote.Info.ID, "train_loss")
	must(t, err)
	if len(got) != len(local) {
		t.Fatalf("train_loss: %d points on the server, %d here", len(got), len(local))
	}
	for i := range local {
		if got[i].Step != local[i].Step || got[i].Value != local[i].Value {
			t.Errorf("train_loss point %d: server step %d value %v, here step %d value %v", i, got[i].Step, got[i].Value, local[i].Step, local[i].Value)
		}
	}
}

// TestSyncWarnsOfRewrittenHistory: a run synced up to step 20, then resumed from step 10 with other
// values (here logged through the tracker, as a resume with --set lr=... would log them): lstmlab sync
// says in one warning line that the server keeps the earlier values of steps 11-20, and tags the remote run.
func TestSyncWarnsOfRewrittenHistory(t *testing.T) {
	srv := mlflowtest.Start(t, mlflowtest.Options{})
	client, err := mlflow.NewClient(srv.URL, mlflow.ClientOptions{})
	must(t, err)
	dir := t.TempDir()
	c := &cli{t: t, db: filepath.Join(dir, "lab.db"), dir: dir}
	db := openTracker(t, c.db)
	ctx := context.Background()
	run, err := db.StartRun(ctx, tracker.RunSpec{Name: "rewritten"})
	must(t, err)
	for s := int64(1); s <= 20; s++ {
		must(t, run.LogMetric("train_loss", s, 1/float64(s)))
	}
	must(t, run.Finish(tracker.StatusInterrupted))
	must(t, db.Close())
	c.ok("sync", "--tracking-uri", srv.URL)

	db = openTracker(t, c.db)
	resumed, err := db.ResumeRun(ctx, run.ID())
	must(t, err)
	_, err = resumed.DiscardAfter(10)
	must(t, err)
	for s := int64(11); s <= 30; s++ {
		must(t, resumed.LogMetric("train_loss", s, 0.5/float64(s)))
	}
	must(t, resumed.Finish(tracker.StatusFinished))
	must(t, db.Close())
	_, stderr, code := c.run("sync", "--tracking-uri", srv.URL)
	if code != 0 || strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, "lstmlab: warning: MLflow mirror: run 1 (rewritten) was resumed from step 10") ||
		!strings.Contains(stderr, "steps 11-20") {
		t.Errorf("sync after a rewriting resume: exit %d, stderr %q; want one warning naming steps 11-20", code, stderr)
	}
	if tag := remoteRuns(t, client, "default")["rewritten"].Data.TagMap()[mlflow.TagHistoryRewritten]; tag != "10" {
		t.Errorf("remote run tag %s = %q, want 10", mlflow.TagHistoryRewritten, tag)
	}
	if _, stderr, _ := c.run("sync", "--tracking-uri", srv.URL); stderr != "" {
		t.Errorf("second sync: stderr %q, want nothing (the tag records it)", stderr)
	}
}

// TestStopSignalsDuringMirrorFinish: a tracking server that accepts connections and never answers keeps
// the end-of-command mirror waiting (up to a minute). A SIGHUP then (training finished) gives up at once:
// exit 129 and one line naming the sync that finishes the job. A second Ctrl-C (the first stopped
// training) does the same with 130, instead of exiting without that line.
func TestStopSignalsDuringMirrorFinish(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	defer l.Close()
	var conns []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, conn) // held open, never answered
			mu.Unlock()
		}
	}()
	defer func() {
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	}()
	uri := "http://" + l.Addr().String()
	dir := t.TempDir()
	c := &cli{t: t, db: filepath.Join(dir, "lab.db"), dir: dir}
	sea := generatedText(t, dir, "sea.txt", 1, seaWords)
	for _, tc := range []struct {
		name    string
		steps   string
		signals []syscall.Signal
		code    int
	}{
		{"hup", "--set=steps=20", []syscall.Signal{syscall.SIGHUP}, 129},
		{"twice", "--set=steps=1000000", []syscall.Signal{syscall.SIGINT, syscall.SIGINT}, 130},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := c.launch(nil, append([]string{"train", "--preset", "tiny", "--data", sea, "--name", tc.name, "-q", "--tracking-uri", uri, tc.steps},
				"--set=hidden=32", "--set=eval_every=10", "--set=batch=8")...)
			if len(tc.signals) == 2 { // the first stops training
				waitFor(t, time.Minute, "training under way", func() bool {
					out, _, code := c.run("runs", "--filter", "name = '"+tc.name+"' and metrics.train_loss > 0", "--format", "csv")
					return code == 0 && strings.Contains(out, tc.name)
				})
				must(t, p.cmd.Process.Signal(tc.signals[0]))
			}
			waitFor(t, 2*time.Minute, "the result printed (the mirror then finishes)", func() bool { return strings.Contains(p.stdout.String(), "checkpoint:") })
			time.Sleep(300 * time.Millisecond) // into finish's wait
			sent := time.Now()
			must(t, p.cmd.Process.Signal(tc.signals[len(tc.signals)-1]))
			stderr := p.wait(t, tc.name, tc.code)
			if waited := time.Since(sent); waited > 10*time.Second {
				t.Errorf("the command took %v to end after the signal", waited)
			}
			// The sync is of this database's run: with --db, as the resume hint.
			hint := "lstmlab --db " + c.db + " sync "
			if !strings.Contains(stderr, "not fully mirrored to "+uri) || !strings.Contains(stderr, hint+"1 --tracking-uri "+uri) && !strings.Contains(stderr, hint+"2 --tracking-uri "+uri) {
				t.Errorf("stderr %q: want the line naming the sync that finishes the job (%s...)", stderr, hint)
			}
		})
	}
}
