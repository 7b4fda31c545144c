package main

import (
	"github.com/spf13/cobra"

	"github.com/lstmlab/lstmlab/experiments"
)

func newResumeCmd(g *globals) *cobra.Command {
	var steps int
	var quiet bool
	var trackingURI string
	cmd := &cobra.Command{
		Use:   "resume RUN",
		Short: "Continue an interrupted run from its latest checkpoint",
		Long: `Continue a run (by id or name) from its latest checkpoint, in the same tracker run: the step count,
data position, optimizer state and random state carry on, so the losses are those of an uninterrupted
run. A finished run can be trained further with --steps.`,
		Example: `  lstmlab resume 3
  lstmlab resume moby-7 --steps 2000`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(g, "table", "json"); err != nil {
				return err
			}
			db, err := openExistingDB(g)
			if err != nil {
				return err
			}
			defer db.Close()
			mirror, err := startLiveMirror(g, trackingURI, db)
			if err != nil {
				return err
			}
			defer mirror.finish()
			view := newProgressView(g.stderr, quiet || g.format == "json")
			defer view.Close()
			opts := experiments.ResumeOptions{Backend: g.backend, DataDir: g.dataDir, RunsDir: g.runsDir, Steps: steps, Observe: view.Observe,
				OnRun: mirror.onRun()}
			if !quiet {
				opts.Log = g.stderr
			}
			res, err := experiments.Resume(cmd.Context(), db, args[0], opts)
			view.Close()
			if err != nil {
				return err
			}
			return printResult(g.stdout, g.format, res)
		},
	}
	cmd.Flags().IntVar(&steps, "steps", 0, "new total number of steps (default: the run's)")
	cmd.Flags().StringVar(&g.backend, "backend", "", "compute backend: go, xla:cpu, xla:cuda")
	cmd.Flags().StringVar(&g.dataDir, "data-dir", "data", "where the default corpus is downloaded")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "no progress output")
	addFormatFlag(cmd, g, "table", "json")
	addTrackingFlag(cmd, &trackingURI, "mirror the run live")
	return cmd
}
