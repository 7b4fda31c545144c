package lstm

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/lstmlab/lstmlab/lstm/safetensors"
)

// TestOptimizerUpdatesFollowTheirEquations trains a few steps with each optimizer and checks every
// parameter after every step against the update computed on the host in float64 from the same gradients
// (taken by a separate gradient graph on the same window and carried state): Adam (with and without
// AdamW weight decay and clipping), SGD with and without momentum and weight decay, and tied embedding and
// head weights (whose gradient is the sum of both uses, decayed as a matrix).
func TestOptimizerUpdatesFollowTheirEquations(t *testing.T) {
	for name, edit := range map[string]func(*Config){
		"adam":                   func(c *Config) { c.Optimizer = "adam" },
		"adamw+clip":             func(c *Config) { c.Optimizer, c.WeightDecay, c.ClipNorm = "adam", 0.1, 0.5 },
		"sgd":                    func(c *Config) { c.Optimizer, c.Momentum, c.LR = "sgd", 0, 0.5 },
		"sgd+momentum+decay":     func(c *Config) { c.Optimizer, c.Momentum, c.WeightDecay, c.LR = "sgd", 0.9, 0.05, 0.5 },
		"adam+tied":              func(c *Config) { c.Optimizer, c.TieWeight, c.EmbedDim, c.WeightDecay = "adam", true, 8, 0.1 },
		"sgd+momentum+tied":      func(c *Config) { c.Optimizer, c.Momentum, c.TieWeight, c.EmbedDim, c.LR = "sgd", 0.9, true, 8, 0.5 },
		"gru+sgd+momentum+decay": func(c *Config) { c.Cell, c.Optimizer, c.Momentum, c.WeightDecay, c.LR = "gru", "sgd", 0.9, 0.05, 0.5 },
	} {
		t.Run(name, func(t *testing.T) {
			m, ids := tinyModel(t, strings.Repeat(tinyText, 6), func(c *Config) {
				c.Layers, c.Hidden, c.EmbedDim, c.Dropout, c.LR, c.Warmup, c.Steps, c.ClipNorm = 1, 8, 4, 0, 0.05, 2, 4, 0
				edit(c)
			})
			checkOptimizerSteps(t, m, ids)
		})
	}
}

func checkOptimizerSteps(t *testing.T, m *Model, ids []int32) {
	cfg := m.Config
	tr, err := NewTrainer(m, ids, ids, nil)
	if err != nil {
		t.Fatal(err)
	}
	specs := paramSpecs(cfg, m.Vocab.Size())
	gradExec, err := m.newExec(func(g *Graph, in []*Node) []*Node {
		out := m.forward(g, in[0], in[2], in[3], cfg.SeqLen, true)
		loss, _ := nll(out.Logits, in[1])
		var params []*Node
		for _, p := range specs {
			params = append(params, m.param(g, p.Path))
		}
		return Gradient(ReduceAllMean(loss), params...)
	})
	if err != nil {
		t.Fatal(err)
	}
	// The host's copy of every parameter and optimizer slot, in float64.
	w := map[string][]float64{}
	slots := map[string][][]float64{}
	opt, _ := NewOptimizer(cfg)
	for _, p := range specs {
		w[p.Path] = float64s(tensors.MustCopyFlatData[float32](m.Store.GetVariable(p.Path).MustValue()))
		for range opt.Slots() {
			slots[p.Path] = append(slots[p.Path], make([]float64, len(w[p.Path])))
		}
	}
	for step := range cfg.Steps {
		x, y := tr.train.Window(tr.State.Window)
		out, err := gradExec.Call(timeMajor(x, cfg.BatchSize, cfg.SeqLen), timeMajor(y, cfg.BatchSize, cfg.SeqLen), tr.h, tr.c)
		if err != nil {
			t.Fatal(err)
		}
		grads := make([][]float64, len(out))
		var sq float64
		for i, g := range out {
			grads[i] = float64s(tensors.MustCopyFlatData[float32](g))
			for _, v := range grads[i] {
				sq += v * v
			}
		}
		scale := 1.0
		if cfg.ClipNorm > 0 {
			scale = math.Min(1, cfg.ClipNorm/(math.Sqrt(sq)+1e-6))
		}
		lr := LearningRate(cfg, step)
		bc1, bc2 := 1-math.Pow(adamBeta1, float64(step+1)), 1-math.Pow(adamBeta2, float64(step+1))
		for i, p := range specs {
			for j := range w[p.Path] {
				g := grads[i][j] * scale
				var d float64
				switch cfg.Optimizer {
				case "adam":
					mj := &slots[p.Path][0][j]
					vj := &slots[p.Path][1][j]
					*mj = adamBeta1**mj + (1-adamBeta1)*g
					*vj = adamBeta2**vj + (1-adamBeta2)*g*g
					d = (*mj / bc1) / (math.Sqrt(*vj/bc2) + adamEpsilon)
				case "sgd":
					buf := &slots[p.Path][0][j]
					*buf = cfg.Momentum**buf + g
					d = *buf
				}
				if len(p.Dims) >= 2 {
					d += cfg.WeightDecay * w[p.Path][j]
				}
				w[p.Path][j] -= lr * d
			}
		}
		if _, err := tr.Step(); err != nil {
			t.Fatal(err)
		}
		moved := 0.0 // the largest change of a parameter this step: the comparison must see updates
		for i, p := range specs {
			got := tensors.MustCopyFlatData[float32](m.Store.GetVariable(p.Path).MustValue())
			for j, want := range w[p.Path] {
				if math.Abs(float64(got[j])-want) > 2e-5*(1+math.Abs(want)) {
					t.Fatalf("step %d: %s[%d] = %v, the %s update on the host gives %v", step+1, p.Path, j, got[j], cfg.Optimizer, want)
				}
				moved = math.Max(moved, math.Abs(lr*grads[i][j]))
			}
		}
		if moved < 1e-4 {
			t.Fatalf("step %d moved no parameter by more than %g: the check proves nothing", step+1, moved)
		}
	}
}

func float64s(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}

// TestTiedWeightsTrainAndExport trains a model with tie_weights and checks that the head really is the
// embedding (there is no separate head weight, the embedding moved, the export's decoder.weight equals its
// embedding.weight) and that the export still computes the model's logits (PyTorch's equations).
func TestTiedWeightsTrainAndExport(t *testing.T) {
	for _, cell := range CellNames() {
		t.Run(cell, func(t *testing.T) {
			m, ids := tinyModel(t, strings.Repeat(tinyText, 2), func(c *Config) {
				c.Cell, c.TieWeight, c.EmbedDim, c.Hidden, c.Steps, c.WeightDecay = cell, true, 16, 16, 5, 0.01
			})
			if m.Store.GetVariable(ParamDecoderWeight) != nil {
				t.Fatal("a tied model has a separate head weight")
			}
			before := tensors.MustCopyFlatData[float32](m.Store.GetVariable(ParamEmbedding).MustValue())
			tr, err := NewTrainer(m, ids, ids, nil)
			if err != nil {
				t.Fatal(err)
			}
			losses := trainLosses(t, tr)
			if !(losses[len(losses)-1] < losses[0]) {
				t.Errorf("tied training did not lower the loss: %v", losses)
			}
			after := tensors.MustCopyFlatData[float32](m.Store.GetVariable(ParamEmbedding).MustValue())
			if slices.Equal(before, after) {
				t.Error("the tied embedding did not change in training")
			}
			path := filepath.Join(t.TempDir(), "tied.safetensors")
			if err := m.ExportPyTorch(path); err != nil {
				t.Fatal(err)
			}
			f, err := safetensors.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if emb, dec := f.Tensors["embedding.weight"], f.Tensors["decoder.weight"]; !slices.Equal(emb.Data, dec.Data) || fmt.Sprint(emb.Shape) != fmt.Sprint(dec.Shape) {
				t.Error("exported decoder.weight differs from embedding.weight in a tied model")
			}
			checkExportFollowsPyTorch(t, m, ids[:7])
		})
	}
}
