package render

import (
	"math"
	"time"

	"github.com/lstmlab/lstmlab/tracker"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func summary(key string, last, best float64, bestStep int64) tracker.MetricSummary {
	return tracker.MetricSummary{Key: key, Goal: tracker.DefaultGoal(key), Count: 3,
		Last: tracker.Point{Step: 300, Time: t0.Add(3 * time.Minute), Value: last},
		Best: &tracker.Point{Step: bestStep, Time: t0.Add(2 * time.Minute), Value: best}}
}

// fixtureRuns are three runs that differ in hidden and share lr; the second
// has a hostile name and a NaN metric, the third a CJK and emoji name and
// tag and infinite values.
func fixtureRuns() []tracker.RunInfo {
	return []tracker.RunInfo{
		{
			ID: 1, Name: "small", Experiment: "sweep", Status: tracker.StatusFinished,
			Start: t0, End: t0.Add(3*time.Minute + 12*time.Second), Heartbeat: t0.Add(3 * time.Minute),
			Active:  3*time.Minute + 12*time.Second,
			Backend: "go", Tags: map[string]string{"team": "a"},
			Params: map[string]any{"hidden": int64(128), "lr": 0.001, "optimizer": "adam"},
			Metrics: map[string]tracker.MetricSummary{
				tracker.MetricValLoss:   summary(tracker.MetricValLoss, 1.7, 1.6123456, 200),
				tracker.MetricValBPC:    summary(tracker.MetricValBPC, 2.45, 2.326, 200),
				tracker.MetricTrainLoss: summary(tracker.MetricTrainLoss, 1.5, 1.5, 300),
			},
		},
		{
			ID: 2, Name: "<script>alert('x')</script> | big", Experiment: "sweep", Status: tracker.StatusInterrupted,
			Start: t0, Heartbeat: t0.Add(90 * time.Second), ParentID: 1, Note: "line one\nline two",
			Active: 80 * time.Second,
			Tags:   map[string]string{},
			Params: map[string]any{"hidden": int64(256), "lr": 0.001, "optimizer": "adam", "tied": true},
			Metrics: map[string]tracker.MetricSummary{
				tracker.MetricValLoss:  summary(tracker.MetricValLoss, 1.4, 1.3, 100),
				tracker.MetricGradNorm: {Key: tracker.MetricGradNorm, Goal: tracker.Minimize, Count: 1, Last: tracker.Point{Step: 5, Value: math.NaN()}},
			},
		},
		{
			ID: 3, Name: "小さな模型🐳", Experiment: "sweep", Status: tracker.StatusFinished,
			Start: t0.Add(time.Hour), End: t0.Add(3 * time.Hour), Heartbeat: t0.Add(3 * time.Hour),
			Active: 42 * time.Minute,
			Tags:   map[string]string{"言語": "日本語", "team": "b"},
			Params: map[string]any{"hidden": int64(512), "lr": 0.001, "optimizer": "adam"},
			Metrics: map[string]tracker.MetricSummary{
				tracker.MetricValLoss:   summary(tracker.MetricValLoss, math.Inf(1), 1.5, 100),
				tracker.MetricValBPC:    {Key: tracker.MetricValBPC, Goal: tracker.Minimize, Count: 1, Last: tracker.Point{Step: 300, Time: t0, Value: math.NaN()}},
				tracker.MetricTrainLoss: summary(tracker.MetricTrainLoss, math.Inf(-1), 1.25, 100),
			},
		},
	}
}

func fixtureComparison(onlyChanged bool) *tracker.Comparison {
	runs := fixtureRuns()
	c := &tracker.Comparison{OnlyChanged: onlyChanged, MetricKeys: []string{"val_loss", "val_bpc", "train_loss", "grad_norm"}, BestKey: "val_loss"}
	for _, r := range runs {
		cr := tracker.ComparedRun{RunInfo: r}
		best := *r.Metrics["val_loss"].Best
		cr.Best, cr.BestElapsed = &best, best.Time.Sub(r.Start)
		c.Runs = append(c.Runs, cr)
	}
	c.Runs[0].LatestSample = &tracker.Sample{RunID: 1, Step: 300, Prompt: "Call me", Text: " Ishmael.\nSome years ago", Temperature: 0.8, TopK: 40, TopP: 0.95, Seed: 7}
	c.Runs[1].LatestSample = &tracker.Sample{RunID: 2, Step: 100, Text: "</td><script>evil()</script>", Temperature: 1}
	c.Runs[1].Parent = &tracker.RunRef{ID: 1, Name: "small"}
	c.Runs[0].ParamChanges = fixtureChanges()
	if onlyChanged {
		c.ParamKeys, c.HiddenParams = []string{"hidden", "tied"}, 2
	} else {
		c.ParamKeys = []string{"hidden", "lr", "optimizer", "tied"}
	}
	return c
}
