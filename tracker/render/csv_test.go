package render

import (
	"bytes"
	"testing"
)

func TestWriteCSVSections(t *testing.T) {
	one := document{sections: []section{{header: []string{"a", "b"}, rows: [][]string{{"1", "x,y"}}}}}
	var buf bytes.Buffer
	if err := writeCSV(&buf, one); err != nil {
		t.Fatal(err)
	}
	if buf.String() != "a,b\n1,\"x,y\"\n" {
		t.Errorf("single section: %q", buf.String())
	}
	two := document{sections: []section{
		{title: "S1", header: []string{"", "r"}, rows: [][]string{{"k", "1"}}},
		{title: "S2", header: []string{"", "r"}, rows: [][]string{{"k", "2"}}},
	}}
	buf.Reset()
	if err := writeCSV(&buf, two); err != nil {
		t.Fatal(err)
	}
	if buf.String() != "section,,r\nS1,k,1\nS2,k,2\n" {
		t.Errorf("two sections: %q", buf.String())
	}
}
