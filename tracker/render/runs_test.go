package render

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"fmt"
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

// TestRunsGolden pins the table, CSV, JSON and Markdown forms of the runs
// list (CJK and emoji names, NaN and infinite values) to golden files.
func TestRunsGolden(t *testing.T) {
	for f, name := range map[Format]string{Table: "runs.txt", CSV: "runs.csv", JSON: "runs.json", Markdown: "runs.md", HTML: "runs.html"} {
		golden(t, name, []byte(runsAs(t, fixtureRuns(), f)))
	}
	var buf bytes.Buffer
	opts := RunsOptions{Columns: []string{"name", "experiment", "duration", "active", "params.*", "metrics.*", "tags.言語", "note"}}
	if err := RunsWith(&buf, fixtureRuns(), Table, opts); err != nil {
		t.Fatal(err)
	}
	golden(t, "runs-columns.txt", buf.Bytes())
}

// columnStarts returns the display column (in cells) where each
// two-space-separated cell of a table line starts.
func columnStarts(line string) []int {
	var starts []int
	cells := 0
	inCell := false
	spaces := 0
	for _, r := range line {
		if r == ' ' {
			spaces++
			if spaces >= 2 {
				inCell = false
			}
		} else {
			if !inCell && (spaces >= 2 || len(starts) == 0) {
				starts = append(starts, cells)
			}
			inCell = true
			spaces = 0
		}
		cells += Width(string(r))
	}
	return starts
}

func TestRunsTable(t *testing.T) {
	out := runsAs(t, fixtureRuns(), Table)
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 5 {
		t.Fatalf("want header, rule and 3 rows:\n%s", out)
	}
	header := strings.Fields(lines[0])
	// lr and optimizer are equal in every run, so only hidden and tied show;
	// best val_bpc is the bits column, taken from the data.
	want := []string{"id", "name", "status", "start", "active", "hidden", "tied", "best.val_loss", "best.val_bpc", "tags"}
	if strings.Join(header, " ") != strings.Join(want, " ") {
		t.Errorf("header %v, want %v", header, want)
	}
	for _, wantCell := range []string{"small", "finished", "3m12s", "1m20s", "42m00s", "128", "1.612", "2.326", "interrupted", "256", "true", "1.3", "team=a", "小さな模型🐳", "team=b, 言…", "<script>alert('x')<…"} {
		if !strings.Contains(out, wantCell) {
			t.Errorf("table lacks %q:\n%s", wantCell, out)
		}
	}
	// Columns line up by display width: the status column starts at the
	// same cell on every line although the CJK name is 2 cells a character.
	at := columnStarts(lines[0])[2]
	for _, l := range lines[2:] {
		if got := columnStarts(l)[2]; got != at {
			t.Errorf("status starts at cell %d, header at %d:\n%s", got, at, out)
		}
	}
	for _, l := range lines {
		if Width(l) > 120 {
			t.Errorf("line of %d cells, want at most 120: %q", Width(l), l)
		}
	}
	if got := runsAs(t, nil, Table); got != "no runs\n" {
		t.Errorf("empty table: %q", got)
	}
}

// TestRunsTableFitsWidth: with many differing params the default table
// still fits its width, leaving out params and saying which.
func TestRunsTableFitsWidth(t *testing.T) {
	runs := fixtureRuns()
	for i := range runs {
		for k := range 12 {
			runs[i].Params[fmt.Sprintf("knob_%02d", k)] = int64(i*100 + k)
		}
		runs[i].Tags["a_long_tag_name"] = strings.Repeat("value ", 10)
	}
	for _, width := range []int{100, 120} {
		var buf bytes.Buffer
		hint := fmt.Sprintf("choose with option %d", width)
		if err := RunsWith(&buf, runs, Table, RunsOptions{Width: width, ColumnsHint: hint}); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
		for _, l := range lines { // the note under the table too: it wraps at the width
			if Width(l) > width {
				t.Errorf("width %d: line of %d cells: %q", width, Width(l), l)
			}
		}
		if note := strings.Join(lines[2+len(runs):], " "); !strings.HasPrefix(note, "(") || !strings.Contains(note, "more params not shown") ||
			!strings.Contains(note, "knob_11") || !strings.HasSuffix(note, "; "+hint+")") || strings.Contains(note, "--") {
			t.Errorf("width %d: no note about the params left out:\n%s", width, out)
		}
		if width == 120 && !strings.Contains(out, "<script>alert('x')<…") {
			t.Errorf("width %d: the name was cut to less than 20 cells while params could go:\n%s", width, out)
		}
		if !strings.Contains(lines[0], "best.val_loss") || !strings.Contains(lines[0], "tags") {
			t.Errorf("width %d: fitting dropped a fixed column: %s", width, lines[0])
		}
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

func TestRunsColumns(t *testing.T) {
	var buf bytes.Buffer
	err := RunsWith(&buf, fixtureRuns(), Table, RunsOptions{Columns: []string{"id", "params.lr", "best.val_loss", "metrics.train_loss", "tags.team"}})
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(buf.String(), "\n")
	if got := strings.Fields(lines[0]); strings.Join(got, " ") != "id params.lr best.val_loss metrics.train_loss tags.team" &&
		strings.Join(got, " ") != "id lr best.val_loss metrics.train_loss tags.team" {
		t.Errorf("header %v", got)
	}
	if !strings.Contains(buf.String(), "-Inf") {
		t.Errorf("-Inf train_loss not shown:\n%s", buf.String())
	}
	err = RunsWith(&buf, fixtureRuns(), Table, RunsOptions{Columns: []string{"id", "bogus"}})
	if err == nil || !strings.Contains(err.Error(), `unknown column "bogus"`) {
		t.Errorf("unknown column: %v", err)
	}
}

func TestRunsCSV(t *testing.T) {
	out := runsAs(t, fixtureRuns(), CSV)
	records, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("invalid CSV: %v\n%s", err, out)
	}
	if len(records) != 4 {
		t.Fatalf("%d records, want 4", len(records))
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
	if len(got) != 3 || got[0]["name"] != "small" || got[1]["status"] != "interrupted" {
		t.Errorf("JSON: %v", got)
	}
	gn := got[1]["metrics"].(map[string]any)["grad_norm"].(map[string]any)["last"].(map[string]any)
	if v, ok := gn["value"]; !ok || v != "NaN" {
		t.Errorf("NaN should be \"NaN\" as in MLflow's REST API: %v", gn)
	}
	vl := got[2]["metrics"].(map[string]any)["val_loss"].(map[string]any)["last"].(map[string]any)
	if vl["value"] != "Infinity" {
		t.Errorf("+Inf should be \"Infinity\": %v", vl)
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
	if strings.Count(out, "<tr>") != 4 || !strings.HasPrefix(out, `<div class="lstmlab">`) {
		t.Errorf("want a header row and 3 rows in a .lstmlab div:\n%s", out)
	}
	if empty := runsAs(t, nil, HTML); !strings.Contains(empty, "<p>no runs</p>") {
		t.Errorf("empty HTML: %s", empty)
	}
}

func TestRunsMarkdown(t *testing.T) {
	out := runsAs(t, fixtureRuns(), Markdown)
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 5 {
		t.Fatalf("want header, rule and 3 rows:\n%s", out)
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

// TestRunsTableRanksParams: the differing params are ordered by RunsOptions.ParamsFirst and ParamsLast,
// and fitting leaves out the last ones (paths, bookkeeping) first, keeping hidden and lr (the report:
// mixed presets showed batch, cell and a cut data path and hid hidden and lr).
func TestRunsTableRanksParams(t *testing.T) {
	runs := fixtureRuns()
	for i := range runs {
		runs[i].Name = fmt.Sprintf("sweep-hidden-lr-%d", i+10)
		runs[i].Params["lr"] = 0.001 * float64(i+1)
		runs[i].Params["batch"] = int64(16 << i)
		runs[i].Params["cell"] = []string{"lstm", "gru", "rnn"}[i]
		runs[i].Params["data"] = fmt.Sprintf("/tmp/corpus-%d/moby-dick-abridged.txt", i)
		runs[i].Params["sample_prompt"] = fmt.Sprintf("Call me Ishmael %d", i)
		runs[i].Params["num_params"] = int64(20000 * (i + 1))
		runs[i].Params["train_tokens"] = int64(100000 * (i + 1))
		runs[i].Params["dropout"] = 0.1 * float64(i)
		runs[i].Tags = nil
	}
	var buf bytes.Buffer
	opts := RunsOptions{ParamsFirst: []string{"cell", "hidden", "lr", "dropout", "batch"}, ParamsLast: []string{"num_params", "train_tokens", "sample_prompt", "data"}}
	if err := RunsWith(&buf, runs, Table, opts); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	header := strings.Join(strings.Fields(lines[0]), " ")
	if !strings.HasPrefix(header, "id name status start active cell hidden lr best.val_loss") {
		t.Errorf("header %q, want the first params in ParamsFirst's order", header)
	}
	if !strings.Contains(out, "(7 more params not shown to fit 120 columns: dropout, batch, tied, num_params, train_tokens, sample_prompt, data)") {
		t.Errorf("the params left out are not the least telling ones, in rank order:\n%s", out)
	}
	for i := range runs {
		if !strings.Contains(out, runs[i].Name) {
			t.Errorf("name %s cut:\n%s", runs[i].Name, out)
		}
	}
	for _, l := range lines {
		if Width(l) > 120 {
			t.Errorf("line of %d cells: %q", Width(l), l)
		}
	}
}
