package text

// Unit says what one token of a [Level] is, for the names of per-token figures. It is the one place those names
// are decided, so that progress lines, tables, JSON and plots agree: bits per character ("bpc") only at character
// level, bits per grapheme ("bpg") and bits per word ("bpw") otherwise.
type Unit struct {
	Name  string // what a token is: "character", "grapheme" or "word"
	Short string // the same, short, as in "bits/char": "char", "grapheme" or "word"
	Bits  string // the metric suffix of bits per token: "bpc", "bpg" or "bpw" (as in val_bpc)
}

// Unit returns what one token of the level is. An unknown level gets the neutral "token" / "bpt".
func (l Level) Unit() Unit {
	switch l {
	case Char:
		return Unit{Name: "character", Short: "char", Bits: "bpc"}
	case Grapheme:
		return Unit{Name: "grapheme", Short: "grapheme", Bits: "bpg"}
	case Word:
		return Unit{Name: "word", Short: "word", Bits: "bpw"}
	}
	return Unit{Name: "token", Short: "token", Bits: "bpt"}
}

// Plural returns the unit's name for n tokens: "1 character", "3 characters".
func (u Unit) Plural(n int) string {
	if n == 1 {
		return u.Name
	}
	return u.Name + "s"
}
