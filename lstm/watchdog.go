package lstm

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// The step watchdog: every compiled graph lstmlab runs (training steps, evaluations, generation steps)
// goes through Model.call, which turns a call that takes longer than Config.StepTimeout into an error
// wrapping ErrStalled instead of a silent hang (a backend deadlock was seen once; see GoTrainingBackend).

// ErrStalled is returned (wrapped) when a step takes longer than cfg.StepTimeout: a hung backend
// becomes an error instead of a silent hang.
var ErrStalled = errors.New("backend stalled")

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
// chain, a sizeable share of a generated token's time (BenchmarkGenerateNoWatchdog; docs/benchmarks.md).
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
