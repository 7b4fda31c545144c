package lstm

import (
	"fmt"
	"math"

	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck // GoMLX graph code reads like math with a dot import.
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/lstmlab/lstmlab/lstm/text"
)

// Quality measures (issue 17): how a model does on one long stream, on short passages from the
// initial state, and on its own samples. They compare like with like against the PyTorch quality peer
// (peers/peer_quality.py), which scores each split as one stream.

// newShapeFreeEvalExec compiles an evaluation graph whose window length follows its inputs
// (tokens [T*B] time-major, h0/c0 [L, B, H]), so one exec serves any window and batch.
// Outputs: per-token loss [T*B] (nats, time-major), hT, cT.
func (m *Model) newShapeFreeEvalExec() (*model.Exec, error) {
	return m.newExec(func(g *Graph, in []*Node) []*Node {
		batch := in[2].Shape().Dimensions[1]
		steps := in[0].Shape().Dimensions[0] / batch
		out := m.forward(g, in[0], in[2], in[3], steps, false)
		loss, _ := nll(out.Logits, in[1])
		return []*Node{loss, out.HT, out.CT}
	})
}

// EvaluateStream scores ids as ONE stream from the zero state, every token after the first scored:
// the way the PyTorch peer and most papers score a split (Evaluate instead cuts it into BatchSize
// streams, each from the zero state).
//
// A single row is slow on the pure-Go backend (its small products are ~10x slower per row for one row
// than for four), so with streams > 1 the text is cut into that many consecutive segments scored side
// by side, and each segment after the first is preceded by burnIn tokens of the text before it that are
// read but not scored: its state on reaching its segment is then what the one stream's would be, up to
// what the model still remembers from more than burnIn tokens back. streams = 1 is exact. window is the
// number of steps per call.
func (m *Model) EvaluateStream(ids []int32, window, streams, burnIn int) (EvalResult, error) {
	n := len(ids) - 1 // scored tokens: targets ids[1..n]
	if n < 1 {
		return EvalResult{}, fmt.Errorf("evaluate stream: %d tokens (need at least 2)", len(ids))
	}
	if window < 1 || streams < 1 || burnIn < 0 {
		return EvalResult{}, fmt.Errorf("evaluate stream: window %d, streams %d, burn-in %d", window, streams, burnIn)
	}
	streams = min(streams, n)
	e, err := m.newShapeFreeEvalExec()
	if err != nil {
		return EvalResult{}, err
	}
	// Row s reads inputs ids[from[s]:to[s]] and scores the targets of positions >= seg[s].
	from, seg, to := make([]int, streams), make([]int, streams), make([]int, streams)
	rowLen := 0
	for s := range streams {
		seg[s], to[s] = s*n/streams, (s+1)*n/streams
		from[s] = max(0, seg[s]-burnIn)
		rowLen = max(rowLen, to[s]-from[s])
	}
	shape := m.stateShape(streams)
	h, c := tensors.FromShape(shape), tensors.FromShape(shape)
	var sumLoss float64
	scored := 0
	x, y := make([]int32, streams*window), make([]int32, streams*window)
	for w := 0; w < rowLen; w += window {
		steps := min(window, rowLen-w)
		x, y = x[:streams*steps], y[:streams*steps]
		for s := range streams {
			for t := range steps {
				i := from[s] + w + t
				x[t*streams+s], y[t*streams+s] = 0, 0 // padding past the row's end (not scored)
				if i < to[s] {
					x[t*streams+s], y[t*streams+s] = ids[i], ids[i+1]
				}
			}
		}
		out, err := m.call(e, "evaluation", x, y, h, c)
		if err != nil {
			return EvalResult{}, err
		}
		loss, err := tensors.CopyFlatData[float32](out[0])
		if err != nil {
			return EvalResult{}, err
		}
		for s := range streams {
			for t := range steps {
				if i := from[s] + w + t; i >= seg[s] && i < to[s] {
					sumLoss += float64(loss[t*streams+s])
					scored++
				}
			}
		}
		h, c = out[1], out[2]
	}
	if scored != n {
		return EvalResult{}, fmt.Errorf("evaluate stream: scored %d tokens, want %d", scored, n)
	}
	return newEvalResult(sumLoss, 0, n), nil
}

// ColdStart scores passages short passages of length+1 tokens spread evenly over ids, each from the
// zero state (the first token is context), and returns their pooled loss: what a user scoring or
// prompting with a short text gets. Passage i starts at i·(len(ids)−length−44)/passages, the peer's
// formula (20 passages of 257 tokens at i·(len−300)/20).
func (m *Model) ColdStart(ids []int32, passages, length int) (EvalResult, error) {
	span := len(ids) - length - 44
	if passages < 1 || length < 1 || span < passages {
		return EvalResult{}, fmt.Errorf("cold start: %d tokens are too few for %d passages of %d", len(ids), passages, length)
	}
	e, err := m.newShapeFreeEvalExec()
	if err != nil {
		return EvalResult{}, err
	}
	x := make([]int32, passages*length)
	y := make([]int32, passages*length)
	for i := range passages {
		s := i * span / passages
		copy(x[i*length:], ids[s:s+length])
		copy(y[i*length:], ids[s+1:s+1+length])
	}
	shape := m.stateShape(passages)
	out, err := m.call(e, "cold start", timeMajor(x, passages, length), timeMajor(y, passages, length),
		tensors.FromShape(shape), tensors.FromShape(shape))
	if err != nil {
		return EvalResult{}, err
	}
	loss, err := tensors.CopyFlatData[float32](out[0])
	if err != nil {
		return EvalResult{}, err
	}
	var sum float64
	for _, l := range loss {
		sum += float64(l)
	}
	return newEvalResult(sum, 0, passages*length), nil
}

// FreeRunning returns the model's mean −ln p (nats per token) of its own samples at temperature 1 from
// an empty prompt: samples of length tokens with seeds 1..samples. A model that writes like its
// training text scores its samples near its test loss; one that drifts off the text's distribution
// scores them much worse.
func (m *Model) FreeRunning(samples, length int) (float64, error) {
	var total float64
	for seed := 1; seed <= samples; seed++ {
		trace, _, err := m.GenerateTrace(SampleOptions{Length: length, Temperature: 1, Seed: uint64(seed)})
		if err != nil {
			return 0, err
		}
		for _, tok := range trace {
			total -= math.Log(tok.ModelProb)
		}
	}
	return total / float64(samples*length), nil
}

// ResetRows zeroes the carried hidden and cell state of the given training streams (rows of the
// batch), so their next window starts from the initial state.
func (t *Trainer) ResetRows(rows []int) error {
	if len(rows) == 0 {
		return nil
	}
	cfg := t.Model.Config
	zero := func(s *tensors.Tensor) (*tensors.Tensor, error) {
		v, err := tensors.CopyFlatData[float32](s)
		if err != nil {
			return nil, err
		}
		for k := range cfg.Layers {
			for _, b := range rows {
				off := (k*cfg.BatchSize + b) * cfg.Hidden
				clear(v[off : off+cfg.Hidden])
			}
		}
		return tensors.FromFlatDataAndDimensions(v, cfg.Layers, cfg.BatchSize, cfg.Hidden), nil
	}
	var err error
	if t.h, err = zero(t.h); err != nil {
		return err
	}
	t.c, err = zero(t.c)
	return err
}

// StateProfile is how a model fares along streams that start from the zero state.
type StateProfile struct {
	Loss    []float64   // mean loss (nats) of the tokens at each position 1..length, over the streams
	CellAbs [][]float64 // per window end (every window tokens), per layer: mean |c| over streams and units
	CellMax [][]float64 // per window end, per layer: max |c| over streams and units
	HidSat  [][]float64 // per window end, per layer: fraction of |h| > 0.95 (saturated units)
}

// ProfileFromZeroState runs len(starts) streams of ids, stream b reading ids[starts[b]:starts[b]+length+1]
// from the zero state in windows of window tokens (state carried), and returns the mean loss per
// position and the cell-state magnitudes at each window end: where along a text read from the initial
// state a model goes wrong, and whether its state grows.
func (m *Model) ProfileFromZeroState(ids []int32, starts []int, length, window int) (StateProfile, error) {
	batch := len(starts)
	e, err := m.newShapeFreeEvalExec()
	if err != nil {
		return StateProfile{}, err
	}
	shape := m.stateShape(batch)
	h, c := tensors.FromShape(shape), tensors.FromShape(shape)
	prof := StateProfile{Loss: make([]float64, length)}
	cfg := m.Config
	for w := 0; w < length; w += window {
		steps := min(window, length-w)
		x, y := make([]int32, steps*batch), make([]int32, steps*batch)
		for b, s := range starts {
			for t := range steps {
				x[t*batch+b], y[t*batch+b] = ids[s+w+t], ids[s+w+t+1]
			}
		}
		out, err := m.call(e, "profile", x, y, h, c)
		if err != nil {
			return StateProfile{}, err
		}
		loss, err := tensors.CopyFlatData[float32](out[0])
		if err != nil {
			return StateProfile{}, err
		}
		for t := range steps {
			for b := range batch {
				prof.Loss[w+t] += float64(loss[t*batch+b]) / float64(batch)
			}
		}
		h, c = out[1], out[2]
		cv, err := tensors.CopyFlatData[float32](c)
		if err != nil {
			return StateProfile{}, err
		}
		hv, err := tensors.CopyFlatData[float32](h)
		if err != nil {
			return StateProfile{}, err
		}
		abs, mx, sat := make([]float64, cfg.Layers), make([]float64, cfg.Layers), make([]float64, cfg.Layers)
		per := batch * cfg.Hidden
		for k := range cfg.Layers {
			for i := k * per; i < (k+1)*per; i++ {
				a := math.Abs(float64(cv[i]))
				abs[k] += a / float64(per)
				mx[k] = math.Max(mx[k], a)
				if math.Abs(float64(hv[i])) > 0.95 {
					sat[k] += 1 / float64(per)
				}
			}
		}
		prof.CellAbs, prof.CellMax, prof.HidSat = append(prof.CellAbs, abs), append(prof.CellMax, mx), append(prof.HidSat, sat)
	}
	return prof, nil
}

// SetTrainingText replaces the training text (the same length or not) from the next window on; the
// carried state is kept. Research hook: lets a caller start each epoch's streams at another position.
func (t *Trainer) SetTrainingText(ids []int32) error {
	s, err := text.NewStreams(ids, t.Model.Config.BatchSize, t.Model.Config.SeqLen)
	if err != nil {
		return fmt.Errorf("training split: %w", err)
	}
	t.train = s
	return nil
}

// WindowsPerEpoch is the number of training windows in one pass over the training text.
func (t *Trainer) WindowsPerEpoch() int { return t.train.NumWindows() }
