package render

import (
	"math"
	"strconv"
	"time"

	"github.com/lstmlab/lstmlab/tracker"
)

// formatMetric shows a metric value with four significant digits, enough
// to tell runs apart (1.234, 0.0003421), and values from 10 000 to a
// billion (throughputs, counts) as whole numbers (22680, not 2.268e+04).
func formatMetric(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.Abs(v) >= 1e4 && math.Abs(v) < 1e9:
		return strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

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
