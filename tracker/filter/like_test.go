package filter

import (
	"regexp"
	"strings"
	"testing"
)

func TestLikeRegexp(t *testing.T) {
	cases := []struct {
		pattern string
		match   []string
		miss    []string
	}{
		{`a%`, []string{"a", "abc", "a\nb"}, []string{"ba", ""}},
		{`_b`, []string{"xb", "éb"}, []string{"b", "xxb"}},
		{`50\%`, []string{"50%"}, []string{"500", "50"}},
		{`a\_b`, []string{"a_b"}, []string{"axb"}},
		{`x\\y`, []string{`x\y`}, []string{"xy", `x\\y`}},
		{`(.*)+[`, []string{"(.*)+["}, []string{"(x)+["}},
		{`end\`, []string{`end\`}, []string{"end"}},
	}
	for _, c := range cases {
		rx := regexp.MustCompile(LikeRegexp(c.pattern, nil))
		for _, s := range c.match {
			if !rx.MatchString(s) {
				t.Errorf("%q should match %q (%s)", c.pattern, s, rx)
			}
		}
		for _, s := range c.miss {
			if rx.MatchString(s) {
				t.Errorf("%q should not match %q (%s)", c.pattern, s, rx)
			}
		}
	}
	folded := regexp.MustCompile(LikeRegexp("AB%", strings.ToLower))
	if !folded.MatchString("abc") || folded.MatchString("ABC") {
		t.Errorf("fold not applied to literals: %s", folded)
	}
}

func TestLimits(t *testing.T) {
	if _, err := Parse(strings.Repeat("not ", MaxDepth) + "name = 'x'"); err != nil {
		t.Errorf("nesting at the limit: %v", err)
	}
	if _, err := Parse(strings.Repeat("not ", MaxDepth+1) + "name = 'x'"); err == nil || !strings.Contains(err.Error(), "too deeply nested") {
		t.Errorf("nesting past the limit: %v", err)
	}
	if _, err := Parse("name = '" + strings.Repeat("x", MaxLength) + "'"); err == nil || !strings.Contains(err.Error(), "too long") {
		t.Errorf("length past the limit: %v", err)
	}
}
