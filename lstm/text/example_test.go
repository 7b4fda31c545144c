package text_test

import (
	"encoding/json"
	"fmt"

	"github.com/lstmlab/lstmlab/lstm/text"
)

// A character-level pipeline: vocabulary (<unk> and 23 characters), ids, splits and truncated-BPTT windows.
func Example() {
	corpus := "Call me Ishmael. Some years ago—never mind how long precisely—having little or no money."
	vocab, err := text.BuildCharVocab(corpus)
	if err != nil {
		panic(err)
	}
	ids, err := vocab.Encode(corpus)
	if err != nil {
		panic(err)
	}
	train, val, test, err := text.Split(ids, 0.1, 0.1)
	if err != nil {
		panic(err)
	}
	streams, err := text.NewStreams(train, 2, 8)
	if err != nil {
		panic(err)
	}
	x, y := streams.Window(0)
	fmt.Println(vocab.Size(), len(train), len(val), len(test), streams.NumWindows())
	fmt.Printf("%q -> %q\n", vocab.Decode(x[:8]), vocab.Decode(y[:8]))
	fmt.Printf("%q -> %q\n", vocab.Decode(x[8:]), vocab.Decode(y[8:])) // row 1 starts 32 characters in
	// Output:
	// 25 70 9 9 4
	// "Call me " -> "all me I"
	// "never mi" -> "ever min"
}

// Word-level vocabularies keep punctuation and line breaks as tokens and map rare words to <unk>.
func ExampleBuildWordVocab() {
	vocab, err := text.BuildWordVocab("我 喜欢 吃 苹果。\n我 喜欢 你。", 2)
	if err != nil {
		panic(err)
	}
	ids, _ := vocab.Encode("我 喜欢 吃 香蕉。")
	fmt.Println(vocab.Tokens(), ids)
	fmt.Printf("%q\n", vocab.Decode(ids))
	data, _ := json.Marshal(vocab)
	fmt.Println(string(data))
	// Output:
	// [<unk> 。 喜欢 我] [3 2 0 0 1]
	// "我 喜欢 <unk> <unk>。"
	// {"level":"word","tokens":["\u003cunk\u003e","。","喜欢","我"],"min_freq":2,"normalize":"nfc"}
}

// Grapheme clusters are what a reader sees as one character: an accent (even typed as a separate combining
// mark), a flag or a skin-toned emoji is one token, which sampling can never split.
func ExampleGraphemes() {
	fmt.Printf("%q\n", text.Graphemes("Café 🇫🇷 👍🏽"))
	vocab, err := text.BuildVocab("Café 🇫🇷 👍🏽", text.VocabOptions{Level: text.Grapheme, MinFreq: 1})
	if err != nil {
		panic(err)
	}
	ids, unseen, _ := vocab.EncodeUnseen("Cafe\u0301 👍🏿") // NFC makes e + U+0301 the é of the corpus
	fmt.Println(ids, unseen)
	// Output:
	// ["C" "a" "f" "é" " " "🇫🇷" " " "👍🏽"]
	// [2 3 4 5 1 0] 1 grapheme not in the vocabulary was read as <unk> (1 distinct: "👍🏿")
}
