package tracker

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/lstmlab/lstmlab/tracker/filter"
)

// sqlCompiler turns a parsed filter into a SQL condition over runs r joined
// to experiments e. Only fixed SQL fragments from this file are ever
// concatenated: every key, value and pattern from the user is a bound
// parameter, so a filter cannot change the statement.
type sqlCompiler struct {
	src  string // the filter text, for error positions
	now  int64  // ms
	dead string // JSON array of the ids of runs stored running whose process is gone (DB.deadRuns)
	sb   strings.Builder
	args []any
}

func (c *sqlCompiler) write(sql string, args ...any) {
	c.sb.WriteString(sql)
	c.args = append(c.args, args...)
}

func (c *sqlCompiler) errorf(at int, format string, args ...any) error {
	return filter.Errorf(c.src, at, format, args...)
}

// attrKind is how an attribute's values compare.
type attrKind int

const (
	attrText attrKind = iota
	attrNumber
	attrTime
	attrStatus
	// attrRunID is MLflow's run_id: a string compared for equality. Here
	// it is the run id as text, so run_id = 3 and run_id = '3' agree.
	attrRunID
)

type attrSQL struct {
	kind attrKind
	expr string // SQL over r and e; "?" placeholders are filled by args
	args func(c *sqlCompiler) []any
}

// statusExpr is the status readers see: a running run whose process is gone
// is interrupted.
const statusExpr = `(CASE WHEN r.status = 'running' AND r.id IN (SELECT value FROM json_each(?)) THEN 'interrupted' ELSE r.status END)`

// activeExpr is the active training time in ms (see RunInfo.Active): the
// stored sum, plus the time since the last heartbeat while the run is live
// (running and not among the dead runs).
const activeExpr = `(r.active_ms + CASE WHEN r.status = 'running' AND r.id NOT IN (SELECT value FROM json_each(?)) THEN max(0, ? - r.heartbeat_ms) ELSE 0 END)`

var attributes = map[string]attrSQL{
	"id":         {kind: attrNumber, expr: "r.id"},
	"run_id":     {kind: attrRunID, expr: "CAST(r.id AS TEXT)"},
	"name":       {kind: attrText, expr: "r.name"},
	"experiment": {kind: attrText, expr: "e.name"},
	"status": {kind: attrStatus, expr: statusExpr,
		args: func(c *sqlCompiler) []any { return []any{c.dead} }},
	"start": {kind: attrTime, expr: "r.start_ms"},
	"end":   {kind: attrTime, expr: "r.end_ms"},
	// Seconds; a live run counts until now, a dead one until its last
	// heartbeat.
	"duration": {kind: attrNumber,
		expr: `((COALESCE(r.end_ms, CASE WHEN r.id IN (SELECT value FROM json_each(?)) THEN r.heartbeat_ms ELSE ? END) - r.start_ms) / 1000.0)`,
		args: func(c *sqlCompiler) []any { return []any{c.dead, c.now} }},
	// Seconds of active training time (idle gaps between an interruption
	// and its resume excluded).
	"active": {kind: attrNumber, expr: "(" + activeExpr + " / 1000.0)",
		args: func(c *sqlCompiler) []any { return []any{c.dead, c.now} }},
	"backend":    {kind: attrText, expr: "r.backend"},
	"host":       {kind: attrText, expr: "r.host"},
	"git_commit": {kind: attrText, expr: "r.git_commit"},
	"command":    {kind: attrText, expr: "r.command"},
	"note":       {kind: attrText, expr: "r.note"},
	"parent":     {kind: attrNumber, expr: "r.parent_id"},
}

var sqlOps = map[filter.CompareOp]string{
	filter.Eq: "=", filter.Ne: "!=", filter.Lt: "<", filter.Le: "<=", filter.Gt: ">", filter.Ge: ">=",
}

func (c *sqlCompiler) expr(e filter.Expr) error {
	switch e := e.(type) {
	case *filter.Logical:
		op := " AND "
		if e.Op == filter.Or {
			op = " OR "
		}
		c.write("(")
		if err := c.expr(e.Left); err != nil {
			return err
		}
		c.write(op)
		if err := c.expr(e.Right); err != nil {
			return err
		}
		c.write(")")
	case *filter.Not:
		c.write("NOT (")
		if err := c.expr(e.X); err != nil {
			return err
		}
		c.write(")")
	case *filter.Compare:
		return c.compare(e)
	case *filter.In:
		return c.in(e)
	case *filter.IsNull:
		return c.isNull(e)
	default:
		return fmt.Errorf("filter: unsupported expression %T", e)
	}
	return nil
}

// keyed opens the EXISTS subquery that finds the row of a param, metric or
// tag key; the caller writes the condition on its value column and closes
// it. It returns that column.
func (c *sqlCompiler) keyed(f filter.Field) string {
	switch f.Kind {
	case filter.Param:
		c.write("EXISTS (SELECT 1 FROM params p WHERE p.run_id = r.id AND p.key = ? AND ", f.Name)
		return "p.value"
	case filter.Metric:
		c.write("EXISTS (SELECT 1 FROM metric_summary s WHERE s.run_id = r.id AND s.key = ? AND ", f.Name)
		return "s.last_value"
	case filter.Best:
		c.write("EXISTS (SELECT 1 FROM metric_summary s WHERE s.run_id = r.id AND s.key = ? AND ", f.Name)
		return "s.best_value"
	default:
		c.write("EXISTS (SELECT 1 FROM tags t WHERE t.run_id = r.id AND t.key = ? AND ", f.Name)
		return "t.value"
	}
}

func (c *sqlCompiler) compare(e *filter.Compare) error {
	f := e.Field
	if f.Kind == filter.Attribute {
		a := attributes[f.Name]
		if e.Op.IsPattern() {
			c.pattern(a.expr, attrArgs(c, a), e.Op, e.Value)
			return nil
		}
		if a.kind == attrRunID && e.Op != filter.Eq && e.Op != filter.Ne {
			return c.errorf(e.Field.At, "%s compares with =, !=, in or like (use id for ranges such as id > 10)", f.Text)
		}
		v, err := c.attrValue(f, a, e.Value)
		if err != nil {
			return err
		}
		c.write(a.expr, attrArgs(c, a)...)
		c.write(" "+sqlOps[e.Op]+" ?", v)
		return nil
	}
	if (f.Kind == filter.Metric || f.Kind == filter.Best) && (e.Op.IsPattern() || e.Value.Kind != filter.Number) {
		return c.errorf(e.Value.At, "%s is a number; compare it with a number", f.Text)
	}
	col := c.keyed(f)
	switch {
	case e.Op.IsPattern():
		c.pattern("CAST("+col+" AS TEXT)", nil, e.Op, e.Value)
	case f.Kind == filter.Param:
		// A param is compared as text if it is a string param, as a number
		// otherwise; the literal is bound in both forms, so 256 and '256'
		// both match an int param 256, and true matches a bool param.
		op := sqlOps[e.Op]
		c.write("CASE WHEN p.type = 'string' THEN p.value "+op+" ? ELSE p.value "+op+" ? END", textOf(e.Value), numberOf(e.Value))
	case f.Kind == filter.Tag:
		c.write(col+" "+sqlOps[e.Op]+" ?", textOf(e.Value))
	default:
		c.write(col+" "+sqlOps[e.Op]+" ?", e.Value.Num)
	}
	c.write(")")
	return nil
}

func attrArgs(c *sqlCompiler, a attrSQL) []any {
	if a.args == nil {
		return nil
	}
	return a.args(c)
}

// pattern writes a like (case-sensitive, as in MLflow) or ilike test of
// expr against the pattern, through lstmlab_like (sqlfuncs.go): SQLite's
// LIKE folds ASCII letters only and has no escape character by default.
// ilike folds both sides with full Unicode case folding.
func (c *sqlCompiler) pattern(expr string, exprArgs []any, op filter.CompareOp, v filter.Value) {
	negate := op == filter.NotLike || op == filter.NotILike
	fold := op == filter.ILike || op == filter.NotILike
	if negate {
		c.write("NOT (")
	}
	c.write("lstmlab_like(")
	c.write(expr, exprArgs...)
	pattern := v.Pattern
	if pattern == "" {
		pattern = v.Text
	}
	if fold {
		c.write(", ?, 1)", filter.LikeRegexp(pattern, foldText))
	} else {
		c.write(", ?, 0)", filter.LikeRegexp(pattern, nil))
	}
	if negate {
		c.write(")")
	}
}

func (c *sqlCompiler) in(e *filter.In) error {
	f := e.Field
	not := ""
	if e.Negate {
		not = "NOT "
	}
	list := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(e.Values)), ", ") + ")"
	if f.Kind == filter.Attribute {
		a := attributes[f.Name]
		vals := make([]any, len(e.Values))
		for i, v := range e.Values {
			x, err := c.attrValue(f, a, v)
			if err != nil {
				return err
			}
			vals[i] = x
		}
		c.write(a.expr, attrArgs(c, a)...)
		c.write(" "+not+"IN "+list, vals...)
		return nil
	}
	texts := make([]any, len(e.Values))
	nums := make([]any, len(e.Values))
	for i, v := range e.Values {
		if (f.Kind == filter.Metric || f.Kind == filter.Best) && v.Kind != filter.Number {
			return c.errorf(v.At, "%s is a number; compare it with numbers", f.Text)
		}
		texts[i], nums[i] = textOf(v), numberOf(v)
	}
	col := c.keyed(f)
	switch f.Kind {
	case filter.Param:
		c.write("CASE WHEN p.type = 'string' THEN p.value "+not+"IN "+list, texts...)
		c.write(" ELSE p.value "+not+"IN "+list+" END", nums...)
	case filter.Tag:
		c.write(col+" "+not+"IN "+list, texts...)
	default:
		c.write(col+" "+not+"IN "+list, nums...)
	}
	c.write(")")
	return nil
}

func (c *sqlCompiler) isNull(e *filter.IsNull) error {
	f := e.Field
	if f.Kind == filter.Attribute {
		a := attributes[f.Name]
		c.write(a.expr, attrArgs(c, a)...)
		if e.Negate {
			c.write(" IS NOT NULL")
		} else {
			c.write(" IS NULL")
		}
		return nil
	}
	// A keyed value is null when the run does not have it (for best.<key>:
	// when every value was NaN).
	if !e.Negate {
		c.write("NOT ")
	}
	col := c.keyed(f)
	c.write(col + " IS NOT NULL)")
	return nil
}

// attrValue converts a literal to what an attribute column holds, or points
// at the literal when it cannot mean anything there.
func (c *sqlCompiler) attrValue(f filter.Field, a attrSQL, v filter.Value) (any, error) {
	switch a.kind {
	case attrNumber:
		if v.Kind != filter.Number {
			return nil, c.errorf(v.At, "%s is a number; compare it with a number", f.Text)
		}
		return numberOf(v), nil
	case attrTime:
		ms, err := parseTimeLiteral(v)
		if err != nil {
			return nil, c.errorf(v.At, "%s is a time: %v", f.Text, err)
		}
		return ms, nil
	case attrStatus:
		s, ok := statusAliases[strings.ToLower(v.Text)]
		if v.Kind != filter.String || !ok {
			return nil, c.errorf(v.At, "unknown status (want running, finished, failed or interrupted)")
		}
		return string(s), nil
	case attrRunID:
		if v.Kind == filter.Number && v.IsInt {
			return strconv.FormatInt(v.Int, 10), nil
		}
		return strings.TrimSpace(v.Text), nil
	}
	return textOf(v), nil
}

// statusAliases maps status names, lstmlab's and MLflow's (KILLED is
// MLflow's word for a run stopped before its end), to lstmlab's.
var statusAliases = map[string]Status{
	"running": StatusRunning, "finished": StatusFinished, "failed": StatusFailed,
	"interrupted": StatusInterrupted, "killed": StatusInterrupted,
}

// timeLayouts are the accepted date forms, most specific first; times
// without a zone are local.
var timeLayouts = []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02"}

// parseTimeLiteral reads a date ('2025-01-31', '2025-01-31 14:00', RFC 3339)
// as milliseconds since the Unix epoch, or a number, which is milliseconds
// already, as MLflow's start_time and end_time are. A number that is not
// a whole int64 (1e300, 1.5) is kept as a float64: SQLite compares an
// INTEGER column with a REAL exactly, so no conversion can overflow.
func parseTimeLiteral(v filter.Value) (any, error) {
	switch v.Kind {
	case filter.Number:
		return numberOf(v), nil
	case filter.String:
		for _, layout := range timeLayouts {
			if t, err := time.ParseInLocation(layout, v.Text, time.Local); err == nil {
				return t.UnixMilli(), nil
			}
		}
	}
	return nil, fmt.Errorf("want a date such as '2025-01-31' or '2025-01-31 14:00', or milliseconds since 1970 (as MLflow's start_time)")
}

// textOf is a literal as text: strings as written, numbers as written,
// booleans as true/false.
func textOf(v filter.Value) any {
	return v.Text
}

// numberOf is a literal as a number, or nil (which matches nothing) when it
// has no numeric meaning. Quoted numbers count as numbers, and booleans as
// 1 and 0 (how bool params are stored).
func numberOf(v filter.Value) any {
	switch v.Kind {
	case filter.Number:
		if v.IsInt {
			return v.Int
		}
		return v.Num
	case filter.Bool:
		if v.Bool {
			return int64(1)
		}
		return int64(0)
	}
	switch strings.ToLower(v.Text) {
	case "true":
		return int64(1)
	case "false":
		return int64(0)
	}
	if n, err := strconv.ParseInt(v.Text, 10, 64); err == nil {
		return n
	}
	if f, err := strconv.ParseFloat(v.Text, 64); err == nil {
		return f
	}
	return nil
}

// orderExpr writes the SQL sort key for one order term. Runs lacking the
// key sort last whatever the direction.
func (c *sqlCompiler) orderExpr(o filter.Order) {
	f := o.Field
	switch f.Kind {
	case filter.Attribute:
		a := attributes[f.Name]
		c.write(a.expr, attrArgs(c, a)...)
	case filter.Param:
		c.write("(SELECT p.value FROM params p WHERE p.run_id = r.id AND p.key = ?)", f.Name)
	case filter.Metric:
		c.write("(SELECT s.last_value FROM metric_summary s WHERE s.run_id = r.id AND s.key = ?)", f.Name)
	case filter.Best:
		c.write("(SELECT s.best_value FROM metric_summary s WHERE s.run_id = r.id AND s.key = ?)", f.Name)
	case filter.Tag:
		c.write("(SELECT t.value FROM tags t WHERE t.run_id = r.id AND t.key = ?)", f.Name)
	}
	if o.Desc {
		c.write(" DESC NULLS LAST")
	} else {
		c.write(" ASC NULLS LAST")
	}
}
