// Package text turns raw text into the token ids an LSTM language model trains on, and back.
//
// It holds the data steps of a char-rnn / PyTorch word_language_model style pipeline, in plain Go:
//
//   - Vocabularies and tokenizers ([Vocab], [BuildVocab]): character level (Unicode code points), grapheme level
//     (extended grapheme clusters, [Graphemes]: what a reader sees as one character) or word level (words,
//     punctuation and symbols, [SplitWords]). Every vocabulary reserves [UnkToken] for tokens rarer than its
//     minimum frequency and tokens of other texts (reported by [Vocab.EncodeUnseen]), and normalises every text
//     it encodes to one Unicode [Normalization] (NFC by default). A vocabulary is JSON-serialisable so it can
//     travel with checkpoints and exported weights, and [Vocab.Extend] grows it for fine-tuning without moving
//     existing ids. [Level.Unit] names the per-token figures of each level (bpc, bpg, bpw).
//   - Corpus loading ([Load], [LoadFile], [LoadDir], [FetchMobyDick]): UTF-8 validation with errors that name the
//     file and the byte, CRLF and BOM normalisation, and the default corpus (Moby Dick, from an npm package).
//   - Splits ([Split]): train / validation / test by position, deterministic.
//   - Truncated-BPTT batching ([NewStreams]): the token stream cut into parallel contiguous streams read in
//     consecutive windows, so that a model can carry its hidden state from one window to the next.
//   - Scoring layout ([NewScoreStreams]): the same windows for evaluation, dropping nothing: every token after
//     the first predicted exactly once, the last window padded.
//
// Everything here is independent of GoMLX: ids are plain []int32 slices.
package text
