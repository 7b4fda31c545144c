package tracker

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestConcurrentWriters has N writers, each with its own DB handle (its own
// connections, as separate processes would have), log M steps of two
// metrics into one file while a reader lists runs, then checks that every
// point arrived and no write failed with "database is locked".
func TestConcurrentWriters(t *testing.T) {
	const (
		writers = 6
		steps   = 1500
	)
	path := filepath.Join(t.TempDir(), "shared.db")
	// Small batches force many competing write transactions.
	opts := Options{FlushSize: 50, FlushInterval: 5 * time.Millisecond}
	var wg sync.WaitGroup
	ids := make([]int64, writers)
	errs := make(chan error, writers+1)
	stop := make(chan struct{})

	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db, err := OpenWith(path, opts)
			if err != nil {
				errs <- err
				return
			}
			defer db.Close()
			r, err := db.StartRun(ctx, RunSpec{Experiment: "race", Name: fmt.Sprintf("writer-%d", w)})
			if err != nil {
				errs <- err
				return
			}
			ids[w] = r.ID()
			if err := r.LogParams(map[string]any{"writer": w}); err != nil {
				errs <- err
				return
			}
			for step := int64(0); step < steps; step++ {
				if err := r.LogMetrics(step, map[string]float64{MetricTrainLoss: float64(step), MetricLR: 0.1}); err != nil {
					errs <- err
					return
				}
			}
			errs <- r.Finish(StatusFinished)
		}()
	}
	var readerWG sync.WaitGroup
	readerWG.Add(1)
	go func() {
		defer readerWG.Done()
		db, err := OpenWith(path, opts)
		if err != nil {
			errs <- err
			return
		}
		defer db.Close()
		for {
			select {
			case <-stop:
				errs <- nil
				return
			default:
			}
			if _, err := db.ListRuns(ctx, ListOptions{Filter: "metrics.train_loss >= 0", OrderBy: "metrics.train_loss desc"}); err != nil {
				errs <- fmt.Errorf("reader: %w", err)
				return
			}
			time.Sleep(2 * time.Millisecond)
		}
	}()
	wg.Wait()
	close(stop)
	readerWG.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if t.Failed() {
		return
	}

	db, err := Open(path)
	must(t, err)
	defer db.Close()
	must(t, db.IntegrityCheck(ctx))
	runs, err := db.ListRuns(ctx, ListOptions{Filter: "experiment = race and status = finished"})
	must(t, err)
	if len(runs) != writers {
		t.Fatalf("%d finished runs, want %d", len(runs), writers)
	}
	for w, id := range ids {
		for _, key := range []string{MetricTrainLoss, MetricLR} {
			hist, err := db.History(ctx, id, key)
			must(t, err)
			if len(hist) != steps {
				t.Errorf("writer %d %s: %d points, want %d", w, key, len(hist), steps)
				continue
			}
			for i, p := range hist {
				if p.Step != int64(i) {
					t.Errorf("writer %d %s: point %d has step %d", w, key, i, p.Step)
					break
				}
			}
		}
		ri, err := db.GetRun(ctx, id)
		must(t, err)
		// train_loss rises with the step here, so its best (minimum) is at
		// step 0.
		if s := ri.Metrics[MetricTrainLoss]; s.Count != steps || s.Last.Step != steps-1 || s.Last.Value != steps-1 ||
			s.Best == nil || s.Best.Step != 0 || s.Best.Value != 0 {
			t.Errorf("writer %d summary: %+v best %+v", w, s, s.Best)
		}
	}
	if n := count(t, db, `SELECT count(*) FROM metrics`); n != writers*steps*2 {
		t.Errorf("%d points in all, want %d", n, writers*steps*2)
	}
}
