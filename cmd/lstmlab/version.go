package main

import (
	"fmt"
	"runtime"
	"sort"
	"strings"

	"github.com/gomlx/compute"
	"github.com/spf13/cobra"

	"github.com/lstmlab/lstmlab/internal/buildinfo"
	"github.com/lstmlab/lstmlab/lstm"
	"github.com/lstmlab/lstmlab/tracker"
)

// versionInfo is what `lstmlab version` reports, read from the binary's build information.
type versionInfo struct {
	// Version is the module version: a release tag when installed with go install module@version,
	// "(devel)" when built from a checkout.
	Version string `json:"version"`
	// Commit, CommitTime and Dirty come from the version control stamp (go build in a git checkout);
	// empty when the binary was built without it (-buildvcs=false, or outside a checkout).
	Commit     string `json:"commit,omitempty"`
	CommitTime string `json:"commit_time,omitempty"`
	Dirty      *bool  `json:"dirty,omitempty"`
	Go         string `json:"go"`
	// GOEXPERIMENT is the experiments the binary was built with (simd turns on the SIMD kernels of
	// the pure-Go backend).
	GOEXPERIMENT string `json:"goexperiment"`
	Platform     string `json:"platform"`
	Tags         string `json:"build_tags,omitempty"`
	// Backends are the GoMLX backends compiled in; XLAPlugins the PJRT plugins found on this machine.
	Backends      []string          `json:"backends"`
	XLAPlugins    map[string]string `json:"xla_plugins"`
	TrackerSchema int               `json:"tracker_schema"`
}

func readVersion() versionInfo {
	v := versionInfo{Version: "unknown", Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH,
		Backends: compute.List(), XLAPlugins: map[string]string{}, TrackerSchema: tracker.SchemaVersion()}
	for _, p := range []string{"cpu", "cuda"} {
		if path := lstm.FindXLAPlugin(p); path != "" {
			v.XLAPlugins[p] = path
		}
	}
	sort.Strings(v.Backends)
	bi, ok := buildinfo.Read()
	if !ok {
		return v
	}
	v.Version, v.Go, v.Commit, v.CommitTime, v.Dirty = bi.Version, bi.GoVersion, bi.Commit, bi.CommitTime, bi.Dirty
	v.GOEXPERIMENT, v.Tags = bi.GOEXPERIMENT, bi.Tags
	return v
}

func newVersionCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Version, commit, Go version, build experiments and compute backends of this binary",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(g, "text", "json"); err != nil {
				return err
			}
			v := readVersion()
			if g.format == "json" {
				return printJSON(g.stdout, v)
			}
			commit := "unknown (built without version control information)"
			if v.Commit != "" {
				commit = v.Commit
				if v.CommitTime != "" {
					commit += " (" + v.CommitTime + ")"
				}
				if v.Dirty != nil && *v.Dirty {
					commit += ", with uncommitted changes"
				} else if v.Dirty != nil {
					commit += ", clean"
				}
			}
			exp := v.GOEXPERIMENT
			if exp == "" {
				exp = "none"
			}
			plugins := "none found"
			if len(v.XLAPlugins) > 0 {
				var ps []string
				for p, path := range v.XLAPlugins {
					ps = append(ps, p+" "+path)
				}
				plugins = strings.Join(ps, ", ")
			}
			w := g.stdout
			fmt.Fprintf(w, "lstmlab %s\n", v.Version)
			fmt.Fprintf(w, "commit:         %s\n", commit)
			fmt.Fprintf(w, "go:             %s %s\n", v.Go, v.Platform)
			fmt.Fprintf(w, "GOEXPERIMENT:   %s\n", exp)
			if v.Tags != "" {
				fmt.Fprintf(w, "build tags:     %s\n", v.Tags)
			}
			fmt.Fprintf(w, "backends:       %s\n", strings.Join(v.Backends, ", "))
			fmt.Fprintf(w, "XLA plugins:    %s\n", plugins)
			fmt.Fprintf(w, "tracker schema: %d\n", v.TrackerSchema)
			return nil
		},
	}
	addFormatFlag(cmd, g, "text", "json")
	return cmd
}
