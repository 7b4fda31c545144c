package render

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"io"
	"strings"
	"testing"

	"github.com/lstmlab/lstmlab/tracker"
)

func render(t *testing.T, f Format, fn func(io.Writer, Format) error) string {
	t.Helper()
	var buf bytes.Buffer
	if err := fn(&buf, f); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func runsAs(t *testing.T, runs []tracker.RunInfo, f Format) string {
	return render(t, f, func(w io.Writer, f Format) error { return Runs(w, runs, f) })
}

func TestRunsTable(t *testing.T) {
	out := runsAs(t, fixtureRuns(), Table)
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("want header, rule and 2 rows:\n%s", out)
	}
	header := strings.Fields(lines[0])
	// lr and optimizer are equal in both runs, so only hidden and tied show.
	want := []string{"id", "name", "experiment", "status", "started", "duration", "hidden", "tied", "val_loss", "train_loss", "grad_norm", "best", "val_loss"}
	if strings.Join(header, " ") != strings.Join(want, " ") {
		t.Errorf("header %v, want %v", header, want)
	}
	for _, wantCell := range []string{"small", "finished", "3m12s", "128", "1.7", "1.612", "interrupted", "1m30s", "256", "true", "NaN", "1.3"} {
		if !strings.Contains(out, wantCell) {
			t.Errorf("table lacks %q:\n%s", wantCell, out)
		}
	}
	// Columns line up: every row starts its status at the same column.
	at := strings.Index(lines[0], "status")
	if strings.Index(lines[2], "finished") != at || strings.Index(lines[3], "interrupted") != at {
		t.Errorf("columns not aligned:\n%s", out)
	}
	if got := runsAs(t, nil, Table); got != "no runs\n" {
		t.Errorf("empty table: %q", got)
	}
}

// TestRunsTableNamesMetricLikeParam checks that a metric sharing its key with a shown hyperparameter (lr:
// the configured peak and the logged schedule value) gets a distinct column header.
func TestRunsTableNamesMetricLikeParam(t *testing.T) {
	runs := fixtureRuns()[:1]
	runs[0].Metrics[tracker.MetricLR] = summary(tracker.MetricLR, 1e-4, 1e-4, 300)
	header := strings.Fields(strings.SplitN(runsAs(t, runs, Table), "\n", 2)[0])
	lr, metricsLR := 0, 0
	for _, h := range header {
		switch h {
		case "lr":
			lr++
		case "metrics.lr":
			metricsLR++
		}
	}
	if lr != 1 || metricsLR != 1 {
		t.Errorf("header %v: want one lr (hyperparameter) and one metrics.lr column", header)
	}
}

func TestRunsTableSingleRunShowsAllParams(t *testing.T) {
	out := runsAs(t, fixtureRuns()[:1], Table)
	for _, p := range []string{"hidden", "lr", "optimizer", "0.001", "adam"} {
		if !strings.Contains(out, p) {
			t.Errorf("single-run table lacks %q:\n%s", p, out)
		}
	}
}

func TestRunsCSV(t *testing.T) {
	out := runsAs(t, fixtureRuns(), CSV)
	records, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("invalid CSV: %v\n%s", err, out)
	}
	if len(records) != 3 {
		t.Fatalf("%d records, want 3", len(records))
	}
	col := map[string]int{}
	for i, h := range records[0] {
		col[h] = i
	}
	for _, h := range []string{"id", "name", "note", "params.hidden", "params.lr", "params.tied", "metrics.val_loss", "best.val_loss", "metrics.grad_norm", "tags.team", "parent_id"} {
		if _, ok := col[h]; !ok {
			t.Errorf("CSV lacks column %s: %v", h, records[0])
		}
	}
	r1, r2 := records[1], records[2]
	if r1[col["best.val_loss"]] != "1.6123456" || r1[col["tags.team"]] != "a" || r2[col["params.tied"]] != "true" || r1[col["params.tied"]] != "" {
		t.Errorf("CSV values: %v / %v", r1, r2)
	}
	if r2[col["name"]] != "<script>alert('x')</script> | big" || r2[col["note"]] != "line one\nline two" || r2[col["parent_id"]] != "1" {
		t.Errorf("CSV did not keep text exactly: %q %q", r2[col["name"]], r2[col["note"]])
	}
}

func TestRunsJSON(t *testing.T) {
	out := runsAs(t, fixtureRuns(), JSON)
	var got []map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("invalid JSON: %v\n%s", err, out)
	}
	if len(got) != 2 || got[0]["name"] != "small" || got[1]["status"] != "interrupted" {
		t.Errorf("JSON: %v", got)
	}
	gn := got[1]["metrics"].(map[string]any)["grad_norm"].(map[string]any)["last"].(map[string]any)
	if v, ok := gn["value"]; !ok || v != nil {
		t.Errorf("NaN should be null: %v", gn)
	}
	if empty := runsAs(t, nil, JSON); strings.TrimSpace(empty) != "[]" {
		t.Errorf("empty list as JSON: %q", empty)
	}
}

// checkWellFormed parses an HTML fragment as XML: html/template output is
// well-formed, so this catches unbalanced tags and stray < or &.
func checkWellFormed(t *testing.T, out string) {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(out))
	depth := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("HTML is not well-formed: %v\n%s", err, out)
		}
		switch tok.(type) {
		case xml.StartElement:
			depth++
		case xml.EndElement:
			depth--
		}
	}
	if depth != 0 {
		t.Errorf("unbalanced HTML (depth %d)", depth)
	}
}

func checkSelfContainedHTML(t *testing.T, out string) {
	t.Helper()
	checkWellFormed(t, out)
	lower := strings.ToLower(out)
	for _, bad := range []string{"<script", "http:", "https:", "<link", "src=", "@import", "url("} {
		if strings.Contains(lower, bad) {
			t.Errorf("HTML contains %q:\n%s", bad, out)
		}
	}
}

func TestRunsHTML(t *testing.T) {
	out := runsAs(t, fixtureRuns(), HTML)
	checkSelfContainedHTML(t, out)
	if !strings.Contains(out, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; | big") {
		t.Errorf("run name not escaped:\n%s", out)
	}
	if strings.Count(out, "<tr>") != 3 || !strings.HasPrefix(out, `<div class="lstmlab">`) {
		t.Errorf("want a header row and 2 rows in a .lstmlab div:\n%s", out)
	}
	if empty := runsAs(t, nil, HTML); !strings.Contains(empty, "<p>no runs</p>") {
		t.Errorf("empty HTML: %s", empty)
	}
}

func TestRunsMarkdown(t *testing.T) {
	out := runsAs(t, fixtureRuns(), Markdown)
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("want header, rule and 2 rows:\n%s", out)
	}
	// Every row has the same number of cell separators (escaped \| inside
	// the hostile name does not count).
	cells := func(line string) int { return strings.Count(line, "|") - strings.Count(line, `\|`) }
	for _, l := range lines[1:] {
		if cells(l) != cells(lines[0]) {
			t.Errorf("row %q has %d separators, header %d", l, cells(l), cells(lines[0]))
		}
	}
	if !strings.Contains(out, `\<script\>alert('x')\</script\> \| big`) {
		t.Errorf("hostile name not escaped:\n%s", out)
	}
}
