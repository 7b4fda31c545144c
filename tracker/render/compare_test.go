package render

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"strings"
	"testing"
)

func comparisonAs(t *testing.T, onlyChanged bool, f Format) string {
	return render(t, f, func(w io.Writer, f Format) error { return Comparison(w, fixtureComparison(onlyChanged), f) })
}

func TestComparisonTable(t *testing.T) {
	out := comparisonAs(t, true, Table)
	for _, want := range []string{
		"Runs", "Params that differ (2 identical hidden)", "Final metrics", "Best metrics", "Best val_loss", "Latest sample",
		"small (1)", "1.612", "2m00s", "Call me", "Some years ago", "temperature 0.8, top-k 40, top-p 0.95, seed 7",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("comparison lacks %q:\n%s", want, out)
		}
	}
	// Only the changed params are rows.
	if strings.Contains(out, "optimizer") {
		t.Errorf("identical param shown:\n%s", out)
	}
	// The multi-line sample keeps its lines, indented.
	if !strings.Contains(out, "      Some years ago\n") {
		t.Errorf("sample lines not kept:\n%s", out)
	}
	all := comparisonAs(t, false, Table)
	if !strings.Contains(all, "optimizer") || !strings.Contains(all, "\nParams\n") ||
		!strings.Contains(all, "lr         0.001 from step 201; 0.003 before  0.001") {
		t.Errorf("full comparison lacks params:\n%s", all)
	}
}

// TestComparisonGolden pins the comparison's table and Markdown forms:
// tags and the note are shown, CJK names align, infinities print.
func TestComparisonGolden(t *testing.T) {
	golden(t, "compare.txt", []byte(comparisonAs(t, true, Table)))
	golden(t, "compare.md", []byte(comparisonAs(t, true, Markdown)))
	out := comparisonAs(t, true, Table)
	for _, want := range []string{"\nTags\n", "言語", "日本語", "note", "line one line two", "+Inf", "active"} {
		if !strings.Contains(out, want) {
			t.Errorf("comparison lacks %q:\n%s", want, out)
		}
	}
}

func TestComparisonCSV(t *testing.T) {
	records, err := csv.NewReader(strings.NewReader(comparisonAs(t, false, CSV))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(records[0], ",") != "section,,small,<script>alert('x')</script> | big,小さな模型🐳" {
		t.Errorf("header %v", records[0])
	}
	found := false
	for _, r := range records[1:] {
		if len(r) != 5 {
			t.Fatalf("ragged row %v", r)
		}
		if r[0] == "Best val_loss" && r[1] == "step" {
			found = r[2] == "200" && r[3] == "100" && r[4] == "100"
		}
	}
	if !found {
		t.Errorf("best val_loss steps missing: %v", records)
	}
}

func TestComparisonJSON(t *testing.T) {
	var got struct {
		Runs []struct {
			Name         string                 `json:"name"`
			BestPoint    *struct{ Step int64 }  `json:"best_point"`
			LatestSample *struct{ Text string } `json:"latest_sample"`
			Parent       *struct{ ID int64 }    `json:"parent"`
		} `json:"runs"`
		ParamKeys    []string `json:"param_keys"`
		HiddenParams int      `json:"hidden_params"`
		BestKey      string   `json:"best_key"`
	}
	if err := json.Unmarshal([]byte(comparisonAs(t, true, JSON)), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Runs) != 3 || got.Runs[0].BestPoint.Step != 200 || got.Runs[1].Parent.ID != 1 || got.HiddenParams != 2 ||
		got.BestKey != "val_loss" || got.Runs[0].LatestSample.Text != " Ishmael.\nSome years ago" {
		t.Errorf("JSON: %+v", got)
	}
}

func TestComparisonHTML(t *testing.T) {
	out := comparisonAs(t, false, HTML)
	checkSelfContainedHTML(t, out)
	if !strings.Contains(out, "&lt;/td&gt;&lt;script&gt;evil()&lt;/script&gt;") {
		t.Errorf("sample not escaped:\n%s", out)
	}
	if strings.Count(out, "<table>") != 7 || !strings.Contains(out, `<td class="long"> Ishmael.`) {
		t.Errorf("want 7 tables and long cells for samples:\n%s", out)
	}
}

func TestComparisonMarkdown(t *testing.T) {
	out := comparisonAs(t, false, Markdown)
	for _, want := range []string{"**Runs**", "**Best val\\_loss**", " Ishmael.<br>Some years ago", `\<script\>evil()\</script\>`} {
		if !strings.Contains(out, want) {
			t.Errorf("markdown lacks %q:\n%s", want, out)
		}
	}
}
