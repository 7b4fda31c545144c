package filter

import (
	"fmt"
	"strconv"
	"strings"
)

// Query is a parsed filter: an optional condition and an optional ordering.
type Query struct {
	// Where is the condition runs must satisfy; nil keeps every run.
	Where Expr
	// Order lists the sort keys, most significant first; empty means the
	// caller's default order.
	Order []Order
}

// String returns the query in canonical form (keywords upper case, fully
// parenthesised), which tests and error messages use.
func (q *Query) String() string {
	var parts []string
	if q.Where != nil {
		parts = append(parts, q.Where.String())
	}
	if len(q.Order) > 0 {
		parts = append(parts, "ORDER BY "+OrderString(q.Order))
	}
	return strings.Join(parts, " ")
}

// Expr is a node of the condition tree: *Logical, *Not, *Compare, *In or
// *IsNull.
type Expr interface {
	// Pos is the byte offset in the source where the node starts.
	Pos() int
	// String renders the node in canonical form.
	String() string
}

// LogicalOp joins two conditions.
type LogicalOp int

// The logical operators. AND binds tighter than OR.
const (
	And LogicalOp = iota
	Or
)

// Logical is `Left AND Right` or `Left OR Right`.
type Logical struct {
	Op          LogicalOp
	Left, Right Expr
}

// Pos implements Expr.
func (l *Logical) Pos() int { return l.Left.Pos() }

// String implements Expr.
func (l *Logical) String() string {
	op := "AND"
	if l.Op == Or {
		op = "OR"
	}
	return "(" + l.Left.String() + " " + op + " " + l.Right.String() + ")"
}

// Not negates a condition.
type Not struct {
	X  Expr
	At int
}

// Pos implements Expr.
func (n *Not) Pos() int { return n.At }

// String implements Expr.
func (n *Not) String() string { return "NOT " + n.X.String() }

// CompareOp is a comparison operator.
type CompareOp int

// The comparison operators. Like is case-sensitive and ILike is not, as in
// MLflow; both use % for any run of characters and _ for one character.
const (
	Eq CompareOp = iota
	Ne
	Lt
	Le
	Gt
	Ge
	Like
	ILike
	NotLike
	NotILike
)

var compareOpNames = [...]string{
	Eq: "=", Ne: "!=", Lt: "<", Le: "<=", Gt: ">", Ge: ">=",
	Like: "LIKE", ILike: "ILIKE", NotLike: "NOT LIKE", NotILike: "NOT ILIKE",
}

// String returns the operator as written in canonical form.
func (op CompareOp) String() string {
	if int(op) < len(compareOpNames) {
		return compareOpNames[op]
	}
	return fmt.Sprintf("CompareOp(%d)", int(op))
}

// IsPattern reports whether op matches a LIKE pattern rather than a value.
func (op CompareOp) IsPattern() bool {
	return op == Like || op == ILike || op == NotLike || op == NotILike
}

// Compare is `Field Op Value`.
type Compare struct {
	Field Field
	Op    CompareOp
	Value Value
}

// Pos implements Expr.
func (c *Compare) Pos() int { return c.Field.At }

// String implements Expr.
func (c *Compare) String() string {
	return c.Field.String() + " " + c.Op.String() + " " + c.Value.String()
}

// In is `Field [NOT] IN (v1, v2, ...)`.
type In struct {
	Field  Field
	Negate bool
	Values []Value
}

// Pos implements Expr.
func (in *In) Pos() int { return in.Field.At }

// String implements Expr.
func (in *In) String() string {
	vals := make([]string, len(in.Values))
	for i, v := range in.Values {
		vals[i] = v.String()
	}
	op := " IN ("
	if in.Negate {
		op = " NOT IN ("
	}
	return in.Field.String() + op + strings.Join(vals, ", ") + ")"
}

// IsNull is `Field IS [NOT] NULL`: whether a run lacks (or has) a param,
// metric or tag, or whether an attribute such as end or parent is unset.
type IsNull struct {
	Field  Field
	Negate bool
}

// Pos implements Expr.
func (n *IsNull) Pos() int { return n.Field.At }

// String implements Expr.
func (n *IsNull) String() string {
	if n.Negate {
		return n.Field.String() + " IS NOT NULL"
	}
	return n.Field.String() + " IS NULL"
}

// FieldKind says which part of a run a field refers to.
type FieldKind int

// The field kinds.
const (
	// Attribute is a column of the run itself (see Attributes).
	Attribute FieldKind = iota
	// Param is a hyperparameter: params.<key>.
	Param
	// Metric is the latest value of a metric: metrics.<key>.
	Metric
	// Best is the best value of a metric (min for losses, max for
	// accuracies): best.<key>.
	Best
	// Tag is a tag value: tags.<key>.
	Tag
)

var fieldPrefixes = [...]string{Param: "params", Metric: "metrics", Best: "best", Tag: "tags"}

// Field names what is compared: an attribute such as status, or a keyed
// value such as params.hidden.
type Field struct {
	Kind FieldKind
	// Name is the canonical attribute name for Attribute fields and the key
	// (param, metric or tag name) otherwise.
	Name string
	// At is the byte offset of the field in the source.
	At int
	// Text is the field as written, for error messages.
	Text string
}

// String renders the field canonically, backquoting keys that are not plain
// identifiers.
func (f Field) String() string {
	if f.Kind == Attribute {
		return f.Name
	}
	key := f.Name
	if !isPlainKey(key) {
		key = "`" + key + "`"
	}
	return fieldPrefixes[f.Kind] + "." + key
}

func isPlainKey(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !isIdentRune(r, i == 0) {
			return false
		}
	}
	return true
}

// ValueKind is the type of a literal.
type ValueKind int

// The literal kinds.
const (
	Number ValueKind = iota
	String
	Bool
)

// Value is a literal on the right of a comparison.
type Value struct {
	Kind ValueKind
	// Text is the literal's text: the unquoted string, the number as
	// written, or "true"/"false".
	Text string
	// Pattern is, for a string, its text with the escapes of like and
	// ilike patterns kept: \% and \_ stand for a literal % and _, and
	// \\ for a backslash (see LikeRegexp). For other literals it is Text.
	Pattern string
	// Num is the numeric value of a Number.
	Num float64
	// Int is the value of a Number written without a fraction or exponent;
	// IsInt says whether it is set.
	Int   int64
	IsInt bool
	// Bool is the value of a Bool.
	Bool bool
	// At is the byte offset of the literal in the source.
	At int
}

// String renders the literal canonically; strings are single-quoted.
func (v Value) String() string {
	switch v.Kind {
	case Number:
		return v.Text
	case Bool:
		return strconv.FormatBool(v.Bool)
	default:
		// The pattern form keeps like escapes; in it, as in Text, a quote
		// is doubled and a lone backslash (possible only in the pattern
		// form as \\) stays escaped, so the result parses back to v.
		text := strings.ReplaceAll(v.Text, `\`, `\\`)
		if v.Pattern != "" && v.Pattern != v.Text {
			text = v.Pattern
		}
		return "'" + strings.ReplaceAll(text, "'", "''") + "'"
	}
}

// Order is one sort key.
type Order struct {
	Field Field
	Desc  bool
}

// OrderString renders a sort list canonically ("metrics.val_loss ASC, id DESC").
func OrderString(order []Order) string {
	parts := make([]string, len(order))
	for i, o := range order {
		dir := " ASC"
		if o.Desc {
			dir = " DESC"
		}
		parts[i] = o.Field.String() + dir
	}
	return strings.Join(parts, ", ")
}

// Fields returns every field the query names, in the condition and in
// the order, in source order.
func (q *Query) Fields() []Field {
	var out []Field
	var walk func(Expr)
	walk = func(e Expr) {
		switch e := e.(type) {
		case *Logical:
			walk(e.Left)
			walk(e.Right)
		case *Not:
			walk(e.X)
		case *Compare:
			out = append(out, e.Field)
		case *In:
			out = append(out, e.Field)
		case *IsNull:
			out = append(out, e.Field)
		}
	}
	if q.Where != nil {
		walk(q.Where)
	}
	for _, o := range q.Order {
		out = append(out, o.Field)
	}
	return out
}
