package tracker

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
)

func TestPointJSON(t *testing.T) {
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	for v, want := range map[float64]string{1.5: "1.5", math.NaN(): `"NaN"`, math.Inf(1): `"Infinity"`, math.Inf(-1): `"-Infinity"`} {
		b, err := json.Marshal(Point{Step: 7, Time: at, Value: v})
		must(t, err)
		if string(b) != `{"step":7,"time":"2025-01-02T03:04:05Z","value":`+want+`}` {
			t.Errorf("Point %v as JSON: %s", v, b)
		}
	}
}

func TestRunInfoJSONWithNaN(t *testing.T) {
	db := openTemp(t, Options{})
	r := startRun(t, db, RunSpec{})
	must(t, r.LogMetric(MetricTrainLoss, 1, math.NaN()))
	must(t, r.Finish(StatusFinished))
	ri, err := db.GetRun(ctx, r.ID())
	must(t, err)
	b, err := json.Marshal(ri)
	if err != nil {
		t.Fatalf("a NaN metric broke JSON: %v", err)
	}
	if !strings.Contains(string(b), `"value":"NaN"`) || !strings.Contains(string(b), `"status":"finished"`) {
		t.Errorf("JSON: %s", b)
	}
}

func TestRunInfoDuration(t *testing.T) {
	start := time.Now().Add(-time.Hour)
	finished := RunInfo{Status: StatusFinished, Start: start, End: start.Add(10 * time.Minute)}
	dead := RunInfo{Status: StatusInterrupted, Start: start, Heartbeat: start.Add(5 * time.Minute)}
	live := RunInfo{Status: StatusRunning, Start: start}
	if finished.Duration() != 10*time.Minute || dead.Duration() != 5*time.Minute || live.Duration() < time.Hour {
		t.Errorf("durations: %v %v %v", finished.Duration(), dead.Duration(), live.Duration())
	}
}

// Reads in the process that logs see points still in the buffer.
func TestReadsFlushOpenRuns(t *testing.T) {
	db := openTemp(t, Options{FlushInterval: time.Hour, HeartbeatInterval: time.Hour, StaleAfter: 2 * time.Hour})
	r := startRun(t, db, RunSpec{})
	must(t, r.LogMetric(MetricValLoss, 1, 2))
	h, err := db.History(ctx, r.ID(), MetricValLoss)
	must(t, err)
	runs, err := db.ListRuns(ctx, ListOptions{Filter: "metrics.val_loss = 2"})
	must(t, err)
	if len(h) != 1 || len(runs) != 1 {
		t.Errorf("history %v, %d runs listed; want the buffered point visible", h, len(runs))
	}
}

func TestSamplesOfMissingRun(t *testing.T) {
	db := openTemp(t, Options{})
	if _, err := db.Samples(ctx, 5); err == nil {
		t.Error("samples of a missing run")
	}
	if _, err := db.LatestSample(ctx, 5); err == nil {
		t.Error("latest sample of a missing run")
	}
	if _, err := db.Artifacts(ctx, 5); err == nil {
		t.Error("artifacts of a missing run")
	}
	r := startRun(t, db, RunSpec{})
	if s, err := db.LatestSample(ctx, r.ID()); err != nil || s != nil {
		t.Errorf("latest sample of a run without samples: %v %v", s, err)
	}
}
