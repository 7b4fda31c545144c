package render

import "testing"

func TestParseFormat(t *testing.T) {
	ok := map[string]Format{"table": Table, "TEXT": Table, "": Table, "csv": CSV, "json": JSON, "html": HTML, "md": Markdown, " Markdown ": Markdown}
	for in, want := range ok {
		if got, err := ParseFormat(in); err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseFormat("yaml"); err == nil {
		t.Error("yaml accepted")
	}
	if len(Formats()) != 5 {
		t.Errorf("Formats() = %v", Formats())
	}
	if err := (document{}).write(nil, JSON); err == nil {
		t.Error("document written as JSON")
	}
}
