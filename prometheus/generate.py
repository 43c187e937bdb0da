#!/usr/bin/env python3
"""Writes the Prometheus rules for trace-runtime's objectives, and their tests.

    python3 prometheus/generate.py          # rewrite the generated files
    python3 prometheus/generate.py --check  # fail if one is out of date

Generated (do not edit them by hand, edit this file or the template):
  prometheus/rules/trace-runtime.rules.yml
  prometheus/tests/le-prometheus2.test.yml  (histogram buckets le="1", "10")
  prometheus/tests/le-prometheus3.test.yml  (histogram buckets le="1.0", "10.0")
from prometheus/tests/objectives.test.yml.in, whose @LE_...@ markers are
replaced by each spelling. Standard library only.

The rules follow the shape of autometrics' Sloth-generated rules
(github.com/autometrics-dev/autometrics-shared, autometrics.rules.yml,
MIT OR Apache-2.0): the SLI windows 5m, 30m, 1h, 2h, 6h, 1d, 3d, the
`slo:sli_error:ratio_rate<window>` names with sloth_* labels, the minimum
traffic of one call a minute, the multi-window multi-burn-rate alerts of the
Google SRE workbook (page: 14.4x over 5m and 1h, or 6x over 30m and 6h;
ticket: 3x over 2h and 1d, or 1x over 6h and 3d) and the label_join trick
that keeps the one bucket whose `le` is the objective's threshold. They
differ where autometrics' rules are wrong or narrow:
  - `le` and `objective_latency_threshold` are compared after normalising
    both ("1", "1.0" and "1.00" are one number, as are "0.25" and "0.250"),
    so the latency rules work on Prometheus 3, which writes le="1" as "1.0";
  - one rule per window for every objective percentile: the error budget
    comes from a table keyed by `objective_percentile` (1 - percentile/100),
    and an alert says when a percentile is missing from it;
  - alerts are per function (the description names it), the Sloth-named
    objective-level ratios are recorded for dashboards;
  - `cancelled` calls have no outcome and count neither way.
"""

import pathlib
import re
import sys

HERE = pathlib.Path(__file__).resolve().parent
RULES = HERE / "rules" / "trace-runtime.rules.yml"
TEMPLATE = HERE / "tests" / "objectives.test.yml.in"
SPELLINGS = {
    # test file name: what each marker becomes
    "le-prometheus2.test.yml": {"@SPELLING@": "Prometheus 2 (le=\"1\")", "@LE_1@": "1", "@LE_10@": "10"},
    "le-prometheus3.test.yml": {"@SPELLING@": "Prometheus 3 (le=\"1.0\")", "@LE_1@": "1.0", "@LE_10@": "10.0"},
}

# The percentiles an objective may name (trace_runtime::objective::Percentile)
# and a few more, as the library spells them in `objective_percentile`.
PERCENTILES = ["90", "95", "97.5", "98", "99", "99.5", "99.9", "99.95", "99.99"]
WINDOWS = ["5m", "30m", "1h", "2h", "6h", "1d", "3d"]
MIN_RATE = "1/60"  # calls per second: below one call a minute, no ratio

# (severity, [(short, long, burn rate)], what the budget does at that rate)
BURN_ALERTS = [
    ("page", [("5m", "1h", "14.4"), ("30m", "6h", "6")],
     "a 30-day error budget is gone within 5 days"),
    ("ticket", [("2h", "1d", "3"), ("6h", "3d", "1")],
     "a 30-day error budget is gone before the 30 days are"),
]

FUNCTION_LABELS = "service_name, objective_name, objective_percentile, function, module"
LATENCY_FUNCTION_LABELS = (
    "service_name, objective_name, objective_percentile, objective_latency_threshold, function, module"
)
OBJECTIVE_LABELS = "objective_name, objective_percentile, service_name"  # as autometrics

CALLS = "function_calls_total"
DURATION = "function_calls_duration_seconds"
BUDGET = 'slo:error_budget:ratio{sloth_service="trace-runtime"}'

# A number's one spelling: "1", "1.0", "1.00" -> "1"; "0.250" -> "0.25";
# anything else ("+Inf", "1e-05") stays as it is.
NUMBER = r"([0-9]+)(?:[.]0*)?|([0-9]*[.][0-9]*[1-9])0*"
CHECK = "trace_runtime_bucket_check"


def normalised(vector, label):
    """`vector` with label CHECK set to `label`'s value, spelled as NUMBER says."""
    copied = f'label_replace({vector}, "{CHECK}", "$1", "{label}", "(.*)")'
    return f'label_replace({copied}, "{CHECK}", "$1$2", "{CHECK}", "{NUMBER}")'


def threshold_buckets(window, indent):
    """The rate of each histogram's bucket whose le is its objective's threshold."""
    rate = f'rate({DURATION}_bucket{{objective_latency_threshold!=""}}[{window}])'
    pad = " " * indent
    return (
        f"{pad}  {normalised(rate, 'objective_latency_threshold')}\n"
        f"{pad}and\n"
        f"{pad}  {normalised(rate, 'le')}"
    )


def error_ratio(window, by):
    calls = f'rate({CALLS}{{objective_percentile!="", result=~"ok|error"}}[{window}])'
    errors = f'rate({CALLS}{{objective_percentile!="", result="error"}}[{window}])'
    return (
        f"(\n"
        f"  sum by ({by}) ({errors})\n"
        f"  or\n"
        f"  0 * sum by ({by}) ({calls})\n"
        f")\n"
        f"/\n"
        f"(sum by ({by}) ({calls}) >= {MIN_RATE})\n"
    )


def slow_ratio(window, by):
    count = f'rate({DURATION}_count{{objective_latency_threshold!=""}}[{window}])'
    return (
        f"1 - (\n"
        f"  sum by ({by}) (\n"
        f"{threshold_buckets(window, 4)}\n"
        f"  )\n"
        f"  /\n"
        f"  (sum by ({by}) ({count}) >= {MIN_RATE})\n"
        f")\n"
    )


def block(text, indent):
    pad = " " * indent
    return "".join(pad + line + "\n" if line else "\n" for line in text.rstrip("\n").split("\n"))


def record(name, expr, labels=None):
    out = f"  - record: {name}\n    expr: |\n{block(expr, 6)}"
    if labels:
        out += "    labels:\n" + "".join(f"      {k}: {quote(v)}\n" for k, v in labels.items())
    return out


def alert(name, expr, labels, annotations):
    out = f"  - alert: {name}\n    expr: |\n{block(expr, 6)}"
    out += "    labels:\n" + "".join(f"      {k}: {quote(v)}\n" for k, v in labels.items())
    out += "    annotations:\n" + "".join(f"      {k}: {quote(v)}\n" for k, v in annotations.items())
    return out


def quote(value):
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def sloth(slo, window=None):
    labels = {
        "sloth_id": f"trace-runtime-{slo}",
        "sloth_service": "trace-runtime",
        "sloth_slo": slo,
    }
    if window:
        labels["sloth_window"] = window
    return labels


def budget_group():
    rules = []
    for p in PERCENTILES:
        rules.append(record("slo:objective:ratio", f"vector({p} / 100)",
                            {"sloth_service": "trace-runtime", "objective_percentile": p}))
        rules.append(record("slo:error_budget:ratio", f"vector(1 - {p} / 100)",
                            {"sloth_service": "trace-runtime", "objective_percentile": p}))
    return "- name: trace-runtime-objective-budgets\n  rules:\n" + "".join(rules)


def sli_group(slo, function_record, ratio, function_labels):
    rules = []
    for w in WINDOWS:
        rules.append(record(f"{function_record}{w}", ratio(w, function_labels)))
    for w in WINDOWS:
        rules.append(record(f"slo:sli_error:ratio_rate{w}", ratio(w, OBJECTIVE_LABELS), sloth(slo, w)))
    selector = f'slo:sli_error:ratio_rate5m{{sloth_id="trace-runtime-{slo}"}}'
    rules.append(record(
        "slo:sli_error:ratio_rate30d",
        f"sum_over_time({selector}[30d])\n/ ignoring (sloth_window)\ncount_over_time({selector}[30d])",
        sloth(slo, "30d"),
    ))
    rules.append(record(
        "slo:period_burn_rate:ratio",
        f'slo:sli_error:ratio_rate30d{{sloth_id="trace-runtime-{slo}"}}\n'
        f"/ on (objective_percentile) group_left ()\n{BUDGET}",
        sloth(slo),
    ))
    rules.append(record(
        "slo:period_error_budget_remaining:ratio",
        f'1 - slo:period_burn_rate:ratio{{sloth_id="trace-runtime-{slo}"}}',
        sloth(slo),
    ))
    return f"- name: trace-runtime-{slo}\n  rules:\n" + "".join(rules)


def burn(function_record, pairs):
    def over(window, factor):
        return (f"({function_record}{window} / on (objective_percentile) group_left () {BUDGET})"
                f" > {factor}")
    parts = [f"(\n  {over(s, f)}\nand\n  {over(l, f)}\n)" for s, l, f in pairs]
    return "\nor\n".join(parts) + "\n"


def alert_group():
    rules = []
    where = "`{{ $labels.function }}` ({{ $labels.module }}, service {{ $labels.service_name }})"
    for severity, pairs, horizon in BURN_ALERTS:
        windows = " or ".join(f"{f}x over {s} and {l}" for s, l, f in pairs)
        rules.append(alert(
            "FunctionSuccessRateBudgetBurn",
            burn("function_objective:function_calls_error:ratio_rate", pairs),
            {"severity": severity, "category": "success-rate"},
            {
                "summary": f"{where} fails too often for objective `{{{{ $labels.objective_name }}}}`",
                "description": (
                    f"Calls of {where} fail {{{{ $value | humanize }}}} times as often as objective "
                    f"`{{{{ $labels.objective_name }}}}` allows ({{{{ $labels.objective_percentile }}}}% "
                    f"of calls succeed; burn rate above {windows}): at this rate {horizon}."
                ),
            },
        ))
    for severity, pairs, horizon in BURN_ALERTS:
        windows = " or ".join(f"{f}x over {s} and {l}" for s, l, f in pairs)
        rules.append(alert(
            "FunctionLatencyBudgetBurn",
            burn("function_objective:function_calls_slow:ratio_rate", pairs),
            {"severity": severity, "category": "latency"},
            {
                "summary": (
                    f"{where} is too slow for objective `{{{{ $labels.objective_name }}}}`"
                ),
                "description": (
                    f"Calls of {where} take longer than {{{{ $labels.objective_latency_threshold }}}} s "
                    f"{{{{ $value | humanize }}}} times as often as objective "
                    f"`{{{{ $labels.objective_name }}}}` allows ({{{{ $labels.objective_percentile }}}}% "
                    f"of calls within {{{{ $labels.objective_latency_threshold }}}} s; burn rate above "
                    f"{windows}): at this rate {horizon}."
                ),
            },
        ))
    rules.append(alert(
        "ObjectivePercentileWithoutBudget",
        f"count by (service_name, objective_name, objective_percentile) (\n"
        f'  {CALLS}{{objective_percentile!=""}} or {DURATION}_count{{objective_percentile!=""}}\n'
        f")\nunless on (objective_percentile)\n{BUDGET}\n",
        {"severity": "ticket", "category": "configuration"},
        {
            "summary": (
                "Objective `{{ $labels.objective_name }}` of service {{ $labels.service_name }} "
                "has a percentile the rules do not know"
            ),
            "description": (
                "Objective `{{ $labels.objective_name }}` asks for {{ $labels.objective_percentile }}% "
                "and trace-runtime.rules.yml has no error budget for that percentile, so no burn-rate "
                "alert covers it: add it to PERCENTILES in prometheus/generate.py and regenerate."
            ),
        },
    ))
    buckets = f'{DURATION}_bucket{{objective_latency_threshold!=""}}'
    rules.append(alert(
        "ObjectiveLatencyThresholdNotABucket",
        f'count by ({LATENCY_FUNCTION_LABELS}) ({DURATION}_count{{objective_latency_threshold!=""}})\n'
        f"unless\n"
        f"count by ({LATENCY_FUNCTION_LABELS}) (\n"
        f"  {normalised(buckets, 'objective_latency_threshold')}\n"
        f"and\n"
        f"  {normalised(buckets, 'le')}\n"
        f")\n",
        {"severity": "ticket", "category": "configuration"},
        {
            "summary": (
                f"{where}: latency threshold {{{{ $labels.objective_latency_threshold }}}} s "
                f"is none of its histogram's buckets"
            ),
            "description": (
                f"The histogram of {where} has no bucket whose le equals the threshold "
                f"{{{{ $labels.objective_latency_threshold }}}} s of objective "
                f"`{{{{ $labels.objective_name }}}}`, so its latency objective is not evaluated "
                f"(was a relabel rule or another exporter involved?)."
            ),
        },
    ))
    return "- name: trace-runtime-slo-alerts\n  rules:\n" + "".join(rules)


def rules_file():
    header = (
        "# Generated by prometheus/generate.py: edit that and run it again, not this file.\n"
        "#\n"
        "# Recording and burn-rate alerting rules for the objectives of functions traced\n"
        "# with #[trace(objective = ...)] (trace-runtime), on function_calls_total and\n"
        "# function_calls_duration_seconds. Correct on Prometheus 2 and 3 (le=\"1\" and\n"
        "# le=\"1.0\"). In the shape of autometrics' Sloth-generated rules\n"
        "# (github.com/autometrics-dev/autometrics-shared, autometrics.rules.yml,\n"
        "# MIT OR Apache-2.0), whose expressions some of these restate; both files can\n"
        "# be loaded together (these series carry sloth_service=\"trace-runtime\").\n"
        "#\n"
        "# function_objective:function_calls_error:ratio_rate<w>  errors / (ok + errors), per\n"
        "#   function and objective (cancelled calls count neither way)\n"
        "# function_objective:function_calls_slow:ratio_rate<w>   calls slower than\n"
        "#   objective_latency_threshold / calls, per function and objective\n"
        "# slo:sli_error:ratio_rate<w>{sloth_slo=\"success-rate\"|\"latency\"}  the same per\n"
        "#   objective (objective_name, objective_percentile, service_name), as autometrics\n"
        "# slo:error_budget:ratio{objective_percentile}  1 - percentile / 100\n"
        "# Windows: " + ", ".join(WINDOWS) + "; no ratio under one call a minute.\n"
        "\n"
        "groups:\n"
    )
    groups = [
        budget_group(),
        sli_group("success-rate", "function_objective:function_calls_error:ratio_rate", error_ratio,
                  FUNCTION_LABELS),
        sli_group("latency", "function_objective:function_calls_slow:ratio_rate", slow_ratio,
                  LATENCY_FUNCTION_LABELS),
        alert_group(),
    ]
    return header + "".join(groups)


def outputs():
    files = {RULES: rules_file()}
    template = TEMPLATE.read_text()
    for name, markers in SPELLINGS.items():
        text = template
        for marker, value in markers.items():
            text = text.replace(marker, value)
        if re.search(r"@[A-Z_0-9]+@", text):
            raise SystemExit(f"{name}: a marker of the template was left unreplaced")
        header = (f"# Generated by prometheus/generate.py from objectives.test.yml.in, "
                  f"histogram buckets spelled as {markers['@SPELLING@']}.\n")
        files[HERE / "tests" / name] = header + text
    return files


def main():
    check = "--check" in sys.argv[1:]
    stale = []
    for path, text in outputs().items():
        if check:
            if not path.exists() or path.read_text() != text:
                stale.append(path)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            print(f"wrote {path.relative_to(HERE.parent)}")
    if stale:
        for path in stale:
            print(f"{path.relative_to(HERE.parent)} is out of date: run python3 prometheus/generate.py",
                  file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
