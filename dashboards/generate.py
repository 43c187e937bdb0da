#!/usr/bin/env python3
"""Writes the Grafana dashboards of trace-runtime (dashboards/*.json).

    python3 dashboards/generate.py          # rewrite the JSON files and the
                                            # README's table of panels
    python3 dashboards/generate.py --check  # fail if a file is out of date

The JSON files are what users import; this script is how they are kept
consistent (one data-source variable used by every panel, a unit and a
description on each panel, the same label sets everywhere). Edit the
panels here and run it; `dashboards/test.sh` evaluates every query of the
files it writes on a real Prometheus. Standard library only.
"""

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DS = {"type": "prometheus", "uid": "${datasource}"}

# Request rates and ratios: `$__rate_interval` follows the scrape interval
# set on the data source (four scrapes at least).
W = "$__rate_interval"

# Every series of a process joined with its `build_info` (one per process)
# by the labels Prometheus adds to each target, so a panel can show the
# version. A target without `build_info` still shows, with no version.
VERSION_JOIN = (
    "* on (instance, job) group_left (version) "
    "(max by (instance, job, version) (build_info) or on (instance, job) up)"
)

# The target of an objective, from its `objective_percentile` label
# ("99" means 99 % of calls succeed, or finish under the threshold), as a
# vector keyed by that label: PromQL cannot read a number out of a label,
# so the percentiles an objective may use are listed, each as written
# ("99", "99.9") and with a trailing ".0" ("99.0").
# trace_runtime::objective::Percentile, and the percentiles that
# prometheus/'s slo:error_budget:ratio knows.
PERCENTILES = ["90", "95", "97.5", "98", "99", "99.5", "99.9", "99.95", "99.99"]


def _percentile_targets():
    from decimal import Decimal

    parts = []
    for p in PERCENTILES:
        value = Decimal(p) / 100
        spellings = [p] + ([p + ".0"] if "." not in p else [])
        for spelling in spellings:
            parts.append(
                f'label_replace(vector({value}), "objective_percentile", "{spelling}", "", "")'
            )
    return "(" + " or ".join(parts) + ")"


TARGET = _percentile_targets()

# `le` as Prometheus 2 stores it ("1") and as Prometheus 3 does ("1.0"):
# both are rewritten to the short form before an `le` is compared with
# `objective_latency_threshold`, so whole-second thresholds work on both.
SHORT_NUMBER = '"(.*?)(?:\\\\.0)?"'


def short_label(expr, label, src=None):
    return f'label_replace({expr}, "{label}", "$1", "{src or label}", {SHORT_NUMBER})'


def calls_ratio(num_sel, den_sel, by, window=W, join=""):
    """(calls matching num_sel) / (calls matching den_sel that finished, ok
    or error), by `by`; 0 where no call matched num_sel, nothing where no
    call ran at all. Cancelled calls have no outcome and count neither way,
    as in the recording rules of prometheus/."""
    den_sel = f'{den_sel}, result=~"ok|error"'

    def total(sel):
        return f"sum by ({by}) (rate(function_calls_total{{{sel}}}[{window}]){join})"

    den = total(den_sel)
    return f"({total(num_sel)} or {den} * 0) / ({den} > 0)"


def http_ratio(num_sel, den_sel, by, window=W):
    def total(sel):
        if by:
            return f"sum by ({by}) (rate(http_requests_total{{{sel}}}[{window}]))"
        return f"sum(rate(http_requests_total{{{sel}}}[{window}]))"

    den = total(den_sel)
    zero = f"{den} * 0" if by else "vector(0)"
    return f"({total(num_sel)} or {zero}) / ({den} > 0)"


def quantile(q, metric, sel, by, join=""):
    return (
        f"histogram_quantile({q}, sum by (le, {by}) "
        f"(rate({metric}_bucket{{{sel}}}[{W}]){join}))"
    )


# --- panels -----------------------------------------------------------------


def target(expr, legend="", ref="A", instant=False, fmt="time_series"):
    t = {
        "datasource": DS,
        "editorMode": "code",
        "expr": expr,
        "legendFormat": legend or "__auto",
        "range": not instant,
        "instant": instant,
        "refId": ref,
    }
    if fmt != "time_series":
        t["format"] = fmt
    return t


def _targets(exprs, instant=False, fmt="time_series"):
    out = []
    for i, e in enumerate(exprs):
        expr, legend = e if isinstance(e, tuple) else (e, "")
        out.append(target(expr, legend, chr(ord("A") + i), instant, fmt))
    return out


def timeseries(title, description, unit, exprs, w=12, h=8, lo=0, hi=None, stack=False):
    defaults = {
        "unit": unit,
        "color": {"mode": "palette-classic"},
        "custom": {
            "drawStyle": "line",
            "lineWidth": 1,
            "fillOpacity": 10,
            "showPoints": "never",
            "spanNulls": False,
            "stacking": {"group": "A", "mode": "normal" if stack else "none"},
        },
        "thresholds": {"mode": "absolute", "steps": [{"color": "green", "value": None}]},
    }
    if lo is not None:
        defaults["min"] = lo
    if hi is not None:
        defaults["max"] = hi
    return {
        "type": "timeseries",
        "title": title,
        "description": description,
        "datasource": DS,
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "options": {
            "legend": {
                "showLegend": True,
                "displayMode": "table",
                "placement": "bottom",
                "calcs": ["mean", "max", "lastNotNull"],
                "sortBy": "Max",
                "sortDesc": True,
            },
            "tooltip": {"mode": "multi", "sort": "desc"},
        },
        "targets": _targets(exprs),
        "_size": (w, h),
    }


def stat(title, description, unit, exprs, w=6, h=4, steps=None, lo=None, hi=None, decimals=None):
    # A query over the whole time range is one instant query, not one per step.
    instant = any("$__range" in (e[0] if isinstance(e, tuple) else e) for e in exprs)
    defaults = {
        "unit": unit,
        "color": {"mode": "thresholds"},
        "thresholds": {
            "mode": "absolute",
            "steps": steps or [{"color": "green", "value": None}],
        },
        "mappings": [],
    }
    if lo is not None:
        defaults["min"] = lo
    if hi is not None:
        defaults["max"] = hi
    if decimals is not None:
        defaults["decimals"] = decimals
    return {
        "type": "stat",
        "title": title,
        "description": description,
        "datasource": DS,
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "options": {
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
            "colorMode": "value",
            "graphMode": "none" if instant else "area",
            "justifyMode": "auto",
            "orientation": "auto",
            "textMode": "auto",
        },
        "targets": _targets(exprs, instant=instant),
        "_size": (w, h),
    }


def table(title, description, unit, exprs, hide=(), rename=None, w=12, h=8, sort=None):
    excluded = {"Time": True}
    excluded.update({k: True for k in hide})
    panel = {
        "type": "table",
        "title": title,
        "description": description,
        "datasource": DS,
        "fieldConfig": {
            "defaults": {
                "unit": unit,
                "custom": {"align": "auto", "filterable": True},
                "thresholds": {"mode": "absolute", "steps": [{"color": "green", "value": None}]},
            },
            "overrides": [],
        },
        "options": {"showHeader": True, "footer": {"show": False}},
        "targets": _targets(exprs, instant=True, fmt="table"),
        "transformations": [
            {
                "id": "organize",
                "options": {
                    "excludeByName": excluded,
                    "renameByName": rename or {},
                },
            }
        ],
        "_size": (w, h),
    }
    if sort:
        panel["options"]["sortBy"] = [{"displayName": sort, "desc": True}]
    return panel


def heatmap(title, description, expr, w=12, h=8):
    return {
        "type": "heatmap",
        "title": title,
        "description": description,
        "datasource": DS,
        "fieldConfig": {"defaults": {"unit": "s", "custom": {}}, "overrides": []},
        "options": {
            "calculate": False,
            "cellGap": 1,
            "color": {"mode": "scheme", "scheme": "Oranges", "steps": 64},
            "yAxis": {"unit": "s", "axisPlacement": "left"},
            "rowsFrame": {"layout": "auto"},
            "tooltip": {"show": True, "yHistogram": True},
            "legend": {"show": True},
        },
        "targets": [
            dict(target(expr, "{{le}}", fmt="heatmap"), interval="", format="heatmap")
        ],
        "_size": (w, h),
    }


def row(title):
    return {"type": "row", "title": title, "collapsed": False, "panels": [], "_size": (24, 1)}


def layout(panels):
    """Places the panels left to right, top to bottom, on Grafana's 24
    columns; gives each an id."""
    x = y = row_h = 0
    out = []
    for i, p in enumerate(panels, start=1):
        w, h = p.pop("_size")
        if x + w > 24:
            x, y, row_h = 0, y + row_h, 0
        p["id"] = i
        p["gridPos"] = {"h": h, "w": w, "x": x, "y": y}
        x += w
        row_h = max(row_h, h)
        out.append(p)
    return out


# --- variables ----------------------------------------------------------------


def datasource_var():
    return {
        "name": "datasource",
        "label": "Data source",
        "type": "datasource",
        "query": "prometheus",
        "current": {},
        "hide": 0,
        "includeAll": False,
        "multi": False,
        "options": [],
        "refresh": 1,
        "regex": "",
    }


def query_var(name, label, query, description, multi=True, all_value=".*"):
    return {
        "name": name,
        "label": label,
        "description": description,
        "type": "query",
        "datasource": DS,
        "definition": query,
        "query": {"query": query, "refId": "PrometheusVariableQueryEditor-VariableQuery"},
        "refresh": 2,
        "regex": "",
        "sort": 1,
        "multi": multi,
        "includeAll": True,
        "allValue": all_value,
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
        "hide": 0,
        "options": [],
    }


def dashboard(uid, title, description, variables, panels, time_from="now-1h"):
    return {
        "uid": uid,
        "title": title,
        "description": description,
        "tags": ["trace-runtime"],
        "editable": True,
        "graphTooltip": 1,
        "schemaVersion": 36,
        "version": 1,
        "time": {"from": time_from, "to": "now"},
        "timepicker": {},
        "timezone": "",
        "refresh": "30s",
        "fiscalYearStartMonth": 0,
        "liveNow": False,
        "annotations": {"list": []},
        "links": [
            {
                "title": "trace-runtime",
                "type": "dashboards",
                "tags": ["trace-runtime"],
                "asDropdown": True,
                "includeVars": True,
                "keepTime": True,
                "icon": "external link",
                "targetBlank": False,
                "tooltip": "",
                "url": "",
            }
        ],
        "templating": {"list": [datasource_var()] + variables},
        "panels": layout(panels),
    }


RATIO_STEPS = [
    {"color": "green", "value": None},
    {"color": "orange", "value": 0.05},
    {"color": "red", "value": 0.2},
]
SUCCESS_STEPS = [
    {"color": "red", "value": None},
    {"color": "orange", "value": 0.95},
    {"color": "green", "value": 0.99},
]
BUDGET_STEPS = [
    {"color": "red", "value": None},
    {"color": "orange", "value": 0},
    {"color": "green", "value": 0.25},
]
BURN_STEPS = [
    {"color": "green", "value": None},
    {"color": "orange", "value": 1},
    {"color": "red", "value": 6},
]

SERVICE_VAR_HELP = "The service_name label: ExporterBuilder::service_name, OTEL_SERVICE_NAME or the package."


# --- the dashboards -------------------------------------------------------------


def overview():
    svc = 'service_name=~"$service"'
    by = "service_name, function, module, version"
    legend = "{{function}} · {{service_name}} {{version}}"
    panels = [
        stat(
            "Calls per second",
            "Traced calls per second, every function of the selected services, all results.",
            "ops",
            [f"sum(rate(function_calls_total{{{svc}}}[{W}]))"],
        ),
        stat(
            "Error ratio",
            "Share of finished traced calls that returned Err or panicked (result=\"error\" "
            "over ok + error; cancelled calls count neither way).",
            "percentunit",
            [calls_ratio(f'{svc}, result="error"', svc, "service_name")],
            steps=RATIO_STEPS,
            lo=0,
            hi=1,
        ),
        table(
            "Versions",
            "One row per process: its service, version, commit, branch and trace-runtime version, from build_info.",
            "none",
            [
                "max by (service_name, version, commit, branch, trace_runtime_version, instance, job) "
                f"(build_info{{{svc}}})"
            ],
            hide=["Value"],
            w=12,
            h=4,
        ),
        timeseries(
            "Call rate per function",
            "Calls per second of each traced function, all results, with the version of the "
            "process that made them (build_info).",
            "ops",
            [(f"sum by ({by}) (rate(function_calls_total{{{svc}}}[{W}]) {VERSION_JOIN})", legend)],
        ),
        timeseries(
            "Error ratio per function",
            "Per function, the share of finished calls with result=\"error\" (Err or panic) "
            "over ok + error; 0 for functions without errors. Cancelled calls count "
            "neither way.",
            "percentunit",
            [(calls_ratio(f'{svc}, result="error"', svc, by, join=" " + VERSION_JOIN), legend)],
            hi=1,
        ),
        timeseries(
            "p95 latency per function",
            "95th percentile of each function's call duration, from the function_calls_duration_seconds "
            "histogram (interpolated within a bucket, so never below the bucket's lower bound).",
            "s",
            [(quantile(0.95, "function_calls_duration_seconds", svc, by, " " + VERSION_JOIN), legend)],
        ),
        timeseries(
            "p99 latency per function",
            "99th percentile of each function's call duration, from the function_calls_duration_seconds "
            "histogram.",
            "s",
            [(quantile(0.99, "function_calls_duration_seconds", svc, by, " " + VERSION_JOIN), legend)],
        ),
        timeseries(
            "Calls in progress per function",
            "Calls started and not finished yet, per function (function_calls_concurrent), at each "
            "scrape.",
            "short",
            [
                (
                    "sum by (service_name, function) "
                    f"(function_calls_concurrent{{{svc}}})",
                    "{{function}} · {{service_name}}",
                )
            ],
            w=24,
        ),
    ]
    return dashboard(
        "trace-runtime-overview",
        "trace-runtime / Service overview",
        "Calls, errors and latency of every traced function, with the version of each process.",
        [
            query_var(
                "service", "Service", "label_values(function_calls_total, service_name)", SERVICE_VAR_HELP
            )
        ],
        panels,
    )


def function_explorer():
    sel = 'service_name=~"$service", function=~"$function"'
    by = "service_name, function"
    legend = "{{function}}"
    root = lambda e: f'label_replace({e}, "caller_function", "(request root)", "caller_function", "")'
    panels = [
        timeseries(
            "Calls per second by result",
            "Calls per second of the selected functions, split by result: ok, error (Err or "
            "panic) and cancelled (a future dropped before it finished).",
            "ops",
            [(f"sum by ({by}, result) (rate(function_calls_total{{{sel}}}[{W}]))", "{{function}} {{result}}")],
            stack=False,
        ),
        timeseries(
            "Error ratio",
            "Share of the selected functions' finished calls (ok + error) with result=\"error\".",
            "percentunit",
            [(calls_ratio(f'{sel}, result="error"', sel, by), legend)],
            hi=1,
        ),
        timeseries(
            "Latency percentiles",
            "p50, p95 and p99 of the call duration, from the histogram's buckets.",
            "s",
            [
                (quantile(0.5, "function_calls_duration_seconds", sel, by), "p50 {{function}}"),
                (quantile(0.95, "function_calls_duration_seconds", sel, by), "p95 {{function}}"),
                (quantile(0.99, "function_calls_duration_seconds", sel, by), "p99 {{function}}"),
            ],
        ),
        timeseries(
            "Average latency",
            "Mean call duration: the histogram's _sum over its _count.",
            "s",
            [
                (
                    f"sum by ({by}) (rate(function_calls_duration_seconds_sum{{{sel}}}[{W}])) / "
                    f"(sum by ({by}) (rate(function_calls_duration_seconds_count{{{sel}}}[{W}])) > 0)",
                    legend,
                )
            ],
        ),
        heatmap(
            "Latency distribution",
            "Calls per bucket of the duration histogram over time (all selected functions).",
            f"sum by (le) (increase(function_calls_duration_seconds_bucket{{{sel}}}[{W}]))",
        ),
        timeseries(
            "Calls in progress",
            "Calls of the selected functions started and not finished yet, at each scrape.",
            "short",
            [(f"sum by ({by}) (function_calls_concurrent{{{sel}}})", legend)],
        ),
        timeseries(
            "Callers",
            "Who calls the selected functions, in calls per second: the caller_function label "
            "(\"(request root)\": the call opened the request).",
            "ops",
            [
                (
                    root(
                        f"sum by (caller_function, function) (rate(function_calls_total{{{sel}}}[{W}]))"
                    ),
                    "{{caller_function}} → {{function}}",
                )
            ],
        ),
        timeseries(
            "Callees",
            "The traced functions the selected functions call, in calls per second.",
            "ops",
            [
                (
                    "sum by (caller_function, function) (rate(function_calls_total{"
                    f'service_name=~"$service", caller_function=~"$function"}}[{W}]))',
                    "{{caller_function}} → {{function}}",
                )
            ],
        ),
    ]
    return dashboard(
        "trace-runtime-functions",
        "trace-runtime / Function explorer",
        "One function or a few: calls by result, error ratio, latency, callers and callees.",
        [
            query_var(
                "service", "Service", "label_values(function_calls_total, service_name)", SERVICE_VAR_HELP
            ),
            query_var(
                "function",
                "Function",
                'label_values(function_calls_total{service_name=~"$service"}, function)',
                "Traced functions of the selected services, Type::method names included.",
            ),
        ],
        panels,
    )


def http():
    sel = 'service_name=~"$service", route=~"$route"'
    by = "service_name, method, route"
    legend = "{{method}} {{route}}"
    panels = [
        stat(
            "Requests per second",
            "HTTP requests per second through TraceLayer, every status (/metrics not counted).",
            "reqps",
            [f"sum(rate(http_requests_total{{{sel}}}[{W}]))"],
        ),
        stat(
            "5xx ratio",
            "Share of requests answered with a 5xx status (500 also for a panic).",
            "percentunit",
            [http_ratio(f'{sel}, status=~"5.."', sel, "")],
            steps=RATIO_STEPS,
            lo=0,
            hi=1,
        ),
        stat(
            "4xx ratio",
            "Share of requests answered with a 4xx status (499: the client went away first).",
            "percentunit",
            [http_ratio(f'{sel}, status=~"4.."', sel, "")],
            lo=0,
            hi=1,
        ),
        stat(
            "Requests in flight",
            "Requests received and not answered yet, at the last scrape.",
            "short",
            [f"sum(http_requests_in_flight{{{sel}}})"],
        ),
        timeseries(
            "Request rate by route and status",
            "Requests per second by method, route template (\"unmatched\" when no route matched) "
            "and status.",
            "reqps",
            [
                (
                    f"sum by ({by}, status) (rate(http_requests_total{{{sel}}}[{W}]))",
                    "{{method}} {{route}} {{status}}",
                )
            ],
            w=24,
        ),
        timeseries(
            "5xx ratio by route",
            "Per method and route, the share of requests answered with a 5xx status.",
            "percentunit",
            [(http_ratio(f'{sel}, status=~"5.."', sel, by), legend)],
            hi=1,
        ),
        timeseries(
            "4xx ratio by route",
            "Per method and route, the share of requests answered with a 4xx status.",
            "percentunit",
            [(http_ratio(f'{sel}, status=~"4.."', sel, by), legend)],
            hi=1,
        ),
        timeseries(
            "p95 latency by route",
            "95th percentile of the request duration per method and route, from "
            "http_request_duration_seconds (which has no status label).",
            "s",
            [(quantile(0.95, "http_request_duration_seconds", sel, by), legend)],
        ),
        timeseries(
            "p99 latency by route",
            "99th percentile of the request duration per method and route.",
            "s",
            [(quantile(0.99, "http_request_duration_seconds", sel, by), legend)],
        ),
        timeseries(
            "Requests in flight by route",
            "Requests received and not answered yet, per method and route, at each scrape.",
            "short",
            [(f"sum by ({by}) (http_requests_in_flight{{{sel}}})", legend)],
            w=24,
        ),
    ]
    return dashboard(
        "trace-runtime-http",
        "trace-runtime / HTTP",
        "Requests through trace_runtime::http::TraceLayer: rate, statuses, latency and requests in flight by route.",
        [
            query_var(
                "service", "Service", "label_values(http_requests_total, service_name)", SERVICE_VAR_HELP
            ),
            query_var(
                "route",
                "Route",
                'label_values(http_requests_total{service_name=~"$service"}, route)',
                "Route templates as axum matched them (/rooms/{name}), \"unmatched\" otherwise.",
            ),
        ],
        panels,
    )


def slos():
    obj = 'objective_name=~"$objective"'
    # Success rate: the counter's objective labels. Latency: the histogram's.
    sr_sel = f'{obj}, objective_percentile!=""'
    sr_by = "objective_name, objective_percentile"
    lat_by = "objective_name, objective_percentile, objective_latency_threshold"
    lat_legend = "{{objective_name}}: {{objective_percentile}} % ≤ {{objective_latency_threshold}} s"
    sr_legend = "{{objective_name}}: {{objective_percentile}} % succeed"

    def error_ratio(window):
        return calls_ratio(f'{sr_sel}, result="error"', sr_sel, sr_by, window)

    def success_rate(window):
        return f"1 - {error_ratio(window)}"

    def slow_ratio(window):
        """Share of calls under a latency objective slower than its threshold:
        the bucket whose `le` is the threshold (either spelling) over the count."""
        sel = f'{obj}, objective_latency_threshold!=""'
        buckets = f"function_calls_duration_seconds_bucket{{{sel}}}"
        fast = (
            f"sum by ({lat_by}) ("
            f"{short_label(f'rate({buckets}[{window}])', 'objective_latency_threshold')} "
            f"and {short_label(buckets, 'objective_latency_threshold', 'le')})"
        )
        total = (
            f"sum by ({lat_by}) ("
            f"{short_label(f'rate(function_calls_duration_seconds_count{{{sel}}}[{window}])', 'objective_latency_threshold')})"
        )
        return f"1 - ({fast} or {total} * 0) / ({total} > 0)"

    def budget_left(ratio):
        return f"1 - ({ratio}) / on (objective_percentile) group_left () (1 - {TARGET})"

    def burn(ratio):
        return f"({ratio}) / on (objective_percentile) group_left () (1 - {TARGET})"

    panels = [
        row("Success-rate objectives"),
        stat(
            "Success rate over the time range",
            "Share of finished calls (ok + error) under each objective that succeeded, over the "
            "whole time range of the dashboard, to compare with the objective's percentile.",
            "percentunit",
            [(success_rate("$__range"), sr_legend)],
            w=8,
            steps=SUCCESS_STEPS,
            lo=0,
            hi=1,
            decimals=2,
        ),
        stat(
            "Error budget remaining (success rate)",
            "Budget of failed calls the objective allows (1 - percentile) not spent yet over the "
            "time range: 100 % with no failures, 0 % at the objective's limit, negative when overspent.",
            "percentunit",
            [(budget_left(error_ratio("$__range")), sr_legend)],
            w=8,
            steps=BUDGET_STEPS,
            hi=1,
            decimals=1,
        ),
        stat(
            "Burn rate, last hour (success rate)",
            "Error ratio of the last hour over the ratio the objective allows: 1 spends the "
            "budget exactly over the objective's window (30 days, say); 14.4 for an hour "
            "spends 2 % of a 30-day budget, the usual fast-burn page.",
            "none",
            [(burn(error_ratio("1h")), sr_legend)],
            w=8,
            steps=BURN_STEPS,
            lo=0,
            decimals=2,
        ),
        timeseries(
            "Success rate",
            "Share of finished calls (ok + error) under each objective that succeeded, over time.",
            "percentunit",
            [(success_rate(W), sr_legend)],
            hi=1,
        ),
        timeseries(
            "Burn rate (success rate)",
            "How fast the error budget is spent, over 5 minutes and over 1 hour: "
            "error ratio over (1 - percentile). Sustained above 1, the objective will be missed.",
            "none",
            [
                (burn(error_ratio("5m")), "5m {{objective_name}}"),
                (burn(error_ratio("1h")), "1h {{objective_name}}"),
            ],
        ),
        row("Latency objectives"),
        stat(
            "Calls within the latency threshold over the time range",
            "Share of calls under each latency objective that finished within its threshold "
            "(the histogram bucket whose le is objective_latency_threshold), over the time range.",
            "percentunit",
            [(f"1 - ({slow_ratio('$__range')})", lat_legend)],
            w=8,
            steps=SUCCESS_STEPS,
            lo=0,
            hi=1,
            decimals=2,
        ),
        stat(
            "Error budget remaining (latency)",
            "Budget of slow calls the objective allows (1 - percentile) not spent yet over the "
            "time range; negative when overspent.",
            "percentunit",
            [(budget_left(slow_ratio("$__range")), lat_legend)],
            w=8,
            steps=BUDGET_STEPS,
            hi=1,
            decimals=1,
        ),
        stat(
            "Burn rate, last hour (latency)",
            "Slow-call ratio of the last hour over the ratio the objective allows.",
            "none",
            [(burn(slow_ratio("1h")), lat_legend)],
            w=8,
            steps=BURN_STEPS,
            lo=0,
            decimals=2,
        ),
        timeseries(
            "Calls within the latency threshold",
            "Share of calls under each latency objective that finished within its threshold, over time.",
            "percentunit",
            [(f"1 - ({slow_ratio(W)})", lat_legend)],
            hi=1,
        ),
        timeseries(
            "Burn rate (latency)",
            "How fast the latency budget is spent, over 5 minutes and over 1 hour.",
            "none",
            [
                (burn(slow_ratio("5m")), "5m {{objective_name}}"),
                (burn(slow_ratio("1h")), "1h {{objective_name}}"),
            ],
        ),
        row("Functions under objectives"),
        table(
            "Functions under objectives",
            "Each function with an objective, in calls per second over the time range.",
            "ops",
            [
                "sum by (objective_name, service_name, function) "
                f'(rate(function_calls_total{{{obj}, objective_name!=""}}[$__range]))'
            ],
            rename={"Value": "calls/s"},
            w=24,
        ),
    ]
    return dashboard(
        "trace-runtime-slos",
        "trace-runtime / SLOs",
        "Success-rate and latency objectives declared in code (#[trace(objective = ...)]): "
        "attainment, error budget and burn rate per objective_name.",
        [
            query_var(
                "objective",
                "Objective",
                'label_values({__name__=~"function_calls_total|function_calls_duration_seconds_count", '
                'objective_name!=""}, objective_name)',
                "The objective_name label of calls declared with an objective.",
                all_value=".+",
            )
        ],
        panels,
        time_from="now-7d",
    )


def call_graph():
    svc = 'service_name=~"$service"'
    edges = (
        f'sum by (caller_function, function) (rate(function_calls_total{{{svc}, caller_function!=""}}[{W}]))'
    )
    errors = calls_ratio(
        f'{svc}, caller_function!="", result="error"', f'{svc}, caller_function!=""', "caller_function, function"
    )
    graph_edges = (
        'label_join(label_replace(label_replace('
        f'{edges}, "source", "$1", "caller_function", "(.*)"), "target", "$1", "function", "(.*)"), '
        '"id", " -> ", "caller_function", "function")'
    )
    graph_nodes = (
        'label_replace(label_replace('
        f'sum by (function) (rate(function_calls_total{{{svc}}}[{W}])), '
        '"id", "$1", "function", "(.*)"), "title", "$1", "function", "(.*)")'
    )
    graph = {
        "type": "nodeGraph",
        "title": "Call graph",
        "description": "Traced functions (nodes, with their calls per second) and who calls whom "
        "(edges caller_function → function, with calls per second), from function_calls_total.",
        "datasource": DS,
        "fieldConfig": {"defaults": {"unit": "ops"}, "overrides": []},
        "options": {"nodes": {"mainStatUnit": "ops"}, "edges": {"mainStatUnit": "ops"}},
        "targets": [
            target(graph_edges, ref="A", instant=True, fmt="table"),
            target(graph_nodes, ref="B", instant=True, fmt="table"),
        ],
        "transformations": [
            {
                "id": "organize",
                "options": {
                    "excludeByName": {"Time": True, "caller_function": True, "function": True},
                    "renameByName": {"Value #A": "mainstat", "Value #B": "mainstat"},
                },
            }
        ],
        "_size": (24, 14),
    }
    panels = [
        graph,
        table(
            "Calls per edge",
            "Calls per second from each caller to each callee (request roots left out).",
            "ops",
            [edges],
            rename={"caller_function": "caller", "function": "callee", "Value": "calls/s"},
            sort="calls/s",
        ),
        table(
            "Error ratio per edge",
            "Share of each caller → callee edge's finished calls (ok + error) with result=\"error\".",
            "percentunit",
            [errors],
            rename={"caller_function": "caller", "function": "callee", "Value": "error ratio"},
            sort="error ratio",
        ),
        timeseries(
            "Request roots",
            "Calls per second of functions called first in a request (empty caller_function).",
            "ops",
            [
                (
                    f'sum by (function) (rate(function_calls_total{{{svc}, caller_function=""}}[{W}]))',
                    "{{function}}",
                )
            ],
            w=24,
        ),
    ]
    return dashboard(
        "trace-runtime-call-graph",
        "trace-runtime / Call graph",
        "Which traced functions call which, with rates, from the caller_function label.",
        [
            query_var(
                "service", "Service", "label_values(function_calls_total, service_name)", SERVICE_VAR_HELP
            )
        ],
        panels,
    )


DASHBOARDS = {
    "overview.json": overview,
    "function-explorer.json": function_explorer,
    "http.json": http,
    "slos.json": slos,
    "call-graph.json": call_graph,
}


KINDS = {"timeseries": "time series", "stat": "stat", "table": "table", "heatmap": "heatmap",
         "nodeGraph": "node graph"}
TABLE_START = "<!-- panels: written by generate.py -->\n"
TABLE_END = "<!-- /panels -->\n"


def panel_table(dashboards):
    """The README's table of panels, between its two markers."""
    lines = ["| dashboard | panel | type, unit | what it shows |", "|---|---|---|---|"]
    for d in dashboards:
        for p in d["panels"]:
            if p["type"] == "row":
                continue
            unit = p["fieldConfig"]["defaults"]["unit"]
            lines.append(
                f"| {d['title'].split(' / ')[1]} | {p['title']} | {KINDS[p['type']]}, `{unit}` "
                f"| {p['description']} |"
            )
    return "\n".join(lines) + "\n"


def main():
    check = "--check" in sys.argv[1:]
    stale = []
    files = {name: build() for name, build in DASHBOARDS.items()}
    readme = (HERE / "README.md").read_text()
    start, end = readme.index(TABLE_START) + len(TABLE_START), readme.index(TABLE_END)
    files["README.md"] = readme[:start] + panel_table(files.values()) + readme[end:]
    for name, content in files.items():
        text = content if isinstance(content, str) else json.dumps(content, indent=2, ensure_ascii=False) + "\n"
        path = HERE / name
        if check:
            if not path.exists() or path.read_text() != text:
                stale.append(name)
        elif not path.exists() or path.read_text() != text:
            path.write_text(text)
            print(f"wrote {path.relative_to(HERE.parent)}")
    if stale:
        print(f"out of date: {', '.join(stale)}; run python3 dashboards/generate.py", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
