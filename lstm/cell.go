package lstm

import (
	"fmt"
	"slices"
	"strings"

	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck // GoMLX graph code reads like math with a dot import.
)

// Cell is one kind of recurrent cell. Everything that differs between an LSTM, a GRU and a plain RNN
// lives behind it: the gate blocks, the parameters and their initialisation, the step (with every
// intermediate kept, for inspection and for the backward pass), the hand-written backward step, and the
// PyTorch export. The rest of the model (embedding, the layer loop of layer.go, the head, training,
// generation) is the same for every cell. The `cell` config key names one (CellNames); the
// implementations are cell_lstm.go, cell_gru.go and cell_rnn.go.
//
// Every cell is computed the same way per step: the pre-activations a_t = x_t·Wx + h_{t-1}·Wh + b of all
// its blocks at once (one product, [x_t, h_{t-1}, 1]·[Wx; Wh; b]), then the cell's elementwise step on
// a_t. Wx, Wh and b are the cell's parameters fused into that form (identical for the LSTM and the RNN;
// the GRU keeps the two parts of its candidate apart, see gruCell).
type Cell interface {
	// Name is the `cell` config value: "lstm", "gru" or "rnn".
	Name() string
	// Blocks is the number of H-wide column blocks of the input weights W_ih [in, Blocks·H] and the
	// recurrent weights W_hh [H, Blocks·H]: 4 for the LSTM (i, f, g, o), 3 for the GRU (r, z, n), 1 for
	// the RNN. The model's matrix-product FLOPs grow with it (TrainFLOPsPerStep).
	Blocks() int
	// Values names what one step computes, as inspection shows it (Trace, RunCellStep, CellValues): the
	// gates after their nonlinearity in block order, then c for the LSTM, then h. LSTM: i, f, g, o, c, h;
	// GRU: r, z, n, h; RNN: h.
	Values() []string
	// HasCellState reports whether the cell carries a cell state c besides h (only the LSTM). Cells
	// without one carry c = 0 through unchanged, so the model's state is (h, c) for every cell.
	HasCellState() bool
	// PyTorchModule is the PyTorch module whose state_dict the exported layer weights load into, e.g.
	// "nn.LSTM(E, H, num_layers=L, batch_first=True)" for E=in, H, L.
	PyTorchModule(in, hidden, layers int) string

	// params lists layer k's parameters (in = the layer's input width), in the order their initial values
	// are drawn.
	params(k, in, hidden int) []paramSpec
	// fuse turns layer parameters (graph nodes, in params' order) into the per-step product's weights:
	// wx [in, P], wh [H, P], b [P], P the pre-activation width. The hand-written backward pass returns
	// gradients for wx, wh and b; autodiff carries them through fuse to the parameters.
	fuse(p []*Node) (wx, wh, b *Node)
	// step is the cell proper: given the pre-activations a [B', P] (rows past B, if any, are ignored)
	// and the previous state hPrev, cPrev [B, H] (cPrev nil for cells without a cell state), it returns
	// everything the step computes.
	step(a, hPrev, cPrev *Node) Step
	// backward is the step's hand-written backward pass: given s, dh = ∂L/∂h_t (everything that reaches
	// h_t) and dc = ∂L/∂c_t from the step after (nil at the window's last step, and for cells without c),
	// it returns da = ∂L/∂a_t [B, P], the part of ∂L/∂h_{t-1} that does not go through a_t (nil if
	// none), and ∂L/∂c_{t-1} (nil for cells without c). The layer adds da·Whᵀ to get ∂L/∂h_{t-1}.
	backward(s Step, dh, dc *Node) (da, dhDirect, dcPrev *Node)
	// export returns layer k's tensors under PyTorch's names (without the module prefix), given its
	// parameters on the host (in params' order, row-major with their dims).
	export(k int, p []hostTensor) map[string]hostTensor
}

// Step holds what one cell step computes, each [batch, H]. Keeping every intermediate (rather than
// just h and c) lets notebooks print them, and lets the hand-written backward pass reuse them instead of
// recomputing.
type Step struct {
	// Values are the step's values in the order of Cell.Values (gates, c, h).
	Values []*Node
	H      *Node // h_t
	C      *Node // c_t (nil for cells without a cell state)
	HPrev  *Node // h_{t-1}, the hidden state the step started from
	CPrev  *Node // c_{t-1} (nil for cells without a cell state)
	// saved are intermediates private to the cell that its backward step reuses.
	saved []*Node
}

// hostTensor is a parameter's values on the host, row-major.
type hostTensor struct {
	Data []float32
	Dims []int
}

// cells maps each `cell` config value to its implementation.
var cells = map[string]Cell{"lstm": lstmCell{}, "gru": gruCell{}, "rnn": rnnCell{}}

// DefaultCell is the cell of models whose config names none (checkpoints written before the `cell` key
// existed).
const DefaultCell = "lstm"

// CellNames lists the values of the `cell` config key, sorted.
func CellNames() []string {
	names := make([]string, 0, len(cells))
	for n := range cells {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// CellByName returns the cell the `cell` config key names ("" is DefaultCell).
func CellByName(name string) (Cell, error) {
	if name == "" {
		name = DefaultCell
	}
	c, ok := cells[name]
	if !ok {
		return nil, fmt.Errorf("invalid cell: %q (want %s)", name, strings.Join(CellNames(), ", "))
	}
	return c, nil
}

// Cell returns the model's cell.
func (m *Model) Cell() Cell { return m.Config.cell() }

// cell returns the cell c names; the config is validated, so the name is known.
func (c Config) cell() Cell {
	cell, err := CellByName(c.Cell)
	if err != nil {
		panic(fmt.Sprintf("lstm: %v (the config was not validated)", err))
	}
	return cell
}

// blockCols returns columns [k·H, (k+1)·H) of a [rows, n·H] matrix: gate block k.
func blockCols(x *Node, k, hidden int) *Node {
	return Slice(x, AxisRange(), AxisRange(k*hidden, (k+1)*hidden))
}

// stepBlock returns block k of the pre-activations a for the first batch rows: [batch, H].
func stepBlock(a *Node, k, batch, hidden int) *Node {
	return Slice(a, AxisRange(0, batch), AxisRange(k*hidden, (k+1)*hidden))
}
