#!/usr/bin/env bash
# Soak test of the demo service under a real Prometheus (not part of CI).
#
#   bash scripts/soak.sh                 # 10 minutes, release build
#   SOAK_MINUTES=2 bash scripts/soak.sh  # a short run
#
# Builds and runs the demo (package trace-demo) with its load generator for
# SOAK_MINUTES, everything on 127.0.0.1 ports that are free at the start:
# - a Prometheus of its own (Debian package `prometheus`, installed with
#   apt-get when missing) scraping the demo's /metrics every second, with
#   its configuration and data in a temporary directory;
# - hostile clients the whole time: three idle connections and one that
#   sends a request head a byte a second to the metrics port, and one idle
#   connection to the service port; each reconnects whenever the server
#   drops it;
# - the demo's resident memory (VmRSS) sampled every 10 s.
# At the end it stops the demo with SIGINT (as Ctrl-C would), asks
# Prometheus's HTTP API, and reports:
# - failed scrapes (`up == 0`) and scrapes made: 0 failed expected;
# - the demo's memory over time and its growth after a minute of warm-up;
# - the error rate per minute, from `http_requests_total` (4xx and 5xx
#   over all answers) and `function_calls_total` (`result="error"` over all
#   calls): it must stay level.
# Exits non-zero when a check fails. Settings (environment):
#   SOAK_MINUTES           run length, default 10 (at least 2)
#   SOAK_RATE              load-generator requests per second, default 25
#   SOAK_PROFILE           release (default) or debug
#   SOAK_MAX_RSS_GROWTH_MIB  memory growth allowed after warm-up, default 5
#   SOAK_MAX_ERROR_SPREAD  largest minus smallest per-minute error ratio
#                          allowed, default 0.08
#   SOAK_KEEP=1            keep the temporary directory (logs, samples)
# Needs cargo, curl and python3; uses CARGO_TARGET_DIR when set.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
minutes=${SOAK_MINUTES:-10}
rate=${SOAK_RATE:-25}
profile=${SOAK_PROFILE:-release}
max_growth_mib=${SOAK_MAX_RSS_GROWTH_MIB:-5}
max_spread=${SOAK_MAX_ERROR_SPREAD:-0.08}
target_dir=${CARGO_TARGET_DIR:-$repo/target}
if ! [[ "$minutes" =~ ^[0-9]+$ ]] || ((minutes < 2)); then
    echo "SOAK_MINUTES must be a whole number of minutes, at least 2" >&2
    exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/soak.XXXXXX")
demo_pid="" prom_pid="" hostile_pid="" rss_pid=""
cleanup() {
    local status=$? pid
    for pid in "$rss_pid" "$hostile_pid" "$demo_pid" "$prom_pid"; do
        if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
            kill "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
        fi
    done
    if [[ "${SOAK_KEEP:-0}" == 1 || $status -ne 0 ]]; then
        echo "logs and samples kept in $work"
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT

need_tools() {
    command -v curl >/dev/null && command -v python3 >/dev/null || {
        echo "the soak needs curl and python3" >&2
        return 1
    }
    command -v prometheus >/dev/null && return 0
    echo "== installing prometheus (Debian package)"
    local sudo=()
    [[ $(id -u) -eq 0 ]] || sudo=(sudo)
    "${sudo[@]}" apt-get update -q
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends prometheus
}

# A TCP port on 127.0.0.1 free right now.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# promql QUERY TIME: the value of an instant query at TIME (first series), or
# "none".
promql() {
    curl --silent --show-error --fail --max-time 30 -G "$prom_url/api/v1/query" \
        --data-urlencode "query=$1" --data-urlencode "time=$2" |
        python3 -c 'import json, sys
r = json.load(sys.stdin)["data"]["result"]
print(r[0]["value"][1] if r else "none")'
}

# promql_range QUERY START END STEP: "unix-time value" lines.
promql_range() {
    curl --silent --show-error --fail --max-time 30 -G "$prom_url/api/v1/query_range" \
        --data-urlencode "query=$1" --data-urlencode "start=$2" \
        --data-urlencode "end=$3" --data-urlencode "step=$4" |
        python3 -c 'import json, sys
r = json.load(sys.stdin)["data"]["result"]
for t, v in (r[0]["values"] if r else []):
    print(int(float(t)), v)'
}

need_tools
echo "== building trace-demo ($profile)"
if [[ "$profile" == release ]]; then
    cargo build --release -p trace-demo
else
    cargo build -p trace-demo
fi
demo_bin="$target_dir/$profile/trace-demo"

service_port=$(free_port)
metrics_port=$(free_port)
prom_port=$(free_port)
while [[ "$metrics_port" == "$service_port" ]]; do metrics_port=$(free_port); done
while [[ "$prom_port" == "$service_port" || "$prom_port" == "$metrics_port" ]]; do
    prom_port=$(free_port)
done
prom_url="http://127.0.0.1:$prom_port"

echo "== demo on 127.0.0.1:$service_port, metrics on 127.0.0.1:$metrics_port, $rate requests/s"
# --duration only bounds the run; the soak stops the demo with SIGINT.
"$demo_bin" --listen "127.0.0.1:$service_port" --metrics-addr "127.0.0.1:$metrics_port" \
    --rate "$rate" --duration $((minutes * 60 + 120)) >"$work/demo.log" 2>&1 &
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

# Memory, every 10 s, while the demo runs.
(
    while kill -0 "$demo_pid" 2>/dev/null; do
        rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$demo_pid/status" 2>/dev/null) || break
        [[ -n "$rss" ]] && echo "$(date +%s) $rss"
        sleep 10
    done
) >"$work/rss.txt" &
rss_pid=$!

echo "== prometheus on $prom_url, scraping every second"
cat >"$work/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: demo
    static_configs:
      - targets: ["127.0.0.1:$metrics_port"]
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

echo "== hostile clients: 3 idle and 1 dripping on the metrics port, 1 idle on the service port"
python3 - "$metrics_port" "$service_port" $((minutes * 60)) >"$work/hostile.txt" 2>&1 <<'EOF' &
import select, socket, sys, time

metrics_port, service_port, seconds = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
clients = [("idle", metrics_port)] * 3 + [("drip", metrics_port), ("idle", service_port)]
head = b"GET /metrics HTTP/1.1\r\nHost: soak\r\nX-Slow: " + b"a" * 1_000_000
conns = [None] * len(clients)
sent = [0] * len(clients)
dropped = [0] * len(clients)
deadline = time.monotonic() + seconds
next_drip = time.monotonic()
while time.monotonic() < deadline:
    for i, (_, port) in enumerate(clients):
        if conns[i] is None:
            try:
                conns[i] = socket.create_connection(("127.0.0.1", port), timeout=2)
                conns[i].setblocking(False)
                sent[i] = 0
            except OSError:
                pass
    live = [c for c in conns if c is not None]
    readable = select.select(live, [], [], 0.2)[0] if live else []
    for c in readable:
        try:
            data = c.recv(65536)
        except OSError:
            data = b""
        if not data:  # the server closed it: count, and connect again
            i = conns.index(c)
            c.close()
            conns[i] = None
            dropped[i] += 1
    if time.monotonic() >= next_drip:
        next_drip += 1.0
        for i, (kind, _) in enumerate(clients):
            if kind == "drip" and conns[i] is not None:
                try:
                    conns[i].send(head[sent[i]:sent[i] + 1])
                    sent[i] += 1
                except OSError:
                    pass
for i, (kind, port) in enumerate(clients):
    where = "metrics" if port == metrics_port else "service"
    print(f"{kind} on the {where} port: dropped by the server {dropped[i]} times")
EOF
hostile_pid=$!

echo "== soaking for $minutes minutes (until $(date -d "@$((start + minutes * 60))" +%T))"
sleep $((minutes * 60))
end=$(date +%s)
echo "== stopping the demo with SIGINT"
kill -INT "$demo_pid"
demo_status=0
wait "$demo_pid" || demo_status=$?
demo_pid=""
wait "$rss_pid" 2>/dev/null || true
rss_pid=""
wait "$hostile_pid" 2>/dev/null || true
hostile_pid=""

failures=()
echo
echo "== results"
if [[ $demo_status -ne 0 ]] || ! grep -q '^load generator: ' "$work/demo.log"; then
    failures+=("the demo exited with status $demo_status without its summary")
fi
grep '^load generator: ' "$work/demo.log" || true
sed 's/^/  hostile: /' "$work/hostile.txt"

# Scrapes: the window runs from Prometheus's start to the SIGINT.
window=$((end - start - 2))
scrapes=$(promql "count_over_time(up{job=\"demo\"}[${window}s])" "$end")
ups=$(promql "sum_over_time(up{job=\"demo\"}[${window}s])" "$end")
failed=$(python3 -c "import sys; print(0 if 'none' in sys.argv[1:] else round(float(sys.argv[1]) - float(sys.argv[2])))" "$scrapes" "$ups")
slowest=$(promql "max_over_time(scrape_duration_seconds{job=\"demo\"}[${window}s])" "$end")
samples=$(promql "min_over_time(scrape_samples_scraped{job=\"demo\"}[${window}s])" "$end")
echo "scrapes: $scrapes in ${window}s, failed (up == 0): $failed, slowest ${slowest}s, fewest samples in one: $samples"
if [[ "$scrapes" == none ]] || ((${scrapes%.*} < window * 9 / 10)); then
    failures+=("only $scrapes scrapes in ${window}s (one a second expected)")
fi
((${failed%.*} == 0)) || failures+=("$failed failed scrapes")

# Memory: growth from the first sample after a minute of warm-up to the last.
echo "resident memory (VmRSS), one sample a minute:"
python3 - "$work/rss.txt" "$start" "$max_growth_mib" >"$work/rss-report.txt" <<'EOF' || failures+=("$(tail -n 1 "$work/rss-report.txt")")
import sys
path, start, limit = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
samples = [tuple(map(int, line.split())) for line in open(path) if line.strip()]
shown = -60
for t, kb in samples:
    if t - shown >= 60:
        shown = t
        print(f"  {(t - start) / 60:4.1f} min  {kb / 1024:7.2f} MiB")
warm = [(t, kb) for t, kb in samples if t >= start + 60]
if len(warm) < 2:
    print("too few memory samples after the warm-up")
    sys.exit(1)
growth = (warm[-1][1] - warm[0][1]) / 1024
peak = (max(kb for _, kb in warm) - warm[0][1]) / 1024
print(f"growth after warm-up: {growth:+.2f} MiB (peak {peak:+.2f} MiB), limit {limit} MiB")
if growth > limit:
    print(f"memory grew {growth:.2f} MiB after warm-up (limit {limit} MiB)")
    sys.exit(1)
EOF
cat "$work/rss-report.txt"

# Error rate per minute, after the first minute.
http_errors='sum(increase(http_requests_total{job="demo",status=~"4..|5.."}[1m])) / sum(increase(http_requests_total{job="demo"}[1m]))'
http_5xx='sum(increase(http_requests_total{job="demo",status=~"5.."}[1m])) / sum(increase(http_requests_total{job="demo"}[1m]))'
call_errors='sum(increase(function_calls_total{job="demo",result="error"}[1m])) / sum(increase(function_calls_total{job="demo"}[1m]))'
requests='sum(increase(http_requests_total{job="demo"}[1m]))'
promql_range "$requests" $((start + 120)) "$end" 60 >"$work/requests.txt"
promql_range "$http_errors" $((start + 120)) "$end" 60 >"$work/http-errors.txt"
promql_range "$http_5xx" $((start + 120)) "$end" 60 >"$work/http-5xx.txt"
promql_range "$call_errors" $((start + 120)) "$end" 60 >"$work/call-errors.txt"
python3 - "$work" "$start" "$max_spread" >"$work/errors-report.txt" <<'EOF' || failures+=("$(tail -n 1 "$work/errors-report.txt")")
import sys
work, start, spread_limit = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
def read(name):
    return dict((int(t), float(v)) for t, v in (line.split() for line in open(f"{work}/{name}.txt")))
requests, http, fivexx, calls = (read(n) for n in ("requests", "http-errors", "http-5xx", "call-errors"))
print("minute ending   requests   HTTP 4xx+5xx   HTTP 5xx   calls with result=error")
for t in sorted(http):
    print(f"  {(t - start) // 60:11d}   {requests.get(t, 0):8.0f}   {http[t]:12.1%}   {fivexx.get(t, 0):8.1%}   {calls.get(t, float('nan')):12.1%}")
if len(http) < 1:
    print("no per-minute error rates from Prometheus")
    sys.exit(1)
values = list(http.values())
spread = max(values) - min(values)
print(f"HTTP error ratio per minute: {min(values):.1%} to {max(values):.1%} (spread {spread:.1%}, limit {spread_limit:.0%})")
if spread > spread_limit or max(values) > 0.5:
    print(f"the error rate is not steady: {min(values):.1%} to {max(values):.1%} per minute")
    sys.exit(1)
EOF
cat "$work/errors-report.txt"

echo
if ((${#failures[@]})); then
    echo "== soak FAILED:"
    printf '  %s\n' "${failures[@]}"
    exit 1
fi
echo "== soak passed: $minutes minutes, $scrapes scrapes, none failed"
