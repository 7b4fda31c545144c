package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/lstmlab/lstmlab/experiments"
	"github.com/lstmlab/lstmlab/internal/goldenfile"
	"github.com/lstmlab/lstmlab/lstm"
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

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
