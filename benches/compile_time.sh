#!/usr/bin/env bash
# Compile time of 500 traced functions: `#[trace_runtime::trace]` against
# `#[tracing::instrument]` (and no attribute, for reference).
#
# Generates three crates under $WORK (default /tmp/trace-compile-time), each
# with the same 500 functions (every fifth one `async`), builds them once to
# warm the dependencies, then times `touch src/lib.rs && cargo build`
# $RUNS times (default 3) and prints the median. Dev profile by default;
# pass --release for the release profile.
#
#   bash benches/compile_time.sh [--release]
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="${WORK:-/tmp/trace-compile-time}"
RUNS="${RUNS:-3}"
FUNCTIONS=500
PROFILE_FLAG="${1:-}"
PROFILE_NAME=dev
[ "$PROFILE_FLAG" = --release ] && PROFILE_NAME=release
export CARGO_TARGET_DIR="$WORK/target"

generate() { # name, attribute, dependency line
    local dir="$WORK/$1"
    mkdir -p "$dir/src"
    cat >"$dir/Cargo.toml" <<TOML
[package]
name = "compile-time-$1"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
$3

[workspace]
TOML
    # The workspace's lock file pins the same dependency versions.
    cp "$REPO/Cargo.lock" "$dir/Cargo.lock"
    {
        echo "//! $FUNCTIONS functions with: ${2:-no attribute}"
        for i in $(seq 0 $((FUNCTIONS - 1))); do
            [ -n "$2" ] && echo "$2"
            if ((i % 5 == 4)); then
                echo "pub async fn f$i(x: u64) -> u64 { x.wrapping_mul($i).rotate_left(3) }"
            else
                echo "pub fn f$i(x: u64) -> u64 { x.wrapping_mul($i).rotate_left(3) }"
            fi
        done
    } >"$dir/src/lib.rs"
}

build() { # name -> seconds of the crate's own rebuild, median of $RUNS
    local dir="$WORK/$1" times=()
    (cd "$dir" && cargo build -q $PROFILE_FLAG) # warm the dependencies
    for _ in $(seq "$RUNS"); do
        touch "$dir/src/lib.rs"
        local start end
        start=$(date +%s.%N)
        (cd "$dir" && cargo build -q $PROFILE_FLAG)
        end=$(date +%s.%N)
        times+=("$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')")
    done
    printf '%s\n' "${times[@]}" | sort -n | sed -n "$(((RUNS + 1) / 2))p"
}

generate none "" ""
generate trace-runtime "#[trace_runtime::trace]" "trace-runtime = { path = \"$REPO/trace-runtime\" }"
generate tracing "#[tracing::instrument]" 'tracing = "0.1"'

none=$(build none)
ours=$(build trace-runtime)
theirs=$(build tracing)

echo "### Compile time: $FUNCTIONS functions (every fifth async), warm dependencies, $PROFILE_NAME profile, median of $RUNS"
echo
echo "| attribute | build time (s) |"
echo "|---|---:|"
echo "| none | $none |"
echo "| #[trace_runtime::trace] | $ours |"
echo "| #[tracing::instrument] | $theirs |"
echo
echo "trace-runtime ÷ tracing: $(awk -v a="$ours" -v b="$theirs" 'BEGIN { printf "%.2f", a / b }')"
