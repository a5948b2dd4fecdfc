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
limit = size_mib * 1024 * 1024
written = 0
round_ = 0
with open(out_path, "w") as out:
    while written < limit:
        round_ += 1
        for entry in entries:
            e = dict(entry)
            e["requestId"] = f"{round_:08x}{e['requestId'][-8:]}"
            if without_usage:
                e.pop("usageStats", None)
            line = json.dumps(e, separators=(",", ":")) + "\n"
            out.write(line)
            written += len(line)
