#!/usr/bin/env python3
"""Renders dashboards' panels as PNG pictures, from a live Prometheus.

    python3 dashboards/render.py --prom http://127.0.0.1:9090 --range 60 --out docs

Grafana cannot run here, so this draws the same queries' results with
matplotlib (`pip install matplotlib`): for each of the overview and SLO
dashboards, every time-series panel as a chart over the last --range
seconds (its `legendFormat` naming the lines) and every stat panel as a
number, in the dashboard's order. Template variables take their first
value (or All); Grafana's built-in variables are substituted as
dashboards/check.py does. The first minute of data is left out when there
is more than two (rates over `$__rate_interval` read low until their
window fills). Run by `DASH_RENDER=docs bash dashboards/test.sh`
at the end of a test run, so the pictures show real data from the demo.
"""

import argparse
import json
import re
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from check import parse_label_values, substitute  # noqa: E402

DASHBOARDS = ["overview", "slos"]


def get(prom, path, params):
    url = f"{prom}{path}?{urllib.parse.urlencode(params)}"
    with urllib.request.urlopen(url, timeout=30) as response:
        body = json.load(response)
    if body.get("status") != "success":
        raise RuntimeError(f"{url}: {body}")
    return body["data"]


def variable_values(prom, dashboard):
    values = {}
    for var in dashboard.get("templating", {}).get("list", []):
        name = var["name"]
        if var.get("type") == "datasource":
            values[name] = "prometheus"
            continue
        query = var.get("query")
        query = query.get("query") if isinstance(query, dict) else query
        label, match = parse_label_values(substitute(query, values, 60, "1m"))
        params = {"match[]": match} if match else {}
        found = get(prom, f"/api/v1/label/{label}/values", params)
        values[name] = ".*" if var.get("includeAll") else (found[0] if found else "")
    return values


def legend(fmt, metric):
    if not fmt:
        return ",".join(f"{k}={v}" for k, v in sorted(metric.items()) if k != "__name__")
    return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: metric.get(m.group(1), ""), fmt)


def render(prom, name, range_s, out):
    dashboard = json.loads((HERE / f"{name}.json").read_text())
    values = variable_values(prom, dashboard)
    panels = [p for p in dashboard["panels"] if p.get("type") in ("timeseries", "stat")]
    end = time.time()
    # Rates over a 1m window read low until the window is full of data:
    # leave the first minute out when there is more.
    start = end - (range_s - 60 if range_s > 120 else range_s)
    cols = 2
    rows = (len(panels) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(13, 3.2 * rows), squeeze=False)
    for ax in axes.flat[len(panels):]:
        ax.axis("off")
    for ax, panel in zip(axes.flat, panels):
        unit = panel.get("fieldConfig", {}).get("defaults", {}).get("unit", "")
        ax.set_title(f"{panel['title']}" + (f"  [{unit}]" if unit else ""), fontsize=9)
        for target in panel.get("targets", []):
            expr = substitute(target["expr"], values, int(range_s), "1m")
            if panel["type"] == "stat":
                result = get(prom, "/api/v1/query", {"query": expr, "time": end})["result"]
                shown = [float(r["value"][1]) for r in result]
                text = ", ".join(f"{v:.4g}" for v in shown) if shown else "no data"
                ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=18)
                ax.axis("off")
                continue
            result = get(
                prom,
                "/api/v1/query_range",
                {"query": expr, "start": start, "end": end, "step": max(1, int(range_s / 120))},
            )["result"]
            for series in result[:8]:
                xs = [float(t) - end for t, _ in series["values"]]
                ys = [float(v) for _, v in series["values"]]
                ax.plot(xs, ys, label=legend(target.get("legendFormat"), series["metric"]))
        if panel["type"] == "timeseries":
            ax.set_xlabel("seconds before the end of the run", fontsize=8)
            ax.tick_params(labelsize=7)
            if ax.get_legend_handles_labels()[0]:
                ax.legend(fontsize=6, loc="upper left")
    fig.suptitle(f"{dashboard['title']} (from a live run of the demo)", fontsize=11)
    fig.tight_layout()
    path = Path(out) / f"dashboard-{name}.png"
    fig.savefig(path, dpi=80)
    print(f"wrote {path}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--prom", required=True)
    parser.add_argument("--range", type=float, default=60)
    parser.add_argument("--out", default="docs")
    args = parser.parse_args()
    Path(args.out).mkdir(parents=True, exist_ok=True)
    for name in DASHBOARDS:
        render(args.prom, name, args.range, args.out)


if __name__ == "__main__":
    main()
