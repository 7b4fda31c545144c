package tracker

import (
	"encoding/json"
	"math"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestNonFiniteRoundTrip logs NaN, +Inf and -Inf into a real database file:
// the history gives them back exactly, the latest value is kept, and none
// of them is ever the best value of a loss (min) or an accuracy (max).
func TestNonFiniteRoundTrip(t *testing.T) {
	db := openTemp(t, Options{})
	r := startRun(t, db, RunSpec{Name: "diverged"})
	loss := []float64{2.5, math.Inf(-1), 1.5, math.NaN(), math.Inf(1)}
	acc := []float64{0.3, math.Inf(1), 0.4, math.NaN(), math.Inf(-1)}
	for i := range loss {
		must(t, r.LogMetrics(int64(i+1), map[string]float64{"val_loss": loss[i], "val_acc": acc[i]}))
	}
	must(t, r.Finish(StatusFinished))

	h, err := db.History(ctx, r.ID(), "val_loss")
	must(t, err)
	if len(h) != len(loss) {
		t.Fatalf("history has %d points, want %d", len(h), len(loss))
	}
	for i, p := range h {
		same := p.Value == loss[i] || (math.IsNaN(p.Value) && math.IsNaN(loss[i]))
		if !same {
			t.Errorf("point %d: stored %v, read back %v", i, loss[i], p.Value)
		}
	}
	ri, err := db.GetRun(ctx, r.ID())
	must(t, err)
	if s := ri.Metrics["val_loss"]; s.Best == nil || s.Best.Value != 1.5 || !math.IsInf(s.Last.Value, 1) {
		t.Errorf("val_loss summary: best %+v, last %v; want best 1.5 and last +Inf", s.Best, s.Last.Value)
	}
	if s := ri.Metrics["val_acc"]; s.Best == nil || s.Best.Value != 0.4 {
		t.Errorf("val_acc best %+v, want 0.4 (never +Inf)", s.Best)
	}
	// A filter on best sees the finite best.
	runs, err := db.ListRuns(ctx, ListOptions{Filter: "best.val_loss = 1.5 and best.val_acc = 0.4"})
	must(t, err)
	if len(runs) != 1 {
		t.Errorf("filter on finite bests matched %d runs", len(runs))
	}

	// JSON as MLflow's REST API writes them, and back.
	b, err := json.Marshal(h)
	must(t, err)
	want := `"value":2.5}`
	for _, s := range []string{want, `"value":"-Infinity"`, `"value":"NaN"`, `"value":"Infinity"`} {
		if !strings.Contains(string(b), s) {
			t.Errorf("history JSON lacks %s: %s", s, b)
		}
	}
	var back []Point
	must(t, json.Unmarshal(b, &back))
	if !math.IsInf(back[1].Value, -1) || !math.IsNaN(back[3].Value) || !math.IsInf(back[4].Value, 1) || back[2].Value != 1.5 {
		t.Errorf("JSON round trip: %+v", back)
	}
}

// TestRecomputedBestIsFinite: SetGoal recomputes the best point from the
// history, and must skip infinities there too.
func TestRecomputedBestIsFinite(t *testing.T) {
	db := openTemp(t, Options{})
	r := startRun(t, db, RunSpec{})
	for i, v := range []float64{1, math.Inf(1), 3, math.Inf(-1)} {
		must(t, r.LogMetric("margin", int64(i), v))
	}
	must(t, r.SetGoal("margin", Maximize))
	must(t, r.Finish(StatusFinished))
	ri, err := db.GetRun(ctx, r.ID())
	must(t, err)
	if b := ri.Metrics["margin"].Best; b == nil || b.Value != 3 {
		t.Errorf("best margin after SetGoal(max): %+v, want 3", b)
	}
}

// fakeClock is a settable clock for db.now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// TestActiveTimeExcludesIdleGap: a run trained 10 s, interrupted, left
// idle an hour, resumed and trained 5 s more has 15 s of active time and
// a wall duration of over an hour.
func TestActiveTimeExcludesIdleGap(t *testing.T) {
	db := openTemp(t, Options{HeartbeatInterval: time.Hour, StaleAfter: 2 * time.Hour, FlushInterval: time.Hour})
	clock := &fakeClock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	db.now = clock.now
	r := startRun(t, db, RunSpec{Name: "resumed"})
	clock.advance(4 * time.Second)
	must(t, r.LogMetric("train_loss", 1, 2))
	must(t, r.Flush()) // a batch write is a heartbeat too
	clock.advance(6 * time.Second)
	must(t, r.Finish(StatusInterrupted))
	clock.advance(time.Hour)
	r2, err := db.ResumeRun(ctx, r.ID())
	must(t, err)
	clock.advance(5 * time.Second)
	must(t, r2.Finish(StatusFinished))

	ri, err := db.GetRun(ctx, r.ID())
	must(t, err)
	if ri.Active != 15*time.Second {
		t.Errorf("active time %v, want 15s", ri.Active)
	}
	if d := ri.Duration(); d < time.Hour {
		t.Errorf("wall duration %v, want over an hour", d)
	}
	for filter, want := range map[string]int{"active = 15": 1, "active > 20": 0, "duration > 3600": 1} {
		runs, err := db.ListRuns(ctx, ListOptions{Filter: filter})
		must(t, err)
		if len(runs) != want {
			t.Errorf("%q matched %d runs, want %d", filter, len(runs), want)
		}
	}
}
