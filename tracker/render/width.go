package render

import (
	"strings"

	"github.com/rivo/uniseg"
)

// Display width, in terminal cells, decides alignment: a CJK character or
// an emoji takes two cells, a combining accent none. text/tabwriter counts
// code points, which misaligns such names, so tables pad with these.

// Width is the number of terminal cells s takes (Unicode East Asian Width
// and emoji presentation, per grapheme cluster).
func Width(s string) int { return uniseg.StringWidth(s) }

// Truncate cuts s to at most width cells, ending with "…" when it cut, and
// never inside a grapheme cluster (a flag or an accented letter stays
// whole).
func Truncate(s string, width int) string {
	if Width(s) <= width {
		return s
	}
	if width <= 0 {
		return ""
	}
	var b strings.Builder
	used := 0
	state := -1
	rest := s
	for rest != "" {
		var cluster string
		var w int
		cluster, rest, w, state = uniseg.FirstGraphemeClusterInString(rest, state)
		if used+w > width-1 { // keep one cell for the ellipsis
			break
		}
		b.WriteString(cluster)
		used += w
	}
	return b.String() + "…"
}

// PadRight pads s with spaces to width cells.
func PadRight(s string, width int) string {
	if n := width - Width(s); n > 0 {
		return s + strings.Repeat(" ", n)
	}
	return s
}

// PadLeft right-aligns s in width cells.
func PadLeft(s string, width int) string {
	if n := width - Width(s); n > 0 {
		return strings.Repeat(" ", n) + s
	}
	return s
}
