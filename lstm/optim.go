package lstm

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck // GoMLX graph code reads like math with a dot import.
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// The optimizers are written here rather than taken from GoMLX's ml/train/optimizer because this
// project needs three things it lacks: gradient clipping by global norm, SGD with momentum, and a
// learning rate fed in per step from the host-side schedule (so resuming never inherits a stale
// learning-rate variable). Their state lives in the Store under optimizerScope and is checkpointed.

// Optimizer is an optimisation algorithm, named by the `optimizer` config key (OptimizerNames). The
// Trainer owns what every optimizer shares — the learning-rate schedule, gradient clipping, and
// decoupled weight decay: a parameter w moves by −lr·(d + weight_decay·w) (weight decay on matrices
// only, as nanoGPT does) — and asks the optimizer for the direction d.
type Optimizer interface {
	// Slots names the state kept for each trainable parameter (Adam's moments "m" and "v", SGD's
	// "momentum"), stored and checkpointed as /optimizer/<slot>/<parameter path>, zero at the start.
	Slots() []string
	// Scalars returns, by name, the per-step values Direction reads at optimisation step `step`
	// (0-based), such as Adam's bias corrections. They are computed on the host in float64, so every
	// backend sees the same float32 values, and fed to the training step's graph as scalar inputs; the
	// names are the same at every step.
	Scalars(step int) map[string]float64
	// Direction returns a parameter's update direction d and its slots' new values, given its gradient
	// (after clipping), its slots' current values (in Slots order; each the parameter's shape) and the
	// graph nodes of Scalars' values.
	Direction(grad *Node, slots []*Node, scalars map[string]*Node) (d *Node, newSlots []*Node)
}

// optimizers maps each `optimizer` config value to its constructor.
var optimizers = map[string]func(Config) Optimizer{
	"adam": func(Config) Optimizer { return adam{} },
	"sgd":  func(c Config) Optimizer { return sgd{momentum: c.Momentum} },
}

// OptimizerNames lists the values of the `optimizer` config key, sorted.
func OptimizerNames() []string { return slices.Sorted(maps.Keys(optimizers)) }

// NewOptimizer returns the optimizer cfg.Optimizer names, with cfg's hyper-parameters.
func NewOptimizer(cfg Config) (Optimizer, error) {
	newOpt, ok := optimizers[cfg.Optimizer]
	if !ok {
		return nil, fmt.Errorf("invalid optimizer: %q (want %s)", cfg.Optimizer, strings.Join(OptimizerNames(), " or "))
	}
	return newOpt(cfg), nil
}

// adam is Adam (Kingma & Ba 2015) with bias-corrected moments:
//
//	m ← β₁m + (1−β₁)g    v ← β₂v + (1−β₂)g²    d = (m / (1−β₁ᵗ)) / (√(v / (1−β₂ᵗ)) + ε)
//
// With weight_decay it is AdamW (Loshchilov & Hutter 2019).
type adam struct{}

const (
	adamBeta1   = 0.9
	adamBeta2   = 0.999
	adamEpsilon = 1e-8
)

func (adam) Slots() []string { return []string{"m", "v"} }

// Scalars: the bias corrections 1−β₁ᵗ and 1−β₂ᵗ of step t = step+1.
func (adam) Scalars(step int) map[string]float64 {
	t := float64(step + 1)
	return map[string]float64{"bias_correction1": 1 - math.Pow(adamBeta1, t), "bias_correction2": 1 - math.Pow(adamBeta2, t)}
}

func (adam) Direction(grad *Node, slots []*Node, scalars map[string]*Node) (*Node, []*Node) {
	m := Add(MulScalar(slots[0], adamBeta1), MulScalar(grad, 1-adamBeta1))
	v := Add(MulScalar(slots[1], adamBeta2), MulScalar(Square(grad), 1-adamBeta2))
	d := Div(Div(m, scalars["bias_correction1"]), AddScalar(Sqrt(Div(v, scalars["bias_correction2"])), adamEpsilon))
	return d, []*Node{m, v}
}

// sgd is stochastic gradient descent with momentum μ (PyTorch's torch.optim.SGD without dampening or
// Nesterov): buf ← μ·buf + g, d = buf. μ = 0 is plain SGD.
type sgd struct{ momentum float64 }

func (sgd) Slots() []string                { return []string{"momentum"} }
func (sgd) Scalars(int) map[string]float64 { return nil }

func (o sgd) Direction(grad *Node, slots []*Node, _ map[string]*Node) (*Node, []*Node) {
	buf := Add(MulScalar(slots[0], o.momentum), grad)
	return buf, []*Node{buf}
}

const optimizerScope = "/optimizer"

// slotPath is where an optimizer keeps its per-parameter state ("m", "v" or "momentum").
func slotPath(slot, param string) string {
	return optimizerScope + "/" + slot + "/" + strings.TrimPrefix(param, "/")
}

// ensureOptimizerState creates zeroed optimizer state for every trainable parameter that has none yet
// (a resumed model already has it from its checkpoint). Frozen parameters get none.
func (m *Model) ensureOptimizerState(opt Optimizer, trainable []string) error {
	for _, p := range trainable {
		v := m.Store.GetVariable(p)
		for _, slot := range opt.Slots() {
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

// applyUpdates builds the update of every trainable parameter given its (clipped) gradient: w ← w −
// lr·(d + weight_decay·w), d from opt. Weight decay is decoupled (AdamW) and applies to matrices only
// (weights and the embedding), as nanoGPT does: biases are not decayed. lr: the learning rate (scalar);
// scalars: the optimizer's per-step scalars.
func (m *Model) applyUpdates(g *Graph, opt Optimizer, trainable []string, grads []*Node, lr *Node, scalars map[string]*Node) {
	cfg := m.Config
	for i, path := range trainable {
		v := m.Store.GetVariable(path)
		w := v.NodeValue(g)
		slotVars := make([]*model.Variable, len(opt.Slots()))
		slots := make([]*Node, len(slotVars))
		for j, slot := range opt.Slots() {
			slotVars[j] = m.Store.GetVariable(slotPath(slot, path))
			slots[j] = slotVars[j].NodeValue(g)
		}
		step, newSlots := opt.Direction(grads[i], slots, scalars)
		for j, sv := range slotVars {
			sv.SetNodeValue(newSlots[j])
		}
		if cfg.WeightDecay > 0 && w.Rank() >= 2 {
			step = Add(step, MulScalar(w, cfg.WeightDecay))
		}
		v.SetNodeValue(Sub(w, Mul(lr, step)))
	}
}
