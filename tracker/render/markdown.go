package render

import (
	"fmt"
	"io"
	"strings"
)

func writeMarkdown(w io.Writer, d document) error {
	ew := &errWriter{w: w}
	if len(d.sections) == 0 {
		fmt.Fprintln(ew, mdEscape(d.empty))
		return ew.err
	}
	for i, s := range d.sections {
		if i > 0 {
			fmt.Fprintln(ew)
		}
		if s.title != "" {
			fmt.Fprintf(ew, "**%s**\n\n", mdEscape(s.title))
		}
		if s.pre != "" {
			fence := "```"
			for strings.Contains(s.pre, fence) {
				fence += "`"
			}
			fmt.Fprintf(ew, "%s\n%s%s\n", fence, s.pre, fence)
			continue
		}
		writeMDRow(ew, s.header)
		rule := make([]string, len(s.header))
		for j := range rule {
			rule[j] = "---"
		}
		fmt.Fprintln(ew, "| "+strings.Join(rule, " | ")+" |")
		for _, row := range s.rows {
			writeMDRow(ew, row)
		}
	}
	return ew.err
}

func writeMDRow(w io.Writer, cells []string) {
	out := make([]string, len(cells))
	for i, c := range cells {
		out[i] = mdEscape(c)
	}
	fmt.Fprintln(w, "| "+strings.Join(out, " | ")+" |")
}

// mdEscape makes text inert in a Markdown table cell: characters that
// would end the cell (|), start formatting, links or raw HTML are
// backslash-escaped (CommonMark allows it before any ASCII punctuation),
// and line breaks become <br> so multi-line samples stay in their cell.
func mdEscape(s string) string {
	var b strings.Builder
	s = strings.ReplaceAll(s, "\r\n", "\n")
	for _, r := range s {
		switch r {
		case '\\', '`', '*', '_', '[', ']', '<', '>', '|', '~', '&', '#', '!':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\n':
			b.WriteString("<br>")
		case '\r', '\t':
			b.WriteByte(' ')
		default:
			if r >= 0x20 && r != 0x7f {
				b.WriteRune(r)
			}
		}
	}
	return b.String()
}
