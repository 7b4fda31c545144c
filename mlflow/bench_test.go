package mlflow_test

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/lstmlab/lstmlab/mlflow"
	"github.com/lstmlab/lstmlab/mlflow/mlflowtest"
	"github.com/lstmlab/lstmlab/tracker"
)

// processCPU is the processor time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSyncRun measures what mirroring costs per metric point: each iteration copies a finished run
// of 3,000 steps × 5 metrics (15,000 points, the size of a tiny-preset run) to a real FastTrackML
// server. It reports the processor time per point of the mirror (this process: reading the tracker,
// encoding, HTTP) and of the server, and points per second.
//
//	go test ./mlflow/ -run '^$' -bench SyncRun -benchtime 5x
func BenchmarkSyncRun(b *testing.B) {
	const steps, keys = 3000, 5
	srv := mlflowtest.Start(b, mlflowtest.Options{})
	db, err := tracker.Open(b.TempDir() + "/bench.db")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	c, err := mlflow.NewClient(srv.URL, mlflow.ClientOptions{})
	if err != nil {
		b.Fatal(err)
	}
	m := mlflow.NewMirror(db, c, mlflow.MirrorOptions{SkipArtifacts: true})
	ctx := context.Background()
	var clientCPU, serverCPU, wall time.Duration
	points := 0
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		run, err := db.StartRun(ctx, tracker.RunSpec{Name: fmt.Sprint("bench-", i)})
		if err != nil {
			b.Fatal(err)
		}
		for s := range steps {
			v := float64(s)
			if err := run.LogMetrics(int64(s), map[string]float64{"train_loss": v, "train_acc": v, "lr": v, "grad_norm": v, "tokens_per_s": v}); err != nil {
				b.Fatal(err)
			}
		}
		if err := run.Finish(tracker.StatusFinished); err != nil {
			b.Fatal(err)
		}
		c0, s0, w0 := processCPU(), srv.CPUTime(), time.Now()
		b.StartTimer()
		res, err := m.SyncRun(ctx, run.ID())
		b.StopTimer()
		wall += time.Since(w0)
		clientCPU += processCPU() - c0
		serverCPU += srv.CPUTime() - s0
		if err != nil || res.Metrics != steps*keys {
			b.Fatalf("sync: %+v, %v", res, err)
		}
		points += res.Metrics
	}
	b.ReportMetric(float64(clientCPU.Microseconds())/float64(points), "mirror-cpu-µs/point")
	b.ReportMetric(float64(serverCPU.Microseconds())/float64(points), "server-cpu-µs/point")
	b.ReportMetric(float64(points)/wall.Seconds(), "points/s")
}
