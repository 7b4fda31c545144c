//go:build ((linux && (amd64 || arm64)) || (darwin && arm64) || (windows && amd64)) && !noxla

package lstm

// The XLA backend (PJRT plugins), on the platforms go-xla supports, unless built with -tags noxla. Imported
// directly rather than through GoMLX's backends/default, which also links go-xla's plugin auto-installer:
// without it a missing plugin is an error, never a download.
import _ "github.com/gomlx/go-xla/compute/xla"
