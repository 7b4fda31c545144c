package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lstmlab/lstmlab/experiments"
	"github.com/lstmlab/lstmlab/tracker"
)

func newResumeCmd(g *globals) *cobra.Command {
	var (
		steps           int
		sets            []string
		quiet           bool
		allowDataChange bool
		trackingURI     string
	)
	cmd := &cobra.Command{
		Use:   "resume RUN",
		Short: "Continue an interrupted run from its latest checkpoint, or train a finished one further",
		Long: `Continue a run (by id or name) from its latest checkpoint, in the same tracker run: the step count,
data position, optimizer state and random state carry on, so the losses are those of an uninterrupted
run. Anything logged after the checkpoint's step (by a process killed before its next checkpoint) is
discarded first and logged again, so the history holds one point per step.

--steps N trains to N steps in all (a finished run needs it) and records the new total. --set key=value
changes a key that changes neither the model's shape nor the data: ` + strings.Join(experiments.ResumableKeys, ", ") + `,
and the sample settings ` + strings.Join(experiments.SampleKeys, ", ") + `. Each change is recorded in the
run's param history with the step from which it applies.

Learning rate: warm-up, "step" and constant schedules do not depend on the number of steps and carry
on as they were. A cosine schedule whose steps, lr or decay_rate change continues from the rate the run
had reached at the checkpoint (scaled by new lr / old lr) and decays from there to lr × decay_rate at
the new last step; a finished cosine run, already at that floor, continues at it. The rate never jumps.

The run is rebuilt from its record alone. Its checkpoint must be its own (run identity, shape,
vocabulary) and its corpus must be the text it trained on (same SHA-256): a changed file is refused,
naming both hashes, unless --allow-data-change. A run whose process is alive is refused, naming that
process and its host, even while the process is stopped.`,
		Example: `  lstmlab resume 3
  lstmlab resume moby-7 --steps 2000
  lstmlab resume moby-7 --set lr=1e-3 --set eval_every=50 --set sample_length=400`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(g, "table", "json"); err != nil {
				return err
			}
			for _, kv := range sets {
				if key, value, _ := strings.Cut(kv, "="); steps > 0 && strings.TrimSpace(key) == "steps" {
					return fmt.Errorf("--steps %d and --set steps=%s: give the step count once", steps, strings.TrimSpace(value))
				}
			}
			db, err := openWritableDB(g)
			if err != nil {
				return err
			}
			defer db.Close()
			info, err := db.FindRun(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			g.interrupted = resumeHint(g, info.Name)
			g.end.onRun(g.interrupted)
			view := newProgressView(g.stderr, quiet || g.format == "json")
			defer view.Close()
			mirror, err := startLiveMirror(trackingURI, db, view.Writer(g.stderr))
			if err != nil {
				return err
			}
			defer mirror.finish(g)
			opts := experiments.ResumeOptions{Backend: g.backend, DataDir: g.dataDir, Steps: steps, Overrides: sets,
				AllowDataChange: allowDataChange, Observe: view.Observe, OnRun: mirror.onRun(), OnEnd: g.end.onEnd}
			if !quiet {
				opts.Log = view.Writer(g.stderr)
			}
			res, err := experiments.Resume(cmd.Context(), db, args[0], opts)
			view.Close()
			if res != nil && res.Status == tracker.StatusInterrupted {
				g.end.interrupted.Store(true)
			}
			if reached := (*experiments.StepsReachedError)(nil); errors.As(err, &reached) {
				return fmt.Errorf("run %d (%s) already reached step %d of %d: pass --steps N with N > %d to train further",
					reached.RunID, reached.Name, reached.Step, reached.Steps, reached.Step)
			}
			if err != nil {
				return err
			}
			return printResult(g.stdout, g.format, res)
		},
	}
	cmd.Flags().IntVar(&steps, "steps", 0, "new total number of steps (default: the run's)")
	cmd.Flags().StringArrayVar(&sets, "set", nil, "change a key from now on: --set key=value (repeatable; see above for the keys)")
	cmd.Flags().BoolVar(&allowDataChange, "allow-data-change", false, "resume even though the corpus's text changed (the splits differ); the new hash is recorded")
	cmd.Flags().StringVar(&g.backend, "backend", "", "compute backend: go, xla:cpu, xla:cuda")
	cmd.Flags().StringVar(&g.dataDir, "data-dir", "data", "where the default corpus is downloaded")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "no progress output")
	addFormatFlag(cmd, g, "table", "json")
	addTrackingFlag(cmd, &trackingURI, "mirror the run live")
	return cmd
}
