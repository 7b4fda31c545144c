# shellcheck shell=bash
# Sourced by the scripts: the build settings every build, test, benchmark and notebook uses.
# GOEXPERIMENT=simd turns on GoMLX's SIMD matmul in the pure-Go backend (about 4× faster training,
# 19× faster generation); it is also part of Go's build-cache key, so everything shares one mode.
# Where the experiment is unavailable the scripts fall back to a plain build, and say so.
if [ -z "${GOEXPERIMENT:-}" ]; then
  if GOEXPERIMENT=simd go list runtime >/dev/null 2>&1; then
    export GOEXPERIMENT=simd
  else
    echo "note: GOEXPERIMENT=simd is not available with $(go version); building without SIMD (slower)" >&2
  fi
fi
# The pure-Go backend in its sequential-ops mode: GoMLX's default parallel-ops mode was seen to deadlock.
export GOMLX_BACKEND="${GOMLX_BACKEND:-}"
