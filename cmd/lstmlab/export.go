package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lstmlab/lstmlab/experiments"
)

func newExportCmd(g *globals) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "export RUN --out FILE.safetensors",
		Short: "Export a run's best weights for PyTorch (safetensors)",
		Long: `Write the weights as safetensors named for PyTorch's nn.Embedding + nn.LSTM(batch_first=True) +
nn.Linear (embedding.weight, lstm.weight_ih_l0, ..., decoder.weight, decoder.bias), gate order i, f, g, o,
with the vocabulary and config in the metadata. See the README for the loading snippet.`,
		Example: `  lstmlab export 1 --out moby.safetensors`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(g, "text", "json"); err != nil {
				return err
			}
			if out == "" {
				return fmt.Errorf("--out FILE.safetensors is required")
			}
			if !strings.HasSuffix(out, ".safetensors") {
				return fmt.Errorf("--out %s: the file name must end in .safetensors", out)
			}
			db, err := openExistingDB(g)
			if err != nil {
				return err
			}
			defer db.Close()
			m, info, err := experiments.LoadRunWeights(cmd.Context(), db, args[0])
			if err != nil {
				return err
			}
			if err := m.ExportPyTorch(out); err != nil {
				return err
			}
			if g.format == "json" {
				abs, _ := filepath.Abs(out)
				return printJSON(g.stdout, map[string]any{"run_id": info.ID, "run_name": info.Name, "path": abs,
					"format": "safetensors", "cell": m.Cell().Name(), "vocab_size": m.Vocab.Size(), "num_params": m.NumParams()})
			}
			fmt.Fprintf(g.stdout, "exported run %d (%s) to %s\n", info.ID, info.Name, out)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "output file (.safetensors)")
	addFormatFlag(cmd, g, "text", "json")
	return cmd
}
