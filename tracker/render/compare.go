package render

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"

	"github.com/lstmlab/lstmlab/tracker"
)

// Comparison writes a run comparison (tracker.DB.Compare) with runs as
// columns: the runs' attributes (with the note), their tags, the params (only those that differ if the
// comparison was built that way), final and best metrics, the step and time
// of the best validation loss, and the latest sample. CSV prefixes each row
// with its section; JSON is the full tracker.Comparison.
func Comparison(w io.Writer, c *tracker.Comparison, f Format) error {
	return ComparisonWidth(w, c, f, 0)
}

// ComparisonWidth is Comparison with the latest samples' lines in the
// plain-text form cut at width terminal cells (0: not cut), their
// continuations indented as the samples are.
func ComparisonWidth(w io.Writer, c *tracker.Comparison, f Format, width int) error {
	var err error
	if f == JSON {
		err = writeJSON(w, c)
	} else {
		doc := comparisonDocument(c)
		for i := range doc.sections {
			if doc.sections[i].long {
				doc.sections[i].width = width
			}
		}
		err = doc.write(w, f)
	}
	if err != nil {
		return fmt.Errorf("render comparison as %s: %w", f, err)
	}
	return nil
}

func comparisonDocument(c *tracker.Comparison) document {
	doc := document{empty: "no runs to compare"}
	if len(c.Runs) == 0 {
		return doc
	}
	header := []string{""}
	for _, r := range c.Runs {
		header = append(header, r.Name)
	}
	row := func(label string, cell func(r tracker.ComparedRun) string) []string {
		out := []string{label}
		for _, r := range c.Runs {
			out = append(out, cell(r))
		}
		return out
	}

	runs := section{title: "Runs", header: header}
	runs.rows = [][]string{
		row("id", func(r tracker.ComparedRun) string { return strconv.FormatInt(r.ID, 10) }),
		row("experiment", func(r tracker.ComparedRun) string { return r.Experiment }),
		row("status", func(r tracker.ComparedRun) string { return string(r.Status) }),
		row("parent", func(r tracker.ComparedRun) string {
			if r.Parent == nil {
				return ""
			}
			return fmt.Sprintf("%s (%d)", r.Parent.Name, r.Parent.ID)
		}),
		row("started", func(r tracker.ComparedRun) string { return formatTime(r.Start) }),
		row("duration", func(r tracker.ComparedRun) string { return formatDuration(r.Duration()) }),
		row("active", func(r tracker.ComparedRun) string { return formatDuration(r.Active) }),
		row("backend", func(r tracker.ComparedRun) string { return r.Backend }),
		row("git commit", func(r tracker.ComparedRun) string { return r.GitCommit }),
		row("note", func(r tracker.ComparedRun) string { return r.Note }),
	}
	doc.sections = append(doc.sections, runs)

	tagSet := map[string]bool{}
	for _, r := range c.Runs {
		for k := range r.Tags {
			tagSet[k] = true
		}
	}
	if len(tagSet) > 0 {
		tags := section{title: "Tags", header: header}
		for _, k := range slices.Sorted(maps.Keys(tagSet)) {
			tags.rows = append(tags.rows, row(k, func(r tracker.ComparedRun) string { return r.Tags[k] }))
		}
		doc.sections = append(doc.sections, tags)
	}

	title := "Params"
	if c.OnlyChanged {
		title = fmt.Sprintf("Params that differ (%d identical hidden)", c.HiddenParams)
	}

	params := section{title: title, header: header}
	for _, k := range c.ParamKeys {
		params.rows = append(params.rows, row(k, func(r tracker.ComparedRun) string {
			v, ok := r.Params[k]
			return withHistory(formatParam(v, ok), r.Changes(k))
		}))
	}
	doc.sections = append(doc.sections, params)

	final := section{title: "Final metrics", header: header}
	best := section{title: "Best metrics", header: header}
	for _, k := range c.MetricKeys {
		final.rows = append(final.rows, row(k, func(r tracker.ComparedRun) string { return lastValue(r.RunInfo, k) }))
		best.rows = append(best.rows, row(k, func(r tracker.ComparedRun) string { return bestValue(r.RunInfo, k) }))
	}
	doc.sections = append(doc.sections, final, best)

	if c.BestKey != "" {
		at := section{title: "Best " + c.BestKey, header: header}
		at.rows = [][]string{
			row("value", func(r tracker.ComparedRun) string {
				if r.Best == nil {
					return ""
				}
				return formatMetric(r.Best.Value)
			}),
			row("step", func(r tracker.ComparedRun) string {
				if r.Best == nil {
					return ""
				}
				return strconv.FormatInt(r.Best.Step, 10)
			}),
			row("after", func(r tracker.ComparedRun) string {
				if r.Best == nil {
					return ""
				}
				return formatDuration(r.BestElapsed)
			}),
		}
		doc.sections = append(doc.sections, at)
	}

	sample := section{title: "Latest sample", header: header, long: true}
	sample.rows = [][]string{
		row("step", func(r tracker.ComparedRun) string {
			if r.LatestSample == nil {
				return ""
			}
			return strconv.FormatInt(r.LatestSample.Step, 10)
		}),
		row("settings", func(r tracker.ComparedRun) string {
			s := r.LatestSample
			if s == nil {
				return ""
			}
			return fmt.Sprintf("temperature %g, top-k %d, top-p %g, seed %d", s.Temperature, s.TopK, s.TopP, s.Seed)
		}),
		row("prompt", func(r tracker.ComparedRun) string {
			if r.LatestSample == nil {
				return ""
			}
			return r.LatestSample.Prompt
		}),
		row("text", func(r tracker.ComparedRun) string {
			if r.LatestSample == nil {
				return ""
			}
			return r.LatestSample.Text
		}),
	}
	doc.sections = append(doc.sections, sample)
	return doc
}
