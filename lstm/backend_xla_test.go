//go:build ((linux && (amd64 || arm64)) || (darwin && arm64) || (windows && amd64)) && !noxla

package lstm

import (
	"errors"
	"testing"

	"github.com/gomlx/go-xla/compute/xla"
)

// TestNoPluginAutoInstaller checks that no XLA plugin auto-installer is linked into lstmlab: a missing plugin
// must be an error, never a download. GoMLX's backends/default would link one (and download on first use).
func TestNoPluginAutoInstaller(t *testing.T) {
	if err := xla.AutoInstall(); !errors.Is(err, xla.ErrNoAutoInstaller) {
		t.Fatalf("xla.AutoInstall() = %v, want ErrNoAutoInstaller", err)
	}
}
