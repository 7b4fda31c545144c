package lstm

import (
	"fmt"
	"math"

	"github.com/gomlx/gomlx/core/tensors"
)

// Where a model meets the initial state (issue 17): resetting training streams (Config.ResetProb, see
// recipe.go), and profiling a model along streams read from the zero state (internal/qualitylab).

// ResetRows zeroes the carried hidden and cell state of the given training streams (rows of the
// batch, 0 ≤ row < batch), so their next window starts from the initial state. A row out of range is an
// error naming it and the batch size, and leaves the state as it was.
func (t *Trainer) ResetRows(rows []int) error {
	if len(rows) == 0 {
		return nil
	}
	cfg := t.Model.Config
	for _, b := range rows {
		if b < 0 || b >= cfg.BatchSize {
			return fmt.Errorf("reset rows: row %d out of range (batch %d: rows 0 to %d)", b, cfg.BatchSize, cfg.BatchSize-1)
		}
	}
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
	e, err := m.evalExec()
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
		h, c = out[2], out[3]
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
