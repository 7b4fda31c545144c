package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lstmlab/lstmlab/tracker"
	"github.com/lstmlab/lstmlab/tracker/render"
)

func newShowCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "show RUN",
		Short: "One run on its own: record, tags, params, metrics, lineage, artifacts, latest samples",
		Example: `  lstmlab show 3
  lstmlab show moby --format json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, db, runs, err := openRunsForRender(cmd.Context(), g, args[0])
			if err != nil {
				return err
			}
			defer db.Close()
			d, err := db.Show(cmd.Context(), runs[0].ID)
			if err != nil {
				return err
			}
			return render.Show(g.stdout, d, f)
		},
	}
	cmd.Flags().StringVar(&g.format, "format", "", "output format: table, json, markdown, html (default table)")
	return cmd
}

func newMetricsCmd(g *globals) *cobra.Command {
	var keys []string
	var width int
	cmd := &cobra.Command{
		Use:   "metrics RUN",
		Short: "The full history of a run's metrics, step by step (table, CSV or JSON)",
		Long: `Every logged point of a run's metrics: the table has one row per step and one column per metric
(cut into blocks of columns, one under the other, when wider than --width);
CSV has one row per point (key,step,time,value), ready for pandas or a spreadsheet; JSON maps each
key to its points. NaN and infinities are kept (JSON: "NaN", "Infinity", "-Infinity", as MLflow).`,
		Example: `  lstmlab metrics 3
  lstmlab metrics 3 --key val_loss --key val_bpc --format csv > history.csv`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			f, db, runs, err := openRunsForRender(ctx, g, args[0])
			if err != nil {
				return err
			}
			defer db.Close()
			info := runs[0]
			logged, err := db.MetricKeys(ctx, info.ID)
			if err != nil {
				return err
			}
			if len(keys) == 0 {
				keys = logged
			}
			keys = splitKeyLists(keys, logged)
			history := map[string][]tracker.Point{}
			for _, k := range keys {
				if !slices.Contains(logged, k) {
					return fmt.Errorf("run %d (%s) has no metric %q (it has %s)", info.ID, info.Name, k, strings.Join(logged, ", "))
				}
				if history[k], err = db.History(ctx, info.ID, k); err != nil {
					return err
				}
			}
			if width <= 0 {
				width = terminalWidth(g.stdout, 120)
			}
			return render.MetricsWidth(g.stdout, info, keys, history, f, width)
		},
	}
	cmd.Flags().StringArrayVar(&keys, "key", nil, "metric to show (repeatable or comma-separated; default: every metric the run logged)")
	cmd.Flags().IntVar(&width, "width", 0, "widest table line; wider tables are cut into blocks of columns (default: the terminal's, or 120)")
	cmd.Flags().StringVar(&g.format, "format", "", "output format: table, csv, json, markdown, html (default table)")
	return cmd
}

func newSamplesCmd(g *globals) *cobra.Command {
	var diff string
	var width int
	cmd := &cobra.Command{
		Use:   "samples RUN [RUN2]",
		Short: "Every sample a run generated, by step; or two runs side by side at matching steps",
		Example: `  lstmlab samples 3
  lstmlab samples 3 --diff 4          # 3 on the left, 4 on the right, step by step
  lstmlab samples 3 --format json`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 2 {
				if diff != "" && diff != args[1] {
					return fmt.Errorf("give the second run once: as RUN2 or with --diff")
				}
				diff = args[1]
			}
			ctx := cmd.Context()
			refs := []string{args[0]}
			if diff != "" {
				refs = append(refs, diff)
			}
			f, db, runs, err := openRunsForRender(ctx, g, refs...)
			if err != nil {
				return err
			}
			defer db.Close()
			a := runs[0]
			sa, err := db.Samples(ctx, a.ID)
			if err != nil {
				return err
			}
			if diff == "" {
				return render.Samples(g.stdout, a, sa, f)
			}
			b := runs[1]
			sb, err := db.Samples(ctx, b.ID)
			if err != nil {
				return err
			}
			if width <= 0 {
				width = terminalWidth(g.stdout, 120)
			}
			return render.SamplesSideBySide(g.stdout, a, b, render.PairSamples(sa, sb), f, width)
		},
	}
	cmd.Flags().StringVar(&diff, "diff", "", "a second run to show side by side at matching steps")
	cmd.Flags().IntVar(&width, "width", 0, "line width for two runs side by side (default: the terminal's, or 120)")
	cmd.Flags().StringVar(&g.format, "format", "", "output format: table, json (also csv, markdown, html for one run) (default table)")
	return cmd
}

func newTagCmd(g *globals) *cobra.Command {
	var del []string
	cmd := &cobra.Command{
		Use:   "tag RUN key=value... [--delete key]",
		Short: "Set or delete tags of a run, also after it finished",
		Example: `  lstmlab tag 3 stage=best team=nlp
  lstmlab tag 3 --delete stage`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 && len(del) == 0 {
				return fmt.Errorf("nothing to do: give key=value pairs to set, or --delete KEY")
			}
			tags, err := parseTags("tag "+args[0], args[1:])
			if err != nil {
				return err
			}
			db, err := openWritableDB(g)
			if err != nil {
				return err
			}
			defer db.Close()
			ctx := cmd.Context()
			info, err := db.FindRun(ctx, args[0])
			if err != nil {
				return err
			}
			if len(del) > 0 {
				if err := db.DeleteTags(ctx, info.ID, del); err != nil {
					return err
				}
			}
			if len(tags) > 0 {
				if err := db.SetTags(ctx, info.ID, tags); err != nil {
					return err
				}
			}
			after, err := db.GetRun(ctx, info.ID)
			if err != nil {
				return err
			}
			if g.format == "json" {
				return printJSON(g.stdout, map[string]any{"run_id": after.ID, "run_name": after.Name, "tags": after.Tags})
			}
			fmt.Fprintf(g.stdout, "run %d (%s) tags: %s\n", after.ID, after.Name, formatTagList(after.Tags))
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&del, "delete", nil, "delete this tag (repeatable)")
	addFormatFlag(cmd, g, "text", "json")
	cmd.PreRunE = func(*cobra.Command, []string) error { return checkFormat(g, "text", "json") }
	return cmd
}

func formatTagList(tags map[string]string) string {
	if len(tags) == 0 {
		return "(none)"
	}
	keys := slices.Sorted(maps.Keys(tags))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + tags[k]
	}
	return strings.Join(parts, ", ")
}

func newNoteCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "note RUN TEXT",
		Short: `Replace the free-text note of a run, also after it finished ("" clears it)`,
		Example: `  lstmlab note 3 "best so far; dropout 0.2 helped"
  lstmlab note 3 ""`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := openWritableDB(g)
			if err != nil {
				return err
			}
			defer db.Close()
			ctx := cmd.Context()
			info, err := db.FindRun(ctx, args[0])
			if err != nil {
				return err
			}
			if err := db.SetNote(ctx, info.ID, args[1]); err != nil {
				return err
			}
			if g.format == "json" {
				return printJSON(g.stdout, map[string]any{"run_id": info.ID, "run_name": info.Name, "note": args[1]})
			}
			if args[1] == "" {
				fmt.Fprintf(g.stdout, "run %d (%s) note cleared\n", info.ID, info.Name)
			} else {
				fmt.Fprintf(g.stdout, "run %d (%s) note set\n", info.ID, info.Name)
			}
			return nil
		},
	}
	addFormatFlag(cmd, g, "text", "json")
	cmd.PreRunE = func(*cobra.Command, []string) error { return checkFormat(g, "text", "json") }
	return cmd
}

// splitKeyLists reads a requested key that the run did not log, and that
// holds a comma, as a comma-separated list (--key "val_bpc, lr"). Keys may
// contain commas, so a logged key is taken as it is.
func splitKeyLists(requested, logged []string) []string {
	var out []string
	for _, k := range requested {
		if slices.Contains(logged, k) || !strings.Contains(k, ",") {
			out = append(out, k)
			continue
		}
		for _, part := range strings.Split(k, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
	}
	return out
}
