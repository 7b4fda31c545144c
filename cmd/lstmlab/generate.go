package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/lstmlab/lstmlab/experiments"
	"github.com/lstmlab/lstmlab/lstm"
)

func newGenerateCmd(g *globals) *cobra.Command {
	var o lstm.SampleOptions
	cmd := &cobra.Command{
		Use:   "generate RUN",
		Short: "Sample text from a run's best model",
		Long: `Prime the model with --prompt, then sample one token at a time with carried state: temperature,
top-k, top-p (nucleus) or greedy decoding. The same --seed gives the same text. The prompt is
Unicode-normalised as the run's corpus was; tokens the vocabulary lacks are read as <unk> (a warning names
them). Without a prompt the text starts at the beginning of a line (the README's "start context"); line
breaks the model writes first are read but not shown, so the text never begins with a blank line.`,
		Example: `  lstmlab generate 1 --prompt "Call me Ishmael" --length 300
  lstmlab generate 1 --temperature 0.5 --top-k 10 --seed 7
  lstmlab generate 1 --greedy --stop "."`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(g, "text", "json"); err != nil {
				return err
			}
			db, err := openExistingDB(g)
			if err != nil {
				return err
			}
			defer db.Close()
			m, info, err := experiments.LoadRunModel(cmd.Context(), db, args[0], g.backend)
			if err != nil {
				return err
			}
			_, unseen, err := m.Vocab.EncodeUnseen(o.Prompt)
			if err != nil {
				return fmt.Errorf("--prompt: %w", err)
			}
			if unseen.Count > 0 {
				fmt.Fprintf(g.stderr, "warning: prompt: %s\n", unseen)
			}
			out, err := m.Generate(o)
			if err != nil {
				return err
			}
			if g.format == "json" {
				return printJSON(g.stdout, map[string]any{
					"run_id": info.ID, "run_name": info.Name, "prompt": o.Prompt, "text": out, "length": o.Length,
					"temperature": o.Temperature, "top_k": o.TopK, "top_p": o.TopP, "greedy": o.Greedy, "seed": o.Seed,
					"prompt_unseen": unseen.Tokens,
				})
			}
			fmt.Fprintf(g.stdout, "%s%s\n", o.Prompt, out)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Prompt, "prompt", "", "priming text")
	fl.IntVar(&o.Length, "length", 200, "tokens to generate")
	fl.Float64Var(&o.Temperature, "temperature", 0.8, "sampling temperature (lower: safer; 0: greedy)")
	fl.IntVar(&o.TopK, "top-k", 0, "sample among the k most likely tokens (0: off)")
	fl.Float64Var(&o.TopP, "top-p", 0, "nucleus sampling: smallest set with this total probability (0: off)")
	fl.BoolVar(&o.Greedy, "greedy", false, "always take the most likely token")
	fl.Uint64Var(&o.Seed, "seed", 1, "random seed (same seed, same text)")
	fl.StringVar(&o.Stop, "stop", "", "stop when this text is generated")
	fl.StringVar(&g.backend, "backend", "", "compute backend: go, xla:cpu, xla:cuda")
	addFormatFlag(cmd, g, "text", "json")
	return cmd
}
