// Package mlflowtest runs the real parts the MLflow mirror's tests need: a
// FastTrackML tracking server (github.com/G-Research/fasttrackml, which
// speaks MLflow's REST API and serves the MLflow UI) on a free loopback
// port, and headless Chromium to look at that UI.
//
// The FastTrackML binary comes from the pinned tools module
// tools/fasttrackml, built into .cache/bin/fasttrackml by
// .ci/install-mlflow-tools.sh (scripts/test.sh runs it); $LSTMLAB_FASTTRACKML
// names another binary. Chromium is Debian's chromium, or $LSTMLAB_CHROMIUM.
// When either is missing the test fails in CI ($CI or $LSTMLAB_CI set) and is
// skipped, with a message on stderr, when a developer runs go test by hand.
package mlflowtest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lstmlab/lstmlab/internal/testenv"
)

// ModuleRoot returns the lstmlab working tree (the folder of go.mod) that
// holds the current directory.
func ModuleRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && bytes.HasPrefix(b, []byte("module github.com/lstmlab/lstmlab\n")) {
			return dir
		}
		up := filepath.Dir(dir)
		if up == dir {
			t.Fatal("not inside the lstmlab module")
		}
		dir = up
	}
}

// Binary returns the FastTrackML binary, failing or skipping the test
// when there is none.
func Binary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("LSTMLAB_FASTTRACKML"); p != "" {
		return p
	}
	p := filepath.Join(ModuleRoot(t), ".cache", "bin", "fasttrackml")
	if _, err := os.Stat(p); err != nil {
		testenv.Missing(t, "FastTrackML", "build it with .ci/install-mlflow-tools.sh, or set LSTMLAB_FASTTRACKML")
	}
	return p
}

// Options configures a server.
type Options struct {
	// Username and Password turn on FastTrackML's HTTP basic auth.
	Username, Password string
}

// Server is a FastTrackML server with its own database and artifact
// folder. It is stopped at the end of the test.
type Server struct {
	// URL is the tracking URI, http://127.0.0.1:PORT.
	URL string
	// Dir holds the server's database (fml.db), artifacts/ and server.log.
	Dir  string
	opts Options
	t    testing.TB
	bin  string
	addr string
	cmd  *exec.Cmd
	exit chan struct{}
}

// Start starts a server on a free loopback port and waits until it
// answers.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	s := &Server{opts: opts, t: t, bin: Binary(t), Dir: t.TempDir()}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = l.Addr().String()
	l.Close()
	s.URL = "http://" + s.addr
	s.start()
	t.Cleanup(func() {
		s.Kill()
		if t.Failed() {
			if b, err := os.ReadFile(filepath.Join(s.Dir, "server.log")); err == nil {
				if len(b) > 4000 {
					b = b[len(b)-4000:]
				}
				t.Logf("FastTrackML log (end):\n%s", b)
			}
		}
	})
	return s
}

// ArtifactRoot is the folder where the server keeps artifacts.
func (s *Server) ArtifactRoot() string { return filepath.Join(s.Dir, "artifacts") }

// UI is the address of the server's MLflow UI.
func (s *Server) UI() string { return s.URL + "/mlflow/" }

func (s *Server) start() {
	s.t.Helper()
	logf, err := os.OpenFile(filepath.Join(s.Dir, "server.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		s.t.Fatal(err)
	}
	args := []string{"server", "--database-uri", "sqlite://" + filepath.Join(s.Dir, "fml.db"),
		"--listen-address", s.addr, "--default-artifact-root", s.ArtifactRoot()}
	if s.opts.Username != "" {
		args = append(args, "--auth-username", s.opts.Username, "--auth-password", s.opts.Password)
	}
	cmd := exec.Command(s.bin, args...)
	cmd.Dir = s.Dir
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		s.t.Fatalf("start FastTrackML: %v", err)
	}
	s.cmd, s.exit = cmd, make(chan struct{})
	go func() {
		cmd.Wait()
		logf.Close()
		close(s.exit)
	}()
	deadline := time.Now().Add(90 * time.Second)
	for {
		if s.healthy() {
			return
		}
		select {
		case <-s.exit:
			s.t.Fatalf("FastTrackML exited at start; see %s", filepath.Join(s.Dir, "server.log"))
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("FastTrackML did not answer on %s within 90s", s.URL)
		}
	}
}

func (s *Server) healthy() bool {
	req, _ := http.NewRequest("GET", s.URL+"/health", nil)
	if s.opts.Username != "" {
		req.SetBasicAuth(s.opts.Username, s.opts.Password)
	}
	resp, err := (&http.Client{Timeout: 2 * time.Second}).Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode == 200 && strings.TrimSpace(string(b)) == "OK"
}

// Kill stops the server with SIGKILL, as a crash or a pulled cable would,
// and waits until it is gone. Killing a stopped server does nothing.
func (s *Server) Kill() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.exit
	s.cmd = nil
}

// CPUTime returns the processor time (user and system) the running server
// has used so far, read from /proc (Linux).
func (s *Server) CPUTime() time.Duration {
	s.t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		s.t.Fatal(err)
	}
	// Fields after the command name (which is in parentheses): utime and stime are the 12th and 13th.
	fields := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	var utime, stime int64
	if _, err := fmt.Sscan(fields[11]+" "+fields[12], &utime, &stime); err != nil {
		s.t.Fatal(err)
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond // USER_HZ = 100 on Linux
}

// Restart starts the server again on the same address with the same
// database, as after a crash.
func (s *Server) Restart() {
	s.t.Helper()
	s.Kill()
	s.start()
}

// Chromium returns the headless browser, failing or skipping the test
// when there is none.
func Chromium(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("LSTMLAB_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	testenv.Missing(t, "Chromium", "install Debian's chromium (.ci/install-mlflow-tools.sh does), or set LSTMLAB_CHROMIUM")
	return ""
}

// chromiumArgs are the flags that run Chromium headless here, in a fresh
// profile, without network traffic of its own; the page gets up to 20 s of
// virtual time to run its scripts.
func chromiumArgs(profile string) []string {
	return []string{"--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
		"--user-data-dir=" + profile, "--window-size=1400,900", "--virtual-time-budget=20000"}
}

func runChromium(t testing.TB, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, Chromium(t), append(chromiumArgs(t.TempDir()), args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %s: %v\n%s", args[len(args)-1], err, tail(stderr.Bytes(), 2000))
	}
	return stdout.Bytes()
}

// DOM loads url in headless Chromium and returns the document as its
// scripts left it.
func DOM(t testing.TB, url string) string {
	t.Helper()
	return string(runChromium(t, "--dump-dom", url))
}

// Screenshot loads url in headless Chromium and saves a 1400×900 PNG to
// file.
func Screenshot(t testing.TB, url, file string) {
	t.Helper()
	runChromium(t, "--screenshot="+file, url)
	b, err := os.ReadFile(file)
	if err != nil || !bytes.HasPrefix(b, []byte("\x89PNG")) {
		t.Fatalf("no PNG screenshot of %s at %s: %v", url, file, err)
	}
}

// OutputDir returns the folder where a test leaves files for a person to
// look at (screenshots): $LSTMLAB_TEST_OUTPUT/<test name>, by default
// .cache/test-output/<test name> in the working tree. It is emptied first.
func OutputDir(t testing.TB) string {
	t.Helper()
	root := os.Getenv("LSTMLAB_TEST_OUTPUT")
	if root == "" {
		root = filepath.Join(ModuleRoot(t), ".cache", "test-output")
	}
	dir := filepath.Join(root, regexp.MustCompile(`[^A-Za-z0-9_.-]+`).ReplaceAllString(t.Name(), "_"))
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
