#!/usr/bin/env bash
# Installs what the MLflow mirror's tests need, on a fresh Debian machine or a warm one (each step is
# skipped when already done):
#   1. FastTrackML, the MLflow tracking server the tests run, built from the pinned tools module
#      tools/fasttrackml into .cache/bin/fasttrackml. The build (about 3.5 minutes cold on 2 cores) is
#      cached: it is redone only when tools/fasttrackml/go.mod or go.sum change.
#   2. Debian's chromium, the headless browser that looks at FastTrackML's MLflow UI, if missing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=../scripts/env.sh
. scripts/env.sh

say() { printf 'install-mlflow-tools: %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

bin=.cache/bin/fasttrackml
stamp=.cache/bin/fasttrackml.key
key="$(cat tools/fasttrackml/go.mod tools/fasttrackml/go.sum | sha256sum | cut -c1-16)"
if [ -x "${bin}" ] && [ "$(cat "${stamp}" 2>/dev/null)" = "${key}" ]; then
  say "FastTrackML already built (${bin}, tools module ${key})"
else
  say "building FastTrackML from tools/fasttrackml into ${bin} (a few minutes the first time)"
  mkdir -p .cache/bin
  rm -f "${stamp}"
  GOBIN="$(pwd)/.cache/bin" go -C tools/fasttrackml install tool
  [ -x "${bin}" ] || { say "error: ${bin} was not built"; exit 1; }
  echo "${key}" >"${stamp}"
  say "built $("${bin}" --version 2>/dev/null | head -1 || echo FastTrackML)"
fi

if command -v chromium >/dev/null; then
  say "chromium already installed ($(dpkg-query -W -f='${Version}' chromium 2>/dev/null || echo '?'))"
else
  say "installing Debian package chromium"
  apt_log="$(mktemp)"
  if ! { as_root apt-get update -qq &&
         as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium
       } >"${apt_log}" 2>&1; then
    cat "${apt_log}"; rm -f "${apt_log}"
    say "error: could not install chromium"; exit 1
  fi
  rm -f "${apt_log}"
  say "installed chromium $(dpkg-query -W -f='${Version}' chromium)"
fi
