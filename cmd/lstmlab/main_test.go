package main

import (
	"bytes"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestRunLeavesNoGoroutine calls the CLI in this process several times: the signal handler each call
// starts ends with the call (signal.Stop does not close its channel, so it must be told).
func TestRunLeavesNoGoroutine(t *testing.T) {
	db := filepath.Join(t.TempDir(), "lab.db")
	before := runtime.NumGoroutine()
	for range 5 {
		var out, errOut bytes.Buffer
		if code := run([]string{"--db", db, "version"}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "go") {
			t.Fatalf("lstmlab version: exit %d, stdout %q, stderr %q", code, out.String(), errOut.String())
		}
	}
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before+1 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before+1 {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines after 5 calls, %d before:\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}

// TestFormatAliases: every command reads --format as `runs` does: any case, "text" and "table" alike,
// "md" for markdown; a format the command does not offer is one clear error.
func TestFormatAliases(t *testing.T) {
	for _, tc := range []struct {
		format  string
		allowed []string
		want    string // "" = refused
	}{
		{"", []string{"text", "json"}, "text"},
		{"table", []string{"text", "json"}, "text"},
		{"TEXT", []string{"table", "json"}, "table"},
		{"JSON", []string{"table", "json"}, "json"},
		{"md", []string{"table", "json", "markdown"}, "markdown"},
		{"csv", []string{"table", "json"}, ""},
		{"yaml", []string{"text", "json"}, ""},
	} {
		g := &globals{format: tc.format}
		err := checkFormat(g, tc.allowed...)
		switch {
		case tc.want == "" && (err == nil || !strings.Contains(err.Error(), "unknown --format")):
			t.Errorf("--format %q with %v: %v, want refused", tc.format, tc.allowed, err)
		case tc.want != "" && (err != nil || g.format != tc.want):
			t.Errorf("--format %q with %v: %q, %v; want %q", tc.format, tc.allowed, g.format, err, tc.want)
		}
	}
}
