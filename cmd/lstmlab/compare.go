package main

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/lstmlab/lstmlab/tracker/render"
)

func newCompareCmd(g *globals) *cobra.Command {
	var onlyChanged bool
	cmd := &cobra.Command{
		Use:   "compare RUN RUN...",
		Short: "Compare runs side by side: tags, note, hyperparameters, final and best metrics, latest samples",
		Example: `  lstmlab compare 1 2 3 --only-changed
  lstmlab compare parent child --format markdown`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, db, runs, err := openRunsForRender(cmd.Context(), g, args...)
			if err != nil {
				return err
			}
			defer db.Close()
			c, err := db.Compare(cmd.Context(), runIDs(runs), onlyChanged)
			if err != nil {
				return err
			}
			return render.ComparisonWidth(g.stdout, c, f, terminalWidth(g.stdout, 120))
		},
	}
	cmd.Flags().BoolVar(&onlyChanged, "only-changed", false, "show only hyperparameters that differ between the runs")
	cmd.Flags().StringVar(&g.format, "format", "", "output format: "+strings.Join(render.Formats(), ", ")+" (default table)")
	return cmd
}
