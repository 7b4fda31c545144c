package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/lstmlab/lstmlab/experiments"
	"github.com/lstmlab/lstmlab/lstm"
	"github.com/lstmlab/lstmlab/tracker"
	"github.com/lstmlab/lstmlab/tracker/render"
)

func newPresetsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "presets [NAME]",
		Short: "The presets, or every key of one with its value and what it does",
		Long: `Without a name: every configuration key with its value in each preset and what it does. With a
name: that preset's corpus, description, and every key with its value, the default, and what it does
(* marks values the preset changes), the sample settings (sample_*) last. Any key can be overridden with
train --set key=value.`,
		Example: `  lstmlab presets
  lstmlab presets moby
  lstmlab presets tiny --format json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(g, "table", "json", "markdown"); err != nil {
				return err
			}
			f, _ := render.ParseFormat(g.format)
			if len(args) == 0 {
				return printAllPresets(g, f)
			}
			p, err := experiments.LookupPreset(args[0])
			if err != nil {
				return err
			}
			keys := append(experiments.DescribeConfig(p.Config), experiments.DescribeSampleKeys()...)
			if f == render.JSON {
				return printJSON(g.stdout, map[string]any{"name": p.Name, "description": p.Description, "data": p.Data, "keys": keys})
			}
			fmt.Fprintf(g.stdout, "%s: %s\ncorpus: %s\n\n", p.Name, p.Description, p.Data)
			rows := [][]string{}
			for _, k := range keys {
				mark := ""
				if fmt.Sprint(k.Value) != fmt.Sprint(k.Default) {
					mark = "*"
				}
				rows = append(rows, []string{k.Key, keyValue(k.Key, k.Value) + mark, keyValue(k.Key, k.Default), k.Help})
			}
			return render.Rows(g.stdout, []string{"key", "value", "default", "what it does"}, rows, f)
		},
	}
	addFormatFlag(cmd, g, "table", "json", "markdown")
	return cmd
}

func printAllPresets(g *globals, f render.Format) error {
	names := experiments.PresetNames()
	presets := make([]experiments.Preset, len(names))
	described := make([][]experiments.ConfigKey, len(names))
	for i, n := range names {
		p, err := experiments.LookupPreset(n)
		if err != nil {
			return err
		}
		presets[i], described[i] = p, append(experiments.DescribeConfig(p.Config), experiments.DescribeSampleKeys()...)
	}
	if f == render.JSON {
		out := []map[string]any{}
		for i, p := range presets {
			out = append(out, map[string]any{"name": p.Name, "description": p.Description, "data": p.Data, "keys": described[i]})
		}
		return printJSON(g.stdout, out)
	}
	for _, p := range presets {
		fmt.Fprintf(g.stdout, "%-5s %s (corpus: %s)\n", p.Name, p.Description, p.Data)
	}
	fmt.Fprintln(g.stdout)
	header := append([]string{"key"}, names...)
	header = append(header, "what it does")
	var rows [][]string
	for j, k := range append(experiments.DescribeConfig(lstm.DefaultConfig()), experiments.DescribeSampleKeys()...) {
		row := []string{k.Key}
		for i := range presets {
			row = append(row, keyValue(k.Key, described[i][j].Value))
		}
		rows = append(rows, append(row, k.Help))
	}
	return render.Rows(g.stdout, header, rows, f)
}

// keyValue shows a key's value in the presets tables; the sample prompt's default ("") is the corpus's
// first line.
func keyValue(key string, v any) string {
	if key == "sample_prompt" && v == "" {
		return "(first line)"
	}
	return tracker.FormatParam(v)
}
