package tracker

import (
	"context"
	"strings"
	"testing"
)

// TestParamHistoryShownAndCompared: a param changed on resume is in Show's RunDetail (step, old and new
// value) and in Compare's runs, and Compare with onlyChanged keeps a param whose latest values agree when a
// run trained with another value before (the report: nothing showed that steps 1–600 used lr 0.003).
func TestParamHistoryShownAndCompared(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t, Options{})
	a := startRun(t, db, RunSpec{Name: "a"})
	must(t, a.LogParams(map[string]any{"lr": 0.003, "steps": 600, "hidden": 64}))
	must(t, a.ChangeParams(601, map[string]any{"lr": 0.001, "steps": 700}))
	must(t, a.Finish(StatusFinished))
	b := startRun(t, db, RunSpec{Name: "b"})
	must(t, b.LogParams(map[string]any{"lr": 0.001, "steps": 700, "hidden": 64}))
	must(t, b.Finish(StatusFinished))

	d, err := db.Show(ctx, a.ID())
	must(t, err)
	if len(d.ParamChanges) != 2 || d.ParamChanges[0].Key != "lr" || d.ParamChanges[0].Step != 601 ||
		d.ParamChanges[0].Old != 0.003 || d.ParamChanges[0].Value != 0.001 || d.ParamChanges[1].Key != "steps" {
		t.Errorf("Show's param changes: %+v", d.ParamChanges)
	}
	if d, err := db.Show(ctx, b.ID()); err != nil || d.ParamChanges == nil || len(d.ParamChanges) != 0 {
		t.Errorf("a run without changes: %+v, %v", d.ParamChanges, err)
	}

	c, err := db.Compare(ctx, []int64{a.ID(), b.ID()}, true)
	must(t, err)
	if len(c.ParamKeys) != 2 || c.ParamKeys[0] != "lr" || c.ParamKeys[1] != "steps" || c.HiddenParams != 1 {
		t.Errorf("only-changed params %v (%d hidden), want lr and steps: a trained with other values before step 601", c.ParamKeys, c.HiddenParams)
	}
	if ch := c.Runs[0].Changes("lr"); len(ch) != 1 || ch[0].Old != 0.003 || len(c.Runs[1].ParamChanges) != 0 {
		t.Errorf("compared runs' changes: %+v / %+v", c.Runs[0].ParamChanges, c.Runs[1].ParamChanges)
	}
}

// TestShownColumnsWarn: a table column naming a param or metric no run has gets the warning the filter's
// keys get (the report: --columns params.hiden gave a silently empty column).
func TestShownColumnsWarn(t *testing.T) {
	db := openTemp(t, Options{})
	r := startRun(t, db, RunSpec{Name: "a"})
	must(t, r.LogParams(map[string]any{"hidden": 64}))
	must(t, r.LogMetric("val_loss", 1, 2.5))
	must(t, r.Finish(StatusFinished))
	res, err := db.SearchRuns(context.Background(), ListOptions{Show: []string{"id", "params.hiden", "best.val_loss", "metrics.val_los", "tags.x", "params.*"}})
	must(t, err)
	if len(res.Warnings) != 2 || !strings.Contains(res.Warnings[0], "params.hiden: no run has this param; did you mean params.hidden?") ||
		!strings.Contains(res.Warnings[1], "metrics.val_los") {
		t.Errorf("warnings %q", res.Warnings)
	}
}
