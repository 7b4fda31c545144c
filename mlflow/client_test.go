package mlflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// These tests check the client's side of the protocol against httptest servers that answer as MLflow's
// REST API reference says. What a real server does with the requests is tested in mirror_test.go, against
// FastTrackML.

func newTestClient(t *testing.T, h http.Handler, creds Credentials) *Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := NewClient(srv.URL, ClientOptions{Credentials: creds})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestParseTrackingURI(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:5000":          "http://127.0.0.1:5000",
		"HTTP://MLflow.Example.org/":     "http://mlflow.example.org",
		" https://host:8443/mlflow/ ":    "https://host:8443/mlflow",
		"http://[::1]:5000":              "http://[::1]:5000",
		"https://dbc.cloud.databricks.x": "https://dbc.cloud.databricks.x",
	} {
		u, err := ParseTrackingURI(in)
		if err != nil || u.String() != want {
			t.Errorf("ParseTrackingURI(%q) = %v, %v; want %s", in, u, err, want)
		}
	}
	for in, want := range map[string]string{
		"":                           "empty",
		"databricks":                 "http:// or https://",
		"file:///tmp/mlruns":         "http:// or https://",
		"sqlite:///mlflow.db":        "http:// or https://",
		"http://":                    "no host",
		"http://alice:pw-9c1@host:1": "holds credentials",
		"http://host:1/?token=abc":   "no query",
	} {
		_, err := ParseTrackingURI(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseTrackingURI(%q): error %v, want one mentioning %q", in, err, want)
		}
		if err != nil && (strings.Contains(err.Error(), "pw-9c1") || strings.Contains(err.Error(), "token=abc")) {
			t.Errorf("ParseTrackingURI(%q): the error shows a secret: %v", in, err)
		}
	}
}

func TestClientSendsCredentials(t *testing.T) {
	var mu sync.Mutex
	var got []string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Header.Get("Authorization"))
		mu.Unlock()
		fmt.Fprint(w, `{"experiment": {"experiment_id": "7", "name": "x"}}`)
	})
	for _, tc := range []struct {
		creds Credentials
		want  string
	}{
		{Credentials{}, ""},
		{Credentials{Username: "alice", Password: "s3cret"}, "Basic YWxpY2U6czNjcmV0"},
		{Credentials{Token: "tok-1"}, "Bearer tok-1"},
		{Credentials{Username: "alice", Password: "s3cret", Token: "tok-1"}, "Bearer tok-1"},
	} {
		got = nil
		c := newTestClient(t, h, tc.creds)
		e, err := c.ExperimentByName(context.Background(), "x")
		if err != nil || e.ID != "7" {
			t.Fatalf("%v: %+v, %v", tc.creds, e, err)
		}
		if len(got) != 1 || got[0] != tc.want {
			t.Errorf("%v: Authorization %q, want %q", tc.creds, got, tc.want)
		}
		for _, s := range []string{fmt.Sprint(tc.creds), fmt.Sprintf("%v %+v %#v", tc.creds, tc.creds, tc.creds)} {
			if strings.Contains(s, "s3cret") || strings.Contains(s, "tok-1") {
				t.Errorf("printing credentials shows the secret: %s", s)
			}
		}
	}
}

func TestCredentialsFromEnv(t *testing.T) {
	env := map[string]string{EnvTrackingUsername: "u", EnvTrackingPassword: "p", EnvTrackingToken: "t"}
	c := CredentialsFromEnv(func(k string) string { return env[k] })
	if c != (Credentials{Username: "u", Password: "p", Token: "t"}) {
		t.Errorf("CredentialsFromEnv = %#v", c)
	}
}

func TestClientErrors(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("run_id") {
		case "missing":
			w.WriteHeader(404)
			fmt.Fprint(w, `{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "Run 'missing' not found"}`)
		case "broken":
			w.WriteHeader(500)
			fmt.Fprint(w, `<html>`+strings.Repeat("x", 1000)+`</html>`)
		case "locked":
			w.WriteHeader(401)
			fmt.Fprint(w, `Unauthorized`)
		case "bad":
			w.WriteHeader(400)
			fmt.Fprint(w, `{"error_code": "INVALID_PARAMETER_VALUE", "message": "no"}`)
		}
	})
	c := newTestClient(t, h, Credentials{Username: "alice", Password: "pw-42"})
	ctx := context.Background()

	_, err := c.GetRun(ctx, "missing")
	if !IsNotFound(err) || Temporary(err) || !strings.Contains(err.Error(), "runs/get: HTTP 404 RESOURCE_DOES_NOT_EXIST: Run 'missing' not found") {
		t.Errorf("missing run: %v (not found %v, temporary %v)", err, IsNotFound(err), Temporary(err))
	}
	_, err = c.GetRun(ctx, "broken")
	if IsNotFound(err) || !Temporary(err) || len(err.Error()) > 300 {
		t.Errorf("server failure: %v (temporary %v); want a temporary error with the body cut short", err, Temporary(err))
	}
	_, err = c.GetRun(ctx, "locked")
	if Temporary(err) || !strings.Contains(err.Error(), "HTTP 401") || !strings.Contains(err.Error(), EnvTrackingUsername) {
		t.Errorf("refused credentials: %v; want HTTP 401 naming %s", err, EnvTrackingUsername)
	}
	_, err = c.GetRun(ctx, "bad")
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != "INVALID_PARAMETER_VALUE" || Temporary(err) {
		t.Errorf("rejected request: %v", err)
	}
	for _, e := range []error{err} {
		if strings.Contains(e.Error(), "pw-42") {
			t.Errorf("error shows the password: %v", e)
		}
	}

	// Nothing listens on a port just released.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	down, err := NewClient("http://"+addr, ClientOptions{Credentials: Credentials{Token: "tok-9"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = down.GetRun(ctx, "x")
	var ue *UnreachableError
	if !errors.As(err, &ue) || !Temporary(err) || !strings.Contains(err.Error(), "http://"+addr+" unreachable") ||
		strings.Contains(err.Error(), "tok-9") {
		t.Errorf("server down: %v; want an UnreachableError naming the server and no secret", err)
	}
}

func TestMetricJSON(t *testing.T) {
	b, err := json.Marshal([]Metric{
		{Key: "loss", Value: 1.5, Timestamp: 1700000000000, Step: 3},
		{Key: "loss", Value: math.NaN(), Timestamp: 1, Step: 4},
		{Key: "loss", Value: math.Inf(1), Timestamp: 1, Step: 5},
		{Key: "loss", Value: math.Inf(-1), Timestamp: 1, Step: 6},
		{Key: "lr", Value: 1e-7, Timestamp: 1, Step: 0},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"key":"loss","value":1.5,"timestamp":1700000000000,"step":3},` +
		`{"key":"loss","value":"NaN","timestamp":1,"step":4},` +
		`{"key":"loss","value":"Infinity","timestamp":1,"step":5},` +
		`{"key":"loss","value":"-Infinity","timestamp":1,"step":6},` +
		`{"key":"lr","value":1e-7,"timestamp":1,"step":0}]`
	if string(b) != want {
		t.Errorf("marshal:\n got %s\nwant %s", b, want)
	}
	// Servers answer with numbers or, for int64 fields and non-finite doubles, strings.
	var ms []Metric
	in := `[{"key":"a","value":"NaN","timestamp":"1700000000001","step":"2"},{"key":"b","value":"-Infinity","timestamp":5,"step":1},` +
		`{"key":"c","value":"Infinity","timestamp":5,"step":1},{"key":"d","value":-1.7976931348623157e+308,"timestamp":5,"step":1},` +
		`{"key":"e","value":"0.25","timestamp":5}]`
	if err := json.Unmarshal([]byte(in), &ms); err != nil {
		t.Fatal(err)
	}
	if len(ms) != 5 || !math.IsNaN(ms[0].Value) || ms[0].Timestamp != 1700000000001 || ms[0].Step != 2 ||
		!math.IsInf(ms[1].Value, -1) || !math.IsInf(ms[2].Value, 1) || ms[3].Value != -math.MaxFloat64 || ms[4].Value != 0.25 || ms[4].Step != 0 {
		t.Errorf("unmarshal: %+v", ms)
	}
	if err := json.Unmarshal([]byte(`{"key":"a","value":"lots"}`), &Metric{}); err == nil {
		t.Error(`value "lots" was accepted`)
	}
	var ri RunInfo
	if err := json.Unmarshal([]byte(`{"run_uuid":"abc","start_time":"17","status":"KILLED"}`), &ri); err != nil || ri.ID != "abc" ||
		ri.StartTime != 17 || ri.Status != StatusKilled {
		t.Errorf("run_info with run_uuid and string times: %+v, %v", ri, err)
	}
}

func TestSplitBatch(t *testing.T) {
	metrics := make([]Metric, 2500)
	for i := range metrics {
		metrics[i] = Metric{Key: "m", Step: int64(i), Timestamp: 1}
	}
	params := make([]Param, 250)
	for i := range params {
		params[i] = Param{Key: fmt.Sprint("p", i), Value: "v"}
	}
	tags := make([]Tag, 120)
	for i := range tags {
		tags[i] = Tag{Key: fmt.Sprint("t", i), Value: "v"}
	}
	batches := SplitBatch(Batch{Metrics: metrics, Params: params, Tags: tags})
	var nm, np, nt int
	nextStep := int64(0)
	for i, b := range batches {
		if len(b.Metrics) > MaxMetricsPerBatch || len(b.Params) > MaxParamsPerBatch || len(b.Tags) > MaxTagsPerBatch ||
			b.Len() > MaxEntitiesPerBatch || b.Len() == 0 {
			t.Errorf("batch %d: %d metrics, %d params, %d tags: over the limits or empty", i, len(b.Metrics), len(b.Params), len(b.Tags))
		}
		for _, m := range b.Metrics {
			if m.Step != nextStep {
				t.Fatalf("batch %d: step %d, want %d: points out of order", i, m.Step, nextStep)
			}
			nextStep++
		}
		nm, np, nt = nm+len(b.Metrics), np+len(b.Params), nt+len(b.Tags)
	}
	if nm != 2500 || np != 250 || nt != 120 {
		t.Errorf("split into %d metrics, %d params, %d tags; want 2500, 250, 120", nm, np, nt)
	}
	// Full batches: 100 params + 100 tags + 800 metrics, then 100 + 20 + 880, then 50 + 0 + 820.
	if len(batches) != 3 || len(batches[0].Metrics) != 800 || len(batches[1].Metrics) != 880 {
		t.Errorf("%d batches, metrics %d, %d; want 3 batches, 800 and 880 metrics first", len(batches), len(batches[0].Metrics), len(batches[1].Metrics))
	}
	if SplitBatch(Batch{}) != nil {
		t.Error("an empty batch was split into requests")
	}
}

func TestLogBatchRequest(t *testing.T) {
	var body map[string]any
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != "POST" || r.URL.Path != "/prefix/api/2.0/mlflow/runs/log-batch" || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s %s (%s)", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			t.Error(err)
		}
		fmt.Fprint(w, `{}`)
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	c, err := NewClient(srv.URL+"/prefix/", ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	err = c.LogBatch(ctx, "r1", Batch{Metrics: []Metric{{Key: "loss", Value: math.NaN(), Timestamp: 9, Step: 1}}, Params: []Param{{"lr", "0.001"}}})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(body)
	want := `{"metrics":[{"key":"loss","step":1,"timestamp":9,"value":"NaN"}],"params":[{"key":"lr","value":"0.001"}],"run_id":"r1"}`
	if string(got) != want {
		t.Errorf("request body\n got %s\nwant %s", got, want)
	}
	if err := c.LogBatch(ctx, "r1", Batch{Metrics: make([]Metric, 1001)}); err == nil || !strings.Contains(err.Error(), "SplitBatch") {
		t.Errorf("oversized batch: %v; want a refusal before sending", err)
	}
}

func TestMetricHistoryFollowsPages(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("page_token") {
		case "":
			fmt.Fprint(w, `{"metrics":[{"key":"l","value":1,"timestamp":1,"step":0}],"next_page_token":"p2"}`)
		case "p2":
			fmt.Fprint(w, `{"metrics":[{"key":"l","value":2,"timestamp":2,"step":1}]}`)
		}
	})
	c := newTestClient(t, h, Credentials{})
	ms, err := c.MetricHistory(context.Background(), "r", "l")
	if err != nil || len(ms) != 2 || ms[1].Value != 2 {
		t.Errorf("history: %+v, %v; want both pages", ms, err)
	}
}

// FastTrackML v0.6.0 does not implement MLflow's artifact upload API (PUT /api/2.0/mlflow-artifacts/...),
// so the upload path for MLflow servers that proxy artifacts is checked here against a stand-in that
// records the request.
func TestUploadArtifactThroughMLflowArtifactsAPI(t *testing.T) {
	var gotPath, gotAuth, gotBody string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPut {
			t.Errorf("method %s, want PUT", r.Method)
		}
		gotPath, gotAuth = r.URL.EscapedPath(), r.Header.Get("Authorization")
		b, _ := io.ReadAll(r.Body)
		gotBody = string(b)
		fmt.Fprint(w, `{}`)
	})
	c := newTestClient(t, h, Credentials{Token: "t0k"})
	run := RunInfo{ID: "abc", ArtifactURI: "mlflow-artifacts:/5/abc/artifacts"}
	if err := c.CheckArtifactUpload(run); err != nil {
		t.Fatal(err)
	}
	if err := c.UploadArtifact(context.Background(), run, "model/best weights.safetensors", strings.NewReader("W")); err != nil {
		t.Fatal(err)
	}
	if gotPath != "/api/2.0/mlflow-artifacts/artifacts/5/abc/artifacts/model/best%20weights.safetensors" || gotAuth != "Bearer t0k" || gotBody != "W" {
		t.Errorf("PUT %s (auth %q) body %q", gotPath, gotAuth, gotBody)
	}
	for _, bad := range []string{"", "/etc/passwd", "../up", "a/../../up", "."} {
		if err := c.UploadArtifact(context.Background(), run, bad, strings.NewReader("W")); err == nil {
			t.Errorf("artifact path %q accepted", bad)
		}
	}
}

func TestArtifactLocations(t *testing.T) {
	local, err := NewClient("http://localhost:5000", ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	remote, err := NewClient("https://mlflow.example.org", ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	run := RunInfo{ID: "r", ArtifactURI: "file://" + filepath.ToSlash(dir) + "/1/r/artifacts"}
	if err := local.UploadArtifact(context.Background(), run, "model/w.bin", strings.NewReader("weights")); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "1", "r", "artifacts", "model", "w.bin")); err != nil || string(b) != "weights" {
		t.Errorf("local artifact: %q, %v", b, err)
	}
	for _, tc := range []struct {
		c   *Client
		uri string
	}{
		{remote, run.ArtifactURI}, // the server's folder is on another machine
		{local, "s3://bucket/1/r/artifacts"},
		{local, "mlflow-artifacts://other-host:5000/1/r/artifacts"},
		{local, ""},
	} {
		err := tc.c.CheckArtifactUpload(RunInfo{ID: "r", ArtifactURI: tc.uri})
		if !errors.Is(err, ErrArtifactsUnsupported) {
			t.Errorf("%s via %s: %v; want ErrArtifactsUnsupported", tc.uri, tc.c.URI(), err)
		}
	}
}

func TestKeyAndTruncate(t *testing.T) {
	for in, want := range map[string]string{
		"val_loss":        "val_loss",
		"before_new_val":  "before_new_val",
		"train/loss 2":    "train/loss 2",
		"größe":           "größe",
		"a:b=c":           "a_b_c",
		"/abs":            "_abs",
		"a//b":            "a__b",
		"x/":              "x_",
		"weird\u00a0key!": "weird_key_",
	} {
		if got := Key(in); got != want {
			t.Errorf("Key(%q) = %q, want %q", in, got, want)
		}
	}
	long := strings.Repeat("é", 300) // 600 bytes
	if got := Key(long); len(got) > MaxKeyBytes || !strings.HasPrefix(long, got) {
		t.Errorf("Key of 600 bytes: %d bytes, cut inside a character or too long", len(got))
	}
	if got := Truncate(long, 11); got != "éééé…" {
		t.Errorf("Truncate = %q, want éééé…", got)
	}
	if got := Truncate("short", 500); got != "short" {
		t.Errorf("Truncate(short) = %q", got)
	}
}
