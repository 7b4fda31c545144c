package experiments

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/lstmlab/lstmlab/lstm"
	"github.com/lstmlab/lstmlab/lstm/text"
	"github.com/lstmlab/lstmlab/tracker"
)

// Files the runner keeps in each run's folder (RunsDir/<run id>/).
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
	RunsDir    string            // root of the per-run folders ("runs" beside the database)
	Command    string            // the command line, for the record

	SamplePrompt string // prompt for periodic samples (the corpus's first line when empty)
	SampleLength int    // characters/words per sample (200)

	// Fine-tuning (issue 6): start from another run's weights.
	InitFrom    string   // parent run id or name
	Freeze      []string // parameter groups to freeze: embedding, lstm.K, decoder
	ExtendVocab bool     // grow the vocabulary with the new corpus's unseen tokens instead of mapping them to <unk>

	// Observe receives every training event (progress bars, notebooks); returning an error stops the run.
	Observe func(RunEvent) error
	// Log receives one-line messages (which backend runs, where files go). Nil: discarded.
	Log io.Writer
}

// RunEvent is a training event with the run it belongs to.
type RunEvent struct {
	RunID int64
	lstm.Event
	TotalSteps   int
	WindowsEpoch int // training windows in one epoch
}

// Result is what a finished (or stopped) run reports.
type Result struct {
	RunID      int64            `json:"run_id"`
	RunName    string           `json:"run_name"`
	Status     tracker.Status   `json:"status"`
	Stop       lstm.StopReason  `json:"stop_reason"`
	Steps      int              `json:"steps"`
	BestVal    float64          `json:"best_val_loss"`
	BestStep   int              `json:"best_step"`
	Val        *lstm.EvalResult `json:"val,omitempty"`
	Test       *lstm.EvalResult `json:"test,omitempty"`
	Sample     string           `json:"sample"`
	Checkpoint string           `json:"checkpoint"`
	Best       string           `json:"best_model"`
	Plot       string           `json:"plot"`
	Backend    string           `json:"backend"`
	Duration   float64          `json:"duration_s"`
}

// session is one run being trained: model, data, tracker run and files.
type session struct {
	opts    TrainOptions
	db      *tracker.DB
	run     *tracker.Run
	trainer *lstm.Trainer
	backend string
	dir     string
	prompt  string
	splits  splits
	parent  *parentInfo
	log     io.Writer
	// sampled is the step of the latest logged sample (-1: none yet), so the end of a run whose last step
	// was also an evaluation does not log the same sample twice.
	sampled int
}

type splits struct{ train, val, test []int32 }

func (o TrainOptions) logf(format string, args ...any) {
	if o.Log != nil {
		fmt.Fprintf(o.Log, format+"\n", args...)
	}
}

// runsDir returns where run folders go: opts.RunsDir, else "runs" beside the database file.
func runsDir(db *tracker.DB, dir string) string {
	if dir != "" {
		return dir
	}
	return filepath.Join(filepath.Dir(db.Path()), "runs")
}

// RunDir is the folder of run id's files.
func RunDir(db *tracker.DB, runsRoot string, id int64) string {
	return filepath.Join(runsDir(db, runsRoot), fmt.Sprint(id))
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

// firstLine returns the corpus's first non-empty line (trimmed, at most 60 runes): a prompt that is
// surely in the vocabulary.
func firstLine(s string) string {
	for line := range strings.SplitSeq(s, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			r := []rune(line)
			return string(r[:min(len(r), 60)])
		}
	}
	return ""
}

func splitIDs(ids []int32, cfg lstm.Config) (splits, error) {
	train, val, test, err := text.Split(ids, cfg.ValFrac, cfg.TestFrac)
	if err != nil {
		return splits{}, fmt.Errorf("split corpus: %w", err)
	}
	return splits{train, val, test}, nil
}

// gitCommit returns the current commit of the working tree, or "".
func gitCommit() string {
	out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// Train runs a new training run, logged into db. Ctrl-C (ctx cancelled) stops it cleanly: a final
// checkpoint is written and the run is marked interrupted, resumable with Resume.
func Train(ctx context.Context, db *tracker.DB, opts TrainOptions) (*Result, error) {
	preset, err := LookupPreset(opts.Preset)
	if err != nil {
		return nil, err
	}
	cfg := preset.Config
	var parent *parentInfo
	if opts.InitFrom != "" {
		if parent, err = loadParent(ctx, db, opts.InitFrom, runsDir(db, opts.RunsDir)); err != nil {
			return nil, err
		}
		cfg = parent.model.Config // model shape comes from the parent
		if err := rejectShapeOverrides(opts.Overrides); err != nil {
			return nil, err
		}
	}
	if err := ApplyOverrides(&cfg, opts.Overrides); err != nil {
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
	backend, backendName, err := lstm.NewTrainingBackend(opts.Backend)
	if err != nil {
		return nil, err
	}
	opts.logf("backend: %s", backendName)

	var m *lstm.Model
	var frozen []string
	if parent != nil {
		m, err = parent.childModel(cfg, corpus.Text, backend, opts.ExtendVocab)
		if err != nil {
			return nil, err
		}
		if frozen, err = FreezeGroups(m, opts.Freeze); err != nil {
			return nil, err
		}
	} else {
		if len(opts.Freeze) > 0 {
			return nil, fmt.Errorf("--freeze needs --init-from: freezing freshly initialised weights would leave them random")
		}
		vocab, err := buildVocab(cfg, corpus.Text)
		if err != nil {
			return nil, err
		}
		if m, err = lstm.New(cfg, vocab, backend); err != nil {
			return nil, err
		}
	}
	ids, unseen, err := m.Vocab.EncodeUnseen(corpus.Text)
	if err != nil {
		return nil, fmt.Errorf("encode corpus: %w", err)
	}
	if unseen.Count > 0 && parent == nil {
		opts.logf("corpus: %s: seen fewer than min_freq=%d times", unseen, m.Vocab.MinFreq())
	} else if unseen.Count > 0 {
		opts.logf("corpus: %s", unseen)
	}
	sp, err := splitIDs(ids, cfg)
	if err != nil {
		return nil, err
	}
	trainer, err := lstm.NewTrainer(m, sp.train, sp.val, frozen)
	if err != nil {
		return nil, err
	}

	host, _ := os.Hostname()
	spec := tracker.RunSpec{
		Experiment: opts.Experiment, Name: opts.Name, Command: opts.Command, GitCommit: gitCommit(),
		Backend: backendName, Host: host, Tags: opts.Tags, Note: opts.Note,
	}
	if parent != nil {
		spec.ParentID = parent.info.ID
	}
	run, err := db.StartRun(ctx, spec)
	if err != nil {
		return nil, err
	}
	s := &session{opts: opts, db: db, run: run, trainer: trainer, backend: backendName, splits: sp, parent: parent,
		dir: RunDir(db, opts.RunsDir, run.ID()), log: opts.Log, sampled: -1}
	s.prompt = opts.SamplePrompt
	if s.prompt == "" {
		s.prompt = firstLine(corpus.Text)
	}
	if _, unseen, err := m.Vocab.EncodeUnseen(s.prompt); err == nil && unseen.Count > 0 {
		opts.logf("sample prompt: %s", unseen)
	}
	params := ConfigParams(cfg)
	params["preset"] = preset.Name
	params["data"] = absData(corpus.Source)
	params["vocab_size"] = m.Vocab.Size()
	params["num_params"] = m.NumParams()
	params["train_tokens"] = len(sp.train)
	params["sample_prompt"] = s.prompt
	if parent != nil {
		params["init_from"] = parent.info.Name
		params["freeze"] = strings.Join(opts.Freeze, ",")
		params["extend_vocab"] = opts.ExtendVocab
	}
	if err := run.LogParams(params); err != nil {
		return nil, s.fail(err)
	}
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return nil, s.fail(fmt.Errorf("create run folder: %w", err))
	}
	opts.logf("run %d (%s): %d parameters, vocabulary %d, %d training tokens; files in %s",
		run.ID(), run.Name(), m.NumParams(), m.Vocab.Size(), len(sp.train), s.dir)
	if parent != nil {
		if err := s.logFineTuneSnapshot("before", 0); err != nil {
			return nil, s.fail(err)
		}
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

// fail marks the run failed and returns err.
func (s *session) fail(err error) error {
	if ferr := s.run.Finish(tracker.StatusFailed); ferr != nil {
		return errors.Join(err, ferr)
	}
	return err
}

// loop trains to the end, logging everything, and finishes the run.
func (s *session) loop(ctx context.Context) (*Result, error) {
	start := time.Now()
	m := s.trainer.Model
	cfg := m.Config
	ckpt := filepath.Join(s.dir, CheckpointFile)
	best := filepath.Join(s.dir, BestFile)
	windows := (len(s.splits.train) - 1) / (cfg.BatchSize * cfg.SeqLen)
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
			if err := s.trainer.SaveCheckpoint(ckpt); err != nil {
				return err
			}
			if ev.Improved {
				if err := m.Save(best); err != nil {
					return err
				}
			}
			if err := s.logSample(ev.Step); err != nil {
				return err
			}
		}
		if s.opts.Observe != nil {
			return s.opts.Observe(RunEvent{RunID: s.run.ID(), Event: ev, TotalSteps: cfg.Steps, WindowsEpoch: windows})
		}
		return nil
	}
	reason, err := s.trainer.Run(ctx, observe)
	if err != nil {
		// Keep what can be kept: a checkpoint of the state before the failure is already on disk.
		return nil, s.fail(fmt.Errorf("run %d: %w", s.run.ID(), err))
	}
	res := &Result{RunID: s.run.ID(), RunName: s.run.Name(), Stop: reason, Backend: s.backend,
		Checkpoint: ckpt, Best: best, Steps: s.trainer.State.Step}
	if err := s.trainer.SaveCheckpoint(ckpt); err != nil {
		return nil, s.fail(err)
	}
	if _, err := os.Stat(best); err != nil { // stopped before the first evaluation
		if err := m.Save(best); err != nil {
			return nil, s.fail(err)
		}
	}
	status := tracker.StatusFinished
	if reason == lstm.StopCancelled {
		status = tracker.StatusInterrupted
	} else {
		bestModel, err := lstm.Load(best, m.Backend)
		if err != nil {
			return nil, s.fail(err)
		}
		if res.Test, err = s.evalSplit(bestModel.Model, s.splits.test, "test"); err != nil {
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
		res.Sample = sample.Text
	}
	if err := s.run.Flush(); err != nil {
		return nil, s.fail(err)
	}
	plotPath := filepath.Join(s.dir, PlotFile)
	if err := WritePlot(ctx, s.db, []int64{s.run.ID()}, nil, plotPath); err != nil {
		return nil, s.fail(err)
	}
	res.Plot = plotPath
	if _, err := s.run.LogArtifact(tracker.ArtifactPlot, plotPath); err != nil {
		return nil, s.fail(err)
	}
	if err := s.run.Finish(status); err != nil {
		return nil, err
	}
	res.Status = status
	res.Duration = time.Since(start).Seconds()
	return res, nil
}

// evalSplit evaluates m on a split (skipped, with a message, when it has nothing to predict) and logs
// lstm.EvalResult.Metrics: <name>_loss, _ppl, _acc, _oov_rate and bits per token (_bpc, _bpg or _bpw).
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

// sampleSeed makes periodic samples reproducible yet different per step.
func sampleSeed(cfg lstm.Config, step int) uint64 { return uint64(cfg.Seed)*1_000_003 + uint64(step) }

// logSample generates text from the fixed prompt and stores it with the step (once per step: the sample is
// seeded by the step, so a second one would be the same text).
func (s *session) logSample(step int) error {
	if step == s.sampled {
		return nil
	}
	s.sampled = step
	m := s.trainer.Model
	length := s.opts.SampleLength
	if length <= 0 {
		length = 200
	}
	opts := lstm.SampleOptions{Prompt: s.prompt, Length: length, Temperature: 0.8, Seed: sampleSeed(m.Config, step)}
	out, err := m.Generate(opts)
	if err != nil {
		return fmt.Errorf("sample at step %d: %w", step, err)
	}
	return s.run.LogSample(tracker.Sample{Step: int64(step), Prompt: s.prompt, Text: out,
		Temperature: opts.Temperature, Seed: int64(opts.Seed)})
}

// ResumeOptions configures Resume.
type ResumeOptions struct {
	Backend   string
	DataDir   string
	RunsDir   string
	Steps     int // new total step count (0 keeps the run's)
	Observe   func(RunEvent) error
	Log       io.Writer
	Overrides []string // only "steps" may change on resume
}

// Resume continues an interrupted (or finished, with more Steps) run from its latest checkpoint, in the
// same tracker run: metric steps continue, and the losses are those the uninterrupted run would have had.
func Resume(ctx context.Context, db *tracker.DB, ref string, opts ResumeOptions) (*Result, error) {
	info, err := db.FindRun(ctx, ref)
	if err != nil {
		return nil, err
	}
	if info.Status == tracker.StatusRunning {
		return nil, fmt.Errorf("run %d (%s) is still running in another process", info.ID, info.Name)
	}
	dir := RunDir(db, opts.RunsDir, info.ID)
	backend, backendName, err := lstm.NewTrainingBackend(opts.Backend)
	if err != nil {
		return nil, err
	}
	ck, err := lstm.Load(filepath.Join(dir, CheckpointFile), backend)
	if err != nil {
		return nil, fmt.Errorf("resume run %d: %w", info.ID, err)
	}
	if ck.State == nil {
		return nil, fmt.Errorf("resume run %d: checkpoint has no training state", info.ID)
	}
	m := ck.Model
	if opts.Steps > 0 {
		m.Config.Steps = opts.Steps
	}
	if m.Config.Steps <= ck.State.Step {
		return nil, fmt.Errorf("run %d already reached step %d of %d: pass --steps N with N > %d to train further",
			info.ID, ck.State.Step, m.Config.Steps, ck.State.Step)
	}
	data, _ := info.Params["data"].(string)
	corpus, err := loadCorpus(data, opts.DataDir)
	if err != nil {
		return nil, err
	}
	ids, err := m.Vocab.Encode(corpus.Text)
	if err != nil {
		return nil, fmt.Errorf("encode corpus: %w", err)
	}
	sp, err := splitIDs(ids, m.Config)
	if err != nil {
		return nil, err
	}
	var frozen []string
	if f, _ := info.Params["freeze"].(string); f != "" {
		if frozen, err = FreezeGroups(m, strings.Split(f, ",")); err != nil {
			return nil, err
		}
	}
	trainer, err := lstm.ResumeTrainer(ck, sp.train, sp.val, frozen)
	if err != nil {
		return nil, err
	}
	run, err := db.ResumeRun(ctx, info.ID)
	if err != nil {
		return nil, err
	}
	if opts.Log != nil {
		fmt.Fprintf(opts.Log, "backend: %s\nresuming run %d (%s) at step %d of %d\n", backendName, info.ID, info.Name, ck.State.Step, m.Config.Steps)
	}
	prompt, _ := info.Params["sample_prompt"].(string)
	s := &session{
		opts: TrainOptions{Observe: opts.Observe, Log: opts.Log, SamplePrompt: prompt, RunsDir: opts.RunsDir},
		db:   db, run: run, trainer: trainer, backend: backendName, splits: sp, dir: dir, prompt: prompt, log: opts.Log,
		sampled: -1,
	}
	if s.prompt == "" {
		s.prompt = firstLine(corpus.Text)
	}
	return s.loop(ctx)
}

// bestOrLatest returns the path of a run's best model, falling back to its latest checkpoint.
func bestOrLatest(dir string) string {
	if _, err := os.Stat(filepath.Join(dir, BestFile)); err == nil {
		return filepath.Join(dir, BestFile)
	}
	return filepath.Join(dir, CheckpointFile)
}

// LoadRunModel loads the best model of a run (by id or name) for generation, evaluation or export.
func LoadRunModel(ctx context.Context, db *tracker.DB, ref, runsRoot, backendName string) (*lstm.Model, tracker.RunInfo, error) {
	info, err := db.FindRun(ctx, ref)
	if err != nil {
		return nil, info, err
	}
	backend, _, err := lstm.NewBackend(backendName)
	if err != nil {
		return nil, info, err
	}
	path := bestOrLatest(RunDir(db, runsRoot, info.ID))
	ck, err := lstm.Load(path, backend)
	if err != nil {
		return nil, info, fmt.Errorf("run %d (%s): %w", info.ID, info.Name, err)
	}
	return ck.Model, info, nil
}
