#!/usr/bin/env bash
# Every query of the shipped dashboards, evaluated on a real Prometheus that
# scrapes the demo (run by .ci/run; about 30 s).
#
#   bash dashboards/test.sh
#
# - checks that the JSON files are what dashboards/generate.py writes;
# - starts a Prometheus of its own (Debian package `prometheus`, installed
#   with apt-get when missing) on a free 127.0.0.1 port, scraping every
#   second, with its configuration and data in a temporary directory;
# - starts the demo (package trace-demo, already built:
#   $CARGO_TARGET_DIR/debug/trace-demo, else built here) with a short
#   --duration and a high --rate, on free ports;
# - and a synthetic target (dashboards/prom3_spelling.py): a latency
#   objective with a whole-second threshold whose buckets' le are spelled
#   as Prometheus 3 writes them ("1.0"), which the SLO panels must match;
# - once Prometheus holds DASH_SECONDS of traffic, runs dashboards/check.py:
#   every template variable and every panel query, Grafana variables
#   substituted, through Prometheus's HTTP API, each one required to return
#   plausible series (see check.py);
# - then dashboards/check_autometrics.py on the same data: every panel and
#   variable query of the public autometrics dashboards (fixtures in
#   dashboards/autometrics/) must return something, except the known
#   unanswerable ones, which are reported;
# - stops the three by PID, whatever happens.
# Settings (environment): DASH_SECONDS (data gathered, default 30),
# DASH_RATE (demo requests per second, default 60), DASH_RENDER=DIR (draw
# the overview and SLO panels as PNGs into DIR), DASH_KEEP=1 (keep the
# temporary directory), REQUIRE_OBJECTIVES=0 (report the SLO queries as
# skipped when the demo has no objective labels, rather than fail).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
seconds=${DASH_SECONDS:-30}
rate=${DASH_RATE:-60}
target_dir=${CARGO_TARGET_DIR:-$repo/target}
demo_bin="$target_dir/debug/trace-demo"

work=$(mktemp -d "${TMPDIR:-/tmp}/dashboards.XXXXXX")
demo_pid="" prom_pid="" synthetic_pid=""
cleanup() {
    local status=$? pid
    for pid in "$demo_pid" "$synthetic_pid" "$prom_pid"; do
        if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
            kill "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
        fi
    done
    if [[ "${DASH_KEEP:-0}" == 1 || $status -ne 0 ]]; then
        echo "logs kept in $work"
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT

python3 dashboards/generate.py --check

if ! command -v prometheus >/dev/null; then
    echo "== installing prometheus (Debian package)"
    sudo=()
    [[ $(id -u) -eq 0 ]] || sudo=(sudo)
    "${sudo[@]}" apt-get update -q
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends prometheus
fi
prometheus --version 2>&1 | head -n 1
[[ -x "$demo_bin" ]] || cargo build -p trace-demo

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
service_port=$(free_port)
metrics_port=$(free_port)
prom_port=$(free_port)
synthetic_port=$(free_port)
while [[ "$metrics_port" == "$service_port" ]]; do metrics_port=$(free_port); done
while [[ "$prom_port" == "$service_port" || "$prom_port" == "$metrics_port" ]]; do
    prom_port=$(free_port)
done
while [[ " $service_port $metrics_port $prom_port " == *" $synthetic_port "* ]]; do
    synthetic_port=$(free_port)
done
prom_url="http://127.0.0.1:$prom_port"

# The demo runs a little longer than the data gathered; it is stopped below.
"$demo_bin" --listen "127.0.0.1:$service_port" --metrics-addr "127.0.0.1:$metrics_port" \
    --rate "$rate" --duration $((seconds + 60)) >"$work/demo.log" 2>&1 &
demo_pid=$!
for _ in $(seq 1 100); do
    grep -q '^metrics on ' "$work/demo.log" && break
    kill -0 "$demo_pid" 2>/dev/null || break
    sleep 0.1
done
grep -q '^metrics on ' "$work/demo.log" || {
    echo "the demo did not start:" >&2
    cat "$work/demo.log" >&2
    exit 1
}
echo "== demo on 127.0.0.1:$service_port (metrics on :$metrics_port), $rate requests/s"

# A second target: a latency objective with a whole-second threshold and its
# buckets' le spelled as Prometheus 3 stores them ("1.0").
python3 dashboards/prom3_spelling.py "$synthetic_port" >"$work/synthetic.log" 2>&1 &
synthetic_pid=$!

cat >"$work/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: demo
    static_configs:
      - targets: ["127.0.0.1:$metrics_port"]
  - job_name: prom3-spelling
    static_configs:
      - targets: ["127.0.0.1:$synthetic_port"]
EOF
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/data" \
    --web.listen-address="127.0.0.1:$prom_port" --storage.tsdb.retention.time=1d \
    >"$work/prometheus.log" 2>&1 &
prom_pid=$!
for _ in $(seq 1 300); do
    curl --silent --fail --max-time 1 "$prom_url/-/ready" >/dev/null 2>&1 && break
    kill -0 "$prom_pid" 2>/dev/null || break
    sleep 0.1
done
curl --silent --fail --max-time 1 "$prom_url/-/ready" >/dev/null || {
    echo "prometheus did not start:" >&2
    cat "$work/prometheus.log" >&2
    exit 1
}
start=$(date +%s)
echo "== prometheus on $prom_url, scraping every second; gathering ${seconds}s of traffic"
sleep "$seconds"
kill -0 "$demo_pid" 2>/dev/null || {
    echo "the demo stopped early:" >&2
    tail -n 20 "$work/demo.log" >&2
    exit 1
}
up=$(curl --silent --fail -G "$prom_url/api/v1/query" --data-urlencode 'query=sum(up)' |
    python3 -c 'import json, sys; r = json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else 0)')
[[ "$up" == 2 ]] || {
    echo "prometheus does not scrape both targets (up = $up of 2):" >&2
    tail -n 20 "$work/prometheus.log" >&2
    exit 1
}

require=()
[[ "${REQUIRE_OBJECTIVES:-1}" == 1 ]] && require=(--require-objectives)
# Both checks run on the same data, whatever the first one finds.
status=0
python3 dashboards/check.py --prom "$prom_url" --range $(($(date +%s) - start)) \
    --prom3-objective whole-second "${require[@]}" || status=1
# The public autometrics dashboards (dashboards/autometrics/, unmodified):
# every query of theirs that an exporter can answer must return data.
python3 dashboards/check_autometrics.py --prom "$prom_url" --range $(($(date +%s) - start)) || status=1
# DASH_RENDER=DIR: also draw the overview and SLO panels from this run's
# data into DIR (dashboards/render.py, needs matplotlib); not in CI.
if [[ -n "${DASH_RENDER:-}" ]]; then
    python3 dashboards/render.py --prom "$prom_url" --range $(($(date +%s) - start)) \
        --out "$DASH_RENDER"
fi
exit "$status"
