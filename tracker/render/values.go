package render

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/lstmlab/lstmlab/tracker"
)

// LargeNumber is where Number switches to four significant digits and an exponent (1.256e+50): a
// diverging run's perplexity would otherwise print as hundreds of digits.
const LargeNumber = 1e6

// Number formats a figure the same way in tables, progress lines and summaries: NaN, +Inf and -Inf as
// such; four significant digits with an exponent from LargeNumber on (2.251e+06); below it, decimals
// digits after the point, or with decimals < 0 the tables' style: four significant digits (1.234,
// 0.0003421), and whole numbers from 10 000 (22680, not 2.268e+04).
func Number(v float64, decimals int) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.Abs(v) >= LargeNumber:
		return strconv.FormatFloat(v, 'g', 4, 64)
	case decimals >= 0:
		return strconv.FormatFloat(v, 'f', decimals, 64)
	case math.Abs(v) >= 1e4:
		return strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

// formatMetric shows a metric value in a table: Number in the tables' style.
func formatMetric(v float64) string { return Number(v, -1) }

// formatDuration rounds a duration for humans: 45s, 3m12s, 1h02m.
func formatDuration(d time.Duration) string {
	switch {
	case d < 0:
		return ""
	case d < time.Minute:
		return d.Round(time.Second).String()
	case d < time.Hour:
		d = d.Round(time.Second)
		return strconv.Itoa(int(d/time.Minute)) + "m" + pad2(int(d%time.Minute/time.Second)) + "s"
	}
	d = d.Round(time.Minute)
	return strconv.Itoa(int(d/time.Hour)) + "h" + pad2(int(d%time.Hour/time.Minute)) + "m"
}

func pad2(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

// formatTime shows a local date and time to the minute.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Local().Format("2006-01-02 15:04")
}

// formatParam shows a param value; missing is empty.
func formatParam(v any, ok bool) string {
	if !ok {
		return ""
	}
	return tracker.FormatParam(v)
}

// changesOf picks one param's changes out of a run's param history (in step order).
func changesOf(history []tracker.ParamChange, key string) []tracker.ParamChange {
	var out []tracker.ParamChange
	for _, c := range history {
		if c.Key == key {
			out = append(out, c)
		}
	}
	return out
}

// withHistory shows a param's latest value and, when the run changed it after it started (resume --set),
// the values before, newest first, each from the step it applied: "0.001 from step 601; 0.003 before".
func withHistory(latest string, changes []tracker.ParamChange) string {
	if len(changes) == 0 {
		return latest
	}
	parts := make([]string, 0, len(changes)+1)
	for i := len(changes) - 1; i >= 0; i-- {
		parts = append(parts, fmt.Sprintf("%s from step %d", formatParam(changes[i].Value, true), changes[i].Step))
	}
	before := "none"
	if old := changes[0].Old; old != nil {
		before = formatParam(old, true)
	}
	return strings.Join(append(parts, before+" before"), "; ")
}
