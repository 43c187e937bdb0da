#!/usr/bin/env bash
# End-to-end check of trace-otel against a real OTLP backend: Arize Phoenix
# (PyPI `arize-phoenix`, installed in a venv), which takes OTLP/HTTP at
# /v1/traces and answers a REST API for the spans it stored.
#
#   bash scripts/otel-e2e.sh
#
# Starts Phoenix on 127.0.0.1 (free ports, a fresh database), runs the
# two-service example as two processes (`rooms`, then `lobby` sending 3
# requests, each with a traceparent of its own caller), each exporting to
# Phoenix (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_SERVICE_NAME), then asks
# Phoenix's REST API for each trace (scripts/otel-e2e-check.py) and prints
# it as stored:
# one trace id across both services, each rooms root under the lobby call
# that sent its request, the caller's span as the lobby root's parent, the
# errors of the failing request. Not run by .ci/run: installing Phoenix
# (~150 packages) and its start-up take minutes. Needs python3 with venv.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/target}"
work="${OTEL_E2E_DIR:-$CARGO_TARGET_DIR/otel-e2e}"
phoenix_version=20.26.1
mkdir -p "$work"

if [[ ! -x "$work/venv/bin/phoenix" ]]; then
    echo "== installing arize-phoenix $phoenix_version into $work/venv"
    python3 -m venv "$work/venv"
    "$work/venv/bin/pip" install --quiet "arize-phoenix==$phoenix_version"
fi

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

pids=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
}
trap cleanup EXIT

http_port=$(free_port)
grpc_port=$(free_port)
rm -rf "$work/db"
mkdir -p "$work/db"
echo "== starting Phoenix on 127.0.0.1:$http_port"
PHOENIX_HOST=127.0.0.1 PHOENIX_PORT=$http_port PHOENIX_GRPC_PORT=$grpc_port \
    PHOENIX_WORKING_DIR="$work/db" PHOENIX_TELEMETRY_ENABLED=false \
    "$work/venv/bin/phoenix" serve >"$work/phoenix.log" 2>&1 &
pids+=($!)

echo "== building the example"
cargo build --quiet -p trace-otel --example two_services
example="$CARGO_TARGET_DIR/debug/examples/two_services"

for _ in $(seq 1 240); do
    curl --silent --fail "http://127.0.0.1:$http_port/healthz" >/dev/null && break
    kill -0 "${pids[0]}" 2>/dev/null || { cat "$work/phoenix.log" >&2; exit 1; }
    sleep 0.5
done
curl --silent --fail "http://127.0.0.1:$http_port/healthz" >/dev/null || {
    echo "Phoenix did not start:" >&2
    tail -20 "$work/phoenix.log" >&2
    exit 1
}

export OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$http_port"
rooms_addr="127.0.0.1:$(free_port)"
lobby_addr="127.0.0.1:$(free_port)"
OTEL_SERVICE_NAME=rooms "$example" --role rooms --rooms "$rooms_addr" >"$work/rooms.log" 2>&1 &
rooms_pid=$!
pids+=($rooms_pid)
for _ in $(seq 1 100); do
    grep -q '^rooms on' "$work/rooms.log" && break
    sleep 0.1
done
echo "== lobby, 3 requests"
OTEL_SERVICE_NAME=lobby timeout 60 "$example" --role lobby --lobby "$lobby_addr" --rooms "$rooms_addr" --requests 3 |
    tee "$work/lobby.log"
kill -INT "$rooms_pid"
wait "$rooms_pid"
cat "$work/rooms.log"

echo "== what Phoenix stored"
python3 "$repo/scripts/otel-e2e-check.py" "http://127.0.0.1:$http_port" "$work/lobby.log"
