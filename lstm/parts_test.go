package lstm

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/lstmlab/lstmlab/lstm/text"
)

// TestHandWrittenLoopMatchesTrainer writes a training loop from the exported parts (Forward, Loss, autodiff,
// ClipByGlobalNorm, a plain SGD update through NewExec) and checks it gives the same losses, gradient norms
// and weights as Trainer.Step with optimizer sgd, momentum 0: the parts are what training runs.
func TestHandWrittenLoopMatchesTrainer(t *testing.T) {
	for _, cell := range CellNames() {
		t.Run(cell, func(t *testing.T) {
			edit := func(c *Config) {
				c.Cell, c.Optimizer, c.Momentum, c.LR, c.ClipNorm, c.Warmup, c.Decay = cell, "sgd", 0, 0.5, 0.05, 0, "none"
				c.ResetProb = 0 // the loop by hand carries the state straight through; the trainer must too
			}
			corpus := strings.Repeat(tinyText, 4)
			viaTrainer, ids := tinyModel(t, corpus, edit)
			byHand, _ := tinyModel(t, corpus, edit)
			cfg := byHand.Config
			tr, err := NewTrainer(viaTrainer, ids, ids[:40], nil)
			if err != nil {
				t.Fatal(err)
			}
			paths := byHand.ParamPaths()
			if len(paths) != len(tr.trainable) {
				t.Fatalf("ParamPaths has %d parameters, the trainer trains %d", len(paths), len(tr.trainable))
			}
			step, err := byHand.NewExec(func(g *Graph, in []*Node) []*Node {
				logits, hT, cT := byHand.Forward(g, in[0], in[2], in[3], true) // forward
				loss := Loss(logits, in[1])                                    // loss
				params := make([]*Node, len(paths))
				for i, p := range paths {
					params[i] = byHand.Store.GetVariable(p).NodeValue(g)
				}
				grads, norm := ClipByGlobalNorm(Gradient(loss, params...), cfg.ClipNorm) // backward, clip
				for i, p := range paths {                                                // update
					byHand.Store.GetVariable(p).SetNodeValue(Sub(params[i], MulScalar(grads[i], cfg.LR)))
				}
				return []*Node{loss, norm, hT, cT}
			})
			if err != nil {
				t.Fatal(err)
			}
			streams, err := text.NewStreams(ids, cfg.BatchSize, cfg.SeqLen)
			if err != nil {
				t.Fatal(err)
			}
			if streams.NumWindows() < 4 {
				t.Fatalf("%d windows: the test needs 4 in one epoch", streams.NumWindows())
			}
			h := tensors.FromShape(byHand.stateShape(cfg.BatchSize))
			c := h
			clipped := false
			for i := range 4 {
				ev, err := tr.Step()
				if err != nil {
					t.Fatal(err)
				}
				x, y := streams.Window(i)
				out, err := step.Call(TimeMajor(x, cfg.BatchSize, cfg.SeqLen), TimeMajor(y, cfg.BatchSize, cfg.SeqLen), h, c)
				if err != nil {
					t.Fatal(err)
				}
				h, c = out[2], out[3]
				loss, norm := scalar(out[0]), scalar(out[1])
				if math.Abs(loss-ev.Loss) > 1e-5*ev.Loss || math.Abs(norm-ev.GradNorm) > 1e-4*ev.GradNorm {
					t.Fatalf("step %d: by hand loss %.7f, norm %.6f; Trainer.Step loss %.7f, norm %.6f", i+1, loss, norm, ev.Loss, ev.GradNorm)
				}
				clipped = clipped || norm > cfg.ClipNorm
			}
			if !clipped {
				t.Error("no step's gradient norm exceeded clip_norm: clipping was not exercised")
			}
			for _, p := range paths {
				assertClose(t, p, byHand.Store.GetVariable(p).MustValue(), viaTrainer.Store.GetVariable(p).MustValue(), 1e-5)
			}
		})
	}
}

// TestBPTTMatchesFiniteDifferences checks BPTT's gradients, for every cell, against central finite
// differences of L = Σ_t dy_t·h_t computed with the plain-float64 reference steps of cell_test.go.
func TestBPTTMatchesFiniteDifferences(t *testing.T) {
	const in, hidden, steps = 3, 4, 4
	for _, name := range CellNames() {
		t.Run(name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(7, uint64(len(name))))
			cell, _ := CellByName(name)
			specs := cell.params(0, in, hidden)
			draw := func(n int, scale float64) []float32 {
				v := make([]float32, n)
				for i := range v {
					v[i] = float32((rng.Float64()*2 - 1) * scale)
				}
				return v
			}
			w := CellWeights{Cell: name, In: in, Hidden: hidden, WIH: draw(dimsSize(specs[0].Dims), 0.8),
				WHH: draw(dimsSize(specs[1].Dims), 0.8), Bias: draw(dimsSize(specs[2].Dims), 0.5)}
			if name == "gru" {
				w.BiasHH = draw(dimsSize(specs[3].Dims), 0.5)
			}
			xs, dys := make([][]float32, steps), make([][]float32, steps)
			for s := range steps {
				xs[s], dys[s] = draw(in, 1), draw(hidden, 1)
			}
			h0, c0 := draw(hidden, 0.5), draw(hidden, 0.5)
			got, loss, err := BPTT(testBackend(t), w, xs, h0, c0, dys)
			if err != nil {
				t.Fatal(err)
			}
			if want := refLayerLoss(name, w, xs, h0, c0, dys); math.Abs(loss-want) > 1e-5*(1+math.Abs(want)) {
				t.Fatalf("L = %.7f, the reference gives %.7f", loss, want)
			}
			checked := 0
			for _, pair := range [][2][]float32{{w.WIH, got.WIH}, {w.WHH, got.WHH}, {w.Bias, got.Bias}, {w.BiasHH, got.BiasHH}} {
				weights, grads := pair[0], pair[1]
				if len(grads) != len(weights) {
					t.Fatalf("%d gradients for %d weights", len(grads), len(weights))
				}
				for i := range weights {
					const eps = 1e-4
					orig := weights[i]
					weights[i] = orig + eps
					up := refLayerLoss(name, w, xs, h0, c0, dys)
					weights[i] = orig - eps
					down := refLayerLoss(name, w, xs, h0, c0, dys)
					weights[i] = orig
					numeric := (up - down) / (2 * eps)
					if d := math.Abs(float64(grads[i]) - numeric); d > 2e-3*(1+math.Abs(numeric)) {
						t.Fatalf("gradient %d: BPTT %.6f, finite differences %.6f", i, grads[i], numeric)
					}
					checked++
				}
			}
			if checked < 3*hidden {
				t.Fatalf("only %d gradients checked", checked)
			}
			if _, _, err := BPTT(testBackend(t), w, xs, h0, c0, dys[:1]); err == nil {
				t.Error("BPTT accepted fewer output gradients than steps")
			}
		})
	}
}

// refLayerLoss runs the reference step of the named cell over xs from h0, c0 (float64, the weights read
// from w's float32 values) and returns Σ_t dys[t]·h_t.
func refLayerLoss(name string, w CellWeights, xs [][]float32, h0, c0 []float32, dys [][]float32) float64 {
	cols := len(w.Bias)
	matrix := func(flat []float32, rows int) [][]float64 {
		m := make([][]float64, rows)
		for r := range m {
			m[r] = f64(flat[r*cols : (r+1)*cols])
		}
		return m
	}
	wIH, wHH, b := matrix(w.WIH, w.In), matrix(w.WHH, w.Hidden), f64(w.Bias)
	h, c := f64(h0), f64(c0)
	loss := 0.0
	for t, x := range xs {
		var s refStep
		switch name {
		case "lstm":
			s = refCellStep(f64(x), h, c, wIH, wHH, b)
			c = s["c"]
		case "gru":
			s = refGRUStep(f64(x), h, wIH, wHH, b, f64(w.BiasHH))
		default:
			s = refRNNStep(f64(x), h, wIH, wHH, b)
		}
		h = s["h"]
		for j := range h {
			loss += float64(dys[t][j]) * h[j]
		}
	}
	return loss
}

func f64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}
