package lstm

import (
	"fmt"
	"math"
	"strings"

	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck // GoMLX graph code reads like math with a dot import.
	"github.com/gomlx/gomlx/core/tensors"
)

// The optimizers are written here rather than taken from GoMLX's ml/train/optimizer because this
// project needs three things it lacks: gradient clipping by global norm, SGD with momentum, and a
// learning rate fed in per step from the host-side schedule (so resuming never inherits a stale
// learning-rate variable). Their state lives in the Store under optimizerScope and is checkpointed.

const (
	optimizerScope = "/optimizer"
	adamBeta1      = 0.9
	adamBeta2      = 0.999
	adamEpsilon    = 1e-8
)

// slotPath is where an optimizer keeps its per-parameter state ("m", "v" or "momentum").
func slotPath(slot, param string) string {
	return optimizerScope + "/" + slot + "/" + strings.TrimPrefix(param, "/")
}

// optimizerSlots lists the state an optimizer keeps per parameter.
func optimizerSlots(name string) []string {
	if name == "sgd" {
		return []string{"momentum"}
	}
	return []string{"m", "v"}
}

// ensureOptimizerState creates zeroed optimizer state for every trainable parameter that has none yet
// (a resumed model already has it from its checkpoint). Frozen parameters get none.
func (m *Model) ensureOptimizerState(trainable []string) error {
	for _, p := range trainable {
		v := m.Store.GetVariable(p)
		for _, slot := range optimizerSlots(m.Config.Optimizer) {
			path := slotPath(slot, p)
			if m.Store.GetVariable(path) != nil {
				continue
			}
			if _, err := m.Store.CreateVariable(path, tensors.FromShape(v.Shape())); err != nil {
				return fmt.Errorf("create optimizer state %s: %w", path, err)
			}
			m.Store.GetVariable(path).SetTrainable(false)
		}
	}
	return nil
}

// hyperInput is the per-step host-computed vector fed to the train step: the learning rate and Adam's
// bias corrections 1−β₁ᵗ and 1−β₂ᵗ.
func hyperInput(lr float64, step int) []float32 {
	t := float64(step + 1)
	return []float32{float32(lr), float32(1 - math.Pow(adamBeta1, t)), float32(1 - math.Pow(adamBeta2, t))}
}

// LearningRate is the schedule: linear warm-up over cfg.Warmup steps, then constant ("none"),
// cosine down to LR·DecayRate by cfg.Steps ("cosine"), or ×DecayRate every DecayEvery steps ("step").
func LearningRate(cfg Config, step int) float64 {
	if cfg.Warmup > 0 && step < cfg.Warmup {
		return cfg.LR * float64(step+1) / float64(cfg.Warmup)
	}
	switch cfg.Decay {
	case "cosine":
		span := max(cfg.Steps-cfg.Warmup, 1)
		progress := math.Min(1, float64(step-cfg.Warmup)/float64(span))
		floor := cfg.LR * cfg.DecayRate
		return floor + (cfg.LR-floor)*0.5*(1+math.Cos(math.Pi*progress))
	case "step":
		return cfg.LR * math.Pow(cfg.DecayRate, float64((step-cfg.Warmup)/cfg.DecayEvery))
	default:
		return cfg.LR
	}
}

// globalNorm returns ‖g‖₂ over all gradients together.
func globalNorm(grads []*Node) *Node {
	var sum *Node
	for _, g := range grads {
		s := ReduceAllSum(Square(g))
		if sum == nil {
			sum = s
		} else {
			sum = Add(sum, s)
		}
	}
	return Sqrt(sum)
}

// clipByGlobalNorm scales all gradients by min(1, maxNorm/‖g‖) — PyTorch's clip_grad_norm_ — so their
// direction is kept and only an exploding step is shortened. It returns the clipped gradients and the
// norm before clipping (logged as grad_norm).
func clipByGlobalNorm(grads []*Node, maxNorm float64) ([]*Node, *Node) {
	norm := globalNorm(grads)
	if maxNorm <= 0 {
		return grads, norm
	}
	scale := Min(ScalarOne(norm.Graph(), norm.DType()), Div(Scalar(norm.Graph(), norm.DType(), maxNorm), Add(norm, Scalar(norm.Graph(), norm.DType(), 1e-6))))
	clipped := make([]*Node, len(grads))
	for i, g := range grads {
		clipped[i] = Mul(g, scale)
	}
	return clipped, norm
}

// applyUpdates builds the optimizer update of every trainable parameter given its (clipped) gradient.
// hyper: [3] = learning rate, 1−β₁ᵗ, 1−β₂ᵗ. Weight decay is decoupled (AdamW) and applies to matrices
// only, as nanoGPT does: biases are not decayed.
func (m *Model) applyUpdates(g *Graph, trainable []string, grads []*Node, hyper *Node) {
	cfg := m.Config
	lr := Reshape(Slice(hyper, AxisElem(0)))
	bc1 := Reshape(Slice(hyper, AxisElem(1)))
	bc2 := Reshape(Slice(hyper, AxisElem(2)))
	for i, path := range trainable {
		v := m.Store.GetVariable(path)
		w := v.ValueGraph(g)
		grad := grads[i]
		var step *Node
		switch cfg.Optimizer {
		case "sgd":
			buf := m.Store.GetVariable(slotPath("momentum", path))
			mom := Add(MulScalar(buf.ValueGraph(g), cfg.Momentum), grad)
			buf.SetValueGraph(mom)
			step = mom
		default: // adam
			mv, vv := m.Store.GetVariable(slotPath("m", path)), m.Store.GetVariable(slotPath("v", path))
			m1 := Add(MulScalar(mv.ValueGraph(g), adamBeta1), MulScalar(grad, 1-adamBeta1))
			m2 := Add(MulScalar(vv.ValueGraph(g), adamBeta2), MulScalar(Square(grad), 1-adamBeta2))
			mv.SetValueGraph(m1)
			vv.SetValueGraph(m2)
			step = Div(Div(m1, bc1), AddScalar(Sqrt(Div(m2, bc2)), adamEpsilon))
		}
		if cfg.WeightDecay > 0 && w.Rank() >= 2 {
			step = Add(step, MulScalar(w, cfg.WeightDecay))
		}
		v.SetValueGraph(Sub(w, Mul(lr, step)))
	}
}
