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

// Model is a recurrent language model: token embedding → Layers recurrent layers of one Cell (LSTM by
// default, GRU or plain RNN; dropout between layers and before the head) → linear head over the
// vocabulary. It owns its parameters (a GoMLX Store), the backend they live on, and the graphs compiled
// for it (see graphs.go). A Stepper or a Trainer is for one goroutine at a time.
type Model struct {
	Config  Config
	Vocab   *text.Vocab
	Backend compute.Backend
	Store   *model.Store

	// HandGrad selects the hand-written BPTT backward pass (default) instead of GoMLX's autodiff of the
	// unrolled loop. Both give the same gradients; the hand-written one is much faster. It is read when a
	// Trainer is made.
	HandGrad bool

	graphs   graphCache    // compiled graphs, by what they compute (graphs.go)
	prepared preparedCache // generation's prepared weights (stepper.go)
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
	if cfg.Cell == "" {
		cfg.Cell = DefaultCell
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
		n += dimsSize(p.Dims)
	}
	return n
}

// param returns the graph node of the parameter at path.
func (m *Model) param(g *Graph, path string) *Node {
	v := m.Store.GetVariable(path)
	if v == nil {
		panic(fmt.Sprintf("lstm: parameter %s missing from the store", path))
	}
	return v.NodeValue(g)
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
	return m.forwardWith(g, tokens, h0, c0, steps, train, nil)
}

// forwardWith is forward with, for generation, each layer's weights prepared by preparedWeights
// (prepared[3k:3k+3] = layer k's Wxᵀ, Whᵀ, b) instead of read from the store; nil reads the store.
// Everything else (embedding, layer loop, head) is the same graph code.
func (m *Model) forwardWith(g *Graph, tokens, h0, c0 *Node, steps int, train bool, prepared []*Node) forwardOutput {
	cfg := m.Config
	cell := m.Cell()
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
		if dropped := m.dropout(g, x, train); dropped != x {
			x, xSteps = dropped, nil
		}
		// h0k, c0k: [B, H], this layer's slice of the carried state.
		h0k := Reshape(Slice(h0, AxisElem(k), AxisRange(), AxisRange()), batch, cfg.Hidden)
		c0k := Reshape(Slice(c0, AxisElem(k), AxisRange(), AxisRange()), batch, cfg.Hidden)
		var y, hT, cT *Node
		var trace []Step
		if prepared != nil {
			project := preparedProjection(prepared[3*k], prepared[3*k+1], prepared[3*k+2])
			y, hT, cT, trace = unrollLayer(cell, x, xSteps, h0k, c0k, project, steps)
		} else {
			params := make([]*Node, 0, 4)
			for _, p := range m.LayerParams(k) {
				params = append(params, m.param(g, p))
			}
			y, hT, cT, trace = layerForward(cell, x, xSteps, h0k, c0k, params, steps, m.HandGrad && train)
		}
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
	out.HT, out.CT = Stack(hs, 0), Stack(cs, 0)
	if !cell.HasCellState() {
		out.CT = c0 // carried through unchanged
	}
	if train { // the carried state takes no gradient (truncated BPTT); outside training nothing differentiates it
		out.HT, out.CT = StopGradient(out.HT), StopGradient(out.CT)
	}
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
