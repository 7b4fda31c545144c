package testenv

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestMissingFailsInCI runs a test calling Missing in a child process, with and without LSTMLAB_CI: in CI
// it fails, by hand it is skipped with a line on stderr.
func TestMissingFailsInCI(t *testing.T) {
	if os.Getenv("TESTENV_CHILD") != "" {
		Missing(t, "a widget", "install it")
		t.Error("Missing returned")
		return
	}
	for _, ci := range []bool{true, false} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestMissingFailsInCI$", "-test.v")
		env := []string{"TESTENV_CHILD=1"}
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "CI=") && !strings.HasPrefix(kv, "LSTMLAB_CI=") {
				env = append(env, kv)
			}
		}
		if ci {
			env = append(env, "LSTMLAB_CI=1")
		}
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		switch {
		case ci && (err == nil || !strings.Contains(string(out), "a widget is missing: install it")):
			t.Errorf("in CI: %v\n%s", err, out)
		case !ci && (err != nil || !strings.Contains(string(out), "SKIPPED, NOT TESTED") || !strings.Contains(string(out), "--- SKIP")):
			t.Errorf("by hand: %v\n%s", err, out)
		}
	}
}
