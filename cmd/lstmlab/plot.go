package main

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/lstmlab/lstmlab/tracker/plot"
)

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
			if err := checkFormat(g, "text", "json"); err != nil {
				return err
			}
			if out == "" {
				return fmt.Errorf("--out FILE.png or FILE.svg is required")
			}
			db, runs, err := openRuns(cmd.Context(), g, args...)
			if err != nil {
				return err
			}
			defer db.Close()
			var logged []string // every run's metric keys, for --metric lists
			for _, r := range runs {
				keys, err := db.MetricKeys(cmd.Context(), r.ID)
				if err != nil {
					return err
				}
				logged = append(logged, keys...)
			}
			opts := plot.Options{Metrics: splitKeyLists(metrics, logged), X: plot.XAxis(x), Smoothing: smooth, LogY: logY}
			notes, err := plot.Save(cmd.Context(), db, runIDs(runs), opts, out)
			if err != nil {
				return err
			}
			if g.format == "json" {
				abs, _ := filepath.Abs(out)
				if notes == nil {
					notes = []string{}
				}
				return printJSON(g.stdout, map[string]any{"path": abs, "run_ids": runIDs(runs), "notes": notes})
			}
			for _, n := range notes {
				fmt.Fprintf(g.stderr, "lstmlab: note: %s\n", n)
			}
			fmt.Fprintf(g.stdout, "wrote %s\n", out)
			return nil
		},
	}
	addFormatFlag(cmd, g, "text", "json")
	cmd.Flags().StringArrayVar(&metrics, "metric", nil, "metric to plot (repeatable or comma-separated; default train_loss and val_loss)")
	cmd.Flags().StringVar(&out, "out", "", "output file, .png or .svg")
	cmd.Flags().StringVar(&x, "x", "steps", "x axis: steps or time")
	cmd.Flags().Float64Var(&smooth, "smooth", 0, "exponential smoothing weight in [0, 1)")
	cmd.Flags().BoolVar(&logY, "log", false, "logarithmic y axis")
	return cmd
}
