package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lstmlab/lstmlab/experiments"
	"github.com/lstmlab/lstmlab/tracker"
	"github.com/lstmlab/lstmlab/tracker/plot"
	"github.com/lstmlab/lstmlab/tracker/render"
)

func newRunsCmd(g *globals) *cobra.Command {
	var filter, sortKey string
	var limit int
	cmd := &cobra.Command{
		Use:   "runs",
		Short: "List runs, filtered and sorted (MLflow-style search)",
		Example: `  lstmlab runs
  lstmlab runs --filter "params.hidden >= 256 and metrics.val_bpc < 2.1 and status = finished"
  lstmlab runs --sort "metrics.val_loss" --format csv`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, db, err := openForRender(g)
			if err != nil {
				return err
			}
			defer db.Close()
			runs, err := db.ListRuns(cmd.Context(), tracker.ListOptions{Filter: filter, OrderBy: sortKey, Limit: limit})
			if err != nil {
				return err
			}
			return render.Runs(g.stdout, runs, f)
		},
	}
	cmd.Flags().StringVar(&filter, "filter", "", "filter expression, e.g. \"params.lr < 0.01 and status = finished\"")
	cmd.Flags().StringVar(&sortKey, "sort", "", "sort list, e.g. \"metrics.val_loss\" or \"start desc\" (default: newest first)")
	cmd.Flags().IntVar(&limit, "limit", 0, "show at most this many runs")
	cmd.Flags().StringVar(&g.format, "format", "", "output format: "+strings.Join(render.Formats(), ", ")+" (default table)")
	return cmd
}

// openForRender resolves --format (default table) for the tracker's renderers, then opens the
// existing database; runs and compare share it.
func openForRender(g *globals) (render.Format, *tracker.DB, error) {
	if g.format == "" {
		g.format = "table"
	}
	f, err := render.ParseFormat(g.format)
	if err != nil {
		return f, nil, err
	}
	db, err := openExistingDB(g)
	return f, db, err
}

// runIDs resolves run references (ids or names).
func runIDs(cmd *cobra.Command, db *tracker.DB, refs []string) ([]int64, error) {
	ids := make([]int64, 0, len(refs))
	for _, ref := range refs {
		info, err := db.FindRun(cmd.Context(), ref)
		if err != nil {
			return nil, err
		}
		ids = append(ids, info.ID)
	}
	return ids, nil
}

func newCompareCmd(g *globals) *cobra.Command {
	var onlyChanged bool
	cmd := &cobra.Command{
		Use:   "compare RUN RUN...",
		Short: "Compare runs side by side: hyperparameters, final and best metrics, latest samples",
		Example: `  lstmlab compare 1 2 3 --only-changed
  lstmlab compare parent child --format markdown`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, db, err := openForRender(g)
			if err != nil {
				return err
			}
			defer db.Close()
			ids, err := runIDs(cmd, db, args)
			if err != nil {
				return err
			}
			c, err := db.Compare(cmd.Context(), ids, onlyChanged)
			if err != nil {
				return err
			}
			return render.Comparison(g.stdout, c, f)
		},
	}
	cmd.Flags().BoolVar(&onlyChanged, "only-changed", false, "show only hyperparameters that differ between the runs")
	cmd.Flags().StringVar(&g.format, "format", "", "output format: "+strings.Join(render.Formats(), ", ")+" (default table)")
	return cmd
}

func newPlotCmd(g *globals) *cobra.Command {
	var metrics []string
	var out, x string
	var smooth float64
	var logY bool
	cmd := &cobra.Command{
		Use:   "plot RUN... --out FILE.png|.svg",
		Short: "Plot learning curves of one or more runs",
		Example: `  lstmlab plot 1 2 --out curves.png
  lstmlab plot 1 --metric val_bpc --x time --log --out bpc.svg`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return fmt.Errorf("--out FILE.png or FILE.svg is required")
			}
			db, err := openExistingDB(g)
			if err != nil {
				return err
			}
			defer db.Close()
			ids, err := runIDs(cmd, db, args)
			if err != nil {
				return err
			}
			opts := plot.Options{Metrics: metrics, X: plot.XAxis(x), Smoothing: smooth, LogY: logY}
			if err := plot.Save(cmd.Context(), db, ids, opts, out); err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "wrote %s\n", out)
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&metrics, "metric", nil, "metric to plot (repeatable; default train_loss and val_loss)")
	cmd.Flags().StringVar(&out, "out", "", "output file, .png or .svg")
	cmd.Flags().StringVar(&x, "x", "steps", "x axis: steps or time")
	cmd.Flags().Float64Var(&smooth, "smooth", 0, "exponential smoothing weight in [0, 1)")
	cmd.Flags().BoolVar(&logY, "log", false, "logarithmic y axis")
	return cmd
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
		fmt.Fprintf(g.stdout, "best: run %d (%s), val_loss %.4f\n", results[0].RunID, results[0].RunName, results[0].BestVal)
	}
	return render.Comparison(g.stdout, c, f)
}
