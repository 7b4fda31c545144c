package experiments

import (
	"context"
	"errors"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/lstmlab/lstmlab/lstm"
	"github.com/lstmlab/lstmlab/lstm/safetensors"
	"github.com/lstmlab/lstmlab/tracker"
)

// trainSmall trains a small tracked run on generated text and returns the database and the result.
func trainSmall(t *testing.T, dir string, overrides ...string) (*tracker.DB, *Result) {
	t.Helper()
	db := openLab(t, dir)
	corpus := writeText(t, dir, "sea.txt", 1, strings.Fields("the whale ship sea captain ahab white boat harpoon deck wind"))
	res, err := Train(context.Background(), db, TrainOptions{Preset: "tiny", Data: corpus, Name: "small",
		Overrides: append(trimSet(small), overrides...), Backend: "go", SampleLength: 20})
	if err != nil {
		t.Fatal(err)
	}
	return db, res
}

// TestTrainLogsTheRun checks what a finished run leaves behind: every step's metrics, one sample per
// evaluation (the final step, also an evaluation, not twice), test metrics consistent with each other, and
// the checkpoint, best model and plot files, from which the model loads and generates.
func TestTrainLogsTheRun(t *testing.T) {
	dir := t.TempDir()
	db, res := trainSmall(t, dir)
	ctx := context.Background()
	if res.Status != tracker.StatusFinished || res.Steps != 60 {
		t.Fatalf("status %s after %d steps, want finished after 60", res.Status, res.Steps)
	}
	losses, err := db.History(ctx, res.RunID, "train_loss")
	if err != nil {
		t.Fatal(err)
	}
	if len(losses) != 60 || losses[0].Step != 1 || losses[59].Step != 60 {
		t.Fatalf("train_loss history: %d points", len(losses))
	}
	samples, err := db.Samples(ctx, res.RunID)
	if err != nil {
		t.Fatal(err)
	}
	var steps []int64
	for _, s := range samples {
		steps = append(steps, s.Step)
	}
	if len(steps) != 2 || steps[0] != 30 || steps[1] != 60 {
		t.Fatalf("sample steps %v, want [30 60]", steps)
	}
	info, err := db.GetRun(ctx, res.RunID)
	if err != nil {
		t.Fatal(err)
	}
	loss, bpc := info.Metrics["test_loss"].Last.Value, info.Metrics["test_bpc"].Last.Value
	if res.Test == nil || loss != res.Test.Loss || math.Abs(bpc-loss/math.Ln2) > 1e-9 {
		t.Fatalf("test metrics: logged loss %v bpc %v, result %+v", loss, bpc, res.Test)
	}
	for _, path := range []string{res.Checkpoint, res.Best, res.Plot} {
		if st, err := os.Stat(path); err != nil || st.Size() == 0 {
			t.Fatalf("run file %s: %v", path, err)
		}
	}
	m, _, err := LoadRunModel(ctx, db, "small", "go")
	if err != nil {
		t.Fatal(err)
	}
	out, err := m.Generate(lstm.SampleOptions{Prompt: "the ", Length: 10, Temperature: 1, Seed: 1})
	if err != nil || out == "" {
		t.Fatalf("generate from the loaded run: %q, %v", out, err)
	}
}

// TestResumeExtendsARun resumes a finished run with more steps: the history continues without duplicated
// or missing steps.
func TestResumeExtendsARun(t *testing.T) {
	dir := t.TempDir()
	db, res := trainSmall(t, dir, "steps=40", "eval_every=20")
	more, err := Resume(context.Background(), db, "small", ResumeOptions{Backend: "go", Steps: 70})
	if err != nil {
		t.Fatal(err)
	}
	if more.RunID != res.RunID || more.Steps != 70 {
		t.Fatalf("resumed run %d to step %d, want run %d to 70", more.RunID, more.Steps, res.RunID)
	}
	losses, err := db.History(context.Background(), res.RunID, "train_loss")
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range losses {
		if p.Step != int64(i+1) {
			t.Fatalf("train_loss point %d is step %d (history %d points)", i, p.Step, len(losses))
		}
	}
	if len(losses) != 70 {
		t.Fatalf("%d train_loss points, want 70", len(losses))
	}
	// A finished run needs more steps; the error names the steps key, not a CLI flag.
	_, err = Resume(context.Background(), db, "small", ResumeOptions{Backend: "go"})
	var reached *StepsReachedError
	if !errors.As(err, &reached) || reached.Step != 70 || reached.Steps != 70 || !strings.Contains(err.Error(), "set steps above 70") ||
		strings.Contains(err.Error(), "--") {
		t.Errorf("resume a finished run without more steps: %v, want a StepsReachedError at 70 naming the steps key", err)
	}
}

// TestFreezeNeedsAParent: freezing groups of a fresh model is refused, naming the options.
func TestFreezeNeedsAParent(t *testing.T) {
	dir := t.TempDir()
	db := openLab(t, dir)
	corpus := writeText(t, dir, "sea.txt", 1, strings.Fields("the whale ship sea"))
	_, err := Train(context.Background(), db, TrainOptions{Preset: "tiny", Data: corpus, Overrides: trimSet(small), Backend: "go",
		Freeze: []string{"embedding"}})
	if !errors.Is(err, ErrFreezeWithoutParent) || !strings.Contains(err.Error(), "TrainOptions.InitFrom") || strings.Contains(err.Error(), "--") {
		t.Errorf("Freeze without InitFrom: %v", err)
	}
}

// TestLRAnchorLivesInTheRecord: a cosine run resumed with more steps anchors its schedule in the run's
// record only (its checkpoints carry no anchor of their own), and a second resume that changes lr
// continues from the rate reached, without a jump.
func TestLRAnchorLivesInTheRecord(t *testing.T) {
	dir := t.TempDir()
	db, res := trainSmall(t, dir, "steps=40", "eval_every=20", "decay=cosine", "decay_rate=0.1")
	ctx := context.Background()
	if _, err := Resume(ctx, db, "small", ResumeOptions{Backend: "go", Steps: 60}); err != nil {
		t.Fatal(err)
	}
	info, err := db.GetRun(ctx, res.RunID)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := LoadRecord(ctx, db, info)
	if err != nil || rec.LRAnchor == nil || rec.LRAnchor.Step != 40 {
		t.Fatalf("record after resuming with more steps: anchor %+v, %v; want one at step 40", rec.LRAnchor, err)
	}
	f, err := safetensors.ReadFile(res.Checkpoint)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(f.Metadata["state"], "lr_anchor") {
		t.Errorf("the checkpoint's training state holds an anchor too: %s", f.Metadata["state"])
	}
	if _, err := Resume(ctx, db, "small", ResumeOptions{Backend: "go", Steps: 80, Overrides: []string{"lr=5e-3"}}); err != nil {
		t.Fatal(err)
	}
	lr, err := db.History(ctx, res.RunID, "lr")
	if err != nil || len(lr) != 80 {
		t.Fatalf("lr history: %d points, %v", len(lr), err)
	}
	for i := 40; i < 80; i++ {
		// From step 61 the rate is scaled by new lr / old lr (5e-3 / 1e-2): half of step 60's, then decays.
		limit := lr[i-1].Value * (1 + 1e-9)
		if i == 60 {
			limit = lr[i-1].Value * 0.5 * (1 + 1e-9)
		}
		if lr[i].Value > limit {
			t.Errorf("lr jumps from %.6g at step %d to %.6g at step %d", lr[i-1].Value, i, lr[i].Value, i+1)
		}
	}
}

// TestTrainNotesWarmupLongerThanTheRun: a run shorter than its warm-up says, in the log, that the
// learning rate never reaches lr; a longer one says nothing of it.
func TestTrainNotesWarmupLongerThanTheRun(t *testing.T) {
	for _, tc := range []struct {
		warmup string
		note   bool
	}{{"warmup=10", true}, {"warmup=2", false}} {
		dir := t.TempDir()
		db := openLab(t, dir)
		corpus := writeText(t, dir, "sea.txt", 1, strings.Fields("the whale ship sea captain ahab white boat harpoon deck wind"))
		var log strings.Builder
		_, err := Train(context.Background(), db, TrainOptions{Preset: "tiny", Data: corpus, Name: "w", Backend: "go",
			Overrides: append(trimSet(small), "steps=4", "eval_every=4", tc.warmup), Log: &log})
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(log.String(), "the learning rate never reaches lr="); got != tc.note {
			t.Errorf("%s with steps=4: note %v, want %v; log:\n%s", tc.warmup, got, tc.note, log.String())
		}
	}
}
