package text

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
)

const unicodeSample = "Café naïve — “quoted” 我喜欢吃苹果。\nEmoji: 🐳🙂 e\u0301 Œ η\n"

func TestParseLevel(t *testing.T) {
	for _, s := range []string{"char", "grapheme", "word"} {
		if l, err := ParseLevel(s); err != nil || string(l) != s {
			t.Errorf("ParseLevel(%q) = %q, %v", s, l, err)
		}
	}
	if _, err := ParseLevel("bpe"); err == nil || !strings.Contains(err.Error(), "bpe") {
		t.Errorf("ParseLevel(bpe) error = %v, want one naming it", err)
	}
}

func TestCharVocabUnicodeRoundTrip(t *testing.T) {
	v, err := BuildCharVocab(unicodeSample)
	if err != nil {
		t.Fatal(err)
	}
	if v.Level() != Char {
		t.Errorf("level %q", v.Level())
	}
	// NFC: the decomposed "e\u0301" of the sample is the precomposed "é", so U+0301 is no token of its own.
	nfc := strings.ReplaceAll(unicodeSample, "e\u0301", "é")
	if want := len(distinctRunes(nfc)) + 1; v.Size() != want {
		t.Errorf("size %d, want %d distinct runes and <unk>", v.Size(), want)
	}
	for _, tok := range []string{"苹", "é", "—", "🐳", "\n"} {
		if _, ok := v.ID(tok); !ok {
			t.Errorf("single-rune token %q missing", tok)
		}
	}
	if _, ok := v.ID("\u0301"); ok {
		t.Error("NFC vocabulary holds a lone combining acute")
	}
	tokens := v.Tokens()
	if tokens[0] != UnkToken || !slices.IsSortedFunc(tokens[1:], func(a, b string) int { return int([]rune(a)[0] - []rune(b)[0]) }) {
		t.Errorf("char tokens not <unk> then code point order: %q", tokens)
	}
	ids, err := v.Encode(unicodeSample)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != len([]rune(nfc)) {
		t.Errorf("%d ids for %d runes", len(ids), len([]rune(nfc)))
	}
	if got := v.Decode(ids); got != nfc {
		t.Errorf("round trip: got %q, want %q", got, nfc)
	}
	if unk, ok := v.UnkID(); !ok || unk != 0 {
		t.Errorf("char vocabulary <unk> id %d, %v; want 0, true", unk, ok)
	}
}

func distinctRunes(s string) map[rune]bool {
	set := map[rune]bool{}
	for _, r := range s {
		set[r] = true
	}
	return set
}

func TestCharVocabIsDeterministic(t *testing.T) {
	a, _ := BuildCharVocab("zebra apple 苹果")
	b, _ := BuildCharVocab("果苹 elppa arbez")
	if !slices.Equal(a.Tokens(), b.Tokens()) {
		t.Errorf("same characters gave different vocabularies: %q vs %q", a.Tokens(), b.Tokens())
	}
}

func TestEncodeUnknownCharacter(t *testing.T) {
	v, err := BuildCharVocab("abc\nabc")
	if err != nil {
		t.Fatal(err)
	}
	ids, unseen, err := v.EncodeUnseen("ab\ncaéé#")
	if err != nil {
		t.Fatal(err)
	}
	if a, _ := v.ID("a"); !slices.Equal(ids[4:], []int32{a, 0, 0, 0}) {
		t.Errorf("ids %v: unseen characters should be <unk> (0)", ids)
	}
	if unseen.Count != 3 || !slices.Equal(unseen.Tokens, []string{"é", "#"}) {
		t.Errorf("unseen %+v, want 3 occurrences of é, #", unseen)
	}
	if got := unseen.String(); !strings.Contains(got, "3 characters") || !strings.Contains(got, `"é", "#"`) ||
		!strings.Contains(got, UnkToken) {
		t.Errorf("unseen summary %q", got)
	}
	if _, none, _ := v.EncodeUnseen("abc"); none.Count != 0 || none.String() != "" {
		t.Errorf("known text reported unseen %+v", none)
	}

	// A character vocabulary saved before <unk> was reserved cannot read unseen characters: a clear error.
	var old Vocab
	if err := json.Unmarshal([]byte(`{"level":"char","tokens":["\n","a","b","c"]}`), &old); err != nil {
		t.Fatal(err)
	}
	_, err = old.Encode("ab\ncaé")
	if !errors.Is(err, ErrUnknownToken) {
		t.Fatalf("error %v does not wrap ErrUnknownToken", err)
	}
	for _, want := range []string{`"é"`, "U+00E9", "character 6", "line 2, column 3", "no <unk>"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	v = &old
	unk := v.AddUnk()
	if unk != 4 || v.Size() != 5 || v.AddUnk() != unk {
		t.Errorf("AddUnk gave id %d, size %d; want 4, 5 and the same id again", unk, v.Size())
	}
	ids, err = v.Encode("aé")
	if err != nil {
		t.Fatal(err)
	}
	if a, _ := v.ID("a"); !slices.Equal(ids, []int32{a, unk}) {
		t.Errorf("ids %v, want [%d %d]", ids, a, unk)
	}
	if got := v.Decode(ids); got != "a\uFFFD" {
		t.Errorf("decode of <unk> at char level = %q, want a + U+FFFD", got)
	}
}

func TestInvalidUTF8Rejected(t *testing.T) {
	bad := "ok\xffno"
	v, _ := BuildCharVocab("okn")
	if _, err := v.Encode(bad); !errors.Is(err, ErrInvalidUTF8) || !strings.Contains(err.Error(), "offset 2") {
		t.Errorf("Encode error = %v", err)
	}
	if _, err := BuildCharVocab(bad); !errors.Is(err, ErrInvalidUTF8) {
		t.Errorf("BuildCharVocab error = %v", err)
	}
	if _, err := BuildWordVocab(bad, 1); !errors.Is(err, ErrInvalidUTF8) {
		t.Errorf("BuildWordVocab error = %v", err)
	}
	if _, err := v.Extend(bad); !errors.Is(err, ErrInvalidUTF8) {
		t.Errorf("Extend error = %v", err)
	}
}

func TestEmptyTextAndBadMinFreq(t *testing.T) {
	if _, err := BuildCharVocab(""); !errors.Is(err, ErrEmpty) {
		t.Errorf("BuildCharVocab(\"\") error = %v", err)
	}
	if _, err := BuildWordVocab(" \n ", 1); !errors.Is(err, ErrEmpty) {
		t.Errorf("BuildWordVocab(blank) error = %v", err)
	}
	if _, err := BuildWordVocab("a b", 0); err == nil || !strings.Contains(err.Error(), "minimum frequency 0") {
		t.Errorf("BuildWordVocab(minFreq 0) error = %v", err)
	}
}

func TestWordVocab(t *testing.T) {
	text := "the whale, the sea.\nthe whale!\nAhab’s leg"
	v, err := BuildWordVocab(text, 2)
	if err != nil {
		t.Fatal(err)
	}
	// the:3, whale:2, \n:2; everything else once.
	if want := []string{UnkToken, "the", "\n", "whale"}; !slices.Equal(v.Tokens(), want) {
		t.Errorf("tokens %q, want %q", v.Tokens(), want)
	}
	if unk, ok := v.UnkID(); !ok || unk != 0 {
		t.Errorf("UnkID = %d, %v; want 0, true", unk, ok)
	}
	ids, err := v.Encode("the sea whale\n")
	if err != nil {
		t.Fatal(err)
	}
	if want := []int32{1, 0, 3, 2}; !slices.Equal(ids, want) {
		t.Errorf("ids %v, want %v", ids, want)
	}
	if got := v.Decode(ids); got != "the <unk> whale\n" {
		t.Errorf("decode %q", got)
	}
	if got := v.Decode([]int32{1, 99, -1}); got != "the <unk> <unk>" {
		t.Errorf("decode of out-of-range ids %q", got)
	}
	if v.MinFreq() != 2 {
		t.Errorf("MinFreq %d", v.MinFreq())
	}
}

func TestWordVocabChineseAndPunctuation(t *testing.T) {
	text := "我 喜欢 吃 苹果。\n你 喜欢 吃 什么？"
	v, err := BuildWordVocab(text, 1)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := v.Encode("我 喜欢 吃 苹果。")
	if err != nil {
		t.Fatal(err)
	}
	var tokens []string
	for _, id := range ids {
		tokens = append(tokens, v.Token(id))
	}
	if want := []string{"我", "喜欢", "吃", "苹果", "。"}; !slices.Equal(tokens, want) {
		t.Errorf("tokens %q, want %q", tokens, want)
	}
	if got := v.Decode(ids); got != "我 喜欢 吃 苹果。" {
		t.Errorf("decode %q", got)
	}
	all, _ := v.Encode(text)
	if got := v.Decode(all); got != text {
		t.Errorf("round trip of %q gave %q", text, got)
	}
}

func TestVocabJSONRoundTrip(t *testing.T) {
	char, _ := BuildCharVocab(unicodeSample)
	word, _ := BuildWordVocab("a b a \"c\".\nd", 1)
	graph, _ := BuildVocab("a b 👍🏽 🇫🇷", VocabOptions{Level: Grapheme, MinFreq: 1, Normalize: NoNormalization})
	for _, v := range []*Vocab{char, word, graph} {
		data, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var back Vocab
		if err := json.Unmarshal(data, &back); err != nil {
			t.Fatalf("unmarshal %s: %v", data, err)
		}
		if back.Level() != v.Level() || !slices.Equal(back.Tokens(), v.Tokens()) || back.MinFreq() != v.MinFreq() ||
			back.Normalization() != v.Normalization() {
			t.Errorf("round trip changed the vocabulary: %s", data)
		}
		unkA, okA := v.UnkID()
		unkB, okB := back.UnkID()
		if unkA != unkB || okA != okB {
			t.Errorf("unk %d,%v became %d,%v", unkA, okA, unkB, okB)
		}
		sample := "a b"
		idsA, errA := v.Encode(sample)
		idsB, errB := back.Encode(sample)
		if errA != nil || errB != nil || !slices.Equal(idsA, idsB) {
			t.Errorf("encodings differ after round trip: %v %v / %v %v", idsA, errA, idsB, errB)
		}
	}
	// A vocabulary saved before normalization existed did not normalise.
	var old Vocab
	if err := json.Unmarshal([]byte(`{"level":"char","tokens":["a","e","\u0301"]}`), &old); err != nil {
		t.Fatal(err)
	}
	if old.Normalization() != NoNormalization || old.MinFreq() != 1 {
		t.Errorf("old vocabulary: normalization %q, min_freq %d; want none, 1", old.Normalization(), old.MinFreq())
	}
	// A value inside a struct marshals too (MarshalJSON has a value receiver).
	wrapped, err := json.Marshal(struct{ V Vocab }{*word})
	if err != nil || !strings.Contains(string(wrapped), `"level":"word"`) {
		t.Errorf("struct with a Vocab value marshalled to %s, %v", wrapped, err)
	}
}

func TestVocabJSONRejectsBadInput(t *testing.T) {
	for _, bad := range []string{
		`{"level":"bpe","tokens":["a"]}`,
		`{"level":"char","tokens":[]}`,
		`{"level":"char","tokens":["a","a"]}`,
		`{"level":"char","tokens":["ab"]}`,
		`{"level":"char","tokens":[""]}`,
		`{"level":"word","tokens":["a","b"],"min_freq":1}`,
		`{"level":"word","tokens":["<unk>","b"]}`,
		`{"level":"char","tokens":`,
		`{"level":"grapheme","tokens":["<unk>","ab"]}`,
		`{"level":"char","tokens":["<unk>","a"],"normalize":"nfkc"}`,
	} {
		var v Vocab
		if err := json.Unmarshal([]byte(bad), &v); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}

func TestExtendKeepsOldIDs(t *testing.T) {
	v, _ := BuildCharVocab("hello world")
	before := v.Tokens()
	added, err := v.Extend("hello 世界, wörld!")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"!", ",", "ö", "世", "界"}; !slices.Equal(added, want) {
		t.Errorf("added %q, want %q (code-point order)", added, want)
	}
	if got := v.Tokens(); !slices.Equal(got[:len(before)], before) || len(got) != len(before)+len(added) {
		t.Errorf("tokens %q do not keep %q in place", got, before)
	}
	for i, tok := range added {
		if id, _ := v.ID(tok); int(id) != len(before)+i {
			t.Errorf("new token %q has id %d, want %d", tok, id, len(before)+i)
		}
	}
	if again, _ := v.Extend("hello 世界"); len(again) != 0 {
		t.Errorf("extending with known text added %q", again)
	}
	if ids, err := v.Encode("世界!"); err != nil || v.Decode(ids) != "世界!" {
		t.Errorf("extended vocabulary cannot round-trip new text: %v", err)
	}

	w, _ := BuildWordVocab("a a b b c", 2)
	wordsBefore := w.Tokens()
	added, err = w.Extend("x y y z z z a")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"z", "y"}; !slices.Equal(added, want) { // x occurs once, below min_freq 2
		t.Errorf("word extend added %q, want %q", added, want)
	}
	if got := w.Tokens(); !slices.Equal(got[:len(wordsBefore)], wordsBefore) {
		t.Errorf("word tokens %q do not keep %q in place", got, wordsBefore)
	}
}

func TestCloneIsIndependent(t *testing.T) {
	v, _ := BuildCharVocab("abc")
	c := v.Clone()
	if _, err := c.Extend("xyz"); err != nil {
		t.Fatal(err)
	}
	if v.Size() != 4 || c.Size() != 7 {
		t.Errorf("sizes after extending the clone: original %d, clone %d", v.Size(), c.Size())
	}
	if _, ok := v.ID("x"); ok {
		t.Error("extending the clone changed the original")
	}
}

func TestMissing(t *testing.T) {
	v, _ := BuildCharVocab("abc")
	missing, err := v.Missing("abxcyx")
	if err != nil || !slices.Equal(missing, []string{"x", "y"}) {
		t.Errorf("Missing = %q, %v", missing, err)
	}
	w, _ := BuildWordVocab("the whale", 1)
	missing, _ = w.Missing("the white whale!")
	if !slices.Equal(missing, []string{"white", "!"}) {
		t.Errorf("word Missing = %q", missing)
	}
}

func TestTokenOutOfRange(t *testing.T) {
	v, _ := BuildCharVocab("ab")
	if v.Token(-1) != "" || v.Token(3) != "" || v.Token(2) != "b" || v.Token(0) != UnkToken {
		t.Errorf("Token: %q %q %q", v.Token(-1), v.Token(3), v.Token(2))
	}
	if got := v.Decode([]int32{1, 7, 0}); got != "a\uFFFD\uFFFD" {
		t.Errorf("decode of out-of-range id %q", got)
	}
}

// benchText is about 100 KB of varied text, for encoding benchmarks.
var benchText = strings.Repeat("Call me Ishmael. Some years ago—never mind how long precisely—having little money, "+
	"我 喜欢 吃 苹果。\n", 800)

func BenchmarkEncodeChar(b *testing.B) {
	v, _ := BuildCharVocab(benchText)
	b.SetBytes(int64(len(benchText)))
	for b.Loop() {
		if _, err := v.Encode(benchText); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeWord(b *testing.B) {
	v, _ := BuildWordVocab(benchText, 1)
	b.SetBytes(int64(len(benchText)))
	for b.Loop() {
		if _, err := v.Encode(benchText); err != nil {
			b.Fatal(err)
		}
	}
}

func TestZeroVocabDoesNotEncode(t *testing.T) {
	var v Vocab
	if _, err := v.Encode("a"); err == nil || !strings.Contains(err.Error(), "empty vocabulary") {
		t.Errorf("zero Vocab Encode error = %v", err)
	}
}

// TestEncodeTextAgreesWithItsParts: EncodeText's text, tokens, ids and unseen tokens are what
// Normalization().Apply, Tokenize and EncodeUnseen give separately, at every level, on decomposed
// (non-NFC) text with tokens the vocabulary lacks.
func TestEncodeTextAgreesWithItsParts(t *testing.T) {
	corpus := strings.Repeat("the café sat on the mat. the cat ate. ", 5)
	in := "the cafe\u0301 ate the zebra 🐳 mat."
	for _, level := range []Level{Char, Grapheme, Word} {
		v, err := BuildVocab(corpus, VocabOptions{Level: level, MinFreq: 1, Normalize: NFC})
		if err != nil {
			t.Fatal(err)
		}
		enc, err := v.EncodeText(in)
		if err != nil {
			t.Fatal(err)
		}
		ids, unseen, err1 := v.EncodeUnseen(in)
		tokens, err2 := v.Tokenize(in)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if enc.Text != v.Normalization().Apply(in) || !slices.Equal(enc.Tokens, tokens) || !slices.Equal(enc.IDs, ids) ||
			enc.Unseen.Count != unseen.Count || !slices.Equal(enc.Unseen.Tokens, unseen.Tokens) || unseen.Count == 0 {
			t.Errorf("%s: EncodeText %+v; parts: text %q, tokens %q, ids %v, unseen %+v", level, enc, v.Normalization().Apply(in), tokens, ids, unseen)
		}
	}
}
