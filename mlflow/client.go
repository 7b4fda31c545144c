package mlflow

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Client calls the REST API of an MLflow tracking server (MLflow itself,
// FastTrackML, Databricks, GitLab...): the handful of endpoints under
// /api/2.0/mlflow/ that the mirror needs, and the artifact upload of
// /api/2.0/mlflow-artifacts/. MLflow has no maintained Go client; this is a
// thin net/http + encoding/json layer over
// https://mlflow.org/docs/latest/rest-api.html. Each method makes one
// request and never retries: the caller decides (see Temporary). A Client is
// safe for concurrent use.
type Client struct {
	base  *url.URL // scheme://host[:port][/path], no credentials, no trailing slash
	http  *http.Client
	creds Credentials
}

// Credentials authenticate to a tracking server the way MLflow's own client
// does: HTTP basic auth with Username and Password, or a bearer Token (which
// wins when both are set). They are sent with every request and never
// appear in errors, logs or String.
type Credentials struct {
	Username, Password string
	Token              string
}

// The environment variables MLflow's clients read for credentials.
const (
	EnvTrackingURI      = "MLFLOW_TRACKING_URI"
	EnvTrackingUsername = "MLFLOW_TRACKING_USERNAME"
	EnvTrackingPassword = "MLFLOW_TRACKING_PASSWORD"
	EnvTrackingToken    = "MLFLOW_TRACKING_TOKEN"
)

// CredentialsFromEnv reads MLFLOW_TRACKING_USERNAME, MLFLOW_TRACKING_PASSWORD
// and MLFLOW_TRACKING_TOKEN through getenv (os.Getenv in a program).
func CredentialsFromEnv(getenv func(string) string) Credentials {
	return Credentials{
		Username: getenv(EnvTrackingUsername),
		Password: getenv(EnvTrackingPassword),
		Token:    getenv(EnvTrackingToken),
	}
}

// String says which kind of credentials are set, never their secret part.
func (c Credentials) String() string {
	switch {
	case c.Token != "":
		return "bearer token"
	case c.Username != "" || c.Password != "":
		return "basic auth as " + c.Username
	}
	return "no credentials"
}

// GoString hides the secrets from %#v too.
func (c Credentials) GoString() string { return "mlflow.Credentials{" + c.String() + "}" }

// ClientOptions configures NewClient. The zero value is usable.
type ClientOptions struct {
	Credentials Credentials
	// Timeout bounds each request (connection, upload and response).
	// Default 30s; ignored when HTTPClient is set.
	Timeout time.Duration
	// HTTPClient replaces the default client (tests, proxies, custom TLS).
	HTTPClient *http.Client
}

// NewClient returns a client for the tracking server at trackingURI, an
// http:// or https:// address such as http://127.0.0.1:5000 (a path prefix
// is kept: https://host/mlflow). Credentials in the address
// (http://user:pass@host) are refused: they would end up in shell history,
// process lists and the run's recorded command; pass them in
// ClientOptions.Credentials (MLFLOW_TRACKING_USERNAME/PASSWORD or
// MLFLOW_TRACKING_TOKEN) instead.
func NewClient(trackingURI string, opts ClientOptions) (*Client, error) {
	u, err := ParseTrackingURI(trackingURI)
	if err != nil {
		return nil, err
	}
	hc := opts.HTTPClient
	if hc == nil {
		timeout := opts.Timeout
		if timeout <= 0 {
			timeout = 30 * time.Second
		}
		hc = &http.Client{Timeout: timeout}
	}
	return &Client{base: u, http: hc, creds: opts.Credentials}, nil
}

// ParseTrackingURI checks a tracking server address and returns it in the
// form the client uses: scheme and host in lower case, no trailing slash.
// The errors name the problem (not a URL, another scheme, credentials in
// the address).
func ParseTrackingURI(s string) (*url.URL, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("empty MLflow tracking URI")
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("MLflow tracking URI %q is not a URL", s)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("MLflow tracking URI %q: want an http:// or https:// server address "+
			"(file stores, databricks and database URIs are not supported)", redactedURI(u))
	case u.User != nil:
		return nil, fmt.Errorf("MLflow tracking URI %s holds credentials: put them in %s and %s (or %s) instead",
			redactedURI(u), EnvTrackingUsername, EnvTrackingPassword, EnvTrackingToken)
	case u.Host == "":
		return nil, fmt.Errorf("MLflow tracking URI %q has no host", s)
	case u.RawQuery != "" || u.Fragment != "":
		return nil, fmt.Errorf("MLflow tracking URI %s: a server address takes no query or fragment", redactedURI(u))
	}
	u.Host = strings.ToLower(u.Host)
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// redactedURI prints u without the password and without query and
// fragment (which can hold tokens).
func redactedURI(u *url.URL) string {
	c := *u
	c.RawQuery, c.Fragment = "", ""
	return c.Redacted()
}

// URI returns the server address as the client uses it (no credentials):
// the key under which the tracker records which remote run holds a run.
func (c *Client) URI() string { return c.base.String() }

// IsLoopback reports whether the server runs on this machine (localhost,
// 127.0.0.0/8, ::1), where a file:// artifact location means the same folder
// to the server and to us.
func (c *Client) IsLoopback() bool {
	host := c.base.Hostname()
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// APIError is a request the server answered with an HTTP error status. Code
// is MLflow's error_code (RESOURCE_DOES_NOT_EXIST, INVALID_PARAMETER_VALUE,
// ...) when the body carried one.
type APIError struct {
	Method, Endpoint string // e.g. POST runs/log-batch
	StatusCode       int
	Code, Message    string
}

func (e *APIError) Error() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "MLflow %s: HTTP %d", e.Endpoint, e.StatusCode)
	if e.Code != "" {
		sb.WriteString(" " + e.Code)
	}
	if e.Message != "" {
		sb.WriteString(": " + e.Message)
	}
	if e.StatusCode == http.StatusUnauthorized || e.StatusCode == http.StatusForbidden {
		fmt.Fprintf(&sb, " (the server wants credentials: set %s and %s, or %s)",
			EnvTrackingUsername, EnvTrackingPassword, EnvTrackingToken)
	}
	return sb.String()
}

// UnreachableError is a request that got no HTTP answer: connection
// refused, DNS failure, timeout.
type UnreachableError struct {
	URI string
	Err error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("MLflow server %s unreachable: %v", e.URI, e.Err)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// IsNotFound reports whether err is the server saying the experiment, run
// or endpoint does not exist.
func IsNotFound(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && (ae.Code == "RESOURCE_DOES_NOT_EXIST" || ae.StatusCode == http.StatusNotFound)
}

// Temporary reports whether retrying the same request later may succeed:
// the server was unreachable, overloaded (429) or failed (5xx). A rejected
// request (4xx) is not temporary.
func Temporary(err error) bool {
	var ue *UnreachableError
	if errors.As(err, &ue) {
		return true
	}
	var ae *APIError
	return errors.As(err, &ae) && (ae.StatusCode >= 500 || ae.StatusCode == http.StatusTooManyRequests ||
		ae.StatusCode == http.StatusRequestTimeout)
}

// endpoint is the URL of an API path such as "runs/get".
func (c *Client) endpoint(prefix, path string, query url.Values) string {
	u := *c.base
	u.Path = c.base.Path + prefix + path
	u.RawQuery = query.Encode()
	return u.String()
}

const apiPrefix = "/api/2.0/mlflow/"

// call sends one request to /api/2.0/mlflow/<path>: GET with query, or POST
// with in as JSON; the JSON answer is decoded into out (if not nil).
func (c *Client) call(ctx context.Context, method, path string, query url.Values, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("MLflow %s: encode request: %w", path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.endpoint(apiPrefix, path, query), body)
	if err != nil {
		return fmt.Errorf("MLflow %s: %w", path, err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return c.do(req, path, out)
}

// do sends req with the credentials and decodes a JSON answer into out.
func (c *Client) do(req *http.Request, endpoint string, out any) error {
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "lstmlab")
	switch {
	case c.creds.Token != "":
		req.Header.Set("Authorization", "Bearer "+c.creds.Token)
	case c.creds.Username != "" || c.creds.Password != "":
		req.SetBasicAuth(c.creds.Username, c.creds.Password)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctxErr := req.Context().Err(); ctxErr != nil {
			return fmt.Errorf("MLflow %s: %w", endpoint, ctxErr)
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its message repeats the method and URL
		}
		return &UnreachableError{URI: c.URI(), Err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return apiError(req.Method, endpoint, resp)
	}
	if out == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("MLflow %s: decode the answer: %w", endpoint, err)
	}
	return nil
}

// apiError reads MLflow's {"error_code": ..., "message": ...} body, or the
// start of whatever else the server (or a proxy in front of it) sent.
func apiError(method, endpoint string, resp *http.Response) error {
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	e := &APIError{Method: method, Endpoint: endpoint, StatusCode: resp.StatusCode}
	var body struct {
		Code    string `json:"error_code"`
		Message string `json:"message"`
	}
	if json.Unmarshal(raw, &body) == nil && (body.Code != "" || body.Message != "") {
		e.Code, e.Message = body.Code, body.Message
	} else {
		e.Message = strings.TrimSpace(string(raw))
		if len(e.Message) > 200 {
			e.Message = e.Message[:200] + "..."
		}
	}
	return e
}
