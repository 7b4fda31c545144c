package tracker

import (
	"math"
	"strings"
	"testing"
)

func TestKeySummary(t *testing.T) {
	s := keySummary{goal: Minimize}
	for i, v := range []float64{3, math.NaN(), 1, 1, 2} {
		s.add(point{key: "k", step: int64(i), timeMS: int64(i * 10), value: v})
	}
	if s.count != 5 || s.last.step != 4 || !s.hasBest || s.best.step != 2 || s.best.value != 1 {
		t.Errorf("min summary: %+v", s)
	}
	m := keySummary{goal: Maximize}
	m.add(point{step: 1, value: math.NaN()})
	if m.hasBest {
		t.Error("NaN became best")
	}
	m.add(point{step: 2, value: 0.5})
	if !m.hasBest || m.best.value != 0.5 {
		t.Errorf("max summary: %+v", m)
	}
}

// A failed batch write keeps its points, reports the error on the next
// calls, and is retried until it succeeds.
func TestFailedFlushIsRetried(t *testing.T) {
	db := openTemp(t, Options{})
	r := startRun(t, db, RunSpec{})
	_, err := db.write.Exec(`CREATE TRIGGER boom BEFORE INSERT ON metrics WHEN NEW.key = 'boom'
		BEGIN SELECT RAISE(ABORT, 'simulated disk full'); END`)
	must(t, err)
	must(t, r.LogMetric(MetricTrainLoss, 1, 1))
	must(t, r.LogMetric("boom", 1, 1))
	if err := r.Flush(); err == nil || !strings.Contains(err.Error(), "simulated disk full") {
		t.Fatalf("Flush with a failing insert: %v", err)
	}
	if err := r.LogMetric(MetricTrainLoss, 2, 2); err == nil || !strings.Contains(err.Error(), "simulated disk full") {
		t.Errorf("LogMetric after a failed write: %v; want the write error", err)
	}
	if n := count(t, db, `SELECT count(*) FROM metrics`); n != 0 {
		t.Errorf("a failed batch left %d points", n)
	}
	_, err = db.write.Exec(`DROP TRIGGER boom`)
	must(t, err)
	must(t, r.Flush())
	must(t, r.LogMetric(MetricTrainLoss, 3, 3)) // error cleared
	must(t, r.Finish(StatusFinished))
	if n := count(t, db, `SELECT count(*) FROM metrics`); n != 4 {
		t.Errorf("%d points after the retry, want 4", n)
	}
	if n := count(t, db, `SELECT count FROM metric_summary WHERE key = ?`, MetricTrainLoss); n != 3 {
		t.Errorf("train_loss summary count %d, want 3", n)
	}
}

// Finish can be retried when its final write fails.
func TestFinishRetry(t *testing.T) {
	db := openTemp(t, Options{})
	r := startRun(t, db, RunSpec{})
	_, err := db.write.Exec(`CREATE TRIGGER nofinish BEFORE UPDATE OF status ON runs WHEN NEW.status = 'finished'
		BEGIN SELECT RAISE(ABORT, 'simulated failure'); END`)
	must(t, err)
	must(t, r.LogMetric("x", 1, 1))
	if err := r.Finish(StatusFinished); err == nil {
		t.Fatal("Finish succeeded despite the failing update")
	}
	_, err = db.write.Exec(`DROP TRIGGER nofinish`)
	must(t, err)
	must(t, r.Finish(StatusFinished))
	ri, err := db.GetRun(ctx, r.ID())
	must(t, err)
	if ri.Status != StatusFinished || ri.Metrics["x"].Count != 1 {
		t.Errorf("after retried Finish: %s %+v", ri.Status, ri.Metrics)
	}
}

// Far more points than a batch, logged faster than the timer flushes, all
// arrive (early flushes on size and back-pressure).
func TestManyPointsAcrossBatches(t *testing.T) {
	db := openTemp(t, Options{FlushSize: 16})
	r := startRun(t, db, RunSpec{})
	for step := int64(0); step < 5000; step++ {
		must(t, r.LogMetric(MetricTrainLoss, step, 1/float64(step+1)))
	}
	must(t, r.Finish(StatusFinished))
	ri, err := db.GetRun(ctx, r.ID())
	must(t, err)
	if s := ri.Metrics[MetricTrainLoss]; s.Count != 5000 || s.Best.Step != 4999 || s.Last.Step != 4999 {
		t.Errorf("summary: %+v best %+v", s, s.Best)
	}
}

// When some points of a batch were already stored (only possible if two
// processes log into the same run), the summary is rebuilt from the
// history instead of counting them twice.
func TestBatchOverlappingStoredPoints(t *testing.T) {
	db := openTemp(t, Options{})
	r := startRun(t, db, RunSpec{})
	_, err := db.write.Exec(`INSERT INTO metrics (run_id, key, step, time_ms, value) VALUES (?, 'val_loss', 3, 0, 0.25)`, r.ID())
	must(t, err)
	for step := int64(1); step <= 5; step++ {
		must(t, r.LogMetric(MetricValLoss, step, float64(step)))
	}
	must(t, r.Finish(StatusFinished))
	ri, err := db.GetRun(ctx, r.ID())
	must(t, err)
	s := ri.Metrics[MetricValLoss]
	if s.Count != 5 || s.Last.Step != 5 || s.Last.Value != 5 || s.Best == nil || s.Best.Step != 3 || s.Best.Value != 0.25 || s.Goal != Minimize {
		t.Errorf("summary: %+v best %+v", s, s.Best)
	}
}

func TestInsertPointsSQL(t *testing.T) {
	got := insertPointsSQL(2)
	want := "INSERT INTO metrics (run_id, key, step, time_ms, value) VALUES (?, ?, ?, ?, ?), (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
	if got != want {
		t.Errorf("insertPointsSQL(2) = %s", got)
	}
}
