#!/usr/bin/env python3
"""Evaluates every query of the dashboards on a live Prometheus.

    python3 dashboards/check.py --prom http://127.0.0.1:9090 --range 40 [--require-objectives]

Run by dashboards/test.sh, against a Prometheus that has scraped the demo
(package trace-demo). For each dashboard file (dashboards/*.json) it checks
the panels' shape (the `datasource` variable on every panel and query, a
unit and a description), then:

- evaluates every template variable's query (`label_values(...)`) through
  `/api/v1/label/<name>/values`, requires values, and that the value used
  below is one of them;
- substitutes Grafana's variables in every panel query (`$__rate_interval`,
  `$__interval`, `$__range`, the template variables: once with a value from
  the data, regex-escaped as Grafana does, once with "All", `.*`) and
  evaluates it through `/api/v1/query`;
- requires series and plausible values: the check of each panel is in
  EXPECT below (rates >= 0 with some > 0, ratios in [0, 1], quantiles
  within the histogram's buckets, the demo's call-graph edges, ...). A
  panel missing from EXPECT fails, so a new panel needs its check.

Queries that select on objective labels (the SLO dashboard) are reported as
skipped while the scraped service has none, unless --require-objectives.
Standard library only. Exit status 1 when a check failed.
"""

import argparse
import json
import math
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
DS_UID = "${datasource}"

# Values of the template variables that the demo's data has.
VALUES = {
    "service": "game-rooms",
    "function": "GameService::get_room",
    "route": "/rooms/{name}",
    "objective": "api",
}

# The demo's call graph (examples/demo/src/game.rs): caller -> callee.
DEMO_EDGES = [
    ("GameService::join_room", "GameService::get_room"),
    ("GameService::join_room", "GameService::save_seats"),
    ("GameService::leave_room", "GameService::get_room"),
    ("GameService::leave_room", "GameService::save_seats"),
    ("GameService::close_room", "GameService::get_room"),
    ("GameService::close_room", "GameService::delete_room"),
    ("GameService::create_room", "GameService::validate_room"),
    ("GameService::create_room", "GameService::save_room"),
    ("GameService::validate_room", "GameService::find_room"),
    ("GameService::get_room", "GameService::find_room"),
]
DEMO_FUNCTIONS = sorted({f for edge in DEMO_EDGES for f in edge} | {"AuditLog::record", "GameService::list_rooms"})
DEMO_ROUTES = ["/rooms", "/rooms/{name}", "/rooms/{name}/players", "/rooms/{name}/players/{player}"]

# Each panel's check, by dashboard uid and panel title; a dict when the
# panel's queries differ (by refId). Kinds: see check_values().
EXPECT = {
    "trace-runtime-overview": {
        "Calls per second": "rate",
        "Error ratio": "ratio",
        "Versions": "build_info",
        "Call rate per function": "rate+version",
        "Error ratio per function": "ratio+version",
        "p95 latency per function": "quantile+version",
        "p99 latency per function": "quantile+version",
        "Calls in progress per function": "gauge",
    },
    "trace-runtime-functions": {
        "Calls per second by result": "rate",
        "Error ratio": "ratio",
        "Latency percentiles": "quantile",
        "Average latency": "duration",
        "Latency distribution": "heatmap",
        "Calls in progress": "gauge",
        "Callers": "callers",
        "Callees": "callees",
    },
    "trace-runtime-http": {
        "Requests per second": "rate",
        "5xx ratio": "ratio",
        "4xx ratio": "ratio",
        "Requests in flight": "gauge",
        "Request rate by route and status": "rate+routes",
        "5xx ratio by route": "ratio",
        "4xx ratio by route": "ratio",
        "p95 latency by route": "quantile",
        "p99 latency by route": "quantile",
        "Requests in flight by route": "gauge",
    },
    "trace-runtime-slos": {
        "Success rate over the time range": "ratio+objective",
        "Error budget remaining (success rate)": "budget",
        "Burn rate, last hour (success rate)": "burn",
        "Success rate": "ratio+objective",
        "Burn rate (success rate)": "burn",
        "Calls within the latency threshold over the time range": "ratio+objective",
        "Calls within the latency threshold": "ratio+objective",
        "Error budget remaining (latency)": "budget",
        "Burn rate, last hour (latency)": "burn",
        "Burn rate (latency)": "burn",
        "Functions under objectives": "rate",
    },
    "trace-runtime-call-graph": {
        "Call graph": {"A": "graph-edges", "B": "graph-nodes"},
        "Calls per edge": "edges",
        "Error ratio per edge": "edges+ratio",
        "Request roots": "rate",
    },
}
# Dashboards whose queries need objective labels.
NEEDS_OBJECTIVES = {"trace-runtime-slos"}


class Prometheus:
    def __init__(self, url, at):
        self.url = url.rstrip("/")
        self.at = at

    def get(self, path, params):
        query = urllib.parse.urlencode(params, doseq=True)
        with urllib.request.urlopen(f"{self.url}{path}?{query}", timeout=30) as resp:
            body = json.load(resp)
        if body.get("status") != "success":
            raise RuntimeError(f"{path}: {body}")
        return body["data"]

    def query(self, expr):
        try:
            data = self.get("/api/v1/query", {"query": expr, "time": self.at})
        except urllib.error.HTTPError as err:
            raise RuntimeError(f"HTTP {err.code}: {err.read().decode(errors='replace')}") from None
        if data["resultType"] != "vector":
            raise RuntimeError(f"result type {data['resultType']}, not vector")
        return [(r["metric"], float(r["value"][1])) for r in data["result"]]

    def label_values(self, label, match=None):
        params = {"start": self.at - 3600, "end": self.at}
        if match:
            params["match[]"] = match
        return self.get(f"/api/v1/label/{urllib.parse.quote(label)}/values", params)


def grafana_regex_escape(value):
    """What Grafana's Prometheus data source substitutes for one value of a
    multi-value or include-All variable: regex metacharacters escaped, with
    the backslash doubled for the PromQL string."""
    return re.sub(r"[$^*{}\[\]'+?.()|\\]", lambda m: "\\\\" + m.group(0), value)


def substitute(expr, values, range_s, rate_interval):
    builtins = {
        "__rate_interval": rate_interval,
        "__interval": "5s",
        "__interval_ms": "5000",
        "__range": f"{range_s}s",
        "__range_s": str(range_s),
        "__range_ms": str(range_s * 1000),
    }
    everything = {**values, **builtins}

    def repl(m):
        name = m.group(1) or m.group(2)
        if name not in everything:
            raise KeyError(f"unknown variable ${name}")
        return everything[name]

    # ${name}, ${name:format} (format ignored) and $name.
    return re.sub(r"\$\{(\w+)(?::\w+)?\}|\$([A-Za-z_]\w*)", repl, expr)


def parse_label_values(query):
    m = re.fullmatch(r"\s*label_values\(\s*(?:(.*),\s*)?(\w+)\s*\)\s*", query, re.S)
    if not m:
        raise ValueError(f"not a label_values() query: {query}")
    return m.group(2), m.group(1)


def fmt(v):
    return f"{v:.4g}"


def check_values(kind, series, ctx):
    """Returns None when the series are plausible for `kind`, else why not."""
    if not series:
        return "no series"
    kinds = kind.split("+")
    base = kinds[0]
    values = [v for _, v in series]
    finite = [v for v in values if math.isfinite(v)]
    nan = len(values) - len(finite)
    if base in ("quantile",):
        if not finite:
            return f"all {len(values)} values NaN"
        hi = ctx["max_bucket"]
        bad = [v for v in finite if not 0 <= v <= hi]
        if bad:
            return f"quantile outside [0, {hi}]: {bad[:3]}"
    elif nan:
        return f"{nan} of {len(values)} values NaN"
    if base in ("rate", "heatmap", "graph-nodes", "edges") and "ratio" not in kinds:
        if any(v < 0 for v in finite):
            return f"negative rate: {min(finite)}"
        if not any(v > 0 for v in finite):
            return "every rate is 0 while traffic ran"
    if base == "ratio" or "ratio" in kinds:
        bad = [v for v in finite if not 0 <= v <= 1]
        if bad:
            return f"ratio outside [0, 1]: {bad[:3]}"
    if base == "duration":
        if any(v < 0 for v in finite) or not finite:
            return "negative or no duration"
        if max(finite) > ctx["max_bucket"]:
            return f"mean duration {max(finite)} s beyond the largest bucket"
    if base == "gauge":
        bad = [v for v in finite if v < 0 or v != int(v)]
        if bad:
            return f"gauge not a count: {bad[:3]}"
    if base == "build_info":
        for labels, v in series:
            if v != 1 or not labels.get("version") or not labels.get("trace_runtime_version"):
                return f"build_info {labels} = {v}"
    if base == "budget":
        bad = [v for v in finite if v > 1]
        if bad:
            return f"budget left above 100 %: {bad[:3]}"
    if base == "burn":
        bad = [v for v in finite if v < 0]
        if bad:
            return f"negative burn rate: {bad[:3]}"
    if base == "heatmap":
        if not all(labels.get("le") for labels, _ in series):
            return "a heatmap series without le"
    if "version" in kinds:
        missing = [labels for labels, _ in series if not labels.get("version")]
        if missing:
            return f"{len(missing)} series without the build_info version, e.g. {missing[0]}"
    if "objective" in kinds:
        if not all(labels.get("objective_name") for labels, _ in series):
            return "a series without objective_name"
    if "routes" in kinds:
        routes = {labels.get("route") for labels, _ in series}
        wanted = ctx["routes"] if ctx["variant"] == "All" else [VALUES["route"]]
        missing = [r for r in wanted if r not in routes]
        if missing:
            return f"routes missing: {missing}"
    want_edges = None
    if base in ("edges", "graph-edges"):
        src, dst = ("source", "target") if base == "graph-edges" else ("caller_function", "function")
        got = {(labels.get(src), labels.get(dst)) for labels, _ in series}
        if base == "graph-edges" and not all(labels.get("id") for labels, _ in series):
            return "an edge without id"
        want_edges = ctx["edges"]
    elif base in ("callers", "callees"):
        got = {(labels.get("caller_function"), labels.get("function")) for labels, _ in series}
        want_edges = ctx[base]
        if any(v < 0 for v in finite) or not any(v > 0 for v in finite):
            return "rates not positive"
    if want_edges is not None:
        missing = [e for e in want_edges if e not in got]
        if missing:
            return "edges missing: " + ", ".join(f"{a} -> {b}" for a, b in missing)
    if base == "graph-nodes":
        got = {labels.get("id") for labels, _ in series}
        missing = [f for f in ctx["functions"] if f not in got]
        if missing or not all(labels.get("title") for labels, _ in series):
            return f"nodes missing or untitled: {missing}"
    extra = f", {nan} NaN (no calls in the window)" if nan else ""
    return None, f"{len(series)} series, {fmt(min(finite))} .. {fmt(max(finite))}{extra}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--prom", required=True)
    ap.add_argument("--range", type=int, required=True, help="seconds of data ($__range)")
    ap.add_argument("--rate-interval", default="1m")
    ap.add_argument("--require-objectives", action="store_true")
    ap.add_argument("--dir", default=str(HERE))
    ap.add_argument(
        "--prom3-objective",
        help="objective_name of the synthetic target (prom3_spelling.py): 90 %% of its calls "
        'within a threshold of "1" whose bucket is le="1.0"',
    )
    args = ap.parse_args()
    prom = Prometheus(args.prom, time.time())
    failures = []
    counts = {"evaluated": 0, "passed": 0, "skipped": 0, "variables": 0, "panel queries": 0}

    def fail(where, why):
        failures.append(f"{where}: {why}")
        print(f"FAIL {where}: {why}")

    les = {s["le"] for s in prom.get("/api/v1/series", {
        "match[]": "function_calls_duration_seconds_bucket", "start": prom.at - 3600, "end": prom.at})}
    les |= set(prom.label_values("le", "http_request_duration_seconds_bucket"))
    finite_les = [float(le) for le in les if le != "+Inf"]
    if not finite_les:
        print("FAIL no histogram buckets scraped")
        return 1
    objectives = prom.query(
        'count({__name__=~"function_calls_total|function_calls_duration_seconds_count", objective_name!=""})'
    )
    ctx = {
        "max_bucket": max(finite_les),
        "edges": DEMO_EDGES,
        "functions": DEMO_FUNCTIONS,
        "routes": DEMO_ROUTES,
        "callers": [
            ("GameService::join_room", "GameService::get_room"),
            ("GameService::close_room", "GameService::get_room"),
            ("(request root)", "GameService::get_room"),
        ],
        "callees": [("GameService::get_room", "GameService::find_room")],
    }
    print(f"histogram buckets up to {ctx['max_bucket']} s; objective labels: "
          f"{'present' if objectives else 'none'}")

    files = sorted(Path(args.dir).glob("*.json"))
    if not files:
        print(f"FAIL no dashboards in {args.dir}")
        return 1
    for path in files:
        dash = json.loads(path.read_text())
        uid = dash.get("uid", path.name)
        print(f"\n== {path.name} ({dash.get('title')})")
        expect = EXPECT.get(uid)
        if expect is None:
            fail(path.name, f"no checks for dashboard uid {uid} in EXPECT")
            continue
        skip_all = uid in NEEDS_OBJECTIVES and not objectives and not args.require_objectives
        variables = dash.get("templating", {}).get("list", [])
        ds_vars = [v for v in variables if v.get("type") == "datasource"]
        if not (ds_vars and ds_vars[0].get("name") == "datasource" and ds_vars[0].get("query") == "prometheus"):
            fail(path.name, "no `datasource` variable of type datasource / prometheus")

        # Template variables, in order (later ones may use earlier ones).
        specific, everything = {"datasource": "prometheus"}, {"datasource": "prometheus"}
        for var in variables:
            if var.get("type") != "query":
                continue
            name = var["name"]
            where = f"{path.name} variable ${name}"
            if var.get("datasource", {}).get("uid") != DS_UID:
                fail(where, "does not use ${datasource}")
            query = var["query"]["query"] if isinstance(var["query"], dict) else var["query"]
            label, match = parse_label_values(query)
            counts["variables"] += 1
            if name not in VALUES:
                fail(where, f"no test value for ${name} in VALUES")
                continue
            escaped = grafana_regex_escape(VALUES[name]) if var.get("multi") or var.get("includeAll") else VALUES[name]
            for variant, vals in (("value", specific), ("All", everything)):
                m = substitute(match, vals, args.range, args.rate_interval) if match else None
                counts["evaluated"] += 1
                if skip_all:
                    counts["skipped"] += 1
                    print(f"skip {where} ({variant}): skipped: no objective labels yet")
                    continue
                try:
                    got = prom.label_values(label, m)
                except (urllib.error.URLError, RuntimeError) as err:
                    fail(f"{where} ({variant})", f"label_values({m}, {label}): {err}")
                    continue
                if not got:
                    fail(f"{where} ({variant})", f"label_values({m}, {label}) returned nothing")
                elif VALUES[name] not in got:
                    fail(f"{where} ({variant})", f"{VALUES[name]!r} not among {got}")
                elif name == "function" and not all(f in got for f in DEMO_FUNCTIONS):
                    fail(f"{where} ({variant})", f"Type::method names missing: {got}")
                else:
                    counts["passed"] += 1
                    print(f"ok   {where} ({variant}): {len(got)} values, e.g. {got[:4]}")
            specific[name] = escaped
            everything[name] = var.get("allValue") or ".*"

        panels = []
        for p in dash.get("panels", []):
            panels.append(p)
            panels.extend(p.get("panels", []))  # collapsed rows
        for panel in panels:
            if panel.get("type") == "row":
                continue
            title = panel.get("title", "")
            where = f"{path.name} / {title}"
            if panel.get("datasource", {}).get("uid") != DS_UID:
                fail(where, "panel does not use ${datasource}")
            if not panel.get("description"):
                fail(where, "no description")
            if not panel.get("fieldConfig", {}).get("defaults", {}).get("unit"):
                fail(where, "no unit")
            if not panel.get("targets"):
                fail(where, "no queries")
            kind = expect.get(title)
            if kind is None:
                fail(where, "no check in EXPECT")
                continue
            for t in panel.get("targets", []):
                ref = t.get("refId", "?")
                k = kind[ref] if isinstance(kind, dict) else kind
                if t.get("datasource", {}).get("uid") != DS_UID:
                    fail(f"{where} [{ref}]", "query does not use ${datasource}")
                if not t.get("expr"):
                    fail(f"{where} [{ref}]", "no expr")
                    continue
                counts["panel queries"] += 1
                for variant, vals in (("value", specific), ("All", everything)):
                    w = f"{where} [{ref}] ({variant})"
                    counts["evaluated"] += 1
                    if skip_all:
                        counts["skipped"] += 1
                        print(f"skip {w}: skipped: no objective labels yet")
                        continue
                    try:
                        expr = substitute(t["expr"], vals, args.range, args.rate_interval)
                        series = prom.query(expr)
                    except (KeyError, RuntimeError) as err:
                        fail(w, str(err))
                        continue
                    verdict = check_values(k, series, dict(ctx, variant=variant))
                    if isinstance(verdict, tuple):
                        counts["passed"] += 1
                        print(f"ok   {w}: {k}: {verdict[1]}")
                    else:
                        fail(w, f"{k}: {verdict}\n     query: {expr}")

    # The latency objective's panels pick the bucket whose `le` is the
    # threshold by label matching: the same ratio computed the plain way,
    # from the demo's known threshold (250 ms), must agree.
    if objectives or args.require_objectives:
        counts["evaluated"] += 1
        where = "cross-check: latency SLI against le=\"0.25\" read directly"
        plain = prom.query(
            f'sum(rate(function_calls_duration_seconds_bucket{{objective_name="api", le="0.25"}}[{args.range}s])) / '
            f'sum(rate(function_calls_duration_seconds_count{{objective_name="api"}}[{args.range}s]))'
        )
        slos = json.loads((Path(args.dir) / "slos.json").read_text())
        panel = next(p for p in slos["panels"] if p["title"] == "Calls within the latency threshold over the time range")
        values = {"objective": "api", "datasource": "prometheus"}
        got = prom.query(substitute(panel["targets"][0]["expr"], values, args.range, args.rate_interval))
        if len(plain) == 1 and len(got) == 1 and abs(plain[0][1] - got[0][1]) < 1e-9:
            counts["passed"] += 1
            print(f"ok   {where}: {fmt(got[0][1])} both ways")
        else:
            fail(where, f"panel {got} vs direct {plain}")

    # Prometheus 3 spells a whole-second `le` "1.0", while the threshold
    # label stays "1": the SLO latency panels must still find the bucket.
    if args.prom3_objective:
        print(f"\n== le spelled as Prometheus 3 does (objective {args.prom3_objective!r}, synthetic)")
        slos = json.loads((Path(args.dir) / "slos.json").read_text())
        want = {
            "Calls within the latency threshold over the time range": 0.9,
            "Calls within the latency threshold": 0.9,
            "Error budget remaining (latency)": 1 - 0.1 / 0.01,
            "Burn rate, last hour (latency)": 0.1 / 0.01,
            "Burn rate (latency)": 0.1 / 0.01,
        }
        values = {"objective": grafana_regex_escape(args.prom3_objective), "datasource": "prometheus"}
        for panel in slos["panels"]:
            if panel["title"] not in want:
                continue
            for t in panel["targets"]:
                where = f"slos.json / {panel['title']} [{t['refId']}] (le=\"1.0\")"
                counts["evaluated"] += 1
                got = prom.query(substitute(t["expr"], values, args.range, args.rate_interval))
                expected = want[panel["title"]]
                if len(got) == 1 and abs(got[0][1] - expected) < 1e-6 * max(1, abs(expected)):
                    counts["passed"] += 1
                    print(f"ok   {where}: {fmt(got[0][1])}, as expected")
                else:
                    fail(where, f"expected {expected}, got {got}")
        naive = prom.query(
            f'sum(rate(function_calls_duration_seconds_bucket{{objective_name="{args.prom3_objective}", '
            f'le="1"}}[{args.range}s]))'
        )
        print(f"note a query matching le=\"1\" literally (the autometrics dashboard's) finds "
              f"{len(naive)} series here: the Prometheus 3 bug these panels avoid")

    required = counts["evaluated"] - counts["skipped"]
    print(
        f"\n{len(files)} dashboards: {counts['panel queries']} panel queries and "
        f"{counts['variables']} variable queries, each evaluated with a variable value and "
        f"with All, plus {counts['evaluated'] - 2 * (counts['panel queries'] + counts['variables'])} "
        f"cross-checks: {counts['evaluated']} evaluations, {required} required, "
        f"{counts['passed']} passed, {len(failures)} failed, {counts['skipped']} skipped"
        + (" (no objective labels yet)" if counts["skipped"] else "")
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
