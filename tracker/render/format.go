// Package render prints tracker results — the runs table and run
// comparisons — as a plain-text table, CSV, JSON, HTML or Markdown, for the
// CLI, notebooks and web pages alike.
package render

import (
	"fmt"
	"io"
	"strings"
)

// Format is an output format.
type Format string

// The formats. HTML is a self-contained fragment (inline style, no external
// resources) with every value escaped; Markdown uses GitHub tables.
const (
	Table    Format = "table"
	CSV      Format = "csv"
	JSON     Format = "json"
	HTML     Format = "html"
	Markdown Format = "markdown"
)

// Formats lists the format names ParseFormat accepts (besides the aliases
// text and md).
func Formats() []string {
	return []string{string(Table), string(CSV), string(JSON), string(HTML), string(Markdown)}
}

// ParseFormat reads a format name, case-insensitively; "text" means table
// and "md" markdown.
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "table", "text", "":
		return Table, nil
	case "csv":
		return CSV, nil
	case "json":
		return JSON, nil
	case "html":
		return HTML, nil
	case "markdown", "md":
		return Markdown, nil
	}
	return "", fmt.Errorf("unknown format %q (want %s)", s, strings.Join(Formats(), ", "))
}

// section is one table of a document. With long set, cells may hold long
// multi-line text (samples), which the plain-text renderer prints as
// indented blocks instead of a grid.
type section struct {
	title  string
	header []string
	rows   [][]string
	long   bool
	// limits caps each column's width in the plain-text table (0: the
	// default, maxTextCell).
	limits []int
	// notes are printed under the plain-text table (e.g. columns left out
	// to fit the width).
	notes []string
	// bare leaves out the header line and its rule in the plain-text
	// table (key/value lists).
	bare bool
	// pre, when set, is the whole section: preformatted text (samples),
	// printed as is, as a Markdown code block or an HTML <pre>.
	pre string
	// width, when set, is the widest line of a long section's text blocks
	// in the plain-text form (see writeTextBlocks).
	width int
}

// document is what the runs and comparison builders produce and every
// format except JSON renders.
type document struct {
	sections []section
	// empty is shown instead of the sections when there is nothing to show.
	empty string
}

func (d document) write(w io.Writer, f Format) error {
	switch f {
	case Table:
		return writeText(w, d)
	case CSV:
		return writeCSV(w, d)
	case HTML:
		return writeHTML(w, d)
	case Markdown:
		return writeMarkdown(w, d)
	}
	return fmt.Errorf("render: format %q has no document writer", f)
}

// Rows writes a plain table (header and rows of cells) in format f:
// aligned by display width as text, or as CSV, Markdown or HTML. For
// commands whose results are simple lists.
func Rows(w io.Writer, header []string, rows [][]string, f Format) error {
	if f == JSON {
		return fmt.Errorf("render: a plain table has no JSON form")
	}
	return document{sections: []section{{header: header, rows: rows, limits: limitsOf(header, 100)}}}.write(w, f)
}

func limitsOf(header []string, limit int) []int {
	out := make([]int, len(header))
	for i := range out {
		out[i] = limit
	}
	return out
}
