#!/usr/bin/env python3
"""Asks Phoenix for the traces the two-service example sent and checks them.

Usage: otel-e2e-check.py PHOENIX_URL LOBBY_LOG

LOBBY_LOG holds the example's lines `GET /rooms/NAME -> STATUS trace ID
parent ID`. For each trace: the spans Phoenix stored (in its `default`
project: Phoenix files a whole trace under one project and keeps no
resource attributes, so the two services' spans are told apart by their
names, and `service.name` is checked by trace-otel's own receiver test),
with exact names per service, the caller's span as the lobby
root's parent, the rooms root under `Lobby::show_room`, every other parent
inside the same service, error status on the failing request, children
within their parents' times; then prints the trace as stored. Standard
library only.
"""

import json
import re
import sys
import time
import urllib.request
from datetime import datetime

LINE = re.compile(r"^GET /rooms/(\S+) -> (\d+) trace ([0-9a-f]{32}) parent ([0-9a-f]{16})$")
EXPECTED = {
    "lobby": {
        200: ["GET /rooms/{name}", "Lobby::page", "Lobby::show_room"],
        502: ["GET /rooms/{name}", "Lobby::show_room"],
    },
    "rooms": {
        200: ["GET /rooms/{name}/players", "Rooms::load", "Rooms::players"],
        502: ["GET /rooms/{name}/players", "Rooms::load", "Rooms::players"],
    },
}


def spans_of(url, project):
    """Every span stored in `project`, following the cursor."""
    spans, cursor = [], None
    while True:
        query = f"{url}/v1/projects/{project}/spans?limit=1000"
        if cursor:
            query += f"&cursor={cursor}"
        try:
            with urllib.request.urlopen(query, timeout=10) as response:
                page = json.load(response)
        except urllib.error.HTTPError as error:
            if error.code == 404:  # no span arrived for the project yet
                return []
            raise
        spans += page["data"]
        cursor = page.get("next_cursor")
        if not cursor:
            return spans


def when(text):
    return datetime.fromisoformat(text).timestamp()


def fail(message):
    print(f"FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def service_of(span):
    """The service that sent the span: `rooms` names its spans `Rooms::*`
    and `GET /rooms/{name}/players`, `lobby` the others."""
    name = span["name"]
    return "rooms" if name.startswith("Rooms::") or name.endswith("/players") else "lobby"


def main():
    url, log = sys.argv[1], sys.argv[2]
    requests = [m.groups() for m in map(LINE.match, open(log).read().splitlines()) if m]
    if len(requests) != 3:
        fail(f"expected 3 requests in {log}, found {len(requests)}")
    wanted = sum(len(EXPECTED[p][int(s)]) for _, s, _, _ in requests for p in EXPECTED)
    deadline = time.time() + 60
    while True:
        every = spans_of(url, "default")
        stored = {p: [s for s in every if service_of(s) == p] for p in EXPECTED}
        ids = {t for _, _, t, _ in requests}
        got = sum(1 for p in stored for s in stored[p] if s["context"]["trace_id"] in ids)
        if got >= wanted or time.time() > deadline:
            break
        time.sleep(1)
    if got != wanted:
        fail(f"Phoenix holds {got} spans of these traces, expected {wanted}")
    for room, status, trace, caller in requests:
        status = int(status)
        spans = {p: [s for s in stored[p] if s["context"]["trace_id"] == trace] for p in EXPECTED}
        for project, names in EXPECTED.items():
            have = sorted(s["name"] for s in spans[project])
            if have != names[status]:
                fail(f"trace {trace}: {project} has {have}, expected {names[status]}")
        everything = spans["lobby"] + spans["rooms"]
        by_id = {s["context"]["span_id"]: s for s in everything}
        lobby_root = next(s for s in spans["lobby"] if s["name"] == "GET /rooms/{name}")
        rooms_root = next(s for s in spans["rooms"] if s["name"] == "GET /rooms/{name}/players")
        show_room = next(s for s in spans["lobby"] if s["name"] == "Lobby::show_room")
        if lobby_root["parent_id"] != caller:
            fail(f"trace {trace}: the lobby root's parent is {lobby_root['parent_id']}, not the caller {caller}")
        if rooms_root["parent_id"] != show_room["context"]["span_id"]:
            fail(f"trace {trace}: the rooms root's parent is not Lobby::show_room")
        for span in everything:
            if span is lobby_root or span is rooms_root:
                continue
            parent = by_id.get(span["parent_id"])
            if parent is None:
                fail(f"trace {trace}: {span['name']} has no parent in the trace")
            project = "lobby" if span in spans["lobby"] else "rooms"
            if parent not in spans[project]:
                fail(f"trace {trace}: {span['name']}'s parent is in the other service")
        for span in everything:
            parent = by_id.get(span["parent_id"])
            # Different processes read their clock anchors apart: 2 ms.
            slack = 0.002 if span is rooms_root else 0.000_001
            if parent and not (
                when(parent["start_time"]) - slack <= when(span["start_time"])
                and when(span["end_time"]) <= when(parent["end_time"]) + slack
            ):
                fail(f"trace {trace}: {span['name']} is not within {parent['name']}")
        errors = {(s["name"], s["status_code"], s["status_message"]) for s in everything if s["status_code"] == "ERROR"}
        expected_errors = set() if status == 200 else {
            ("GET /rooms/{name}", "ERROR", "HTTP 502"),
            ("Lobby::show_room", "ERROR", "err"),
            ("GET /rooms/{name}/players", "ERROR", "HTTP 500"),
            ("Rooms::players", "ERROR", "err"),
            ("Rooms::load", "ERROR", "the room is closed"),
        }
        if errors != expected_errors:
            fail(f"trace {trace}: errors {sorted(errors)}, expected {sorted(expected_errors)}")
        load = next(s for s in spans["rooms"] if s["name"] == "Rooms::load")
        if load["attributes"].get("name") != room:
            fail(f"trace {trace}: Rooms::load has no field name={room}: {load['attributes']}")
        print(f"trace {trace}  (GET /rooms/{room} -> {status}; caller span {caller})")
        show(everything, spans, caller, 1)
    print(f"ok: {len(requests)} traces, {wanted} spans, each across lobby and rooms")


def show(everything, spans, parent, depth):
    children = sorted((s for s in everything if s["parent_id"] == parent), key=lambda s: s["start_time"])
    for span in children:
        project = "lobby" if span in spans["lobby"] else "rooms"
        micros = (when(span["end_time"]) - when(span["start_time"])) * 1e6
        status = f"  {span['status_code']} {span['status_message']}".rstrip() if span["status_code"] == "ERROR" else ""
        name = "  " * depth + span["name"]
        print(f"  {project:<6}{name:<34}{micros:>9.0f} µs  span {span['context']['span_id']}{status}")
        show(everything, spans, span["context"]["span_id"], depth + 1)


if __name__ == "__main__":
    main()
