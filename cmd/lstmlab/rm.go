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
			if err := checkFormat(g, "text", "json"); err != nil {
				return err
			}
			db, err := openWritableDB(g)
			if err != nil {
				return err
			}
			defer db.Close()
			ctx := cmd.Context()
			type deleted struct {
				ID      int64    `json:"run_id"`
				Name    string   `json:"run_name"`
				Removed []string `json:"files_removed"`
			}
			var done []deleted
			var runErr error
			for _, ref := range args {
				info, err := db.FindRun(ctx, ref)
				if err != nil {
					runErr = err
					break
				}
				removed, err := db.DeleteRun(ctx, info.ID, files)
				if err != nil {
					runErr = fmt.Errorf("run %s: %w", ref, err)
					break
				}
				if removed == nil {
					removed = []string{}
				}
				done = append(done, deleted{info.ID, info.Name, removed})
				if g.format != "json" {
					fmt.Fprintf(g.stdout, "deleted run %d (%s)\n", info.ID, info.Name)
				}
			}
			if g.format == "json" && (len(done) > 0 || runErr == nil) {
				if done == nil {
					done = []deleted{}
				}
				if err := printJSON(g.stdout, map[string]any{"deleted": done}); err != nil {
					return err
				}
			}
			return runErr
		},
	}
	cmd.Flags().BoolVar(&files, "files", false, "also delete the run's files (its folder: checkpoints, plots)")
	addFormatFlag(cmd, g, "text", "json")
	return cmd
}
