package tracker

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// stepMetrics are what the runner logs every training step.
var stepMetrics = map[string]float64{MetricTrainLoss: 1.5, MetricLR: 1e-3, MetricGradNorm: 0.7, MetricTokensPerS: 9000}

// BenchmarkLogMetricsBuffered is the per-step cost the training loop pays
// for LogMetrics with four metrics when the background writer keeps up (the
// usual case: a training step takes milliseconds). The batch writes are
// kept out of the timer by flushing outside it.
func BenchmarkLogMetricsBuffered(b *testing.B) {
	db := openTemp(b, Options{FlushSize: 1 << 20, FlushInterval: time.Hour, HeartbeatInterval: time.Hour, StaleAfter: 2 * time.Hour})
	r := startRun(b, db, RunSpec{})
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := r.LogMetrics(int64(i), stepMetrics); err != nil {
			b.Fatal(err)
		}
		if i%50000 == 49999 {
			b.StopTimer()
			must(b, r.Flush())
			b.StartTimer()
		}
	}
	b.StopTimer()
	must(b, r.Finish(StatusFinished))
}

// BenchmarkDurable measures sustained throughput to disk: b.N steps logged
// as fast as possible and committed (the final Finish included), with one
// or four metrics per step, in points/s.
func BenchmarkDurable(b *testing.B) {
	for _, keys := range []int{1, 4} {
		b.Run(fmt.Sprintf("metrics=%d", keys), func(b *testing.B) {
			db, err := Open(filepath.Join(b.TempDir(), "bench.db"))
			must(b, err)
			defer db.Close()
			r := startRun(b, db, RunSpec{})
			values := map[string]float64{MetricTrainLoss: 1}
			if keys == 4 {
				values = stepMetrics
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := r.LogMetrics(int64(i), values); err != nil {
					b.Fatal(err)
				}
			}
			must(b, r.Finish(StatusFinished))
			b.ReportMetric(float64(b.N*keys)/b.Elapsed().Seconds(), "points/s")
		})
	}
}

// BenchmarkWriteBatch is the writer's cost for one default-size batch of
// 1024 points of four metrics: the time the background goroutine spends per
// flush.
func BenchmarkWriteBatch(b *testing.B) {
	db := openTemp(b, Options{})
	r := startRun(b, db, RunSpec{})
	keys := []string{MetricTrainLoss, MetricLR, MetricGradNorm, MetricTokensPerS}
	step := int64(0)
	batch := make([]point, 0, 1024)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		batch = batch[:0]
		for len(batch) < cap(batch) {
			for _, k := range keys {
				batch = append(batch, point{key: k, step: step, timeMS: step, value: 1 / float64(step+1)})
			}
			step++
		}
		if err := db.writeBatch(ctx, r.ID(), batch, DefaultGoal, time.Now(), ""); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(batch))/b.Elapsed().Seconds(), "points/s")
}
