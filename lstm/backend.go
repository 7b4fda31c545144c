package lstm

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gomlx/compute"
	// The pure-Go backend. The XLA backend is registered in backend_xla.go (not with -tags noxla), without
	// GoMLX's plugin auto-installer: lstmlab never downloads a plugin (see xlaInstallHelp).
	_ "github.com/gomlx/compute/gobackend"
)

// This file is lstmlab's backend policy, in one place: which backend configuration a job runs on.
// OpenBackend is the entry point; NewBackend and NewTrainingBackend are its two common cases.

// BackendEnv is the environment variable GoMLX itself reads to choose a backend; lstmlab honours it too.
const BackendEnv = "GOMLX_BACKEND"

// GoBackend is the configuration used for the pure-Go backend, and for everything but training (see
// GoTrainingBackend). The "ops_sequential" mode is not a detail: the default parallel-ops mode of GoMLX's Go
// backend was seen to deadlock mid-training (all pool workers blocked under a matmul); and for the tiny
// ops of single-token generation parallel ops gain nothing (docs/benchmarks.md).
const GoBackend = "go:ops_sequential"

// GoTrainingBackend is the pure-Go backend's configuration for training: ops run in parallel on an
// unbounded worker pool, faster than GoBackend at the reference shapes (docs/benchmarks.md). Why it
// cannot deadlock as the default mode did: that mode's pool
// is bounded, and every running op holds a slot while its matmul waits in Pool.Saturate for free slots,
// so ops can take every slot and wait forever; with parallelism -1 ops take no slots and Saturate starts
// its first GOMAXPROCS tasks unconditionally, waiting only for its own tasks (compute v0.1.2 and
// v0.1.14, whose internal/gobackend/workerspool is the same); long runs confirm it (docs/benchmarks.md).
// The step watchdog (Config.StepTimeout) still turns any stall into an error.
//
// Opening it makes the Go backend print "Go backend: parallelism set to -1" on standard output (compute
// v0.1.14 prints it with fmt.Printf); a program whose standard output is data should point os.Stdout
// elsewhere for its library calls.
const GoTrainingBackend = "go:parallelism=-1"

// Job is what a backend is opened for: the pure-Go backend runs each job fastest in a different
// configuration, and reading weights needs no accelerator at all.
type Job int

const (
	// Inference: generation, scoring, evaluation, tracing. The pure-Go backend runs as GoBackend.
	Inference Job = iota
	// Training: the pure-Go backend runs as GoTrainingBackend.
	Training
	// Weights: loading weights only to copy or export them. Always GoBackend, whatever was requested,
	// because nothing is computed and the pure-Go backend opens everywhere (an XLA plugin may be
	// missing, or a GPU busy).
	Weights
)

func (j Job) String() string {
	switch j {
	case Training:
		return "training"
	case Weights:
		return "weights"
	default:
		return "inference"
	}
}

// xlaInstallHelp is appended to every "XLA unavailable" error: the one thing a user needs is where to
// put the plugin, because GoMLX's own auto-install downloads from outside, which may be unreachable.
const xlaInstallHelp = `install a PJRT plugin first: put pjrt_c_api_cpu_plugin.so (or pjrt_c_api_cuda_plugin.so) in ` +
	`~/.local/lib/go-xla or /usr/local/lib/go-xla, or point PJRT_PLUGIN_LIBRARY_PATH at its folder, or name it by ` +
	`absolute path as the backend (xla:/abs/path/plugin.so); see the README section "Backends". ` +
	`The backend "go" (pure Go) needs nothing`

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

// BackendFor returns the backend configuration OpenBackend(requested, job) opens, without opening it.
//
// requested is what a user asked for: "" for automatic, "go", "xla:cpu", "xla:cuda", "xla:/abs/plugin.so",
// or any full GoMLX backend configuration ("go:ops_sequential"). An empty request falls back to
// $GOMLX_BACKEND, then to automatic: XLA on CPU when its plugin is installed, else the pure-Go backend.
// The pure-Go backend, chosen automatically or as "go", runs in the job's configuration (GoBackend, or
// GoTrainingBackend for Training); a full "go:..." configuration is kept as given. Asking for XLA when it
// cannot run is an error saying how to install it, never an attempt to download it.
func BackendFor(requested string, job Job) (string, error) {
	if job == Weights {
		return GoBackend, nil
	}
	req := strings.TrimSpace(requested)
	if req == "" {
		req = strings.TrimSpace(os.Getenv(BackendEnv))
	}
	goConfig := GoBackend
	if job == Training {
		goConfig = GoTrainingBackend
	}
	switch {
	case req == "" || req == "auto":
		if xlaCompiledIn() && FindXLAPlugin("cpu") != "" {
			return "xla:cpu", nil
		}
		return goConfig, nil
	case req == "go":
		return goConfig, nil
	case strings.HasPrefix(req, "go:"):
		return req, nil
	case req == "xla" || strings.HasPrefix(req, "xla:"):
		if !xlaCompiledIn() {
			return "", fmt.Errorf("backend %q: this binary was built without XLA (-tags noxla); rebuild without that tag, or use the backend \"go\"", req)
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

// OpenBackend resolves requested for job (see BackendFor) and opens it. It returns the backend and the
// configuration that runs, for the one line a program prints about it. A backend that fails to open
// (a broken plugin, a constructor that panics) is an error.
func OpenBackend(requested string, job Job) (compute.Backend, string, error) {
	cfg, err := BackendFor(requested, job)
	if err != nil {
		return nil, "", err
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

// NewBackend is OpenBackend(requested, Inference).
func NewBackend(requested string) (compute.Backend, string, error) {
	return OpenBackend(requested, Inference)
}

// NewTrainingBackend is OpenBackend(requested, Training).
func NewTrainingBackend(requested string) (compute.Backend, string, error) {
	return OpenBackend(requested, Training)
}

// newBackendSafely opens a backend, turning a panic inside the backend's constructor into an error.
func newBackendSafely(cfg string) (b compute.Backend, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	return compute.NewWithConfig(cfg)
}
