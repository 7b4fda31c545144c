package experiments

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lstmlab/lstmlab/internal/buildinfo"
	"github.com/lstmlab/lstmlab/internal/jsonfloat"
	"github.com/lstmlab/lstmlab/lstm"
	"github.com/lstmlab/lstmlab/lstm/text"
	"github.com/lstmlab/lstmlab/tracker"
)

// Files the runner keeps in each run's folder (tracker.Run.Dir: runs/<id>-<uuid prefix>/ beside the
// database, or runs/<id>/ for runs recorded before run identities).
const (
	CheckpointFile = "checkpoint.safetensors" // latest state, for resume
	BestFile       = "best.safetensors"       // weights of the best validation loss, for generate/eval/export
	PlotFile       = "curves.png"             // learning curves
)

// TrainOptions configures a training run. Zero values mean the documented defaults.
type TrainOptions struct {
	Preset     string            // preset name (DefaultPreset when empty)
	Data       string            // corpus: a text file, a folder, or "moby-dick" (the preset's when empty)
	DataDir    string            // where the default corpus is fetched ("data")
	Overrides  []string          // key=value overrides of the preset
	Name       string            // run name (unique; generated when empty)
	Experiment string            // experiment grouping the run ("default")
	Note       string            // free text stored with the run
	Tags       map[string]string // labels stored with the run
	Backend    string            // "", "go", "xla:cpu", "xla:cuda"
	Command    string            // the command line, for the record

	SamplePrompt string // prompt for periodic samples (the corpus's first line when empty)
	SampleLength int    // characters/words per sample (DefaultSampleLength)

	// Fine-tuning (issue 6): start from another run's weights.
	InitFrom    string   // parent run id or name
	Freeze      []string // parameter groups to freeze: embedding, lstm.K, decoder
	ExtendVocab bool     // grow the vocabulary with the new corpus's unseen tokens instead of mapping them to <unk>

	// Observe receives every training event (progress bars, notebooks); returning an error stops the run.
	Observe func(RunEvent) error
	// OnRun is called with the run's id as soon as the run exists in the tracker (e.g. to mirror it).
	OnRun func(runID int64)
	// OnEnd is called as the end of the run (after its last step, or once stopped) begins and ends each
	// of its stages, in order, so that a process stopped during it can say truly what was done (nil:
	// not called). Each begin is followed by its end, also when the stage fails.
	OnEnd func(EndEvent)
	// Log receives one-line messages (which backend runs, where files go). Nil: discarded.
	Log io.Writer
}

// EndStage is a stage of the end of a run (TrainOptions.OnEnd, ResumeOptions.OnEnd).
type EndStage int32

// The end of a run, in order.
const (
	EndCheckpoint EndStage = iota + 1 // the final checkpoint is written, every point logged so far committed
	EndPlot                           // the learning-curve plot is written
	EndRecorded                       // the run's final status (finished, interrupted) is recorded
)

// EndEvent is one report of TrainOptions.OnEnd: Stage begins (Done false), or ends (Done true) with Err
// nil when it succeeded.
type EndEvent struct {
	Stage EndStage
	Done  bool
	Err   error
}

// during runs one stage of the end of a run, reporting its begin and end to OnEnd.
func (o TrainOptions) during(stage EndStage, fn func() error) error {
	if o.OnEnd == nil {
		return fn()
	}
	o.OnEnd(EndEvent{Stage: stage})
	err := fn()
	o.OnEnd(EndEvent{Stage: stage, Done: true, Err: err})
	return err
}

// RunEvent is a training event with the run it belongs to.
type RunEvent struct {
	RunID int64
	lstm.Event
	TotalSteps   int
	WindowsEpoch int // training windows in one epoch
	// With an EventEval: the cold start on the validation split and the free-running figure (see
	// Writing); nil when the split is too short.
	ColdStart, FreeRunning *lstm.EvalResult
}

// Result is what a finished (or stopped) run reports. Its JSON form has best_val_loss and best_step null
// when the run has no validation loss yet (HasBestVal), and non-finite figures as "NaN" or "Infinity".
type Result struct {
	RunID   int64           `json:"run_id"`
	RunName string          `json:"run_name"`
	Status  tracker.Status  `json:"status"`
	Stop    lstm.StopReason `json:"stop_reason"`
	Steps   int             `json:"steps"`
	// BestVal is the best validation loss (nats per token) and BestStep its step; +Inf and 0 before the
	// first validation (or when every validation loss was NaN).
	BestVal  float64          `json:"best_val_loss"`
	BestStep int              `json:"best_step"`
	Level    text.Level       `json:"unit"` // what a token is: "char", "grapheme" or "word" (names bits per token: text.Level.Unit)
	Val      *lstm.EvalResult `json:"val,omitempty"`
	Test     *lstm.EvalResult `json:"test,omitempty"`
	// The best model's cold start on the test split and free-running figure (see Writing), logged as
	// test_cold_* and test_free_running_*.
	TestColdStart   *lstm.EvalResult `json:"test_cold_start,omitempty"`
	TestFreeRunning *lstm.EvalResult `json:"test_free_running,omitempty"`
	Sample          string           `json:"sample"`        // the latest sample's text, after its prompt
	SamplePrompt    string           `json:"sample_prompt"` // the prompt it was generated from
	SampleStep      int64            `json:"sample_step"`   // the step it was generated at
	SampleTemp      float64          `json:"sample_temperature"`
	Checkpoint      string           `json:"checkpoint"`
	Best            string           `json:"best_model"`
	Plot            string           `json:"plot"`
	Backend         string           `json:"backend"`
	Duration        float64          `json:"duration_s"`
}

// HasBestVal reports whether the run has a best validation loss (it validated at least once, with a
// number).
func (r *Result) HasBestVal() bool { return !math.IsInf(r.BestVal, 1) && !math.IsNaN(r.BestVal) }

// resultFields is Result without its methods (for MarshalJSON).
type resultFields Result

// MarshalJSON writes best_val_loss and best_step as null when the run has no validation loss yet, and
// test_free_running without the figures a sample has not got (accuracy, OOV: there is no reference text).
func (r Result) MarshalJSON() ([]byte, error) {
	out := struct {
		resultFields
		BestVal         *float64         `json:"best_val_loss"`
		BestStep        *int             `json:"best_step"`
		TestFreeRunning *freeRunningJSON `json:"test_free_running,omitempty"`
	}{resultFields: resultFields(r)}
	if r.HasBestVal() {
		out.BestVal, out.BestStep = &r.BestVal, &r.BestStep
	}
	if f := r.TestFreeRunning; f != nil {
		out.TestFreeRunning = &freeRunningJSON{jsonfloat.Float(f.Loss), jsonfloat.Float(f.Perplexity), jsonfloat.Float(f.BitsPerToken),
			f.Level, f.Tokens, f.Streams}
	}
	return json.Marshal(out)
}

// freeRunningJSON is the JSON form of a free-running figure (lstm's FreeRunning): mean −ln p of the
// samples' tokens (nats), its perplexity and bits per token, the unit, the tokens drawn and the samples.
type freeRunningJSON struct {
	Loss         jsonfloat.Float `json:"loss"`
	Perplexity   jsonfloat.Float `json:"perplexity"`
	BitsPerToken jsonfloat.Float `json:"bits_per_token"`
	Level        text.Level      `json:"unit"`
	Tokens       int             `json:"tokens"`
	Samples      int             `json:"samples"`
}

// ErrFreezeWithoutParent is wrapped when TrainOptions.Freeze is set without TrainOptions.InitFrom.
var ErrFreezeWithoutParent = errors.New("freezing parameter groups (TrainOptions.Freeze) needs a parent run (TrainOptions.InitFrom)")

// ErrExtendWithoutParent is wrapped when TrainOptions.ExtendVocab is set without TrainOptions.InitFrom.
var ErrExtendWithoutParent = errors.New("extending the vocabulary (TrainOptions.ExtendVocab) needs a parent run (TrainOptions.InitFrom)")

// PresetWithParentError is Train's refusal of a preset (TrainOptions.Preset) other than the parent's for a
// fine-tuned run (TrainOptions.InitFrom), whose model and training settings are the parent's.
type PresetWithParentError struct {
	Preset       string // the preset asked for
	Parent       string // the parent run's name
	ParentPreset string // the preset the parent's settings came from ("" for a run recorded without one)
}

func (e *PresetWithParentError) Error() string {
	return fmt.Sprintf("preset %s (TrainOptions.Preset): a fine-tuned run takes its model and training settings from its parent %s "+
		"(preset %s), not from a preset; change keys with TrainOptions.Overrides", e.Preset, e.Parent, presetOrNone(e.ParentPreset))
}

func presetOrNone(name string) string {
	if name == "" {
		return "none recorded"
	}
	return name
}

// session is one run being trained: model, data, tracker run and files.
type session struct {
	opts    TrainOptions
	db      *tracker.DB
	run     *tracker.Run
	rec     *RunRecord
	trainer *lstm.Trainer
	backend string
	dir     string
	splits  splits
	parent  *parentInfo
	log     io.Writer
	// sampled is the step of the latest logged sample (-1: none yet), so the end of a run whose last step
	// was also an evaluation does not log the same sample twice.
	sampled int
}

type splits struct{ train, val, test []int32 }

func (o TrainOptions) logf(format string, args ...any) { logLine(o.Log, format, args...) }

// logLine writes one line to w (TrainOptions.Log, ResumeOptions.Log); nil w discards it.
func logLine(w io.Writer, format string, args ...any) {
	if w != nil {
		fmt.Fprintf(w, format+"\n", args...)
	}
}

// loadCorpus reads and encodes the corpus, returning the text's first line for sample prompts.
func loadCorpus(data, dataDir string) (*text.Corpus, error) {
	if data == "" {
		data = text.MobyDickName
	}
	if dataDir == "" {
		dataDir = "data"
	}
	return text.Load(data, dataDir)
}

// promptTokens is how many tokens of the corpus's first line the default sample prompt keeps.
const promptTokens = 60

// defaultPrompt is the default sample prompt: the corpus's first non-empty line, trimmed, normalised as
// vocab reads text and cut after its first promptTokens tokens of vocab's level, so never inside a
// character, a grapheme cluster or a word; a prompt that is surely in the vocabulary.
func defaultPrompt(corpus string, vocab *text.Vocab) string {
	for line := range strings.SplitSeq(corpus, "\n") {
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		line = vocab.Normalization().Apply(line)
		tokens, err := vocab.Tokenize(line)
		if err != nil || len(tokens) <= promptTokens {
			return line
		}
		// The tokens are pieces of the normalised line in order (spaces between words are not tokens):
		// the prompt ends where the last kept token does.
		end := 0
		for _, tok := range tokens[:promptTokens] {
			i := strings.Index(line[end:], tok)
			if i < 0 { // cannot happen for a token of line; keep what was found
				break
			}
			end += i + len(tok)
		}
		return line[:end]
	}
	return ""
}

// EvaluateTestSplit scores m on the test split of a run's corpus encoded with m's vocabulary (ids, split by
// m's val_frac and test_frac, as the run split it): the whole split, so `eval RUN` gives the test metrics
// the run logged.
func EvaluateTestSplit(m *lstm.Model, ids []int32) (lstm.EvalResult, error) {
	sp, err := splitIDs(ids, m.Config)
	if err != nil {
		return lstm.EvalResult{}, err
	}
	return m.Evaluate(sp.test)
}

func splitIDs(ids []int32, cfg lstm.Config) (splits, error) {
	train, val, test, err := text.Split(ids, cfg.ValFrac, cfg.TestFrac)
	if err != nil {
		return splits{}, fmt.Errorf("split corpus: %w", err)
	}
	return splits{train, val, test}, nil
}

// gitCommit returns the code version of the training: the commit the running binary was built from
// ("-dirty" when its checkout had uncommitted changes). A binary without that stamp (go test, go run,
// a notebook, a build with -buildvcs=false) falls back to the commit checked out in the working
// directory, if it is a git checkout (the code under test or in a notebook's folder), marked "-dirty"
// the same way; "" otherwise.
func gitCommit() string {
	if bi, ok := buildinfo.Read(); ok && bi.CodeVersion() != "" {
		return bi.CodeVersion()
	}
	out, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		return ""
	}
	commit := strings.TrimSpace(string(out))
	if status, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(status) > 0 {
		commit += "-dirty"
	}
	return commit
}

// Train runs a new training run, logged into db. When ctx is cancelled (Ctrl-C, SIGTERM) training stops
// cleanly: every logged point is committed, a final checkpoint written, the plot drawn, and the run
// recorded as interrupted, resumable with Resume; the end-of-run work does not use the cancelled ctx.
func Train(ctx context.Context, db *tracker.DB, opts TrainOptions) (*Result, error) {
	var (
		preset Preset
		cfg    lstm.Config
		parent *parentInfo
		err    error
	)
	if opts.InitFrom != "" {
		if parent, err = loadParent(ctx, db, opts.InitFrom); err != nil {
			return nil, err
		}
		// The child's model and training settings are the parent's (Overrides change them), so its preset
		// is the one the parent's settings came from.
		if opts.Preset != "" && opts.Preset != parent.rec.Preset {
			return nil, &PresetWithParentError{Preset: opts.Preset, Parent: parent.info.Name, ParentPreset: parent.rec.Preset}
		}
		preset = Preset{Name: parent.rec.Preset, Data: text.MobyDickName}
		if p, err := LookupPreset(parent.rec.Preset); err == nil && parent.rec.Preset != "" {
			preset.Data = p.Data
		}
		cfg = parent.model.Config
		if err := rejectShapeOverrides(opts.Overrides); err != nil {
			return nil, err
		}
		// Checked on the parent (the child has its groups) before anything is opened or logged.
		if _, err := FreezeGroups(parent.model, opts.Freeze); err != nil {
			return nil, err
		}
	} else {
		switch {
		case len(opts.Freeze) > 0:
			return nil, fmt.Errorf("%w: freezing freshly initialised weights would leave them random", ErrFreezeWithoutParent)
		case opts.ExtendVocab:
			return nil, fmt.Errorf("%w: a new run builds its vocabulary from its corpus", ErrExtendWithoutParent)
		}
		if preset, err = LookupPreset(opts.Preset); err != nil {
			return nil, err
		}
		cfg = preset.Config
	}
	sample, err := trainSample(opts, &cfg)
	if err != nil {
		return nil, err
	}
	data := opts.Data
	if data == "" {
		data = preset.Data
	}
	corpus, err := loadCorpus(data, opts.DataDir)
	if err != nil {
		return nil, err
	}
	// The vocabulary, the encoded corpus and its splits need no backend: a corpus too short for one batch
	// is refused before one opens (and before anything is logged).
	var vocab *text.Vocab
	if parent != nil {
		vocab, err = parent.childVocab(corpus.Text, opts.ExtendVocab)
	} else {
		vocab, err = buildVocab(cfg, corpus.Text)
	}
	if err != nil {
		return nil, err
	}
	ids, unseen, err := vocab.EncodeUnseen(corpus.Text)
	if err != nil {
		return nil, fmt.Errorf("encode corpus: %w", err)
	}
	sp, err := splitIDs(ids, cfg)
	if err != nil {
		return nil, err
	}
	if err := lstm.CheckTrainingSplit(cfg, sp.train); err != nil {
		return nil, err
	}
	backend, backendName, err := lstm.NewTrainingBackend(opts.Backend)
	if err != nil {
		return nil, err
	}
	opts.logf("backend: %s", backendName)

	var m *lstm.Model
	var frozen []string
	if parent != nil {
		if m, err = parent.model.FineTuneCopy(cfg, vocab, backend); err != nil {
			return nil, err
		}
		if frozen, err = FreezeGroups(m, opts.Freeze); err != nil {
			return nil, err
		}
	} else if m, err = lstm.New(cfg, vocab, backend); err != nil {
		return nil, err
	}
	cfg = m.Config // what the model trains with (a fine-tuned model keeps its parent's shape whatever cfg said)
	if unseen.Count > 0 && parent == nil {
		opts.logf("corpus: %s: seen fewer than min_freq=%d times", unseen, m.Vocab.MinFreq())
	} else if unseen.Count > 0 {
		opts.logf("corpus: %s", unseen)
	}
	trainer, err := lstm.NewTrainer(m, sp.train, sp.val, frozen)
	if err != nil {
		return nil, err
	}
	vocabSum, err := vocabSHA256(m.Vocab)
	if err != nil {
		return nil, err
	}
	rec := &RunRecord{
		Version: recordVersion, Preset: preset.Name, Config: cfg, Backend: backendName,
		Data:        DataSource{Source: absData(corpus.Source), SHA256: textSHA256(corpus.Text), Chars: utf8.RuneCountInString(corpus.Text)},
		VocabSHA256: vocabSum, VocabSize: m.Vocab.Size(),
		Sample: sample,
	}
	if rec.Sample.Prompt == "" {
		rec.Sample.Prompt = defaultPrompt(corpus.Text, m.Vocab)
	}

	host, _ := os.Hostname()
	spec := tracker.RunSpec{
		Experiment: opts.Experiment, Name: opts.Name, Command: opts.Command, GitCommit: gitCommit(),
		Backend: backendName, Host: host, Tags: opts.Tags, Note: opts.Note,
	}
	if parent != nil {
		spec.ParentID = parent.info.ID
		rec.Parent = &Lineage{RunID: parent.info.ID, UUID: parent.info.UUID, Name: parent.info.Name, Freeze: opts.Freeze, ExtendVocab: opts.ExtendVocab}
	}
	run, err := db.StartRun(ctx, spec)
	if err != nil {
		return nil, err
	}
	if opts.OnRun != nil {
		opts.OnRun(run.ID())
	}
	s := &session{opts: opts, db: db, run: run, rec: rec, trainer: trainer, backend: backendName, splits: sp, parent: parent,
		dir: run.Dir(), log: opts.Log, sampled: -1}
	if err := run.SetRecord(rec); err != nil {
		return nil, s.fail(err)
	}
	if _, unseen, err := m.Vocab.EncodeUnseen(rec.Sample.Prompt); err == nil && unseen.Count > 0 {
		opts.logf("sample prompt: %s", unseen)
	}
	params := ConfigParams(cfg)
	params["preset"] = preset.Name
	params["data"] = rec.Data.Source
	params["data_sha256"] = rec.Data.SHA256
	params["vocab_size"] = m.Vocab.Size()
	params["num_params"] = m.NumParams()
	params["train_tokens"] = len(sp.train)
	params["sample_prompt"] = rec.Sample.Prompt
	params["sample_length"] = rec.Sample.Length
	params["sample_temperature"] = rec.Sample.Temperature
	if parent != nil {
		params["init_from"] = parent.info.Name
		params["freeze"] = strings.Join(opts.Freeze, ",")
		params["extend_vocab"] = opts.ExtendVocab
	}
	if err := run.LogParams(params); err != nil {
		return nil, s.fail(err)
	}
	opts.logf("run %d (%s): %d parameters, vocabulary %d, %d training tokens; files in %s",
		run.ID(), run.Name(), m.NumParams(), m.Vocab.Size(), len(sp.train), s.dir)
	if c := m.Config; c.Warmup >= c.Steps {
		opts.logf("note: warmup %d is not shorter than steps %d: the learning rate never reaches lr=%g", c.Warmup, c.Steps, c.LR)
	}
	if parent != nil {
		if err := s.logFineTuneSnapshot("before", 0); err != nil {
			return nil, s.fail(err)
		}
	}
	// A checkpoint at step 0: a run killed before its first evaluation resumes like any other.
	if err := s.checkpoint(filepath.Join(s.dir, CheckpointFile)); err != nil {
		return nil, s.fail(err)
	}
	return s.loop(ctx)
}

// absData records the corpus source as an absolute path (so resume works from another folder),
// leaving the "moby-dick" name as it is.
func absData(src string) string {
	if src == text.MobyDickName || src == "" {
		return src
	}
	if abs, err := filepath.Abs(src); err == nil {
		return abs
	}
	return src
}

func buildVocab(cfg lstm.Config, corpus string) (*text.Vocab, error) {
	return text.BuildVocab(corpus, cfg.VocabOptions())
}

// fail marks the run failed and returns err (one line: a failure to record the status is appended).
func (s *session) fail(err error) error {
	if ferr := s.run.Finish(tracker.StatusFailed); ferr != nil && !errors.Is(ferr, tracker.ErrRunClosed) {
		return fmt.Errorf("%w (and recording the failure: %v)", err, ferr)
	}
	return err
}

// checkpoint commits every point logged so far, then writes the training checkpoint: the history is
// never behind a published checkpoint, so a resume from it (which discards what was logged after its
// step) leaves exactly one point per step.
func (s *session) checkpoint(path string) error {
	if err := s.run.Flush(); err != nil {
		return err
	}
	return s.trainer.SaveCheckpointOwned(path, s.run.UUID())
}

// loop trains to the end, logging everything, and finishes the run.
func (s *session) loop(ctx context.Context) (*Result, error) {
	start := time.Now()
	m := s.trainer.Model
	cfg := m.Config
	ckpt := filepath.Join(s.dir, CheckpointFile)
	best := filepath.Join(s.dir, BestFile)
	windows := (len(s.splits.train) - 1) / (cfg.BatchSize * cfg.SeqLen)
	var cold, free *lstm.EvalResult // the latest evaluation's writing figures
	observe := func(ev lstm.Event) error {
		switch ev.Kind {
		case lstm.EventStep:
			if err := s.run.LogMetrics(int64(ev.Step), map[string]float64{
				"train_loss": ev.Loss, "train_acc": ev.Accuracy, "lr": ev.LR, "grad_norm": ev.GradNorm, "tokens_per_s": ev.TokensPS,
			}); err != nil {
				return err
			}
		case lstm.EventEval:
			if err := s.run.LogMetrics(int64(ev.Step), ev.Val.Metrics("val")); err != nil {
				return err
			}
			var err error
			if cold, free, err = s.logWriting(m, s.splits.val, "val", "free_running"); err != nil {
				return err
			}
			if err := s.logSample(ev.Step); err != nil {
				return err
			}
			if ev.Improved {
				if err := m.SaveOwned(best, s.run.UUID()); err != nil {
					return err
				}
			}
			if err := s.checkpoint(ckpt); err != nil {
				return err
			}
		}
		if s.opts.Observe != nil {
			re := RunEvent{RunID: s.run.ID(), Event: ev, TotalSteps: cfg.Steps, WindowsEpoch: windows}
			if ev.Kind == lstm.EventEval {
				re.ColdStart, re.FreeRunning = cold, free
			}
			return s.opts.Observe(re)
		}
		return nil
	}
	reason, err := s.trainer.Run(ctx, observe)
	// From here on the work is the end of the run, done whether or not ctx was cancelled (that is
	// how training was asked to stop): it must not fail because of it.
	ctx = context.WithoutCancel(ctx)
	if err != nil {
		// Keep what can be kept: the points logged so far, and the checkpoint of the last evaluation.
		return nil, s.fail(fmt.Errorf("run %d: %w", s.run.ID(), err))
	}
	res := &Result{RunID: s.run.ID(), RunName: s.run.Name(), Stop: reason, Backend: s.backend,
		Checkpoint: ckpt, Best: best, Steps: s.trainer.State.Step, Level: m.Vocab.Level()}
	if err := s.opts.during(EndCheckpoint, func() error { return s.checkpoint(ckpt) }); err != nil {
		return nil, s.fail(err)
	}
	if _, err := os.Stat(best); err != nil { // stopped before the first evaluation
		if err := m.SaveOwned(best, s.run.UUID()); err != nil {
			return nil, s.fail(err)
		}
	}
	status := tracker.StatusFinished
	if reason == lstm.StopCancelled {
		status = tracker.StatusInterrupted
	} else {
		bestModel, err := loadRunCheckpoint(best, s.info(), s.rec, m.Backend)
		if err != nil {
			return nil, s.fail(err)
		}
		if res.Test, err = s.evalSplit(bestModel.Model, s.splits.test, "test"); err != nil {
			return nil, s.fail(err)
		}
		if res.TestColdStart, res.TestFreeRunning, err = s.logWriting(bestModel.Model, s.splits.test, "test", "test_free_running"); err != nil {
			return nil, s.fail(err)
		}
		if err := s.logSample(s.trainer.State.Step); err != nil {
			return nil, s.fail(err)
		}
		if s.parent != nil {
			if err := s.logFineTuneSnapshot("after", int64(s.trainer.State.Step)); err != nil {
				return nil, s.fail(err)
			}
		}
	}
	for kind, path := range map[string]string{tracker.ArtifactCheckpoint: ckpt, tracker.ArtifactModel: best} {
		if _, err := s.run.LogArtifact(kind, path); err != nil {
			return nil, s.fail(err)
		}
	}
	res.BestVal, res.BestStep = s.trainer.State.BestVal, s.trainer.State.BestStep
	if sample, err := s.db.LatestSample(ctx, s.run.ID()); err == nil && sample != nil {
		res.Sample, res.SamplePrompt, res.SampleStep, res.SampleTemp = sample.Text, sample.Prompt, sample.Step, sample.Temperature
	}
	if err := s.run.Flush(); err != nil {
		return nil, s.fail(err)
	}
	plotPath := filepath.Join(s.dir, PlotFile)
	if err := s.opts.during(EndPlot, func() error { return WritePlot(ctx, s.db, []int64{s.run.ID()}, nil, plotPath) }); err != nil {
		return nil, s.fail(fmt.Errorf("plot: %w", err))
	}
	res.Plot = plotPath
	if _, err := s.run.LogArtifact(tracker.ArtifactPlot, plotPath); err != nil {
		return nil, s.fail(err)
	}
	if err := s.opts.during(EndRecorded, func() error { return s.run.Finish(status) }); err != nil {
		return nil, err
	}
	res.Status = status
	res.Duration = time.Since(start).Seconds()
	return res, nil
}

// info is what loadRunCheckpoint needs to know of the session's run.
func (s *session) info() tracker.RunInfo {
	return tracker.RunInfo{ID: s.run.ID(), Name: s.run.Name(), UUID: s.run.UUID(), Dir: s.dir}
}

// evalSplit evaluates m on a whole split (skipped, with a message, when it has nothing to predict) and
// logs lstm.EvalResult.Metrics: <name>_loss, _ppl, _acc, _oov_rate and bits per token (_bpc, _bpg or
// _bpw). The test split is scored whole, as EvaluateTestSplit scores it: eval_windows caps only the
// periodic validation.
func (s *session) evalSplit(m *lstm.Model, ids []int32, name string) (*lstm.EvalResult, error) {
	if len(ids) < 2 {
		s.opts.logf("%s split too short to evaluate (%d tokens)", name, len(ids))
		return nil, nil
	}
	r, err := m.Evaluate(ids)
	if err != nil {
		return nil, fmt.Errorf("evaluate %s split: %w", name, err)
	}
	return &r, s.run.LogMetrics(int64(s.trainer.State.Step), r.Metrics(name))
}

// Writing returns how m writes (issue 17; see lstm's writing.go): its cold start on split (mean loss of
// lstm.ColdStartPassages passages of lstm.ColdStartTokens tokens, each from the zero state; nil when the
// split has fewer than two tokens) and its free-running figure (mean −ln p of lstm.FreeRunningSamples
// samples of lstm.FreeRunningTokens tokens at temperature 1 from an empty state (lstm's FreeRunning), seeds
// FreeRunningSeed(cfg) onwards: the same at every evaluation, so the curve follows the model, not the
// draws).
func Writing(m *lstm.Model, split []int32) (cold, free *lstm.EvalResult, err error) {
	if len(split) >= 2 {
		r, err := m.ColdStart(split, lstm.ColdStartPassages, lstm.ColdStartTokens)
		if err != nil {
			return nil, nil, err
		}
		cold = &r
	}
	r, err := m.FreeRunning(lstm.FreeRunningSamples, lstm.FreeRunningTokens, FreeRunningSeed(m.Config))
	if err != nil {
		return nil, nil, err
	}
	return cold, &r, nil
}

// FreeRunningSeed is the seed of the first free-running sample of a run with config cfg.
func FreeRunningSeed(cfg lstm.Config) uint64 { return uint64(cfg.Seed)*1_000_003 + 0xf7ee }

// logWriting computes Writing on split and logs, at the current step, <split>_cold_loss and
// <split>_cold_<bits> (bpc, bpg or bpw), and <free>_loss and <free>_<bits>.
func (s *session) logWriting(m *lstm.Model, split []int32, name, free string) (*lstm.EvalResult, *lstm.EvalResult, error) {
	cold, fr, err := Writing(m, split)
	if err != nil {
		return nil, nil, fmt.Errorf("writing figures (%s): %w", name, err)
	}
	metrics := map[string]float64{free + "_loss": fr.Loss, free + "_" + fr.BitsName(): fr.BitsPerToken}
	if cold != nil {
		metrics[name+"_cold_loss"], metrics[name+"_cold_"+cold.BitsName()] = cold.Loss, cold.BitsPerToken
	}
	return cold, fr, s.run.LogMetrics(int64(s.trainer.State.Step), metrics)
}

// sampleSeed makes periodic samples reproducible yet different per step.
func sampleSeed(cfg lstm.Config, step int) uint64 { return uint64(cfg.Seed)*1_000_003 + uint64(step) }

// logSample generates text from the record's prompt and settings and stores it with the step (once
// per step: the sample is seeded by the step, so a second one would be the same text).
func (s *session) logSample(step int) error {
	if step == s.sampled {
		return nil
	}
	s.sampled = step
	m := s.trainer.Model
	set := s.rec.Sample
	opts := lstm.SampleOptions{Prompt: set.Prompt, Length: set.Length, Temperature: set.Temperature, Seed: sampleSeed(m.Config, step)}
	out, err := m.Generate(opts)
	if err != nil {
		return fmt.Errorf("sample at step %d: %w", step, err)
	}
	return s.run.LogSample(tracker.Sample{Step: int64(step), Prompt: set.Prompt, Text: out,
		Temperature: opts.Temperature, Seed: int64(opts.Seed)})
}

// ResumeOptions configures Resume.
type ResumeOptions struct {
	Backend string
	DataDir string
	// Steps is the new total step count (0 keeps the run's); the same as the override "steps=N".
	Steps int
	// Overrides are key=value changes of keys that change neither the model's shape nor the data
	// (ResumableKeys, SampleKeys). Each change is recorded in the run's param history with the step
	// from which it applies. A changed cosine schedule continues from the rate the run had reached
	// (lstm.LRAnchor) instead of jumping.
	Overrides []string
	// AllowDataChange resumes even though the corpus's text changed since the run trained on it (the
	// splits differ); the new hash is recorded.
	AllowDataChange bool
	Observe         func(RunEvent) error
	// OnRun is called with the run's id once the run is open again (see TrainOptions.OnRun).
	OnRun func(runID int64)
	// OnEnd reports the stages of the run's end (see TrainOptions.OnEnd).
	OnEnd func(EndEvent)
	Log   io.Writer
}

// StepsReachedError is Resume's refusal of a run that already reached its steps (finished, or given other
// settings to train with): the steps key (ResumeOptions.Steps) must be raised above Step.
type StepsReachedError struct {
	RunID int64
	Name  string
	Step  int // the checkpoint's step
	Steps int // the steps key the run would resume with
}

func (e *StepsReachedError) Error() string {
	return fmt.Sprintf("run %d (%s) already reached step %d of %d: set steps above %d to train further",
		e.RunID, e.Name, e.Step, e.Steps, e.Step)
}

// Resume continues a run from its latest checkpoint, in the same tracker run: an interrupted or failed
// run, or a finished one given more steps. Metric steps continue (whatever was logged after the
// checkpoint's step is discarded first, so the history holds one point per step), and the losses are
// those the uninterrupted run would have had. The run is rebuilt from its record only; its checkpoint
// must be its own (owner, shape, vocabulary) and its corpus unchanged (unless AllowDataChange).
func Resume(ctx context.Context, db *tracker.DB, ref string, opts ResumeOptions) (*Result, error) {
	info, err := db.FindRun(ctx, ref)
	if err != nil {
		return nil, err
	}
	sets := slices.Clone(opts.Overrides)
	if opts.Steps > 0 {
		if v, ok := stepsOverride(sets); ok && v != strconv.Itoa(opts.Steps) {
			return nil, fmt.Errorf("two step counts: ResumeOptions.Steps %d and the override steps=%s", opts.Steps, v)
		}
		sets = append(sets, fmt.Sprintf("steps=%d", opts.Steps))
	}
	// Claim the run first: its lock keeps another resume (or a still-running owner, even a stopped
	// one) out while the checkpoint and record are read and changed.
	run, err := db.ResumeRun(ctx, info.ID)
	if err != nil {
		return nil, err
	}
	s, err := prepareResume(ctx, db, run, info, sets, opts)
	if err != nil {
		if aerr := run.Abandon(); aerr != nil {
			return nil, fmt.Errorf("%w (and restoring the run's status: %v)", err, aerr)
		}
		return nil, err
	}
	return s.loop(ctx)
}

// prepareResume rebuilds a claimed run from its record and checkpoint and applies the changes.
func prepareResume(ctx context.Context, db *tracker.DB, run *tracker.Run, info tracker.RunInfo, sets []string, opts ResumeOptions) (*session, error) {
	rec, err := LoadRecord(ctx, db, info)
	if err != nil {
		return nil, err
	}
	next, changed, err := applyResumeChanges(rec, sets)
	if err != nil {
		return nil, fmt.Errorf("resume run %d (%s): %w", info.ID, info.Name, err)
	}
	backend, backendName, err := lstm.NewTrainingBackend(opts.Backend)
	if err != nil {
		return nil, err
	}
	ck, err := loadRunCheckpoint(filepath.Join(info.Dir, CheckpointFile), info, rec, backend)
	if err != nil {
		return nil, err
	}
	if ck.State == nil {
		return nil, fmt.Errorf("resume run %d (%s): %s holds weights only, no training state", info.ID, info.Name, filepath.Join(info.Dir, CheckpointFile))
	}
	step := ck.State.Step
	if next.Config.Steps <= step && (info.Status == tracker.StatusFinished || len(changed) > 0) {
		return nil, &StepsReachedError{RunID: info.ID, Name: info.Name, Step: step, Steps: next.Config.Steps}
	}
	corpus, err := loadRunCorpus(rec, info, opts.DataDir, opts.AllowDataChange, "ResumeOptions.AllowDataChange")
	if err != nil {
		return nil, err
	}
	if sum := textSHA256(corpus.Text); sum != next.Data.SHA256 {
		if rec.Data.SHA256 != "" {
			opts.logf("the corpus changed (SHA-256 %s, trained on %s): going on as asked", sum, rec.Data.SHA256)
		}
		next.Data.SHA256, next.Data.Chars = sum, utf8.RuneCountInString(corpus.Text)
		changed["data_sha256"] = sum
	}
	next.LRAnchor = lstm.ReanchorLR(rec.Config, rec.LRAnchor, next.Config, step)
	if next.LRAnchor != nil && (rec.LRAnchor == nil || *next.LRAnchor != *rec.LRAnchor) {
		opts.logf("learning rate continues from %.4g at step %d (schedule %s to %.4g at step %d)",
			next.LRAnchor.LR, step, next.Config.Decay, next.Config.LR*next.Config.DecayRate, next.Config.Steps)
	}

	m := ck.Model
	m.Config = next.Config
	ids, err := m.Vocab.Encode(corpus.Text)
	if err != nil {
		return nil, fmt.Errorf("encode corpus: %w", err)
	}
	sp, err := splitIDs(ids, m.Config)
	if err != nil {
		return nil, err
	}
	var frozen []string
	if next.Parent != nil && len(next.Parent.Freeze) > 0 {
		if frozen, err = FreezeGroups(m, next.Parent.Freeze); err != nil {
			return nil, err
		}
	}
	trainer, err := lstm.ResumeTrainer(ck, sp.train, sp.val, frozen)
	if err != nil {
		return nil, err
	}
	trainer.LRAnchor = next.LRAnchor // the record is its one home (with the config it belongs to)
	// The history must end where the checkpoint does: points logged after it (by a process killed
	// before its next checkpoint) are logged again, with the same values, by the resumed training.
	discarded, err := run.DiscardAfter(int64(step))
	if err != nil {
		return nil, err
	}
	if opts.OnRun != nil {
		opts.OnRun(run.ID())
	}
	if len(changed) > 0 {
		if err := run.ChangeParams(int64(step+1), changed); err != nil {
			return nil, err
		}
	}
	if err := run.SetRecord(next); err != nil {
		return nil, err
	}
	s := &session{
		opts: TrainOptions{Observe: opts.Observe, Log: opts.Log, DataDir: opts.DataDir, OnEnd: opts.OnEnd},
		db:   db, run: run, rec: next, trainer: trainer, backend: backendName, splits: sp, dir: info.Dir, log: opts.Log,
		sampled: -1,
	}
	if next.Parent != nil {
		if s.parent, err = resumeParent(ctx, db, next.Parent); err != nil {
			opts.logf("parent run %s unavailable, no *_parent_* metrics: %v", next.Parent.Name, err)
		}
	}
	s.opts.logf("backend: %s", backendName)
	s.opts.logf("resuming run %d (%s) at step %d of %d%s", info.ID, info.Name, step, next.Config.Steps, discardNote(discarded))
	return s, nil
}

// stepsOverride returns the last value of the steps key among overrides, if any, in canonical form (so
// "1e3" reads as 1000).
func stepsOverride(overrides []string) (string, bool) {
	value, found := "", false
	for _, kv := range overrides {
		if key, v, err := ParseOverride(kv); err == nil && key == "steps" {
			cfg := lstm.Config{}
			if SetConfigValue(&cfg, "steps", v) == nil {
				v = strconv.Itoa(cfg.Steps)
			}
			value, found = v, true
		}
	}
	return value, found
}

func discardNote(n int64) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(" (%d metric points logged after the checkpoint discarded: they are logged again)", n)
}

func (o ResumeOptions) logf(format string, args ...any) { logLine(o.Log, format, args...) }

// bestOrLatest returns the path of a run's best model, falling back to its latest checkpoint.
func bestOrLatest(dir string) string {
	if _, err := os.Stat(filepath.Join(dir, BestFile)); err == nil {
		return filepath.Join(dir, BestFile)
	}
	return filepath.Join(dir, CheckpointFile)
}

// LoadRunModel loads the best model of a run (by id or name) for generation, evaluation or export,
// checking it is that run's (see Resume). The tracker knows the run's folder.
func LoadRunModel(ctx context.Context, db *tracker.DB, ref, backendName string) (*lstm.Model, tracker.RunInfo, error) {
	m, info, _, err := loadRun(ctx, db, ref, backendName, lstm.Inference)
	return m, info, err
}

// loadRun finds a run by id or name, reads its record and loads its best model (its latest checkpoint
// when it has none) on the backend requested for job, checking the file is that run's
// (loadRunCheckpoint).
func loadRun(ctx context.Context, db *tracker.DB, ref, backendName string, job lstm.Job) (*lstm.Model, tracker.RunInfo, *RunRecord, error) {
	info, err := db.FindRun(ctx, ref)
	if err != nil {
		return nil, info, nil, err
	}
	rec, err := LoadRecord(ctx, db, info)
	if err != nil {
		return nil, info, nil, err
	}
	backend, _, err := lstm.OpenBackend(backendName, job)
	if err != nil {
		return nil, info, nil, err
	}
	ck, err := loadRunCheckpoint(bestOrLatest(info.Dir), info, rec, backend)
	if err != nil {
		return nil, info, nil, err
	}
	return ck.Model, info, rec, nil
}
