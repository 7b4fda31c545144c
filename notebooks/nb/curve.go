package nb

import (
	"fmt"

	"github.com/lstmlab/lstmlab/experiments"
	"github.com/lstmlab/lstmlab/lstm"
)

// TrainingCurve collects a run's losses while it trains (Add, from experiments.TrainOptions.Observe) and
// draws them: the training loss of every step in TrainColor, each validation in ValColor with a dot, the
// baselines, and a grey line at every epoch start, where training resets the carried state to zero.
type TrainingCurve struct {
	Title     string
	Baselines []Baseline
	// Train and Val are the losses so far: X the step, Y the loss.
	TrainX, TrainY, ValX, ValY []float64
	// WindowsPerEpoch is the number of training windows in one pass over the training split (0: unknown).
	WindowsPerEpoch int
}

// Add records a training event.
func (c *TrainingCurve) Add(ev experiments.RunEvent) {
	switch ev.Kind {
	case lstm.EventStep:
		c.TrainX, c.TrainY = append(c.TrainX, float64(ev.Step)), append(c.TrainY, ev.Loss)
		c.WindowsPerEpoch = ev.WindowsEpoch
	case lstm.EventEval:
		c.ValX, c.ValY = append(c.ValX, float64(ev.Step)), append(c.ValY, ev.Val.Loss)
	}
}

// EpochStarts returns the steps after which training started a new epoch (and reset its state), up to
// the last step recorded.
func (c *TrainingCurve) EpochStarts() []float64 {
	var starts []float64
	if c.WindowsPerEpoch <= 0 || len(c.TrainX) == 0 {
		return nil
	}
	for s := c.WindowsPerEpoch; float64(s) < c.TrainX[len(c.TrainX)-1]; s += c.WindowsPerEpoch {
		starts = append(starts, float64(s)+0.5)
	}
	return starts
}

// Chart returns the curve as a chart, in nats per token.
func (c *TrainingCurve) Chart() Chart {
	ch := Chart{Title: c.Title, XLabel: "step", YLabel: "loss (nats per token)", Baselines: c.Baselines,
		Markers: c.EpochStarts(), MarkerLabel: "epoch start: state reset to zero"}
	if len(c.TrainX) > 0 {
		ch.Series = append(ch.Series, Series{Label: "training loss (each step's window)", X: c.TrainX, Y: c.TrainY, Color: TrainColor, Width: 1})
	}
	if len(c.ValX) > 0 {
		ch.Series = append(ch.Series, Series{Label: "validation loss", X: c.ValX, Y: c.ValY, Color: ValColor, Dots: true, Width: 2.5})
	}
	return ch
}

// HTML draws the chart as an <img> with a status line under it, for a Live display.
func (c *TrainingCurve) HTML(status string) string {
	if len(c.TrainX) == 0 {
		return fmt.Sprintf("<code>%s</code>", status)
	}
	png, err := c.Chart().PNG()
	if err != nil {
		return fmt.Sprintf("<code>%s (plot: %v)</code>", status, err)
	}
	return ImgTag(png) + fmt.Sprintf("<br/><code>%s</code>", status)
}
