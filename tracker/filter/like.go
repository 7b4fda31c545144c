package filter

import (
	"regexp"
	"strings"
)

// LikeRegexp translates a like/ilike pattern in its escaped form
// (Value.Pattern) to a Go regular expression matching the whole text:
// % matches any run of characters (newlines included), _ exactly one
// character (one Unicode code point, as in SQL), and \%, \_ and \\ a
// literal %, _ and backslash. A backslash before any other character
// stands for that character. fold, when not nil, is applied to every
// literal piece, so a caller that folds the text the same way gets a
// case-insensitive match (ilike).
func LikeRegexp(pattern string, fold func(string) string) string {
	var b, lit strings.Builder
	flush := func() {
		s := lit.String()
		if fold != nil {
			s = fold(s)
		}
		b.WriteString(regexp.QuoteMeta(s))
		lit.Reset()
	}
	b.WriteString(`(?s)\A`)
	escaped := false
	for _, r := range pattern {
		switch {
		case escaped:
			lit.WriteRune(r)
			escaped = false
		case r == '\\':
			escaped = true
		case r == '%':
			flush()
			b.WriteString(`.*`)
		case r == '_':
			flush()
			b.WriteString(`.`)
		default:
			lit.WriteRune(r)
		}
	}
	if escaped { // a trailing lone backslash is itself
		lit.WriteByte('\\')
	}
	flush()
	b.WriteString(`\z`)
	return b.String()
}
