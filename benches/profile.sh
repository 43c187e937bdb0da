#!/usr/bin/env bash
# Callgrind profile of this project's hot path: builds the `hot_path` bench
# binary, runs it under `valgrind --tool=callgrind` and prints the functions
# with the largest inclusive instruction counts (real symbols only, inlined
# frames folded into their callers), as shares of the whole program.
#
#   bash benches/profile.sh [full|metrics|off|bare] [requests] [sync|async]
# (`bare` is the same workload without the attribute: the baseline.)
# (perf would do, but its hardware counters are not available on our VMs.)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODE="${1:-full}" REQUESTS="${2:-5000}" VARIANT="${3:-sync}"
OUT="${OUT:-/tmp/trace-callgrind.$MODE.$VARIANT.out}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$REPO/target}"

BIN=$(cd "$REPO" && cargo bench -p trace-benches --bench hot_path --no-run --message-format=json 2>/dev/null |
    grep -o '"executable":"[^"]*hot_path[^"]*"' | tail -1 | cut -d'"' -f4)
"$BIN" "$MODE" "$REQUESTS" "$VARIANT"
# Without debug info every instruction is attributed to the function it was
# compiled into (inlined code included), so each function's inclusive count
# is one line; symbol names stay.
STRIPPED="${OUT%.out}.bin"
objcopy --strip-debug "$BIN" "$STRIPPED"
valgrind --tool=callgrind --callgrind-out-file="$OUT" "$STRIPPED" "$MODE" "$REQUESTS" "$VARIANT" 2>/dev/null
echo "callgrind output: $OUT (open with callgrind_annotate or kcachegrind)"
echo
echo "| function | inclusive Ir | % of program | % of the requests |"
echo "|---|---:|---:|---:|"
callgrind_annotate --auto=no --inclusive=yes --threshold=100 "$OUT" 2>/dev/null | awk '
    /PROGRAM TOTALS/ { total = $1; gsub(",", "", total); next }
    /^ *[0-9,]+ +\( *[0-9.]+%\) +/ {
        ir = $1; gsub(",", "", ir)
        line = $0
        sub(/^ *[0-9,]+ +\( *[0-9.]+%\) +/, "", line)
        sub(/ \[[^]]*\]$/, "", line)
        sum[substr(line, index(line, ":") + 1)] += ir
    }
    END {
        # The requests: the sync root, or the executor driving the async one.
        root = sum["hot_path::ours::root"]
        if (sum["hot_path::none::root"] > root) root = sum["hot_path::none::root"]
        if (sum["hot_path::exec::block_on"] > root) root = sum["hot_path::exec::block_on"]
        for (f in sum) printf "%d\t| %s | %d | %.1f%% | %.1f%% |\n", sum[f], f, sum[f], 100 * sum[f] / total, 100 * sum[f] / root
    }' | sort -t$'\t' -k1,1 -rn | cut -f2- |
    grep -vE 'std::rt::|backtrace|libc_start|below main|0x0000|\| main \||hot_path::main|call_once|thread_start|start_thread|FnOnce' |
    head -"${TOP:-30}"
