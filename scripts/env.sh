# shellcheck shell=bash
# Sourced by the scripts (and by .ci/env.sh): the build settings every build, test, benchmark and
# notebook uses.
#
# GOTOOLCHAIN: go.mod needs Go 1.27, because the GoMLX release lstmlab uses (v0.28.15, whose pure-Go
# backend gomlx/compute v0.1.14 has vectorized element-wise kernels: training 2.2× faster than with
# v0.28.2) does. Where the installed Go is older, the go command runs go1.27.3 instead, fetching it from
# the Go module proxy on first use (about 76 MB, once per machine). A Go that is new enough is used as is.
if [ -z "${GOTOOLCHAIN:-}" ] || [ "${GOTOOLCHAIN}" = local ]; then
  lstmlab_go="$(GOTOOLCHAIN=local go env GOVERSION 2>/dev/null || echo go0)"
  case "${lstmlab_go}" in
    go1.2[7-9]* | go1.[3-9][0-9]* | go[2-9]*) ;;
    *) export GOTOOLCHAIN=go1.27.3 ;;
  esac
  unset lstmlab_go
fi
# GOEXPERIMENT=simd turns on the SIMD kernels of GoMLX's pure-Go backend (matrix products and
# element-wise ops; without them training is several times slower); it is also part of Go's build-cache
# key, so everything shares one mode. Where the experiment is unavailable the scripts fall back to a
# plain build, and say so.
if [ -z "${GOEXPERIMENT:-}" ]; then
  if GOEXPERIMENT=simd go list runtime >/dev/null 2>&1; then
    export GOEXPERIMENT=simd
  else
    echo "note: GOEXPERIMENT=simd is not available with $(go version); building without SIMD (slower)" >&2
  fi
fi
# The backend: lstmlab chooses (XLA when a PJRT plugin is installed, else the pure-Go backend) unless
# GOMLX_BACKEND or --backend says otherwise.
export GOMLX_BACKEND="${GOMLX_BACKEND:-}"
