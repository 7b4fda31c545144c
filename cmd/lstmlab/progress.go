package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/lstmlab/lstmlab/experiments"
	"github.com/lstmlab/lstmlab/lstm"
)

// progressView shows training like Keras does: one progress bar per epoch with loss, last validation
// loss, bits per token (bpc, bpg or bpw by level), tokens/s and ETA, and one line per evaluation. Without a terminal (CI, pipes) it
// prints only the evaluation lines, so logs stay readable.
type progressView struct {
	w        io.Writer
	tty      bool
	bar      *progressbar.ProgressBar
	epoch    int
	lastVal  *lstm.EvalResult
	lastLoss float64
	tps      float64
	quiet    bool
}

func newProgressView(w io.Writer, quiet bool) *progressView {
	tty := false
	if f, ok := w.(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	return &progressView{w: w, tty: tty, epoch: -1, quiet: quiet}
}

func (p *progressView) newBar(ev experiments.RunEvent) {
	if p.bar != nil {
		_ = p.bar.Finish()
		fmt.Fprintln(p.w)
	}
	p.epoch = ev.Epoch
	doneInEpoch := int(ev.Progress*float64(ev.WindowsEpoch) + 0.5)
	total := min(ev.WindowsEpoch, doneInEpoch+ev.StepsLeft+1)
	p.bar = progressbar.NewOptions(total,
		progressbar.OptionSetWriter(p.w),
		progressbar.OptionSetDescription(fmt.Sprintf("epoch %d", ev.Epoch+1)),
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionSetWidth(24),
		progressbar.OptionShowDescriptionAtLineEnd(),
	)
	_ = p.bar.Set(max(doneInEpoch-1, 0))
}

// Observe consumes one training event.
func (p *progressView) Observe(ev experiments.RunEvent) error {
	if p.quiet {
		return nil
	}
	switch ev.Kind {
	case lstm.EventStep:
		p.lastLoss = ev.Loss
		if p.tps == 0 {
			p.tps = ev.TokensPS
		} else {
			p.tps = 0.9*p.tps + 0.1*ev.TokensPS
		}
		if !p.tty {
			return nil
		}
		if ev.Epoch != p.epoch || p.bar == nil {
			p.newBar(ev)
		}
		desc := fmt.Sprintf("epoch %d  step %d/%d  loss %.3f", ev.Epoch+1, ev.Step, ev.TotalSteps, ev.Loss)
		if p.lastVal != nil {
			desc += fmt.Sprintf("  val %.3f  %s %.3f", p.lastVal.Loss, p.lastVal.BitsName(), p.lastVal.BitsPerToken)
		}
		desc += fmt.Sprintf("  %.0f tok/s", p.tps)
		p.bar.Describe(desc)
		_ = p.bar.Add(1)
	case lstm.EventEval:
		p.lastVal = ev.Val
		mark := ""
		if ev.Improved {
			mark = "  *best"
		}
		line := fmt.Sprintf("step %d/%d  epoch %d  loss %.4f  val_loss %.4f  val_%s %.3f  val_ppl %.2f  val_acc %.3f  %.0f tok/s  %s%s",
			ev.Step, ev.TotalSteps, ev.Epoch+1, p.lastLoss, ev.Val.Loss, ev.Val.BitsName(), ev.Val.BitsPerToken, ev.Val.Perplexity, ev.Val.Accuracy, p.tps,
			ev.Elapsed.Round(time.Second), mark)
		if p.tty && p.bar != nil {
			_ = p.bar.Clear()
			fmt.Fprintf(p.w, "\r%s\n", line)
			_ = p.bar.RenderBlank()
		} else {
			fmt.Fprintln(p.w, line)
		}
	}
	return nil
}

// Close ends the last bar.
func (p *progressView) Close() {
	if p.bar != nil {
		_ = p.bar.Finish()
		fmt.Fprintln(p.w)
		p.bar = nil
	}
}
