package tracker

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/lstmlab/lstmlab/tracker/filter"
)

// listFixture holds four runs with different params, metrics, tags and
// statuses; "live" stays running.
func listFixture(t *testing.T) (*DB, map[string]int64) {
	t.Helper()
	db := openTemp(t, Options{})
	ids := map[string]int64{}
	add := func(name, exp string, parent int64, params map[string]any, vals map[string][]float64, tags map[string]string, status Status) {
		r := startRun(t, db, RunSpec{Name: name, Experiment: exp, ParentID: parent, Tags: tags})
		ids[name] = r.ID()
		must(t, r.LogParams(params))
		for key, vs := range vals {
			for i, v := range vs {
				must(t, r.LogMetric(key, int64(i), v))
			}
		}
		if status != StatusRunning {
			must(t, r.Finish(status))
		}
	}
	add("small", "sweep", 0, map[string]any{"hidden": 128, "lr": 0.01, "optimizer": "adam", "dropout": false},
		map[string][]float64{MetricValLoss: {1.9, 2.0}, MetricValBPC: {2.5}}, map[string]string{"team": "a"}, StatusFinished)
	add("big", "sweep", 0, map[string]any{"hidden": 256, "lr": 0.001, "optimizer": "sgd", "dropout": true},
		map[string][]float64{MetricValLoss: {1.4, 1.5}, MetricValBPC: {2.0}}, map[string]string{"team": "b"}, StatusFinished)
	add("huge", "scale", ids["big"], map[string]any{"hidden": 512, "lr": 0.001, "optimizer": "Adam"},
		map[string][]float64{MetricValLoss: {1.2}, MetricValBPC: {1.8}}, nil, StatusFailed)
	add("live", "scale", 0, map[string]any{"hidden": 256}, nil, nil, StatusRunning)
	return db, ids
}

func names(runs []RunInfo) []string {
	out := make([]string, len(runs))
	for i, r := range runs {
		out[i] = r.Name
	}
	return out
}

func TestListRunsFilters(t *testing.T) {
	db, ids := listFixture(t)
	cases := map[string]string{
		"": "big huge live small",
		"params.hidden >= 256 and metrics.val_bpc < 2.1 and status = finished": "big",
		"params.hidden >= 256":                 "big huge live",
		"params.hidden = '256'":                "big live",
		"params.hidden != 256":                 "huge small",
		"params.optimizer = 'adam'":            "small",
		"params.optimizer = adam":              "small",
		"params.optimizer ilike 'ADAM'":        "huge small",
		"params.optimizer like 'A%'":           "huge",
		"params.optimizer not like 'a%'":       "big huge",
		"params.optimizer in ('sgd', 'Adam')":  "big huge",
		"params.hidden not in (128, 512)":      "big live",
		"params.dropout = true":                "big",
		"params.dropout = 'false'":             "small",
		"params.lr = 1e-3":                     "big huge",
		"params.lr < 0.005":                    "big huge",
		"params.nonexistent = 1":               "",
		"params.hidden is null":                "",
		"params.dropout is null":               "huge live",
		"tags.team = 'b'":                      "big",
		"tags.team != 'b'":                     "small",
		"tags.team is null":                    "huge live",
		"tags.team in (a, b)":                  "big small",
		"metrics.val_loss is not null":         "big huge small",
		"metrics.val_loss <= 1.5":              "big huge",
		"best.val_loss < 1.45":                 "big huge",
		"metrics.val_loss in (2, 1.2)":         "huge small",
		"experiment = sweep":                   "big small",
		"status in (failed, running)":          "huge live",
		"not status = finished":                "huge live",
		"status != finished":                   "huge live",
		"name like '%i%'":                      "big live",
		"name like 'BIG'":                      "",
		"name ilike 'BIG'":                     "big",
		"name like 'b_g'":                      "big",
		"parent is not null":                   "huge",
		fmt.Sprintf("parent = %d", ids["big"]): "huge",
		fmt.Sprintf("id = %d or id = %d", ids["small"], ids["live"]): "live small",
		"start > '2000-01-01'": "big huge live small",
		"start < 946684800":    "",
		"end is null":          "live",
		"duration >= 0":        "big huge live small",
		"(experiment = scale or tags.team = 'a') and params.hidden < 600 and metrics.val_loss is not null": "huge small",
	}
	for expr, want := range cases {
		runs, err := db.ListRuns(ctx, ListOptions{Filter: expr})
		if err != nil {
			t.Errorf("ListRuns(%q): %v", expr, err)
			continue
		}
		got := names(runs)
		sort.Strings(got)
		if strings.Join(got, " ") != want {
			t.Errorf("ListRuns(%q) = %v, want [%s]", expr, got, want)
		}
	}
}

func TestListRunsOrder(t *testing.T) {
	db, _ := listFixture(t)
	cases := []struct {
		opts ListOptions
		want string
	}{
		{ListOptions{}, "live huge big small"}, // newest first
		{ListOptions{OrderBy: "metrics.val_loss"}, "huge big small live"},
		{ListOptions{OrderBy: "metrics.val_loss desc"}, "small big huge live"},
		{ListOptions{OrderBy: "best.val_loss"}, "huge big small live"},
		{ListOptions{Filter: "order by params.hidden desc, name"}, "huge big live small"},
		{ListOptions{Filter: "params.hidden > 100 order by name desc", Limit: 2}, "small live"},
		{ListOptions{OrderBy: "tags.team desc"}, "big small live huge"},
	}
	for _, c := range cases {
		runs, err := db.ListRuns(ctx, c.opts)
		if err != nil {
			t.Errorf("ListRuns(%+v): %v", c.opts, err)
			continue
		}
		if got := strings.Join(names(runs), " "); got != c.want {
			t.Errorf("ListRuns(%+v) = %s, want %s", c.opts, got, c.want)
		}
	}
}

func TestListRunsCarriesSummaries(t *testing.T) {
	db, _ := listFixture(t)
	runs, err := db.ListRuns(ctx, ListOptions{Filter: "name = big"})
	must(t, err)
	if len(runs) != 1 {
		t.Fatalf("%d runs", len(runs))
	}
	r := runs[0]
	if s := r.Metrics[MetricValLoss]; s.Last.Value != 1.5 || s.Best.Value != 1.4 || r.Params["optimizer"] != "sgd" || r.Tags["team"] != "b" {
		t.Errorf("run: %+v", r)
	}
}

func TestListRunsErrors(t *testing.T) {
	db, _ := listFixture(t)
	cases := []struct {
		opts   ListOptions
		column int
		msg    string
	}{
		{ListOptions{Filter: "status = finsihed"}, 10, "unknown status"},
		{ListOptions{Filter: "metrics.val_loss < 'low'"}, 20, "compare it with a number"},
		{ListOptions{Filter: "best.val_loss like '1%'"}, 20, "compare it with a number"},
		{ListOptions{Filter: "metrics.val_loss in (1, x)"}, 25, "compare it with numbers"},
		{ListOptions{Filter: "start > 'yesterday'"}, 9, "is a time"},
		{ListOptions{Filter: "id = 'x'"}, 6, "is a number"},
		{ListOptions{Filter: "params.hidden >> 3"}, 16, "expected a value"},
		{ListOptions{OrderBy: "metrics.val_loss up"}, 18, `expected "," or end`},
	}
	for _, c := range cases {
		_, err := db.ListRuns(ctx, c.opts)
		var fe *filter.Error
		if !errors.As(err, &fe) {
			t.Errorf("ListRuns(%+v): %v; want a *filter.Error", c.opts, err)
			continue
		}
		if fe.Column != c.column || !strings.Contains(fe.Msg, c.msg) {
			t.Errorf("ListRuns(%+v): column %d %q; want column %d and %q", c.opts, fe.Column, fe.Msg, c.column, c.msg)
		}
	}
	if _, err := db.ListRuns(ctx, ListOptions{Filter: "order by name", OrderBy: "id"}); err == nil {
		t.Error("order given twice accepted")
	}
	if _, err := db.ListRuns(ctx, ListOptions{Limit: -1}); err == nil {
		t.Error("negative limit accepted")
	}
}

// TestFilterInjectionIsInert feeds filters written to break out of their
// SQL; each must either match nothing or be rejected, the user text must
// never appear in the SQL, and the database must be intact afterwards.
func TestFilterInjectionIsInert(t *testing.T) {
	db, _ := listFixture(t)
	attacks := []string{
		"name = 'x'' OR ''1''=''1'",
		"name = 'big''; DROP TABLE runs; --'",
		`name = "big"" OR 1=1 --"`,
		"params.`hidden' OR 1=1 --` = 1",
		"tags.`team) OR (1=1` = 'a'",
		"tags.team = 'a'' OR 1=1 --'",
		"name like '%'' OR 1=1 --'",
		"status in ('finished'') OR 1=1 --')",
		"order by `name; DROP TABLE runs`",
		"metrics.`val_loss) OR 1=1 OR (1` < 10",
	}
	for _, expr := range attacks {
		sql, _, err := db.compileList(ListOptions{Filter: expr})
		if err == nil {
			for _, bad := range []string{"DROP", "1=1", "--"} {
				if strings.Contains(sql, bad) {
					t.Errorf("filter %q put %q into the SQL: %s", expr, bad, sql)
				}
			}
		}
		runs, err := db.ListRuns(ctx, ListOptions{Filter: expr})
		if err == nil && len(runs) != 0 {
			t.Errorf("filter %q matched %v", expr, names(runs))
		}
	}
	rejected := []string{
		"name = 'big' ; DROP TABLE runs",
		"params.hidden = 1 UNION SELECT * FROM runs",
		"name = big) OR (1 = 1",
		"1 = 1",
		"name = big -- comment",
	}
	for _, expr := range rejected {
		var fe *filter.Error
		if _, err := db.ListRuns(ctx, ListOptions{Filter: expr}); !errors.As(err, &fe) {
			t.Errorf("filter %q: %v; want a syntax error", expr, err)
		}
	}
	if n := count(t, db, `SELECT count(*) FROM runs`); n != 4 {
		t.Errorf("%d runs left, want 4", n)
	}
	must(t, db.IntegrityCheck(ctx))
}
