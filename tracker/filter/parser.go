package filter

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// attributeAliases maps every accepted spelling of a run attribute to its
// canonical name. MLflow's attributes.<name> and *_time spellings are
// accepted so filters copied from MLflow habits work.
var attributeAliases = map[string]string{
	"id": "id", "run_id": "run_id", "run_uuid": "run_id",
	"name": "name", "run_name": "name",
	"experiment": "experiment", "experiment_name": "experiment",
	"status": "status",
	"start":  "start", "start_time": "start", "created": "start",
	"end": "end", "end_time": "end",
	"duration": "duration",
	"active":   "active", "active_time": "active",
	"backend":    "backend",
	"host":       "host",
	"git_commit": "git_commit", "commit": "git_commit",
	"command": "command",
	"note":    "note",
	"parent":  "parent", "parent_id": "parent",
}

// Attributes returns the canonical names of the run attributes a filter may
// use, sorted.
func Attributes() []string {
	seen := map[string]bool{}
	var names []string
	for _, canonical := range attributeAliases {
		if !seen[canonical] {
			seen[canonical] = true
			names = append(names, canonical)
		}
	}
	sort.Strings(names)
	return names
}

var prefixKinds = map[string]FieldKind{
	"params": Param, "param": Param,
	"metrics": Metric, "metric": Metric,
	"best": Best,
	"tags": Tag, "tag": Tag,
}

// keywords cannot be used as bare words; backquote a key spelled like one.
var keywords = map[string]bool{
	"and": true, "or": true, "not": true, "in": true, "like": true, "ilike": true,
	"is": true, "null": true, "order": true, "by": true, "asc": true, "desc": true,
}

// Parse parses a filter such as
//
//	params.hidden >= 256 and metrics.val_bpc < 2.1 and status = finished order by metrics.val_loss
//
// An empty or blank filter is valid and keeps every run. Help describes
// the language for users, with examples. The grammar:
//
//	query     = [ expr ] [ "order" "by" order { "," order } ]
//	expr      = and { "or" and }
//	and       = unary { "and" unary }
//	unary     = "not" unary | "(" expr ")" | predicate
//	predicate = field op value
//	          | field [ "not" ] ( "like" | "ilike" ) string
//	          | field [ "not" ] "in" "(" value { "," value } ")"
//	          | field "is" [ "not" ] "null"
//	op        = "=" | "==" | "!=" | "<>" | "<" | "<=" | ">" | ">="
//	field     = [ "attributes." ] attribute | prefix "." key
//	prefix    = "params" | "metrics" | "best" | "tags"
//	key       = name | "`" any "`" | '"' any '"'
//	value     = number | 'string' | "string" | true | false | bareword
//	order     = field [ "asc" | "desc" ]
//
// Keywords are case-insensitive. A key with unusual characters is quoted
// with backquotes or, as MLflow writes it, double quotes:
// metrics."cross-entropy-loss". A bare word on the right (status =
// finished) is a string. In like and ilike patterns \%, \_ and \\ stand
// for a literal %, _ and backslash. The input is limited to MaxLength
// bytes, MaxTerms conditions and values, and MaxDepth levels of nesting.
// Malformed input yields an *Error naming the bad token and its column.
func Parse(src string) (*Query, error) {
	p, err := newParser(src)
	if err != nil {
		return nil, err
	}
	q := &Query{}
	if !p.atKeyword("order") && p.peek().kind != tokEOF {
		if q.Where, err = p.parseOr(); err != nil {
			return nil, err
		}
	}
	if p.atKeyword("order") {
		if q.Order, err = p.parseOrderBy(); err != nil {
			return nil, err
		}
	}
	if tok := p.peek(); tok.kind != tokEOF {
		if q.Where != nil {
			return nil, p.errorAt(tok, "expected and, or, order by or end of input")
		}
		return nil, p.errorAt(tok, "expected order by or end of input")
	}
	return q, nil
}

// ParseOrder parses a sort list such as "metrics.val_loss desc, start". A
// leading "order by" is accepted. An empty string gives no sort keys.
func ParseOrder(src string) ([]Order, error) {
	p, err := newParser(src)
	if err != nil {
		return nil, err
	}
	if p.peek().kind == tokEOF {
		return nil, nil
	}
	var order []Order
	if p.atKeyword("order") {
		order, err = p.parseOrderBy()
	} else {
		order, err = p.parseOrderList()
	}
	if err != nil {
		return nil, err
	}
	if tok := p.peek(); tok.kind != tokEOF {
		return nil, p.errorAt(tok, `expected "," or end of input`)
	}
	return order, nil
}

// The size limits of a filter. They are far above what a person writes
// and keep a generated filter from reaching SQLite's own limits (bound
// parameters, expression depth), whose errors would name no column.
const (
	// MaxLength is the longest filter, in bytes.
	MaxLength = 20000
	// MaxTerms is the most conditions and listed values in one filter.
	MaxTerms = 1000
	// MaxDepth is the deepest nesting of parentheses and not.
	MaxDepth = 64
)

type parser struct {
	src   string
	toks  []token
	i     int
	terms int // conditions and in-list values so far
	depth int // open parentheses and nots
}

// count notes one more condition or value at tok and fails past MaxTerms.
func (p *parser) count(tok token) error {
	p.terms++
	if p.terms > MaxTerms {
		return p.errorAt(tok, fmt.Sprintf("filter too large: more than %d conditions and values (split it into several searches)", MaxTerms))
	}
	return nil
}

func newParser(src string) (*parser, error) {
	if len(src) > MaxLength {
		return nil, newError(src, MaxLength, "", fmt.Sprintf("filter too long: %d bytes (at most %d)", len(src), MaxLength))
	}
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	return &parser{src: src, toks: toks}, nil
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	tok := p.toks[p.i]
	if tok.kind != tokEOF {
		p.i++
	}
	return tok
}

// atKeyword reports whether the next token is the (unquoted) keyword kw.
func (p *parser) atKeyword(kw string) bool {
	return isKeyword(p.peek(), kw)
}

func isKeyword(tok token, kw string) bool {
	return tok.kind == tokIdent && !tok.quoted && strings.EqualFold(tok.value, kw)
}

func (p *parser) errorAt(tok token, msg string) *Error {
	return newError(p.src, tok.pos, tok.text, msg)
}

func (p *parser) parseOr() (Expr, error) {
	left, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	for p.atKeyword("or") {
		p.next()
		right, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		left = &Logical{Op: Or, Left: left, Right: right}
	}
	return left, nil
}

func (p *parser) parseAnd() (Expr, error) {
	left, err := p.parseUnary()
	if err != nil {
		return nil, err
	}
	for p.atKeyword("and") {
		p.next()
		right, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		left = &Logical{Op: And, Left: left, Right: right}
	}
	return left, nil
}

func (p *parser) parseUnary() (Expr, error) {
	tok := p.peek()
	if isKeyword(tok, "not") || tok.kind == tokLParen {
		p.depth++
		defer func() { p.depth-- }()
		if p.depth > MaxDepth {
			return nil, p.errorAt(tok, fmt.Sprintf("filter too deeply nested: more than %d levels of parentheses and not", MaxDepth))
		}
	}
	switch {
	case isKeyword(tok, "not"):
		p.next()
		x, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		return &Not{X: x, At: tok.pos}, nil
	case tok.kind == tokLParen:
		p.next()
		x, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		if closing := p.peek(); closing.kind != tokRParen {
			open := newError(p.src, tok.pos, "", "")
			return nil, p.errorAt(closing, fmt.Sprintf(`expected ")" to close the "(" at column %d`, open.Column))
		}
		p.next()
		return x, nil
	}
	return p.parsePredicate()
}

func (p *parser) parsePredicate() (Expr, error) {
	if err := p.count(p.peek()); err != nil {
		return nil, err
	}
	field, err := p.parseField()
	if err != nil {
		return nil, err
	}
	tok := p.next()
	switch {
	case tok.kind == tokOp:
		val, err := p.parseValue()
		if err != nil {
			return nil, err
		}
		ops := map[string]CompareOp{"=": Eq, "!=": Ne, "<": Lt, "<=": Le, ">": Gt, ">=": Ge}
		return &Compare{Field: field, Op: ops[tok.value], Value: val}, nil
	case isKeyword(tok, "like"), isKeyword(tok, "ilike"):
		return p.parseLike(field, tok, false)
	case isKeyword(tok, "in"):
		return p.parseIn(field, false)
	case isKeyword(tok, "not"):
		next := p.next()
		switch {
		case isKeyword(next, "in"):
			return p.parseIn(field, true)
		case isKeyword(next, "like"), isKeyword(next, "ilike"):
			return p.parseLike(field, next, true)
		}
		return nil, p.errorAt(next, `expected in, like or ilike after "not"`)
	case isKeyword(tok, "is"):
		negate := false
		if p.atKeyword("not") {
			p.next()
			negate = true
		}
		if null := p.next(); !isKeyword(null, "null") {
			return nil, p.errorAt(null, `expected null after "is"`)
		}
		return &IsNull{Field: field, Negate: negate}, nil
	case tok.kind == tokEOF:
		return nil, p.errorAt(tok, "expected an operator after "+field.Text)
	}
	return nil, p.errorAt(tok, "expected an operator (=, !=, <, <=, >, >=, like, ilike, in, is)")
}

func (p *parser) parseLike(field Field, kw token, negate bool) (Expr, error) {
	op := Like
	if strings.EqualFold(kw.value, "ilike") {
		op = ILike
	}
	if negate {
		op = map[CompareOp]CompareOp{Like: NotLike, ILike: NotILike}[op]
	}
	tok := p.peek()
	if tok.kind != tokString {
		return nil, p.errorAt(tok, "expected a quoted pattern after "+strings.ToLower(kw.value))
	}
	val, err := p.parseValue()
	if err != nil {
		return nil, err
	}
	return &Compare{Field: field, Op: op, Value: val}, nil
}

func (p *parser) parseIn(field Field, negate bool) (Expr, error) {
	if open := p.next(); open.kind != tokLParen {
		return nil, p.errorAt(open, `expected "(" after in`)
	}
	in := &In{Field: field, Negate: negate}
	for {
		if err := p.count(p.peek()); err != nil {
			return nil, err
		}
		val, err := p.parseValue()
		if err != nil {
			return nil, err
		}
		in.Values = append(in.Values, val)
		tok := p.next()
		if tok.kind == tokRParen {
			return in, nil
		}
		if tok.kind != tokComma {
			return nil, p.errorAt(tok, `expected "," or ")" in the in list`)
		}
	}
}

func (p *parser) parseField() (Field, error) {
	tok := p.next()
	if tok.kind != tokIdent || (!tok.quoted && keywords[strings.ToLower(tok.value)]) {
		return Field{}, p.errorAt(tok, "expected a field such as status, params.<name> or metrics.<name>")
	}
	f := Field{At: tok.pos, Text: tok.text}
	prefix, key, dotted := strings.Cut(tok.value, ".")
	lower := strings.ToLower(prefix)
	if lower == "attributes" || lower == "attribute" || lower == "attr" || lower == "run" {
		if !dotted {
			return Field{}, p.errorAt(tok, `missing attribute name after "`+prefix+`."`)
		}
		prefix, key, dotted = key, "", false
		lower = strings.ToLower(prefix)
	}
	if !dotted {
		name, ok := attributeAliases[lower]
		if !ok {
			return Field{}, p.errorAt(tok, "unknown field (want params.<name>, metrics.<name>, best.<name>, tags.<name> or one of "+
				strings.Join(Attributes(), ", ")+")")
		}
		f.Kind, f.Name = Attribute, name
		return f, nil
	}
	kind, ok := prefixKinds[lower]
	if !ok {
		return Field{}, p.errorAt(tok, `unknown prefix "`+prefix+`" (want params., metrics., best. or tags.)`)
	}
	if key == "" {
		return Field{}, p.errorAt(tok, `missing name after "`+prefix+`."`)
	}
	f.Kind, f.Name = kind, key
	return f, nil
}

func (p *parser) parseValue() (Value, error) {
	tok := p.next()
	switch tok.kind {
	case tokNumber:
		return parseNumber(p, tok)
	case tokString:
		return Value{Kind: String, Text: tok.value, Pattern: tok.pattern, At: tok.pos}, nil
	case tokIdent:
		lower := strings.ToLower(tok.value)
		switch {
		case tok.quoted:
			return Value{}, p.errorAt(tok, "backquotes are for field names; quote values with ' or \"")
		case lower == "true" || lower == "false":
			return Value{Kind: Bool, Text: lower, Pattern: lower, Bool: lower == "true", At: tok.pos}, nil
		case keywords[lower]:
			return Value{}, p.errorAt(tok, "expected a value, found keyword "+lower)
		case strings.Contains(tok.value, "."):
			return Value{}, p.errorAt(tok, "comparing two fields is not supported; quote the value if it is a string")
		}
		// A bare word such as finished or adam is a string.
		return Value{Kind: String, Text: tok.value, Pattern: tok.value, At: tok.pos}, nil
	case tokEOF:
		return Value{}, p.errorAt(tok, "expected a value")
	}
	return Value{}, p.errorAt(tok, "expected a value (a number, a quoted string, true or false)")
}

func parseNumber(p *parser, tok token) (Value, error) {
	f, err := strconv.ParseFloat(tok.value, 64)
	if err != nil || math.IsInf(f, 0) {
		return Value{}, p.errorAt(tok, "number out of range")
	}
	v := Value{Kind: Number, Text: tok.value, Pattern: tok.value, Num: f, At: tok.pos}
	if !strings.ContainsAny(tok.value, ".eE") {
		if n, err := strconv.ParseInt(tok.value, 10, 64); err == nil {
			v.Int, v.IsInt = n, true
		}
	}
	return v, nil
}

func (p *parser) parseOrderBy() ([]Order, error) {
	p.next() // "order"
	if by := p.next(); !isKeyword(by, "by") {
		return nil, p.errorAt(by, `expected by after "order"`)
	}
	return p.parseOrderList()
}

func (p *parser) parseOrderList() ([]Order, error) {
	var order []Order
	for {
		field, err := p.parseField()
		if err != nil {
			return nil, err
		}
		o := Order{Field: field}
		switch {
		case p.atKeyword("desc"):
			p.next()
			o.Desc = true
		case p.atKeyword("asc"):
			p.next()
		}
		order = append(order, o)
		if p.peek().kind != tokComma {
			return order, nil
		}
		p.next()
	}
}
