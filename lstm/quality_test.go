package lstm

import (
	"math"
	"slices"
	"strings"
	"testing"

	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// TestEvaluateStreamIsOneStream checks the one-stream scorer against Score (the single-step graph, one
// stream by construction): exact with one row, and exact with several segments when each reads all the
// text before it (burn-in as long as the text), whatever the window.
func TestEvaluateStreamIsOneStream(t *testing.T) {
	m := samplingModel(t, charVocab(t, sampleCorpus))
	txt := strings.Repeat(sampleCorpus, 2)
	ids, err := m.Vocab.Encode(txt)
	if err != nil {
		t.Fatal(err)
	}
	want, err := m.Score(txt)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ window, streams, burnIn int }{{7, 1, 0}, {64, 1, 0}, {5, 3, len(ids)}, {11, 4, len(ids)}} {
		got, err := m.EvaluateStream(ids, c.window, c.streams, c.burnIn)
		if err != nil {
			t.Fatal(err)
		}
		if got.Tokens != want.Tokens || math.Abs(got.Loss-want.NLL) > 1e-5 {
			t.Errorf("%+v: %d tokens at %.6f nats, Score: %d at %.6f", c, got.Tokens, got.Loss, want.Tokens, want.NLL)
		}
	}
	// Segments that start from the zero state (no burn-in) score differently: the test above can fail.
	cold, err := m.EvaluateStream(ids, 5, 4, 0)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(cold.Loss-want.NLL) < 1e-7 {
		t.Errorf("segments without burn-in scored exactly like one stream (%.8f)", cold.Loss)
	}
}

// TestColdStartScoresPassagesFromTheZeroState checks ColdStart against Score of each passage's text.
func TestColdStartScoresPassagesFromTheZeroState(t *testing.T) {
	m := samplingModel(t, charVocab(t, sampleCorpus))
	ids, err := m.Vocab.Encode(strings.Repeat(sampleCorpus, 3))
	if err != nil {
		t.Fatal(err)
	}
	const passages, length = 4, 20
	got, err := m.ColdStart(ids, passages, length)
	if err != nil {
		t.Fatal(err)
	}
	span := len(ids) - length - 44
	var sum float64
	for i := range passages {
		s := i * span / passages
		r, err := m.Score(m.Vocab.Decode(ids[s : s+length+1]))
		if err != nil {
			t.Fatal(err)
		}
		sum -= r.LogProb
	}
	if want := sum / (passages * length); math.Abs(got.Loss-want) > 1e-5 {
		t.Errorf("cold start %.6f nats, passages scored one by one %.6f", got.Loss, want)
	}
}

// TestFreeRunningIsTheSamplesOwnLoss checks FreeRunning against GenerateTrace: the mean −ln p of the
// sampled tokens at temperature 1.
func TestFreeRunningIsTheSamplesOwnLoss(t *testing.T) {
	m := samplingModel(t, charVocab(t, sampleCorpus))
	got, err := m.FreeRunning(2, 30)
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for seed := uint64(1); seed <= 2; seed++ {
		trace, _, err := m.GenerateTrace(SampleOptions{Length: 30, Temperature: 1, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		for _, tok := range trace {
			sum -= math.Log(tok.Prob)
		}
	}
	if want := sum / 60; math.Abs(got-want) > 1e-9 {
		t.Errorf("free-running %.6f nats, GenerateTrace %.6f", got, want)
	}
}

// TestResetRowsZeroesOnlyThoseStreams checks the state-reset hook on the carried training state.
func TestResetRowsZeroesOnlyThoseStreams(t *testing.T) {
	m, ids := tinyModel(t, strings.Repeat(tinyText, 4), nil)
	tr, err := NewTrainer(m, ids, ids, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Step(); err != nil {
		t.Fatal(err)
	}
	before := tensors.MustCopyFlatData[float32](tr.c)
	if err := tr.ResetRows([]int{1, 3}); err != nil {
		t.Fatal(err)
	}
	after := tensors.MustCopyFlatData[float32](tr.c)
	cfg := m.Config
	for k := range cfg.Layers {
		for b := range cfg.BatchSize {
			for j := range cfg.Hidden {
				i := (k*cfg.BatchSize+b)*cfg.Hidden + j
				reset := b == 1 || b == 3
				if reset && after[i] != 0 || !reset && after[i] != before[i] {
					t.Fatalf("layer %d stream %d unit %d: %v before, %v after resetting streams 1 and 3", k, b, j, before[i], after[i])
				}
			}
		}
	}
}

// TestHandGradMatchesAutodiffWithDropout: with dropout active and the same masks (the same RNG state),
// the hand-written backward pass gives autodiff's gradients for every parameter of a 2-layer model.
func TestHandGradMatchesAutodiffWithDropout(t *testing.T) {
	m, ids := tinyModel(t, strings.Repeat(tinyText, 4), func(c *Config) { c.Dropout, c.Hidden, c.EmbedDim = 0.5, 16, 8 })
	const steps, batch = 8, 3
	var x, y []int32
	for b := range batch {
		x = append(x, ids[b*20:b*20+steps]...)
		y = append(y, ids[b*20+1:b*20+steps+1]...)
	}
	tokens, targets := timeMajor(x, batch, steps), timeMajor(y, batch, steps)
	zeros := tensors.FromShape(m.stateShape(batch))
	paths := paramPaths(m)
	grads := func(hand bool) [][]float32 {
		m.HandGrad = hand
		exec, err := m.newExec(func(g *Graph, in []*Node) []*Node {
			out := m.forward(g, in[0], in[2], in[3], steps, true)
			loss, _ := nll(out.Logits, in[1])
			mean := ReduceAllMean(loss)
			params := make([]*Node, len(paths))
			for i, p := range paths {
				params[i] = m.param(g, p)
			}
			return append([]*Node{mean}, Gradient(mean, params...)...)
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Store.SetRNGStateFromSeed(7); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Call(tokens, targets, zeros, zeros)
		if err != nil {
			t.Fatal(err)
		}
		var res [][]float32
		for _, o := range out {
			res = append(res, tensors.MustCopyFlatData[float32](o))
		}
		return res
	}
	hand, auto := grads(true), grads(false)
	m.HandGrad = false
	noDropout := m.Config
	noDropout.Dropout = 0
	plain := *m
	plain.Config = noDropout
	if hand[0][0] != auto[0][0] || math.Abs(float64(hand[0][0])-forwardLoss(t, &plain, tokens, targets, batch, steps)) < 1e-4 {
		t.Fatalf("loss %v (hand) and %v (autodiff) should be equal, and differ from the loss without dropout", hand[0][0], auto[0][0])
	}
	for k, p := range paths {
		h, a := hand[k+1], auto[k+1]
		for j := range h {
			if d := math.Abs(float64(h[j] - a[j])); d > 1e-6+1e-4*math.Abs(float64(a[j])) {
				t.Fatalf("%s[%d]: hand-written %v, autodiff %v", p, j, h[j], a[j])
			}
		}
	}
}

func paramPaths(m *Model) []string {
	var paths []string
	for _, p := range paramSpecs(m.Config, m.Vocab.Size()) {
		paths = append(paths, p.Path)
	}
	return paths
}

// forwardLoss is the mean training-mode loss of one window from the zero state.
func forwardLoss(t *testing.T, m *Model, tokens, targets []int32, batch, steps int) float64 {
	t.Helper()
	exec, err := m.newExec(func(g *Graph, in []*Node) []*Node {
		out := m.forward(g, in[0], in[2], in[3], steps, true)
		loss, _ := nll(out.Logits, in[1])
		return []*Node{ReduceAllMean(loss)}
	})
	if err != nil {
		t.Fatal(err)
	}
	zeros := tensors.FromShape(m.stateShape(batch))
	out, err := exec.Call(tokens, targets, zeros, zeros)
	if err != nil {
		t.Fatal(err)
	}
	return scalar(out[0])
}

// TestDropoutMasksAreFreshEachCall: the dropout RNG state lives in a Store variable that each compiled
// call must write back, or every step would reuse the first step's masks. Masks must differ between
// calls and between the sites of one graph, keep 1−p of the units, and scale kept units by 1/(1−p).
func TestDropoutMasksAreFreshEachCall(t *testing.T) {
	const p, rows, cols = 0.25, 512, 64
	m, _ := tinyModel(t, tinyText, func(c *Config) { c.Dropout = p })
	exec, err := m.newExec(func(g *Graph, in []*Node) []*Node {
		return []*Node{m.dropout(g, in[0], true), m.dropout(g, in[0], true)}
	})
	if err != nil {
		t.Fatal(err)
	}
	ones := make([]float32, rows*cols)
	for i := range ones {
		ones[i] = 1
	}
	x := tensors.FromFlatDataAndDimensions(ones, rows, cols)
	rng := m.Store.GetVariable("/" + model.RNGStateVariableName)
	var prev []float32
	for call := range 3 {
		state := tensors.MustCopyFlatData[uint64](rng.MustValue())
		out, err := exec.Call(x)
		if err != nil {
			t.Fatal(err)
		}
		if slices.Equal(state, tensors.MustCopyFlatData[uint64](rng.MustValue())) {
			t.Fatalf("call %d left the RNG state unchanged", call)
		}
		a, b := tensors.MustCopyFlatData[float32](out[0]), tensors.MustCopyFlatData[float32](out[1])
		var kept, same, samePrev int
		for i := range a {
			if a[i] != 0 {
				kept++
				if math.Abs(float64(a[i])-1/(1-p)) > 1e-6 {
					t.Fatalf("kept unit scaled to %v, want %v", a[i], 1/(1-p))
				}
			}
			if (a[i] != 0) == (b[i] != 0) {
				same++
			}
			if prev != nil && (a[i] != 0) == (prev[i] != 0) {
				samePrev++
			}
		}
		n := float64(len(a))
		// Independent masks agree on p² + (1−p)² = 0.625 of the units; identical ones on all.
		if keep := float64(kept) / n; math.Abs(keep-(1-p)) > 0.02 {
			t.Errorf("call %d kept %.3f of the units, want %.2f", call, keep, 1-p)
		}
		if agree := float64(same) / n; math.Abs(agree-0.625) > 0.02 {
			t.Errorf("call %d: the two sites' masks agree on %.3f of the units, independent ones on 0.625", call, agree)
		}
		if agree := float64(samePrev) / n; prev != nil && math.Abs(agree-0.625) > 0.02 {
			t.Errorf("call %d: masks agree with the previous call's on %.3f of the units, independent ones on 0.625", call, agree)
		}
		prev = a
	}
}
