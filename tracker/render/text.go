package render

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"unicode/utf8"
)

// maxTextCell caps a grid cell in the plain-text table so one long note
// cannot push every other column off the screen.
const maxTextCell = 48

func writeText(w io.Writer, d document) error {
	ew := &errWriter{w: w}
	if len(d.sections) == 0 {
		fmt.Fprintln(ew, d.empty)
		return ew.err
	}
	for i, s := range d.sections {
		if i > 0 {
			fmt.Fprintln(ew)
		}
		if s.title != "" {
			fmt.Fprintln(ew, s.title)
		}
		if s.long {
			writeTextBlocks(ew, s)
			continue
		}
		tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
		writeTextRow(tw, s.header)
		rule := make([]string, len(s.header))
		for j, h := range s.header {
			rule[j] = strings.Repeat("-", max(utf8.RuneCountInString(h), 1))
		}
		writeTextRow(tw, rule)
		for _, row := range s.rows {
			writeTextRow(tw, row)
		}
		tw.Flush()
	}
	return ew.err
}

func writeTextRow(w io.Writer, cells []string) {
	out := make([]string, len(cells))
	for i, c := range cells {
		out[i] = oneLine(c, maxTextCell)
	}
	fmt.Fprintln(w, strings.Join(out, "\t"))
}

// writeTextBlocks prints a section column by column: each column's heading,
// then each row's label and its (possibly multi-line) text indented.
func writeTextBlocks(w io.Writer, s section) {
	for j := 1; j < len(s.header); j++ {
		fmt.Fprintf(w, "  %s:\n", oneLine(s.header[j], maxTextCell))
		for _, row := range s.rows {
			if j >= len(row) || row[j] == "" {
				continue
			}
			lines := strings.Split(strings.ReplaceAll(row[j], "\r\n", "\n"), "\n")
			if len(lines) == 1 {
				fmt.Fprintf(w, "    %s: %s\n", row[0], controlFree(lines[0]))
				continue
			}
			fmt.Fprintf(w, "    %s:\n", row[0])
			for _, line := range lines {
				fmt.Fprintf(w, "      %s\n", controlFree(line))
			}
		}
	}
}

// oneLine flattens a cell for a grid: line breaks and tabs (which would
// break the alignment) become spaces, control characters are dropped, and
// text beyond limit runes is cut with an ellipsis.
func oneLine(s string, limit int) string {
	s = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ", "\t", " ").Replace(s)
	s = controlFree(s)
	if utf8.RuneCountInString(s) > limit {
		s = string([]rune(s)[:limit-1]) + "…"
	}
	return s
}

// controlFree drops control characters, such as terminal escape sequences
// hidden in a run name or a generated sample.
func controlFree(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return -1
		}
		return r
	}, s)
}

// errWriter remembers the first write error so builders can write freely
// and check once.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}
