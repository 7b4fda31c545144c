package lstm

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/lstmlab/lstmlab/lstm/text"
)

func TestSplitStreams(t *testing.T) {
	for n, want := range map[int]int{0: 1, 2: 1, 1025: 1, 2049: 2, 5000: 4, 32*1024 + 1: 32, 1 << 20: 32} {
		if got := SplitStreams(n); got != want {
			t.Errorf("SplitStreams(%d) = %d, want %d", n, got, want)
		}
	}
}

// TestEvaluateSplitDoesNotDependOnTheRunShape: a split's figures are the same whatever the run's batch size and
// window length, equal the sum of its SplitStreams streams each read from its start, and are what validation
// logs; eval_windows caps the windows of every stream.
func TestEvaluateSplitDoesNotDependOnTheRunShape(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	words := strings.Fields("the cat sat on a mat and dog met log by")
	var b strings.Builder
	for b.Len() < 5000 {
		b.WriteString(words[rng.IntN(len(words))] + " ")
	}
	corpus := b.String()[:5000]
	base := samplingModel(t, charVocab(t, corpus))
	ids, _ := base.Vocab.Encode(corpus)
	streams := SplitStreams(len(ids))
	if streams != 4 {
		t.Fatalf("%d tokens: %d streams, want 4", len(ids), streams)
	}
	var results []EvalResult
	for _, shape := range []struct{ batch, seq int }{{4, 16}, {32, 64}, {1, 100}} {
		m := withShape(base, shape.batch, shape.seq)
		r, err := m.Evaluate(ids)
		if err != nil {
			t.Fatal(err)
		}
		if r.Tokens != len(ids)-1 || r.Streams != streams {
			t.Fatalf("batch %d × %d: %d tokens in %d streams, want %d in %d", shape.batch, shape.seq, r.Tokens, r.Streams, len(ids)-1, streams)
		}
		results = append(results, r)
	}
	for _, r := range results[1:] {
		if math.Abs(r.Loss-results[0].Loss) > 1e-6 || r.Accuracy != results[0].Accuracy {
			t.Errorf("the run's shape changed the figures: %+v vs %+v", r, results[0])
		}
	}
	// The same as each stream scored on its own from its start.
	per := (len(ids) - 1 + streams - 1) / streams
	var sum float64
	for s := range streams {
		part := ids[s*per : min((s+1)*per, len(ids)-1)+1]
		r, err := base.EvaluateStream(part)
		if err != nil {
			t.Fatal(err)
		}
		sum += r.Loss * float64(r.Tokens)
	}
	if got := results[0].Loss * float64(results[0].Tokens); math.Abs(got-sum) > 1e-4*float64(results[0].Tokens) {
		t.Errorf("split loss %g nats in total, its streams one by one %g", got, sum)
	}
	whole, err := base.EvaluateStream(ids)
	if err != nil || whole.Streams != 1 || whole.Tokens != len(ids)-1 || whole.Loss == results[0].Loss {
		t.Errorf("one stream: %+v, %v (should differ a little from %d streams: cold starts)", whole, err, streams)
	}
	// Validation logs the same figures; eval_windows scores the first windows of each stream.
	m := withShape(base, 4, 16)
	tr, err := NewTrainer(m, ids, ids, nil)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := tr.Validate()
	if err != nil || math.Abs(ev.Val.Loss-results[0].Loss) > 1e-6 {
		t.Errorf("validation %+v, %v; Evaluate %g", ev.Val, err, results[0].Loss)
	}
	capped, err := m.EvaluateWindows(ids, 3)
	if err != nil || capped.Tokens != streams*3*16 {
		t.Errorf("3 windows: %d tokens scored, want %d streams × 3 windows × 16; %v", capped.Tokens, streams, err)
	}
	// Evaluate scores the whole split whatever eval_windows says (it caps the periodic validation only).
	m.Config.EvalLimit = 3
	if whole, err := m.Evaluate(ids); err != nil || whole.Tokens != results[0].Tokens {
		t.Errorf("Evaluate with eval_windows 3: %d tokens scored, want the whole split's %d; %v", whole.Tokens, results[0].Tokens, err)
	}
	if _, err := m.Evaluate(ids[:1]); err == nil || !strings.Contains(err.Error(), text.ErrNothingToPredict.Error()) {
		t.Errorf("one-token split: %v", err)
	}
}

// TestConfigJSONWithoutNormalize: a config saved before the normalize key reads as "none", over the other
// values the Config held; one with the key keeps it.
func TestConfigJSONWithoutNormalize(t *testing.T) {
	cfg := DefaultConfig()
	if err := json.Unmarshal([]byte(`{"level":"word","hidden":32}`), &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Normalize != "none" || cfg.Level != "word" || cfg.Hidden != 32 || cfg.Layers != DefaultConfig().Layers {
		t.Errorf("old config read as %+v", cfg)
	}
	if err := json.Unmarshal([]byte(`{"normalize":"nfc"}`), &cfg); err != nil || cfg.Normalize != "nfc" || cfg.Hidden != 32 {
		t.Errorf("config with the key: %+v, %v", cfg, err)
	}
}

// TestEvalResultJSONNonFinite: a diverged model's figures (NaN, infinite perplexity) are valid JSON, written
// as MLflow writes them, and read back.
func TestEvalResultJSONNonFinite(t *testing.T) {
	r := EvalResult{Loss: math.NaN(), Perplexity: math.Inf(1), BitsPerToken: math.NaN(), Level: text.Char, Accuracy: 0.25,
		Tokens: 10, Streams: 1, InVocabLoss: math.Inf(1)}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m["loss"] != "NaN" || m["perplexity"] != "Infinity" || m["in_vocab_loss"] != "Infinity" || m["accuracy"] != 0.25 ||
		m["unit"] != "char" || m["tokens"] != 10.0 {
		t.Errorf("JSON %s", b)
	}
	if _, ok := m["in_vocab_perplexity"]; ok {
		t.Errorf("zero in-vocabulary perplexity not left out: %s", b)
	}
	var back EvalResult
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(back.Loss) || !math.IsInf(back.Perplexity, 1) || back.Accuracy != 0.25 || back.Level != text.Char || back.Tokens != 10 {
		t.Errorf("read back %+v", back)
	}
}
