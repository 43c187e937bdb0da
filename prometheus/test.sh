#!/usr/bin/env bash
# Checks the Prometheus rules for objectives and runs their unit tests:
#   - the generated files match prometheus/generate.py (rules, and the test
#     files of both le spellings, from tests/objectives.test.yml.in);
#   - `promtool check rules` on every file in prometheus/rules/;
#   - `promtool test rules` on every prometheus/tests/*.yml (the same tests
#     with buckets spelled as Prometheus 2 does, le="1", and as Prometheus 3
#     does, le="1.0").
# Exits non-zero on the first failure. Needs python3 and promtool (Debian
# package `prometheus`).
set -euo pipefail

dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$dir"

command -v promtool >/dev/null || {
    echo "promtool not found: apt-get install prometheus" >&2
    exit 1
}

python3 generate.py --check

shopt -s nullglob
rules=(rules/*.yml)
tests=(tests/*.yml)
((${#rules[@]})) || { echo "no rules in $dir/rules" >&2; exit 1; }
((${#tests[@]})) || { echo "no tests in $dir/tests" >&2; exit 1; }

promtool check rules "${rules[@]}"
for file in "${tests[@]}"; do
    promtool test rules "$file"
done
echo "prometheus rules ok: ${#rules[@]} rule file(s) checked, ${#tests[@]} test file(s) passed"
