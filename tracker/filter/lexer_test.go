package filter

import "testing"

func TestLex(t *testing.T) {
	toks, err := lex("params.lr<=-1e-3 AND name != \"a\"\"b\"")
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		kind  tokenKind
		value string
		pos   int
	}{
		{tokIdent, "params.lr", 0},
		{tokOp, "<=", 9},
		{tokNumber, "-1e-3", 11},
		{tokIdent, "AND", 17},
		{tokIdent, "name", 21},
		{tokOp, "!=", 26},
		{tokString, `a"b`, 29},
		{tokEOF, "", 35},
	}
	if len(toks) != len(want) {
		t.Fatalf("got %d tokens %+v, want %d", len(toks), toks, len(want))
	}
	for i, w := range want {
		if toks[i].kind != w.kind || toks[i].value != w.value || toks[i].pos != w.pos {
			t.Errorf("token %d = %+v, want %+v", i, toks[i], w)
		}
	}
}

func TestLexBackquotedKey(t *testing.T) {
	toks, err := lex("metrics.`a``b c` < 1")
	if err != nil {
		t.Fatal(err)
	}
	if toks[0].value != "metrics.a`b c" || !toks[0].quoted || toks[0].text != "metrics.`a``b c`" {
		t.Errorf("got %+v", toks[0])
	}
}
