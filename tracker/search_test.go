package tracker

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/lstmlab/lstmlab/tracker/filter"
)

// The tests here check each point of MLflow's search semantics against a
// real SQLite file: Unicode ilike, like escapes, quoted keys, run_id,
// times in milliseconds without overflow, unknown-key warnings and the
// size limits.

// searchFixture makes runs whose names and keys exercise the search.
func searchFixture(t *testing.T) (*DB, map[string]int64) {
	t.Helper()
	db := openTemp(t, Options{})
	ids := map[string]int64{}
	for _, name := range []string{"État-Ω", "etat-plain", "STRASSE", "50%-off", "50x-off", "a_b", "axb", `back\slash`} {
		r := startRun(t, db, RunSpec{Name: name, Tags: map[string]string{"group": "g-" + name}})
		ids[name] = r.ID()
		must(t, r.LogParams(map[string]any{"hidden": 64, "learning-rate": 0.01}))
		must(t, r.LogMetric("cross-entropy-loss", 1, float64(len(name))/10))
		must(t, r.LogMetric(MetricValLoss, 1, 2))
		must(t, r.Finish(StatusFinished))
	}
	return db, ids
}

func search(t *testing.T, db *DB, f string) ([]string, []string) {
	t.Helper()
	res, err := db.SearchRuns(ctx, ListOptions{Filter: f})
	if err != nil {
		t.Fatalf("filter %q: %v", f, err)
	}
	got := names(res.Runs)
	sort.Strings(got)
	return got, res.Warnings
}

func expect(t *testing.T, db *DB, f string, want ...string) {
	t.Helper()
	got, _ := search(t, db, f)
	sort.Strings(want)
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("filter %q matched %q, want %q", f, got, want)
	}
}

func TestSearchILikeFoldsUnicode(t *testing.T) {
	db, _ := searchFixture(t)
	expect(t, db, "name ilike 'état%'", "État-Ω")
	expect(t, db, "name ilike 'ÉTAT-ω'", "État-Ω")
	expect(t, db, "name ilike 'e\u0301tat%'", "État-Ω") // decomposed é
	expect(t, db, "name ilike 'straße'", "STRASSE")     // full case folding: ß is ss
	expect(t, db, "name like 'état%'")                  // like is case-sensitive
	expect(t, db, "name like 'État%'", "État-Ω")
	expect(t, db, "tags.group ilike 'G-ÉTAT%'", "État-Ω")
	expect(t, db, "name not ilike '%TAT%'", "STRASSE", "50%-off", "50x-off", "a_b", "axb", `back\slash`)
}

func TestSearchLikeEscapes(t *testing.T) {
	db, _ := searchFixture(t)
	expect(t, db, `name like '50\%%'`, "50%-off")
	expect(t, db, `name like '50%'`, "50%-off", "50x-off")
	expect(t, db, `name like 'a\_b'`, "a_b")
	expect(t, db, `name like 'a_b'`, "a_b", "axb")
	expect(t, db, `name like 'back\\slash'`, `back\slash`)
	expect(t, db, `name ilike 'BACK\\%'`, `back\slash`)
	// = compares the text as written, escapes resolved.
	expect(t, db, `name = 'back\\slash'`, `back\slash`)
	// The canonical form keeps the escapes, so it searches the same.
	q, err := filter.Parse(`name like '50\%%' and name != 'a\\b'`)
	must(t, err)
	expect(t, db, q.String(), "50%-off")
}

func TestSearchQuotedKeys(t *testing.T) {
	db, _ := searchFixture(t)
	expect(t, db, `metrics."cross-entropy-loss" < 0.5`, "a_b", "axb")
	expect(t, db, "metrics.`cross-entropy-loss` < 0.5", "a_b", "axb")
	expect(t, db, `params."learning-rate" = 0.01 and metrics."cross-entropy-loss" < 0.5`, "a_b", "axb")
	_, err := db.ListRuns(ctx, ListOptions{Filter: "metrics.cross-entropy-loss < 0.5"})
	var fe *filter.Error
	if !errors.As(err, &fe) || !strings.Contains(fe.Msg, `metrics."cross-entropy-loss"`) || fe.Column != 1 {
		t.Errorf("unquoted dash: %v; want a hint to quote the key", err)
	}
	if _, err := db.ListRuns(ctx, ListOptions{OrderBy: `metrics."cross-entropy-loss" desc`}); err != nil {
		t.Errorf("order by a quoted key: %v", err)
	}
}

func TestSearchRunID(t *testing.T) {
	db, ids := searchFixture(t)
	a, b := fmt.Sprint(ids["a_b"]), fmt.Sprint(ids["axb"])
	expect(t, db, "attributes.run_id = '"+a+"'", "a_b")
	expect(t, db, "run_id = "+a, "a_b")
	expect(t, db, "attributes.run_id in ('"+a+"', '"+b+"')", "a_b", "axb")
	expect(t, db, "attributes.run_id = 'no-such-run'")
	expect(t, db, "run.run_id != '"+a+"' and name like 'a%'", "axb")
	if _, err := db.ListRuns(ctx, ListOptions{Filter: "run_id > 3"}); err == nil || !strings.Contains(err.Error(), "use id") {
		t.Errorf("run_id > 3: %v; want an error pointing to id", err)
	}
	expect(t, db, "id = "+a, "a_b")
	expect(t, db, "status = 'FINISHED' and attributes.status != 'KILLED' and name = 'axb'", "axb")
}

func TestSearchTimesInMilliseconds(t *testing.T) {
	db := openTemp(t, Options{})
	clock := &fakeClock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	db.now = clock.now
	old := startRun(t, db, RunSpec{Name: "old"})
	clock.advance(time.Minute)
	must(t, old.Finish(StatusFinished))
	clock.advance(time.Hour)
	startRun(t, db, RunSpec{Name: "new"}) // still running: no end time
	cut := clock.t.Add(-30 * time.Minute).UnixMilli()
	expect(t, db, fmt.Sprintf("attributes.start_time > %d", cut), "new")
	expect(t, db, fmt.Sprintf("start_time < %d", cut), "old")
	expect(t, db, fmt.Sprintf("end_time <= %d", cut), "old")
	expect(t, db, fmt.Sprintf("created >= %d", clock.t.UnixMilli()), "new")
	// Huge numbers compare, they do not overflow.
	expect(t, db, "start > 1e300")
	expect(t, db, "start < 1e300", "new", "old")
	expect(t, db, "end < 1e17", "old")
	expect(t, db, "end > -1e300", "old")
	expect(t, db, "start > 99999999999999999999999")
	expect(t, db, "start_time > 1.5", "new", "old")
	expect(t, db, "end_time is null", "new")
	expect(t, db, "start > '2025-03-01 12:30'", "new")
}

func TestSearchWarnsAboutUnknownKeys(t *testing.T) {
	db, _ := searchFixture(t)
	got, warnings := search(t, db, "metrics.val_los < 3 and params.hiden = 64")
	if len(got) != 0 {
		t.Errorf("matched %v", got)
	}
	joined := strings.Join(warnings, "\n")
	for _, want := range []string{"metrics.val_los: no run has this metric; did you mean metrics.val_loss?",
		"params.hiden: no run has this param; did you mean params.hidden?"} {
		if !strings.Contains(joined, want) {
			t.Errorf("warnings %q lack %q", warnings, want)
		}
	}
	// Known keys, quoted keys and tags give no warning; a sort key does.
	if _, w := search(t, db, `metrics."cross-entropy-loss" < 9 and best.val_loss < 9 and tags.nothing is null`); len(w) != 0 {
		t.Errorf("known keys warned: %q", w)
	}
	res, err := db.SearchRuns(ctx, ListOptions{OrderBy: "best.VAL_LOSS desc"})
	must(t, err)
	if len(res.Runs) != 8 || len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "did you mean best.val_loss?") {
		t.Errorf("sort by best.VAL_LOSS: %d runs, warnings %q", len(res.Runs), res.Warnings)
	}
	if _, w := search(t, db, "metrics.zzzzzzzz > 1"); len(w) != 1 || !strings.Contains(w[0], "known metrics") {
		t.Errorf("far-off key: %q", w)
	}
}

func TestSearchSizeLimits(t *testing.T) {
	db, _ := searchFixture(t)
	many := make([]string, filter.MaxTerms+1)
	for i := range many {
		many[i] = fmt.Sprintf("id = %d", i)
	}
	deep := strings.Repeat("(", filter.MaxDepth+1) + "name = 'x'" + strings.Repeat(")", filter.MaxDepth+1)
	cases := map[string]string{
		strings.Join(many, " or "): "filter too large",
		deep:                       "too deeply nested",
		"name = '" + strings.Repeat("x", filter.MaxLength) + "'":        "filter too long",
		"not " + strings.Repeat("not ", filter.MaxDepth) + "name = 'x'": "too deeply nested",
	}
	for f, want := range cases {
		_, err := db.ListRuns(ctx, ListOptions{Filter: f})
		var fe *filter.Error
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), want) {
			t.Errorf("filter of %d bytes: %v; want a filter error saying %q", len(f), err, want)
		}
	}
	// Just under the limits works: no raw SQLite error.
	values := make([]string, filter.MaxTerms-1)
	for i := range values {
		values[i] = fmt.Sprint(i)
	}
	expect(t, db, "params.hidden in ("+strings.Join(values, ",")+")", "État-Ω", "etat-plain", "STRASSE", "50%-off", "50x-off", "a_b", "axb", `back\slash`)
	expect(t, db, strings.Repeat("(", filter.MaxDepth-1)+"name = 'axb'"+strings.Repeat(")", filter.MaxDepth-1), "axb")
}
