package lstm

import (
	"math"
	"strings"
	"testing"

	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/core/tensors"
)

// TestPredictAgreesWithScoring checks Predict, batched, against Score (the stepper, one sequence at a time)
// and NextTokenDistribution for every cell: same log-probabilities and the arg-max of the same distribution.
func TestPredictAgreesWithScoring(t *testing.T) {
	for _, cell := range CellNames() {
		t.Run(cell, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Cell, cfg.Hidden, cfg.EmbedDim, cfg.Layers = cell, 16, 8, 2
			m, err := New(cfg, charVocab(t, sampleCorpus), testBackend(t))
			if err != nil {
				t.Fatal(err)
			}
			texts := []string{"the cat sat.", "a dog met a.", "on the log.\n"}
			var seqs [][]int32
			for _, s := range texts {
				ids, err := m.Vocab.Encode(s)
				if err != nil {
					t.Fatal(err)
				}
				seqs = append(seqs, ids)
			}
			preds, err := m.Predict(seqs)
			if err != nil {
				t.Fatal(err)
			}
			for b, s := range texts {
				score, err := m.Score(s)
				if err != nil {
					t.Fatal(err)
				}
				if len(preds[b]) != len(score.PerToken) {
					t.Fatalf("%q: %d predictions, %d scored tokens", s, len(preds[b]), len(score.PerToken))
				}
				for i, p := range preds[b] {
					if p.Target != seqs[b][i+1] || math.Abs(p.LogProb-score.PerToken[i].LogProb) > 1e-4 {
						t.Fatalf("%q position %d: predicted %+v, Score gives %g for %q", s, i+1, p, score.PerToken[i].LogProb, score.PerToken[i].Token)
					}
				}
				dist, err := m.NextTokenDistribution(s[:5])
				if err != nil {
					t.Fatal(err)
				}
				best := 0
				for id, p := range dist {
					if p > dist[best] {
						best = id
					}
				}
				if got := preds[b][4].ArgMax; int(got) != best {
					t.Errorf("%q after %q: Predict's arg-max %d, NextTokenDistribution's %d", s, s[:5], got, best)
				}
			}
			if _, err := m.Predict([][]int32{seqs[0], seqs[1][:3]}); err == nil || !strings.Contains(err.Error(), "same length") {
				t.Errorf("unequal lengths: %v", err)
			}
			if _, err := m.Predict([][]int32{{0, int32(m.Vocab.Size())}}); err == nil {
				t.Error("a token outside the vocabulary was accepted")
			}
		})
	}
}

// TestGradientNormsMatchFiniteDifferences checks GradientNorms for every cell (one layer) by a route that
// does not use autodiff: the loss L of the last token, as a function of the hidden state h_t after input t
// (c_t held, for the LSTM, at its value), is the model run from state (h_t, c_t) over the remaining
// inputs; central finite differences of that function give ∂L/∂h_t, whose norm must match.
func TestGradientNormsMatchFiniteDifferences(t *testing.T) {
	for _, cell := range CellNames() {
		t.Run(cell, func(t *testing.T) {
			m, _ := tinyModel(t, tinyText, func(c *Config) { c.Cell, c.Layers, c.Hidden, c.EmbedDim = cell, 1, 5, 4 })
			ids, _ := m.Vocab.Encode("the cat sat.")
			surv, err := m.GradientNorms([][]int32{ids})
			if err != nil {
				t.Fatal(err)
			}
			steps := len(ids) - 1
			if len(surv.H) != 1 || len(surv.H[0]) != steps || (cell == "lstm") != (surv.C != nil) {
				t.Fatalf("shape: H %d×%d, C %v", len(surv.H), len(surv.H[0]), surv.C != nil)
			}
			// lossFrom: inputs tokens [n] from state h0, c0 [1, 1, H]; output the last position's NLL of target
			// and the state after the inputs.
			lossFrom, err := m.newExec(func(g *Graph, in []*Node) []*Node {
				n := in[0].Shape().Dimensions[0]
				out := m.forward(g, in[0], in[2], in[3], n, false)
				loss, _ := nll(Slice(out.Logits, AxisRange(n-1, n), AxisRange()), in[1])
				return []*Node{ReduceAllSum(loss), out.HT, out.CT}
			})
			if err != nil {
				t.Fatal(err)
			}
			target := []int32{ids[steps]}
			zeros := tensors.FromShape(m.stateShape(1))
			whole, err := lossFrom.Call(ids[:steps], target, zeros, zeros)
			if err != nil {
				t.Fatal(err)
			}
			if got := scalar(whole[0]); math.Abs(got-surv.Loss) > 1e-5 {
				t.Errorf("loss %g, the forward pass gives %g", surv.Loss, got)
			}
			for _, d := range []int{1, 3, steps - 1} {
				tIdx := steps - 1 - d // h_t is the state after input t
				state, err := lossFrom.Call(ids[:tIdx+1], target, zeros, zeros)
				if err != nil {
					t.Fatal(err)
				}
				h := tensors.MustCopyFlatData[float32](state[1])
				var sq float64
				const eps = 1e-2
				for j := range h {
					at := func(delta float32) float64 {
						hp := append([]float32(nil), h...)
						hp[j] += delta
						out, err := lossFrom.Call(ids[tIdx+1:steps], target, tensors.FromFlatDataAndDimensions(hp, 1, 1, len(h)), state[2])
						if err != nil {
							t.Fatal(err)
						}
						return scalar(out[0])
					}
					g := (at(eps) - at(-eps)) / (2 * eps)
					sq += g * g
				}
				numeric := math.Sqrt(sq)
				if diff := math.Abs(numeric - surv.H[0][d]); diff > 2e-3+2e-2*numeric {
					t.Errorf("d = %d: ‖∂L/∂h‖ = %g, finite differences %g", d, surv.H[0][d], numeric)
				}
				if numeric < 1e-4 {
					t.Errorf("d = %d: the gradient is %g: the comparison proves nothing", d, numeric)
				}
			}
		})
	}
}

// TestGradientNormsBatchIsTheMeanOfSequences checks that a batch of sequences gives the mean of their
// separate norms (the sequences do not interact).
func TestGradientNormsBatchIsTheMeanOfSequences(t *testing.T) {
	m, _ := tinyModel(t, tinyText, func(c *Config) { c.Cell, c.Layers = "gru", 2 })
	a, _ := m.Vocab.Encode("the cat sat")
	b, _ := m.Vocab.Encode("a dog met a")
	both, err := m.GradientNorms([][]int32{a, b})
	if err != nil {
		t.Fatal(err)
	}
	na, _ := m.GradientNorms([][]int32{a})
	nb, _ := m.GradientNorms([][]int32{b})
	for k := range both.H {
		for d := range both.H[k] {
			if want := (na.H[k][d] + nb.H[k][d]) / 2; math.Abs(both.H[k][d]-want) > 1e-5*(1+want) {
				t.Fatalf("layer %d, d = %d: batch %g, mean of the two %g", k, d, both.H[k][d], want)
			}
		}
	}
	if _, err := m.GradientNorms([][]int32{a[:1]}); err == nil || !strings.Contains(err.Error(), "at least 2") {
		t.Errorf("a one-token sequence: %v", err)
	}
}
