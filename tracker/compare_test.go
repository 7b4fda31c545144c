package tracker

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestCompare(t *testing.T) {
	db := openTemp(t, Options{})
	base := time.Now()
	clock := base
	db.now = func() time.Time { return clock }

	a := startRun(t, db, RunSpec{Name: "a"})
	must(t, a.LogParams(map[string]any{"hidden": 128, "lr": 0.001, "seed": 1}))
	for step, v := range []float64{2.0, 1.6, 1.7} {
		clock = base.Add(time.Duration(step+1) * time.Minute)
		must(t, a.LogMetrics(int64(step+1)*100, map[string]float64{MetricValLoss: v, MetricTrainLoss: v + 0.1}))
	}
	must(t, a.LogSample(Sample{Step: 100, Text: "early"}))
	must(t, a.LogSample(Sample{Step: 300, Text: "late"}))
	must(t, a.Finish(StatusFinished))

	clock = base
	b := startRun(t, db, RunSpec{Name: "b", ParentID: a.ID()})
	must(t, b.LogParams(map[string]any{"hidden": 256, "lr": 0.001, "seed": 1, "finetune": true}))
	must(t, b.LogMetric(MetricValAcc, 1, 0.5))
	must(t, b.Finish(StatusFinished))

	cmp, err := db.Compare(ctx, []int64{a.ID(), b.ID(), a.ID()}, false)
	must(t, err)
	if len(cmp.Runs) != 2 || cmp.Runs[0].Name != "a" || cmp.Runs[1].Name != "b" {
		t.Fatalf("runs: %v", cmp.Runs)
	}
	if strings.Join(cmp.ParamKeys, ",") != "finetune,hidden,lr,seed" || cmp.HiddenParams != 0 {
		t.Errorf("all params: %v hidden %d", cmp.ParamKeys, cmp.HiddenParams)
	}
	if strings.Join(cmp.MetricKeys, ",") != "val_loss,val_acc,train_loss" || cmp.BestKey != MetricValLoss {
		t.Errorf("metric keys %v, best key %q", cmp.MetricKeys, cmp.BestKey)
	}
	ra, rb := cmp.Runs[0], cmp.Runs[1]
	if ra.Best == nil || ra.Best.Step != 200 || ra.Best.Value != 1.6 || ra.BestElapsed != 2*time.Minute {
		t.Errorf("best of a: %+v after %v", ra.Best, ra.BestElapsed)
	}
	if ra.Metrics[MetricValLoss].Last.Value != 1.7 {
		t.Errorf("final val_loss of a: %+v", ra.Metrics[MetricValLoss])
	}
	if ra.LatestSample == nil || ra.LatestSample.Text != "late" || rb.LatestSample != nil {
		t.Errorf("latest samples: %+v / %+v", ra.LatestSample, rb.LatestSample)
	}
	if rb.Parent == nil || rb.Parent.ID != a.ID() || rb.Parent.Name != "a" || ra.Parent != nil || rb.Best != nil {
		t.Errorf("parents: %+v / %+v", ra.Parent, rb.Parent)
	}

	changed, err := db.Compare(ctx, []int64{a.ID(), b.ID()}, true)
	must(t, err)
	if strings.Join(changed.ParamKeys, ",") != "finetune,hidden" || changed.HiddenParams != 2 || !changed.OnlyChanged {
		t.Errorf("only changed: %v hidden %d", changed.ParamKeys, changed.HiddenParams)
	}

	if _, err := db.Compare(ctx, []int64{a.ID(), 999}, false); !errors.Is(err, ErrRunNotFound) {
		t.Errorf("compare with a missing run: %v", err)
	}
	if _, err := db.Compare(ctx, nil, false); err == nil {
		t.Error("compare of nothing accepted")
	}
}

func TestMetricOrder(t *testing.T) {
	got := MetricOrder([]string{"zeta", MetricLR, "alpha", MetricTrainLoss, MetricValBPC, MetricValLoss})
	want := "val_loss,val_bpc,train_loss,lr,alpha,zeta"
	if strings.Join(got, ",") != want {
		t.Errorf("MetricOrder = %v, want %s", got, want)
	}
}
