package lstm

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	"github.com/rivo/uniseg"

	"github.com/lstmlab/lstmlab/lstm/safetensors"
	"github.com/lstmlab/lstmlab/lstm/text"
)

// mixedScriptCorpus builds text with what code points get wrong: accents (half of them decomposed), Devanagari and
// Thai combining marks, skin-tone modifiers, ZWJ emoji sequences and flags, among plain words.
func mixedScriptCorpus(lines int) string {
	rng := rand.New(rand.NewPCG(12, 34))
	pieces := []string{
		"café", "cafe\u0301", "crème", "cre\u0300me", "naïve", "résumé", "Ångström", "São", "Zoë",
		"नमस्ते", "हिन्दी", "दुनिया", "किताब", "สวัสดี", "ภาษาไทย", "น้ำ", "ครับ",
		"👍🏽", "👋🏿", "🧑🏻‍🚀", "👩‍👩‍👧", "👨‍💻", "🏳️‍🌈", "❤️", "🇫🇷", "🇯🇵", "🇧🇷", "🇮🇳",
		"the", "whale", "sea", "and", ",", ".", "!",
	}
	var b strings.Builder
	for range lines {
		for range 5 + rng.IntN(6) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
			b.WriteByte(' ')
		}
		b.WriteString("\n")
	}
	return b.String()
}

// brokenSites counts the grapheme clusters of s that start with what should never stand alone: a combining mark,
// a zero-width joiner, an emoji skin-tone modifier, a variation selector or a lone regional indicator (half a
// flag). It is checked with rivo/uniseg, independently of how lstmlab tokenizes.
func brokenSites(s string) int {
	n := 0
	state := -1
	for s != "" {
		var cluster string
		cluster, s, _, state = uniseg.FirstGraphemeClusterInString(s, state)
		r := []rune(cluster)
		switch first := r[0]; {
		case unicode.In(first, unicode.Mn, unicode.Mc, unicode.Me), first == '\u200d',
			first >= 0x1F3FB && first <= 0x1F3FF, first >= 0xFE00 && first <= 0xFE0F,
			len(r) == 1 && first >= 0x1F1E6 && first <= 0x1F1FF:
			n++
		}
	}
	return n
}

// sampleTokens generates n tokens at temperature 1 (no prompt) and returns the text and each token's text.
func sampleTokens(t *testing.T, m *Model, n int) (string, []string) {
	t.Helper()
	trace, out, err := m.GenerateTrace(SampleOptions{Length: n, Temperature: 1, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	pieces := make([]string, len(trace))
	for i, g := range trace {
		pieces[i] = m.Vocab.Decode([]int32{g.ID})
	}
	if strings.Join(pieces, "") != out {
		t.Fatal("the generated text is not its tokens concatenated")
	}
	return out, pieces
}

// TestGraphemeSamplingNeverSplitsClusters samples 10 000 grapheme tokens from a model trained briefly on a
// mixed-script corpus: no cluster of the text is a lone combining mark, joiner, modifier or half flag, and every
// cluster boundary is a token boundary (no token was split). The same corpus at character level does produce
// broken sites, so the check can fail.
func TestGraphemeSamplingNeverSplitsClusters(t *testing.T) {
	corpus := mixedScriptCorpus(300)
	for _, level := range []text.Level{text.Grapheme, text.Char} {
		v, err := text.BuildVocab(corpus, text.VocabOptions{Level: level, MinFreq: 1})
		if err != nil {
			t.Fatal(err)
		}
		m := samplingModel(t, v)
		ids, _ := v.Encode(corpus)
		m.Config.BatchSize, m.Config.SeqLen, m.Config.Steps = 4, 32, 30
		tr, err := NewTrainer(m, ids, ids[:300], nil)
		if err != nil {
			t.Fatal(err)
		}
		trainLosses(t, tr)
		n := 10_000
		if level == text.Char {
			n = 3_000
		}
		out, pieces := sampleTokens(t, m, n)
		broken := brokenSites(out)
		if level == text.Char {
			if broken == 0 {
				t.Errorf("char level: no broken site in %d sampled characters; the check cannot fail", n)
			}
			t.Logf("char level: %d broken sites in %d sampled characters", broken, n)
			continue
		}
		if broken != 0 {
			t.Errorf("grapheme level: %d broken sites in %d sampled tokens", broken, n)
		}
		tokenEnds := map[int]bool{}
		end := 0
		for _, p := range pieces {
			end += len(p)
			tokenEnds[end] = true
		}
		end = 0
		for _, cluster := range text.Graphemes(out) {
			end += len(cluster)
			if !tokenEnds[end] {
				t.Fatalf("grapheme level: a cluster ends at byte %d inside a token: %q", end, out[max(0, end-20):end])
			}
		}
	}
}

// TestGraphemeLevelTrainsScoresSavesAndExports runs the grapheme level through the paths the character level
// takes: training, scoring (with an unseen cluster), save and load, and export.
func TestGraphemeLevelTrainsScoresSavesAndExports(t *testing.T) {
	corpus := mixedScriptCorpus(200)
	cfg := DefaultConfig()
	cfg.Level, cfg.MinFreq = "grapheme", 2
	cfg.EmbedDim, cfg.Hidden, cfg.Layers, cfg.BatchSize, cfg.SeqLen, cfg.Steps, cfg.EvalEvery, cfg.LR = 8, 32, 1, 4, 16, 40, 20, 1e-2
	v, err := text.BuildVocab(corpus, cfg.VocabOptions())
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(cfg, v, testBackend(t))
	if err != nil {
		t.Fatal(err)
	}
	ids, _ := v.Encode(corpus)
	train, val, _, err := text.Split(ids, 0.1, 0)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := NewTrainer(m, train, val, nil)
	if err != nil {
		t.Fatal(err)
	}
	var last *EvalResult
	if _, err := tr.Run(t.Context(), func(ev Event) error {
		if ev.Kind == EventEval {
			last = ev.Val
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if last == nil || last.Level != text.Grapheme || last.BitsName() != "bpg" || last.Metrics("val")["val_bpg"] != last.BitsPerToken {
		t.Fatalf("validation result %+v: want grapheme figures named bpg", last)
	}
	res, err := m.Score("cafe\u0301 👍🏽 🧑🏿‍🚀 🇫🇷")
	if err != nil {
		t.Fatal(err)
	}
	if res.Tokens != 9 || res.Unseen.Count != 1 || res.Unseen.Tokens[0] != "🧑🏿‍🚀" || res.OOV != 1 || res.Chars != 14 {
		t.Errorf("grapheme score: %d tokens, unseen %+v, OOV %d, %d characters", res.Tokens, res.Unseen, res.OOV, res.Chars)
	}
	path := filepath.Join(t.TempDir(), "g.safetensors")
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	ck, err := Load(path, testBackend(t))
	if err != nil {
		t.Fatal(err)
	}
	again, err := ck.Model.Score("cafe\u0301 👍🏽 🧑🏿‍🚀 🇫🇷")
	if err != nil || math.Abs(again.LogProb-res.LogProb) > 1e-6 || ck.Model.Vocab.Level() != text.Grapheme {
		t.Errorf("after save and load: %v, log p %g vs %g", err, again.LogProb, res.LogProb)
	}
	export := filepath.Join(t.TempDir(), "g-export.safetensors")
	if err := m.ExportPyTorch(export); err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.ReadFile(export)
	if err != nil {
		t.Fatal(err)
	}
	var exported text.Vocab
	if err := json.Unmarshal([]byte(f.Metadata["vocab"]), &exported); err != nil || exported.Level() != text.Grapheme ||
		exported.Size() != v.Size() {
		t.Errorf("exported vocabulary: %v, level %s, size %d", err, exported.Level(), exported.Size())
	}
}

// TestNormalizationIsRecordedAndCheckedOnLoad: NFD and NFC spellings score the same under an NFC model, the
// setting survives save and load, a checkpoint from before the key reads as "none", and a config that disagrees
// with its vocabulary is rejected.
func TestNormalizationIsRecordedAndCheckedOnLoad(t *testing.T) {
	corpus := strings.Repeat("le café crème est très bon. ", 10)
	m, _ := tinyModel(t, corpus, nil)
	if m.Config.Normalize != "nfc" || m.Vocab.Normalization() != text.NFC {
		t.Fatalf("default normalization: config %q, vocabulary %q", m.Config.Normalize, m.Vocab.Normalization())
	}
	nfc, err := m.Score("le café crème")
	if err != nil {
		t.Fatal(err)
	}
	nfd, err := m.Score("le cafe\u0301 cre\u0300me")
	if err != nil || nfd.Unseen.Count != 0 || math.Abs(nfd.LogProb-nfc.LogProb) > 1e-9 {
		t.Errorf("NFD spelling: %v, unseen %v, log p %g vs NFC %g", err, nfd.Unseen, nfd.LogProb, nfc.LogProb)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "m.safetensors")
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	ck, err := Load(path, testBackend(t))
	if err != nil || ck.Model.Config.Normalize != "nfc" || ck.Model.Vocab.Normalization() != text.NFC {
		t.Fatalf("reloaded: %v", err)
	}
	// rewrite saves a copy of the checkpoint with its config and vocabulary metadata edited: as a format 1 file
	// (checksum over the tensors only, as lstmlab wrote before the normalize key existed) when old is true.
	rewrite := func(name string, old bool, edit func(cfg, vocab map[string]any)) string {
		f, err := safetensors.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var cfg, vocab map[string]any
		if json.Unmarshal([]byte(f.Metadata["config"]), &cfg) != nil || json.Unmarshal([]byte(f.Metadata["vocab"]), &vocab) != nil {
			t.Fatal("metadata is not JSON")
		}
		edit(cfg, vocab)
		c, _ := json.Marshal(cfg)
		v, _ := json.Marshal(vocab)
		f.Metadata["config"], f.Metadata["vocab"] = string(c), string(v)
		f.Metadata["checksum"] = metadataChecksum(f.Metadata, f.Tensors)
		if old {
			f.Metadata["format_version"], f.Metadata["checksum"] = "1", safetensors.Checksum(f.Tensors)
		}
		out := filepath.Join(dir, name)
		if err := safetensors.WriteFile(out, f); err != nil {
			t.Fatal(err)
		}
		return out
	}
	old := rewrite("old.safetensors", true, func(cfg, vocab map[string]any) { delete(cfg, "normalize"); delete(vocab, "normalize") })
	ck, err = Load(old, testBackend(t))
	if err != nil || ck.Model.Config.Normalize != "none" || ck.Model.Vocab.Normalization() != text.NoNormalization {
		t.Fatalf("checkpoint without the key: %v", err)
	}
	if res, err := ck.Model.Score("le cafe\u0301"); err != nil || res.Unseen.Count != 1 || res.Unseen.Tokens[0] != "\u0301" {
		t.Errorf("un-normalised model: the decomposed accent should be unseen: %v %+v", err, res.Unseen)
	}
	mixed := rewrite("mixed.safetensors", false, func(cfg, _ map[string]any) { cfg["normalize"] = "none" })
	if _, err := Load(mixed, testBackend(t)); err == nil || !strings.Contains(err.Error(), "normalize") {
		t.Errorf("config and vocabulary disagreeing on normalization: %v", err)
	}
}

// TestWordModelOOVOnMostlyUnknownText: a word model scored on text that is almost all out-of-vocabulary reports
// its OOV count and rate (far above its own validation split's) and its loss over the in-vocabulary tokens.
func TestWordModelOOVOnMostlyUnknownText(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	common := strings.Fields("the whale ship sea captain and a of to")
	made := func() string { // a made-up word: seen once, so <unk> under min_freq 2
		var b strings.Builder
		for range 4 + rng.IntN(4) {
			b.WriteByte(byte('a' + rng.IntN(26)))
		}
		return b.String()
	}
	var b strings.Builder
	for range 1200 {
		for range 6 {
			if rng.IntN(3) == 0 {
				b.WriteString(made() + " ")
			} else {
				b.WriteString(common[rng.IntN(len(common))] + " ")
			}
		}
		b.WriteString(".\n")
	}
	corpus := b.String()
	cfg := DefaultConfig()
	cfg.Level, cfg.MinFreq = "word", 2
	cfg.EmbedDim, cfg.Hidden, cfg.Layers, cfg.BatchSize, cfg.SeqLen, cfg.Steps, cfg.EvalEvery, cfg.LR = 16, 32, 1, 8, 16, 200, 100, 1e-2
	v, err := text.BuildVocab(corpus, cfg.VocabOptions())
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(cfg, v, testBackend(t))
	if err != nil {
		t.Fatal(err)
	}
	ids, _ := v.Encode(corpus)
	train, val, _, _ := text.Split(ids, 0.1, 0)
	tr, err := NewTrainer(m, train, val, nil)
	if err != nil {
		t.Fatal(err)
	}
	trainLosses(t, tr)
	own, err := m.Evaluate(val)
	if err != nil {
		t.Fatal(err)
	}
	var u strings.Builder
	unknown, total := 0, 0
	for i := range 300 {
		w := made() + "q" // made-up words the corpus never had
		if i%10 == 0 {
			w = "the"
		} else {
			unknown++
		}
		u.WriteString(w + " ")
		total++
	}
	mostlyUnknown := u.String()
	res, err := m.Score(mostlyUnknown)
	if err != nil {
		t.Fatal(err)
	}
	wantOOV := unknown // the first word is context, and it is "the"
	if res.Tokens != total-1 || res.OOV != wantOOV || math.Abs(res.OOVRate-float64(wantOOV)/float64(total-1)) > 1e-12 {
		t.Errorf("OOV %d of %d (rate %g), want %d of %d", res.OOV, res.Tokens, res.OOVRate, wantOOV, total-1)
	}
	if !(res.OOVRate > 0.85 && own.OOVRate < 0.5) {
		t.Errorf("OOV rate %g on the unknown text, %g on the model's own validation split", res.OOVRate, own.OOVRate)
	}
	var known, knownNLL float64
	for _, ts := range res.PerToken {
		if !ts.Unknown {
			known++
			knownNLL -= ts.LogProb
		}
	}
	if known != float64(total-1-wantOOV) || math.Abs(res.InVocabLoss-knownNLL/known) > 1e-9 {
		t.Errorf("in-vocabulary loss %g over %d tokens, want %g over %g", res.InVocabLoss, res.Tokens-res.OOV, knownNLL/known, known)
	}
	t.Logf("mostly unknown text: perplexity %.1f, in-vocabulary %.1f, OOV %.0f%%; own validation split: %.1f, %.1f, %.0f%%",
		res.Perplexity, res.InVocabPerplexity, 100*res.OOVRate, own.Perplexity, own.InVocabPerplexity, 100*own.OOVRate)
}
