package render

import (
	"errors"
	"strings"
	"testing"
)

func TestOneLine(t *testing.T) {
	if got := oneLine("a\nb\tc\x1b[31mred", 100); got != "a b c[31mred" {
		t.Errorf("oneLine = %q", got)
	}
	if got := oneLine(strings.Repeat("é", 10), 5); got != "éééé…" {
		t.Errorf("oneLine truncation = %q", got)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteErrorsReported(t *testing.T) {
	for _, f := range []Format{Table, CSV, JSON, HTML, Markdown} {
		if err := Runs(failingWriter{}, fixtureRuns(), f); err == nil || !strings.Contains(err.Error(), "disk full") {
			t.Errorf("%s: %v; want the write error", f, err)
		}
	}
}
