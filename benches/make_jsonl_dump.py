#!/usr/bin/env python3
"""Writes a large `npx convex logs --jsonl` dump for the impact benchmark: the entries of
sample-logs/convex-logs.jsonl (real CLI output) repeated with fresh request ids, so every
execution carries its `usageStats` and the report joins each one to its warnings. With
--without-usage the same dump has the `usageStats` removed: the baseline the join's cost is
measured against.

usage: make_jsonl_dump.py OUT SIZE_MIB [--without-usage]
"""
import json
import sys

out_path, size_mib = sys.argv[1], int(sys.argv[2])
without_usage = "--without-usage" in sys.argv[3:]
root = __file__.rsplit("/benches/", 1)[0]
entries = [json.loads(l) for l in open(f"{root}/sample-logs/convex-logs.jsonl") if l.strip()]
def line(entry, round_, keep_usage):
    e = dict(entry)
    e["requestId"] = f"{round_:08x}{e['requestId'][-8:]}"
    if not keep_usage:
        e.pop("usageStats", None)
    return json.dumps(e, separators=(",", ":")) + "\n"


# Both dumps hold the same executions: the number of rounds is set by the size with usage.
round_bytes = sum(len(line(e, 1, True)) for e in entries)
rounds = -(-size_mib * 1024 * 1024 // round_bytes)
with open(out_path, "w") as out:
    for round_ in range(1, rounds + 1):
        for entry in entries:
            out.write(line(entry, round_, not without_usage))
