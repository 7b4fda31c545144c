package text

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/rivo/uniseg"
)

// mixedScript has what code points get wrong: accents (precomposed and decomposed), Devanagari and Thai
// combining marks, skin-tone modifiers, ZWJ emoji sequences and flags.
const mixedScript = "Café crème, naïve résumé. Cafe\u0301 cre\u0300me!\n" +
	"नमस्ते दुनिया, हिन्दी में लिखा।\n" +
	"สวัสดีครับ ภาษาไทย น้ำ\n" +
	"👍🏽 👋🏿 👩‍👩‍👧 👨‍💻 🏳️‍🌈 🇫🇷 🇯🇵 🇧🇷 ❤️\n"

func TestNFCAndNFDSpellingsGiveTheSameIDs(t *testing.T) {
	const nfc, nfd = "café crème résumé", "cafe\u0301 cre\u0300me re\u0301sume\u0301"
	if nfc == nfd {
		t.Fatal("the two spellings should differ byte-wise")
	}
	for _, level := range []Level{Char, Grapheme, Word} {
		v, err := BuildVocab(nfd+"\n"+nfc, VocabOptions{Level: level, MinFreq: 1})
		if err != nil {
			t.Fatal(err)
		}
		a, ua, errA := v.EncodeUnseen(nfc)
		b, ub, errB := v.EncodeUnseen(nfd)
		if errA != nil || errB != nil || !slices.Equal(a, b) || ua.Count != 0 || ub.Count != 0 {
			t.Errorf("%s: NFC ids %v (unseen %d), NFD ids %v (unseen %d), errors %v %v", level, a, ua.Count, b, ub.Count, errA, errB)
		}
		if _, ok := v.ID("\u0301"); ok {
			t.Errorf("%s: a lone combining acute is a token of the NFC vocabulary", level)
		}
		if got := v.Decode(b); got != nfc {
			t.Errorf("%s: decode of the NFD text %q, want the NFC %q", level, got, nfc)
		}
		// Without normalization the spellings differ, so the comparison above can fail.
		raw, _ := BuildVocab(nfd+"\n"+nfc, VocabOptions{Level: level, MinFreq: 1, Normalize: NoNormalization})
		ra, _ := raw.Encode(nfc)
		rb, _ := raw.Encode(nfd)
		if slices.Equal(ra, rb) {
			t.Errorf("%s: without normalization the two spellings gave the same ids", level)
		}
	}
}

func TestCharMinFreqMapsRareCharactersToUnk(t *testing.T) {
	v, err := BuildVocab("aaa bb c\n", VocabOptions{Level: Char, MinFreq: 2})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{UnkToken, " ", "a", "b"}; !slices.Equal(v.Tokens(), want) {
		t.Errorf("tokens %q, want %q (c and the line break occur once)", v.Tokens(), want)
	}
	ids, unseen, err := v.EncodeUnseen("abc\n")
	if err != nil || !slices.Equal(ids, []int32{2, 3, 0, 0}) {
		t.Errorf("ids %v, %v; want [2 3 0 0]", ids, err)
	}
	if unseen.Count != 2 || !slices.Equal(unseen.Tokens, []string{"c", "\n"}) || !strings.Contains(unseen.String(), `"\n"`) {
		t.Errorf("unseen %+v (%s)", unseen, unseen)
	}
	// Extend applies the same cut-off.
	added, _ := v.Extend("xx y")
	if !slices.Equal(added, []string{"x"}) {
		t.Errorf("extend added %q, want x only (y occurs once)", added)
	}
}

func TestGraphemeVocabulary(t *testing.T) {
	v, err := BuildVocab(mixedScript, VocabOptions{Level: Grapheme, MinFreq: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{"é", "👍🏽", "👩‍👩‍👧", "🇫🇷", "🏳️‍🌈", "ते", "दु", "น้ำ", "❤️"} {
		if _, ok := v.ID(tok); !ok {
			t.Errorf("cluster %q is not a token", tok)
		}
	}
	for _, fragment := range []string{"\u0301", "\U0001F3FD", "\u200d", "\U0001F1EB", "\u0947"} {
		if _, ok := v.ID(fragment); ok {
			t.Errorf("fragment %q is a token", fragment)
		}
	}
	for _, tok := range v.Tokens()[1:] {
		if uniseg.GraphemeClusterCount(tok) != 1 {
			t.Errorf("token %q is not one grapheme cluster", tok)
		}
	}
	ids, unseen, err := v.EncodeUnseen(mixedScript)
	if err != nil || unseen.Count != 0 {
		t.Fatalf("encode the corpus: %v, unseen %v", err, unseen)
	}
	nfc := NFC.Apply(mixedScript)
	if len(ids) != uniseg.GraphemeClusterCount(nfc) || v.Decode(ids) != nfc {
		t.Errorf("%d ids for %d clusters; round trip %q", len(ids), uniseg.GraphemeClusterCount(nfc), v.Decode(ids))
	}
	// A combining mark alone at the start of a line is a fragment: <unk>, never a token to sample.
	w, err := BuildVocab("ab\n\u0301cd\n", VocabOptions{Level: Grapheme, MinFreq: 1, Normalize: NoNormalization})
	if err != nil {
		t.Fatal(err)
	}
	if _, unseen, _ := w.EncodeUnseen("\n\u0301"); unseen.Count != 1 || unseen.Tokens[0] != "\u0301" {
		t.Errorf("line-initial combining mark: unseen %+v, want it read as <unk>", unseen)
	}
	// Unseen clusters are whole clusters: a new skin tone is one unseen grapheme.
	_, unseen, _ = v.EncodeUnseen("👍🏿¿")
	if unseen.Count != 2 || unseen.Tokens[0] != "👍🏿" || !strings.HasPrefix(unseen.String(), "2 graphemes") {
		t.Errorf("unseen %+v (%s)", unseen, unseen)
	}
}

func TestSplitWordsKeepsGraphemeClusters(t *testing.T) {
	got := SplitWords("Nice 👍🏽! 🇫🇷 vs 🇯🇵 — 👩‍👩‍👧 cafe\u0301s. नमस्ते!")
	want := []string{"Nice", "👍🏽", "!", "🇫🇷", "vs", "🇯🇵", "—", "👩‍👩‍👧", "cafe\u0301s", ".", "नमस्ते", "!"}
	if !slices.Equal(got, want) {
		t.Errorf("SplitWords = %q, want %q", got, want)
	}
	for _, tok := range SplitWords(mixedScript) {
		if r, _ := utf8.DecodeRuneInString(tok); uniseg.GraphemeClusterCount("a"+tok) == 1 {
			t.Errorf("word token %q (%U) attaches to what precedes it", tok, r)
		}
	}
}

func TestUnitNamesPerLevel(t *testing.T) {
	for level, want := range map[Level]Unit{
		Char:     {Name: "character", Short: "char", Bits: "bpc"},
		Grapheme: {Name: "grapheme", Short: "grapheme", Bits: "bpg"},
		Word:     {Name: "word", Short: "word", Bits: "bpw"},
	} {
		if got := level.Unit(); got != want {
			t.Errorf("%s: unit %+v, want %+v", level, got, want)
		}
	}
	if got := Word.Unit().Plural(1) + "/" + Word.Unit().Plural(2); got != "word/words" {
		t.Errorf("plural: %s", got)
	}
}
