#!/usr/bin/env python3
"""Writes a large `npx convex logs` text dump for the benchmark: lines in the CLI's real
format (taken from sample-logs/convex-logs.txt), about 2% of them Better Auth warnings, or the
given share: 0.07 makes warnings about 14% of the bytes, as a dev deployment without indexes (or
Better Auth < 0.11.0, one warning per document scanned) writes.

usage: make_dump.py OUT SIZE_MIB [WARNING_LINE_SHARE]
"""
import random
import sys

out_path, size_mib = sys.argv[1], int(sys.argv[2])
share = float(sys.argv[3]) if len(sys.argv) > 3 else 0.02
random.seed(7)
warning = (
    "{ts} [CONVEX Q({fn})] [WARN] 'Querying without an index on table \"{table}\".\\n"
    "This can cause performance issues, and may hit the document read limit.\\n"
    "To fix, add an index that begins with the following fields in order:\\n[{fields}]'\n"
)
targets = [
    ("member", "organizationId, userId"),
    ("invitation", "organizationId, status"),
    ("invitation", "email, organizationId, status"),
    ("session", "userId, expiresAt"),
    ("rateLimit", "lastRequest"),
]
noise = [
    "{ts} [CONVEX Q({fn})] [LOG] 'Listing messages' {{ count: {n}, cursor: null }}\n",
    "{ts} [CONVEX M({fn})] [INFO] 'signing in' {n} true null undefined [ 1, 2, 3 ]\n",
    "{ts} [CONVEX Q({fn})] [DEBUG] 'debug value' {{\n  a: {n},\n  b: 'text'\n}}\n",
    "{ts} [CONVEX M({fn})] [WARN] 'Slow query on table \"messages\": consider adding an index'\n",
    "{ts} [CONVEX Q({fn})] [WARN] Many documents read in a single function execution (actual: {n}, limit: 32000). Consider using smaller limits in your queries, paginating your queries, or using indexed queries with a selective index range expressions.\n",
    "{ts} [CONVEX A({fn})] [LOG] 'calling OpenAI' {{ model: 'gpt', tokens: {n} }}\n",
]
functions = ["messages:list", "messages:send", "users:byEmail", "auth:signIn", "organizations/invitations/queries:listInvitations", "ai:generate"]

target = size_mib * 1024 * 1024
written = 0
lines = 0
with open(out_path, "w", encoding="utf-8") as out:
    batch = []
    while written < target:
        second = lines // 50
        ts = f"1/15/2026, {1 + second // 3600 % 12}:{second // 60 % 60:02}:{second % 60:02} PM"
        fn = random.choice(functions)
        if random.random() < share:
            table, fields = random.choice(targets)
            line = warning.format(ts=ts, fn=fn, table=table, fields=fields)
        else:
            line = random.choice(noise).format(ts=ts, fn=fn, n=random.randint(0, 99999))
        batch.append(line)
        written += len(line)
        lines += 1
        if len(batch) >= 10000:
            out.write("".join(batch))
            batch.clear()
    out.write("".join(batch))
print(f"{out_path}: {written} bytes, {lines} records, warning share {share}")
