package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lstmlab/lstmlab/experiments"
	"github.com/lstmlab/lstmlab/tracker"
	"github.com/lstmlab/lstmlab/tracker/render"
)

type trainFlags struct {
	preset, data, name, experiment, note, initFrom, prompt string
	trackingURI                                            string
	sets, tags, freeze, sweeps                             []string
	extendVocab, quiet                                     bool
	random, sampleLength                                   int
}

func newTrainCmd(g *globals) *cobra.Command {
	f := &trainFlags{}
	cmd := &cobra.Command{
		Use:   "train",
		Short: "Train a model (tracked): one run, or a sweep of runs",
		Long: `Train an LSTM language model from a preset and key=value overrides, logging hyperparameters, the
metric history, samples, checkpoints and a learning-curve plot into the tracker database.
Ctrl-C (SIGINT), SIGTERM and SIGHUP (the terminal closed) stop cleanly: every logged point is
committed, a final checkpoint saved, the plot drawn and the run marked interrupted; the exit status is
the shell's (130, 143, 129) and one line says how to continue ("lstmlab resume RUN"). A second Ctrl-C
during that stops at once, saying which of the final checkpoint and plot were written; the run still
reads interrupted and resumes from its last checkpoint.
Even kill -9 loses nothing the checkpoint does not cover: see "Guarantees" in the README.

Presets: ` + strings.Join(experiments.PresetNames(), ", ") + `. Keys for --set: ` + strings.Join(experiments.TrainKeys(), ", ") + `
("lstmlab presets NAME" shows each key's value and what it does; the sample_* keys set the samples logged at
each evaluation, --prompt and --sample-length are shorthands for two of them).

Fine-tuning (--init-from RUN): the run starts from RUN's weights and takes its model and training settings
(and so its preset) from RUN; --set changes training keys, not the model's shape.`,
		Example: `  lstmlab train                                   # preset moby on Moby Dick
  lstmlab train --preset tiny --data notes.txt --set steps=500 --set hidden=128
  lstmlab train --preset tiny --sweep hidden=64,128 --sweep lr=1e-3,3e-3 --experiment sizes
  lstmlab train --init-from 3 --data new.txt --freeze embedding,lstm.0 --set lr=5e-4`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(g, "table", "json"); err != nil {
				return err
			}
			return runTrain(cmd, g, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.preset, "preset", experiments.DefaultPreset, "named configuration: "+strings.Join(experiments.PresetNames(), ", ")+" (with --init-from: the parent's)")
	fl.StringVar(&f.data, "data", "", `corpus: a UTF-8 text file, a folder of them, or "moby-dick" (default: the preset's)`)
	fl.StringArrayVar(&f.sets, "set", nil, "override a configuration key: --set key=value (repeatable)")
	fl.StringVar(&f.name, "name", "", "run name (unique; default <experiment>-<id>); with --sweep the runs are NAME-1, NAME-2, ...")
	fl.StringVar(&f.experiment, "experiment", "", `experiment grouping the run (default "default")`)
	fl.StringVar(&f.note, "note", "", "free-text note stored with the run")
	fl.StringArrayVar(&f.tags, "tag", nil, "label the run: --tag key=value (repeatable)")
	fl.StringArrayVar(&f.sweeps, "sweep", nil, "sweep a key over values: --sweep hidden=128,256 (repeatable; grid over all)")
	fl.IntVar(&f.random, "random", 0, "with --sweep: run this many random points of the grid instead of all")
	fl.StringVar(&f.initFrom, "init-from", "", "fine-tune: start from this run's weights (id or name)")
	fl.StringSliceVar(&f.freeze, "freeze", nil, "fine-tune: parameter groups to freeze: embedding, lstm.K (gru.K, rnn.K for those cells), decoder")
	fl.BoolVar(&f.extendVocab, "extend-vocab", false, "fine-tune: add the new corpus's unseen tokens to the vocabulary (default: map them to <unk>)")
	fl.StringVar(&f.prompt, "prompt", "", "prompt for the periodic samples, as --set sample_prompt=TEXT (default: the corpus's first line)")
	fl.IntVar(&f.sampleLength, "sample-length", experiments.DefaultSampleLength, "tokens per periodic sample, as --set sample_length=N")
	fl.StringVar(&g.backend, "backend", "", "compute backend: go, xla:cpu, xla:cuda (default: XLA if its plugin is installed, else go; or $GOMLX_BACKEND)")
	fl.StringVar(&g.dataDir, "data-dir", "data", "where the default corpus is downloaded")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "no progress output")
	addFormatFlag(cmd, g, "table", "json")
	addTrackingFlag(cmd, &f.trackingURI, "mirror the run live")
	return cmd
}

// parseTags reads key=value tags; form names where they were given in errors ("--tag" for train's flag,
// "tag" for the tag command's arguments).
func parseTags(form string, tags []string) (map[string]string, error) {
	out := map[string]string{}
	for _, t := range tags {
		k, v, ok := strings.Cut(t, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, fmt.Errorf("%s %q: want key=value", form, t)
		}
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return out, nil
}

func runTrain(cmd *cobra.Command, g *globals, f *trainFlags) error {
	if len(f.freeze) > 0 && f.initFrom == "" {
		return errors.New("--freeze needs --init-from: freezing freshly initialised weights would leave them random")
	}
	if f.extendVocab && f.initFrom == "" {
		return errors.New("--extend-vocab needs --init-from: a new run builds its vocabulary from its corpus")
	}
	// --prompt and --sample-length are shorthands of --set sample_prompt=... and --set sample_length=...
	for _, kv := range f.sets {
		key, value, _ := strings.Cut(kv, "=")
		for flag, k := range map[string]string{"prompt": "sample_prompt", "sample-length": "sample_length"} {
			if strings.TrimSpace(key) == k && cmd.Flags().Changed(flag) {
				return fmt.Errorf("--%s %s and --set %s=%s: give the setting once", flag, cmd.Flags().Lookup(flag).Value, k, value)
			}
		}
	}
	preset, sampleLength := f.preset, 0
	if f.initFrom != "" && !cmd.Flags().Changed("preset") {
		preset = "" // the parent's
	}
	if cmd.Flags().Changed("sample-length") {
		sampleLength = f.sampleLength
	}
	tags, err := parseTags("--tag", f.tags)
	if err != nil {
		return err
	}
	db, err := openDB(g)
	if err != nil {
		return err
	}
	defer db.Close()
	view := newProgressView(g.stderr, f.quiet || g.format == "json")
	defer view.Close()
	mirror, err := startLiveMirror(f.trackingURI, db, view.Writer(g.stderr))
	if err != nil {
		return err
	}
	defer mirror.finish(g)
	opts := experiments.TrainOptions{
		Preset: preset, Data: f.data, DataDir: g.dataDir, Overrides: f.sets, Name: f.name, Experiment: f.experiment,
		Note: f.note, Tags: tags, Backend: g.backend, Command: "lstmlab " + strings.Join(g.args, " "),
		SamplePrompt: f.prompt, SampleLength: sampleLength, InitFrom: f.initFrom, Freeze: f.freeze, ExtendVocab: f.extendVocab,
		Observe: view.Observe, OnRun: func(id int64) {
			g.end.onRun(resumeHint(g, strconv.FormatInt(id, 10)))
			if on := mirror.onRun(); on != nil {
				on(id)
			}
		}, OnEnd: g.end.onEnd,
	}
	if !f.quiet {
		opts.Log = view.Writer(g.stderr)
	}
	ctx := cmd.Context()
	if len(f.sweeps) > 0 {
		sweep, err := experiments.ParseSweep(f.sweeps)
		if err != nil {
			return err
		}
		results, err := experiments.RunSweep(ctx, db, opts, sweep, experiments.SweepOptions{Random: f.random, Seed: 1})
		view.Close()
		if n := len(results); n > 0 && results[n-1].Status == tracker.StatusInterrupted {
			g.interrupted = resumeHint(g, results[n-1].RunName) + " (the sweep's remaining points did not run)"
			g.end.hint.Store(g.interrupted)
			g.end.interrupted.Store(true)
		}
		if err != nil {
			return err
		}
		return printSweep(g, db, results)
	}
	res, err := experiments.Train(ctx, db, opts)
	view.Close()
	if res != nil && res.Status == tracker.StatusInterrupted {
		g.interrupted = resumeHint(g, res.RunName)
		g.end.hint.Store(g.interrupted)
		g.end.interrupted.Store(true)
	}
	if err != nil {
		return err
	}
	return printResult(g.stdout, g.format, res)
}

// printResult prints the end-of-training summary. Figures go through render.Number (huge ones get an
// exponent), bits are named by the run's level, and a run stopped before its first validation says so
// instead of showing an infinite loss and an empty sample.
func printResult(w io.Writer, format string, res *experiments.Result) error {
	if format == "json" {
		return printJSON(w, res)
	}
	fmt.Fprintf(w, "run %d (%s): %s after %d steps (%s) in %.0fs on %s\n", res.RunID, res.RunName, res.Status, res.Steps, res.Stop, res.Duration, res.Backend)
	unit := res.Level.Unit().Short
	if res.HasBestVal() {
		fmt.Fprintf(w, "best val_loss %s (%s bits/%s) at step %d\n", render.Number(res.BestVal, 4), render.Number(res.BestVal/math.Ln2, 3), unit, res.BestStep)
	} else {
		fmt.Fprintln(w, "best val_loss: none (no validation yet)")
	}
	if t := res.Test; t != nil {
		fmt.Fprintf(w, "test: loss %s  perplexity %s  %s %s  accuracy %s  oov %s%%\n", render.Number(t.Loss, 4), render.Number(t.Perplexity, 2),
			t.BitsName(), render.Number(t.BitsPerToken, 3), render.Number(t.Accuracy, 3), render.Number(100*t.OOVRate, 2))
	}
	if c, f := res.TestColdStart, res.TestFreeRunning; c != nil || f != nil {
		// How the best model writes, under the metric keys the run logged: short test passages from the
		// initial state, and its own samples.
		var parts []string
		if c != nil {
			n := c.Tokens / max(1, c.Streams)
			parts = append(parts, fmt.Sprintf("test_cold_%s %s (%d passages of %d %s from the initial state)",
				c.BitsName(), render.Number(c.BitsPerToken, 3), c.Streams, n, c.Level.Unit().Plural(n)))
		}
		if f != nil {
			n := f.Tokens / max(1, f.Streams)
			parts = append(parts, fmt.Sprintf("test_free_running_%s %s (%d samples of %d %s at T=1 from the initial state)",
				f.BitsName(), render.Number(f.BitsPerToken, 3), f.Streams, n, f.Level.Unit().Plural(n)))
		}
		fmt.Fprintf(w, "writing: %s\n", strings.Join(parts, " · "))
	}
	if res.Sample != "" {
		fmt.Fprintf(w, "sample (step %d, temperature %g, prompt %q):\n%s\n", res.SampleStep, res.SampleTemp,
			res.SamplePrompt, indent(res.SamplePrompt+res.Sample))
	}
	fmt.Fprintf(w, "plot: %s\ncheckpoint: %s\n", res.Plot, res.Checkpoint)
	return nil
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}
