// Package nb holds what lstmlab's notebooks share, so that their cells show the lesson and not the
// plumbing: a work folder per notebook run, figures a student reads at a glance (learning curves with
// baselines and markers, heatmaps with colour bars, grouped bars, text coloured by a unit's activation),
// the baselines a loss is measured against, display helpers for GoNB, and the generated corpora with a
// known answer that the notebooks train on.
//
// It is a teaching aid, not an API: only the notebooks import it. Every function is tested in this
// folder (go test ./notebooks/nb/), and the notebooks themselves are executed by notebooks/check.py.
package nb
