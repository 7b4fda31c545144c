package lstm

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// TestResetRowsZeroesOnlyThoseStreams checks the state-reset hook on the carried training state of
// every cell: the reset streams' hidden (and, for the LSTM, cell) state is zero, the others' unchanged.
func TestResetRowsZeroesOnlyThoseStreams(t *testing.T) {
	for _, cell := range CellNames() {
		t.Run(cell, func(t *testing.T) {
			m, ids := tinyModel(t, strings.Repeat(tinyText, 4), func(c *Config) { c.Cell = cell })
			tr, err := NewTrainer(m, ids, ids, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tr.Step(); err != nil {
				t.Fatal(err)
			}
			states := map[string]**tensors.Tensor{"h": &tr.h}
			if m.Cell().HasCellState() {
				states["c"] = &tr.c
			}
			before := map[string][]float32{}
			for name, s := range states {
				before[name] = tensors.MustCopyFlatData[float32](*s)
			}
			if err := tr.ResetRows([]int{1, 3}); err != nil {
				t.Fatal(err)
			}
			cfg := m.Config
			for name, s := range states {
				after := tensors.MustCopyFlatData[float32](*s)
				nonzero := 0
				for k := range cfg.Layers {
					for b := range cfg.BatchSize {
						for j := range cfg.Hidden {
							i := (k*cfg.BatchSize+b)*cfg.Hidden + j
							reset := b == 1 || b == 3
							if before[name][i] != 0 {
								nonzero++
							}
							if reset && after[i] != 0 || !reset && after[i] != before[name][i] {
								t.Fatalf("%s: layer %d stream %d unit %d: %v before, %v after resetting streams 1 and 3", name, k, b, j, before[name][i], after[i])
							}
						}
					}
				}
				if nonzero == 0 {
					t.Fatalf("%s was zero before the reset: the test shows nothing", name)
				}
			}
		})
	}
}

// TestResetRowsRejectsRowsOutsideTheBatch: a row below 0 or at/after the batch size is an error naming
// the row and the batch size (no panic), and the carried state is left as it was, even when the other rows
// asked for are valid.
func TestResetRowsRejectsRowsOutsideTheBatch(t *testing.T) {
	m, ids := tinyModel(t, strings.Repeat(tinyText, 4), nil)
	tr, err := NewTrainer(m, ids, ids, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Step(); err != nil {
		t.Fatal(err)
	}
	h, c := tensors.MustCopyFlatData[float32](tr.h), tensors.MustCopyFlatData[float32](tr.c)
	for _, rows := range [][]int{{4}, {0, -1}, {1, 100}} {
		err := tr.ResetRows(rows)
		bad := rows[len(rows)-1]
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("row %d", bad)) || !strings.Contains(err.Error(), "batch 4") {
			t.Errorf("ResetRows(%v) = %v, want an error naming row %d and batch 4", rows, err, bad)
		}
		if !slices.Equal(tensors.MustCopyFlatData[float32](tr.h), h) || !slices.Equal(tensors.MustCopyFlatData[float32](tr.c), c) {
			t.Fatalf("ResetRows(%v) changed the carried state", rows)
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
	paths := m.ParamPaths()
	grads := func(hand bool) [][]float32 {
		m.HandGrad = hand
		exec := lossGradExec(t, m, steps, paths)
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
	plain := withShape(m, m.Config.BatchSize, m.Config.SeqLen)
	plain.Config.Dropout = 0
	if hand[0][0] != auto[0][0] || math.Abs(float64(hand[0][0])-forwardLoss(t, plain, tokens, targets, batch, steps)) < 1e-4 {
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
