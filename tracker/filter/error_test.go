package filter

import (
	"strings"
	"testing"
)

func TestErrorCaret(t *testing.T) {
	_, err := Parse("params.hidden >= and")
	fe, ok := err.(*Error)
	if !ok {
		t.Fatalf("got %T %v", err, err)
	}
	want := "params.hidden >= and\n                 ^"
	if fe.Caret() != want {
		t.Errorf("Caret() =\n%s\nwant\n%s", fe.Caret(), want)
	}
}

func TestErrorColumnCountsRunes(t *testing.T) {
	_, err := Parse("name = 'ä' ;")
	fe, ok := err.(*Error)
	if !ok || fe.Column != 12 || fe.Offset != 12 {
		t.Fatalf("got %v (column %d offset %d), want column 12 at byte 12", err, fe.Column, fe.Offset)
	}
}

func TestErrorf(t *testing.T) {
	e := Errorf("status = finsihed", 9, "unknown status %q", "finsihed")
	if e.Column != 10 || e.Token != "finsihed" || !strings.Contains(e.Error(), `near "finsihed": unknown status`) {
		t.Errorf("got %+v / %q", e, e.Error())
	}
	long := Errorf("name = '"+strings.Repeat("x", 100)+"'", 7, "bad")
	if len([]rune(long.Token)) > 41 {
		t.Errorf("token not shortened: %d runes", len([]rune(long.Token)))
	}
}
