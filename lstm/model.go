package lstm

import (
	"fmt"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck // GoMLX graph code reads like math with a dot import.
	"github.com/gomlx/gomlx/ml/model"

	"github.com/lstmlab/lstmlab/lstm/text"
)

// Model is an LSTM language model: token embedding → Layers LSTM layers (dropout between layers and
// before the head) → linear head over the vocabulary. It owns its parameters (a GoMLX Store) and the
// backend they live on.
type Model struct {
	Config  Config
	Vocab   *text.Vocab
	Backend compute.Backend
	Store   *model.Store

	// HandGrad selects the hand-written BPTT backward pass (default) instead of GoMLX's autodiff of the
	// unrolled loop. Both give the same gradients; the hand-written one is much faster.
	HandGrad bool
}

// New builds a freshly initialised model for vocab on backend. cfg is validated first.
func New(cfg Config, vocab *text.Vocab, backend compute.Backend) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if vocab == nil || vocab.Size() < 2 {
		return nil, fmt.Errorf("new model: vocabulary needs at least 2 tokens")
	}
	if err := checkVocab(cfg, vocab); err != nil {
		return nil, fmt.Errorf("new model: %w", err)
	}
	if backend == nil {
		return nil, fmt.Errorf("new model: nil backend")
	}
	m := &Model{Config: cfg, Vocab: vocab, Backend: backend, Store: model.NewStore(), HandGrad: true}
	if err := initParams(m.Store, cfg, vocab.Size()); err != nil {
		return nil, err
	}
	if err := m.Store.SetRNGStateFromSeed(cfg.Seed); err != nil {
		return nil, fmt.Errorf("seed dropout RNG: %w", err)
	}
	return m, nil
}

// NumParams returns the number of trainable scalars.
func (m *Model) NumParams() int {
	n := 0
	for _, p := range paramSpecs(m.Config, m.Vocab.Size()) {
		size := 1
		for _, d := range p.Dims {
			size *= d
		}
		n += size
	}
	return n
}

// newExec compiles fn, a graph over m's variables, for m's backend. The graph is marked as training
// whatever it computes, because GoMLX reads that mark to decide how variables enter a graph: in a graph
// not marked as training, on a backend that prefers it (the pure-Go backend does, to pre-pack weights
// for inference), a variable's current value is embedded as a constant. lstmlab compiles each graph
// once and runs it while the weights change (training steps, evaluations between them, generation
// after more training), so variables must always be parameters. The mark changes nothing else here:
// dropout and evaluation mode are lstmlab's own train flag (TestEvaluationSeesUpdatedWeights).
func (m *Model) newExec(fn func(g *Graph, in []*Node) []*Node) (*model.Exec, error) {
	return model.NewExec(m.Backend, m.Store, func(_ *model.Scope, g *Graph, in []*Node) []*Node {
		m.Store.SetTraining(g, true)
		return fn(g, in)
	})
}

// param returns the graph node of the parameter at path.
func (m *Model) param(g *Graph, path string) *Node {
	v := m.Store.GetVariable(path)
	if v == nil {
		panic(fmt.Sprintf("lstm: parameter %s missing from the store", path))
	}
	return v.ValueGraph(g)
}

// stateShape is the shape of the carried hidden or cell state: [layers, batch, H].
func (m *Model) stateShape(batch int) shapes.Shape {
	return shapes.Make(dtypes.Float32, m.Config.Layers, batch, m.Config.Hidden)
}

// forwardOutput is what one forward pass over a window produces.
type forwardOutput struct {
	Logits *Node    // [T*B, V], time-major rows
	HT, CT *Node    // [L, B, H], the states to carry into the next window
	Traces [][]Step // per layer, per time step intermediates (for inspection)
}

// forward runs the model over one window. tokens: [T*B] int32 time-major (row t*B+b is stream b at
// time t); h0, c0: [L, B, H]. Dropout is applied only when train is true.
func (m *Model) forward(g *Graph, tokens, h0, c0 *Node, steps int, train bool) forwardOutput {
	cfg := m.Config
	batch := h0.Shape().Dimensions[1]
	table := m.param(g, ParamEmbedding)
	// x: [T*B, E], the input of the next layer, time-major.
	x := Gather(table, ExpandAxes(tokens, -1))
	// xSteps: the layer below's h_t, one node per step, which the next layer reads directly (see
	// layerForward) unless dropout has rewritten its input.
	var xSteps []*Node
	out := forwardOutput{}
	var hs, cs []*Node
	for k := range cfg.Layers {
		w := layerWeights{WIH: m.param(g, ParamLayerWIH(k)), WHH: m.param(g, ParamLayerWHH(k)), Bias: m.param(g, ParamLayerBias(k))}
		if dropped := m.dropout(g, x, train); dropped != x {
			x, xSteps = dropped, nil
		}
		// h0k, c0k: [B, H], this layer's slice of the carried state.
		h0k := Reshape(Slice(h0, AxisElem(k), AxisRange(), AxisRange()), batch, cfg.Hidden)
		c0k := Reshape(Slice(c0, AxisElem(k), AxisRange(), AxisRange()), batch, cfg.Hidden)
		y, hT, cT, trace := layerForward(x, xSteps, h0k, c0k, w, steps, m.HandGrad && train)
		x = y
		xSteps = make([]*Node, steps)
		for t, s := range trace {
			xSteps[t] = s.H
		}
		hs, cs = append(hs, hT), append(cs, cT)
		out.Traces = append(out.Traces, trace)
	}
	x = m.dropout(g, x, train)
	out.Logits = m.head(g, x)
	out.HT, out.CT = StopGradient(Stack(hs, 0)), StopGradient(Stack(cs, 0))
	return out
}

// head maps hidden states [N, H] to logits [N, V]: W_y h + b_y (W_y is the embedding table when tied).
func (m *Model) head(g *Graph, x *Node) *Node {
	var logits *Node
	if m.Config.TieWeight {
		table := m.param(g, ParamEmbedding) // [V, E=H]
		logits = Dot(x, table).General([]int{1}, nil, []int{1}, nil)
	} else {
		logits = MatMul(x, m.param(g, ParamDecoderWeight))
	}
	// The bias is broadcast explicitly: the Go backend's implicit [N, V] + [1, V] broadcasting is ~4× slower.
	return Add(logits, BroadcastToDims(ExpandAxes(m.param(g, ParamDecoderBias), 0), logits.Shape().Dimensions...))
}

// dropout zeroes each unit with probability cfg.Dropout during training and rescales the rest
// (inverted dropout, so evaluation needs no scaling).
func (m *Model) dropout(g *Graph, x *Node, train bool) *Node {
	p := m.Config.Dropout
	if !train || p <= 0 {
		return x
	}
	keep := GreaterOrEqual(m.Store.RandomUniform(g, x.Shape()), Scalar(g, x.DType(), p))
	return Where(keep, MulScalar(x, 1/(1-p)), ZerosLike(x))
}

// nll returns the per-token negative log-likelihood [N] of targets [N] under logits [N, V], and
// whether the arg-max prediction was right (as 0/1 floats).
func nll(logits, targets *Node) (loss, correct *Node) {
	vocab := logits.Shape().Dimensions[1]
	logp := LogSoftmax(logits, -1)
	oneHot := OneHot(targets, vocab, logits.DType())
	loss = Neg(ReduceSum(Mul(logp, oneHot), -1))
	pred := ArgMax(logits, -1, targets.DType())
	correct = ConvertDType(Equal(pred, targets), logits.DType())
	return loss, correct
}
