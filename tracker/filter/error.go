package filter

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Error is a malformed filter: it names the offending token and where it
// starts, so a user can find the typo in a long expression.
type Error struct {
	// Source is the whole filter text.
	Source string
	// Offset is the byte offset of the bad token in Source.
	Offset int
	// Column is the 1-based character (rune) position of the bad token.
	Column int
	// Token is the bad token as written; empty at the end of the input.
	Token string
	// Msg says what is wrong or what was expected.
	Msg string
}

// Error implements error with a one-line message.
func (e *Error) Error() string {
	if e.Token == "" {
		return fmt.Sprintf("invalid filter at end of input (column %d): %s", e.Column, e.Msg)
	}
	return fmt.Sprintf("invalid filter at column %d near %q: %s", e.Column, e.Token, e.Msg)
}

// Caret returns the source and, below it, a caret under the bad token:
//
//	params.hidden >= and
//	                 ^
func (e *Error) Caret() string {
	return e.Source + "\n" + strings.Repeat(" ", e.Column-1) + "^"
}

func newError(src string, offset int, tok, msg string) *Error {
	if offset > len(src) {
		offset = len(src)
	}
	const maxToken = 40
	if utf8.RuneCountInString(tok) > maxToken {
		tok = string([]rune(tok)[:maxToken]) + "…"
	}
	return &Error{
		Source: src,
		Offset: offset,
		Column: utf8.RuneCountInString(src[:offset]) + 1,
		Token:  tok,
		Msg:    msg,
	}
}

// Errorf returns an *Error about the token at byte offset at of src. Code
// that checks a parsed query against a schema (unknown status, a string
// compared with a metric) uses it to point at the bad token the same way
// the parser does.
func Errorf(src string, at int, format string, args ...any) *Error {
	return newError(src, at, tokenAt(src, at), fmt.Sprintf(format, args...))
}

// tokenAt re-lexes src from offset at to recover the token text there.
func tokenAt(src string, at int) string {
	if at >= len(src) {
		return ""
	}
	toks, err := lex(src[at:])
	if err != nil || len(toks) == 0 || toks[0].kind == tokEOF {
		return strings.TrimSpace(src[at:])
	}
	return toks[0].text
}
