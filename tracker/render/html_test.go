package render

import (
	"bytes"
	"strings"
	"testing"
)

func TestWriteHTMLLongCellsAndEmpty(t *testing.T) {
	doc := document{sections: []section{{title: "T & <b>", header: []string{"", "run"}, rows: [][]string{{"text", "a\n<i>b</i>"}}, long: true}}}
	var buf bytes.Buffer
	if err := writeHTML(&buf, doc); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	checkSelfContainedHTML(t, out)
	for _, want := range []string{"<caption>T &amp; &lt;b&gt;</caption>", "<td>text</td>", `<td class="long">a` + "\n" + `&lt;i&gt;b&lt;/i&gt;</td>`} {
		if !strings.Contains(out, want) {
			t.Errorf("HTML lacks %q:\n%s", want, out)
		}
	}
	buf.Reset()
	if err := writeHTML(&buf, document{empty: "nothing <here>"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "<p>nothing &lt;here&gt;</p>") || strings.Contains(buf.String(), "<table>") {
		t.Errorf("empty HTML: %s", buf.String())
	}
}
