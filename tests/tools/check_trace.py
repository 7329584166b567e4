#!/usr/bin/env python3
"""Checks a bootsim --trace file against the Trace Event Format's rules:
a JSON object with traceEvents; every event has a known phase type (ph),
pid and tid; begins and ends match per track (thread), properly nested;
timestamps never go back on a track; counters carry numeric args.
Prints what it found (phases, initcalls, counters) as JSON on success and
exits 0; prints the first problems and exits 1 otherwise."""
import json
import sys
from collections import defaultdict

KNOWN = {"B", "E", "X", "i", "I", "C", "M", "b", "e", "n", "s", "t", "f"}


def check(trace):
    problems = []
    events = trace.get("traceEvents") if isinstance(trace, dict) else None
    if not isinstance(events, list):
        return ["no traceEvents list"], {}
    last_ts = defaultdict(lambda: -1.0)
    stacks = defaultdict(list)
    names = {}
    found = {"phases": [], "initcalls": 0, "counters": set(), "console_lines": 0, "instants": 0}
    for n, e in enumerate(events):
        ph = e.get("ph")
        if ph not in KNOWN:
            problems.append(f"event {n}: unknown phase type {ph!r}")
            continue
        if "pid" not in e or (ph != "M" and "tid" not in e):
            problems.append(f"event {n}: no pid/tid")
            continue
        if ph == "M":
            if e.get("name") == "thread_name":
                names[e["tid"]] = e["args"]["name"]
            continue
        track = (e["pid"], e["tid"])
        ts = e.get("ts")
        if not isinstance(ts, (int, float)):
            problems.append(f"event {n}: no numeric ts")
            continue
        if ts < last_ts[track]:
            problems.append(f"event {n}: ts {ts} goes back on track {track} (was {last_ts[track]})")
        last_ts[track] = ts
        if ph == "B":
            stacks[track].append(e.get("name"))
            if names.get(e["tid"]) == "boot phases" and e.get("cat") == "phase":
                found["phases"].append(e["name"])
            if e.get("cat") == "initcall":
                found["initcalls"] += 1
        elif ph == "E":
            if not stacks[track]:
                problems.append(f"event {n}: end without a begin on track {track}")
            else:
                stacks[track].pop()
        elif ph == "C":
            args = e.get("args", {})
            if not args or not all(isinstance(v, (int, float)) for v in args.values()):
                problems.append(f"event {n}: counter without numeric args")
            found["counters"].add(e.get("name"))
        elif ph in ("i", "I"):
            found["instants"] += 1
            if e.get("cat") == "console":
                found["console_lines"] += 1
    for track, stack in stacks.items():
        if stack:
            problems.append(f"track {track}: {len(stack)} slice(s) never ended ({stack[-1]})")
    found["counters"] = sorted(found["counters"])
    return problems, found


def main(path):
    try:
        trace = json.load(open(path))
    except (OSError, ValueError) as e:
        print(f"{path}: cannot read: {e}")
        return 1
    problems, found = check(trace)
    if problems:
        for p in problems[:20]:
            print(f"{path}: {p}")
        return 1
    print(json.dumps(found))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
