package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/lstmlab/lstmlab/experiments"
	"github.com/lstmlab/lstmlab/lstm"
	"github.com/lstmlab/lstmlab/lstm/text"
	"github.com/lstmlab/lstmlab/tracker"
	"github.com/lstmlab/lstmlab/tracker/render"
)

func newEvalCmd(g *globals) *cobra.Command {
	var data string
	var allowDataChange bool
	cmd := &cobra.Command{
		Use:   "eval RUN",
		Short: "Loss, perplexity and bits per token of a run's best model on its test split or a text file",
		Long: `Score the run's test split (as training logs it: up to 32 long streams, see the README) or, with --data,
any UTF-8 text file or folder, read as one text from its start: every token after the first is predicted
from all the tokens before it, nothing dropped. The text is Unicode-normalised as the run's corpus was;
tokens the vocabulary lacks are read as <unk> (a warning names them) and reported as the out-of-vocabulary
(OOV) rate, with loss and perplexity over in-vocabulary tokens beside the overall ones.
A run's corpus whose text changed since training is refused, naming both SHA-256s (its splits would
differ), unless --allow-data-change.`,
		Example: `  lstmlab eval 1                   # the run's own test split
  lstmlab eval 1 --data other.txt  # any UTF-8 text`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(g, "table", "json"); err != nil {
				return err
			}
			if allowDataChange && data != "" {
				return fmt.Errorf("--allow-data-change applies to the run's own corpus, not to --data %s", data)
			}
			res, info, unseen, source, err := runEval(cmd.Context(), g, args[0], data, allowDataChange)
			if err != nil {
				return err
			}
			if unseen.Count > 0 {
				fmt.Fprintf(g.stderr, "warning: %s: %s\n", source, unseen)
			}
			if g.format == "json" {
				return printJSON(g.stdout, map[string]any{"run_id": info.ID, "run_name": info.Name, "data": source, "result": res,
					"unseen": unseen.Tokens})
			}
			fmt.Fprintln(g.stdout, evalLine(source, res))
			return nil
		},
	}
	cmd.Flags().StringVar(&data, "data", "", "a UTF-8 text file or folder to score (default: the run's test split)")
	cmd.Flags().BoolVar(&allowDataChange, "allow-data-change", false, "score the test split of the run's corpus even though its text changed since training (its splits differ)")
	cmd.Flags().StringVar(&g.backend, "backend", "", "compute backend: go, xla:cpu, xla:cuda")
	cmd.Flags().StringVar(&g.dataDir, "data-dir", "data", "where the default corpus is downloaded")
	addFormatFlag(cmd, g, "table", "json")
	return cmd
}

// evalLine is the one-line summary of an evaluation: figures per token named by the level (bits per character,
// grapheme or word), the OOV rate beside perplexity, and the in-vocabulary figures when some tokens were OOV.
func evalLine(source string, r lstm.EvalResult) string {
	unit := r.Level.Unit()
	line := fmt.Sprintf("%s: %d %s scored", source, r.Tokens, unit.Plural(r.Tokens))
	if r.Streams > 1 {
		line += fmt.Sprintf(" in %d streams", r.Streams)
	}
	line += fmt.Sprintf("  loss %s  perplexity %s  oov %s%% (%d)  %s %s  accuracy %s",
		render.Number(r.Loss, 4), render.Number(r.Perplexity, 3), render.Number(100*r.OOVRate, 2), r.OOV, unit.Bits,
		render.Number(r.BitsPerToken, 4), render.Number(r.Accuracy, 4))
	if r.OOV > 0 && r.OOV < r.Tokens {
		line += fmt.Sprintf("  in-vocabulary: loss %s  perplexity %s", render.Number(r.InVocabLoss, 4), render.Number(r.InVocabPerplexity, 3))
	}
	return line
}

// runEval scores the run's test split, or the text at data as one stream, and returns what the vocabulary
// lacked in the text (nothing for the test split, whose tokens were mapped when the run was trained).
func runEval(ctx context.Context, g *globals, ref, data string, allowDataChange bool) (lstm.EvalResult, tracker.RunInfo, text.Unseen, string, error) {
	var none text.Unseen
	var info tracker.RunInfo
	db, err := openExistingDB(g)
	if err != nil {
		return lstm.EvalResult{}, info, none, "", err
	}
	defer db.Close()
	m, info, err := experiments.LoadRunModel(ctx, db, ref, g.backend)
	if err != nil {
		return lstm.EvalResult{}, info, none, "", err
	}
	source := data
	var corpus *text.Corpus
	if data == "" {
		// The run's own corpus, refused if its text changed since training (other splits).
		corpus, err = experiments.LoadRunCorpus(ctx, db, info, g.dataDir, allowDataChange)
		if err != nil {
			return lstm.EvalResult{}, info, none, "", err
		}
		source = corpus.Source
	} else if corpus, err = text.Load(source, g.dataDir); err != nil {
		return lstm.EvalResult{}, info, none, "", err // text.Load's errors say "load corpus"
	}
	ids, unseen, err := m.Vocab.EncodeUnseen(corpus.Text)
	if err != nil {
		return lstm.EvalResult{}, info, none, "", fmt.Errorf("encode %s with the run's vocabulary: %w", source, err)
	}
	var res lstm.EvalResult
	if data == "" {
		source = source + " (test split)"
		res, err = experiments.EvaluateTestSplit(m, ids)
		unseen = none
		if err != nil {
			return lstm.EvalResult{}, info, none, "", fmt.Errorf("%s: %w", source, err)
		}
		return res, info, unseen, source, nil
	}
	if res, err = m.EvaluateStream(ids); err != nil {
		return lstm.EvalResult{}, info, none, "", fmt.Errorf("%s: %w", source, err)
	}
	return res, info, unseen, source, nil
}
