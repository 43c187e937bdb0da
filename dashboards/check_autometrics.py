#!/usr/bin/env python3
"""Compatibility check: the public autometrics dashboards on our metrics.

    python3 dashboards/check_autometrics.py --prom http://127.0.0.1:9090 --range 40

Run by dashboards/test.sh after check.py, against the same Prometheus (the
demo and the synthetic target scraped). It reads every Grafana dashboard in
dashboards/autometrics/ (the files of autometrics-dev/autometrics-shared,
unmodified; see the README there) and evaluates, generically (no per-panel
expectations):

- every template variable's query, in order: `label_values(...)` through
  `/api/v1/label/<name>/values`, `query_result(...)` through
  `/api/v1/query` with each series written as Grafana writes it
  (`name{label="value",...} value timestamp`); the variable's `regex` is
  then applied as Grafana does (first capture group);
- every panel query, Grafana's variables substituted with check.py's
  `substitute()` (`$__rate_interval` = 1m, `$__range` = the seconds of
  data): once with one value of each template variable (regex-escaped as
  Grafana does for a multi-value or include-All variable), and, when the
  query uses a multi-value or include-All variable, once more with all of
  its values (`(a|b|...)`, what "All" or selecting every value gives).

Each evaluation must return something (a non-empty result), except the
known-unanswerable ones in REPORTED, which are printed with what they
return. Values are picked from the data (PREFER: `GameService::join_room`,
objective `api`), else the variable's first value.
Standard library only. Exit status 1 when a required query returned nothing.
"""

import argparse
import json
import math
import re
import sys
import time
import urllib.error
from pathlib import Path

from check import Prometheus, grafana_regex_escape, parse_label_values, substitute

HERE = Path(__file__).resolve().parent

# Values the demo's data has, preferred when a variable offers them.
PREFER = ["GameService::join_room", "api", "game-rooms"]

# Known-unanswerable variables, by dashboard uid and variable name.
#   reason:   printed with the result;
#   policy:   "fallback" - the variable is reported, and the queries using it
#             are evaluated (and required) with the values its query has
#             before the regex drops them;
#             "section"  - the variable and every query depending on it
#             (other variables, panels) are reported: evaluated as Grafana
#             would (with what the variable returns), and for information
#             once more with the variable's query fixed (`fixed`).
REPORTED = {
    ("autometrics-overview", "functions_top_request_rate"): {
        "reason": 'its regex /function="(\\w+)"/ keeps only names of word characters: '
        "every Type::method name (all of #[instrument_all]) is dropped",
        "policy": "fallback",
    },
    ("autometrics-overview", "functions_top_error_rate"): {
        "reason": 'its regex /function="(\\w+)"/ keeps only names of word characters: '
        "every Type::method name (all of #[instrument_all]) is dropped",
        "policy": "fallback",
    },
    ("autometrics-objectives", "latency_objective"): {
        "reason": "it reads function_calls_duration_count, the pre-1.0 name "
        "(autometrics 1.0 and trace-runtime: function_calls_duration_seconds_count)",
        "policy": "section",
        "fixed": "label_values(function_calls_duration_seconds_count, objective_name)",
    },
}


def uses(expr, name):
    return re.search(r"\$\{%s(?::\w+)?\}|\$%s(?!\w)" % (re.escape(name), re.escape(name)), expr) is not None


def series_text(labels, value, at):
    """A query_result() series as Grafana's Prometheus data source writes it."""
    name = labels.get("__name__", "")
    inner = ",".join(f'{k}="{v}"' for k, v in labels.items() if k != "__name__")
    return f"{name}{{{inner}}} {value} {int(at * 1000)}"


def apply_regex(regex, texts):
    """Grafana's variable regex: /pattern/flags; the first capture group (or
    the whole match) of each text that matches, deduplicated in order."""
    if not regex:
        return list(dict.fromkeys(texts))
    m = re.fullmatch(r"/(.*)/(\w*)", regex, re.S)
    pattern, flags = (m.group(1), m.group(2)) if m else (regex, "")
    compiled = re.compile(pattern, re.ASCII | (re.I if "i" in flags else 0))
    out = []
    for t in texts:
        hit = compiled.search(t)
        if hit:
            out.append(hit.group(1) if compiled.groups else hit.group(0))
    return list(dict.fromkeys(out))


def short(values, n=4):
    values = list(values)
    more = f", ... ({len(values)})" if len(values) > n else ""
    return "[" + ", ".join(values[:n]) + more + "]"


class Run:
    def __init__(self, prom, range_s, rate_interval):
        self.prom = prom
        self.range_s = range_s
        self.rate_interval = rate_interval
        self.counts = {"evaluated": 0, "required": 0, "passed": 0, "reported": 0}
        self.failures = []

    def sub(self, expr, values):
        return substitute(expr, values, self.range_s, self.rate_interval)

    def record(self, where, got, summary, reported=None, error=None):
        """got: whether the evaluation returned something."""
        self.counts["evaluated"] += 1
        if reported:
            self.counts["reported"] += 1
            print(f"rep  {where}: {summary}\n     (not required: {reported})")
            return
        self.counts["required"] += 1
        if got and not error:
            self.counts["passed"] += 1
            print(f"ok   {where}: {summary}")
        else:
            why = error or "returned nothing"
            self.failures.append(f"{where}: {why}")
            print(f"FAIL {where}: {why}\n     {summary}")

    def variable_values(self, query, regex, values):
        """(texts before the regex, values after it, the query as sent)."""
        q = self.sub(query, values)
        m = re.fullmatch(r"\s*query_result\((.*)\)\s*", q, re.S)
        if m:
            texts = [series_text(labels, v, self.prom.at) for labels, v in self.prom.query(m.group(1))]
            return texts, apply_regex(regex, texts), q
        label, match = parse_label_values(q)
        got = self.prom.label_values(label, match)
        return got, apply_regex(regex, got), q

    @staticmethod
    def in_order(variables):
        """The variables in an order where each comes after those its query
        uses (Grafana resolves them so; a textbox may come last in the list)."""
        def text(v):
            q = v.get("query", "")
            return q.get("query", "") if isinstance(q, dict) else str(q)
        names = {v["name"] for v in variables}
        done, out, pending = set(), [], list(variables)
        while pending:
            ready = [v for v in pending
                     if all(d in done for d in names - {v["name"]} if uses(text(v), d))]
            if not ready:  # a cycle: keep the file's order
                ready = pending[:1]
            for v in ready:
                pending.remove(v)
                done.add(v["name"])
                out.append(v)
        return out

    def query_summary(self, series):
        vals = [v for _, v in series]
        finite = [v for v in vals if math.isfinite(v)]
        if not series:
            return "no series"
        rng = f", {min(finite):.4g} .. {max(finite):.4g}" if finite else ""
        nan = f", {len(vals) - len(finite)} NaN" if len(finite) < len(vals) else ""
        return f"{len(series)} series{rng}{nan}"

    def dashboard(self, path):
        dash = json.loads(path.read_text())
        uid = dash.get("uid", path.name)
        print(f"\n== autometrics/{path.name} ({dash.get('title')})")
        variables = dash.get("templating", {}).get("list", [])
        one, every = {}, {}  # name -> substituted text: one value / all values
        fixed_one = {}       # the same with the "section" variables' queries fixed
        multi = set()        # multi-value or include-All variables
        section = {}         # variable name -> reason, for "section" variables and their dependents

        for var in self.in_order(variables):
            name, kind = var["name"], var.get("type")
            if kind in ("textbox", "constant", "custom"):
                cur = var.get("current", {}).get("value")
                value = cur if isinstance(cur, str) and cur else str(var.get("query", ""))
                one[name] = every[name] = fixed_one[name] = value
                print(f"     variable ${name} ({kind}) = {value!r}")
                continue
            if kind == "datasource":
                one[name] = every[name] = fixed_one[name] = "prometheus"
                continue
            if kind != "query":
                continue
            query = var["query"]["query"] if isinstance(var["query"], dict) else var["query"]
            regex = var.get("regex") or ""
            where = f"autometrics/{path.name} variable ${name}"
            known = REPORTED.get((uid, name))
            depends = [v for v in section if uses(query, v)]
            reported = known["reason"] if known and known["policy"] == "section" else None
            if depends and not reported:
                reported = f"depends on ${depends[0]}: {section[depends[0]]}"
            try:
                before, got, sent = self.variable_values(query, regex, one)
            except (urllib.error.URLError, RuntimeError, ValueError, KeyError) as err:
                self.record(where, False, query, reported, error=str(err))
                continue
            if known and known["policy"] == "fallback":
                # The query itself is answerable and required; what the regex
                # keeps is reported.
                self.record(f"{where}, query before its regex", bool(before),
                            f"{len(before)} series, e.g. {before[0] if before else None}")
                m = re.match(r"/(\w+)=", regex)
                label = m.group(1) if m else None
                fallback = list(dict.fromkeys(re.search(f'{label}="([^"]*)"', t).group(1)
                                              for t in before if label and f'{label}="' in t))
                self.record(f"{where}, after its regex {regex}", bool(got),
                            f"returns {len(got)} values {short(got)} of the {len(fallback)} functions "
                            f"{short(fallback, 3)}; queries using ${name} are evaluated with the latter",
                            reported=known["reason"])
                values = fallback
            else:
                self.record(where, bool(got), f"{len(got)} values {short(got)}  (query: {sent.strip()})",
                            reported)
                values = got
            if reported:
                section[name] = reported if not depends else section[depends[0]]
            is_multi = bool(var.get("multi") or var.get("includeAll"))
            if is_multi:
                multi.add(name)
            pick = next((p for p in PREFER if p in values), values[0] if values else "")
            esc = grafana_regex_escape if is_multi else (lambda s: s)
            one[name] = esc(pick)
            every[name] = "(" + "|".join(esc(v) for v in values) + ")" if is_multi and values else one[name]
            if is_multi and var.get("includeAll") and var.get("allValue"):
                every[name] = var["allValue"]
            # The section's fixed variant (information only).
            fixed_one[name] = one[name]
            if reported:
                fixed_query = known.get("fixed") if known else query
                try:
                    _, fixed_got, _ = self.variable_values(fixed_query, regex, fixed_one)
                except (urllib.error.URLError, RuntimeError, ValueError, KeyError):
                    fixed_got = []
                fpick = next((p for p in PREFER if p in fixed_got), fixed_got[0] if fixed_got else "")
                fixed_one[name] = esc(fpick)
                how = f"with {fixed_query}" if known and known.get("fixed") else "in the fixed section"
                print(f"     (for information: {how}, ${name} would list {short(fixed_got)}; "
                      f"{fpick!r} used below)")

        panels = []
        for p in dash.get("panels", []):
            panels.append(p)
            panels.extend(p.get("panels", []))  # collapsed rows
        for panel in panels:
            for t in panel.get("targets", []):
                expr = t.get("expr")
                if not expr or panel.get("type") == "row":
                    continue
                where = f"autometrics/{path.name} / {panel.get('title')} [{t.get('refId', '?')}]"
                depends = [v for v in section if uses(expr, v)]
                reported = f"uses ${depends[0]}: {section[depends[0]]}" if depends else None
                variants = [("value", one)]
                if any(uses(expr, v) for v in multi):
                    variants.append(("all values", every))
                for variant, vals in variants:
                    w = f"{where} ({variant})"
                    try:
                        sent = self.sub(expr, vals)
                        series = self.prom.query(sent)
                    except (KeyError, RuntimeError, urllib.error.URLError) as err:
                        self.record(w, False, expr, reported, error=str(err))
                        continue
                    summary = self.query_summary(series)
                    if reported:
                        try:
                            fixed = self.query_summary(self.prom.query(self.sub(expr, fixed_one)))
                        except (KeyError, RuntimeError, urllib.error.URLError) as err:
                            fixed = f"error {err}"
                        summary += f" as shipped; {fixed} with the section's variables fixed"
                    self.record(w, bool(series), summary, reported)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--prom", required=True)
    ap.add_argument("--range", type=int, required=True, help="seconds of data ($__range)")
    ap.add_argument("--rate-interval", default="1m")
    ap.add_argument("--dir", default=str(HERE / "autometrics"))
    args = ap.parse_args()
    run = Run(Prometheus(args.prom, time.time()), args.range, args.rate_interval)
    files = sorted(Path(args.dir).glob("*.json"))
    if not files:
        print(f"FAIL no dashboards in {args.dir}")
        return 1
    print(f"\n==== autometrics-shared dashboards ({len(files)} files in {args.dir})")
    for path in files:
        run.dashboard(path)
    c = run.counts
    print(
        f"\nautometrics dashboards: {len(files)} files, {c['evaluated']} queries evaluated, "
        f"{c['required']} required, {c['passed']} passed, {len(run.failures)} failed, "
        f"{c['reported']} reported, not required"
    )
    return 1 if run.failures else 0


if __name__ == "__main__":
    sys.exit(main())
