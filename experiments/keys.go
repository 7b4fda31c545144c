package experiments

import (
	"fmt"
	"slices"
	"strings"

	"github.com/lstmlab/lstmlab/lstm"
)

// TrainKeys lists every key a training run's overrides may set: the config keys (ConfigKeys) and the
// sample settings (SampleKeys), sorted.
func TrainKeys() []string {
	return slices.Sorted(slices.Values(append(ConfigKeys(), SampleKeys...)))
}

// sampleHelp says what each sample key does, for DescribeSampleKeys.
var sampleHelp = map[string]string{
	"sample_prompt":      "prompt of the samples logged at each evaluation (default: the corpus's first line, cut at 60 tokens)",
	"sample_length":      "tokens per logged sample",
	"sample_temperature": "sampling temperature of the logged samples (lower: safer; 0: greedy)",
}

// DescribeSampleKeys lists the sample settings (SampleKeys) with their defaults and what they do; every
// preset has the defaults. The prompt's default is "" (the corpus's first line).
func DescribeSampleKeys() []ConfigKey {
	def := defaultSample()
	values := map[string]any{"sample_prompt": def.Prompt, "sample_length": def.Length, "sample_temperature": def.Temperature}
	out := make([]ConfigKey, 0, len(SampleKeys))
	for _, k := range SampleKeys {
		out = append(out, ConfigKey{Key: k, Value: values[k], Default: values[k], Help: sampleHelp[k]})
	}
	return out
}

// defaultSample is the sample settings before options and overrides: the corpus's first line (Prompt
// "", filled in once the corpus is read), DefaultSampleLength tokens, DefaultSampleTemperature.
func defaultSample() SampleSettings {
	return SampleSettings{Length: DefaultSampleLength, Temperature: DefaultSampleTemperature}
}

// applyTrainOverrides applies key=value overrides, in order, to a new run's config and sample settings
// (any config key, and SampleKeys), then validates both, so an error always names the key at fault.
func applyTrainOverrides(cfg *lstm.Config, sample *SampleSettings, overrides []string) error {
	for _, kv := range overrides {
		key, value, err := ParseOverride(kv)
		if err != nil {
			return err
		}
		if err := setTrainKey(cfg, sample, key, value); err != nil {
			return err
		}
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	return sample.validate()
}

// setTrainKey sets one key of a new run, a config key or a sample setting, from its text form, checking
// its type (not its range).
func setTrainKey(cfg *lstm.Config, sample *SampleSettings, key, value string) error {
	if slices.Contains(SampleKeys, key) {
		return setSampleKey(sample, key, value)
	}
	if _, known := configFields()[key]; !known {
		return fmt.Errorf("unknown key %q (known: %s)", key, strings.Join(TrainKeys(), ", "))
	}
	return SetConfigValue(cfg, key, value)
}

// validate checks the settings' ranges.
func (s SampleSettings) validate() error {
	if s.Length < 1 {
		return fmt.Errorf("invalid sample_length: %d (want >= 1)", s.Length)
	}
	return nil
}

// trainSample is the sample settings a new run starts with: the defaults, TrainOptions.SamplePrompt and
// SampleLength, then the sample_* overrides. An option and an override of the same setting must agree.
func trainSample(opts TrainOptions, cfg *lstm.Config) (SampleSettings, error) {
	s := defaultSample()
	s.Prompt = opts.SamplePrompt
	if opts.SampleLength > 0 {
		s.Length = opts.SampleLength
	}
	if err := applyTrainOverrides(cfg, &s, opts.Overrides); err != nil {
		return s, err
	}
	if opts.SamplePrompt != "" && s.Prompt != opts.SamplePrompt {
		return s, fmt.Errorf("the sample prompt is given twice: TrainOptions.SamplePrompt %q and the override sample_prompt=%s", opts.SamplePrompt, s.Prompt)
	}
	if opts.SampleLength > 0 && s.Length != opts.SampleLength {
		return s, fmt.Errorf("the sample length is given twice: TrainOptions.SampleLength %d and the override sample_length=%d", opts.SampleLength, s.Length)
	}
	return s, nil
}
