package render

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lstmlab/lstmlab/tracker"
)

// Show writes one run on its own (tracker.DB.Show): its record, tags,
// params, metric summaries (latest and best, with steps), lineage,
// artifacts and latest samples. JSON is the full tracker.RunDetail; CSV is
// not offered (the sections have different columns).
func Show(w io.Writer, d *tracker.RunDetail, f Format) error {
	var err error
	switch f {
	case JSON:
		err = writeJSON(w, d)
	case CSV:
		err = fmt.Errorf("a single run has no CSV form (use table, json, markdown or html; lstmlab metrics writes CSV)")
	default:
		err = showDocument(d).write(w, f)
	}
	if err != nil {
		return fmt.Errorf("render run %d as %s: %w", d.ID, f, err)
	}
	return nil
}

func showDocument(d *tracker.RunDetail) document {
	kv := func(title string) section { return section{title: title, header: []string{"", ""}, bare: true} }
	run := kv(fmt.Sprintf("Run %d: %s", d.ID, d.Name))
	add := func(s *section, k, v string) {
		if v != "" {
			s.rows = append(s.rows, []string{k, v})
		}
	}
	add(&run, "experiment", d.Experiment)
	add(&run, "status", string(d.Status))
	add(&run, "start", formatTime(d.Start))
	add(&run, "end", formatTime(d.End))
	add(&run, "duration", formatDuration(d.Duration()))
	add(&run, "active", formatDuration(d.Active))
	add(&run, "backend", d.Backend)
	add(&run, "host", d.Host)
	add(&run, "git commit", d.GitCommit)
	add(&run, "command", d.Command)
	if d.Parent != nil {
		add(&run, "parent", fmt.Sprintf("%s (%d)", d.Parent.Name, d.Parent.ID))
	}
	if len(d.Children) > 0 {
		var cs []string
		for _, c := range d.Children {
			cs = append(cs, fmt.Sprintf("%s (%d)", c.Name, c.ID))
		}
		add(&run, "children", strings.Join(cs, ", "))
	}
	add(&run, "note", d.Note)
	run.limits = []int{0, 100}
	doc := document{sections: []section{run}}

	if len(d.Tags) > 0 {
		tags := section{title: "Tags", header: []string{"key", "value"}}
		for _, k := range mapKeys(d.Tags) {
			tags.rows = append(tags.rows, []string{k, d.Tags[k]})
		}
		doc.sections = append(doc.sections, tags)
	}
	if len(d.Params) > 0 {
		// Values as wide as the record's: a param changed on resume shows its history.
		params := section{title: "Params", header: []string{"key", "value"}, limits: []int{0, 100}}
		for _, k := range mapKeys(d.Params) {
			params.rows = append(params.rows, []string{k, withHistory(formatParam(d.Params[k], true), changesOf(d.ParamChanges, k))})
		}

		doc.sections = append(doc.sections, params)
	}
	if len(d.Metrics) > 0 {
		m := section{title: "Metrics", header: []string{"key", "latest", "step", "best", "best step", "goal", "points"}}
		for _, k := range tracker.MetricOrder(mapKeys(d.Metrics)) {
			s := d.Metrics[k]
			best, bestStep := "", ""
			if s.Best != nil {
				best, bestStep = formatMetric(s.Best.Value), strconv.FormatInt(s.Best.Step, 10)
			}
			m.rows = append(m.rows, []string{k, formatMetric(s.Last.Value), strconv.FormatInt(s.Last.Step, 10), best, bestStep,
				string(s.Goal), strconv.FormatInt(s.Count, 10)})
		}
		doc.sections = append(doc.sections, m)
	}
	if len(d.Artifacts) > 0 {
		a := section{title: "Artifacts", header: []string{"kind", "path", "size", "sha256", "logged"}, limits: []int{0, 80}}
		for _, art := range d.Artifacts {
			a.rows = append(a.rows, []string{art.Kind, art.Path, formatBytes(art.Size), short(art.SHA256, 12), formatTime(art.Created)})
		}
		doc.sections = append(doc.sections, a)
	}
	if len(d.LatestSamples) > 0 {
		var b strings.Builder
		writeSampleBlocks(&b, d.LatestSamples)
		doc.sections = append(doc.sections, section{title: "Latest samples", pre: b.String()})
	}
	return doc
}

func short(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// formatBytes shows a size in B, kB, MB or GB (powers of 1000).
func formatBytes(n int64) string {
	switch {
	case n < 1000:
		return fmt.Sprintf("%d B", n)
	case n < 1e6:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	case n < 1e9:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	}
	return fmt.Sprintf("%.2f GB", float64(n)/1e9)
}

// Metrics writes the full history of some metrics of one run. The table
// has one row per step and one column per metric (blank where a metric
// was not logged at that step); CSV is long, one row per point:
// key,step,time,value (RFC 3339 time, full precision, NaN/+Inf/-Inf),
// ready for pandas or a spreadsheet; JSON is {"run_id", "run_name",
// "metrics": {key: [points]}} with non-finite values as MLflow writes them.
func Metrics(w io.Writer, run tracker.RunInfo, keys []string, history map[string][]tracker.Point, f Format) error {
	return MetricsWidth(w, run, keys, history, f, 0)
}

// MetricsWidth is Metrics with the plain-text table fitted to width
// terminal cells (0: not fitted): when the metrics do not fit side by
// side, the table is cut into blocks of columns, one under the other, each
// with the step column, as pandas prints a wide frame. Nothing is left out.
func MetricsWidth(w io.Writer, run tracker.RunInfo, keys []string, history map[string][]tracker.Point, f Format, width int) error {
	var err error
	switch f {
	case JSON:
		metrics := map[string][]tracker.Point{}
		for _, k := range keys {
			metrics[k] = history[k]
			if metrics[k] == nil {
				metrics[k] = []tracker.Point{}
			}
		}
		err = writeJSON(w, struct {
			RunID   int64                      `json:"run_id"`
			RunName string                     `json:"run_name"`
			Metrics map[string][]tracker.Point `json:"metrics"`
		}{run.ID, run.Name, metrics})
	case CSV:
		s := section{header: []string{"key", "step", "time", "value"}}
		for _, k := range keys {
			for _, p := range history[k] {
				s.rows = append(s.rows, []string{k, strconv.FormatInt(p.Step, 10), p.Time.UTC().Format(time.RFC3339Nano),
					strconv.FormatFloat(p.Value, 'g', -1, 64)})
			}
		}
		err = document{sections: []section{s}}.write(w, f)
	default:
		doc := metricsDocument(keys, history)
		if f == Table && width > 0 && len(doc.sections) == 1 {
			doc.sections = splitColumns(doc.sections[0], width)
		}
		err = doc.write(w, f)
	}
	if err != nil {
		return fmt.Errorf("render metrics of run %d as %s: %w", run.ID, f, err)
	}
	return nil
}

func metricsDocument(keys []string, history map[string][]tracker.Point) document {
	doc := document{empty: "no metrics logged"}
	byStep := map[int64][]string{}
	var steps []int64
	for j, k := range keys {
		for _, p := range history[k] {
			row, ok := byStep[p.Step]
			if !ok {
				row = make([]string, len(keys)+1)
				row[0] = strconv.FormatInt(p.Step, 10)
				byStep[p.Step] = row
				steps = append(steps, p.Step)
			}
			row[j+1] = formatMetric(p.Value)
		}
	}
	if len(steps) == 0 {
		return doc
	}
	slices.Sort(steps)
	s := section{header: append([]string{"step"}, keys...)}
	for _, st := range steps {
		s.rows = append(s.rows, byStep[st])
	}
	doc.sections = []section{s}
	return doc
}

// splitColumns cuts a section too wide for width cells into sections of
// its first column (the row label) and as many of the next columns as fit,
// in order; a column wider than width on its own gets a section of its own.
func splitColumns(s section, width int) []section {
	cellWidth := func(j int) int {
		w := Width(s.header[j])
		for _, r := range s.rows {
			w = max(w, Width(oneLine(r[j], maxTextCell)))
		}
		return w
	}
	widths := make([]int, len(s.header))
	for j := range widths {
		widths[j] = cellWidth(j)
	}
	var out []section
	for j := 1; j < len(s.header); {
		used, end := widths[0], j
		for end < len(s.header) && (end == j || used+2+widths[end] <= width) {
			used += 2 + widths[end]
			end++
		}
		part := section{header: append([]string{s.header[0]}, s.header[j:end]...)}
		for _, r := range s.rows {
			part.rows = append(part.rows, append([]string{r[0]}, r[j:end]...))
		}
		out = append(out, part)
		j = end
	}
	if len(out) == 0 {
		return []section{s}
	}
	return out
}
