#!/usr/bin/env bash
# The main job: set up what is missing (Go modules; the Moby Dick corpus via npm, on first use) and train
# the default "moby" preset, tracked in ./lstmlab.db, with samples and a learning-curve plot.
# Extra arguments go to `lstmlab train` (e.g. ./scripts/main.sh --set steps=2000).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
mkdir -p bin
echo "building bin/lstmlab (GOEXPERIMENT=${GOEXPERIMENT:-none})" >&2
# -buildvcs=auto: stamp the commit into the binary (lstmlab version, and each run's git commit) even where
# GOFLAGS says -buildvcs=false.
go build -buildvcs=auto -o bin/lstmlab ./cmd/lstmlab
bin/lstmlab train --preset moby "$@"
echo >&2
echo "next: bin/lstmlab runs | bin/lstmlab generate 1 --prompt 'Call me' | bin/lstmlab plot 1 --out curves.png" >&2
