package lstm

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gomlx/compute"
	// Registers the pure-Go backend and (unless built with -tags noxla) the XLA backend.
	_ "github.com/gomlx/gomlx/backends/default"
)

// BackendEnv is the environment variable GoMLX itself reads to choose a backend; lstmlab honours it too.
const BackendEnv = "GOMLX_BACKEND"

// GoBackend is the configuration used for the pure-Go backend, and for everything but training (see
// GoTrainingBackend). The "ops_sequential" mode is not a detail: the default parallel-ops mode of GoMLX's Go
// backend was seen to deadlock mid-training (all pool workers blocked under a matmul); and for the tiny
// ops of single-token generation parallel ops gain nothing (2.5–2.9k against 2.3–3.1k tokens/s).
const GoBackend = "go:ops_sequential"

// GoTrainingBackend is the pure-Go backend's configuration for training: ops run in parallel on an
// unbounded worker pool, measured 30–60 % faster than GoBackend at the reference shapes
// (docs/benchmarks.md). Why it cannot deadlock as the default mode did: that mode's pool
// is bounded, and every running op holds a slot while its matmul waits in Pool.Saturate for free slots,
// so ops can take every slot and wait forever; with parallelism -1 ops take no slots and Saturate starts
// its first GOMAXPROCS tasks unconditionally, waiting only for its own tasks (compute v0.1.2 and
// v0.1.14, whose internal/gobackend/workerspool is the same). Over 4,000 training steps ran without a stall, and a same-seed run
// repeats bit for bit. The step watchdog (Config.StepTimeout) still turns any stall into an error.
const GoTrainingBackend = "go:parallelism=-1"

// xlaInstallHelp is appended to every "XLA unavailable" error: the one thing a user needs is where to
// put the plugin, because GoMLX's own auto-install downloads from outside, which may be unreachable.
const xlaInstallHelp = `install a PJRT plugin first: put pjrt_c_api_cpu_plugin.so (or pjrt_c_api_cuda_plugin.so) in ` +
	`~/.local/lib/go-xla or /usr/local/lib/go-xla, or point PJRT_PLUGIN_LIBRARY_PATH at its folder, or name it by ` +
	`absolute path with --backend xla:/abs/path/plugin.so; see the README section "Backends". ` +
	`Use --backend go for the pure-Go backend, which needs nothing`

// pluginDirs lists the folders go-xla searches for PJRT plugins, in its order.
func pluginDirs() []string {
	var dirs []string
	if p := os.Getenv("PJRT_PLUGIN_LIBRARY_PATH"); p != "" {
		dirs = append(dirs, filepath.SplitList(p)...)
	}
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, ".local", "lib", "go-xla"))
	}
	dirs = append(dirs, "/usr/local/lib/go-xla")
	if p := os.Getenv("LD_LIBRARY_PATH"); p != "" {
		dirs = append(dirs, filepath.SplitList(p)...)
	}
	return dirs
}

// FindXLAPlugin returns the path of the installed PJRT plugin for platform ("cpu", "cuda", ...), or ""
// when none is installed.
func FindXLAPlugin(platform string) string {
	name := "pjrt_c_api_" + platform + "_plugin.so"
	for _, dir := range pluginDirs() {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	return ""
}

// xlaCompiledIn reports whether this binary includes the XLA backend (it does not with -tags noxla).
func xlaCompiledIn() bool { return slices.Contains(compute.List(), "xla") }

// ResolveBackend turns what a user asked for ("" for automatic, "go", "xla:cpu", "xla:cuda",
// "xla:/abs/plugin.so", or any full GoMLX backend configuration) into the configuration to open.
// An empty request falls back to $GOMLX_BACKEND, then to automatic: XLA on CPU when its plugin is
// installed, else the pure-Go backend. Asking for XLA when it cannot run is an error saying how to
// install it, never an attempt to download it.
func ResolveBackend(requested string) (string, error) {
	req := strings.TrimSpace(requested)
	if req == "" {
		req = strings.TrimSpace(os.Getenv(BackendEnv))
	}
	switch {
	case req == "" || req == "auto":
		if xlaCompiledIn() && FindXLAPlugin("cpu") != "" {
			return "xla:cpu", nil
		}
		return GoBackend, nil
	case req == "go":
		return GoBackend, nil
	case strings.HasPrefix(req, "go:"):
		return req, nil
	case req == "xla" || strings.HasPrefix(req, "xla:"):
		if !xlaCompiledIn() {
			return "", fmt.Errorf("backend %q: this binary was built without XLA (-tags noxla); rebuild without that tag, or use --backend go", req)
		}
		platform := strings.TrimPrefix(strings.TrimPrefix(req, "xla"), ":")
		if platform == "" {
			platform = "cpu"
		}
		if i := strings.IndexByte(platform, ','); i >= 0 { // "xla:cuda,option" keeps only the platform part for the check.
			platform = platform[:i]
		}
		if filepath.IsAbs(platform) {
			if _, err := os.Stat(platform); err != nil {
				return "", fmt.Errorf("backend %q: plugin file: %w", req, err)
			}
			return req, nil
		}
		if FindXLAPlugin(platform) == "" {
			return "", fmt.Errorf("backend %q: no PJRT plugin for %q is installed (searched %s); %s",
				req, platform, strings.Join(pluginDirs(), ", "), xlaInstallHelp)
		}
		return "xla:" + strings.TrimPrefix(strings.TrimPrefix(req, "xla"), ":"), nil
	default:
		return "", fmt.Errorf("unknown backend %q: use go, xla:cpu or xla:cuda", req)
	}
}

// NewBackend resolves and opens a backend (see ResolveBackend). It returns the backend and the
// configuration that runs, for the one line a program prints about it.
func NewBackend(requested string) (compute.Backend, string, error) {
	cfg, err := ResolveBackend(requested)
	if err != nil {
		return nil, "", err
	}
	// Never let go-xla try to download a plugin: here that fails (or hangs) on the network.
	if os.Getenv("GOMLX_NO_AUTO_INSTALL") == "" {
		_ = os.Setenv("GOMLX_NO_AUTO_INSTALL", "1")
	}
	b, err := newBackendSafely(cfg)
	if err != nil {
		if strings.HasPrefix(cfg, "xla") {
			return nil, "", fmt.Errorf("open backend %s: %w; %s", cfg, err, xlaInstallHelp)
		}
		return nil, "", fmt.Errorf("open backend %s: %w", cfg, err)
	}
	return b, cfg, nil
}

// NewTrainingBackend is NewBackend for training: where the pure-Go backend is chosen automatically or by
// "go", it opens GoTrainingBackend instead of GoBackend. A full "go:..." configuration (for example
// "go:ops_sequential") and XLA are opened as asked.
func NewTrainingBackend(requested string) (compute.Backend, string, error) {
	return NewBackend(trainingRequest(requested))
}

// TrainingBackendName returns the configuration NewTrainingBackend(requested) opens, without opening it
// ("" when the request is invalid; NewTrainingBackend then says why).
func TrainingBackendName(requested string) string {
	cfg, err := ResolveBackend(trainingRequest(requested))
	if err != nil {
		return ""
	}
	return cfg
}

// trainingRequest maps a backend request (or $GOMLX_BACKEND when it is empty) to the one training opens.
func trainingRequest(requested string) string {
	req := strings.TrimSpace(requested)
	if req == "" {
		req = strings.TrimSpace(os.Getenv(BackendEnv))
	}
	if req == "" || req == "auto" || req == "go" {
		if cfg, err := ResolveBackend(req); err == nil && cfg == GoBackend {
			return GoTrainingBackend
		}
	}
	return req
}

// newBackendSafely opens a backend, turning a panic inside the backend's constructor into an error.
func newBackendSafely(cfg string) (b compute.Backend, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	if strings.HasPrefix(cfg, "go:") && strings.Contains(cfg, "parallelism=") {
		// The Go backend announces "Go backend: parallelism set to N" on standard output, which would
		// corrupt `--format json` output; lstmlab prints which backend runs itself. Backends are opened
		// before a command writes anything, so nothing else is lost.
		restore := silenceStdout()
		defer restore()
	}
	return compute.NewWithConfig(cfg)
}

// silenceStdout points os.Stdout at the null device until the returned function restores it.
func silenceStdout() (restore func()) {
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return func() {}
	}
	stdout := os.Stdout
	os.Stdout = null
	return func() {
		os.Stdout = stdout
		null.Close()
	}
}
