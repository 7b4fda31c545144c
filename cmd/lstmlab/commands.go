package main

import "github.com/spf13/cobra"

// readCommands are the commands that read and annotate the tracker: listing, one run, histories,
// samples, tags and notes, plus the version and the presets.
func readCommands(g *globals) []*cobra.Command {
	return []*cobra.Command{newShowCmd(g), newMetricsCmd(g), newSamplesCmd(g), newTagCmd(g), newNoteCmd(g),
		newVersionCmd(g), newPresetsCmd(g)}
}
