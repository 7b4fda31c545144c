package lstm

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/lstmlab/lstmlab/lstm/safetensors"
	"github.com/lstmlab/lstmlab/lstm/text"
)

// A checkpoint is one safetensors file holding every variable of the model's Store — weights,
// optimizer moments, the dropout RNG state — plus the carried training state h and c, with the config,
// vocabulary, training position, owner and a checksum in its metadata. It is everything needed to
// resume training exactly or to generate, in a format any safetensors reader can open.
//
// Format version 2 adds the owner (the identity of the run the file belongs to, opaque to this
// package) and a checksum over the metadata as well as the tensors, so an edited config, vocabulary,
// step or owner is detected like damaged weights. Version 1 files (checksum over the tensors only, no
// owner) still load.
const (
	checkpointFormat  = "lstmlab-checkpoint"
	checkpointVersion = 2
	carriedHPath      = "/train/h"
	carriedCPath      = "/train/c"
)

// ErrCorruptCheckpoint is wrapped by every error about a checkpoint's content.
var ErrCorruptCheckpoint = errors.New("corrupt or incompatible checkpoint")

var dtypeNames = map[dtypes.DType]string{
	dtypes.Float32: "F32", dtypes.Float64: "F64", dtypes.Int32: "I32", dtypes.Int64: "I64",
	dtypes.Uint64: "U64", dtypes.Uint8: "U8", dtypes.Bool: "BOOL",
}

func tensorToSafetensors(t *tensors.Tensor) (safetensors.Tensor, error) {
	name, ok := dtypeNames[t.DType()]
	if !ok {
		return safetensors.Tensor{}, fmt.Errorf("dtype %s not supported in checkpoints", t.DType())
	}
	var data []byte
	if err := t.ConstBytes(func(b []byte) { data = append([]byte(nil), b...) }); err != nil {
		return safetensors.Tensor{}, err
	}
	return safetensors.Tensor{DType: name, Shape: t.Shape().Dimensions, Data: data}, nil
}

func tensorFromSafetensors(st safetensors.Tensor) (*tensors.Tensor, error) {
	for dt, name := range dtypeNames {
		if name == st.DType {
			t := tensors.FromShape(shapes.Make(dt, st.Shape...))
			if err := t.MutableBytes(func(b []byte) { copy(b, st.Data) }); err != nil {
				return nil, err
			}
			return t, nil
		}
	}
	return nil, fmt.Errorf("dtype %s not supported", st.DType)
}

// Checkpoint is a loaded checkpoint: the model, and the training state when it was saved by a Trainer.
type Checkpoint struct {
	Model *Model
	State *TrainState     // nil for a weights-only save
	H, C  *tensors.Tensor // carried state at save time (nil for a weights-only save)
	// Owner is the identity the file was saved with (SaveOwned, SaveCheckpointOwned); "" when none
	// (Save, SaveCheckpoint, or a format version 1 file).
	Owner string
	// Version is the file's format version (1 or 2).
	Version int
}

// Save writes the model (weights, optimizer state, RNG state, config, vocabulary) to path atomically.
func (m *Model) Save(path string) error { return m.save(path, "", nil, nil, nil) }

// SaveOwned is Save with an owner: an identity (say a run's UUID) stored in the metadata, covered by
// the checksum, and returned by Load as Checkpoint.Owner, so a caller can refuse a file that belongs
// to something else.
func (m *Model) SaveOwned(path, owner string) error { return m.save(path, owner, nil, nil, nil) }

// SaveCheckpoint writes everything needed to resume this training run exactly to path, atomically.
func (t *Trainer) SaveCheckpoint(path string) error { return t.SaveCheckpointOwned(path, "") }

// SaveCheckpointOwned is SaveCheckpoint with an owner (see SaveOwned).
func (t *Trainer) SaveCheckpointOwned(path, owner string) error {
	return t.Model.save(path, owner, &t.State, t.h, t.c)
}

// metadataChecksum is the format 2 checksum: SHA-256 over every metadata entry but the checksum
// itself (key and value, in key order, length-prefixed so no two different maps hash alike) followed
// by the tensors' checksum.
func metadataChecksum(meta map[string]string, tensors map[string]safetensors.Tensor) string {
	keys := make([]string, 0, len(meta))
	for k := range meta {
		if k != "checksum" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, k := range keys {
		fmt.Fprintf(h, "%d:%s%d:%s", len(k), k, len(meta[k]), meta[k])
	}
	h.Write([]byte(safetensors.Checksum(tensors)))
	return hex.EncodeToString(h.Sum(nil))
}

func (m *Model) save(path, owner string, state *TrainState, h, c *tensors.Tensor) error {
	f := &safetensors.File{Metadata: map[string]string{}, Tensors: map[string]safetensors.Tensor{}}
	add := func(name string, t *tensors.Tensor) error {
		st, err := tensorToSafetensors(t)
		if err != nil {
			return fmt.Errorf("save %s: %s: %w", path, name, err)
		}
		f.Tensors[name] = st
		return nil
	}
	for v := range m.Store.IterVariables() {
		val, err := v.Value()
		if err != nil {
			return fmt.Errorf("save %s: read %s: %w", path, v.Path(), err)
		}
		if err := add(v.Path(), val); err != nil {
			return err
		}
	}
	cfgJSON, err := json.Marshal(m.Config)
	if err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	vocabJSON, err := json.Marshal(m.Vocab)
	if err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	f.Metadata["format"] = checkpointFormat
	f.Metadata["format_version"] = strconv.Itoa(checkpointVersion)
	f.Metadata["config"] = string(cfgJSON)
	f.Metadata["vocab"] = string(vocabJSON)
	if state != nil {
		if err := add(carriedHPath, h); err != nil {
			return err
		}
		if err := add(carriedCPath, c); err != nil {
			return err
		}
		s := *state
		if math.IsInf(s.BestVal, 1) { // JSON has no infinity
			s.BestVal = -1
		}
		stateJSON, err := json.Marshal(s)
		if err != nil {
			return fmt.Errorf("save %s: %w", path, err)
		}
		f.Metadata["state"] = string(stateJSON)
	}
	if owner != "" {
		f.Metadata["owner"] = owner
	}
	f.Metadata["checksum"] = metadataChecksum(f.Metadata, f.Tensors)
	if err := safetensors.WriteFile(path, f); err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	return nil
}

// Load reads a checkpoint written by Save or SaveCheckpoint onto backend. A truncated, corrupt or
// foreign file is an error wrapping ErrCorruptCheckpoint, naming what is wrong.
func Load(path string, backend compute.Backend) (*Checkpoint, error) {
	f, err := safetensors.ReadFile(path)
	if err != nil {
		if errors.Is(err, safetensors.ErrCorrupt) {
			return nil, fmt.Errorf("load checkpoint: %w (%w)", err, ErrCorruptCheckpoint)
		}
		return nil, fmt.Errorf("load checkpoint: %w", err)
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("load checkpoint %s: %w: %s", path, ErrCorruptCheckpoint, fmt.Sprintf(format, args...))
	}
	if f.Metadata["format"] != checkpointFormat {
		return nil, bad("not an lstmlab checkpoint (format %q)", f.Metadata["format"])
	}
	version, _ := strconv.Atoi(f.Metadata["format_version"])
	switch version {
	case 1:
		if sum := safetensors.Checksum(f.Tensors); sum != f.Metadata["checksum"] {
			return nil, bad("checksum mismatch: the tensor data was modified or damaged")
		}
	case checkpointVersion:
		if sum := metadataChecksum(f.Metadata, f.Tensors); sum != f.Metadata["checksum"] {
			return nil, bad("checksum mismatch: the tensors or the metadata (config, vocabulary, training position, owner) were modified or damaged")
		}
	default:
		return nil, bad("format version %q, this lstmlab reads 1 to %d", f.Metadata["format_version"], checkpointVersion)
	}
	var cfg Config
	if err := json.Unmarshal([]byte(f.Metadata["config"]), &cfg); err != nil {
		return nil, bad("config: %v", err)
	}
	if err := cfg.Validate(); err != nil {
		return nil, bad("config: %v", err)
	}
	vocab := &text.Vocab{}
	if err := json.Unmarshal([]byte(f.Metadata["vocab"]), vocab); err != nil {
		return nil, bad("vocabulary: %v", err)
	}
	if err := checkVocab(cfg, vocab); err != nil {
		return nil, bad("%v", err)
	}
	m := &Model{Config: cfg, Vocab: vocab, Backend: backend, Store: model.NewStore(), HandGrad: true}
	ck := &Checkpoint{Model: m, Owner: f.Metadata["owner"], Version: version}
	for name, st := range f.Tensors {
		t, err := tensorFromSafetensors(st)
		if err != nil {
			return nil, bad("tensor %s: %v", name, err)
		}
		switch name {
		case carriedHPath:
			ck.H = t
		case carriedCPath:
			ck.C = t
		default:
			v, err := m.Store.CreateVariable(name, t)
			if err != nil {
				return nil, bad("variable %s: %v", name, err)
			}
			if strings.HasPrefix(name, optimizerScope+"/") || strings.Contains(name, model.RNGStateVariableName) {
				v.SetTrainable(false)
			}
		}
	}
	// Every parameter the config implies must be there with its shape.
	for _, p := range paramSpecs(cfg, vocab.Size()) {
		v := m.Store.GetVariable(p.Path)
		if v == nil {
			return nil, bad("parameter %s missing", p.Path)
		}
		if got := v.Shape().Dimensions; fmt.Sprint(got) != fmt.Sprint(p.Dims) {
			return nil, bad("parameter %s has shape %v, config implies %v", p.Path, got, p.Dims)
		}
	}
	if s, ok := f.Metadata["state"]; ok {
		var state TrainState
		if err := json.Unmarshal([]byte(s), &state); err != nil {
			return nil, bad("training state: %v", err)
		}
		if state.BestVal < 0 {
			state.BestVal = math.Inf(1)
		}
		want := m.stateShape(cfg.BatchSize)
		if ck.H == nil || ck.C == nil || !ck.H.Shape().Equal(want) || !ck.C.Shape().Equal(want) {
			return nil, bad("carried state missing or not %s", want)
		}
		ck.State = &state
	}
	return ck, nil
}

// ResumeTrainer continues training from a checkpoint saved by SaveCheckpoint: same step, data position,
// carried state, optimizer moments and RNG, so the following losses are those of an uninterrupted run.
func ResumeTrainer(ck *Checkpoint, train, val []int32, frozen []string) (*Trainer, error) {
	if ck.State == nil {
		return nil, fmt.Errorf("resume: checkpoint holds weights only, no training state")
	}
	t, err := NewTrainer(ck.Model, train, val, frozen)
	if err != nil {
		return nil, err
	}
	t.State = *ck.State
	t.h, t.c = ck.H, ck.C
	return t, nil
}
