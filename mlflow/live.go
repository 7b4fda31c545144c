package mlflow

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"
)

// LiveOptions configures Live. The zero value picks the defaults.
type LiveOptions struct {
	// Interval between syncs of the runs being trained. Default 3s.
	Interval time.Duration
	// MaxBackoff caps the wait between attempts while the server is
	// unreachable (the wait doubles from Interval). Default 1m.
	MaxBackoff time.Duration
	// CloseGrace is how long Close keeps retrying a server that fails
	// (down, restarting); while syncs succeed it goes on until its context
	// ends. Default 5s.
	CloseGrace time.Duration
	// Warn receives one line the first time a sync fails (server
	// unreachable, credentials refused...); later failures are silent, the
	// mirror keeps retrying. Nil discards it.
	Warn func(string)
}

// Live mirrors runs while they are trained: a background goroutine syncs
// every added run every Interval through the Mirror (which reads the
// tracker database, not the training loop), so training never waits on
// the network. While the server is unreachable it backs off and, when the
// server is back, catches up from the database. A run stops being synced
// once its final status reached the server.
type Live struct {
	m    *Mirror
	opts LiveOptions

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	kick   chan struct{}
	done   chan struct{}

	mu      sync.Mutex
	order   []int64            // runs in the order added
	state   map[int64]*liveRun // by run id
	warned  bool
	lastErr error
}

type liveRun struct {
	ended bool  // its final status is on the server
	err   error // the last sync's error, nil after a good one
}

// StartLive starts mirroring live; add runs with Add and stop with Close.
func (m *Mirror) StartLive(opts LiveOptions) *Live {
	if opts.Interval <= 0 {
		opts.Interval = 3 * time.Second
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = time.Minute
	}
	if opts.CloseGrace <= 0 {
		opts.CloseGrace = 5 * time.Second
	}
	ctx, cancel := context.WithCancel(context.Background())
	l := &Live{m: m, opts: opts, ctx: ctx, cancel: cancel, kick: make(chan struct{}, 1), done: make(chan struct{}),
		state: map[int64]*liveRun{}}
	go l.loop()
	return l
}

// Add starts mirroring run runID (again, if it was mirrored before in this
// Live: a resumed run). It never blocks.
func (l *Live) Add(runID int64) {
	l.mu.Lock()
	if _, ok := l.state[runID]; !ok {
		l.order = append(l.order, runID)
	}
	l.state[runID] = &liveRun{}
	l.mu.Unlock()
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

func (l *Live) loop() {
	defer close(l.done)
	wait := l.opts.Interval
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		select {
		case <-l.ctx.Done():
			return
		case <-l.kick:
		case <-timer.C:
		}
		if l.pass(l.ctx) {
			wait = l.opts.Interval
		} else {
			wait = min(2*wait, l.opts.MaxBackoff)
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(wait)
	}
}

// pass syncs every run not yet ended once and reports whether all syncs
// succeeded. While the server is unreachable it stops at the first failure.
func (l *Live) pass(ctx context.Context) bool {
	ok := true
	for _, id := range l.pending() {
		res, err := l.m.SyncRun(ctx, id)
		if ctx.Err() != nil {
			return false
		}
		l.mu.Lock()
		st := l.state[id]
		st.err = err
		if err == nil && res.Status != StatusRunning {
			st.ended = true
		}
		warn := err != nil && !l.warned
		if err != nil {
			l.warned, l.lastErr = true, err
		}
		l.mu.Unlock()
		if warn && l.opts.Warn != nil {
			l.opts.Warn(describeFailure(err) + "; training goes on, and the mirror catches up from the database when it can")
		}
		if err != nil {
			ok = false
			if Temporary(err) {
				break
			}
		}
	}
	return ok
}

// Close stops the background syncs, then syncs the remaining runs until
// their final status is on the server, ctx ends, the server refuses a
// request, or syncs have kept failing for CloseGrace (the server is down). It returns the runs not fully
// mirrored, with the last error, or nil when everything reached the server.
func (l *Live) Close(ctx context.Context) ([]int64, error) {
	l.cancel()
	<-l.done
	giveUp := time.Now().Add(l.opts.CloseGrace)
	for {
		ok := l.pass(ctx)
		behind := l.pending()
		if len(behind) == 0 {
			return nil, nil
		}
		l.mu.Lock()
		refused := !ok && !Temporary(l.lastErr)
		l.mu.Unlock()
		switch {
		case ok:
			giveUp = time.Now().Add(l.opts.CloseGrace)
		case refused: // the server answered no: asking again will not change that
			giveUp = time.Now()
		}
		wait := time.NewTimer(500 * time.Millisecond)
		select {
		case <-ctx.Done():
		case <-wait.C:
			if time.Now().Before(giveUp) {
				continue
			}
		}
		wait.Stop()
		l.mu.Lock()
		err := l.lastErr
		for _, id := range behind {
			if e := l.state[id].err; e != nil {
				err = e
			}
		}
		l.mu.Unlock()
		if err == nil {
			err = ctx.Err()
		}
		return behind, err
	}
}

// describeFailure says why a sync failed, in a few words for an unreachable
// server.
func describeFailure(err error) string {
	var ue *UnreachableError
	if errors.As(err, &ue) {
		return ue.Error()
	}
	return "MLflow mirror: " + err.Error()
}

// pending lists the runs whose final status has not reached the server.
func (l *Live) pending() []int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	var ids []int64
	for _, id := range l.order {
		if !l.state[id].ended {
			ids = append(ids, id)
		}
	}
	return slices.Clip(ids)
}

// Warned reports whether a sync failed at some point (and Warn was called).
func (l *Live) Warned() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.warned
}
