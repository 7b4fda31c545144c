package render

import (
	"bytes"
	"strings"
	"testing"

	"github.com/lstmlab/lstmlab/tracker"
)

// TestRunsTableWritingColumns: runs that logged the writing figures show the latest val_cold_bpc and
// free_running_bpc in the default columns when the width allows, and a narrower table leaves them out
// before its first keepParams params (here the only one, hidden), saying so.
func TestRunsTableWritingColumns(t *testing.T) {
	runs := fixtureRuns()
	runs[0].Metrics[tracker.MetricValColdBPC] = summary(tracker.MetricValColdBPC, 2.51, 2.5, 200)
	runs[0].Metrics[tracker.MetricFreeRunningBPC] = summary(tracker.MetricFreeRunningBPC, 2.77, 2.6, 200)
	table := func(width int) string {
		var b bytes.Buffer
		if err := RunsWith(&b, runs, Table, RunsOptions{Width: width}); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	wide := table(400)
	for _, want := range []string{tracker.MetricValColdBPC, tracker.MetricFreeRunningBPC, "2.51", "2.77", "hidden"} {
		if !strings.Contains(wide, want) {
			t.Errorf("wide table lacks %q:\n%s", want, wide)
		}
	}
	narrow := table(125)
	if strings.Contains(strings.SplitN(narrow, "\n", 2)[0], tracker.MetricFreeRunningBPC) || !strings.Contains(narrow, "hidden") ||
		!strings.Contains(narrow, "not shown to fit 125 columns") {
		t.Errorf("narrow table: want free_running_bpc left out (with a note) before the hidden param:\n%s", narrow)
	}
}
