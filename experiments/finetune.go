package experiments

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/lstmlab/lstmlab/lstm"
	"github.com/lstmlab/lstmlab/lstm/text"
	"github.com/lstmlab/lstmlab/tracker"
)

// parentInfo is the run a fine-tuning run starts from.
type parentInfo struct {
	info  tracker.RunInfo
	rec   *RunRecord
	model *lstm.Model // its best weights (nil on resume, where only its validation split is needed)
}

// loadParent loads a run's record and best weights (on the backend lstm.Weights jobs use: they are
// copied to the child's backend), checking the weights are that run's.
func loadParent(ctx context.Context, db *tracker.DB, ref string) (*parentInfo, error) {
	m, info, rec, err := loadRun(ctx, db, ref, "", lstm.Weights)
	if err != nil {
		return nil, fmt.Errorf("init_from: %w", err)
	}
	return &parentInfo{info: info, rec: rec, model: m}, nil
}

// LoadRunWeights loads the best model of a run (by id or name) to read or copy its weights (export), on
// the backend lstm.Weights jobs use: nothing is computed, so no accelerator is needed whatever the
// backend setting.
func LoadRunWeights(ctx context.Context, db *tracker.DB, ref string) (*lstm.Model, tracker.RunInfo, error) {
	m, info, _, err := loadRun(ctx, db, ref, "", lstm.Weights)
	return m, info, err
}

// resumeParent finds the parent of a resumed fine-tuning run, for its validation split.
func resumeParent(ctx context.Context, db *tracker.DB, l *Lineage) (*parentInfo, error) {
	info, err := db.GetRun(ctx, l.RunID)
	if err != nil {
		return nil, err
	}
	if l.UUID != "" && info.UUID != l.UUID {
		return nil, fmt.Errorf("run %d is no longer the parent (uuid %s, recorded %s)", l.RunID, info.UUID, l.UUID)
	}
	rec, err := LoadRecord(ctx, db, info)
	if err != nil {
		return nil, err
	}
	return &parentInfo{info: info, rec: rec}, nil
}

// rejectShapeOverrides refuses overrides of the model's shape or tokenization in a fine-tuning run.
func rejectShapeOverrides(overrides []string) error {
	for _, kv := range overrides {
		key, _, err := ParseOverride(kv)
		if err != nil {
			return err
		}
		if slices.Contains(lstm.ModelKeys, key) {
			return fmt.Errorf("override %s: a fine-tuned run keeps its parent's %s (model shape, cell and tokenization cannot change; "+
				"a char-level parent cannot become word-level)", kv, key)
		}
	}
	return nil
}

// childVocab is the fine-tuning vocabulary: the parent's, which either maps the new corpus's unseen
// tokens to <unk> or, with extend, grows by those seen at least min_freq times (the rarer ones map to
// <unk>). A vocabulary saved before <unk> was reserved for characters gets <unk> when some token of the
// corpus would need it. The model is the parent's FineTuneCopy with it.
func (p *parentInfo) childVocab(corpus string, extend bool) (*text.Vocab, error) {
	vocab := p.model.Vocab.Clone()
	if extend {
		if _, err := vocab.Extend(corpus); err != nil {
			return nil, err
		}
	}
	missing, err := vocab.Missing(corpus)
	if err != nil {
		return nil, err
	}
	if len(missing) > 0 {
		vocab.AddUnk() // a no-op when the vocabulary has <unk>
	}
	return vocab, nil
}

// FreezeGroups turns group names (embedding, <cell>.K such as lstm.0 or gru.1, decoder) into parameter
// paths, rejecting unknown names with the list of valid ones.
func FreezeGroups(m *lstm.Model, groups []string) ([]string, error) {
	all := m.ParamGroups()
	var paths []string
	for _, g := range groups {
		g = strings.TrimSpace(g)
		if g == "" {
			continue
		}
		p, ok := all[g]
		if !ok {
			names := make([]string, 0, len(all))
			for n := range all {
				names = append(names, n)
			}
			sort.Strings(names)
			return nil, fmt.Errorf("freeze %s: unknown parameter group (known: %s)", g, strings.Join(names, ", "))
		}
		paths = append(paths, p...)
	}
	return paths, nil
}

// logFineTuneSnapshot logs, at the start ("before") or end ("after") of a fine-tuning run, validation
// loss and bits per token (bpc, bpg or bpw, by level) on the new corpus and on the parent's validation split — what was gained
// and what was forgotten — plus a sample from the parent's prompt.
func (s *session) logFineTuneSnapshot(when string, step int64) error {
	m := s.trainer.Model
	metrics := map[string]float64{}
	add := func(prefix string, ids []int32) error {
		if len(ids) < 2 {
			return nil
		}
		r, err := m.EvaluateWindows(ids, m.Config.EvalLimit) // capped like the periodic validation
		if err != nil {
			return fmt.Errorf("fine-tune %s: %w", prefix, err)
		}
		metrics[when+"_"+prefix+"_loss"] = r.Loss
		metrics[when+"_"+prefix+"_"+r.BitsName()] = r.BitsPerToken
		return nil
	}
	if err := add("new_val", s.splits.val); err != nil {
		return err
	}
	if parentVal, err := s.parentValidation(); err != nil {
		s.opts.logf("parent validation split unavailable: %v", err)
	} else if err := add("parent_val", parentVal); err != nil {
		return err
	}
	if err := s.run.LogMetrics(step, metrics); err != nil {
		return err
	}
	return s.logSample(int(step))
}

// parentValidation re-reads the parent's corpus (refusing a changed one) and returns its validation
// split in the child's vocabulary.
func (s *session) parentValidation() ([]int32, error) {
	if s.parent == nil {
		return nil, fmt.Errorf("no parent")
	}
	corpus, err := loadRunCorpus(s.parent.rec, s.parent.info, s.opts.DataDir, false, "")
	if err != nil {
		return nil, err
	}
	m := s.trainer.Model
	vocab := m.Vocab
	ids, err := vocab.Encode(corpus.Text)
	if err != nil {
		return nil, err
	}
	pc := s.parent.rec.Config
	_, val, _, err := text.Split(ids, pc.ValFrac, pc.TestFrac)
	return val, err
}
