package render

import (
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/lstmlab/lstmlab/tracker"
)

// Runs writes a list of runs (as returned by tracker.DB.ListRuns).
//
// The table, HTML and Markdown forms are compact: id, name, experiment,
// status, start, duration, the params whose values differ between the
// listed runs (all params for a single run), the latest value of each
// metric and the best validation loss. CSV is complete, for spreadsheets:
// every attribute, params.<key>, metrics.<key> (latest), best.<key> and
// tags.<key> — the same names the filter language uses. JSON is the full
// []tracker.RunInfo.
func Runs(w io.Writer, runs []tracker.RunInfo, f Format) error {
	var err error
	switch f {
	case JSON:
		err = writeJSON(w, runs)
	case CSV:
		err = runsCSVDocument(runs).write(w, f)
	default:
		err = runsDocument(runs).write(w, f)
	}
	if err != nil {
		return fmt.Errorf("render runs as %s: %w", f, err)
	}
	return nil
}

func writeJSON(w io.Writer, v any) error {
	// An empty list is [], not null.
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Slice && rv.IsNil() {
		v = []any{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func runsDocument(runs []tracker.RunInfo) document {
	doc := document{empty: "no runs"}
	if len(runs) == 0 {
		return doc
	}
	params := varyingParams(runs)
	metrics := metricKeys(runs)
	bestKey := ""
	for _, r := range runs {
		if _, ok := r.Metrics[tracker.MetricValLoss]; ok {
			bestKey = tracker.MetricValLoss
		}
	}
	s := section{header: []string{"id", "name", "experiment", "status", "started", "duration"}}
	s.header = append(s.header, params...)
	for _, k := range metrics {
		if slices.Contains(params, k) { // e.g. lr, both a hyperparameter and a logged metric: name it as filters do
			k = "metrics." + k
		}
		s.header = append(s.header, k)
	}
	if bestKey != "" {
		s.header = append(s.header, "best "+bestKey)
	}
	for _, r := range runs {
		row := []string{strconv.FormatInt(r.ID, 10), r.Name, r.Experiment, string(r.Status), formatTime(r.Start), formatDuration(r.Duration())}
		for _, k := range params {
			v, ok := r.Params[k]
			row = append(row, formatParam(v, ok))
		}
		for _, k := range metrics {
			row = append(row, lastValue(r, k))
		}
		if bestKey != "" {
			row = append(row, bestValue(r, bestKey))
		}
		s.rows = append(s.rows, row)
	}
	doc.sections = []section{s}
	return doc
}

func runsCSVDocument(runs []tracker.RunInfo) document {
	paramSet, metricSet, tagSet := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, r := range runs {
		for k := range r.Params {
			paramSet[k] = true
		}
		for k := range r.Metrics {
			metricSet[k] = true
		}
		for k := range r.Tags {
			tagSet[k] = true
		}
	}
	params, metrics, tags := sortedKeys(paramSet), tracker.MetricOrder(sortedKeys(metricSet)), sortedKeys(tagSet)
	s := section{header: []string{"id", "name", "experiment", "status", "start", "end", "duration_s",
		"backend", "host", "git_commit", "parent_id", "command", "note"}}
	for _, k := range params {
		s.header = append(s.header, "params."+k)
	}
	for _, k := range metrics {
		s.header = append(s.header, "metrics."+k)
	}
	for _, k := range metrics {
		s.header = append(s.header, "best."+k)
	}
	for _, k := range tags {
		s.header = append(s.header, "tags."+k)
	}
	for _, r := range runs {
		end, parent := "", ""
		if !r.End.IsZero() {
			end = r.End.Format(time.RFC3339)
		}
		if r.ParentID != 0 {
			parent = strconv.FormatInt(r.ParentID, 10)
		}
		row := []string{strconv.FormatInt(r.ID, 10), r.Name, r.Experiment, string(r.Status), r.Start.Format(time.RFC3339), end,
			strconv.FormatFloat(r.Duration().Seconds(), 'f', 1, 64), r.Backend, r.Host, r.GitCommit, parent, r.Command, r.Note}
		for _, k := range params {
			v, ok := r.Params[k]
			row = append(row, formatParam(v, ok))
		}
		for _, k := range metrics {
			row = append(row, exactValue(r, k, false))
		}
		for _, k := range metrics {
			row = append(row, exactValue(r, k, true))
		}
		for _, k := range tags {
			row = append(row, r.Tags[k])
		}
		s.rows = append(s.rows, row)
	}
	return document{sections: []section{s}}
}

// varyingParams are the param keys whose values differ between runs (or
// are missing from some); with a single run, all of its params.
func varyingParams(runs []tracker.RunInfo) []string {
	set := map[string]bool{}
	for _, r := range runs {
		for k := range r.Params {
			set[k] = true
		}
	}
	var out []string
	for _, k := range sortedKeys(set) {
		if len(runs) == 1 {
			out = append(out, k)
			continue
		}
		first, ok := runs[0].Params[k]
		for _, r := range runs[1:] {
			v, has := r.Params[k]
			if has != ok || !reflect.DeepEqual(v, first) {
				out = append(out, k)
				break
			}
		}
	}
	return out
}

func metricKeys(runs []tracker.RunInfo) []string {
	set := map[string]bool{}
	for _, r := range runs {
		for k := range r.Metrics {
			set[k] = true
		}
	}
	return tracker.MetricOrder(sortedKeys(set))
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func lastValue(r tracker.RunInfo, key string) string {
	s, ok := r.Metrics[key]
	if !ok {
		return ""
	}
	return formatMetric(s.Last.Value)
}

func bestValue(r tracker.RunInfo, key string) string {
	s, ok := r.Metrics[key]
	if !ok || s.Best == nil {
		return ""
	}
	return formatMetric(s.Best.Value)
}

// exactValue is a metric's latest (or best) value at full precision, for
// CSV.
func exactValue(r tracker.RunInfo, key string, best bool) string {
	s, ok := r.Metrics[key]
	if !ok {
		return ""
	}
	p := &s.Last
	if best {
		p = s.Best
	}
	if p == nil {
		return ""
	}
	return strconv.FormatFloat(p.Value, 'g', -1, 64)
}
