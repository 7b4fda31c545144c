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

	// StreamGroups is how many independent recurrences the batch's streams are unrolled in during
	// training (0 or 1: all together; see StreamGroupsFor). Losses are the same up to float rounding;
	// only the speed differs.
	StreamGroups int
}

// New builds a freshly initialised model for vocab on backend. cfg is validated first.
func New(cfg Config, vocab *text.Vocab, backend compute.Backend) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if vocab == nil || vocab.Size() < 2 {
		return nil, fmt.Errorf("new model: vocabulary needs at least 2 tokens")
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
	Traces [][]Step // per layer, per time step intermediates (for inspection; unset with stream groups)
}

// forward runs the model over one window. tokens: [T*B] int32 time-major (row t*B+b is stream b at
// time t); h0, c0: [L, B, H]. Dropout is applied only when train is true.
func (m *Model) forward(g *Graph, tokens, h0, c0 *Node, steps int, train bool) forwardOutput {
	cfg := m.Config
	batch := h0.Shape().Dimensions[1]
	table := m.param(g, ParamEmbedding)
	// x: [T*B, E]
	x := Gather(table, ExpandAxes(tokens, -1))
	groups := m.streamGroups(batch, train)
	// xs[gi]: group gi's input to the next layer, [T*B/groups, in], time-major.
	xs := splitStreams(x, steps, batch, groups)
	// xSteps[gi]: the layer below's h_t for group gi, one node per step, which the next layer reads
	// directly (see layerForward) unless dropout has rewritten its input.
	xSteps := make([][]*Node, groups)
	out := forwardOutput{}
	var hs, cs []*Node
	for k := range cfg.Layers {
		w := layerWeights{WIH: m.param(g, ParamLayerWIH(k)), WHH: m.param(g, ParamLayerWHH(k)), Bias: m.param(g, ParamLayerBias(k))}
		var hTs, cTs []*Node
		for gi := range groups {
			if dropped := m.dropout(g, xs[gi], train); dropped != xs[gi] {
				xs[gi], xSteps[gi] = dropped, nil
			}
			rows := AxisRange() // this group's streams in the state
			if groups > 1 {
				rows = AxisRange(gi*batch/groups, (gi+1)*batch/groups)
			}
			h0k := Reshape(Slice(h0, AxisElem(k), rows, AxisRange()), batch/groups, cfg.Hidden)
			c0k := Reshape(Slice(c0, AxisElem(k), rows, AxisRange()), batch/groups, cfg.Hidden)
			y, hT, cT, trace := layerForward(xs[gi], xSteps[gi], h0k, c0k, w, steps, m.HandGrad && train)
			xs[gi] = y
			xSteps[gi] = make([]*Node, steps)
			for t, s := range trace {
				xSteps[gi][t] = s.H
			}
			hTs, cTs = append(hTs, hT), append(cTs, cT)
			if groups == 1 {
				out.Traces = append(out.Traces, trace)
			}
		}
		hs, cs = append(hs, joinRows(hTs)), append(cs, joinRows(cTs))
	}
	x = m.dropout(g, joinStreams(xs, steps, batch), train)
	out.Logits = m.head(g, x)
	out.HT, out.CT = StopGradient(Stack(hs, 0)), StopGradient(Stack(cs, 0))
	return out
}

// streamGroups returns how many independent recurrences a forward pass unrolls the batch in: StreamGroups
// in training, one otherwise (evaluation, generation and tracing).
func (m *Model) streamGroups(batch int, train bool) int {
	if !train || m.StreamGroups <= 1 {
		return 1
	}
	if batch%m.StreamGroups != 0 {
		panic(fmt.Sprintf("lstm: batch %d cannot be split into %d stream groups", batch, m.StreamGroups))
	}
	return m.StreamGroups
}

// StreamGroupsFor returns the Model.StreamGroups that trains fastest on the backend configuration
// backendConfig (as NewBackend or NewTrainingBackend return it) at this batch size. Two half-batch
// recurrences are two independent chains of small ops that a parallel executor runs side by side, where
// one chain leaves a core idle between its matrix products: with GoTrainingBackend, paired benchmarks gave
// +5–30 % tokens/s at batch 32 × 64 and 64 × 128 on the 2-core machine, a whole 2×256 run +6 %
// (docs/benchmarks.md). With sequential ops there is nothing to overlap and the smaller products are
// slower (−9 %): one group.
func StreamGroupsFor(backendConfig string, batch int) int {
	if backendConfig == GoTrainingBackend && batch >= 16 && batch%2 == 0 {
		return 2
	}
	return 1
}

// splitStreams cuts time-major rows x [T*B, D] into groups of B/groups consecutive streams, each [T*B/groups, D]
// and time-major.
func splitStreams(x *Node, steps, batch, groups int) []*Node {
	if groups == 1 {
		return []*Node{x}
	}
	d := x.Shape().Dimensions[1]
	x3 := Reshape(x, steps, batch, d)
	gb := batch / groups
	parts := make([]*Node, groups)
	for gi := range parts {
		parts[gi] = Reshape(Slice(x3, AxisRange(), AxisRange(gi*gb, (gi+1)*gb), AxisRange()), steps*gb, d)
	}
	return parts
}

// joinStreams is the inverse of splitStreams.
func joinStreams(parts []*Node, steps, batch int) *Node {
	if len(parts) == 1 {
		return parts[0]
	}
	d := parts[0].Shape().Dimensions[1]
	gb := batch / len(parts)
	parts3 := make([]*Node, len(parts))
	for gi, p := range parts {
		parts3[gi] = Reshape(p, steps, gb, d)
	}
	return Reshape(Concatenate(parts3, 1), steps*batch, d)
}

// joinRows concatenates per-group states [B/groups, H] into [B, H].
func joinRows(parts []*Node) *Node {
	if len(parts) == 1 {
		return parts[0]
	}
	return Concatenate(parts, 0)
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
