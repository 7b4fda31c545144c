package tracker

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/agnivade/levenshtein"

	"github.com/lstmlab/lstmlab/tracker/filter"
)

// unknownKeys returns a warning for every param or metric key that the
// filter, the sort list or the shown fields of opts name but no run in the
// database has.
func (db *DB) unknownKeys(ctx context.Context, opts ListOptions) ([]string, error) {
	var fields []filter.Field
	if q, err := filter.Parse(opts.Filter); err == nil {
		fields = append(fields, q.Fields()...)
	}
	orders := []string{opts.OrderBy}
	for _, f := range opts.Show {
		if _, key, ok := strings.Cut(f, "."); ok && key != "*" {
			orders = append(orders, f)
		}
	}
	for _, o := range orders {
		if order, err := filter.ParseOrder(o); err == nil {
			for _, o := range order {
				fields = append(fields, o.Field)
			}
		}
	}
	known := map[filter.FieldKind][]string{}
	var warnings []string
	seen := map[string]bool{}
	for _, f := range fields {
		var table, what string
		switch f.Kind {
		case filter.Param:
			table, what = "params", "param"
		case filter.Metric, filter.Best:
			table, what = "metric_summary", "metric"
		default:
			continue
		}
		kind := f.Kind
		if kind == filter.Best {
			kind = filter.Metric
		}
		if _, ok := known[kind]; !ok {
			keys, err := db.distinctKeys(ctx, table)
			if err != nil {
				return nil, err
			}
			known[kind] = keys
		}
		name := f.String()
		if _, found := slices.BinarySearch(known[kind], f.Name); seen[name] || found { // known lists are sorted
			continue
		}
		seen[name] = true
		prefix, _, _ := strings.Cut(name, ".")
		msg := fmt.Sprintf("%s: no run has this %s", name, what)
		if close := closestKeys(f.Name, known[kind], 3); len(close) > 0 {
			for i, k := range close {
				close[i] = filter.Field{Kind: f.Kind, Name: k}.String()
			}
			msg += "; did you mean " + strings.Join(close, " or ") + "?"
		} else if len(known[kind]) == 0 {
			msg += " (no run has any " + what + " yet)"
		} else {
			msg += fmt.Sprintf(" (%d known %ss, e.g. %s.%s)", len(known[kind]), what, prefix, known[kind][0])
		}
		warnings = append(warnings, msg)
	}
	return warnings, nil
}

// distinctKeys lists the keys of a key/value table, sorted. table is one
// of this file's constants, never input.
func (db *DB) distinctKeys(ctx context.Context, table string) ([]string, error) {
	var keys []string
	err := db.eachRow(ctx, `SELECT DISTINCT key FROM `+table+` ORDER BY key`, nil, func(rows *sql.Rows) error {
		var k string
		if err := rows.Scan(&k); err != nil {
			return err
		}
		keys = append(keys, k)
		return nil
	})
	return keys, err
}

// closestKeys returns up to n known keys close to key: equal but for case,
// within an edit distance of about a third of its length, or containing it
// (or contained in it), nearest first.
func closestKeys(key string, known []string, n int) []string {
	type cand struct {
		key  string
		dist int
	}
	var cands []cand
	lower := strings.ToLower(key)
	limit := max(1, len([]rune(key))/3)
	for _, k := range known {
		kl := strings.ToLower(k)
		d := levenshtein.ComputeDistance(lower, kl)
		switch {
		case kl == lower:
			d = 0
		case d <= limit:
		case len(lower) >= 3 && (strings.Contains(kl, lower) || strings.Contains(lower, kl)):
			d = limit + 1 + abs(len(kl)-len(lower))
		default:
			continue
		}
		cands = append(cands, cand{k, d})
	}
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].dist < cands[j].dist })
	var out []string
	for _, c := range cands[:min(n, len(cands))] {
		out = append(out, c.key)
	}
	return out
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
