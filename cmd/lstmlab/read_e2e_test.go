package main

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/lstmlab/lstmlab/tracker/render"
)

// TestCLIReadSide drives the read side as a user coming from MLflow would, against a real database: search
// with MLflow's syntax and its warnings, the runs table and --columns, show, metrics, samples side by side,
// tag and note on finished runs, version, presets, and a log-scale plot. Bad input fails with one line.
func TestCLIReadSide(t *testing.T) {
	dir := t.TempDir()
	c := &cli{t: t, db: filepath.Join(dir, "lab.db"), dir: dir}
	sea := generatedText(t, dir, "sea.txt", 1, seaWords)
	c.ok(append([]string{"train", "--preset", "tiny", "--data", sea, "--name", "État-Ω", "-q", "--tag", "team=nlp"}, strings.Fields(tinyTrain)...)...)
	c.ok(append([]string{"train", "--preset", "tiny", "--data", sea, "--name", "鲸鱼🐳", "-q", "--set=lr=1e-2"}, strings.Fields(tinyTrain)...)...)

	// Search: Unicode ilike, run_id, times in ms, and a warning naming the closest key for a typo.
	out := c.ok("runs", "--filter", "name ilike 'état%'", "--format", "csv")
	if !strings.Contains(out, "État-Ω") || strings.Contains(out, "鲸鱼") {
		t.Errorf("ilike 'état%%': %s", out)
	}
	if out := c.ok("runs", "--filter", "attributes.run_id = '2' and attributes.start_time > 1000000000000", "--format", "csv"); !strings.Contains(out, "鲸鱼🐳") || strings.Contains(out, "État") {
		t.Errorf("run_id and start_time: %s", out)
	}
	stdout, stderr, code := c.run("runs", "--filter", "metrics.val_los < 10")
	if code != 0 || !strings.Contains(stderr, "did you mean metrics.val_loss?") || !strings.Contains(stdout, "no runs") {
		t.Errorf("typo in a metric: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	c.fails(`metrics."cross-entropy"`, "runs", "--filter", "metrics.cross-entropy < 1")
	c.fails("filter too large", "runs", "--filter", strings.Repeat("id = 1 or ", 1001)+"id = 2")

	// The default table fits 120 columns, aligned by display width; --columns chooses.
	table := c.ok("runs")
	lines := strings.Split(strings.TrimRight(table, "\n"), "\n")
	for _, l := range lines {
		if w := render.Width(l); w > 120 {
			t.Errorf("runs line of %d columns: %q", w, l)
		}
	}
	for _, want := range []string{"active", "lr", "best.val_loss", "team=nlp", "鲸鱼🐳"} {
		if !strings.Contains(lines[0]+lines[2]+lines[3], want) {
			t.Errorf("runs table lacks %q:\n%s", want, table)
		}
	}
	// Too narrow for the differing params: the line under the table names them and the flag that chooses.
	// The note wraps at the width.
	narrowOut := c.ok("runs", "--width", "60")
	_, note, _ := strings.Cut(narrowOut, "\n(")
	if !strings.Contains(note, "lr") || !strings.HasSuffix(strings.ReplaceAll(strings.TrimSpace(note), "\n", " "), "; choose columns with --columns)") {
		t.Errorf("runs --width 60: note %q, want the params left out and --columns", note)
	}
	for _, l := range strings.Split(strings.TrimRight(narrowOut, "\n"), "\n") {
		if strings.Contains(note, l) && render.Width(l) > 60 {
			t.Errorf("runs --width 60: note line of %d columns: %q", render.Width(l), l)
		}
	}
	cols := c.ok("runs", "--columns", "id,name,params.hidden,best.val_loss,tags.team")
	if h := strings.Fields(strings.SplitN(cols, "\n", 2)[0]); strings.Join(h, " ") != "id name hidden best.val_loss tags.team" {
		t.Errorf("--columns header %v", h)
	}
	c.fails(`unknown column "bogus"`, "runs", "--columns", "id,bogus")

	// show, metrics, samples.
	show := c.ok("show", "État-Ω")
	for _, want := range []string{"Run 1: État-Ω", "Params", "Metrics", "val_loss", "Artifacts", "checkpoint", "Latest samples", "team"} {
		if !strings.Contains(show, want) {
			t.Errorf("show lacks %q:\n%s", want, show)
		}
	}
	var detail map[string]any
	if err := json.Unmarshal([]byte(c.ok("show", "1", "--format", "json")), &detail); err != nil || detail["name"] != "État-Ω" || detail["artifacts"] == nil {
		t.Errorf("show --format json: %v %v", err, detail)
	}
	hist, err := csv.NewReader(strings.NewReader(c.ok("metrics", "1", "--key", "val_loss", "--key", "train_loss", "--format", "csv"))).ReadAll()
	if err != nil || len(hist) < 4 || strings.Join(hist[0], ",") != "key,step,time,value" || hist[1][0] != "val_loss" {
		t.Errorf("metrics CSV: %v %v", err, hist)
	}
	var mj struct {
		Metrics map[string][]struct {
			Step  int64 `json:"step"`
			Value any   `json:"value"`
		} `json:"metrics"`
	}
	if err := json.Unmarshal([]byte(c.ok("metrics", "1", "--format", "json")), &mj); err != nil || len(mj.Metrics["train_loss"]) != 40 {
		t.Errorf("metrics JSON: %v, %d train_loss points (want 40, one per step)", err, len(mj.Metrics["train_loss"]))
	}
	if listed := c.ok("metrics", "1", "--key", "val_loss, train_loss,", "--format", "csv"); listed != c.ok("metrics", "1", "--key", "val_loss", "--key", "train_loss", "--format", "csv") {
		t.Errorf("--key as a comma-separated list differs from the key repeated:\n%s", listed)
	}
	c.fails(`has no metric "val_los"`, "metrics", "1", "--key", "val_los")
	c.fails(`has no metric "val_los"`, "metrics", "1", "--key", "val_loss,val_los")
	samples := c.ok("samples", "1")
	if n := strings.Count(samples, "step "); n < 2 {
		t.Errorf("samples: %d samples, want one per evaluation and the last step:\n%s", n, samples)
	}
	diff := c.ok("samples", "1", "--diff", "2", "--width", "100")
	if !strings.Contains(diff, "│") || !strings.Contains(diff, "鲸鱼🐳 (2)") {
		t.Errorf("samples --diff:\n%s", diff)
	}
	for _, l := range strings.Split(diff, "\n") {
		if render.Width(l) > 100 {
			t.Errorf("samples --diff line of %d columns", render.Width(l))
		}
	}

	// tag and note on a finished run; compare shows them.
	c.ok("tag", "1", "stage=best", "owner=ana")
	c.ok("tag", "1", "--delete", "owner")
	c.ok("note", "1", "dropout next")
	c.fails(`no tag "nope"`, "tag", "1", "--delete", "nope")
	cmp := c.ok("compare", "1", "2")
	for _, want := range []string{"Tags", "stage", "best", "dropout next"} {
		if !strings.Contains(cmp, want) {
			t.Errorf("compare lacks %q:\n%s", want, cmp)
		}
	}
	if strings.Contains(cmp, "owner") {
		t.Errorf("a deleted tag is still shown:\n%s", cmp)
	}
	if out := c.ok("runs", "--filter", "tags.stage = 'best'", "--format", "csv"); !strings.Contains(out, "État-Ω") {
		t.Errorf("filter on the new tag: %s", out)
	}

	// version and presets.
	var v map[string]any
	if err := json.Unmarshal([]byte(c.ok("version", "--format", "json")), &v); err != nil || v["go"] != runtime.Version() {
		t.Fatalf("version: %v %v", err, v)
	}
	if backends, _ := v["backends"].([]any); len(backends) == 0 || v["goexperiment"] == nil {
		t.Errorf("version lacks backends or GOEXPERIMENT: %v", v)
	}
	if head, err := exec.Command("git", "rev-parse", "HEAD").Output(); err == nil {
		if v["commit"] != strings.TrimSpace(string(head)) {
			t.Errorf("version commit %v, want %s", v["commit"], head)
		}
		// Each run records the commit of the binary that trained it (not of whatever the working
		// directory holds), "-dirty" when built with uncommitted changes.
		want := strings.TrimSpace(string(head))
		if dirty, _ := v["dirty"].(bool); dirty {
			want += "-dirty"
		}
		if got := c.runInfo("État-Ω").GitCommit; got != want {
			t.Errorf("run git commit %q, want the binary's %q", got, want)
		}
	}
	presets := c.ok("presets", "tiny")
	if !strings.Contains(presets, "hidden") || !strings.Contains(presets, "hidden (and LSTM cell) state width") || !strings.Contains(presets, "64*") {
		t.Errorf("presets tiny:\n%s", presets)
	}
	c.fails("unknown preset", "presets", "huge")

	// A log-scale plot notes the values it cannot draw.
	png := filepath.Join(dir, "lr.png")
	_, stderr, code = c.run("plot", "1", "2", "--metric", "lr", "--log", "--out", png)
	if code != 0 {
		t.Fatalf("plot --log: %s", stderr)
	}
	if _, err := os.Stat(png); err != nil {
		t.Errorf("plot --log wrote nothing: %v", err)
	}
	if strings.Contains(stderr, "values <= 0") != lrHasZero(t, c) {
		t.Errorf("plot --log note %q does not match the zeros in the lr history", stderr)
	}
	// --metric takes a comma-separated list, as metrics --key does.
	svg := filepath.Join(dir, "two.svg")
	c.ok("plot", "1", "--metric", "val_loss, train_loss", "--out", svg)
	if b, err := os.ReadFile(svg); err != nil || !strings.Contains(string(b), "val_loss") || !strings.Contains(string(b), "train_loss") {
		t.Errorf("plot --metric val_loss,train_loss: %v; want both curves in the legend", err)
	}
	c.fails("have no val_los;", "plot", "1", "--metric", "val_loss,val_los", "--out", svg)
}

// lrHasZero reports whether run 1 logged a learning rate of 0 (warm-up starts at 0).
func lrHasZero(t *testing.T, c *cli) bool {
	out := c.ok("metrics", "1", "--key", "lr", "--format", "csv")
	for _, l := range strings.Split(out, "\n") {
		if strings.HasSuffix(l, ",0") {
			return true
		}
	}
	return false
}
