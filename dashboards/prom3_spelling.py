#!/usr/bin/env python3
"""A synthetic scrape target for dashboards/test.sh: one function under a
latency objective with a whole-second threshold, its histogram's `le`
spelled as Prometheus 3 stores it ("1.0"; Prometheus 2 keeps the "1" an
exporter writes).

    python3 dashboards/prom3_spelling.py PORT

Each scrape of /metrics adds 100 calls of `Synthetic::whole_second`: 50
within 0.5 s, 90 within 1 s, 99 within 2.5 s. Its objective
(`objective_name="whole-second"`, 99 % within `objective_latency_threshold="1"`)
is then met by 90 % of calls: a burn rate of 10. check.py requires the SLO
panels to show exactly that, which they can only if they match "1.0" with
"1". Standard library only.
"""

import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

LABELS = (
    'service_name="prom3-spelling",function="Synthetic::whole_second",module="synthetic",'
    'objective_name="whole-second",objective_percentile="99",objective_latency_threshold="1"'
)
PER_SCRAPE = [("0.5", 50), ("1.0", 90), ("2.5", 99), ("+Inf", 100)]


class Metrics(BaseHTTPRequestHandler):
    scrapes = 0

    def do_GET(self):
        if self.path != "/metrics":
            self.send_error(404)
            return
        Metrics.scrapes += 1
        n = Metrics.scrapes
        lines = [
            "# TYPE build_info gauge",
            'build_info{service_name="prom3-spelling",version="0.0.0",trace_runtime_version="0.0.0"} 1',
            "# TYPE function_calls_duration_seconds histogram",
        ]
        for le, calls in PER_SCRAPE:
            lines.append(f'function_calls_duration_seconds_bucket{{{LABELS},le="{le}"}} {calls * n}')
        lines.append(f"function_calls_duration_seconds_sum{{{LABELS}}} {60 * n}")
        lines.append(f"function_calls_duration_seconds_count{{{LABELS}}} {100 * n}")
        body = ("\n".join(lines) + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    HTTPServer(("127.0.0.1", int(sys.argv[1])), Metrics).serve_forever()
