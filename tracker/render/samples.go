package render

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/rivo/uniseg"

	"github.com/lstmlab/lstmlab/tracker"
)

// Samples writes every sample of a run by step: the step, the sampling
// settings, the prompt and the generated text. JSON is the []tracker.Sample.
func Samples(w io.Writer, run tracker.RunInfo, samples []tracker.Sample, f Format) error {
	var err error
	switch f {
	case JSON:
		err = writeJSON(w, samples)
	case Table:
		ew := &errWriter{w: w}
		if len(samples) == 0 {
			fmt.Fprintf(ew, "run %d (%s) has no samples\n", run.ID, run.Name)
		}
		writeSampleBlocks(ew, samples)
		err = ew.err
	default:
		s := section{header: []string{"step", "temperature", "top_k", "top_p", "seed", "prompt", "text"}}
		for _, smp := range samples {
			s.rows = append(s.rows, []string{fmt.Sprint(smp.Step), fmt.Sprint(smp.Temperature), fmt.Sprint(smp.TopK),
				fmt.Sprint(smp.TopP), fmt.Sprint(smp.Seed), smp.Prompt, smp.Text})
		}
		err = document{sections: []section{s}, empty: "no samples"}.write(w, f)
	}
	if err != nil {
		return fmt.Errorf("render samples of run %d as %s: %w", run.ID, f, err)
	}
	return nil
}

// SamplePair is what two runs generated at one step (either side may be
// empty when only one run sampled there).
type SamplePair struct {
	Step int64            `json:"step"`
	A    []tracker.Sample `json:"a"`
	B    []tracker.Sample `json:"b"`
}

// PairSamples matches the samples of two runs by step, in step order.
func PairSamples(a, b []tracker.Sample) []SamplePair {
	byStep := map[int64]*SamplePair{}
	var steps []int64
	get := func(step int64) *SamplePair {
		p, ok := byStep[step]
		if !ok {
			p = &SamplePair{Step: step, A: []tracker.Sample{}, B: []tracker.Sample{}}
			byStep[step] = p
			steps = append(steps, step)
		}
		return p
	}
	for _, s := range a {
		p := get(s.Step)
		p.A = append(p.A, s)
	}
	for _, s := range b {
		p := get(s.Step)
		p.B = append(p.B, s)
	}
	slices.Sort(steps)
	out := make([]SamplePair, len(steps))
	for i, st := range steps {
		out[i] = *byStep[st]
	}
	return out
}

// SamplesSideBySide writes the samples of two runs at matching steps, the
// first run's on the left and the second's on the right, each text wrapped
// to half of width cells (by display width, so CJK text stays aligned).
// JSON is {"a": run, "b": run, "steps": [SamplePair]}.
func SamplesSideBySide(w io.Writer, a, b tracker.RunInfo, pairs []SamplePair, f Format, width int) error {
	if f == JSON {
		type ref struct {
			ID   int64  `json:"id"`
			Name string `json:"name"`
		}
		return writeJSON(w, struct {
			A     ref          `json:"a"`
			B     ref          `json:"b"`
			Steps []SamplePair `json:"steps"`
		}{ref{a.ID, a.Name}, ref{b.ID, b.Name}, pairs})
	}
	if f != Table {
		return fmt.Errorf("two runs' samples side by side: want table or json, not %s", f)
	}
	if width < 40 {
		width = 40
	}
	col := (width - 3) / 2
	ew := &errWriter{w: w}
	line := func(l, r string) {
		fmt.Fprintln(ew, strings.TrimRight(PadRight(l, col)+" │ "+r, " "))
	}
	line(Truncate(fmt.Sprintf("%s (%d)", a.Name, a.ID), col), Truncate(fmt.Sprintf("%s (%d)", b.Name, b.ID), col))
	fmt.Fprintln(ew, strings.Repeat("─", col)+"─┼─"+strings.Repeat("─", col))
	if len(pairs) == 0 {
		fmt.Fprintln(ew, "no samples")
	}
	for _, p := range pairs {
		fmt.Fprintf(ew, "step %d\n", p.Step)
		left, right := sampleLines(p.A, col), sampleLines(p.B, col)
		for i := 0; i < max(len(left), len(right)); i++ {
			var l, r string
			if i < len(left) {
				l = left[i]
			}
			if i < len(right) {
				r = right[i]
			}
			line(l, r)
		}
	}
	return ew.err
}

// sampleLines lays out samples in a column width cells wide.
func sampleLines(samples []tracker.Sample, width int) []string {
	if len(samples) == 0 {
		return []string{"(no sample at this step)"}
	}
	var out []string
	for i, s := range samples {
		if i > 0 {
			out = append(out, "")
		}
		out = append(out, Truncate(fmt.Sprintf("T=%g top-k %d top-p %g seed %d", s.Temperature, s.TopK, s.TopP, s.Seed), width))
		if s.Prompt != "" {
			out = append(out, wrap("prompt: "+strings.ReplaceAll(s.Prompt, "\n", "⏎"), width)...)
		}
		out = append(out, wrap(s.Text, width)...)
	}
	return out
}

// wrap breaks text into lines of at most width cells: at its own line
// breaks, and elsewhere between grapheme clusters (never inside one).
func wrap(text string, width int) []string {
	var out []string
	for _, para := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		para = controlFree(strings.ReplaceAll(para, "\t", "    "))
		var b strings.Builder
		used := 0
		state := -1
		rest := para
		for rest != "" {
			var cluster string
			var cw int
			cluster, rest, cw, state = uniseg.FirstGraphemeClusterInString(rest, state)
			if used+cw > width && used > 0 {
				out = append(out, b.String())
				b.Reset()
				used = 0
			}
			b.WriteString(cluster)
			used += cw
		}
		out = append(out, b.String())
	}
	return out
}

// writeSampleBlocks prints samples as blocks: a line with the step and
// the settings, the prompt, then the text indented, a blank line between.
func writeSampleBlocks(w io.Writer, samples []tracker.Sample) {
	for i, s := range samples {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "step %d  (temperature %g, top-k %d, top-p %g, seed %d)\n", s.Step, s.Temperature, s.TopK, s.TopP, s.Seed)
		if s.Prompt != "" {
			fmt.Fprintf(w, "prompt: %s\n", controlFree(strings.ReplaceAll(s.Prompt, "\n", "⏎")))
		}
		for _, line := range strings.Split(strings.ReplaceAll(s.Text, "\r\n", "\n"), "\n") {
			fmt.Fprintf(w, "  %s\n", controlFree(line))
		}
	}
}
