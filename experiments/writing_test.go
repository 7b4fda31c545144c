package experiments

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lstmlab/lstmlab/lstm"
	"github.com/lstmlab/lstmlab/lstm/text"
)

// writingDirect computes the writing figures of m with the public API alone: the cold start on split as the
// mean of EvaluateStream over each passage (from the zero state), and the free-running figure as the mean
// −ln p (GenerateTrace's ModelProb) of every token of the run's samples drawn at temperature 1 from the
// zero state reading a line break (the prompt "\n"), seeds FreeRunningSeed onwards. Both in nats per token.
func writingDirect(t *testing.T, m *lstm.Model, split []int32) (cold, free float64) {
	t.Helper()
	n := min(lstm.ColdStartTokens, len(split)-1)
	starts := lstm.ColdStartStarts(len(split), lstm.ColdStartPassages, n)
	for _, s := range starts {
		r, err := m.EvaluateStream(split[s : s+n+1])
		if err != nil {
			t.Fatal(err)
		}
		cold += r.Loss / float64(len(starts))
	}
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
	return cold, free / float64(drawn)
}

// worseningCorpus writes a text whose validation and test splits (the last 10 %, val_frac = test_frac =
// 0.05) are words of letters the training split never has (only spaces, full stops and line breaks are
// shared): the longer the model trains, the less probability it leaves them, so validation gets worse from one evaluation to the next and the best model is the first
// evaluation's, not the last step's.
func worseningCorpus(t *testing.T, dir string) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(3, 4))
	line := func(sb *strings.Builder, words []string) {
		for range 5 + rng.IntN(5) {
			sb.WriteString(words[rng.IntN(len(words))] + " ")
		}
		sb.WriteString(".\n")
	}
	var train, held strings.Builder
	for train.Len() < 18000 || train.Len()%18 != 0 {
		if train.Len() < 18000 {
			line(&train, strings.Fields("the whale ship sea captain ahab white boat harpoon deck wind"))
		} else {
			train.WriteString(" ")
		}
	}
	for held.Len() < train.Len()/9 { // n = 10/9 of the training text: val and test are 1/18 of it each
		line(&held, strings.Fields("fuzzy jug mug gym yuzu muzzy juju vug")) // letters the training words lack
	}
	path := filepath.Join(dir, "worse.txt")
	if err := os.WriteFile(path, []byte(train.String()+held.String()[:train.Len()/9]), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestWritingFiguresMatchThePublicAPI: the cold-start and free-running figures a run logs equal a direct
// computation on its models with the public API (writingDirect). The run's validation gets worse after the
// first evaluation (worseningCorpus), so the best model (step 30) is not the last one (step 60): the end
// figures (test_cold_*, test_free_running_*, Result) must be the best model's, and differ from the last
// model's; the per-evaluation figures (val_cold_*, free_running_*) must be those of the model at each
// evaluation: step 30's the best model's, step 60's the last checkpoint's.
func TestWritingFiguresMatchThePublicAPI(t *testing.T) {
	dir := t.TempDir()
	db := openLab(t, dir)
	ctx := context.Background()
	res, err := Train(ctx, db, TrainOptions{Preset: "tiny", Data: worseningCorpus(t, dir), Name: "small",
		Overrides: trimSet(small), Backend: "go", SampleLength: 20})
	if err != nil {
		t.Fatal(err)
	}
	val, err := db.History(ctx, res.RunID, "val_loss")
	if err != nil {
		t.Fatal(err)
	}
	if len(val) != 2 || val[0].Step != 30 || val[1].Step != 60 || !(val[1].Value > val[0].Value) {
		t.Fatalf("val_loss history %v: want worse at step 60 than at step 30 (best model ≠ last model)", val)
	}
	best, info, err := LoadRunModel(ctx, db, "small", "go") // the best model: what the end figures are of
	if err != nil {
		t.Fatal(err)
	}
	backend, _, err := lstm.OpenBackend("go", lstm.Inference)
	if err != nil {
		t.Fatal(err)
	}
	ck, err := lstm.Load(res.Checkpoint, backend) // the last step's model
	if err != nil {
		t.Fatal(err)
	}
	if ck.State == nil || ck.State.Step != 60 || ck.State.BestStep != 30 {
		t.Fatalf("checkpoint state %+v: want step 60 with the best at step 30", ck.State)
	}
	corpus, err := LoadRunCorpus(ctx, db, info, "", false)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := best.Vocab.Encode(corpus.Text)
	if err != nil {
		t.Fatal(err)
	}
	_, valIDs, test, err := text.Split(ids, best.Config.ValFrac, best.Config.TestFrac)
	if err != nil {
		t.Fatal(err)
	}

	cold, free := writingDirect(t, best, test)
	lastCold, lastFree := writingDirect(t, ck.Model, test)
	if math.Abs(lastCold-cold) < 1e-3 || math.Abs(lastFree-free) < 1e-3 {
		t.Fatalf("last model's test figures (cold %.6f, free %.6f) ≈ best model's (%.6f, %.6f): the test cannot tell them apart",
			lastCold, lastFree, cold, free)
	}
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
			t.Errorf("%s = %.6f at step %d, the public API on the best model gives %.6f (step %d)", key, s.Last.Value, s.Last.Step, want, res.Steps)
		}
	}
	if res.TestColdStart == nil || res.TestFreeRunning == nil || math.Abs(res.TestColdStart.Loss-cold) > 1e-5 || math.Abs(res.TestFreeRunning.Loss-free) > 1e-9 {
		t.Errorf("result's writing figures %+v, %+v; want the best model's cold %.6f, free %.6f", res.TestColdStart, res.TestFreeRunning, cold, free)
	}

	// With every evaluation (steps 30 and 60): the validation split's cold start and the free-running
	// figure of the model at that step.
	at := map[int64][2]float64{}
	at[30] = func() [2]float64 { c, f := writingDirect(t, best, valIDs); return [2]float64{c, f} }()
	at[60] = func() [2]float64 { c, f := writingDirect(t, ck.Model, valIDs); return [2]float64{c, f} }()
	for key, which := range map[string]int{"val_cold_loss": 0, "free_running_loss": 1} {
		h, err := db.History(ctx, res.RunID, key)
		if err != nil {
			t.Fatal(err)
		}
		if len(h) != 2 || h[0].Step != 30 || h[1].Step != 60 {
			t.Fatalf("%s history %v, want points at steps 30 and 60", key, h)
		}
		for _, p := range h {
			if want := at[p.Step][which]; math.Abs(p.Value-want) > 1e-5 {
				t.Errorf("%s at step %d = %.6f, the public API on that step's model gives %.6f", key, p.Step, p.Value, want)
			}
		}
	}
	for _, key := range []string{"val_cold_bpc", "free_running_bpc"} {
		if h, err := db.History(ctx, res.RunID, key); err != nil || len(h) != 2 || !(h[0].Value > 0) {
			t.Errorf("%s history %v (%v), want a positive figure at steps 30 and 60", key, h, err)
		}
	}
}
