package experiments

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/gomlx/compute"

	"github.com/lstmlab/lstmlab/lstm"
	"github.com/lstmlab/lstmlab/lstm/text"
	"github.com/lstmlab/lstmlab/tracker"
)

// RunRecord is everything a run is rebuilt from: resume, eval, export, generate and fine-tuning from
// it read this record (stored with the run in the tracker, tracker.Run.SetRecord), never the params,
// which are the searchable copy. Resume updates it (more steps, --set changes; each change is also in
// the tracker's param history with its step).
type RunRecord struct {
	Version int    `json:"version"`
	Preset  string `json:"preset,omitempty"`
	// Config is the model (lstm.ModelKeys: shape and tokenization) and training configuration, as it
	// is now (after any change made on resume).
	Config lstm.Config `json:"config"`
	// LRAnchor restarts the learning-rate schedule after a resume that changed it (lstm.LRAnchor).
	LRAnchor *lstm.LRAnchor `json:"lr_anchor,omitempty"`
	Data     DataSource     `json:"data"`
	// VocabSHA256 is the SHA-256 of the vocabulary's JSON form: a checkpoint with another vocabulary
	// is not this run's.
	VocabSHA256 string         `json:"vocab_sha256"`
	VocabSize   int            `json:"vocab_size"`
	Sample      SampleSettings `json:"sample"`
	Parent      *Lineage       `json:"parent,omitempty"`
	Backend     string         `json:"backend"`
}

// recordVersion is RunRecord's format version.
const recordVersion = 1

// DataSource is the corpus a run trains on and the SHA-256 of its text, so that a changed file is
// noticed instead of silently giving other splits.
type DataSource struct {
	Source string `json:"source"` // absolute path of a file or folder, or "moby-dick"
	SHA256 string `json:"sha256"` // of the corpus text as loaded (UTF-8); "" for a run recorded before hashes
	Chars  int    `json:"chars"`  // characters (code points) in the text
}

// SampleSettings are the periodic samples' settings.
type SampleSettings struct {
	Prompt      string  `json:"prompt"`
	Length      int     `json:"length"` // tokens per sample
	Temperature float64 `json:"temperature"`
}

// Lineage is the run a fine-tuned run started from.
type Lineage struct {
	RunID       int64    `json:"run_id"`
	UUID        string   `json:"uuid"`
	Name        string   `json:"name"`
	Freeze      []string `json:"freeze,omitempty"`
	ExtendVocab bool     `json:"extend_vocab,omitempty"`
}

// Defaults of the periodic samples.
const (
	DefaultSampleLength      = 200
	DefaultSampleTemperature = 0.8
)

// textSHA256 is the hex SHA-256 of a corpus text.
func textSHA256(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// vocabSHA256 is the hex SHA-256 of a vocabulary's JSON form (what checkpoints store).
func vocabSHA256(v *text.Vocab) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// LoadRecord returns the record of a run. A run recorded by an lstmlab before records existed gets
// one rebuilt from its params (without a corpus hash, so its corpus cannot be checked).
func LoadRecord(ctx context.Context, db *tracker.DB, info tracker.RunInfo) (*RunRecord, error) {
	rec := &RunRecord{}
	found, err := db.Record(ctx, info.ID, rec)
	if err != nil {
		return nil, err
	}
	if found {
		return rec, nil
	}
	return recordFromParams(info)
}

// recordFromParams rebuilds the record of a run from before records existed.
func recordFromParams(info tracker.RunInfo) (*RunRecord, error) {
	cfg := lstm.DefaultConfig()
	cfg.Normalize = "none"                    // runs from before the normalize key trained on text as written
	cfg.ResetProb, cfg.EpochOffset = 0, false // nor reset streams or moved their starts (issue 17)
	for key := range configFields() {
		if v, ok := info.Params[key]; ok {
			if err := SetConfigValue(&cfg, key, fmt.Sprint(v)); err != nil {
				return nil, fmt.Errorf("run %d (%s): param %s: %w", info.ID, info.Name, key, err)
			}
		}
	}
	rec := &RunRecord{Version: recordVersion, Config: cfg, Backend: info.Backend,
		Sample: SampleSettings{Length: DefaultSampleLength, Temperature: DefaultSampleTemperature}}
	rec.Preset, _ = info.Params["preset"].(string)
	rec.Data.Source, _ = info.Params["data"].(string)
	rec.Sample.Prompt, _ = info.Params["sample_prompt"].(string)
	if n, ok := info.Params["vocab_size"].(int64); ok {
		rec.VocabSize = int(n)
	}
	if info.ParentID != 0 {
		rec.Parent = &Lineage{RunID: info.ParentID}
		rec.Parent.Name, _ = info.Params["init_from"].(string)
		if f, _ := info.Params["freeze"].(string); f != "" {
			rec.Parent.Freeze = splitList(f)
		}
		rec.Parent.ExtendVocab, _ = info.Params["extend_vocab"].(bool)
	}
	return rec, nil
}

// ErrDataChanged is wrapped when a run's corpus no longer has the text the run trained on.
var ErrDataChanged = fmt.Errorf("the corpus changed since the run was trained")

// DataChangedError is the refusal of a run's corpus whose text changed since the run trained on it (its
// splits would differ). It wraps ErrDataChanged and names the option that allows the change.
type DataChangedError struct {
	RunID   int64
	Name    string
	Source  string // the corpus (a path, or a built-in corpus's name)
	Trained string // SHA-256 of the text the run trained on
	Now     string // SHA-256 of the text there now
	Option  string // what allows the change: ResumeOptions.AllowDataChange, LoadRunCorpus's allowChange, or "" (nothing)
}

func (e *DataChangedError) Error() string {
	if e.Option == "" {
		return e.Refusal() + " (its splits would differ)"
	}
	return e.Refusal() + fmt.Sprintf(" (its splits would differ; %s allows the change)", e.Option)
}

// Refusal is the error's message without the option that allows the change (for callers that name it
// their way, such as a command-line flag).
func (e *DataChangedError) Refusal() string {
	return fmt.Sprintf("%v: run %d (%s) trained on %s with SHA-256 %s, the text there now has SHA-256 %s",
		ErrDataChanged, e.RunID, e.Name, e.Source, e.Trained, e.Now)
}

func (e *DataChangedError) Unwrap() error { return ErrDataChanged }

// loadRunCorpus loads the corpus of a run and checks it is the text the run trained on: a changed text
// (same characters or not) gives other splits, so it is refused (DataChangedError, naming both hashes and
// option, what allows it) unless allowChange.
func loadRunCorpus(rec *RunRecord, info tracker.RunInfo, dataDir string, allowChange bool, option string) (*text.Corpus, error) {
	corpus, err := loadCorpus(rec.Data.Source, dataDir)
	if err != nil {
		return nil, fmt.Errorf("run %d (%s): load its corpus: %w", info.ID, info.Name, err)
	}
	if rec.Data.SHA256 != "" && !allowChange {
		if got := textSHA256(corpus.Text); got != rec.Data.SHA256 {
			return nil, &DataChangedError{RunID: info.ID, Name: info.Name, Source: rec.Data.Source, Trained: rec.Data.SHA256, Now: got, Option: option}
		}
	}
	return corpus, nil
}

// LoadRunCorpus loads the corpus run info trained on, refusing a changed text (a DataChangedError,
// wrapping ErrDataChanged) unless allowChange.
func LoadRunCorpus(ctx context.Context, db *tracker.DB, info tracker.RunInfo, dataDir string, allowChange bool) (*text.Corpus, error) {
	rec, err := LoadRecord(ctx, db, info)
	if err != nil {
		return nil, err
	}
	return loadRunCorpus(rec, info, dataDir, allowChange, "LoadRunCorpus's allowChange")
}

// ErrForeignCheckpoint is wrapped when a file in a run's folder is not that run's checkpoint.
var ErrForeignCheckpoint = fmt.Errorf("checkpoint belongs to another run")

// loadRunCheckpoint loads a checkpoint of a run and checks that it is that run's: owner (the run's
// UUID), model shape and tokenization, and vocabulary must match the record. A mismatch is one error
// naming the file and the run.
func loadRunCheckpoint(path string, info tracker.RunInfo, rec *RunRecord, backend compute.Backend) (*lstm.Checkpoint, error) {
	ck, err := lstm.Load(path, backend)
	if err != nil {
		return nil, fmt.Errorf("run %d (%s): %w", info.ID, info.Name, err)
	}
	refuse := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s is not a checkpoint of run %d (%s, uuid %s): %s", ErrForeignCheckpoint, path, info.ID, info.Name,
			info.UUID, fmt.Sprintf(format, args...))
	}
	legacy := rec.VocabSHA256 == "" // recorded before run identities: only its shape can be checked
	switch {
	case ck.Owner != "" && ck.Owner != info.UUID:
		return nil, refuse("it belongs to run uuid %s", ck.Owner)
	case ck.Owner == "" && !legacy:
		return nil, refuse("it names no owning run (written by another program or an earlier lstmlab)")
	}
	have, want := ConfigParams(ck.Model.Config), ConfigParams(rec.Config)
	for _, key := range lstm.ModelKeys {
		if got, want := have[key], want[key]; got != want {
			return nil, refuse("its %s is %v, the run's is %v", key, got, want)
		}
	}
	if legacy {
		if rec.VocabSize != 0 && ck.Model.Vocab.Size() != rec.VocabSize {
			return nil, refuse("its vocabulary has %d tokens, the run's %d", ck.Model.Vocab.Size(), rec.VocabSize)
		}
		return ck, nil
	}
	sum, err := vocabSHA256(ck.Model.Vocab)
	if err != nil {
		return nil, err
	}
	if sum != rec.VocabSHA256 {
		return nil, refuse("its vocabulary (%d tokens, SHA-256 %.12s…) is not the run's (%d tokens, %.12s…)",
			ck.Model.Vocab.Size(), sum, rec.VocabSize, rec.VocabSHA256)
	}
	return ck, nil
}

// ResumableKeys are the config keys `resume` may change (--set): they change neither the model's shape
// and tokenization nor the data's splits, order or the optimizer's kind. Sample settings are changed
// with the sample_* keys (SampleKeys).
var ResumableKeys = []string{"steps", "lr", "dropout", "clip_norm", "weight_decay", "momentum", "decay_rate", "decay_every",
	"eval_every", "patience", "eval_windows", "step_timeout"}

// SampleKeys are the sample settings `resume` may change.
var SampleKeys = []string{"sample_prompt", "sample_length", "sample_temperature"}

// applyResumeChanges applies key=value changes to a copy of rec, checking each key may change on
// resume. It returns the new record and the changed keys' new values (for the param history).
func applyResumeChanges(rec *RunRecord, sets []string) (*RunRecord, map[string]any, error) {
	next := *rec
	changed := map[string]any{}
	for _, kv := range sets {
		key, value, err := ParseOverride(kv)
		if err != nil {
			return nil, nil, err
		}
		switch {
		case slices.Contains(SampleKeys, key):
			if err := setSampleKey(&next.Sample, key, value); err != nil {
				return nil, nil, err
			}
		case slices.Contains(ResumableKeys, key):
			if err := SetConfigValue(&next.Config, key, value); err != nil {
				return nil, nil, err
			}
		default:
			if _, known := configFields()[key]; !known {
				return nil, nil, fmt.Errorf("unknown key %q (keys a resumed run may change: %v, %v)", key, ResumableKeys, SampleKeys)
			}
			return nil, nil, fmt.Errorf("key %s cannot change on resume: it fixes the model's shape, the data's splits and order, "+
				"or the optimizer (keys that may change: %v, %v); start a new run, or fine-tune from this one", key, ResumableKeys, SampleKeys)
		}
	}
	if err := next.Config.Validate(); err != nil {
		return nil, nil, err
	}
	if next.Sample.Length < 1 {
		return nil, nil, fmt.Errorf("invalid sample_length: %d (want >= 1)", next.Sample.Length)
	}
	oldParams, newParams := ConfigParams(rec.Config), ConfigParams(next.Config)
	for _, k := range ResumableKeys {
		if oldParams[k] != newParams[k] {
			changed[k] = newParams[k]
		}
	}
	if rec.Sample.Prompt != next.Sample.Prompt {
		changed["sample_prompt"] = next.Sample.Prompt
	}
	if rec.Sample.Length != next.Sample.Length {
		changed["sample_length"] = next.Sample.Length
	}
	if rec.Sample.Temperature != next.Sample.Temperature {
		changed["sample_temperature"] = next.Sample.Temperature
	}
	return &next, changed, nil
}

func setSampleKey(s *SampleSettings, key, value string) error {
	switch key {
	case "sample_prompt":
		s.Prompt = value
	case "sample_length":
		n, err := strconv.Atoi(value)
		if err != nil {
			return fmt.Errorf("key sample_length: %q is not an integer", value)
		}
		s.Length = n
	case "sample_temperature":
		x, err := strconv.ParseFloat(value, 64)
		if err != nil || !(x >= 0) || math.IsInf(x, 0) {
			return fmt.Errorf("key sample_temperature: %q is not a non-negative number", value)
		}
		s.Temperature = x
	}
	return nil
}

// splitList splits a comma-separated list, dropping empty items.
func splitList(s string) []string {
	var out []string
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
