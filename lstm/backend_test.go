package lstm

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// noXLAPlugin points every plugin search path at empty folders and clears $GOMLX_BACKEND.
func noXLAPlugin(t *testing.T) {
	t.Helper()
	t.Setenv("PJRT_PLUGIN_LIBRARY_PATH", t.TempDir())
	t.Setenv("LD_LIBRARY_PATH", "")
	t.Setenv("HOME", t.TempDir())
	t.Setenv(BackendEnv, "")
}

func TestBackendForInference(t *testing.T) {
	noXLAPlugin(t)
	for req, want := range map[string]string{"": GoBackend, "auto": GoBackend, "go": GoBackend, "go:ops_sequential": GoBackend,
		"go:parallelism=-1": GoTrainingBackend} {
		got, err := BackendFor(req, Inference)
		if err != nil || got != want {
			t.Errorf("BackendFor(%q, Inference) = %q, %v; want %q", req, got, err, want)
		}
	}
	t.Setenv(BackendEnv, "go")
	if got, _ := BackendFor("", Inference); got != GoBackend {
		t.Errorf("$GOMLX_BACKEND=go resolved to %q", got)
	}
	for _, req := range []string{"xla:cpu", "xla:cuda", "xla"} {
		_, err := BackendFor(req, Inference)
		if err == nil || !strings.Contains(err.Error(), "PJRT plugin") || !strings.Contains(err.Error(), `backend "go"`) {
			t.Errorf("BackendFor(%q): err = %v, want install instructions", req, err)
		}
		if strings.Contains(err.Error(), "--") {
			t.Errorf("BackendFor(%q): a library error names a command-line flag: %v", req, err)
		}
	}
	if _, err := BackendFor("tpu", Inference); err == nil || !strings.Contains(err.Error(), "unknown backend") {
		t.Errorf("unknown backend: %v", err)
	}
}

// TestBackendForTraining checks training's choice: the parallel pure-Go configuration where the Go backend is
// chosen automatically or by "go", anything spelled out (or XLA) as asked; and that it opens.
func TestBackendForTraining(t *testing.T) {
	noXLAPlugin(t)
	for req, want := range map[string]string{"": GoTrainingBackend, "auto": GoTrainingBackend, "go": GoTrainingBackend,
		"go:ops_sequential": "go:ops_sequential"} {
		if got, err := BackendFor(req, Training); err != nil || got != want {
			t.Errorf("BackendFor(%q, Training) = %q, %v; want %q", req, got, err, want)
		}
	}
	if _, err := BackendFor("nonsense", Training); err == nil {
		t.Error("BackendFor(nonsense, Training) accepted")
	}
	t.Setenv(BackendEnv, "go:ops_sequential") // an explicit environment choice wins
	if got, _ := BackendFor("", Training); got != "go:ops_sequential" {
		t.Errorf("with $GOMLX_BACKEND=go:ops_sequential: %q", got)
	}
	t.Setenv(BackendEnv, "go")
	b, name, err := NewTrainingBackend("")
	if err != nil || name != GoTrainingBackend {
		t.Fatalf("NewTrainingBackend with $GOMLX_BACKEND=go: %q, %v", name, err)
	}
	b.Finalize()
}

// TestBackendForWeights checks that loading weights to copy or export them never needs an accelerator.
func TestBackendForWeights(t *testing.T) {
	noXLAPlugin(t)
	t.Setenv(BackendEnv, "xla:cuda")
	for _, req := range []string{"", "xla:cuda", "go:parallelism=-1"} {
		if got, err := BackendFor(req, Weights); err != nil || got != GoBackend {
			t.Errorf("BackendFor(%q, Weights) = %q, %v; want %q", req, got, err, GoBackend)
		}
	}
}

// A plugin file that is present but broken must give an error, not a panic or a hang.
func TestBrokenXLAPluginIsAnError(t *testing.T) {
	noXLAPlugin(t)
	dir := t.TempDir()
	t.Setenv("PJRT_PLUGIN_LIBRARY_PATH", dir)
	if err := os.WriteFile(filepath.Join(dir, "pjrt_c_api_cpu_plugin.so"), []byte("not a shared library"), 0o644); err != nil {
		t.Fatal(err)
	}
	if !xlaCompiledIn() {
		t.Log("binary built without XLA: automatic choice stays on the Go backend")
		if got, _ := BackendFor("", Inference); got != GoBackend {
			t.Fatalf("got %q", got)
		}
		return
	}
	if got, err := BackendFor("", Inference); err != nil || got != "xla:cpu" {
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
