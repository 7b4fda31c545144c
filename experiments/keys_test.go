package experiments

import (
	"strings"
	"testing"

	"github.com/lstmlab/lstmlab/lstm"
	"github.com/lstmlab/lstmlab/lstm/text"
)

// TestDefaultPromptCutsWholeTokens: the default sample prompt is the corpus's first line cut at 60 tokens
// of the run's level, never inside a grapheme cluster or a word (the report: a grapheme run's prompt cut
// at 60 code points ended in a 👍 without its skin tone, an unseen grapheme).
func TestDefaultPromptCutsWholeTokens(t *testing.T) {
	first := strings.Repeat("a", 59) + "👍🏽 and more after it"
	corpus := "\n  " + first + "\nsecond line\n"
	for _, tc := range []struct {
		level, want string
	}{
		{"grapheme", strings.Repeat("a", 59) + "👍🏽"},
		{"char", strings.Repeat("a", 59) + "👍"}, // code points are a char model's tokens
	} {
		vocab, err := text.BuildVocab(corpus, text.VocabOptions{Level: text.Level(tc.level), MinFreq: 1})
		if err != nil {
			t.Fatal(err)
		}
		got := defaultPrompt(corpus, vocab)
		if got != tc.want {
			t.Errorf("%s level: prompt %q, want %q", tc.level, got, tc.want)
		}
		if _, unseen, err := vocab.EncodeUnseen(got); err != nil || unseen.Count > 0 {
			t.Errorf("%s level: prompt %q has unseen tokens: %v %v", tc.level, got, unseen, err)
		}
	}

	words := strings.Repeat("whale, ", 40) + "harpoon"
	vocab, err := text.BuildVocab(words, text.VocabOptions{Level: text.Word, MinFreq: 1})
	if err != nil {
		t.Fatal(err)
	}
	// 60 tokens: 30 × ("whale", ","), kept with their spacing.
	if got, want := defaultPrompt(words, vocab), strings.TrimSuffix(strings.Repeat("whale, ", 30), " "); got != want {
		t.Errorf("word level: prompt %q, want %q", got, want)
	}
	if got := defaultPrompt("short line", vocab); got != "short line" {
		t.Errorf("a short line: %q", got)
	}
}

// TestTrainKeysTakeSampleSettings: a new run's overrides set the sample settings as resume's do, and an
// option and an override of one setting must agree.
func TestTrainKeysTakeSampleSettings(t *testing.T) {
	cfg := lstm.DefaultConfig()
	s, err := trainSample(TrainOptions{Overrides: []string{"sample_length=50", "sample_prompt=Hi", "sample_temperature=0.5", "hidden=32"}}, &cfg)
	if err != nil || s.Length != 50 || s.Prompt != "Hi" || s.Temperature != 0.5 || cfg.Hidden != 32 {
		t.Fatalf("sample %+v, hidden %d, err %v", s, cfg.Hidden, err)
	}
	if s, err := trainSample(TrainOptions{SampleLength: 80}, &cfg); err != nil || s.Length != 80 || s.Temperature != DefaultSampleTemperature {
		t.Errorf("SampleLength option: %+v %v", s, err)
	}
	for _, tc := range []struct {
		opts TrainOptions
		want string
	}{
		{TrainOptions{SamplePrompt: "Hi", Overrides: []string{"sample_prompt=Ho"}}, "TrainOptions.SamplePrompt"},
		{TrainOptions{Overrides: []string{"sample_length=0"}}, "sample_length"},
		{TrainOptions{Overrides: []string{"sample_temperature=-1"}}, "sample_temperature"},
		{TrainOptions{Overrides: []string{"sample_tempreature=1"}}, "sample_temperature"}, // the known keys listed
	} {
		cfg := lstm.DefaultConfig()
		if _, err := trainSample(tc.opts, &cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want an error naming %s", tc.opts, err, tc.want)
		}
	}
	if sw, err := ParseSweep([]string{"sample_temperature=0.5,1"}); err != nil || len(sw.Points()) != 2 {
		t.Errorf("sweep over a sample setting: %v %v", sw, err)
	}
	if keys := TrainKeys(); !strings.Contains(strings.Join(keys, ","), "sample_temperature") || len(keys) != len(ConfigKeys())+len(SampleKeys) {
		t.Errorf("TrainKeys: %v", keys)
	}
}
