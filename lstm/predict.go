package lstm

import (
	"fmt"

	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck // GoMLX graph code reads like math with a dot import.
	"github.com/gomlx/gomlx/core/tensors"
)

// Prediction is what the model predicted at one position of a sequence.
type Prediction struct {
	Target  int32   // the token that actually comes next
	LogProb float64 // ln p(Target | the tokens before it), natural log
	ArgMax  int32   // the most probable next token (lowest id on ties); the prediction was right when it is Target
}

// Predict runs the model over each sequence from zero state (no dropout), all sequences as one batch,
// and returns for every sequence b and position i ≥ 1 the prediction of seqs[b][i] given seqs[b][:i], as
// out[b][i-1]. The sequences must have the same length, at least 2 tokens. It is the forward pass
// training runs, one window as long as the sequences: for questions about chosen positions (is the
// closing bracket predicted 50 characters after the opening one?) over many generated sequences at once.
func (m *Model) Predict(seqs [][]int32) ([][]Prediction, error) {
	if len(seqs) == 0 {
		return nil, fmt.Errorf("predict: no sequences")
	}
	n := len(seqs[0])
	if n < 2 {
		return nil, fmt.Errorf("predict: sequences need at least 2 tokens, have %d", n)
	}
	batch, steps, vocab := len(seqs), n-1, int32(m.Vocab.Size())
	tokens, targets := make([]int32, steps*batch), make([]int32, steps*batch)
	for b, s := range seqs {
		if len(s) != n {
			return nil, fmt.Errorf("predict: sequence %d has %d tokens, sequence 0 has %d (all must have the same length)", b, len(s), n)
		}
		for i, id := range s {
			if id < 0 || id >= vocab {
				return nil, fmt.Errorf("predict: sequence %d, position %d: token id %d outside the vocabulary 0..%d", b, i, id, vocab-1)
			}
		}
		for t := range steps {
			tokens[t*batch+b], targets[t*batch+b] = s[t], s[t+1] // time-major
		}
	}
	exec, err := m.cachedExec(fmt.Sprintf("predict/T=%d", steps), func(g *Graph, in []*Node) []*Node {
		out := m.forward(g, in[0], in[2], in[3], steps, false)
		logp := LogSoftmax(out.Logits, -1) // [T*B, V]
		targetLogp := ReduceSum(Mul(logp, OneHot(in[1], int(vocab), logp.DType())), -1)
		return []*Node{targetLogp, ArgMax(out.Logits, -1, in[1].DType())}
	})
	if err != nil {
		return nil, fmt.Errorf("predict: %w", err)
	}
	zeros := tensors.FromShape(m.stateShape(batch))
	out, err := m.call(exec, "predict", tokens, targets, zeros, zeros)
	if err != nil {
		return nil, fmt.Errorf("predict: %w", err)
	}
	logps, err := tensors.CopyFlatData[float32](out[0])
	if err != nil {
		return nil, fmt.Errorf("predict: %w", err)
	}
	argmax, err := tensors.CopyFlatData[int32](out[1])
	if err != nil {
		return nil, fmt.Errorf("predict: %w", err)
	}
	preds := make([][]Prediction, batch)
	for b := range batch {
		preds[b] = make([]Prediction, steps)
		for t := range steps {
			i := t*batch + b
			preds[b][t] = Prediction{Target: targets[i], LogProb: float64(logps[i]), ArgMax: argmax[i]}
		}
	}
	return preds, nil
}

// GradientSurvival is how much of a loss's gradient reaches back through time: the vanishing (or
// exploding) gradient, measured.
type GradientSurvival struct {
	// Loss is the mean over the sequences of L = −ln p(last token | the tokens before it), nats.
	Loss float64
	// H[k][d] is ‖∂L/∂h_{T−1−d}‖₂ for layer k, averaged over the sequences: how strongly the prediction of
	// the last token depends on layer k's hidden state d steps before the last input (d = 0: the state that
	// made the prediction). T is the number of inputs (the sequences' length minus 1).
	H [][]float64
	// C[k][d] is the same for the LSTM's cell state c (nil for cells without one).
	C [][]float64
}

// GradientNorms measures gradient survival for the model on token sequences (the same length T+1 ≥ 2,
// run as one batch from zero state, no dropout): the loss L of predicting each sequence's last token, and
// the norms ‖∂L/∂h_{t}‖ of the gradient with respect to every earlier hidden (and LSTM cell) state. It
// differentiates the unrolled graph with GoMLX's autodiff (not the hand-written backward pass, which
// computes only the weights' gradients). The usual picture (Bengio et al. 1994; Pascanu et al. 2013):
// a plain RNN's norms fall geometrically with the distance d, gated cells keep them much longer.
func (m *Model) GradientNorms(seqs [][]int32) (GradientSurvival, error) {
	if len(seqs) == 0 {
		return GradientSurvival{}, fmt.Errorf("gradient norms: no sequences")
	}
	n := len(seqs[0])
	if n < 2 {
		return GradientSurvival{}, fmt.Errorf("gradient norms: sequences need at least 2 tokens, have %d", n)
	}
	batch, steps, vocab := len(seqs), n-1, int32(m.Vocab.Size())
	tokens, targets := make([]int32, steps*batch), make([]int32, batch)
	for b, s := range seqs {
		if len(s) != n {
			return GradientSurvival{}, fmt.Errorf("gradient norms: sequence %d has %d tokens, sequence 0 has %d (all must have the same length)", b, len(s), n)
		}
		for i, id := range s {
			if id < 0 || id >= vocab {
				return GradientSurvival{}, fmt.Errorf("gradient norms: sequence %d, position %d: token id %d outside the vocabulary 0..%d", b, i, id, vocab-1)
			}
		}
		for t := range steps {
			tokens[t*batch+b] = s[t]
		}
		targets[b] = s[n-1]
	}
	cell := m.Cell()
	L := m.Config.Layers
	exec, err := m.cachedExec(fmt.Sprintf("gradient-norms/T=%d", steps), func(g *Graph, in []*Node) []*Node {
		out := m.forward(g, in[0], in[2], in[3], steps, false)
		bsz := in[1].Shape().Dimensions[0]
		last := Slice(out.Logits, AxisRange((steps-1)*bsz, steps*bsz), AxisRange()) // [B, V]
		perSeq, _ := nll(last, in[1])
		loss := ReduceAllSum(perSeq) // the sequences are independent: ∂(Σ L_b)/∂h[b] = ∂L_b/∂h[b]
		var states []*Node
		for _, layer := range out.Traces {
			for _, s := range layer {
				states = append(states, s.H)
				if cell.HasCellState() {
					states = append(states, s.C)
				}
			}
		}
		outs := []*Node{DivScalar(loss, float64(bsz))}
		for _, grad := range Gradient(loss, states...) {
			outs = append(outs, Sqrt(ReduceSum(Square(grad), -1))) // [B]: per-sequence norms
		}
		return outs
	})
	if err != nil {
		return GradientSurvival{}, fmt.Errorf("gradient norms: %w", err)
	}
	zeros := tensors.FromShape(m.stateShape(batch))
	out, err := m.call(exec, "gradient norms", tokens, targets, zeros, zeros)
	if err != nil {
		return GradientSurvival{}, fmt.Errorf("gradient norms: %w", err)
	}
	res := GradientSurvival{Loss: scalar(out[0]), H: make([][]float64, L)}
	if cell.HasCellState() {
		res.C = make([][]float64, L)
	}
	mean := func(t *tensors.Tensor) (float64, error) {
		v, err := tensors.CopyFlatData[float32](t)
		var sum float64
		for _, x := range v {
			sum += float64(x)
		}
		return sum / float64(len(v)), err
	}
	next := 1
	for k := range L {
		res.H[k] = make([]float64, steps)
		if res.C != nil {
			res.C[k] = make([]float64, steps)
		}
		for t := range steps {
			d := steps - 1 - t
			if res.H[k][d], err = mean(out[next]); err != nil {
				return GradientSurvival{}, fmt.Errorf("gradient norms: %w", err)
			}
			next++
			if res.C != nil {
				if res.C[k][d], err = mean(out[next]); err != nil {
					return GradientSurvival{}, fmt.Errorf("gradient norms: %w", err)
				}
				next++
			}
		}
	}
	return res, nil
}
