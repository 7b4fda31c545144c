package main

import (
	"errors"
	"fmt"

	"github.com/lstmlab/lstmlab/experiments"
	"github.com/lstmlab/lstmlab/lstm/text"
)

// phrase turns a library error that names an option (a config key, an option field) into what a CLI user
// types: the flag. Errors it does not know are returned as they are.
func phrase(err error) error {
	var preset *experiments.PresetWithParentError
	var changed *experiments.DataChangedError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &changed) && changed.Option != "":
		return fmt.Errorf("%s (its splits would differ; pass --allow-data-change to go on)", changed.Refusal())
	case errors.As(err, &preset):
		parentPreset := preset.ParentPreset
		if parentPreset == "" {
			parentPreset = "none recorded"
		}
		return fmt.Errorf("--preset %s: a fine-tuned run takes its model and training settings from its parent %s (preset %s), "+
			"not from a preset; change keys with --set key=value", preset.Preset, preset.Parent, parentPreset)
	case errors.Is(err, text.ErrTooShort):
		return fmt.Errorf("%w (--set batch=N or --set seq_len=N)", err)
	}
	return err
}
