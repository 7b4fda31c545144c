# shellcheck shell=bash
# Source this file (". .ci/env.sh") to run the notebooks by hand the way CI does.
# It points every tool at project-local locations so nothing outside the working tree
# (no ~/.local/share/jupyter, no ~/go/bin) is needed or modified:
#   LSTMLAB_ROOT      the working tree (the folder above this script)
#   LSTMLAB_TOOLS_BIN where .ci/install-tools.sh builds gonb and goimports; put first on PATH
#                     because the GoNB kernel calls goimports (and go) from PATH for every cell
#   JUPYTER_DATA_DIR  where the GoNB kernel spec is registered and looked up
#   GOTOOLCHAIN       from scripts/env.sh: go1.27.3 where the installed Go is older than 1.27
#   GOEXPERIMENT      from scripts/env.sh: simd, GoMLX's SIMD kernels. Both are part of Go's build-cache
#                     key, so every build (tools, tests, notebook cells) uses the same settings
LSTMLAB_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export LSTMLAB_ROOT
export LSTMLAB_TOOLS_BIN="${LSTMLAB_ROOT}/.cache/bin"
export JUPYTER_DATA_DIR="${LSTMLAB_ROOT}/.cache/jupyter"
# shellcheck source=../scripts/env.sh
. "${LSTMLAB_ROOT}/scripts/env.sh"
case ":${PATH}:" in
  *":${LSTMLAB_TOOLS_BIN}:"*) ;;
  *) export PATH="${LSTMLAB_TOOLS_BIN}:${PATH}" ;;
esac
