package main

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lstmlab/lstmlab/experiments"
	"github.com/lstmlab/lstmlab/tracker"
	filterpkg "github.com/lstmlab/lstmlab/tracker/filter"
	"github.com/lstmlab/lstmlab/tracker/render"
)

func newRunsCmd(g *globals) *cobra.Command {
	var filter, sortKey string
	var limit, width int
	var columns []string
	cmd := &cobra.Command{
		Use:   "runs",
		Short: "List runs, filtered and sorted (MLflow's search syntax)",
		Long: `List the runs of the tracker database, newest first, like "mlflow runs list" with a search
filter. The table shows id, name, status, start, active training time, the params that differ
between the listed runs (the model's shape, cell and main training knobs first; paths, sample
settings and counts last, the first left out to fit), the best validation loss and bits, and the
tags, fitted to 120 columns (--width); --columns chooses others. CSV has every column; JSON every field.

` + filterpkg.Help + `

Columns (--columns, comma-separated):
  ` + strings.ReplaceAll(render.ColumnHelp, "\n", "\n  "),
		Example: `  lstmlab runs
  lstmlab runs --filter "params.hidden >= 256 and metrics.val_bpc < 2.1 and status = finished"
  lstmlab runs --filter "name ilike 'moby%'" --sort "best.val_loss" --limit 5
  lstmlab runs --columns id,name,params.lr,best.val_loss,tags.team
  lstmlab runs --sort "metrics.val_loss" --format csv > runs.csv`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, db, _, err := openRunsForRender(cmd.Context(), g)
			if err != nil {
				return err
			}
			defer db.Close()
			res, err := db.SearchRuns(cmd.Context(), tracker.ListOptions{Filter: filter, OrderBy: sortKey, Limit: limit, Show: columns})
			if err != nil {
				return err
			}
			for _, w := range res.Warnings {
				fmt.Fprintf(g.stderr, "lstmlab: warning: %s\n", w)
			}
			return render.RunsWith(g.stdout, res.Runs, f, render.RunsOptions{Columns: columns, Width: width,
				ColumnsHint: "choose columns with --columns", ParamsFirst: experiments.ParamsFirst, ParamsLast: experiments.ParamsLast})
		},
	}
	cmd.Flags().StringVar(&filter, "filter", "", "search filter, e.g. \"params.lr < 0.01 and status = finished\" (see above)")
	cmd.Flags().StringVar(&sortKey, "sort", "", "sort list, e.g. \"metrics.val_loss\" or \"start desc\" (default: newest first)")
	cmd.Flags().IntVar(&limit, "limit", 0, "show at most this many runs")
	cmd.Flags().StringSliceVar(&columns, "columns", nil, "table columns, comma-separated (default "+strings.Join(render.DefaultColumns, ",")+")")
	cmd.Flags().IntVar(&width, "width", 120, "widest table line, in terminal columns")
	cmd.Flags().StringVar(&g.format, "format", "", "output format: "+strings.Join(render.Formats(), ", ")+" (default table)")
	return cmd
}

// openRuns opens the existing database read-only and finds the runs refs name (ids or names), in
// order; on error nothing is left open. show, metrics, samples, compare and plot start with it.
func openRuns(ctx context.Context, g *globals, refs ...string) (*tracker.DB, []tracker.RunInfo, error) {
	db, err := openExistingDB(g)
	if err != nil {
		return nil, nil, err
	}
	infos := make([]tracker.RunInfo, 0, len(refs))
	for _, ref := range refs {
		info, err := db.FindRun(ctx, ref)
		if err != nil {
			db.Close()
			return nil, nil, err
		}
		infos = append(infos, info)
	}
	return db, infos, nil
}

// openRunsForRender is openRuns after resolving --format for the tracker's renderers (default table).
func openRunsForRender(ctx context.Context, g *globals, refs ...string) (render.Format, *tracker.DB, []tracker.RunInfo, error) {
	if g.format == "" {
		g.format = "table"
	}
	f, err := render.ParseFormat(g.format)
	if err != nil {
		return f, nil, nil, err
	}
	db, infos, err := openRuns(ctx, g, refs...)
	return f, db, infos, err
}

// runIDs are the ids of runs.
func runIDs(runs []tracker.RunInfo) []int64 {
	ids := make([]int64, len(runs))
	for i, r := range runs {
		ids[i] = r.ID
	}
	return ids
}

// printSweep prints the comparison table of a sweep's runs, best validation loss first.
func printSweep(g *globals, db *tracker.DB, results []*experiments.Result) error {
	if len(results) == 0 {
		return fmt.Errorf("sweep produced no runs")
	}
	sort.Slice(results, func(i, j int) bool { return results[i].BestVal < results[j].BestVal })
	ids := make([]int64, len(results))
	for i, r := range results {
		ids[i] = r.RunID
	}
	if len(ids) == 1 {
		return printResult(g.stdout, g.format, results[0])
	}
	c, err := db.Compare(contextBackground(), ids, true)
	if err != nil {
		return err
	}
	f := render.Format("table")
	if g.format == "json" {
		f = render.Format("json")
	}
	if f != "json" {
		best := "none (no validation yet)"
		if results[0].HasBestVal() {
			best = render.Number(results[0].BestVal, 4)
		}
		fmt.Fprintf(g.stdout, "best: run %d (%s), val_loss %s\n", results[0].RunID, results[0].RunName, best)
	}
	return render.Comparison(g.stdout, c, f)
}
