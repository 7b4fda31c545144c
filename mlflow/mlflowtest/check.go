package mlflowtest

import (
	"context"
	"encoding/json"
	"html"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/lstmlab/lstmlab/mlflow"
	"github.com/lstmlab/lstmlab/tracker"
)

// CheckRun asserts that the server of c holds a complete copy of the local
// run: name, status, start and end time, every param, every tag and the
// note, and every metric's full history (same steps, wall times and
// values; no point missing or repeated). Steps a resume took back and
// logged again may keep the server's earlier point (earlier wall time; the
// same value unless the run is tagged mlflow.TagHistoryRewritten). It
// returns the remote run.
func CheckRun(t testing.TB, db *tracker.DB, c *mlflow.Client, runID int64) mlflow.Run {
	t.Helper()
	ctx := context.Background()
	info, err := db.GetRun(ctx, runID)
	if err != nil {
		t.Fatal(err)
	}
	remoteID, err := db.RemoteRun(ctx, runID, c.URI())
	if err != nil {
		t.Fatal(err)
	}
	if remoteID == "" { // not recorded (a read-only database): find it by its UUID
		if exp, err := c.ExperimentByName(ctx, info.Experiment); err == nil {
			runs, _, err := c.SearchRuns(ctx, mlflow.SearchRuns{ExperimentIDs: []string{exp.ID},
				Filter: "tags.`" + mlflow.TagRunUUID + "` = '" + info.UUID + "'"})
			if err == nil && len(runs) == 1 {
				remoteID = runs[0].Info.ID
			}
		}
	}
	if remoteID == "" {
		t.Fatalf("run %d (%s) has no remote run on %s", runID, info.Name, c.URI())
	}
	r, err := c.GetRun(ctx, remoteID)
	if err != nil {
		t.Fatalf("run %d (%s): %v", runID, info.Name, err)
	}
	want := map[tracker.Status]mlflow.RunStatus{tracker.StatusRunning: mlflow.StatusRunning, tracker.StatusFinished: mlflow.StatusFinished,
		tracker.StatusFailed: mlflow.StatusFailed, tracker.StatusInterrupted: mlflow.StatusKilled}[info.Status]
	if r.Info.Name != info.Name || r.Info.Status != want || r.Info.StartTime != info.Start.UnixMilli() ||
		(!info.End.IsZero() && r.Info.EndTime != info.End.UnixMilli()) {
		t.Errorf("run %d (%s): remote %+v; want name %s, status %s, start %d, end %d", runID, info.Name, r.Info,
			info.Name, want, info.Start.UnixMilli(), info.End.UnixMilli())
	}
	changes, err := db.ParamChanges(ctx, runID)
	if err != nil {
		t.Fatal(err)
	}
	params := r.Data.ParamMap()
	for k, v := range mlflow.RemoteParams(info.Params, changes) {
		if got, ok := params[k]; !ok || got != v {
			t.Errorf("run %d (%s): param %s = %q on the server, want %q", runID, info.Name, k, got, v)
		}
	}
	tags := r.Data.TagMap()
	for k, v := range info.Tags {
		if tags[mlflow.Key(k)] != v {
			t.Errorf("run %d (%s): tag %s = %q on the server, %q here", runID, info.Name, k, tags[mlflow.Key(k)], v)
		}
	}
	var mirrored []string // the run's own tags as the server lists them: none deleted here may remain there
	if err := json.Unmarshal([]byte(tags[mlflow.TagUserTags]), &mirrored); err == nil {
		local := map[string]bool{}
		for k := range info.Tags {
			local[mlflow.Key(k)] = true
		}
		for _, k := range mirrored {
			if !local[k] {
				t.Errorf("run %d (%s): tag %s, deleted here, is still listed on the server", runID, info.Name, k)
			}
		}
	}
	if info.Note != "" && tags["mlflow.note.content"] != info.Note {
		t.Errorf("run %d (%s): note %q on the server, %q here", runID, info.Name, tags["mlflow.note.content"], info.Note)
	}
	discards, err := db.Discards(ctx, runID)
	if err != nil {
		t.Fatal(err)
	}
	rewritten, hasMark := int64(0), false
	if v, ok := tags[mlflow.TagHistoryRewritten]; ok {
		n, err := strconv.ParseInt(v, 10, 64)
		rewritten, hasMark = n, err == nil
	}
	// earlier reports whether the server may hold, for step, a point the run logged before a discard
	// took it back (the server keeps those: MLflow cannot delete points), and whether its value may
	// differ from the run's (the remote run is tagged mlflow.TagHistoryRewritten).
	earlier := func(step, timeMS int64) (ok, mayDiffer bool) {
		for _, d := range discards {
			if d.AfterStep < step && step <= d.ThroughStep && timeMS <= d.Time.UnixMilli() {
				ok, mayDiffer = true, mayDiffer || (hasMark && rewritten <= d.AfterStep)
			}
		}
		return ok, mayDiffer
	}
	for key := range info.Metrics {
		local, err := db.History(ctx, runID, key)
		if err != nil {
			t.Fatal(err)
		}
		remote, err := c.MetricHistory(ctx, remoteID, mlflow.Key(key))
		if err != nil {
			t.Fatal(err)
		}
		byStep := map[int64]mlflow.Metric{}
		for _, rp := range remote {
			if _, dup := byStep[rp.Step]; dup {
				t.Errorf("run %d (%s) metric %s: step %d twice on the server", runID, info.Name, key, rp.Step)
			}
			byStep[rp.Step] = rp
		}
		mismatch := false
		for _, l := range local {
			rp, ok := byStep[l.Step]
			delete(byStep, l.Step)
			if ok && rp.Timestamp == l.Time.UnixMilli() && mlflow.SameValue(l.Value, rp.Value) {
				continue
			}
			if ok {
				prior, mayDiffer := earlier(rp.Step, rp.Timestamp)
				if prior && (mayDiffer || tracker.MachineMetric(key) || mlflow.SameValue(l.Value, rp.Value)) {
					continue
				}
			}
			t.Errorf("run %d (%s) metric %s step %d: server %+v (present %v); here time %d value %v",
				runID, info.Name, key, l.Step, rp, ok, l.Time.UnixMilli(), l.Value)
			mismatch = true
			break
		}
		for step, rp := range byStep {
			if mismatch {
				break
			}
			if _, mayDiffer := earlier(step, rp.Timestamp); !mayDiffer {
				t.Errorf("run %d (%s) metric %s: step %d on the server, not here", runID, info.Name, key, step)
			}
		}
	}
	return r
}

var (
	chartCard = regexp.MustCompile(`<h4[^>]*title="([^"]*)"`)
	chartLine = regexp.MustCompile(`class="js-line" d="([^"]*)"`)
	segment   = regexp.MustCompile(`[LQC]`)
	runLink   = regexp.MustCompile(`<a[^>]*href="#/experiments/\d+/runs/[0-9a-f]+"[^>]*>(.*?)</a>`)
	tag       = regexp.MustCompile(`<[^>]*>`)
)

// ChartLines reads the MLflow UI's chart view (the DOM of an experiment
// page with compareRunsMode=CHART): for the chart titled metric, the number
// of points on each drawn line (one line per run), as Plotly drew them.
func ChartLines(dom, metric string) []int {
	cards := chartCard.FindAllStringSubmatchIndex(dom, -1)
	for i, c := range cards {
		if html.UnescapeString(dom[c[2]:c[3]]) != metric {
			continue
		}
		end := len(dom)
		if i+1 < len(cards) {
			end = cards[i+1][0]
		}
		var points []int
		for _, m := range chartLine.FindAllStringSubmatch(dom[c[1]:end], -1) {
			points = append(points, len(segment.FindAllString(m[1], -1))+1)
		}
		return points
	}
	return nil
}

// ExperimentURL is the MLflow UI page of an experiment: its runs table, or
// with chart the chart view comparing its runs' metrics.
func ExperimentURL(s *Server, experimentID string, chart bool) string {
	u := s.UI() + "#/experiments/" + experimentID
	if chart {
		u += "?compareRunsMode=CHART"
	}
	return u
}

// RunURL is the MLflow UI page of a run.
func RunURL(s *Server, experimentID, runID string) string {
	return s.UI() + "#/experiments/" + experimentID + "/runs/" + runID
}

// RunNames returns the run names the MLflow UI's runs table shows.
func RunNames(dom string) []string {
	var names []string
	for _, m := range runLink.FindAllStringSubmatch(dom, -1) {
		if n := strings.TrimSpace(html.UnescapeString(tag.ReplaceAllString(m[1], ""))); n != "" {
			names = append(names, n)
		}
	}
	return names
}
