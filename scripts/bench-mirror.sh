#!/usr/bin/env bash
# What live mirroring to an MLflow tracking server costs the training loop: the same training run, with
# and without --tracking-uri, alternated ROUNDS times (interleaved, because a shared machine drifts from
# one minute to the next), against a FastTrackML server started on a free loopback port for the purpose.
# Steps/s is measured from each run's own train_loss history (first to last step, wall time), so start-up,
# evaluation and the final sync are left out; the ratio mirrored/plain is what to read.
#
#   scripts/bench-mirror.sh [ROUNDS [PRESET [STEPS]]]     # default: 3 tiny 3000
#
# Needs bin/lstmlab (built here) and .cache/bin/fasttrackml (.ci/install-mlflow-tools.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
rounds=${1:-3}
preset=${2:-tiny}
steps=${3:-3000}
go build -buildvcs=auto -o bin/lstmlab ./cmd/lstmlab
[ -x .cache/bin/fasttrackml ] || bash .ci/install-mlflow-tools.sh

work=$(mktemp -d)
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
.cache/bin/fasttrackml server --listen-address "127.0.0.1:${port}" --database-uri "sqlite://${work}/fml.db" \
  --default-artifact-root "${work}/artifacts" >"${work}/server.log" 2>&1 &
server=$!
trap 'kill ${server} 2>/dev/null; wait ${server} 2>/dev/null; rm -rf "${work}"' EXIT
# Wait for the server (at most 60 s; a server that died or never answers ends the script with its log).
for _ in $(seq 300); do
  curl -fsS "http://127.0.0.1:${port}/health" >/dev/null 2>&1 && break
  kill -0 "${server}" 2>/dev/null || { echo "FastTrackML exited; its log:" >&2; cat "${work}/server.log" >&2; exit 1; }
  sleep 0.2
done
curl -fsS "http://127.0.0.1:${port}/health" >/dev/null 2>&1 ||
  { echo "FastTrackML did not answer within 60 s; its log:" >&2; tail -20 "${work}/server.log" >&2; exit 1; }

steps_per_s() { # DB NAME: steps per second over the run's train_loss history
  /usr/bin/python3 - "$1" "$2" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
n, t0, t1 = db.execute("""SELECT count(*), min(time_ms), max(time_ms) FROM metrics m JOIN runs r ON r.id = m.run_id
                          WHERE r.name = ? AND m.key = 'train_loss'""", (sys.argv[2],)).fetchone()
print(f"{(n - 1) / ((t1 - t0) / 1000):.1f}")
EOF
}

echo "preset ${preset}, ${steps} steps, ${rounds} interleaved rounds; FastTrackML on 127.0.0.1:${port}"
printf '%-6s %12s %12s %8s\n' round plain mirrored ratio
for r in $(seq 1 "${rounds}"); do
  for mode in plain mirrored; do
    uri=none
    [ "${mode}" = mirrored ] && uri="http://127.0.0.1:${port}"
    GOMLX_BACKEND=go bin/lstmlab --db "${work}/bench.db" --runs-dir "${work}/runs" train --preset "${preset}" \
      --set "steps=${steps}" --set "eval_every=${steps}" --name "${mode}-${r}" --tracking-uri "${uri}" -q >/dev/null
  done
  p=$(steps_per_s "${work}/bench.db" "plain-${r}")
  m=$(steps_per_s "${work}/bench.db" "mirrored-${r}")
  printf '%-6s %12s %12s %8s\n' "${r}" "${p}" "${m}" "$(/usr/bin/python3 -c "print(f'{${m}/${p}:.3f}')")"
done
