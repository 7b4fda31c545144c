package nb

import (
	_ "embed"
)

// LSTMCellSVG is a diagram of one LSTM step (hand-drawn SVG, lstm_cell.svg): the memory line from
// c_{t-1} to c_t with its two operations (× f_t, + i_t⊙c̃_t), the three sigmoid gates and the tanh
// candidate fed by x_t and h_{t-1}, the output h_t = o_t⊙tanh(c_t), and the gate equations.
//
//go:embed lstm_cell.svg
var LSTMCellSVG []byte
