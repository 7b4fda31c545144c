package tracker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/lstmlab/lstmlab/tracker/filter"
)

// ListOptions selects and orders runs for ListRuns.
type ListOptions struct {
	// Filter is an MLflow-style expression (see package filter), e.g.
	//
	//	params.hidden >= 256 and metrics.val_bpc < 2.1 and status = finished
	//
	// It may end with an "order by" clause. Empty keeps every run.
	Filter string
	// OrderBy is a sort list such as "metrics.val_loss desc, start"; it
	// must not be given together with an "order by" inside Filter. Default:
	// newest first.
	OrderBy string
	// Limit caps the number of runs returned; 0 means no limit.
	Limit int
	// Show lists other fields the caller shows (the columns of a table:
	// params.<key>, metrics.<key>, best.<key>): SearchRuns warns about those
	// no run has, as it does for the filter's. Other names are ignored.
	Show []string
}

// ListRuns returns the runs matching opts with their tags, params and
// latest/best metrics (read from the summary table, never the history).
// A malformed filter or sort list yields a *filter.Error naming the bad
// token and its column. SearchRuns also says which keys no run has.
func (db *DB) ListRuns(ctx context.Context, opts ListOptions) ([]RunInfo, error) {
	res, err := db.SearchRuns(ctx, opts)
	if err != nil {
		return nil, err
	}
	return res.Runs, nil
}

// SearchResult is what SearchRuns found.
type SearchResult struct {
	Runs []RunInfo
	// Warnings name the params and metrics that the filter or sort list
	// uses but no run in the database has (a typo returns nothing rather
	// than an error, as in MLflow), with the closest known keys:
	//
	//	metrics.val_los: no run has this metric; did you mean metrics.val_loss?
	Warnings []string
}

// SearchRuns is ListRuns that also reports unknown keys (see
// SearchResult.Warnings); the runs are the same either way.
func (db *DB) SearchRuns(ctx context.Context, opts ListOptions) (*SearchResult, error) {
	query, args, err := db.compileList(opts)
	if err != nil {
		return nil, err
	}
	if err := db.flushOpen(); err != nil {
		return nil, err
	}
	runs, err := db.loadRuns(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	warnings, err := db.unknownKeys(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	return &SearchResult{Runs: runs, Warnings: warnings}, nil
}

// compileList builds the SELECT for ListRuns; split out so tests can check
// the SQL never contains user text.
func (db *DB) compileList(opts ListOptions) (string, []any, error) {
	if opts.Limit < 0 {
		return "", nil, fmt.Errorf("list runs: negative limit %d", opts.Limit)
	}
	q, err := filter.Parse(opts.Filter)
	if err != nil {
		return "", nil, err
	}
	order := q.Order
	if opts.OrderBy != "" {
		if len(order) > 0 {
			return "", nil, errors.New("list runs: the sort order is given twice (in the filter's order by and in OrderBy)")
		}
		if order, err = filter.ParseOrder(opts.OrderBy); err != nil {
			return "", nil, err
		}
	}
	dead, err := db.deadRuns(context.Background())
	if err != nil {
		return "", nil, fmt.Errorf("list runs: %w", err)
	}
	deadJSON, _ := json.Marshal(append([]int64{}, dead...))
	c := &sqlCompiler{src: opts.Filter, now: db.now().UnixMilli(), dead: string(deadJSON)}
	c.write(`SELECT ` + runColumns + ` FROM runs r JOIN experiments e ON e.id = r.experiment_id`)
	if q.Where != nil {
		c.write(" WHERE ")
		if err := c.expr(q.Where); err != nil {
			return "", nil, err
		}
	}
	c.write(" ORDER BY ")
	for _, o := range order {
		c.orderExpr(o)
		c.write(", ")
	}
	c.write("r.start_ms DESC, r.id DESC")
	if opts.Limit > 0 {
		c.write(" LIMIT ?", opts.Limit)
	}
	return c.sb.String(), c.args, nil
}
