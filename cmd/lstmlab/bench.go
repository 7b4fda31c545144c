package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lstmlab/lstmlab/internal/bench"
	"github.com/lstmlab/lstmlab/lstm"
	"github.com/lstmlab/lstmlab/lstm/text"
)

func contextBackground() context.Context { return context.Background() }

func newBenchCmd(g *globals) *cobra.Command {
	var quick bool
	var corpus string
	var cells []string
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure training and generation speed at the reference shapes, for each cell",
		Long: `Train steps at 2 layers × 256 hidden, embedding 64, batch 32 × 64 and 64 × 128, at the best15 preset's
shape (2 × 512, batch 64 × 128, dropout 0.1), and single-stream generation, for the LSTM, the GRU and the
plain RNN; reports tokens/s and GFLOP/s against the measured
matrix-multiply peak of this machine. Compare with peers/peer_pytorch.py (see docs/benchmarks.md).`,
		Example: `  lstmlab bench
  lstmlab bench --cell lstm --corpus data/moby-dick.txt --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(g, "table", "json"); err != nil {
				return err
			}
			opts := bench.DefaultOptions()
			if quick {
				opts = bench.QuickOptions()
			}
			if len(cells) > 0 {
				for _, c := range cells {
					if _, err := lstm.CellByName(c); err != nil || c == "" {
						return fmt.Errorf("--cell %q: want %s", c, strings.Join(lstm.CellNames(), ", "))
					}
				}
				opts.Cells = cells
			}
			// Training is measured where `lstmlab train` runs (the parallel pure-Go backend by default),
			// generation where `lstmlab generate` does.
			backend, name, err := lstm.OpenBackend(g.backend, lstm.Inference)
			if err != nil {
				return err
			}
			opts.TrainBackend, opts.TrainBackendName = backend, name
			if trainName, err := lstm.BackendFor(g.backend, lstm.Training); err == nil && trainName != name {
				if opts.TrainBackend, opts.TrainBackendName, err = lstm.OpenBackend(g.backend, lstm.Training); err != nil {
					return err
				}
			}
			if corpus != "" {
				c, err := text.Load(corpus, "")
				if err != nil {
					return err
				}
				opts.Corpus, opts.CorpusName = c.Text, c.Source
			}
			if g.format != "json" {
				opts.Progress = func(s string) { fmt.Fprintln(g.stderr, s) }
			}
			rep, err := bench.Run(backend, name, opts)
			if err != nil {
				return err
			}
			if g.format == "json" {
				return printJSON(g.stdout, rep)
			}
			fmt.Fprint(g.stdout, rep.Table())
			return nil
		},
	}
	cmd.Flags().BoolVar(&quick, "quick", false, "tiny shapes, a few seconds (checks the command works)")
	cmd.Flags().StringSliceVar(&cells, "cell", nil, "cells to measure: lstm, gru, rnn (repeat or comma-separate; default all three)")
	cmd.Flags().StringVar(&corpus, "corpus", "", "corpus whose characters are the vocabulary and the training text: a file, a folder, or \"moby-dick\" (default: synthetic text over 89 characters)")
	cmd.Flags().StringVar(&g.backend, "backend", "", "compute backend: go, xla:cpu, xla:cuda")
	addFormatFlag(cmd, g, "table", "json")
	return cmd
}
