package render

import "testing"

func TestMDEscape(t *testing.T) {
	cases := map[string]string{
		"plain 1.5":          "plain 1.5",
		"a|b":                `a\|b`,
		"<img src=x>":        `\<img src=x\>`,
		"*bold* _it_ `code`": `\*bold\* \_it\_ \` + "`code\\`",
		"line\r\nnext":       "line<br>next",
		"[link](http://x)":   `\[link\](http://x)`,
		"&amp; \x1b[0m":      `\&amp; \[0m`,
	}
	for in, want := range cases {
		if got := mdEscape(in); got != want {
			t.Errorf("mdEscape(%q) = %q, want %q", in, got, want)
		}
	}
}
