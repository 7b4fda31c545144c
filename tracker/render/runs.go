package render

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/lstmlab/lstmlab/tracker"
)

// Runs writes a list of runs (as returned by tracker.DB.ListRuns) with the
// default columns; see RunsWith.
func Runs(w io.Writer, runs []tracker.RunInfo, f Format) error {
	return RunsWith(w, runs, f, RunsOptions{})
}

// RunsOptions chooses what the runs table shows.
type RunsOptions struct {
	// Columns lists the table's columns by the names the filter language
	// uses (see ColumnHelp); empty means DefaultColumns.
	Columns []string
	// Width is the most terminal cells a plain-text table line may take;
	// default 120. Long cells are cut first, then (with the default
	// columns only) the rightmost params are left out, and a line under
	// the table says which.
	Width int
	// ColumnsHint tells the reader how to choose columns; it ends the line
	// under a table that left params out (a CLI: "choose columns with
	// --columns"). Empty: that line names the params left out only.
	ColumnsHint string
	// ParamsFirst and ParamsLast order the differing-params columns (the
	// "params" column set) by how much they tell about a run: the keys of
	// ParamsFirst first, in its order, then the others alphabetically, then
	// those of ParamsLast (paths, bookkeeping) in its order. Fitting leaves
	// params out from the right, so the last go first. Both empty:
	// alphabetical.
	ParamsFirst, ParamsLast []string
}

// DefaultColumns are the runs table's columns unless chosen: params is the
// params whose values differ between the listed runs (all of them for one
// run), bits the best of the validation bits metrics the runs logged
// (val_bpc, or whichever val_bp*/val_bits* names they use).
// writing the latest cold-start and free-running figures (IsWritingMetric).
var DefaultColumns = []string{"id", "name", "status", "start", "active", "params", "best.val_loss", "bits", "writing", "tags"}

// ColumnHelp describes the column names RunsOptions.Columns accepts.
const ColumnHelp = `id, run_id, name, experiment, status, start, end, duration (wall time), active (training
time without idle gaps), backend, host, git_commit, command, note, parent, tags (all, as k=v);
params (those that differ between the runs), params.* (all), params.<key>; metrics.<key> (latest
value), metrics.* ; best.<key> (best value), best.*; bits (best validation bits: val_bpc, ...);
writing (latest cold start and free-running bits: val_cold_bpc, free_running_bpc, ...); tags.<key>`

// RunsWith writes a list of runs. The table, HTML and Markdown forms show
// the chosen columns (DefaultColumns unless opts says), fitted to
// opts.Width in the table form. CSV is complete, for spreadsheets: every
// attribute, params.<key>, metrics.<key> (latest), best.<key> and
// tags.<key> — the names the filter language uses. JSON is the full
// []tracker.RunInfo. Non-finite metric values show as NaN, +Inf and -Inf
// (JSON: "NaN", "Infinity", "-Infinity", as MLflow's REST API). An
// unknown column name is an error naming the valid ones.
func RunsWith(w io.Writer, runs []tracker.RunInfo, f Format, opts RunsOptions) error {
	var err error
	switch f {
	case JSON:
		err = writeJSON(w, runs)
	case CSV:
		err = runsCSVDocument(runs).write(w, f)
	default:
		var doc document
		if doc, err = runsDocument(runs, opts, f == Table); err == nil {
			err = doc.write(w, f)
		}
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

// column is one column of the runs table.
type column struct {
	header string
	cell   func(r tracker.RunInfo) string
	// limit caps its width in the plain-text table; min is how far
	// fitting may shrink it.
	limit, min int
	// param marks a differing-param column, which fitting may leave out.
	param bool
	// extra marks a column fitting leaves out after all but keepParams params (the writing group).
	extra bool
	// name marks the run's name, which fitting shrinks last.
	name bool
}

func runsDocument(runs []tracker.RunInfo, opts RunsOptions, fit bool) (document, error) {
	doc := document{empty: "no runs"}
	names := opts.Columns
	chosen := len(names) > 0
	if !chosen {
		names = DefaultColumns
	}
	var cols []column
	for _, name := range names {
		c, err := resolveColumn(strings.TrimSpace(name), runs, opts)
		if err != nil {
			return doc, err
		}
		cols = append(cols, c...)
	}
	if len(runs) == 0 {
		return doc, nil
	}
	s := section{}
	for _, c := range cols {
		s.header = append(s.header, c.header)
		s.limits = append(s.limits, c.limit)
	}
	for _, r := range runs {
		row := make([]string, len(cols))
		for j, c := range cols {
			row[j] = c.cell(r)
		}
		s.rows = append(s.rows, row)
	}
	if fit {
		width := opts.Width
		if width <= 0 {
			width = 120
		}
		s = fitSection(s, cols, width, !chosen, opts.ColumnsHint)
	}
	doc.sections = []section{s}
	return doc, nil
}

// fitSection fits s into width cells, in this order: it shrinks the
// widest shrinkable columns (down to their min; the run's name to 20
// cells), then, if allowed, leaves out param columns from the right (the
// least telling: see RunsOptions.ParamsLast) down to keepParams, then the
// writing columns, then the other params, and only then shrinks the
// name further: a name is what a reader finds a run by. A note under the table, wrapped
// at width, says which params were left out (and hint, how to choose
// columns).
// keepParams is how many param columns fitting keeps before it leaves out the writing columns.
const keepParams = 3

func fitSection(s section, cols []column, width int, mayDrop bool, hint string) section {
	natural := func(j int) int {
		w := Width(s.header[j])
		for _, r := range s.rows {
			w = max(w, Width(oneLine(r[j], maxTextCell)))
		}
		if s.limits[j] > 0 {
			w = min(w, max(s.limits[j], Width(s.header[j])))
		}
		return w
	}
	widths := make([]int, len(cols))
	total := func() int {
		t := 2 * (len(widths) - 1)
		for _, w := range widths {
			t += w
		}
		return t
	}
	for j := range cols {
		widths[j] = natural(j)
	}
	// A column may shrink to its min, but not below its header's first
	// eight cells: a header cut to "hidd…" names nothing.
	floor := func(j int) int { return max(cols[j].min, min(Width(s.header[j]), 8)) }
	// Names keep up to nameKeep cells (sweep-hidden-lr-12) until every
	// param that can go has gone.
	const nameKeep = 20
	shrink := func(names bool, nameFloor int) {
		for total() > width {
			best := -1
			for j, c := range cols {
				f := floor(j)
				if c.name {
					f = max(f, nameFloor)
				}
				if c.min > 0 && (!c.name || names) && widths[j] > f && (best < 0 || widths[j] > widths[best]) {
					best = j
				}
			}
			if best < 0 {
				return
			}
			widths[best]--
		}
	}
	shrink(true, nameKeep)
	// drop leaves out the rightmost column that is marked, while the table is too wide, and returns the
	// headers left out.
	drop := func(marked func(column) bool) []string {
		var dropped []string
		for mayDrop && total() > width {
			last := -1
			for j, c := range cols {
				if marked(c) {
					last = j
				}
			}
			if last < 0 {
				break
			}
			dropped = append([]string{cols[last].header}, dropped...)
			cols = append(cols[:last:last], cols[last+1:]...)
			widths = append(widths[:last:last], widths[last+1:]...)
			s.header = append(s.header[:last:last], s.header[last+1:]...)
			for i, r := range s.rows {
				s.rows[i] = append(r[:last:last], r[last+1:]...)
			}
		}
		return dropped
	}
	// The first keepParams params (the most telling) outrank the writing figures; the rest do not.
	params := func() int {
		n := 0
		for _, c := range cols {
			if c.param {
				n++
			}
		}
		return n
	}
	dropped := drop(func(c column) bool { return c.param && params() > keepParams })
	extras := drop(func(c column) bool { return c.extra })
	dropped = append(drop(func(c column) bool { return c.param }), dropped...)
	shrink(true, 0)
	s.limits = widths
	if len(extras) > 0 {
		note := fmt.Sprintf("(%s not shown to fit %d columns; metrics.<key> shows one)", strings.Join(extras, ", "), width)
		s.notes = append(s.notes, wrapWords(note, width)...)
	}
	if len(dropped) > 0 {
		if hint != "" {
			hint = "; " + hint
		}
		note := fmt.Sprintf("(%d more params not shown to fit %d columns: %s%s)", len(dropped), width, strings.Join(dropped, ", "), hint)
		s.notes = append(s.notes, wrapWords(note, width)...)
	}
	return s
}

// wrapWords breaks text into lines of at most width cells between words
// (a word wider than width gets a line of its own).
func wrapWords(text string, width int) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(text) {
		switch {
		case line == "":
			line = w
		case Width(line)+1+Width(w) <= width:
			line += " " + w
		default:
			lines = append(lines, line)
			line = w
		}
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}

// resolveColumn turns a column name into the columns it stands for.
func resolveColumn(name string, runs []tracker.RunInfo, opts RunsOptions) ([]column, error) {
	one := func(c column) ([]column, error) { return []column{c}, nil }
	switch strings.ToLower(name) {
	case "id":
		return one(column{header: "id", cell: func(r tracker.RunInfo) string { return strconv.FormatInt(r.ID, 10) }})
	case "run_id":
		return one(column{header: "run_id", cell: func(r tracker.RunInfo) string { return strconv.FormatInt(r.ID, 10) }})
	case "name", "run_name":
		return one(column{header: "name", cell: func(r tracker.RunInfo) string { return r.Name }, limit: 28, min: 12, name: true})
	case "experiment":
		return one(column{header: "experiment", cell: func(r tracker.RunInfo) string { return r.Experiment }, limit: 20, min: 10})
	case "status":
		return one(column{header: "status", cell: func(r tracker.RunInfo) string { return string(r.Status) }})
	case "start", "start_time", "started":
		return one(column{header: "start", cell: func(r tracker.RunInfo) string { return formatTime(r.Start) }})
	case "end", "end_time":
		return one(column{header: "end", cell: func(r tracker.RunInfo) string { return formatTime(r.End) }})
	case "duration":
		return one(column{header: "duration", cell: func(r tracker.RunInfo) string { return formatDuration(r.Duration()) }})
	case "active", "active_time":
		return one(column{header: "active", cell: func(r tracker.RunInfo) string { return formatDuration(r.Active) }})
	case "backend":
		return one(column{header: "backend", cell: func(r tracker.RunInfo) string { return r.Backend }, limit: 20, min: 8})
	case "host":
		return one(column{header: "host", cell: func(r tracker.RunInfo) string { return r.Host }, limit: 20, min: 8})
	case "git_commit", "commit":
		return one(column{header: "git_commit", cell: func(r tracker.RunInfo) string { return r.GitCommit }, limit: 12, min: 7})
	case "command":
		return one(column{header: "command", cell: func(r tracker.RunInfo) string { return r.Command }, limit: 40, min: 12})
	case "note":
		return one(column{header: "note", cell: func(r tracker.RunInfo) string { return r.Note }, limit: 40, min: 10})
	case "parent", "parent_id":
		return one(column{header: "parent", cell: func(r tracker.RunInfo) string {
			if r.ParentID == 0 {
				return ""
			}
			return strconv.FormatInt(r.ParentID, 10)
		}})
	case "tags":
		return one(column{header: "tags", cell: formatTags, limit: 30, min: 8})
	case "params":
		return paramColumns(rankParams(varyingParams(runs), opts.ParamsFirst, opts.ParamsLast), true), nil
	case "params.*":
		return paramColumns(allKeys(runs, func(r tracker.RunInfo) []string { return mapKeys(r.Params) }), false), nil
	case "metrics.*":
		return metricColumns(metricKeys(runs), false), nil
	case "best.*":
		return metricColumns(metricKeys(runs), true), nil
	case "bits":
		var cols []column
		for _, k := range metricKeys(runs) {
			if IsBitsMetric(k) {
				cols = append(cols, metricColumns([]string{k}, true)...)
			}
		}
		return cols, nil
	case "writing":
		var cols []column
		for _, k := range metricKeys(runs) {
			if IsWritingMetric(k) {
				cols = append(cols, column{header: k, extra: true, cell: func(r tracker.RunInfo) string { return lastValue(r, k) }})
			}
		}
		return cols, nil
	}
	prefix, key, ok := strings.Cut(name, ".")
	if ok && key != "" {
		switch strings.ToLower(prefix) {
		case "params", "param":
			return paramColumns([]string{key}, false), nil
		case "metrics", "metric":
			return metricColumns([]string{key}, false), nil
		case "best":
			return metricColumns([]string{key}, true), nil
		case "tags", "tag":
			return one(column{header: "tags." + key, cell: func(r tracker.RunInfo) string { return r.Tags[key] }, limit: 24, min: 6})
		}
	}
	return nil, fmt.Errorf("unknown column %q (columns: %s)", name, strings.Join(strings.Fields(ColumnHelp), " "))
}

// IsBitsMetric reports whether a metric key is a validation figure in bits
// per unit (bits per character, grapheme, word, token): val_bp* or
// val_bits*. The key names come from the data, whatever level the runs
// trained at.
func IsBitsMetric(key string) bool {
	return strings.HasPrefix(key, "val_bp") || strings.HasPrefix(key, "val_bits")
}

// IsWritingMetric reports whether a metric key is one of the runner's figures of how a model writes, in
// bits per unit: the cold start on the validation split (val_cold_bp*) or the free-running figure
// (free_running_bp*).
func IsWritingMetric(key string) bool {
	return strings.HasPrefix(key, "val_cold_bp") || strings.HasPrefix(key, "free_running_bp")
}

func paramColumns(keys []string, varying bool) []column {
	cols := make([]column, len(keys))
	for i, k := range keys {
		cols[i] = column{header: k, param: varying, limit: 16, min: 5, cell: func(r tracker.RunInfo) string {
			v, ok := r.Params[k]
			return formatParam(v, ok)
		}}
	}
	return cols
}

func metricColumns(keys []string, best bool) []column {
	cols := make([]column, len(keys))
	for i, k := range keys {
		if best {
			cols[i] = column{header: "best." + k, cell: func(r tracker.RunInfo) string { return bestValue(r, k) }}
		} else {
			cols[i] = column{header: "metrics." + k, cell: func(r tracker.RunInfo) string { return lastValue(r, k) }}
		}
	}
	return cols
}

// formatTags shows a run's tags as k=v, sorted by key.
func formatTags(r tracker.RunInfo) string {
	keys := mapKeys(r.Tags)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + r.Tags[k]
	}
	return strings.Join(parts, ", ")
}

func mapKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func allKeys(runs []tracker.RunInfo, of func(tracker.RunInfo) []string) []string {
	set := map[string]bool{}
	for _, r := range runs {
		for _, k := range of(r) {
			set[k] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
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
	params, metrics, tags := slices.Sorted(maps.Keys(paramSet)), tracker.MetricOrder(slices.Sorted(maps.Keys(metricSet))), slices.Sorted(maps.Keys(tagSet))
	s := section{header: []string{"id", "name", "experiment", "status", "start", "end", "duration_s", "active_s",
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
			strconv.FormatFloat(r.Duration().Seconds(), 'f', 1, 64), strconv.FormatFloat(r.Active.Seconds(), 'f', 1, 64), r.Backend, r.Host, r.GitCommit, parent, r.Command, r.Note}
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

// rankParams orders keys: those in first (in its order), the rest alphabetically, those in last (in its
// order).
func rankParams(keys, first, last []string) []string {
	rank := func(k string) (int, int) {
		if i := slices.Index(first, k); i >= 0 {
			return 0, i
		}
		if i := slices.Index(last, k); i >= 0 {
			return 2, i
		}
		return 1, 0
	}
	out := slices.Clone(keys)
	slices.SortStableFunc(out, func(a, b string) int {
		ga, ia := rank(a)
		gb, ib := rank(b)
		if ga != gb {
			return ga - gb
		}
		if ia != ib {
			return ia - ib
		}
		return strings.Compare(a, b)
	})
	return out
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
	for _, k := range slices.Sorted(maps.Keys(set)) {
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
	return tracker.MetricOrder(slices.Sorted(maps.Keys(set)))
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
