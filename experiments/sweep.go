package experiments

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/lstmlab/lstmlab/lstm"
	"github.com/lstmlab/lstmlab/tracker"
)

// SweepAxis is one key and the values it takes.
type SweepAxis struct {
	Key    string
	Values []string
}

// Sweep is a grid: every combination of its axes' values is a run.
type Sweep []SweepAxis

// ParseSweep parses "key=v1,v2,..." specifications (one axis each), checking each value against the config
// type so a typo fails before the first run starts. Errors name the axis.
func ParseSweep(specs []string) (Sweep, error) {
	var sw Sweep
	seen := map[string]bool{}
	for _, spec := range specs {
		key, list, err := ParseOverride(spec)
		if err != nil {
			return nil, fmt.Errorf("sweep axis %q: want key=v1,v2", spec)
		}
		if seen[key] {
			return nil, fmt.Errorf("sweep axis %s given twice", key)
		}
		seen[key] = true
		var values []string
		for v := range strings.SplitSeq(list, ",") {
			if v = strings.TrimSpace(v); v != "" {
				cfg, sample := lstm.DefaultConfig(), defaultSample()
				if err := setTrainKey(&cfg, &sample, key, v); err != nil {
					return nil, fmt.Errorf("sweep axis %s: %w", key, err)
				}
				values = append(values, v)
			}
		}
		if len(values) == 0 {
			return nil, fmt.Errorf("sweep axis %s: no values", key)
		}
		sw = append(sw, SweepAxis{Key: key, Values: values})
	}
	return sw, nil
}

// Points returns every combination as override lists, in grid order (the first axis varies slowest).
func (s Sweep) Points() [][]string {
	points := [][]string{nil}
	for _, axis := range s {
		var next [][]string
		for _, p := range points {
			for _, v := range axis.Values {
				next = append(next, append(append([]string(nil), p...), axis.Key+"="+v))
			}
		}
		points = next
	}
	return points
}

// SweepOptions chooses between the full grid and a random search.
type SweepOptions struct {
	Random int    // run this many points drawn at random from the grid (0: all of it)
	Seed   uint64 // seed of the random draw
}

// RunSweep trains one run per point, all in one experiment (named after the swept keys when base has
// none); a base.Name names the sweep's runs NAME-1, NAME-2, ... in point order. A failing point is
// recorded as a failed run and the sweep goes on; the error lists failures.
func RunSweep(ctx context.Context, db *tracker.DB, base TrainOptions, sweep Sweep, opts SweepOptions) ([]*Result, error) {
	points := sweep.Points()
	if opts.Random > 0 && opts.Random < len(points) {
		rng := rand.New(rand.NewPCG(opts.Seed, 0x5eed))
		rng.Shuffle(len(points), func(i, j int) { points[i], points[j] = points[j], points[i] })
		points = points[:opts.Random]
	}
	if base.Experiment == "" {
		keys := make([]string, len(sweep))
		for i, a := range sweep {
			keys[i] = a.Key
		}
		base.Experiment = "sweep-" + strings.Join(keys, "-")
	}
	var results []*Result
	var errs []error
	for i, p := range points {
		if ctx.Err() != nil {
			break
		}
		o := base
		o.Overrides = append(append([]string(nil), base.Overrides...), p...)
		if o.Tags == nil {
			o.Tags = map[string]string{}
		} else {
			tags := map[string]string{}
			for k, v := range base.Tags {
				tags[k] = v
			}
			o.Tags = tags
		}
		o.Tags["sweep_point"] = strings.Join(p, " ")
		if base.Name != "" { // a name names the sweep: its runs are NAME-1, NAME-2, ... (names are unique)
			o.Name = fmt.Sprintf("%s-%d", base.Name, i+1)
		}
		base.logf("sweep point %d/%d: %s", i+1, len(points), strings.Join(p, " "))
		res, err := Train(ctx, db, o)
		if err != nil {
			errs = append(errs, fmt.Errorf("point %s: %w", strings.Join(p, " "), err))
			continue
		}
		results = append(results, res)
	}
	return results, errors.Join(errs...)
}
