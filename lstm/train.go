package lstm

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
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

// EvalResult holds the metrics of a pass over a split.
type EvalResult struct {
	Loss       float64 `json:"loss"`       // mean negative log-likelihood, nats per token
	Perplexity float64 `json:"perplexity"` // exp(Loss)
	BPC        float64 `json:"bpc"`        // bits per character (char level; = Loss/ln 2), else bits per token
	Accuracy   float64 `json:"accuracy"`   // next-token arg-max accuracy
	Tokens     int     `json:"tokens"`     // tokens scored
}

func newEvalResult(sumLoss, sumCorrect float64, tokens int) EvalResult {
	loss := sumLoss / float64(tokens)
	return EvalResult{Loss: loss, Perplexity: math.Exp(loss), BPC: loss / math.Ln2, Accuracy: sumCorrect / float64(tokens), Tokens: tokens}
}

// StopReason says why Run returned.
type StopReason string

const (
	StopDone      StopReason = "done"           // reached cfg.Steps
	StopEarly     StopReason = "early_stopping" // validation loss stopped improving for cfg.Patience evaluations
	StopCancelled StopReason = "cancelled"      // the context was cancelled (e.g. Ctrl-C)
)

// ErrStalled is returned (wrapped) when a step takes longer than cfg.StepTimeout: a hung backend
// becomes an error instead of a silent hang.
var ErrStalled = errors.New("backend stalled")

// Trainer runs truncated-BPTT training of a Model on a token stream.
type Trainer struct {
	Model *Model
	State TrainState

	train, val *text.Streams
	trainable  []string
	stepExec   *model.Exec
	evalExec   *model.Exec
	h, c       *tensors.Tensor // state carried between training windows: [L, B, H]

	trainIDs     []int32 // the training text, which each epoch's streams are cut from (see recipe.go)
	streamsEpoch int     // the epoch train was cut for
}

// NewTrainer prepares training on the train split, validating on val. frozen lists parameter paths
// that must not change (fine-tuning); they get no gradient and no optimizer state.
func NewTrainer(m *Model, train, val []int32, frozen []string) (*Trainer, error) {
	cfg := m.Config
	trainStreams, err := text.NewStreams(train, cfg.BatchSize, cfg.SeqLen)
	if err != nil {
		return nil, fmt.Errorf("training split: %w", err)
	}
	valStreams, err := evalStreams(val, cfg)
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
	if err := m.ensureOptimizerState(t.trainable); err != nil {
		return nil, err
	}
	t.stepExec, err = m.newExec(t.trainStepGraph)
	if err != nil {
		return nil, fmt.Errorf("build train step: %w", err)
	}
	t.evalExec, err = m.newEvalExec()
	if err != nil {
		return nil, err
	}
	t.resetState()
	return t, nil
}

// evalStreams cuts an evaluation split into streams, halving the batch for splits too short to fill
// cfg.BatchSize rows (a small validation split of a small corpus must still be usable).
func evalStreams(ids []int32, cfg Config) (*text.Streams, error) {
	batch := cfg.BatchSize
	for batch > 1 && len(ids) < batch*cfg.SeqLen+1 {
		batch /= 2
	}
	return text.NewStreams(ids, batch, cfg.SeqLen)
}

// resetState zeroes the carried hidden and cell state (start of an epoch).
func (t *Trainer) resetState() {
	shape := t.Model.stateShape(t.Model.Config.BatchSize)
	t.h, t.c = tensors.FromShape(shape), tensors.FromShape(shape)
}

// trainStepGraph: inputs tokens, targets [T*B] int32, h0, c0 [L, B, H], hyper [3];
// outputs mean loss, accuracy, gradient norm (scalars), hT, cT.
func (t *Trainer) trainStepGraph(g *Graph, in []*Node) []*Node {
	m := t.Model
	tokens, targets, h0, c0, hyper := in[0], in[1], in[2], in[3], in[4]
	out := m.forward(g, tokens, h0, c0, m.Config.SeqLen, true)
	perToken, correct := nll(out.Logits, targets)
	loss := ReduceAllMean(perToken)
	params := make([]*Node, len(t.trainable))
	for i, p := range t.trainable {
		params[i] = m.param(g, p)
	}
	grads, norm := clipByGlobalNorm(Gradient(loss, params...), m.Config.ClipNorm)
	m.applyUpdates(g, t.trainable, grads, hyper)
	return []*Node{loss, ReduceAllMean(correct), norm, out.HT, out.CT}
}

// newEvalExec compiles the evaluation pass: inputs tokens, targets [T*B], h0, c0 [L, B, H];
// outputs summed loss, summed correct predictions, hT, cT.
func (m *Model) newEvalExec() (*model.Exec, error) {
	e, err := m.newExec(func(g *Graph, in []*Node) []*Node {
		out := m.forward(g, in[0], in[2], in[3], m.Config.SeqLen, false)
		loss, correct := nll(out.Logits, in[1])
		return []*Node{ReduceAllSum(loss), ReduceAllSum(correct), out.HT, out.CT}
	})
	if err != nil {
		return nil, fmt.Errorf("build evaluation: %w", err)
	}
	return e, nil
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

// call runs an executable with the watchdog: a call exceeding the step timeout returns ErrStalled.
func (m *Model) call(e *model.Exec, what string, args ...any) ([]*tensors.Tensor, error) {
	timeout := time.Duration(m.Config.StepTimeout) * time.Second
	if timeout <= 0 {
		return e.Call(args...)
	}
	return callWithTimeout(what, timeout, func() ([]*tensors.Tensor, error) { return e.Call(args...) })
}

// callWithTimeout runs f on one of callRunners' goroutines, so that this one can stop waiting for it:
// it returns f's result, an error wrapping ErrStalled when f takes longer than timeout, or f's panic as
// an error.
func callWithTimeout(what string, timeout time.Duration, f func() ([]*tensors.Tensor, error)) ([]*tensors.Tensor, error) {
	type result struct {
		out []*tensors.Tensor
		err error
	}
	done := make(chan result, 1)
	runner := callRunners.get()
	runner <- func() {
		defer func() {
			if r := recover(); r != nil {
				done <- result{err: fmt.Errorf("%s: %v", what, r)}
			}
		}()
		out, err := f()
		done <- result{out, err}
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case r := <-done:
		callRunners.put(runner)
		return r.out, r.err
	case <-timer.C:
		close(runner) // its goroutine ends when the stalled call returns, if it ever does
		return nil, fmt.Errorf("%s: no result after %s (step_timeout): %w", what, timeout, ErrStalled)
	}
}

// callRunners are the goroutines Model.call runs executables on, kept between calls. Why not a new
// goroutine per call: each would start on a small stack and grow it again through GoMLX's deep call
// chain, which cost a generated token about 0.1 ms (a fifth of its time, BenchmarkGenerateNoWatchdog).
// There are as many as calls ever ran at once; a stalled one is abandoned, not reused.
var callRunners runnerPool

// runnerPool holds idle runners: goroutines that run each function sent on their channel until it is
// closed.
type runnerPool struct {
	mu   sync.Mutex
	idle []chan func()
}

// get returns an idle runner, starting one if there is none.
func (p *runnerPool) get() chan func() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.idle); n > 0 {
		r := p.idle[n-1]
		p.idle = p.idle[:n-1]
		return r
	}
	r := make(chan func())
	go func() {
		for job := range r {
			job()
		}
	}()
	return r
}

// put returns a runner whose call has finished to the pool.
func (p *runnerPool) put(r chan func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.idle = append(p.idle, r)
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
	lr := LearningRate(cfg, t.State.Step)
	start := time.Now()
	out, err := m.call(t.stepExec, fmt.Sprintf("train step %d", t.State.Step+1),
		timeMajor(x, cfg.BatchSize, cfg.SeqLen), timeMajor(y, cfg.BatchSize, cfg.SeqLen), t.h, t.c, hyperInput(cfg, t.State.Step))
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
	res, err := t.Model.evaluateStreams(t.evalExec, t.val)
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

// Evaluate scores a token sequence (a split, or any encoded text) with fresh state, returning loss,
// perplexity, bits per character and accuracy. At most cfg.EvalLimit windows are scored when it is set.
func (m *Model) Evaluate(ids []int32) (EvalResult, error) {
	streams, err := evalStreams(ids, m.Config)
	if err != nil {
		return EvalResult{}, err
	}
	e, err := m.newEvalExec()
	if err != nil {
		return EvalResult{}, err
	}
	return m.evaluateStreams(e, streams)
}

func (m *Model) evaluateStreams(e *model.Exec, s *text.Streams) (EvalResult, error) {
	cfg := m.Config
	batch := s.Batch()
	shape := m.stateShape(batch)
	h, c := tensors.FromShape(shape), tensors.FromShape(shape) // state reset at the start of each evaluation
	windows := s.NumWindows()
	if cfg.EvalLimit > 0 {
		windows = min(windows, cfg.EvalLimit)
	}
	var sumLoss, sumCorrect float64
	for i := range windows {
		x, y := s.Window(i)
		out, err := m.call(e, "evaluation", timeMajor(x, batch, cfg.SeqLen), timeMajor(y, batch, cfg.SeqLen), h, c)
		if err != nil {
			return EvalResult{}, err
		}
		sumLoss += scalar(out[0])
		sumCorrect += scalar(out[1])
		h, c = out[2], out[3]
	}
	return newEvalResult(sumLoss, sumCorrect, windows*batch*cfg.SeqLen), nil
}
