package text

import (
	"slices"
	"testing"
)

func TestSplitWords(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{"我 喜欢 吃 苹果", []string{"我", "喜欢", "吃", "苹果"}},
		{"我 喜欢 吃 苹果。", []string{"我", "喜欢", "吃", "苹果", "。"}},
		{"Call me Ishmael. Some years ago—never mind.",
			[]string{"Call", "me", "Ishmael", ".", "Some", "years", "ago", "—", "never", "mind", "."}},
		{"Don't stop, Ahab’s men!", []string{"Don't", "stop", ",", "Ahab’s", "men", "!"}},
		{"the whalemen' boats", []string{"the", "whalemen", "'", "boats"}},
		{"'tis fore-mast", []string{"'", "tis", "fore", "-", "mast"}},
		{"line one\nline two\n\nend", []string{"line", "one", "\n", "line", "two", "\n", "\n", "end"}},
		{"a\r\nb\tc", []string{"a", "\n", "b", "c"}},
		{"café naïve 3rd 42", []string{"café", "naïve", "3rd", "42"}},
		{"cafe\u0301!", []string{"cafe\u0301", "!"}}, // combining accent stays in the word
		{"hi 🙂🐳 ok", []string{"hi", "🙂", "🐳", "ok"}},
		{"(\"quoted\")", []string{"(", `"`, "quoted", `"`, ")"}},
		{"", nil},
	}
	for _, c := range cases {
		if got := SplitWords(c.in); !slices.Equal(got, c.want) {
			t.Errorf("SplitWords(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestJoinWordsRestoresConventionalSpacing(t *testing.T) {
	for _, s := range []string{
		"Call me Ishmael. Some years ago—never mind how long precisely—having little money.",
		`"Hello," he said (quietly), "it's 5% off: $3; 'tis true!"`,
		"我 喜欢 吃 苹果。\n你 呢？",
		"CHAPTER 1. Loomings.\n\nThe Sub-Sub-Librarian, a fore-mast-head look-out…",
		"Ahab’s leg; 'tis so, Queequeg's too.",
	} {
		if got := JoinWords(SplitWords(s)); got != s {
			t.Errorf("JoinWords(SplitWords(%q)) = %q", s, got)
		}
	}
}

func TestJoinWordsNormalisesSpacing(t *testing.T) {
	got := JoinWords(SplitWords("  Hello ,   world  !\n  Bye ."))
	if want := "Hello, world!\nBye."; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
