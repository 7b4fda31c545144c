package lstm

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestResolveBackend(t *testing.T) {
	t.Setenv("PJRT_PLUGIN_LIBRARY_PATH", t.TempDir()) // an empty plugin folder
	t.Setenv("LD_LIBRARY_PATH", "")
	t.Setenv("HOME", t.TempDir())
	t.Setenv(BackendEnv, "")
	for req, want := range map[string]string{"": GoBackend, "auto": GoBackend, "go": GoBackend, "go:ops_sequential": GoBackend} {
		got, err := ResolveBackend(req)
		if err != nil || got != want {
			t.Errorf("ResolveBackend(%q) = %q, %v; want %q", req, got, err, want)
		}
	}
	t.Setenv(BackendEnv, "go")
	if got, _ := ResolveBackend(""); got != GoBackend {
		t.Errorf("$GOMLX_BACKEND=go resolved to %q", got)
	}
	for _, req := range []string{"xla:cpu", "xla:cuda", "xla"} {
		_, err := ResolveBackend(req)
		if err == nil || !strings.Contains(err.Error(), "PJRT plugin") || !strings.Contains(err.Error(), "--backend go") {
			t.Errorf("ResolveBackend(%q): err = %v, want install instructions", req, err)
		}
	}
	if _, err := ResolveBackend("tpu"); err == nil || !strings.Contains(err.Error(), "unknown backend") {
		t.Errorf("unknown backend: %v", err)
	}
}

// TestTrainingBackend checks training's choice: the parallel pure-Go configuration where the Go backend is
// chosen automatically or by "go", anything spelled out (or XLA) as asked; and that it opens.
func TestTrainingBackend(t *testing.T) {
	t.Setenv("PJRT_PLUGIN_LIBRARY_PATH", t.TempDir()) // no XLA plugin
	t.Setenv("LD_LIBRARY_PATH", "")
	t.Setenv("HOME", t.TempDir())
	t.Setenv(BackendEnv, "")
	for req, want := range map[string]string{"": GoTrainingBackend, "auto": GoTrainingBackend, "go": GoTrainingBackend,
		"go:ops_sequential": "go:ops_sequential", "xla:cuda": "xla:cuda"} {
		if got := trainingRequest(req); got != want {
			t.Errorf("trainingRequest(%q) = %q, want %q", req, got, want)
		}
	}
	if got := TrainingBackendName("go"); got != GoTrainingBackend {
		t.Errorf("TrainingBackendName(go) = %q, want %q", got, GoTrainingBackend)
	}
	if got := TrainingBackendName("nonsense"); got != "" {
		t.Errorf("TrainingBackendName(nonsense) = %q, want \"\"", got)
	}
	t.Setenv(BackendEnv, "go:ops_sequential") // an explicit environment choice wins
	if got := trainingRequest(""); got != "go:ops_sequential" {
		t.Errorf("with $GOMLX_BACKEND=go:ops_sequential: %q", got)
	}
	// Opening it writes nothing to standard output (where `--format json` results go).
	t.Setenv(BackendEnv, "go")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout := os.Stdout
	os.Stdout = w
	b, name, err := NewTrainingBackend("")
	os.Stdout = stdout
	w.Close()
	printed, _ := io.ReadAll(r)
	if err != nil || name != GoTrainingBackend {
		t.Fatalf("NewTrainingBackend with $GOMLX_BACKEND=go: %q, %v", name, err)
	}
	b.Finalize()
	if len(printed) > 0 {
		t.Errorf("opening the training backend printed to stdout: %q", printed)
	}
}

// A plugin file that is present but broken must give an error, not a panic or a hang.
func TestBrokenXLAPluginIsAnError(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("PJRT_PLUGIN_LIBRARY_PATH", dir)
	t.Setenv(BackendEnv, "")
	if err := os.WriteFile(filepath.Join(dir, "pjrt_c_api_cpu_plugin.so"), []byte("not a shared library"), 0o644); err != nil {
		t.Fatal(err)
	}
	if !xlaCompiledIn() {
		t.Log("binary built without XLA: automatic choice stays on the Go backend")
		if got, _ := ResolveBackend(""); got != GoBackend {
			t.Fatalf("got %q", got)
		}
		return
	}
	if got, err := ResolveBackend(""); err != nil || got != "xla:cpu" {
		t.Fatalf("with a plugin installed, automatic choice = %q, %v; want xla:cpu", got, err)
	}
	_, _, err := NewBackend("xla:cpu")
	if err == nil {
		t.Fatal("a broken plugin opened without error")
	}
	if !strings.Contains(err.Error(), "xla") {
		t.Errorf("error does not say which backend failed: %v", err)
	}
}
