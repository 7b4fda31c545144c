package render

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/rivo/uniseg"
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
		if s.pre != "" {
			fmt.Fprint(ew, s.pre)
			continue
		}
		if s.long {
			writeTextBlocks(ew, s)
			continue
		}
		writeGrid(ew, s)
		for _, note := range s.notes {
			fmt.Fprintln(ew, note)
		}
	}
	return ew.err
}

// writeGrid prints a section as columns separated by two spaces, aligned
// by display width (see Width); numeric columns are right-aligned.
func writeGrid(w io.Writer, s section) {
	rows := make([][]string, 0, len(s.rows)+1)
	rows = append(rows, cellsOf(s.header, s.limits))
	for _, r := range s.rows {
		rows = append(rows, cellsOf(r, s.limits))
	}
	widths := make([]int, len(s.header))
	for _, r := range rows {
		for j, c := range r {
			if j < len(widths) {
				widths[j] = max(widths[j], Width(c))
			}
		}
	}
	numeric := make([]bool, len(s.header))
	for j := range numeric {
		numeric[j] = len(s.rows) > 0
		for _, r := range s.rows {
			if j < len(r) && r[j] != "" && !isNumber(r[j]) {
				numeric[j] = false
			}
		}
	}
	line := func(cells []string) {
		out := make([]string, len(widths))
		for j := range widths {
			c := ""
			if j < len(cells) {
				c = cells[j]
			}
			if numeric[j] {
				out[j] = PadLeft(c, widths[j])
			} else {
				out[j] = PadRight(c, widths[j])
			}
		}
		fmt.Fprintln(w, strings.TrimRight(strings.Join(out, "  "), " "))
	}
	if !s.bare {
		line(rows[0])
		rule := make([]string, len(widths))
		for j, wd := range widths {
			rule[j] = strings.Repeat("-", max(wd, 1))
		}
		fmt.Fprintln(w, strings.Join(rule, "  "))
	}
	for _, r := range rows[1:] {
		line(r)
	}
}

// cellsOf flattens a row's cells for the grid, each cut to its column's
// limit (maxTextCell where none is set).
func cellsOf(row []string, limits []int) []string {
	out := make([]string, len(row))
	for i, c := range row {
		limit := maxTextCell
		if i < len(limits) && limits[i] > 0 {
			limit = limits[i]
		}
		out[i] = oneLine(c, limit)
	}
	return out
}

// isNumber reports whether a cell shows a number (including NaN and ±Inf).
func isNumber(s string) bool {
	switch s {
	case "NaN", "+Inf", "-Inf":
		return true
	}
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}

// writeTextBlocks prints a section column by column: each column's heading,
// then each row's label and its (possibly multi-line) text indented. With
// s.width set, a text line wider than the room left of it is cut into
// lines that keep the indentation (a terminal would wrap them to its first
// column).
func writeTextBlocks(w io.Writer, s section) {
	const indent = "      "
	for j := 1; j < len(s.header); j++ {
		fmt.Fprintf(w, "  %s:\n", oneLine(s.header[j], maxTextCell))
		for _, row := range s.rows {
			if j >= len(row) || row[j] == "" {
				continue
			}
			lines := strings.Split(strings.ReplaceAll(row[j], "\r\n", "\n"), "\n")
			label := "    " + row[0] + ": "
			if len(lines) == 1 && (s.width <= 0 || Width(label)+Width(controlFree(lines[0])) <= s.width) {
				fmt.Fprintf(w, "%s%s\n", label, controlFree(lines[0]))
				continue
			}
			fmt.Fprintf(w, "    %s:\n", row[0])
			for _, line := range lines {
				if s.width <= len(indent) {
					fmt.Fprintf(w, "%s%s\n", indent, controlFree(line))
					continue
				}
				for _, part := range wrapAtSpaces(controlFree(line), s.width-len(indent)) {
					fmt.Fprintf(w, "%s%s\n", indent, part)
				}
			}
		}
	}
}

// oneLine flattens a cell for a grid: line breaks and tabs (which would
// break the alignment) become spaces, control characters are dropped, and
// text wider than limit cells is cut with an ellipsis.
func oneLine(s string, limit int) string {
	s = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ", "\t", " ").Replace(s)
	return Truncate(controlFree(s), limit)
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

// wrapAtSpaces breaks one line into lines of at most width cells, after
// the last space that fits (the space stays at the end of its line, so the
// lines joined are the text), or between grapheme clusters where no space
// fits.
func wrapAtSpaces(line string, width int) []string {
	var out []string
	var cur []string // grapheme clusters of the current line
	used, state := 0, -1
	for rest := line; rest != ""; {
		var cluster string
		var cw int
		cluster, rest, cw, state = uniseg.FirstGraphemeClusterInString(rest, state)
		if used+cw > width && len(cur) > 0 {
			cut := len(cur)
			for i := len(cur) - 1; i > 0; i-- {
				if cur[i] == " " {
					cut = i + 1
					break
				}
			}
			out = append(out, strings.Join(cur[:cut], ""))
			cur = append([]string(nil), cur[cut:]...)
			used = Width(strings.Join(cur, ""))
		}
		cur = append(cur, cluster)
		used += cw
	}
	return append(out, strings.Join(cur, ""))
}
