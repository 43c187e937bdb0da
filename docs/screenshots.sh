#!/usr/bin/env bash
# Takes the screenshots in this folder from the demo (package trace-demo):
# runs it with its load generator for a while, then has headless Chromium
# (Debian package `chromium`) load its pages: `docs/screenshots.sh` from
# anywhere, or `docs/screenshots.sh NAME=PATH...` for docs/NAME.png of
# other pages; LOAD_SECS is how long the load runs first (default 20).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/target}"
cargo build -p trace-demo
log="$(mktemp)"
profile="$(mktemp -d)"
"$CARGO_TARGET_DIR/debug/trace-demo" --duration 120 --rate 10 \
    --listen 127.0.0.1:0 --metrics-addr 127.0.0.1:0 >"$log" 2>&1 &
demo=$!
trap 'kill "$demo" 2>/dev/null || true; rm -rf "$log" "$profile"' EXIT
base=""
for _ in $(seq 1 100); do
    base=$(sed -n 's|^traces on \(http://[^ ]*\)/traces$|\1|p' "$log")
    [[ -n "$base" ]] && break
    sleep 0.1
done
[[ -n "$base" ]] || { cat "$log" >&2; exit 1; }
sleep "${LOAD_SECS:-20}" # traffic, some of it failing
# FILE=PATH pairs: docs/FILE.png is the page at PATH.
shots=("$@")
((${#shots[@]})) || shots=(traces=traces stats=stats)
for shot in "${shots[@]}"; do
    timeout 60 chromium --headless --no-sandbox --disable-gpu --no-first-run \
        --user-data-dir="$profile" --hide-scrollbars \
        --screenshot="$repo/docs/${shot%%=*}.png" --window-size=1280,900 "$base/${shot#*=}"
done
