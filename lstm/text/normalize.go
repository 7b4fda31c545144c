package text

import (
	"fmt"

	"golang.org/x/text/unicode/norm"
)

// Normalization is the Unicode normalization form a vocabulary applies to every text before tokenizing it
// (corpus, prompts, scored text), so that canonically equivalent spellings are the same tokens.
type Normalization string

const (
	// NFC is Unicode canonical composition (UAX #15, golang.org/x/text/unicode/norm): "e" + U+0301 (combining
	// acute) becomes the one code point "é", as most keyboards and editors write it. The default.
	NFC Normalization = "nfc"
	// NoNormalization leaves text as written: "é" and "e" + U+0301 are different tokens. Vocabularies saved
	// before normalization existed decode as NoNormalization.
	NoNormalization Normalization = "none"
)

// ParseNormalization turns "nfc" or "none" into a [Normalization]; "" is [NFC], the default.
func ParseNormalization(s string) (Normalization, error) {
	switch Normalization(s) {
	case "":
		return NFC, nil
	case NFC, NoNormalization:
		return Normalization(s), nil
	}
	return "", fmt.Errorf("unknown normalization %q: want %q or %q", s, NFC, NoNormalization)
}

// Apply returns s in this normalization form (s itself when it already is, without copying).
func (n Normalization) Apply(s string) string {
	if n == NFC {
		return norm.NFC.String(s)
	}
	return s
}
