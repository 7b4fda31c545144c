package tracker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var ctx = context.Background()

func TestLogAndReadBack(t *testing.T) {
	db := openTemp(t, Options{})
	r := startRun(t, db, RunSpec{
		Experiment: "moby", Name: "moby-256", Command: "lstmlab train --preset moby", GitCommit: "abc123",
		Backend: "go", Host: "box", Tags: map[string]string{"purpose": "test"}, Note: "first try",
	})
	must(t, r.LogParams(map[string]any{"hidden": 256, "lr": 0.002, "optimizer": "adam", "dropout_on": true}))
	// Three evaluations; the best val_loss is at step 200, the best val_acc
	// at step 300.
	evals := []struct {
		step          int64
		loss, bpc, ac float64
	}{{100, 2.0, 2.9, 0.40}, {200, 1.5, 2.2, 0.50}, {300, 1.7, 2.4, 0.55}}
	for _, e := range evals {
		must(t, r.LogMetrics(e.step, map[string]float64{MetricValLoss: e.loss, MetricValBPC: e.bpc, MetricValAcc: e.ac}))
	}
	for step := int64(1); step <= 300; step++ {
		must(t, r.LogMetric(MetricTrainLoss, step, 3-float64(step)/150))
	}
	must(t, r.LogMetric("grad_norm", 1, math.NaN()))
	must(t, r.LogSample(Sample{Step: 100, Prompt: "Call me", Text: "Call me Ishmael", Temperature: 0.8, TopK: 40, TopP: 0.95, Seed: 7}))
	must(t, r.LogSample(Sample{Step: 300, Prompt: "Call me", Text: "Call me \xffagain", Temperature: 1, Seed: 8}))
	ckpt := filepath.Join(t.TempDir(), "ckpt.bin")
	must(t, os.WriteFile(ckpt, []byte("weights"), 0o644))
	art, err := r.LogArtifact(ArtifactCheckpoint, ckpt)
	must(t, err)
	must(t, r.SetTag("purpose", "retagged"))
	must(t, r.SetNote("second thoughts"))
	must(t, r.Finish(StatusFinished))

	ri, err := db.GetRun(ctx, r.ID())
	must(t, err)
	if ri.Name != "moby-256" || ri.Experiment != "moby" || ri.Status != StatusFinished || ri.Command != "lstmlab train --preset moby" ||
		ri.GitCommit != "abc123" || ri.Backend != "go" || ri.Host != "box" || ri.Note != "second thoughts" || ri.End.IsZero() ||
		ri.Tags["purpose"] != "retagged" || ri.ParentID != 0 {
		t.Errorf("run info: %+v", ri)
	}
	wantParams := map[string]any{"hidden": int64(256), "lr": 0.002, "optimizer": "adam", "dropout_on": true}
	for k, v := range wantParams {
		if ri.Params[k] != v {
			t.Errorf("param %s = %#v, want %#v", k, ri.Params[k], v)
		}
	}
	if len(ri.Params) != len(wantParams) {
		t.Errorf("params: %v", ri.Params)
	}

	vl := ri.Metrics[MetricValLoss]
	if vl.Count != 3 || vl.Goal != Minimize || vl.Last.Step != 300 || vl.Last.Value != 1.7 || vl.Best == nil || vl.Best.Step != 200 || vl.Best.Value != 1.5 {
		t.Errorf("val_loss summary: %+v best %+v", vl, vl.Best)
	}
	va := ri.Metrics[MetricValAcc]
	if va.Goal != Maximize || va.Best == nil || va.Best.Step != 300 || va.Best.Value != 0.55 {
		t.Errorf("val_acc summary: %+v best %+v", va, va.Best)
	}
	tl := ri.Metrics[MetricTrainLoss]
	if tl.Count != 300 || tl.Last.Step != 300 || tl.Best.Step != 300 || math.Abs(tl.Best.Value-1) > 1e-12 {
		t.Errorf("train_loss summary: %+v best %+v", tl, tl.Best)
	}
	if gn := ri.Metrics["grad_norm"]; gn.Count != 1 || !math.IsNaN(gn.Last.Value) || gn.Best != nil {
		t.Errorf("NaN-only metric summary: %+v", gn)
	}

	hist, err := db.History(ctx, r.ID(), MetricValLoss)
	must(t, err)
	if len(hist) != 3 || hist[0].Step != 100 || hist[1].Value != 1.5 || hist[2].Time.Before(hist[0].Time) || hist[0].Time.Before(ri.Start.Add(-time.Second)) {
		t.Errorf("val_loss history: %+v", hist)
	}
	if h, err := db.History(ctx, r.ID(), "never_logged"); err != nil || len(h) != 0 {
		t.Errorf("unlogged key: %v %v", h, err)
	}
	if _, err := db.History(ctx, 999, MetricValLoss); !errors.Is(err, ErrRunNotFound) {
		t.Errorf("history of a missing run: %v", err)
	}

	samples, err := db.Samples(ctx, r.ID())
	must(t, err)
	if len(samples) != 2 || samples[0].Text != "Call me Ishmael" || samples[0].TopK != 40 || samples[0].TopP != 0.95 ||
		samples[0].Temperature != 0.8 || samples[0].Seed != 7 || samples[1].Text != "Call me \uFFFDagain" {
		t.Errorf("samples: %+v", samples)
	}
	latest, err := db.LatestSample(ctx, r.ID())
	must(t, err)
	if latest == nil || latest.Step != 300 {
		t.Errorf("latest sample: %+v", latest)
	}

	arts, err := db.Artifacts(ctx, r.ID())
	must(t, err)
	sum := sha256.Sum256([]byte("weights"))
	if len(arts) != 1 || arts[0] != art || arts[0].SHA256 != hex.EncodeToString(sum[:]) || arts[0].Size != 7 || arts[0].Kind != ArtifactCheckpoint || !filepath.IsAbs(arts[0].Path) {
		t.Errorf("artifacts: %+v (logged %+v)", arts, art)
	}
	must(t, arts[0].Verify())
	must(t, os.WriteFile(ckpt, []byte("tampered"), 0o644))
	if err := arts[0].Verify(); err == nil || !strings.Contains(err.Error(), "changed") {
		t.Errorf("Verify of a changed file: %v", err)
	}

	byName, err := db.FindRun(ctx, " moby-256 ")
	must(t, err)
	byID, err := db.FindRun(ctx, "1")
	must(t, err)
	if byName.ID != r.ID() || byID.Name != "moby-256" {
		t.Errorf("FindRun: %d %q", byName.ID, byID.Name)
	}
	for _, ref := range []string{"nope", "42", ""} {
		if _, err := db.FindRun(ctx, ref); !errors.Is(err, ErrRunNotFound) {
			t.Errorf("FindRun(%q): %v", ref, err)
		}
	}
}

func TestParamsAreImmutable(t *testing.T) {
	db := openTemp(t, Options{})
	r := startRun(t, db, RunSpec{})
	must(t, r.LogParams(map[string]any{"hidden": 256, "lr": 0.001}))
	must(t, r.LogParams(map[string]any{"hidden": 256, "lr": 0.001})) // same values: fine (resume)
	err := r.LogParams(map[string]any{"hidden": 512, "layers": 2})
	if !errors.Is(err, ErrParamChanged) || !strings.Contains(err.Error(), `"hidden" was 256, now 512`) {
		t.Fatalf("changing a param: %v", err)
	}
	err = r.LogParam("hidden", 256.0)
	if !errors.Is(err, ErrParamChanged) || !strings.Contains(err.Error(), "(int)") {
		t.Errorf("changing a param's type: %v", err)
	}
	if err := r.LogParam("bad", []int{1}); err == nil {
		t.Error("slice param accepted")
	}
	ri, err := db.GetRun(ctx, r.ID())
	must(t, err)
	if _, stored := ri.Params["layers"]; stored || ri.Params["hidden"] != int64(256) {
		t.Errorf("a failed LogParams stored part of its params: %v", ri.Params)
	}
}

func TestStepsNeverDuplicate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "runs.db")
	db, err := Open(path)
	must(t, err)
	r := startRun(t, db, RunSpec{Name: "resumable"})
	for step := int64(0); step < 10; step++ {
		must(t, r.LogMetric(MetricTrainLoss, step, float64(10-step)))
	}
	must(t, r.LogMetric(MetricTrainLoss, 5, -100)) // repeated step: ignored
	must(t, r.LogMetric(MetricTrainLoss, 9, -100))
	if r.Skipped() != 2 {
		t.Errorf("Skipped() = %d, want 2", r.Skipped())
	}
	if err := r.LogMetric(MetricTrainLoss, -1, 0); err == nil {
		t.Error("negative step accepted")
	}
	must(t, r.Finish(StatusInterrupted))
	must(t, db.Close())

	// Another process resumes from a checkpoint at step 6 and repeats
	// steps 7..9 before going on to 14.
	db, err = Open(path)
	must(t, err)
	defer db.Close()
	r, err = db.ResumeRun(ctx, r.ID())
	must(t, err)
	for step := int64(7); step < 15; step++ {
		must(t, r.LogMetric(MetricTrainLoss, step, float64(20-step)/4))
	}
	if r.Skipped() != 3 {
		t.Errorf("after resume Skipped() = %d, want 3", r.Skipped())
	}
	must(t, r.Finish(StatusFinished))
	hist, err := db.History(ctx, r.ID(), MetricTrainLoss)
	must(t, err)
	if len(hist) != 15 {
		t.Fatalf("history has %d points, want 15", len(hist))
	}
	for i, p := range hist {
		if p.Step != int64(i) {
			t.Fatalf("point %d has step %d", i, p.Step)
		}
	}
	if hist[9].Value != 1 || hist[14].Value != 1.5 {
		t.Errorf("step 9 = %v (want the first value 1), step 14 = %v", hist[9].Value, hist[14].Value)
	}
	ri, err := db.GetRun(ctx, r.ID())
	must(t, err)
	s := ri.Metrics[MetricTrainLoss]
	if s.Count != 15 || s.Last.Step != 14 || s.Best.Value != 1 || s.Best.Step != 9 || ri.Status != StatusFinished {
		t.Errorf("summary after resume: %+v best %+v status %s", s, s.Best, ri.Status)
	}
}

func TestResumeRefusesLiveRun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "runs.db")
	a, err := Open(path)
	must(t, err)
	defer a.Close()
	b, err := Open(path)
	must(t, err)
	defer b.Close()
	r := startRun(t, a, RunSpec{})
	if _, err := b.ResumeRun(ctx, r.ID()); !errors.Is(err, ErrRunActive) {
		t.Errorf("resuming a live run from another handle: %v", err)
	}
	if _, err := a.ResumeRun(ctx, r.ID()); err == nil || !strings.Contains(err.Error(), "already open") {
		t.Errorf("resuming a run open in this handle: %v", err)
	}
	if _, err := b.ResumeRun(ctx, 12345); !errors.Is(err, ErrRunNotFound) {
		t.Errorf("resuming a missing run: %v", err)
	}
	must(t, r.Finish(StatusFailed))
	r2, err := b.ResumeRun(ctx, r.ID())
	must(t, err)
	if ri, _ := b.GetRun(ctx, r.ID()); ri.Status != StatusRunning || !ri.End.IsZero() {
		t.Errorf("resumed run: status %s end %v", ri.Status, ri.End)
	}
	must(t, r2.Finish(StatusFinished))
}

func TestFinish(t *testing.T) {
	db := openTemp(t, Options{})
	r := startRun(t, db, RunSpec{})
	if err := r.Finish(StatusRunning); err == nil {
		t.Error("Finish(running) accepted")
	}
	if err := r.Finish("done"); err == nil {
		t.Error("Finish with an unknown status accepted")
	}
	must(t, r.LogMetric("x", 1, 1))
	must(t, r.Finish(StatusFailed))
	checks := map[string]error{
		"Finish":     r.Finish(StatusFinished),
		"LogMetric":  r.LogMetric("x", 2, 1),
		"LogMetrics": r.LogMetrics(2, map[string]float64{"x": 1}),
		"LogParams":  r.LogParam("a", 1),
		"LogSample":  r.LogSample(Sample{}),
		"SetTag":     r.SetTag("a", "b"),
		"SetNote":    r.SetNote("n"),
		"Flush":      r.Flush(),
		"SetGoal":    r.SetGoal("x", Maximize),
	}
	for name, err := range checks {
		if !errors.Is(err, ErrRunClosed) {
			t.Errorf("%s after Finish: %v; want ErrRunClosed", name, err)
		}
	}
	ri, err := db.GetRun(ctx, r.ID())
	must(t, err)
	if ri.Status != StatusFailed || ri.Metrics["x"].Count != 1 {
		t.Errorf("finished run: %s, %+v", ri.Status, ri.Metrics)
	}
}

func TestStartRunNames(t *testing.T) {
	db := openTemp(t, Options{})
	a := startRun(t, db, RunSpec{Experiment: "sweep"})
	if a.Name() != "sweep-1" || a.Experiment() != "sweep" {
		t.Errorf("auto name %q in %q", a.Name(), a.Experiment())
	}
	startRun(t, db, RunSpec{Name: "sweep-3"}) // id 2 takes the name id 3 would get
	c := startRun(t, db, RunSpec{Experiment: "sweep"})
	if c.Name() != "sweep-3-2" {
		t.Errorf("auto name avoiding a taken one: %q", c.Name())
	}
	d := startRun(t, db, RunSpec{})
	if d.Name() != "default-4" || d.Experiment() != DefaultExperiment {
		t.Errorf("default experiment name: %q", d.Name())
	}
	bad := []RunSpec{
		{Name: "sweep-1"},
		{Name: "12"},
		{Name: "bad\nname"},
		{Experiment: " padded "},
		{ParentID: 999},
		{Tags: map[string]string{"": "x"}},
	}
	for _, spec := range bad {
		if r, err := db.StartRun(ctx, spec); err == nil {
			t.Errorf("StartRun(%+v) accepted as %q", spec, r.Name())
		}
	}
	child := startRun(t, db, RunSpec{ParentID: a.ID()})
	ri, err := db.GetRun(ctx, child.ID())
	must(t, err)
	if ri.ParentID != a.ID() {
		t.Errorf("parent = %d, want %d", ri.ParentID, a.ID())
	}
	exps, err := db.Experiments(ctx)
	must(t, err)
	if len(exps) != 2 || exps[0].Name != DefaultExperiment || exps[0].Runs != 3 || exps[1].Name != "sweep" || exps[1].Runs != 2 {
		t.Errorf("experiments: %+v", exps)
	}
}

func TestSetGoalRecomputesBest(t *testing.T) {
	db := openTemp(t, Options{})
	r := startRun(t, db, RunSpec{})
	for step, v := range []float64{3, 1, 2} {
		must(t, r.LogMetric("margin", int64(step), v))
	}
	must(t, r.Flush())
	ri, _ := db.GetRun(ctx, r.ID())
	if s := ri.Metrics["margin"]; s.Goal != Minimize || s.Best.Value != 1 {
		t.Fatalf("default goal: %+v", s)
	}
	must(t, r.SetGoal("margin", Maximize))
	must(t, r.LogMetric("margin", 3, 2.5))
	must(t, r.SetGoal("fresh", Maximize)) // before any point
	must(t, r.LogMetric("fresh", 0, 1))
	must(t, r.LogMetric("fresh", 1, 2))
	if err := r.SetGoal("margin", "sideways"); err == nil {
		t.Error("unknown goal accepted")
	}
	must(t, r.Finish(StatusFinished))
	ri, _ = db.GetRun(ctx, r.ID())
	if s := ri.Metrics["margin"]; s.Goal != Maximize || s.Best.Value != 3 || s.Best.Step != 0 {
		t.Errorf("margin after SetGoal(max): %+v best %+v", s, s.Best)
	}
	if s := ri.Metrics["fresh"]; s.Goal != Maximize || s.Best.Value != 2 {
		t.Errorf("fresh with goal max: %+v best %+v", s, s.Best)
	}
}

func TestCloseFinishesOpenRunsAsInterrupted(t *testing.T) {
	path := filepath.Join(t.TempDir(), "runs.db")
	db, err := Open(path)
	must(t, err)
	r := startRun(t, db, RunSpec{})
	must(t, r.LogMetric(MetricTrainLoss, 1, 1))
	must(t, db.Close())
	db, err = Open(path)
	must(t, err)
	defer db.Close()
	ri, err := db.GetRun(ctx, r.ID())
	must(t, err)
	if ri.Status != StatusInterrupted || ri.Metrics[MetricTrainLoss].Count != 1 {
		t.Errorf("after Close: %s, %+v", ri.Status, ri.Metrics)
	}
}

// Points become visible to other processes without an explicit Flush,
// through the background writer.
func TestBackgroundFlush(t *testing.T) {
	path := filepath.Join(t.TempDir(), "runs.db")
	writer, err := OpenWith(path, Options{FlushInterval: 10 * time.Millisecond})
	must(t, err)
	defer writer.Close()
	reader, err := Open(path)
	must(t, err)
	defer reader.Close()
	r := startRun(t, writer, RunSpec{})
	must(t, r.LogMetric(MetricTrainLoss, 1, 0.5))
	deadline := time.Now().Add(10 * time.Second)
	for {
		h, err := reader.History(ctx, r.ID(), MetricTrainLoss)
		must(t, err)
		if len(h) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("point never written by the background flush")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Many goroutines may log into one run; the race detector checks the
// locking.
func TestRunIsSafeForConcurrentUse(t *testing.T) {
	db := openTemp(t, Options{FlushSize: 64})
	r := startRun(t, db, RunSpec{})
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := string(rune('a' + g))
			for step := int64(0); step < 500; step++ {
				if err := r.LogMetric(key, step, float64(step)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	must(t, r.Finish(StatusFinished))
	if n := count(t, db, `SELECT count(*) FROM metrics WHERE run_id = ?`, r.ID()); n != 2000 {
		t.Errorf("%d points stored, want 2000", n)
	}
}

func TestLogMetricRejectsBadKeys(t *testing.T) {
	db := openTemp(t, Options{})
	r := startRun(t, db, RunSpec{})
	for _, k := range []string{"", " x", "a\tb"} {
		if err := r.LogMetric(k, 1, 1); err == nil {
			t.Errorf("metric key %q accepted", k)
		}
	}
	if err := r.LogSample(Sample{Temperature: -1}); err == nil {
		t.Error("negative temperature accepted")
	}
	if _, err := r.LogArtifact(ArtifactModel, filepath.Join(t.TempDir(), "missing.safetensors")); err == nil {
		t.Error("missing artifact accepted")
	}
	if _, err := r.LogArtifact(ArtifactModel, t.TempDir()); err == nil {
		t.Error("directory artifact accepted")
	}
}

func TestLogMetricsIsAllOrNothing(t *testing.T) {
	db := openTemp(t, Options{})
	r := startRun(t, db, RunSpec{})
	if err := r.LogMetrics(1, map[string]float64{"good": 1, "bad\n": 2}); err == nil {
		t.Fatal("bad key accepted")
	}
	if err := r.LogMetrics(-1, map[string]float64{"good": 1}); err == nil {
		t.Fatal("negative step accepted")
	}
	must(t, r.Finish(StatusFinished))
	if n := count(t, db, `SELECT count(*) FROM metrics`); n != 0 {
		t.Errorf("%d points stored from rejected calls", n)
	}
}
