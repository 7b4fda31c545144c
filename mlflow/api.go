package mlflow

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"

	"github.com/lstmlab/lstmlab/tracker"
)

// RunStatus is the state of an MLflow run.
type RunStatus string

// MLflow's run statuses (RunStatus in MLflow's protobuf schema).
const (
	StatusRunning   RunStatus = "RUNNING"
	StatusScheduled RunStatus = "SCHEDULED"
	StatusFinished  RunStatus = "FINISHED"
	StatusFailed    RunStatus = "FAILED"
	StatusKilled    RunStatus = "KILLED"
)

// LifecycleDeleted is the lifecycle stage of a deleted run or experiment;
// live ones are "active".
const LifecycleDeleted = "deleted"

// Experiment is an MLflow experiment.
type Experiment struct {
	ID               string `json:"experiment_id"`
	Name             string `json:"name"`
	ArtifactLocation string `json:"artifact_location"`
	LifecycleStage   string `json:"lifecycle_stage"`
}

// RunInfo is the metadata of an MLflow run. Times are Unix milliseconds;
// EndTime is 0 while unset.
type RunInfo struct {
	ID             string
	Name           string
	ExperimentID   string
	Status         RunStatus
	StartTime      int64
	EndTime        int64
	ArtifactURI    string
	LifecycleStage string
}

// UnmarshalJSON reads MLflow's run_info, accepting the older run_uuid for
// the id and int64 fields written as JSON strings (protobuf's JSON mapping).
func (ri *RunInfo) UnmarshalJSON(b []byte) error {
	var w struct {
		RunID          string    `json:"run_id"`
		RunUUID        string    `json:"run_uuid"`
		RunName        string    `json:"run_name"`
		ExperimentID   string    `json:"experiment_id"`
		Status         RunStatus `json:"status"`
		StartTime      flexInt   `json:"start_time"`
		EndTime        flexInt   `json:"end_time"`
		ArtifactURI    string    `json:"artifact_uri"`
		LifecycleStage string    `json:"lifecycle_stage"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*ri = RunInfo{ID: w.RunID, Name: w.RunName, ExperimentID: w.ExperimentID, Status: w.Status,
		StartTime: int64(w.StartTime), EndTime: int64(w.EndTime), ArtifactURI: w.ArtifactURI, LifecycleStage: w.LifecycleStage}
	if ri.ID == "" {
		ri.ID = w.RunUUID
	}
	return nil
}

// Run is a run's metadata and data. In Data.Metrics each key appears once,
// with its latest point (highest step).
type Run struct {
	Info RunInfo `json:"info"`
	Data RunData `json:"data"`
}

// RunData holds a run's params, tags and latest metrics.
type RunData struct {
	Metrics []Metric `json:"metrics"`
	Params  []Param  `json:"params"`
	Tags    []Tag    `json:"tags"`
}

// TagMap returns the tags as a map.
func (d RunData) TagMap() map[string]string {
	m := make(map[string]string, len(d.Tags))
	for _, t := range d.Tags {
		m[t.Key] = t.Value
	}
	return m
}

// ParamMap returns the params as a map.
func (d RunData) ParamMap() map[string]string {
	m := make(map[string]string, len(d.Params))
	for _, p := range d.Params {
		m[p.Key] = p.Value
	}
	return m
}

// Param is a hyperparameter; MLflow stores every value as a string and never
// lets it change once logged.
type Param struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Tag is a label that may change.
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Metric is one metric point: Timestamp is the wall time in Unix
// milliseconds. Value may be NaN or ±Inf: MLflow's JSON spells them "NaN",
// "Infinity" and "-Infinity" (protobuf's JSON mapping for doubles).
// Servers may store ±Inf as ±math.MaxFloat64 (MLflow's SQL stores and
// FastTrackML do).
type Metric struct {
	Key       string
	Value     float64
	Timestamp int64
	Step      int64
}

type metricJSON struct {
	Key       string            `json:"key"`
	Value     tracker.JSONFloat `json:"value"`
	Timestamp flexInt           `json:"timestamp"`
	Step      flexInt           `json:"step"`
}

// MarshalJSON writes the point with a non-finite value as a string.
func (m Metric) MarshalJSON() ([]byte, error) {
	return json.Marshal(metricJSON{m.Key, tracker.JSONFloat(m.Value), flexInt(m.Timestamp), flexInt(m.Step)})
}

// UnmarshalJSON reads a point whose value is a number or "NaN",
// "Infinity", "-Infinity".
func (m *Metric) UnmarshalJSON(b []byte) error {
	var w metricJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*m = Metric{Key: w.Key, Value: float64(w.Value), Timestamp: int64(w.Timestamp), Step: int64(w.Step)}
	return nil
}

// flexInt is a JSON int64 written as a number or, by protobuf's JSON
// mapping, a string.
type flexInt int64

func (n *flexInt) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not an integer", s)
		}
		*n = flexInt(v)
		return nil
	}
	var v int64
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*n = flexInt(v)
	return nil
}

// ExperimentByName returns the experiment called name (IsNotFound if there
// is none). Deleted experiments are returned too, with LifecycleStage
// "deleted".
func (c *Client) ExperimentByName(ctx context.Context, name string) (Experiment, error) {
	var out struct {
		Experiment Experiment `json:"experiment"`
	}
	err := c.call(ctx, "GET", "experiments/get-by-name", url.Values{"experiment_name": {name}}, nil, &out)
	return out.Experiment, err
}

// CreateExperiment creates an experiment and returns its id. It fails with
// error code RESOURCE_ALREADY_EXISTS if the name is taken.
func (c *Client) CreateExperiment(ctx context.Context, name string) (string, error) {
	var out struct {
		ID string `json:"experiment_id"`
	}
	err := c.call(ctx, "POST", "experiments/create", nil, map[string]string{"name": name}, &out)
	return out.ID, err
}

// CreateRun is the request of Client.CreateRun.
type CreateRun struct {
	ExperimentID string `json:"experiment_id"`
	Name         string `json:"run_name,omitempty"`
	StartTime    int64  `json:"start_time,omitempty"` // Unix ms
	Tags         []Tag  `json:"tags,omitempty"`
}

// CreateRun creates a run, in status RUNNING.
func (c *Client) CreateRun(ctx context.Context, req CreateRun) (Run, error) {
	var out struct {
		Run Run `json:"run"`
	}
	err := c.call(ctx, "POST", "runs/create", nil, req, &out)
	return out.Run, err
}

// GetRun returns a run with its params, tags and latest metrics (IsNotFound
// if there is no such run).
func (c *Client) GetRun(ctx context.Context, runID string) (Run, error) {
	var out struct {
		Run Run `json:"run"`
	}
	err := c.call(ctx, "GET", "runs/get", url.Values{"run_id": {runID}}, nil, &out)
	return out.Run, err
}

// SearchRuns is the request of Client.SearchRuns. Filter uses MLflow's
// search syntax, e.g. "tags.`lstmlab.origin` = 'host:/x.db#3'".
type SearchRuns struct {
	ExperimentIDs []string `json:"experiment_ids"`
	Filter        string   `json:"filter,omitempty"`
	MaxResults    int      `json:"max_results,omitempty"`
	PageToken     string   `json:"page_token,omitempty"`
}

// SearchRuns returns one page of the runs matching req, and the token of
// the next page ("" after the last).
func (c *Client) SearchRuns(ctx context.Context, req SearchRuns) ([]Run, string, error) {
	var out struct {
		Runs []Run  `json:"runs"`
		Next string `json:"next_page_token"`
	}
	err := c.call(ctx, "POST", "runs/search", nil, req, &out)
	return out.Runs, out.Next, err
}

// UpdateRun is the request of Client.UpdateRun. Zero fields are left as
// they are.
type UpdateRun struct {
	RunID   string    `json:"run_id"`
	Status  RunStatus `json:"status,omitempty"`
	EndTime int64     `json:"end_time,omitempty"` // Unix ms
	Name    string    `json:"run_name,omitempty"`
}

// UpdateRun changes a run's status, end time or name.
func (c *Client) UpdateRun(ctx context.Context, req UpdateRun) error {
	return c.call(ctx, "POST", "runs/update", nil, req, nil)
}

// DeleteTag deletes a tag of a run (runs/delete-tag).
func (c *Client) DeleteTag(ctx context.Context, runID, key string) error {
	req := struct {
		RunID string `json:"run_id"`
		Key   string `json:"key"`
	}{runID, key}
	return c.call(ctx, "POST", "runs/delete-tag", nil, req, nil)
}

// The limits of one runs/log-batch request, from MLflow's REST API
// reference: at most 1000 metrics, 100 params and 100 tags, 1000 items in
// all (and 1 MB, which requests within these counts and the value lengths
// below stay under).
const (
	MaxMetricsPerBatch  = 1000
	MaxParamsPerBatch   = 100
	MaxTagsPerBatch     = 100
	MaxEntitiesPerBatch = 1000
)

// The value lengths every MLflow backend accepts (REST API reference): keys
// up to 250 bytes, param values up to 500 bytes and tag values up to 5000
// bytes. Newer MLflow servers accept longer values.
const (
	MaxKeyBytes        = 250
	MaxParamValueBytes = 500
	MaxTagValueBytes   = 5000
)

// Batch is what one runs/log-batch request carries.
type Batch struct {
	Metrics []Metric `json:"metrics,omitempty"`
	Params  []Param  `json:"params,omitempty"`
	Tags    []Tag    `json:"tags,omitempty"`
}

// Len is the number of items in the batch.
func (b Batch) Len() int { return len(b.Metrics) + len(b.Params) + len(b.Tags) }

// SplitBatch cuts b into batches within the runs/log-batch limits, keeping
// the order of each kind (so a metric's points stay in step order across
// requests). An empty b gives no batches.
func SplitBatch(b Batch) []Batch {
	var out []Batch
	m, p, t := b.Metrics, b.Params, b.Tags
	for len(m)+len(p)+len(t) > 0 {
		var cur Batch
		n := min(len(p), MaxParamsPerBatch)
		cur.Params, p = p[:n:n], p[n:]
		n = min(len(t), MaxTagsPerBatch)
		cur.Tags, t = t[:n:n], t[n:]
		n = min(len(m), MaxMetricsPerBatch, MaxEntitiesPerBatch-len(cur.Params)-len(cur.Tags))
		cur.Metrics, m = m[:n:n], m[n:]
		out = append(out, cur)
	}
	return out
}

// LogBatch logs metrics, params and tags to a run in one request. b must be
// within the limits (see SplitBatch). MLflow servers may have written part
// of a batch when they answer with an error.
func (c *Client) LogBatch(ctx context.Context, runID string, b Batch) error {
	switch {
	case len(b.Metrics) > MaxMetricsPerBatch, len(b.Params) > MaxParamsPerBatch, len(b.Tags) > MaxTagsPerBatch,
		b.Len() > MaxEntitiesPerBatch:
		return fmt.Errorf("MLflow runs/log-batch: %d metrics, %d params, %d tags exceed the limits of one request (split with SplitBatch)",
			len(b.Metrics), len(b.Params), len(b.Tags))
	case b.Len() == 0:
		return nil
	}
	req := struct {
		RunID string `json:"run_id"`
		Batch
	}{runID, b}
	return c.call(ctx, "POST", "runs/log-batch", nil, req, nil)
}

// MetricHistory returns every point of one metric of a run, in the order
// the server keeps them, following the pages of servers that paginate.
func (c *Client) MetricHistory(ctx context.Context, runID, key string) ([]Metric, error) {
	var all []Metric
	token := ""
	for {
		q := url.Values{"run_id": {runID}, "metric_key": {key}}
		if token != "" {
			q.Set("page_token", token)
		}
		var out struct {
			Metrics []Metric `json:"metrics"`
			Next    string   `json:"next_page_token"`
		}
		if err := c.call(ctx, "GET", "metrics/get-history", q, nil, &out); err != nil {
			return nil, err
		}
		all = append(all, out.Metrics...)
		if out.Next == "" || out.Next == token {
			return all, nil
		}
		token = out.Next
	}
}
