package main

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lstmlab/lstmlab/experiments"
	"github.com/lstmlab/lstmlab/lstm"
	"github.com/lstmlab/lstmlab/tracker/render"
)

// progressView shows training like Keras does: in a terminal, one progress line redrawn in place (step,
// bar, loss, last validation loss, tokens/s, time left) plus one line per evaluation, both fitted to the
// terminal's width; without a terminal (CI, pipes) only the evaluation lines, whole, so logs stay readable
// and keep every figure.
//
// The line is drawn by hand rather than with a progress-bar library: it must be a pure function of the
// state and the width (renderProgress) so it can be tested at any width, drop fields to fit, restart for
// each run of a sweep and count steps as the evaluation lines do, which none of them does together.
type progressView struct {
	mu    sync.Mutex // Observe and the log writer may be called from different goroutines
	w     io.Writer
	tty   bool
	quiet bool
	// width returns the terminal's width; now the time (tests replace both).
	width func() int
	now   func() time.Time

	state     progressState
	runID     int64
	shown     bool      // a progress line is on screen
	lastDraw  time.Time // throttles redraws
	runStart  time.Time // when this process started stepping the current run
	startStep int       // the step the current run was at then
}

// progressState is what the progress line shows.
type progressState struct {
	Epoch       int // 1-based
	Step, Total int // steps done and the run's total, as in the evaluation lines
	Loss        float64
	HasVal      bool
	ValLoss     float64
	TokensPS    float64
	Left        time.Duration // estimated time to the last step; 0 when unknown
}

func newProgressView(w io.Writer, quiet bool) *progressView {
	p := &progressView{w: w, quiet: quiet, now: time.Now, width: func() int { return 80 }}
	if _, ok := terminal(w); ok {
		p.tty = true
		p.width = func() int { return terminalWidth(w, 80) }
	}
	return p
}

// Observe consumes one training event.
func (p *progressView) Observe(ev experiments.RunEvent) error {
	if p.quiet {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	switch ev.Kind {
	case lstm.EventStep:
		p.step(ev)
	case lstm.EventEval:
		p.state.HasVal, p.state.ValLoss = true, ev.Val.Loss
		width := 0 // a log keeps every figure
		if p.tty {
			width = p.width()
		}
		line := renderEval(ev, p.state.Loss, p.state.TokensPS, width)
		p.clear()
		fmt.Fprintln(p.w, line)
		p.draw(true)
	}
	return nil
}

// step updates the state with a step event and redraws the line (at most five times a second).
func (p *progressView) step(ev experiments.RunEvent) {
	now := p.now()
	// A new run (the next point of a sweep, or a step count that went back): start afresh.
	if ev.RunID != p.runID || ev.Step <= p.state.Step || ev.TotalSteps != p.state.Total {
		p.clear()
		p.state, p.runID = progressState{}, ev.RunID
		p.runStart, p.startStep = now, ev.Step-1
	}
	s := &p.state
	s.Epoch, s.Step, s.Total, s.Loss = ev.Epoch+1, ev.Step, ev.TotalSteps, ev.Loss
	if s.TokensPS == 0 {
		s.TokensPS = ev.TokensPS
	} else {
		s.TokensPS = 0.9*s.TokensPS + 0.1*ev.TokensPS
	}
	if done := ev.Step - p.startStep; done > 0 {
		perStep := now.Sub(p.runStart) / time.Duration(done)
		s.Left = perStep * time.Duration(max(ev.TotalSteps-ev.Step, 0))
	}
	p.draw(ev.Step == ev.TotalSteps || now.Sub(p.lastDraw) >= 200*time.Millisecond)
}

// draw writes the progress line over the previous one: carriage return, the line, erase to its end.
func (p *progressView) draw(force bool) {
	if !p.tty || p.state.Total == 0 || !force {
		return
	}
	fmt.Fprint(p.w, "\r"+renderProgress(p.state, p.width())+"\x1b[K")
	p.shown, p.lastDraw = true, p.now()
}

// clear erases the progress line so the next output starts on a clean line.
func (p *progressView) clear() {
	if p.tty && p.shown {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.shown = false
	}
}

// Close erases the progress line.
func (p *progressView) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
}

// Writer returns w wrapped so that what the runner logs (which backend runs, where files go) starts on a
// clean line instead of being glued to the progress line; the next step redraws the line below it.
func (p *progressView) Writer(w io.Writer) io.Writer { return logWriter{p: p, w: w} }

type logWriter struct {
	p *progressView
	w io.Writer
}

func (l logWriter) Write(b []byte) (int, error) {
	l.p.mu.Lock()
	defer l.p.mu.Unlock()
	l.p.clear()
	return l.w.Write(b)
}

// progressField is one part of the progress line; lower rank is more important (kept longer).
type progressField struct {
	rank int
	text string
}

// renderProgress lays out the progress line for a terminal width columns wide, one column short of it
// (writing into the last column makes some terminals wrap). Fields that do not fit are left out, least
// important first: epoch, tokens/s, validation loss, the bar, time left, loss; the step count stays. The
// bar takes what room is left, 10 to 30 columns.
//
//	epoch 2  step 1234/5000 [======>         ] 25%  loss 1.234  val 1.456  9.9k tok/s  ETA 3m12s
func renderProgress(s progressState, width int) string {
	width = max(width-1, 1)
	pct := 0.0
	if s.Total > 0 {
		pct = math.Min(1, float64(s.Step)/float64(s.Total))
	}
	fields := []progressField{
		{6, fmt.Sprintf("epoch %d", s.Epoch)},
		{0, fmt.Sprintf("step %d/%d", s.Step, s.Total)},
		{3, ""}, // the bar, sized last
		{1, "loss " + render.Number(s.Loss, 3)},
		{4, ""},
		{5, ""},
		{2, ""},
	}
	if s.HasVal {
		fields[4].text = "val " + render.Number(s.ValLoss, 3)
	}
	if s.TokensPS > 0 {
		fields[5].text = formatRate(s.TokensPS) + " tok/s"
	}
	if s.Left > 0 {
		fields[6].text = "ETA " + formatLeft(s.Left)
	}
	const minBar, maxBar = 10, 30
	pctText := fmt.Sprintf(" %3.0f%%", 100*pct)
	keep := map[int]bool{}
	for i, f := range fields {
		keep[i] = f.text != "" || i == 2
	}
	for {
		fixed, n := 0, 0
		for i, f := range fields {
			if keep[i] && i != 2 {
				fixed += len(f.text)
				n++
			}
		}
		barRoom := 0
		if keep[2] {
			barRoom = width - fixed - 2*n - len(pctText) // the bar and its percentage, after two spaces
		}
		if !keep[2] || barRoom >= minBar {
			if keep[2] {
				fields[2].text = bar(pct, min(barRoom, maxBar)) + pctText
			}
			if fixed+2*(n-1) <= width || n == 1 {
				break
			}
		}
		// Drop the least important field still kept (the step count never goes).
		worst := -1
		for i, f := range fields {
			if keep[i] && f.rank > 0 && (worst < 0 || f.rank > fields[worst].rank) {
				worst = i
			}
		}
		if worst < 0 {
			break
		}
		keep[worst] = false
	}
	var parts []string
	for i, f := range fields {
		if keep[i] && f.text != "" {
			parts = append(parts, f.text)
		}
	}
	line := strings.Join(parts, "  ")
	if len(line) > width { // only the step count is left and even it is too wide
		line = line[:width]
	}
	return line
}

// renderEval lays out an evaluation line (loss is the latest training loss, tokensPS the smoothed rate),
// fitted like the progress line to a terminal width columns wide, one column short of it, when width > 0:
// fields that do not fit are left out, least important first (tok/s, val_acc, val_ppl, epoch, elapsed
// time, training loss, the cold start, the free-running figure, val_loss, *best); the step count and the
// validation bits stay (cut at the width only when even they do not fit).
//
//	step 400/1000  epoch 3  loss 1.5123  val_loss 1.5512  val_bpc 2.238  val_ppl 4.72  val_acc 0.552  val_cold_bpc 2.301  free_running_bpc 2.412  9.91k tok/s  1m40s  *best
func renderEval(ev experiments.RunEvent, loss, tokensPS float64, width int) string {
	fields := []progressField{
		{0, fmt.Sprintf("step %d/%d", ev.Step, ev.TotalSteps)},
		{8, fmt.Sprintf("epoch %d", ev.Epoch+1)},
		{6, "loss " + render.Number(loss, 4)},
		{3, "val_loss " + render.Number(ev.Val.Loss, 4)},
		{0, fmt.Sprintf("val_%s %s", ev.Val.BitsName(), render.Number(ev.Val.BitsPerToken, 3))},
		{9, "val_ppl " + render.Number(ev.Val.Perplexity, 2)},
		{10, "val_acc " + render.Number(ev.Val.Accuracy, 3)},
		{5, ""},
		{4, ""},
		{11, render.Number(tokensPS, 0) + " tok/s"},
		{7, ev.Elapsed.Round(time.Second).String()},
		{2, ""},
	}
	if c := ev.ColdStart; c != nil {
		fields[7].text = fmt.Sprintf("val_cold_%s %s", c.BitsName(), render.Number(c.BitsPerToken, 3))
	}
	if f := ev.FreeRunning; f != nil {
		fields[8].text = fmt.Sprintf("free_running_%s %s", f.BitsName(), render.Number(f.BitsPerToken, 3))
	}
	if ev.Improved {
		fields[11].text = "*best"
	}
	join := func() string {
		var parts []string
		for _, f := range fields {
			if f.text != "" {
				parts = append(parts, f.text)
			}
		}
		return strings.Join(parts, "  ")
	}
	line := join()
	if width <= 0 {
		return line
	}
	width = max(width-1, 1)
	for len(line) > width {
		worst := -1
		for i, f := range fields {
			if f.text != "" && f.rank > 0 && (worst < 0 || f.rank > fields[worst].rank) {
				worst = i
			}
		}
		if worst < 0 {
			return line[:width] // only the step count and the validation bits are left
		}
		fields[worst].text = ""
		line = join()
	}
	return line
}

// bar draws [=====>    ] in width columns (brackets included).
func bar(frac float64, width int) string {
	inner := max(width-2, 1)
	done := int(frac * float64(inner))
	switch {
	case done >= inner:
		return "[" + strings.Repeat("=", inner) + "]"
	case done == 0:
		return "[" + strings.Repeat(" ", inner) + "]"
	}
	return "[" + strings.Repeat("=", done-1) + ">" + strings.Repeat(" ", inner-done) + "]"
}

// formatRate shows a rate with three significant digits: 812, 9.91k, 12.3k.
func formatRate(v float64) string {
	switch {
	case v >= 1e6:
		return strconv.FormatFloat(v/1e6, 'f', 2, 64) + "M"
	case v >= 1e4:
		return strconv.FormatFloat(v/1e3, 'f', 1, 64) + "k"
	case v >= 1e3:
		return strconv.FormatFloat(v/1e3, 'f', 2, 64) + "k"
	}
	return strconv.FormatFloat(v, 'f', 0, 64)
}

// formatLeft shows a remaining time: 45s, 3m12s, 2h05m.
func formatLeft(d time.Duration) string {
	switch {
	case d < time.Minute:
		return d.Round(time.Second).String()
	case d < time.Hour:
		d = d.Round(time.Second)
		return fmt.Sprintf("%dm%02ds", int(d/time.Minute), int(d%time.Minute/time.Second))
	}
	d = d.Round(time.Minute)
	return fmt.Sprintf("%dh%02dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
}
