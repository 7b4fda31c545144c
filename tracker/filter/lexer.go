package filter

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

type tokenKind int

const (
	tokEOF tokenKind = iota
	tokIdent
	tokString
	tokNumber
	tokOp
	tokLParen
	tokRParen
	tokComma
)

// token is one lexical unit. text is the raw source slice (for error
// messages); value is the meaning: an identifier with any backquoted key
// unwrapped, a string without its quotes, an operator normalised.
type token struct {
	kind  tokenKind
	text  string
	value string
	pos   int
	// quoted is set on identifiers whose key was quoted (backquotes, or
	// double quotes right after the dot), so a key spelled like a keyword
	// is never mistaken for one.
	quoted bool
	// pattern is, for strings, the text with the like/ilike escapes \%,
	// \_ and \\ kept as written (value has them resolved).
	pattern string
}

// lex splits src into tokens, ending with a tokEOF token.
func lex(src string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(src) {
		if err := checkGluedDash(src, toks, i); err != nil {
			return nil, err
		}
		r, size := utf8.DecodeRuneInString(src[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			return nil, newError(src, i, src[i:i+1], "invalid UTF-8")
		case unicode.IsSpace(r):
			i += size
		case r == '(':
			toks = append(toks, token{kind: tokLParen, text: "(", value: "(", pos: i})
			i++
		case r == ')':
			toks = append(toks, token{kind: tokRParen, text: ")", value: ")", pos: i})
			i++
		case r == ',':
			toks = append(toks, token{kind: tokComma, text: ",", value: ",", pos: i})
			i++
		case r == '\'' || r == '"':
			tok, next, err := lexString(src, i)
			if err != nil {
				return nil, err
			}
			toks = append(toks, tok)
			i = next
		case isDigit(r) || ((r == '-' || r == '+' || r == '.') && startsNumber(src[i:])):
			tok, next, err := lexNumber(src, i)
			if err != nil {
				return nil, err
			}
			toks = append(toks, tok)
			i = next
		case isIdentRune(r, true) || r == '`':
			tok, next, err := lexIdent(src, i)
			if err != nil {
				return nil, err
			}
			toks = append(toks, tok)
			i = next
		case strings.ContainsRune("=!<>", r):
			tok, next, err := lexOp(src, i)
			if err != nil {
				return nil, err
			}
			toks = append(toks, tok)
			i = next
		default:
			return nil, newError(src, i, string(r), "unexpected character")
		}
	}
	toks = append(toks, token{kind: tokEOF, pos: len(src)})
	return toks, nil
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }

// checkGluedDash catches a dash glued to a prefixed key, as in
// metrics.cross-entropy-loss: unquoted, that would read as a subtraction
// (or a negative number) and fail somewhere confusing, so the error says
// how to quote the key.
func checkGluedDash(src string, toks []token, i int) error {
	if src[i] != '-' || len(toks) == 0 {
		return nil
	}
	prev := toks[len(toks)-1]
	if prev.kind != tokIdent || prev.pos+len(prev.text) != i || !strings.Contains(prev.value, ".") {
		return nil
	}
	end := i
	for end < len(src) {
		r, size := utf8.DecodeRuneInString(src[end:])
		if r != '-' && !isIdentRune(r, false) {
			break
		}
		end += size
	}
	prefix, key, _ := strings.Cut(src[prev.pos:end], ".")
	return newError(src, prev.pos, src[prev.pos:end], fmt.Sprintf(
		"a key with a dash must be quoted: %s.\"%s\" or %s.`%s`", prefix, key, prefix, key))
}

// isIdentRune reports whether r may appear in an identifier; dots join a
// prefix to its key (params.hidden) and may appear inside keys.
func isIdentRune(r rune, first bool) bool {
	if r == '_' || unicode.IsLetter(r) {
		return true
	}
	return !first && (isDigit(r) || r == '.')
}

// startsNumber reports whether s (starting with a sign or a dot) begins a
// number such as -1, +2.5 or .5.
func startsNumber(s string) bool {
	if s[0] == '-' || s[0] == '+' {
		s = s[1:]
	}
	s = strings.TrimPrefix(s, ".")
	return s != "" && isDigit(rune(s[0]))
}

func lexString(src string, start int) (token, int, error) {
	quote := src[start]
	var b, pat strings.Builder
	i := start + 1
	for i < len(src) {
		c := src[i]
		switch {
		case c == quote && i+1 < len(src) && src[i+1] == quote:
			// SQL style: a doubled quote stands for one quote.
			b.WriteByte(quote)
			pat.WriteByte(quote)
			i += 2
		case c == quote:
			return token{kind: tokString, text: src[start : i+1], value: b.String(), pattern: pat.String(), pos: start}, i + 1, nil
		case c == '\\' && i+1 < len(src):
			switch e := src[i+1]; e {
			case 'n':
				b.WriteByte('\n')
				pat.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
				pat.WriteByte('\t')
			case '%', '_', '\\':
				// Escapes of like/ilike patterns: a literal %, _ or \.
				b.WriteByte(e)
				pat.WriteByte('\\')
				pat.WriteByte(e)
			default:
				b.WriteByte(e)
				pat.WriteByte(e)
			}
			i += 2
		default:
			b.WriteByte(c)
			pat.WriteByte(c)
			i++
		}
	}
	return token{}, 0, newError(src, start, src[start:], "unterminated string")
}

func lexNumber(src string, start int) (token, int, error) {
	i := start
	if src[i] == '-' || src[i] == '+' {
		i++
	}
	digits := func() {
		for i < len(src) && isDigit(rune(src[i])) {
			i++
		}
	}
	digits()
	if i < len(src) && src[i] == '.' {
		i++
		digits()
	}
	if i < len(src) && (src[i] == 'e' || src[i] == 'E') {
		j := i + 1
		if j < len(src) && (src[j] == '-' || src[j] == '+') {
			j++
		}
		if j < len(src) && isDigit(rune(src[j])) {
			i = j
			digits()
		}
	}
	// A number glued to letters ("256k", "1e") is a typo, not two tokens.
	end := i
	for end < len(src) {
		r, size := utf8.DecodeRuneInString(src[end:])
		if !isIdentRune(r, false) {
			break
		}
		end += size
	}
	if end != i {
		return token{}, 0, newError(src, start, src[start:end], "invalid number")
	}
	text := src[start:i]
	return token{kind: tokNumber, text: text, value: text, pos: start}, i, nil
}

func lexIdent(src string, start int) (token, int, error) {
	i := start
	var b strings.Builder
	quoted := false
	for i < len(src) {
		r, size := utf8.DecodeRuneInString(src[i:])
		if r == '`' || (r == '"' && strings.HasSuffix(b.String(), ".")) {
			// A quoted part holds a key with any characters, as MLflow
			// writes them: metrics.`val loss` or metrics."val loss".
			// A doubled quote stands for one.
			q := src[i]
			j := i + 1
			closed := false
			for j < len(src) {
				if src[j] == q {
					if j+1 < len(src) && src[j+1] == q {
						b.WriteByte(q)
						j += 2
						continue
					}
					closed = true
					break
				}
				b.WriteByte(src[j])
				j++
			}
			if !closed {
				what := "backquoted"
				if q == '"' {
					what = "quoted"
				}
				return token{}, 0, newError(src, i, src[i:], "unterminated "+what+" name")
			}
			quoted = true
			i = j + 1
			continue
		}
		if !isIdentRune(r, i == start) {
			break
		}
		b.WriteRune(r)
		i += size
	}
	return token{kind: tokIdent, text: src[start:i], value: b.String(), pos: start, quoted: quoted}, i, nil
}

func lexOp(src string, start int) (token, int, error) {
	two := ""
	if start+2 <= len(src) {
		two = src[start : start+2]
	}
	switch two {
	case "==":
		return token{kind: tokOp, text: two, value: "=", pos: start}, start + 2, nil
	case "!=", "<>":
		return token{kind: tokOp, text: two, value: "!=", pos: start}, start + 2, nil
	case "<=", ">=":
		return token{kind: tokOp, text: two, value: two, pos: start}, start + 2, nil
	}
	one := src[start : start+1]
	if one == "!" {
		return token{}, 0, newError(src, start, one, "unexpected character (did you mean !=?)")
	}
	return token{kind: tokOp, text: one, value: one, pos: start}, start + 1, nil
}
