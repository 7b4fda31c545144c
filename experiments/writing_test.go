package experiments

import (
	"context"
	"math"
	"testing"

	"github.com/lstmlab/lstmlab/lstm"
	"github.com/lstmlab/lstmlab/lstm/text"
)

// TestWritingFiguresMatchThePublicAPI: the cold-start and free-running figures a run logs (at every
// evaluation, and for the best model at the end) equal a direct computation on the saved model with the
// public API: EvaluateStream of each passage of the test split from the zero state, and GenerateTrace's
// model probabilities of every token of samples drawn at temperature 1 with the run's seeds from the zero
// state reading a line break (the prompt "\n").
func TestWritingFiguresMatchThePublicAPI(t *testing.T) {
	dir := t.TempDir()
	db, res := trainSmall(t, dir)
	ctx := context.Background()
	m, info, err := LoadRunModel(ctx, db, "small", "go") // the best model: what the end figures are of
	if err != nil {
		t.Fatal(err)
	}
	corpus, err := LoadRunCorpus(ctx, db, info, "", false)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := m.Vocab.Encode(corpus.Text)
	if err != nil {
		t.Fatal(err)
	}
	_, _, test, err := text.Split(ids, m.Config.ValFrac, m.Config.TestFrac)
	if err != nil {
		t.Fatal(err)
	}
	n := min(lstm.ColdStartTokens, len(test)-1)
	var cold float64
	starts := lstm.ColdStartStarts(len(test), lstm.ColdStartPassages, n)
	for _, s := range starts {
		r, err := m.EvaluateStream(test[s : s+n+1])
		if err != nil {
			t.Fatal(err)
		}
		cold += r.Loss / float64(len(starts))
	}
	var free float64
	drawn := 0
	for i := range uint64(lstm.FreeRunningSamples) {
		trace, _, err := m.GenerateTrace(lstm.SampleOptions{Prompt: "\n", Length: lstm.FreeRunningTokens, Temperature: 1, Seed: FreeRunningSeed(m.Config) + i})
		if err != nil {
			t.Fatal(err)
		}
		if len(trace) != lstm.FreeRunningTokens {
			t.Fatalf("sample %d: %d tokens, want %d", i, len(trace), lstm.FreeRunningTokens)
		}
		for _, tok := range trace {
			free -= math.Log(tok.ModelProb)
			drawn++
		}
	}
	free /= float64(drawn)

	info, err = db.GetRun(ctx, res.RunID)
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]float64{
		"test_cold_loss": cold, "test_cold_bpc": cold / math.Ln2,
		"test_free_running_loss": free, "test_free_running_bpc": free / math.Ln2,
	} {
		s, ok := info.Metrics[key]
		if !ok {
			t.Errorf("%s not logged", key)
			continue
		}
		if math.Abs(s.Last.Value-want) > 1e-5 || s.Last.Step != int64(res.Steps) {
			t.Errorf("%s = %.6f at step %d, the public API on the saved model gives %.6f (step %d)", key, s.Last.Value, s.Last.Step, want, res.Steps)
		}
	}
	if res.TestColdStart == nil || res.TestFreeRunning == nil || math.Abs(res.TestColdStart.Loss-cold) > 1e-5 || math.Abs(res.TestFreeRunning.Loss-free) > 1e-9 {
		t.Errorf("result's writing figures %+v, %+v; want cold %.6f, free %.6f", res.TestColdStart, res.TestFreeRunning, cold, free)
	}
	// With every evaluation (steps 30 and 60): the validation split's cold start and the free-running figure.
	for _, key := range []string{"val_cold_loss", "val_cold_bpc", "free_running_loss", "free_running_bpc"} {
		h, err := db.History(ctx, res.RunID, key)
		if err != nil {
			t.Fatal(err)
		}
		if len(h) != 2 || h[0].Step != 30 || h[1].Step != 60 || !(h[0].Value > 0) {
			t.Errorf("%s history %v, want a positive figure at steps 30 and 60", key, h)
		}
	}
}
