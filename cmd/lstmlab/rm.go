package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newRmCmd(g *globals) *cobra.Command {
	var files bool
	cmd := &cobra.Command{
		Use:   "rm RUN...",
		Short: "Delete runs from the tracker (and, with --files, their checkpoints and plots)",
		Long: `Delete runs (by id or name) and everything recorded for them — params, metric history, samples,
artifact entries — each in one transaction. With --files, the run's folder (checkpoints, plots) is
removed too. Runs fine-tuned from a deleted run keep their data and lose the parent link.
A run whose process is alive is refused, naming that process and its host, even while the process
is stopped (Ctrl-Z, SIGSTOP, a sleeping laptop).`,
		Example: `  lstmlab rm 3
  lstmlab rm sweep-hidden-5 sweep-hidden-6 --files`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := openWritableDB(g)
			if err != nil {
				return err
			}
			defer db.Close()
			ctx := cmd.Context()
			for _, ref := range args {
				info, err := db.FindRun(ctx, ref)
				if err != nil {
					return err
				}
				if _, err := db.DeleteRun(ctx, info.ID, files); err != nil {
					return fmt.Errorf("run %s: %w", ref, err)
				}
				fmt.Fprintf(g.stdout, "deleted run %d (%s)\n", info.ID, info.Name)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&files, "files", false, "also delete the run's files (its folder: checkpoints, plots)")
	return cmd
}
