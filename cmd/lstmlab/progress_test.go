package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/lstmlab/lstmlab/experiments"
	"github.com/lstmlab/lstmlab/internal/goldenfile"
	"github.com/lstmlab/lstmlab/lstm"
	"github.com/lstmlab/lstmlab/lstm/text"
)

// golden compares got with testdata/name, or rewrites it: go test ./cmd/lstmlab -run Progress -update
func golden(t *testing.T, name string, got []byte) { goldenfile.Check(t, name, got) }

// TestProgressLineWidths renders the progress line at 60, 80 and 200 columns (and narrower), checks it
// never reaches the last column, and pins the result to a golden file.
func TestProgressLineWidths(t *testing.T) {
	states := []progressState{
		{Epoch: 2, Step: 1234, Total: 5000, Loss: 1.23456, HasVal: true, ValLoss: 1.45678, TokensPS: 9912, Left: 3*time.Minute + 12*time.Second},
		{Epoch: 1, Step: 7, Total: 40, Loss: 4.1, TokensPS: 812},
		{Epoch: 31, Step: 123456, Total: 1000000, Loss: 0.9, HasVal: true, ValLoss: 1.01, TokensPS: 1.5e6, Left: 26 * time.Hour},
	}
	var out bytes.Buffer
	for _, width := range []int{200, 80, 60, 40, 20} {
		for _, s := range states {
			line := renderProgress(s, width)
			if len(line) >= width {
				t.Errorf("width %d: line of %d columns: %q", width, len(line), line)
			}
			if !strings.Contains(line, "step ") && width >= 20 {
				t.Errorf("width %d: the step count was dropped: %q", width, line)
			}
			out.WriteString(strings.Repeat(" ", 0) + line + "|\n")
		}
		out.WriteString("\n")
	}
	golden(t, "progress.golden", out.Bytes())
	// At 200 columns everything shows; at 60 the least important fields go first.
	wide, narrow := renderProgress(states[0], 200), renderProgress(states[0], 60)
	for _, f := range []string{"epoch 2", "step 1234/5000", "25%", "loss 1.235", "val 1.457", "9.91k tok/s", "ETA 3m12s"} {
		if !strings.Contains(wide, f) {
			t.Errorf("at 200 columns %q lacks %q", wide, f)
		}
	}
	if strings.Contains(narrow, "epoch") || !strings.Contains(narrow, "loss 1.235") || !strings.Contains(narrow, "ETA") {
		t.Errorf("at 60 columns: %q; want epoch dropped before loss and ETA", narrow)
	}
}

// evalEvent is an evaluation with every field of an evaluation line: the writing figures and a new best.
func evalEvent() experiments.RunEvent {
	val := &lstm.EvalResult{Loss: 1.5512, Perplexity: 4.72, Accuracy: 0.552, BitsPerToken: 2.238, Level: text.Char}
	return experiments.RunEvent{RunID: 1, TotalSteps: 1000, Event: lstm.Event{Kind: lstm.EventEval, Step: 400, Epoch: 2, Val: val,
		Improved: true, Elapsed: 100 * time.Second}, ColdStart: &lstm.EvalResult{BitsPerToken: 2.301, Level: text.Char},
		FreeRunning: &lstm.EvalResult{BitsPerToken: 2.412, Level: text.Char}}
}

// TestEvalLineWidths renders an evaluation line at 300 columns down to 10: it never reaches the last
// column, keeps the step count and the validation bits while they fit, and drops the least important
// fields first (at 80 columns: tok/s, val_acc, val_ppl, epoch, elapsed time, training loss and the cold
// start go; val_loss, the free-running figure and *best stay). Width 0 (a log) keeps everything.
func TestEvalLineWidths(t *testing.T) {
	ev := evalEvent()
	all := []string{"step 400/1000", "epoch 3", "loss 1.5123", "val_loss 1.5512", "val_bpc 2.238", "val_ppl 4.72", "val_acc 0.552",
		"val_cold_bpc 2.301", "free_running_bpc 2.412", "9912 tok/s", "1m40s", "*best"}
	full := renderEval(ev, 1.5123, 9912, 0)
	if full != renderEval(ev, 1.5123, 9912, 300) || len(full) < 150 {
		t.Errorf("unfitted line %q (%d columns), at 300 columns %q", full, len(full), renderEval(ev, 1.5123, 9912, 300))
	}
	for _, f := range all {
		if !strings.Contains(full, f) {
			t.Errorf("unfitted line %q lacks %q", full, f)
		}
	}
	for _, width := range []int{200, 120, 80, 60, 40, 30, 10} {
		line := renderEval(ev, 1.5123, 9912, width)
		if len(line) >= width {
			t.Errorf("width %d: line of %d columns: %q", width, len(line), line)
		}
		if width >= 30 && (!strings.Contains(line, "step 400/1000") || !strings.Contains(line, "val_bpc 2.238")) {
			t.Errorf("width %d: the step count or the validation bits were dropped: %q", width, line)
		}
	}
	at80 := renderEval(ev, 1.5123, 9912, 80)
	for i, f := range all {
		kept := strings.Contains(at80, f)
		if want := i == 0 || i == 3 || i == 4 || i == 8 || i == 11; kept != want {
			t.Errorf("at 80 columns %q: %q shown = %v, want %v", at80, f, kept, want)
		}
	}
}

// TestProgressViewSweep drives the view as a terminal through two runs of a sweep with evaluations: every
// redraw fits the width, the count restarts with the second run, steps are counted as in the evaluation
// lines, and nothing is left on the progress line at the end.
func TestProgressViewSweep(t *testing.T) {
	var out bytes.Buffer
	clock := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	p := &progressView{w: &out, tty: true, width: func() int { return 80 }, now: func() time.Time { return clock }}
	log := p.Writer(&out)
	for run := int64(1); run <= 2; run++ {
		if _, err := log.Write([]byte("run starts\n")); err != nil {
			t.Fatal(err)
		}
		for step := 1; step <= 4; step++ {
			clock = clock.Add(time.Second)
			ev := experiments.RunEvent{RunID: run, TotalSteps: 4, Event: lstm.Event{Kind: lstm.EventStep, Step: step, Loss: 2, TokensPS: 1000}}
			must(t, p.Observe(ev))
			if step%2 == 0 {
				ev.Kind, ev.Val = lstm.EventEval, &lstm.EvalResult{Loss: 1.5}
				must(t, p.Observe(ev))
			}
		}
	}
	p.Close()
	text := out.String()
	if !strings.HasSuffix(text, "\r\x1b[K") {
		t.Errorf("the progress line is not erased at the end: %q", text[max(0, len(text)-40):])
	}
	var redraws []string
	for _, seg := range strings.Split(text, "\r") {
		line, _, _ := strings.Cut(seg, "\x1b[K")
		if strings.Contains(line, "[") {
			redraws = append(redraws, line)
			if len(line) >= 80 {
				t.Errorf("a redraw of %d columns: %q", len(line), line)
			}
		}
	}
	if len(redraws) == 0 || !strings.Contains(redraws[len(redraws)-1], "step 4/4") {
		t.Errorf("last redraw %q, want step 4/4", redraws)
	}
	// The second run starts again at 1/4 (not 5/4), after its own first step.
	second := strings.Index(text, "step 1/4  [")
	first := strings.Index(text, "step 1/4")
	if second < 0 || strings.LastIndex(text, "step 1/4  [") == first {
		t.Errorf("the count did not restart for the second run: %q", redraws)
	}
	// Log lines and evaluation lines start on a clean line.
	if n := strings.Count(text, "\r\x1b[Krun starts\n"); n != 1 || !strings.HasPrefix(text, "run starts\n") {
		t.Errorf("the second run's log line is not on a clean line: %q", text)
	}
	for _, l := range strings.Split(text, "\n") {
		if i := strings.Index(l, "step 2/4  epoch"); i >= 0 && !strings.HasSuffix(l[:i], "\r\x1b[K") {
			t.Errorf("an evaluation line glued to a progress line: %q", l)
		}
	}
	if n := strings.Count(text, "step 2/4  epoch 1  loss"); n != 2 {
		t.Errorf("%d evaluation lines at step 2/4, want 2 (one per run)", n)
	}
}

// TestProgressViewPiped: without a terminal only the evaluation lines are written, one per evaluation.
func TestProgressViewPiped(t *testing.T) {
	var out bytes.Buffer
	p := &progressView{w: &out, width: func() int { return 80 }, now: time.Now}
	for step := 1; step <= 6; step++ {
		must(t, p.Observe(experiments.RunEvent{RunID: 1, TotalSteps: 6, Event: lstm.Event{Kind: lstm.EventStep, Step: step, Loss: 2}}))
		if step%3 == 0 {
			must(t, p.Observe(experiments.RunEvent{RunID: 1, TotalSteps: 6, Event: lstm.Event{Kind: lstm.EventEval, Step: step, Val: &lstm.EvalResult{Loss: 1}}}))
		}
	}
	p.Close()
	lines := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
	if len(lines) != 2 || strings.ContainsAny(out.String(), "\r\x1b") || !strings.HasPrefix(lines[1], "step 6/6") {
		t.Errorf("piped output: %q", out.String())
	}
}

// TestProgressViewFitsEvalLines: in a terminal an evaluation line fits its width (each redraw asks it);
// piped, the line is whole (a log keeps every figure), however narrow the width the view was given.
func TestProgressViewFitsEvalLines(t *testing.T) {
	for _, tty := range []bool{true, false} {
		var out bytes.Buffer
		p := &progressView{w: &out, tty: tty, width: func() int { return 60 }, now: time.Now}
		must(t, p.Observe(experiments.RunEvent{RunID: 1, TotalSteps: 1000, Event: lstm.Event{Kind: lstm.EventStep, Step: 400, Loss: 1.5, TokensPS: 9912}}))
		must(t, p.Observe(evalEvent()))
		p.Close()
		var line string
		for _, seg := range strings.Split(out.String(), "\n") {
			if i := strings.LastIndex(seg, "step 400/1000  "); i >= 0 && strings.Contains(seg, "val_bpc") {
				line = seg[i:]
			}
		}
		if tty && (line == "" || len(line) >= 60) || !tty && (!strings.Contains(line, "val_cold_bpc 2.301") || !strings.Contains(line, "val_acc")) {
			t.Errorf("tty %v: evaluation line %q (%d columns) in %q", tty, line, len(line), out.String())
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
