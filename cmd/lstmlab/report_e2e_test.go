package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lstmlab/lstmlab/experiments"
	"github.com/lstmlab/lstmlab/lstm"
	"github.com/lstmlab/lstmlab/lstm/text"
	"github.com/lstmlab/lstmlab/tracker"
)

// The tests in this file follow a new user's report on a clean clone: each drives the real binary (real
// signals to real child processes where the report involved them) through what the user did.

// TestStoppedBeforeFirstValidation: a run stopped by Ctrl-C before its first validation prints valid JSON
// (best_val_loss null: there is none) and, as text, "no validation yet" instead of an infinite loss and an
// empty sample block; a run stopped after validating names its bits by its level (bits/grapheme here),
// as finished runs do.
func TestStoppedBeforeFirstValidation(t *testing.T) {
	dir := t.TempDir()
	c := &cli{t: t, db: filepath.Join(dir, "lab.db"), dir: dir}
	sea := generatedText(t, dir, "sea.txt", 1, seaWords)
	stop := func(name string, args ...string) *proc {
		t.Helper()
		p := c.start(append(append([]string{"train", "--data", sea, "--name", name, "--set=steps=100000"}, crashTrain...), args...)...)
		p.waitFor(t, "files in ", 60*time.Second)
		return p
	}

	p := stop("json", "--set=eval_every=100000", "--format", "json")
	time.Sleep(500 * time.Millisecond)
	p.signal(t, syscall.SIGINT)
	if code := p.wait(t, 30*time.Second); code != 130 {
		t.Fatalf("exit %d, want 130; stderr:\n%s", code, p.stderr)
	}
	var res map[string]any
	if err := json.Unmarshal([]byte(p.stdout.String()), &res); err != nil {
		t.Fatalf("--format json after Ctrl-C: %v\nstdout: %q\nstderr: %s", err, p.stdout, p.stderr)
	}
	if res["status"] != "interrupted" || res["best_val_loss"] != nil || res["best_step"] != nil || res["unit"] != "char" {
		t.Errorf("JSON of a run stopped before validating: %v", res)
	}
	if v, ok := res["best_val_loss"]; !ok || v != nil {
		t.Errorf("best_val_loss = %v (present %v), want null", v, ok)
	}

	p = stop("text", "--set=eval_every=100000")
	time.Sleep(500 * time.Millisecond)
	p.signal(t, syscall.SIGINT)
	if code := p.wait(t, 30*time.Second); code != 130 {
		t.Fatalf("exit %d, want 130; stderr:\n%s", code, p.stderr)
	}
	out := p.stdout.String()
	if !strings.Contains(out, "best val_loss: none (no validation yet)") || strings.Contains(out, "Inf") || strings.Contains(out, "sample (") {
		t.Errorf("summary of a run stopped before validating:\n%s", out)
	}

	// eval_every=5 (crashTrain): stopped once the first validation is printed.
	p = stop("graph", "--set=level=grapheme")
	p.waitFor(t, "val_bpg", 60*time.Second)
	p.signal(t, syscall.SIGINT)
	if code := p.wait(t, 30*time.Second); code != 130 {
		t.Fatalf("exit %d, want 130; stderr:\n%s", code, p.stderr)
	}
	if out := p.stdout.String(); !strings.Contains(out, "bits/grapheme) at step ") || strings.Contains(out, "bits/token") {
		t.Errorf("summary of an interrupted grapheme-level run:\n%s", out)
	}
}

// TestSecondStopLine: the line a second Ctrl-C prints says what the end of the run had written by then; a
// stage under way is waited for, and one that takes too long is named as under way.
func TestSecondStopLine(t *testing.T) {
	var e endState
	if got := e.stopLine("SIGINT"); got != "SIGINT again: stopping now" {
		t.Errorf("no training: %q", got)
	}
	e.onRun("lstmlab resume 3")
	done := func(stage experiments.EndStage) {
		e.onEnd(experiments.EndEvent{Stage: stage})
		e.onEnd(experiments.EndEvent{Stage: stage, Done: true})
	}
	for _, tc := range []struct {
		stage       experiments.EndStage
		interrupted bool
		want        []string
		not         []string
	}{
		{0, false, []string{"without the final checkpoint and plot", "reads as interrupted", "resume 3"}, nil},
		{experiments.EndCheckpoint, false, []string{"final checkpoint was written, the plot was not", "resume 3"}, []string{"without"}},
		{experiments.EndPlot, false, []string{"final checkpoint and the plot were written", "resume 3"}, []string{"without", "not"}},
		{experiments.EndRecorded, true, []string{"already ended cleanly", "resume 3"}, []string{"without", "reads as"}},
		{experiments.EndRecorded, false, []string{"already ended cleanly"}, []string{"without", "resume"}},
	} {
		if tc.stage != 0 {
			done(tc.stage)
		}
		e.interrupted.Store(tc.interrupted)
		got := e.secondStop("SIGTERM", 0)
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("stage %d: %q lacks %q", tc.stage, got, w)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(got, n) {
				t.Errorf("stage %d: %q says %q", tc.stage, got, n)
			}
		}
	}
	e.onRun("lstmlab resume 4") // the next run of a sweep starts afresh
	if got := e.secondStop("SIGINT", 0); !strings.Contains(got, "without the final") || !strings.Contains(got, "resume 4") {
		t.Errorf("next run: %q", got)
	}
	// A stage under way: the line waits for it and then says it was done.
	e.onEnd(experiments.EndEvent{Stage: experiments.EndCheckpoint})
	go func() {
		time.Sleep(50 * time.Millisecond)
		e.onEnd(experiments.EndEvent{Stage: experiments.EndCheckpoint, Done: true})
	}()
	if got := e.stopLine("SIGINT"); !strings.Contains(got, "final checkpoint was written, the plot was not") {
		t.Errorf("after waiting for the checkpoint: %q", got)
	}
	// The plot stage cannot start after the line: its begin blocks (the process would exit meanwhile).
	started := make(chan struct{})
	go func() {
		e.onEnd(experiments.EndEvent{Stage: experiments.EndPlot})
		close(started)
	}()
	select {
	case <-started:
		t.Error("a stage began after the second stop's line")
	case <-time.After(100 * time.Millisecond):
	}
	if got := e.secondStop("SIGINT", experiments.EndPlot); !strings.Contains(got, "the plot was being written") {
		t.Errorf("a stage under way: %q", got)
	}
}

// TestSecondStopIsTrue sends Ctrl-C, then Ctrl-C again at different moments of the end of the run (at
// once, and after the summary has been printed): whatever the second one's line says was or was not
// written must be so (the report: "without the final checkpoint and plot" after both were written).
func TestSecondStopIsTrue(t *testing.T) {
	dir := t.TempDir()
	c := &cli{t: t, db: filepath.Join(dir, "lab.db"), dir: dir}
	sea := generatedText(t, dir, "sea.txt", 1, seaWords)
	for i, delay := range []time.Duration{2 * time.Millisecond, 30 * time.Millisecond, 60 * time.Millisecond, 100 * time.Millisecond, 150 * time.Millisecond} {
		name := "twice-" + string(rune('a'+i))
		p := c.start(append(append([]string{"train", "--data", sea, "--name", name, "--set=steps=100000"}, crashTrain...), "--set=hidden=256")...)
		line := p.waitFor(t, "files in ", 60*time.Second)
		runDir := strings.TrimSpace(line[strings.Index(line, "files in ")+len("files in "):])
		time.Sleep(300 * time.Millisecond)
		p.signal(t, syscall.SIGINT)
		stopRepeating := make(chan struct{})
		go func() { // repeated: a signal sent while the first is pending merges into it
			for {
				select {
				case <-stopRepeating:
					return
				case <-time.After(delay):
					_ = p.cmd.Process.Signal(syscall.SIGINT)
				}
			}
		}()
		code := p.wait(t, 30*time.Second)
		close(stopRepeating)
		if code != 130 {
			t.Fatalf("exit %d, want 130; stderr:\n%s", code, p.stderr)
		}
		stderr := p.stderr.String()
		_, plotErr := os.Stat(filepath.Join(runDir, "curves.png"))
		plotted := plotErr == nil
		t.Logf("second Ctrl-C every %v: plot written %v; stderr ends %q", delay, plotted, lastLine(stderr))
		switch {
		case !strings.Contains(stderr, "SIGINT again"):
			// The process ended before a second signal arrived: the run ended cleanly.
			c.checkRecord(name, tracker.StatusInterrupted)
		case strings.Contains(stderr, "without the final checkpoint and plot") || strings.Contains(stderr, "the plot was not"):
			if plotted {
				t.Errorf("the line says the plot was not written, but %s/curves.png exists:\n%s", runDir, stderr)
			}
		case strings.Contains(stderr, "plot were written") || strings.Contains(stderr, "already ended cleanly"):
			if !plotted {
				t.Errorf("the line says the plot was written, but there is none:\n%s", stderr)
			}
		default:
			t.Errorf("second Ctrl-C line says nothing of the checkpoint and plot:\n%s", stderr)
		}
		if strings.Contains(stderr, "SIGINT again") && !strings.Contains(stderr, "continue with: lstmlab") &&
			!strings.Contains(stderr, "already ended cleanly") {
			t.Errorf("no resume hint:\n%s", stderr)
		}
		// Whatever was said, the record is consistent and resumes.
		c.checkRecord(name, tracker.StatusInterrupted)
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// TestHugeFiguresStayShort: a diverging run's perplexity (the report: lr=10, SGD with momentum 0.999 gave
// a 190-digit val_ppl) prints with an exponent in the progress line and the summary, as in tables.
func TestHugeFiguresStayShort(t *testing.T) {
	huge := &lstm.EvalResult{Loss: 437.7, Perplexity: 2.2506e190, BitsPerToken: 631.5, Level: text.Char, Accuracy: 0.01}
	var out bytes.Buffer
	p := &progressView{w: &out, width: func() int { return 80 }, now: time.Now}
	must(t, p.Observe(experiments.RunEvent{RunID: 1, TotalSteps: 100, Event: lstm.Event{Kind: lstm.EventStep, Step: 50, Loss: 3e7, TokensPS: 2e6}}))
	must(t, p.Observe(experiments.RunEvent{RunID: 1, TotalSteps: 100, Event: lstm.Event{Kind: lstm.EventEval, Step: 50, Val: huge}, ColdStart: huge, FreeRunning: huge}))
	must(t, printResult(&out, "table", &experiments.Result{RunID: 1, RunName: "lr10", BestVal: 437.7, BestStep: 50, Level: text.Char, Test: huge,
		TestColdStart: huge, TestFreeRunning: huge}))
	got := out.String()
	for _, want := range []string{"val_ppl 2.251e+190", "loss 3e+07", "2e+06 tok/s", "perplexity 2.251e+190", "best val_loss 437.7000 (631.468 bits/char)",
		"val_cold_bpc 631.500", "free_running_bpc 631.500", "test_cold_bpc 631.500", "test_free_running_bpc 631.500"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if regexp.MustCompile(`[0-9]{12}`).MatchString(got) {
		t.Errorf("a long digit string:\n%s", got)
	}
}

// TestResultWritingFigures: the end-of-run writing line names the metric keys the run logged and the
// level's unit (here words: bpw), with how many passages and samples of how many tokens; the JSON result's
// test_free_running has no accuracy or OOV figures (a sample has no reference text), test_cold_start has.
func TestResultWritingFigures(t *testing.T) {
	cold := &lstm.EvalResult{Loss: 1.5, Perplexity: 4.48, BitsPerToken: 2.164, Level: text.Word, Accuracy: 0.3, Tokens: 64 * 128, Streams: 64, OOVRate: 0.01, OOV: 82}
	free := &lstm.EvalResult{Loss: 1.6, Perplexity: 4.95, BitsPerToken: 2.308, Level: text.Word, Tokens: 4 * 256, Streams: 4}
	res := &experiments.Result{RunID: 1, RunName: "w", BestVal: 1.4, BestStep: 50, Level: text.Word, TestColdStart: cold, TestFreeRunning: free}
	var out bytes.Buffer
	must(t, printResult(&out, "table", res))
	want := "writing: test_cold_bpw 2.164 (64 passages of 128 words from the initial state) · " +
		"test_free_running_bpw 2.308 (4 samples of 256 words at T=1 from the initial state)\n"
	if !strings.Contains(out.String(), want) {
		t.Errorf("output lacks %q:\n%s", want, out.String())
	}
	out.Reset()
	must(t, printResult(&out, "json", res))
	var whole map[string]json.RawMessage
	must(t, json.Unmarshal(out.Bytes(), &whole))
	got := map[string]map[string]any{}
	for _, k := range []string{"test_free_running", "test_cold_start"} {
		var m map[string]any
		must(t, json.Unmarshal(whole[k], &m))
		got[k] = m
	}
	f := got["test_free_running"]
	for _, k := range []string{"accuracy", "oov", "oov_rate", "in_vocab_loss"} {
		if _, ok := f[k]; ok {
			t.Errorf("test_free_running has %q: %v", k, f)
		}
	}
	if f["bits_per_token"] != 2.308 || f["unit"] != "word" || f["tokens"] != 1024.0 || f["samples"] != 4.0 || f["loss"] != 1.6 {
		t.Errorf("test_free_running %v", f)
	}
	if c := got["test_cold_start"]; c["accuracy"] != 0.3 || c["oov_rate"] != 0.01 || c["streams"] != 64.0 {
		t.Errorf("test_cold_start %v lost its figures", c)
	}
}

// TestDataChangeFlagNamed: eval refuses a run's changed corpus naming the flag that allows it, and takes
// that flag (--allow-data-change, as resume does); its JSON names the run as generate's does.
func TestDataChangeFlagNamed(t *testing.T) {
	dir := t.TempDir()
	c := &cli{t: t, db: filepath.Join(dir, "lab.db"), dir: dir}
	sea := generatedText(t, dir, "sea.txt", 1, seaWords)
	trainJSON(t, c, "--data", sea, "--name", "book")
	ev := decode(t, c.ok("eval", "book", "--format", "json"))
	if ev["run_id"] != 1.0 || ev["run_name"] != "book" {
		t.Errorf("eval JSON names the run as %v / %v, want run_id 1 and run_name book: %v", ev["run_id"], ev["run_name"], ev)
	}
	if _, ok := ev["run"]; ok {
		t.Errorf("eval JSON still has \"run\": %v", ev)
	}
	if err := os.WriteFile(sea, append([]byte("Another first line.\n"), mustRead(t, sea)...), 0o644); err != nil {
		t.Fatal(err)
	}
	c.fails("pass --allow-data-change to go on", "eval", "book")
	c.fails("pass --allow-data-change to go on", "resume", "book", "--steps", "30")
	out := c.ok("eval", "book", "--allow-data-change")
	if !strings.Contains(out, "(test split)") {
		t.Errorf("eval --allow-data-change: %q", out)
	}
	c.fails("--allow-data-change applies to the run's own corpus", "eval", "book", "--data", sea, "--allow-data-change")
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestErrorWording: the report's error lines, each one line that names what the user typed.
func TestErrorWording(t *testing.T) {
	dir := t.TempDir()
	c := &cli{t: t, db: filepath.Join(dir, "lab.db"), dir: dir}
	sea := generatedText(t, dir, "sea.txt", 1, seaWords)
	trainJSON(t, c, "--data", sea, "--name", "p")

	_, errOut, _ := c.run("eval", "p", "--data", filepath.Join(dir, "nonexistent"))
	if strings.Count(errOut, "load corpus") != 1 {
		t.Errorf("eval --data of a missing file: %q, want \"load corpus\" once", errOut)
	}
	c.fails(`tag p "novalue": want key=value`, "tag", "p", "novalue")
	_, errOut, _ = c.run("tag", "p", "novalue")
	if strings.Contains(errOut, "--tag") {
		t.Errorf("the tag command's error names train's flag: %q", errOut)
	}
	short := writeFile(t, dir, "short.txt", strings.Repeat("the whale ", 30))
	c.fails("needs at least 513; use a longer text, or a smaller batch or seq_len (--set batch=N or --set seq_len=N)",
		"train", "--preset", "tiny", "--data", short, "-q")
	// Options are checked before the backend opens: the error is the only line.
	for _, args := range [][]string{
		{"train", "--preset", "tiny", "--data", sea, "--freeze", "embedding"},
		{"train", "--init-from", "p", "--data", sea, "--freeze", "bogus"},
		{"train", "--preset", "tiny", "--data", sea, "--extend-vocab"},
		{"train", "--init-from", "p", "--data", sea, "--preset", "moby"},
		{"train", "--preset", "tiny", "--data", short},
		{"train", "--init-from", "p", "--data", writeFile(t, dir, "shorter.txt", strings.Repeat("the whale ", 10))},
	} {
		_, errOut, code := c.run(args...)
		if code == 0 || strings.Count(strings.TrimSpace(errOut), "\n") != 0 || strings.Contains(errOut, "backend:") {
			t.Errorf("%v: exit %d, stderr %q; want one error line and nothing before it", args, code, errOut)
		}
	}
	c.fails("a fine-tuned run takes its model and training settings from its parent p (preset tiny)", "train", "--init-from", "p", "--data", sea, "--preset", "moby")
	c.fails("--steps 60 and --set steps=50: give the step count once", "resume", "p", "--steps", "60", "--set", "steps=50")
	c.fails("--prompt Hi and --set sample_prompt=Ho: give the setting once", "train", "--preset", "tiny", "--data", sea, "--prompt", "Hi", "--set", "sample_prompt=Ho")
	if out := c.ok("note", "p", ""); !strings.Contains(out, "note cleared") {
		t.Errorf("note RUN \"\": %q", out)
	}
}

// TestHintsNameTheDatabase: the sync hint, like the resume hint, carries --db and --runs-dir, so it acts
// on the same database's run (the report: "lstmlab sync 2" synced another database's run 2).
func TestHintsNameTheDatabase(t *testing.T) {
	g := &globals{db: "m2.db", runsDir: "my runs"}
	if got, want := commandHint(g, "sync", "2", "--tracking-uri", "http://127.0.0.1:5000"),
		"lstmlab --db m2.db --runs-dir 'my runs' sync 2 --tracking-uri http://127.0.0.1:5000"; got != want {
		t.Errorf("sync hint %q, want %q", got, want)
	}
	if got, want := resumeHint(g, "it's"), `lstmlab --db m2.db --runs-dir 'my runs' resume 'it'\''s'`; got != want {
		t.Errorf("resume hint %q, want %q", got, want)
	}
	if got := resumeHint(&globals{db: defaultDB()}, "3"); got != "lstmlab resume 3" {
		t.Errorf("resume hint with the default database: %q", got)
	}
}

// TestTrainTakesSampleKeys: train takes the sample settings resume takes (--set sample_length=50 ...),
// presets and train --help list them, and a fine-tuned run records its parent's preset and trains with
// the parent's settings (the report: show said "preset moby" for a child of a tiny run).
func TestTrainTakesSampleKeys(t *testing.T) {
	dir := t.TempDir()
	c := &cli{t: t, db: filepath.Join(dir, "lab.db"), dir: dir}
	sea := generatedText(t, dir, "sea.txt", 1, seaWords)
	trainJSON(t, c, "--data", sea, "--name", "s", "--set", "sample_length=50", "--set", "sample_prompt=Hi", "--set", "sample_temperature=0.5")
	show := decode(t, c.ok("show", "s", "--format", "json"))
	params := show["params"].(map[string]any)
	if params["sample_length"] != 50.0 || params["sample_prompt"] != "Hi" || params["sample_temperature"] != 0.5 {
		t.Errorf("params of a run trained with the sample keys: %v", params)
	}
	samples := show["latest_samples"].([]any)
	if s := samples[0].(map[string]any); s["prompt"] != "Hi" || s["temperature"] != 0.5 || len([]rune(s["text"].(string))) != 50 {
		t.Errorf("latest sample: %v", s)
	}
	for _, args := range [][]string{{"presets", "tiny"}, {"presets"}, {"train", "--help"}} {
		if out := c.ok(args...); !strings.Contains(out, "sample_temperature") || !strings.Contains(out, "sample_prompt") {
			t.Errorf("%v does not list the sample keys:\n%s", args, out)
		}
	}

	c.ok("train", "--data", sea, "--name", "ft", "--init-from", "s", "--set", "steps=10", "-q")
	ft := c.runInfo("ft")
	if ft.Params["preset"] != "tiny" || ft.Params["hidden"] != int64(32) || ft.Params["batch"] != int64(8) || ft.Params["steps"] != int64(10) {
		t.Errorf("fine-tuned run's params: preset %v hidden %v batch %v steps %v; want the parent's tiny settings, steps 10",
			ft.Params["preset"], ft.Params["hidden"], ft.Params["batch"], ft.Params["steps"])
	}
	if out := c.ok("show", "ft"); !strings.Contains(out, "preset              tiny") {
		t.Errorf("show ft:\n%s", out)
	}
}

// TestEveryResultTakesJSON: export, plot and rm take --format json as every result-printing command does
// (the report: they refused it): one JSON document with the paths written, notes and runs removed.
func TestEveryResultTakesJSON(t *testing.T) {
	dir := t.TempDir()
	c := &cli{t: t, db: filepath.Join(dir, "lab.db"), dir: dir}
	sea := generatedText(t, dir, "sea.txt", 1, seaWords)
	run := trainJSON(t, c, "--data", sea, "--name", "j")
	runDir := filepath.Dir(run["checkpoint"].(string))
	out := filepath.Join(dir, "j.safetensors")
	ex := decode(t, c.ok("export", "j", "--out", out, "--format", "json"))
	if ex["path"] != out || ex["run_name"] != "j" || ex["run_id"] != 1.0 || ex["cell"] != "lstm" {
		t.Errorf("export JSON: %v", ex)
	}
	if _, err := os.Stat(out); err != nil {
		t.Error(err)
	}
	pl := decode(t, c.ok("plot", "j", "--out", filepath.Join(dir, "c.svg"), "--log", "--metric", "lr", "--format", "json"))
	if pl["path"] != filepath.Join(dir, "c.svg") || len(pl["run_ids"].([]any)) != 1 || pl["notes"] == nil {
		t.Errorf("plot JSON: %v", pl)
	}
	rm := decode(t, c.ok("rm", "j", "--files", "--format", "json"))
	gone := rm["deleted"].([]any)
	if len(gone) != 1 || gone[0].(map[string]any)["run_name"] != "j" || len(gone[0].(map[string]any)["files_removed"].([]any)) == 0 {
		t.Errorf("rm JSON: %v", rm)
	}
	if _, err := os.Stat(runDir); !os.IsNotExist(err) {
		t.Errorf("rm --files left %s: %v", runDir, err)
	}
	c.fails("unknown --format", "rm", "nothing", "--format", "csv")
}

// TestResultSampleShowsItsPrompt: the end-of-run sample is printed after the prompt it continues, with
// its step and temperature, so it does not start mid-word.
func TestResultSampleShowsItsPrompt(t *testing.T) {
	res := &experiments.Result{RunID: 1, RunName: "s", BestVal: 1.4, BestStep: 50, Level: text.Char,
		Sample: "me Ishmael.\nSome years", SamplePrompt: "Call ", SampleStep: 50, SampleTemp: 0.8}
	var out bytes.Buffer
	must(t, printResult(&out, "table", res))
	want := "sample (step 50, temperature 0.8, prompt \"Call \"):\n  Call me Ishmael.\n  Some years\n"
	if !strings.Contains(out.String(), want) {
		t.Errorf("output lacks %q:\n%s", want, out.String())
	}
}
