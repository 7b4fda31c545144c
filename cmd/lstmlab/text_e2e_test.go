package main

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lstmlab/lstmlab/experiments"
	"github.com/lstmlab/lstmlab/tracker"
)

// writeFile writes content to dir/name and returns the path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// warned runs a command that must succeed with exactly one warning line on stderr mentioning every want.
func (c *cli) warned(want []string, args ...string) string {
	c.t.Helper()
	out, errOut, code := c.run(args...)
	lines := strings.Split(strings.TrimSpace(errOut), "\n")
	if code != 0 || len(lines) != 1 || !strings.HasPrefix(lines[0], "warning: ") {
		c.t.Fatalf("lstmlab %s: exit %d, stderr %q; want success and one warning line", strings.Join(args, " "), code, errOut)
	}
	for _, w := range want {
		if !strings.Contains(lines[0], w) {
			c.t.Fatalf("lstmlab %s: warning %q lacks %q", strings.Join(args, " "), lines[0], w)
		}
	}
	return out
}

// TestCLIAnyTextIn drives eval --data and generate --prompt with text the runs never saw, at character,
// grapheme and word level: unseen tokens are read as <unk> with one warning line, the scores report the OOV
// rate and name bits per token by level, short texts behave, NFC and NFD spellings score alike, and the CLI's
// figures are the library's.
func TestCLIAnyTextIn(t *testing.T) {
	dir := t.TempDir()
	c := &cli{t: t, db: filepath.Join(dir, "lab.db"), dir: dir}
	sea := generatedText(t, dir, "sea.txt", 1, append(seaWords, "café", "naïve"))
	train := func(name, data string, sets ...string) {
		args := append([]string{"train", "--preset", "tiny", "--data", data, "--name", name, "-q"}, strings.Fields(tinyTrain)...)
		for _, s := range sets {
			args = append(args, "--set", s)
		}
		c.ok(args...)
	}

	// Character level.
	train("chars", sea)
	unseen := writeFile(t, dir, "unseen.txt", "the whale ate ç and # = ç\n")
	ev := decode(t, c.warned([]string{"characters not in the vocabulary", `"ç"`, `"#"`, "<unk>"},
		"eval", "chars", "--data", unseen, "--format", "json"))
	r := ev["result"].(map[string]any)
	if r["unit"] != "char" || r["oov"].(float64) != 4 || r["tokens"].(float64) != 25 || r["streams"].(float64) != 1 {
		t.Fatalf("eval of unseen characters: %v", r)
	}
	line := c.warned([]string{"ç"}, "eval", "chars", "--data", unseen)
	for _, want := range []string{"25 characters scored", "oov 16.00% (4)", "bpc ", "in-vocabulary: loss"} {
		if !strings.Contains(line, want) {
			t.Errorf("eval line %q lacks %q", line, want)
		}
	}
	// The CLI's figures are the library's Score of the same text.
	db, err := tracker.Open(c.db)
	if err != nil {
		t.Fatal(err)
	}
	m, _, err := experiments.LoadRunModel(context.Background(), db, "chars", "go")
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	text, _ := os.ReadFile(unseen)
	score, err := m.Score(string(text))
	if err != nil || math.Abs(score.Loss-r["loss"].(float64)) > 1e-4 || score.OOV != 4 {
		t.Errorf("library Score %+v (%v); eval --data loss %v", score.EvalResult, err, r["loss"])
	}
	// Short texts: one token has nothing to predict; two tokens and a text under one window are scored whole.
	c.fails("nothing to predict", "eval", "chars", "--data", writeFile(t, dir, "one.txt", "a"))
	two := decode(t, c.ok("eval", "chars", "--data", writeFile(t, dir, "two.txt", "ah"), "--format", "json"))
	short := decode(t, c.ok("eval", "chars", "--data", writeFile(t, dir, "short.txt", "the whale."), "--format", "json"))
	if two["result"].(map[string]any)["tokens"].(float64) != 1 || short["result"].(map[string]any)["tokens"].(float64) != 9 {
		t.Errorf("short texts: %v, %v", two["result"], short["result"])
	}
	// NFC and NFD spellings are the same text.
	nfc := decode(t, c.ok("eval", "chars", "--data", writeFile(t, dir, "nfc.txt", "the café was naïve\n"), "--format", "json"))
	nfd := decode(t, c.ok("eval", "chars", "--data", writeFile(t, dir, "nfd.txt", "the cafe\u0301 was nai\u0308ve\n"), "--format", "json"))
	if nfc["result"].(map[string]any)["loss"] != nfd["result"].(map[string]any)["loss"] {
		t.Errorf("NFC %v and NFD %v spellings scored differently", nfc["result"], nfd["result"])
	}
	// A prompt with unseen characters: a warning, then text.
	g := decode(t, c.warned([]string{"1 character not in the vocabulary", `"ç"`}, "generate", "chars", "--prompt", "the ç", "--length", "20", "--format", "json"))
	if g["text"] == "" || len(g["prompt_unseen"].([]any)) != 1 {
		t.Errorf("generate with an unseen prompt character: %v", g)
	}

	// Grapheme level: an accented letter, a flag and a skin-toned emoji are one token each.
	emoji := generatedText(t, dir, "emoji.txt", 2, append(seaWords, "👍🏽", "🇫🇷", "cafe\u0301", "👩‍👩‍👧"))
	train("graphemes", emoji, "level=grapheme")
	ev = decode(t, c.warned([]string{"1 grapheme not in the vocabulary", "👍🏿"},
		"eval", "graphemes", "--data", writeFile(t, dir, "g.txt", "the whale 👍🏽 👍🏿 🇫🇷 café\n"), "--format", "json"))
	if r := ev["result"].(map[string]any); r["unit"] != "grapheme" || r["oov"].(float64) != 1 || r["tokens"].(float64) != 20 {
		t.Errorf("grapheme eval: %v", r)
	}
	c.warned([]string{"grapheme", "🇯🇵"}, "generate", "graphemes", "--prompt", "the 🇯🇵 ", "--length", "10")
	if metrics := c.ok("runs", "--format", "csv"); !strings.Contains(metrics, "val_bpg") || !strings.Contains(metrics, "val_bpc") {
		t.Errorf("runs: want val_bpc (chars) and val_bpg (graphemes) columns:\n%s", metrics)
	}

	// Word level: text that is mostly out-of-vocabulary shows its OOV rate beside perplexity.
	train("words", sea, "level=word", "min_freq=2", "seq_len=16")
	mostly := writeFile(t, dir, "unknown.txt", "the zorblat quenched vermilion sphinxes oxygen jubilee quaffing zeppelins whale .")
	line = c.warned([]string{"words not in the vocabulary", `"zorblat"`}, "eval", "words", "--data", mostly)
	for _, want := range []string{"perplexity", "oov 80.00% (8)", "bpw ", "in-vocabulary:"} {
		if !strings.Contains(line, want) {
			t.Errorf("word eval line %q lacks %q", line, want)
		}
	}
	if strings.Contains(line, "bpc") {
		t.Errorf("word eval line %q calls bits per word bpc", line)
	}
	c.warned([]string{"1 word not in the vocabulary", `"zorblat"`}, "generate", "words", "--prompt", "the zorblat", "--length", "5")

	// Normalization can be turned off; the run records it.
	train("raw", sea, "normalize=none")
	shown := c.ok("runs", "--format", "json")
	if !strings.Contains(shown, `"normalize": "none"`) && !strings.Contains(shown, `"normalize":"none"`) {
		t.Errorf("runs do not record normalize=none:\n%s", shown)
	}
	c.fails("normalize", "train", "--preset", "tiny", "--data", sea, "--set", "normalize=nfkc")
}
