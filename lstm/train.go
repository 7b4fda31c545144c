package lstm

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"time"

	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck // GoMLX graph code reads like math with a dot import.
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/lstmlab/lstmlab/lstm/text"
)

// TrainState is where training stands: enough, with the Store's variables, to resume exactly.
type TrainState struct {
	Step     int     `json:"step"`      // optimisation steps done
	Epoch    int     `json:"epoch"`     // passes over the training split started (0-based)
	Window   int     `json:"window"`    // next training window within the epoch
	Tokens   int64   `json:"tokens"`    // training tokens processed
	BestVal  float64 `json:"best_val"`  // best validation loss so far (+Inf before the first evaluation)
	BestStep int     `json:"best_step"` // step of BestVal
	BadEvals int     `json:"bad_evals"` // evaluations since BestVal improved (early stopping)
}

// EventKind says what an Event reports.
type EventKind int

const (
	// EventStep follows every optimisation step.
	EventStep EventKind = iota
	// EventEval follows every validation pass.
	EventEval
)

// Event is what training reports to its observer after each step and each evaluation. The model
// package knows nothing of who observes (tracker, progress bar, notebook).
type Event struct {
	Kind      EventKind
	Step      int           // steps done so far (1-based after the first step)
	Epoch     int           // current epoch (0-based)
	Progress  float64       // fraction of the current epoch done
	Loss      float64       // EventStep: training loss of this step, nats/token
	Accuracy  float64       // EventStep: next-token accuracy on this step's window
	GradNorm  float64       // EventStep: global gradient norm before clipping
	LR        float64       // EventStep: learning rate used
	TokensPS  float64       // EventStep: training tokens per second of this step
	Resets    int           // EventStep: streams that started this window from the initial state mid-epoch (Config.ResetProb)
	Val       *EvalResult   // EventEval: the validation result
	Improved  bool          // EventEval: this evaluation is the best so far
	Elapsed   time.Duration // since Run started
	StepsLeft int           // steps remaining to cfg.Steps
}

// StopReason says why Run returned.
type StopReason string

const (
	StopDone      StopReason = "done"           // reached cfg.Steps
	StopEarly     StopReason = "early_stopping" // validation loss stopped improving for cfg.Patience evaluations
	StopCancelled StopReason = "cancelled"      // the context was cancelled (e.g. Ctrl-C)
)

// Trainer runs truncated-BPTT training of a Model on a token stream.
type Trainer struct {
	Model *Model
	State TrainState
	// LRAnchor restarts the schedule of a resumed run whose schedule settings changed (see LRAnchor);
	// nil: none. It belongs with the config the run trains with (package experiments keeps both in the
	// run's record), not with the checkpoint: a checkpoint written before such a change must not bring
	// back the old anchor.
	LRAnchor *LRAnchor

	train     *text.Streams
	val       *text.ScoreStreams // the validation split, laid out as Evaluate scores it
	trainable []string
	opt       Optimizer
	scalars   []string // the optimizer's per-step scalars, in the order the step graph takes them
	stepExec  *model.Exec
	h, c      *tensors.Tensor // state carried between training windows: [L, B, H]

	trainIDs     []int32 // the training text, which each epoch's streams are cut from (see recipe.go)
	streamsEpoch int     // the epoch train was cut for
}

// CheckTrainingSplit checks that a training split fills one batch of cfg (batch × seq_len tokens, plus the
// last target): a shorter one is an error wrapping text.ErrTooShort that names the sizes and the keys.
func CheckTrainingSplit(cfg Config, train []int32) error {
	if need := cfg.BatchSize*cfg.SeqLen + 1; len(train) < need && cfg.BatchSize >= 1 && cfg.SeqLen >= 1 {
		// Named by the config keys that set the sizes (text.NewStreams knows only its arguments).
		return fmt.Errorf("training split: %w: %d tokens, but batch %d × seq_len %d needs at least %d; "+
			"use a longer text, or a smaller batch or seq_len", text.ErrTooShort, len(train), cfg.BatchSize, cfg.SeqLen, need)
	}
	return nil
}

// NewTrainer prepares training on the train split, validating on val. frozen lists parameter paths
// that must not change (fine-tuning); they get no gradient and no optimizer state.
func NewTrainer(m *Model, train, val []int32, frozen []string) (*Trainer, error) {
	cfg := m.Config
	if err := CheckTrainingSplit(cfg, train); err != nil {
		return nil, err
	}
	trainStreams, err := text.NewStreams(train, cfg.BatchSize, cfg.SeqLen)
	if err != nil {
		return nil, fmt.Errorf("training split: %w", err)
	}
	valStreams, err := m.splitStreams(val)
	if err != nil {
		return nil, fmt.Errorf("validation split: %w", err)
	}
	t := &Trainer{Model: m, train: trainStreams, val: valStreams, State: TrainState{BestVal: math.Inf(1)}, trainIDs: train}
	for _, p := range paramSpecs(cfg, m.Vocab.Size()) {
		if !slices.Contains(frozen, p.Path) {
			t.trainable = append(t.trainable, p.Path)
		}
	}
	for _, f := range frozen {
		if m.Store.GetVariable(f) == nil {
			return nil, fmt.Errorf("freeze %s: no such parameter", f)
		}
	}
	if len(t.trainable) == 0 {
		return nil, fmt.Errorf("every parameter is frozen: nothing to train")
	}
	if t.opt, err = NewOptimizer(cfg); err != nil {
		return nil, err
	}
	t.scalars = slices.Sorted(maps.Keys(t.opt.Scalars(0)))
	if err := m.ensureOptimizerState(t.opt, t.trainable); err != nil {
		return nil, err
	}
	t.stepExec, err = m.newExec(t.trainStepGraph)
	if err != nil {
		return nil, fmt.Errorf("build train step: %w", err)
	}
	t.resetState()
	return t, nil
}

// resetState zeroes the carried hidden and cell state (start of an epoch).
func (t *Trainer) resetState() {
	shape := t.Model.stateShape(t.Model.Config.BatchSize)
	t.h, t.c = tensors.FromShape(shape), tensors.FromShape(shape)
}

// trainStepGraph: inputs tokens, targets [T*B] int32, h0, c0 [L, B, H], the learning rate (scalar), then
// the optimizer's per-step scalars (t.scalars order); outputs mean loss, accuracy, gradient norm
// (scalars), hT, cT.
func (t *Trainer) trainStepGraph(g *Graph, in []*Node) []*Node {
	m := t.Model
	tokens, targets, h0, c0, lr := in[0], in[1], in[2], in[3], in[4]
	scalars := make(map[string]*Node, len(t.scalars))
	for i, name := range t.scalars {
		scalars[name] = in[5+i]
	}
	out := m.forward(g, tokens, h0, c0, windowSteps(tokens, h0), true)
	perToken, correct := nll(out.Logits, targets)
	loss := ReduceAllMean(perToken)
	params := make([]*Node, len(t.trainable))
	for i, p := range t.trainable {
		params[i] = m.param(g, p)
	}
	grads, norm := clipByGlobalNorm(Gradient(loss, params...), m.Config.ClipNorm)
	m.applyUpdates(g, t.opt, t.trainable, grads, lr, scalars)
	return []*Node{loss, ReduceAllMean(correct), norm, out.HT, out.CT}
}

// windowSteps is the number of time steps T of a window of time-major tokens [T*B] with state [L, B, H].
func windowSteps(tokens, state *Node) int {
	return tokens.Shape().Dimensions[0] / state.Shape().Dimensions[1]
}

// timeMajor reorders a row-major [batch, seq] window into time-major [seq*batch] (row t*B+b), the
// layout the graph slices per time step without any reshaping.
func timeMajor(x []int32, batch, seq int) []int32 {
	out := make([]int32, len(x))
	for b := range batch {
		for s := range seq {
			out[s*batch+b] = x[b*seq+s]
		}
	}
	return out
}

func scalar(t *tensors.Tensor) float64 {
	switch v := t.Value().(type) {
	case float32:
		return float64(v)
	case float64:
		return v
	default:
		return math.NaN()
	}
}

// Step runs one optimisation step on the next training window and returns its event.
func (t *Trainer) Step() (Event, error) {
	m, cfg := t.Model, t.Model.Config
	if t.State.Window >= t.train.NumWindows() {
		t.State.Epoch++
		t.State.Window = 0
		t.resetState() // state is reset at the start of each epoch
	}
	if err := t.prepareEpoch(); err != nil {
		return Event{}, err
	}
	var resets []int
	if t.State.Window > 0 {
		resets = resetRows(cfg, t.State.Step)
		if err := t.ResetRows(resets); err != nil {
			return Event{}, fmt.Errorf("train step %d: %w", t.State.Step+1, err)
		}
	}
	x, y := t.train.Window(t.State.Window)
	lr := ScheduledLR(cfg, t.LRAnchor, t.State.Step)
	args := []any{timeMajor(x, cfg.BatchSize, cfg.SeqLen), timeMajor(y, cfg.BatchSize, cfg.SeqLen), t.h, t.c, float32(lr)}
	scalars := t.opt.Scalars(t.State.Step)
	for _, name := range t.scalars {
		args = append(args, float32(scalars[name]))
	}
	start := time.Now()
	out, err := m.call(t.stepExec, fmt.Sprintf("train step %d", t.State.Step+1), args...)
	if err != nil {
		return Event{}, fmt.Errorf("train step %d: %w", t.State.Step+1, err)
	}
	loss := scalar(out[0])
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return Event{}, fmt.Errorf("train step %d: loss is %v (diverged; lower lr or set clip_norm)", t.State.Step+1, loss)
	}
	t.h, t.c = out[3], out[4]
	t.State.Step++
	t.State.Window++
	tokens := cfg.BatchSize * cfg.SeqLen
	t.State.Tokens += int64(tokens)
	return Event{
		Kind: EventStep, Step: t.State.Step, Epoch: t.State.Epoch,
		Progress: float64(t.State.Window) / float64(t.train.NumWindows()),
		Loss:     loss, Accuracy: scalar(out[1]), GradNorm: scalar(out[2]), LR: lr,
		TokensPS: float64(tokens) / time.Since(start).Seconds(), StepsLeft: cfg.Steps - t.State.Step,
		Resets: len(resets),
	}, nil
}

// Validate evaluates the validation split, updating the early-stopping bookkeeping.
func (t *Trainer) Validate() (Event, error) {
	res, err := t.Model.scoreSplit(t.val, t.Model.Config.EvalLimit, nil)
	if err != nil {
		return Event{}, fmt.Errorf("validation at step %d: %w", t.State.Step, err)
	}
	ev := Event{Kind: EventEval, Step: t.State.Step, Epoch: t.State.Epoch, Val: &res, StepsLeft: t.Model.Config.Steps - t.State.Step}
	if res.Loss < t.State.BestVal-1e-9 {
		t.State.BestVal, t.State.BestStep, t.State.BadEvals = res.Loss, t.State.Step, 0
		ev.Improved = true
	} else {
		t.State.BadEvals++
	}
	return ev, nil
}

// Run trains until cfg.Steps, early stopping, or ctx is cancelled, calling observe after every step
// and every evaluation (observe returning an error stops training with it). It validates every
// cfg.EvalEvery steps and at the end.
func (t *Trainer) Run(ctx context.Context, observe func(Event) error) (StopReason, error) {
	cfg := t.Model.Config
	start := time.Now()
	emit := func(ev Event) error {
		ev.Elapsed = time.Since(start)
		if observe == nil {
			return nil
		}
		return observe(ev)
	}
	for t.State.Step < cfg.Steps {
		if ctx.Err() != nil {
			return StopCancelled, nil
		}
		ev, err := t.Step()
		if err != nil {
			return "", err
		}
		if err := emit(ev); err != nil {
			return "", err
		}
		if t.State.Step%cfg.EvalEvery == 0 || t.State.Step == cfg.Steps {
			ev, err := t.Validate()
			if err != nil {
				return "", err
			}
			if err := emit(ev); err != nil {
				return "", err
			}
			if cfg.Patience > 0 && t.State.BadEvals >= cfg.Patience {
				return StopEarly, nil
			}
		}
	}
	return StopDone, nil
}
