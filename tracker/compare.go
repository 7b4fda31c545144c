package tracker

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sort"
	"time"
)

// Comparison lays runs side by side: the params matrix, final and best
// metrics, when the best validation loss was reached, the latest sample and
// the parent of each run. Renderers in package tracker/render print it.
type Comparison struct {
	Runs []ComparedRun `json:"runs"`
	// ParamKeys are the rows of the params matrix, sorted. With OnlyChanged
	// they are only the keys whose value differs between the runs (a key
	// missing from some run counts as different, and so does a key some
	// run changed after it started: see ComparedRun.ParamChanges).
	ParamKeys   []string `json:"param_keys"`
	OnlyChanged bool     `json:"only_changed"`
	// HiddenParams counts the keys left out because every run agrees.
	HiddenParams int `json:"hidden_params"`
	// MetricKeys are every metric logged by any of the runs, in
	// MetricOrder.
	MetricKeys []string `json:"metric_keys"`
	// BestKey is the metric whose best point is reported per run: val_loss,
	// or train_loss when no run has a validation loss, or empty.
	BestKey string `json:"best_key"`
}

// ComparedRun is one column of a Comparison. Params and final/best metrics
// are in RunInfo.Params and RunInfo.Metrics.
type ComparedRun struct {
	RunInfo
	// Best is the best point of Comparison.BestKey, nil if not logged.
	Best *Point `json:"best_point,omitempty"`
	// BestElapsed is the wall time from the run's start to Best.
	BestElapsed time.Duration `json:"best_elapsed_ns,omitempty"`
	// LatestSample is the run's last generated text, nil if none.
	LatestSample *Sample `json:"latest_sample,omitempty"`
	// Parent is the run this one was fine-tuned from, nil if none (or if
	// the parent was deleted).
	Parent *RunRef `json:"parent,omitempty"`
	// ParamChanges is the run's param history (DB.ParamChanges): the
	// params it changed after it started, from which step, old and new
	// values; empty if none. Params holds the latest values.
	ParamChanges []ParamChange `json:"param_changes,omitempty"`
}

// Changes returns the changes of one param of the run, in step order.
func (r ComparedRun) Changes(key string) []ParamChange {
	var out []ParamChange
	for _, c := range r.ParamChanges {
		if c.Key == key {
			out = append(out, c)
		}
	}
	return out
}

// RunRef identifies a run.
type RunRef struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// Compare builds the comparison of the given runs, in the given order
// (repeated ids are shown once). Unknown ids fail with ErrRunNotFound.
func (db *DB) Compare(ctx context.Context, runIDs []int64, onlyChanged bool) (*Comparison, error) {
	if len(runIDs) == 0 {
		return nil, errors.New("compare: no runs given")
	}
	cmp := &Comparison{OnlyChanged: onlyChanged}
	seen := map[int64]bool{}
	for _, id := range runIDs {
		if seen[id] {
			continue
		}
		seen[id] = true
		ri, err := db.GetRun(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("compare: %w", err)
		}
		cr := ComparedRun{RunInfo: ri}
		if cr.LatestSample, err = db.LatestSample(ctx, id); err != nil {
			return nil, fmt.Errorf("compare: %w", err)
		}
		if cr.ParamChanges, err = db.ParamChanges(ctx, id); err != nil {
			return nil, fmt.Errorf("compare: %w", err)
		}
		if ri.ParentID != 0 {
			if parent, err := db.GetRun(ctx, ri.ParentID); err == nil {
				cr.Parent = &RunRef{ID: parent.ID, Name: parent.Name}
			} else if !errors.Is(err, ErrRunNotFound) {
				return nil, fmt.Errorf("compare: %w", err)
			}
		}
		cmp.Runs = append(cmp.Runs, cr)
	}

	metricSet := map[string]bool{}
	paramSet := map[string]bool{}
	for _, r := range cmp.Runs {
		for k := range r.Metrics {
			metricSet[k] = true
		}
		for k := range r.Params {
			paramSet[k] = true
		}
	}
	cmp.MetricKeys = MetricOrder(slices.Sorted(maps.Keys(metricSet)))
	for _, k := range []string{MetricValLoss, MetricTrainLoss} {
		if metricSet[k] {
			cmp.BestKey = k
			break
		}
	}
	for i := range cmp.Runs {
		r := &cmp.Runs[i]
		if s, ok := r.Metrics[cmp.BestKey]; ok && s.Best != nil {
			best := *s.Best
			r.Best = &best
			r.BestElapsed = best.Time.Sub(r.Start)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(paramSet)) {
		if onlyChanged && !paramDiffers(cmp.Runs, k) {
			cmp.HiddenParams++
			continue
		}
		cmp.ParamKeys = append(cmp.ParamKeys, k)
	}
	return cmp, nil
}

// paramDiffers reports whether a param differs between the runs: its latest value, or its history (a
// run that changed it on resume trained with more than one value).
func paramDiffers(runs []ComparedRun, key string) bool {
	for _, r := range runs {
		if len(r.Changes(key)) > 0 {
			return true
		}
	}
	first, ok := runs[0].Params[key]
	for _, r := range runs[1:] {
		v, has := r.Params[key]
		if has != ok || !reflect.DeepEqual(v, first) {
			return true
		}
	}
	return false
}

// preferredMetrics come first, in this order, in tables and comparisons.
var preferredMetrics = []string{
	MetricValLoss, MetricValBPC, MetricValBPG, MetricValBPW, MetricFreeRunningBPC, MetricFreeRunningBPG, MetricFreeRunningBPW,
	MetricValColdBPC, MetricValColdBPG, MetricValColdBPW, MetricValPPL, MetricValAcc, MetricValOOVRate, MetricTrainLoss,
	MetricLR, MetricGradNorm, MetricTokensPerS,
}

// MetricOrder sorts metric keys for display: the runner's standard metrics
// first (validation, then training, then diagnostics), then the rest
// alphabetically.
func MetricOrder(keys []string) []string {
	rank := func(k string) int {
		for i, p := range preferredMetrics {
			if p == k {
				return i
			}
		}
		return len(preferredMetrics)
	}
	out := append([]string(nil), keys...)
	sort.SliceStable(out, func(i, j int) bool {
		ri, rj := rank(out[i]), rank(out[j])
		if ri != rj {
			return ri < rj
		}
		return out[i] < out[j]
	})
	return out
}
