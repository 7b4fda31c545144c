package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/lstmlab/lstmlab/experiments"
	"github.com/lstmlab/lstmlab/lstm"
	"github.com/lstmlab/lstmlab/lstm/text"
)

func newEvalCmd(g *globals) *cobra.Command {
	var data string
	cmd := &cobra.Command{
		Use:   "eval RUN",
		Short: "Loss, perplexity and bits/char of a run's best model on its test split or a text file",
		Example: `  lstmlab eval 1                   # the run's own test split
  lstmlab eval 1 --data other.txt  # any UTF-8 text`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(g, "table", "json"); err != nil {
				return err
			}
			res, source, err := runEval(cmd.Context(), g, args[0], data)
			if err != nil {
				return err
			}
			if g.format == "json" {
				return printJSON(g.stdout, map[string]any{"run": args[0], "data": source, "result": res})
			}
			fmt.Fprintf(g.stdout, "%s: %d tokens  loss %.4f  perplexity %.3f  bpc %.4f  accuracy %.4f\n",
				source, res.Tokens, res.Loss, res.Perplexity, res.BPC, res.Accuracy)
			return nil
		},
	}
	cmd.Flags().StringVar(&data, "data", "", "a UTF-8 text file or folder to score (default: the run's test split)")
	cmd.Flags().StringVar(&g.backend, "backend", "", "compute backend: go, xla:cpu, xla:cuda")
	cmd.Flags().StringVar(&g.dataDir, "data-dir", "data", "where the default corpus is downloaded")
	addFormatFlag(cmd, g, "table", "json")
	return cmd
}

func runEval(ctx context.Context, g *globals, ref, data string) (lstm.EvalResult, string, error) {
	db, err := openExistingDB(g)
	if err != nil {
		return lstm.EvalResult{}, "", err
	}
	defer db.Close()
	m, info, err := experiments.LoadRunModel(ctx, db, ref, g.runsDir, g.backend)
	if err != nil {
		return lstm.EvalResult{}, "", err
	}
	source := data
	var corpus *text.Corpus
	if data == "" {
		// The run's own corpus, refused if its text changed since training (other splits).
		corpus, err = experiments.LoadRunCorpus(ctx, db, info, g.dataDir, false)
		if err != nil {
			return lstm.EvalResult{}, "", err
		}
		source = corpus.Source
	} else if corpus, err = text.Load(source, g.dataDir); err != nil {
		return lstm.EvalResult{}, "", fmt.Errorf("load corpus: %w", err)
	}
	ids, err := m.Vocab.Encode(corpus.Text)
	if err != nil {
		return lstm.EvalResult{}, "", fmt.Errorf("encode %s with the run's vocabulary: %w", source, err)
	}
	if data == "" {
		_, _, test, err := text.Split(ids, m.Config.ValFrac, m.Config.TestFrac)
		if err != nil {
			return lstm.EvalResult{}, "", err
		}
		ids, source = test, source+" (test split)"
	}
	m.Config.EvalLimit = 0 // score all of it
	res, err := m.Evaluate(ids)
	if err != nil {
		return lstm.EvalResult{}, "", fmt.Errorf("evaluate %s: %w", source, err)
	}
	return res, source, nil
}
