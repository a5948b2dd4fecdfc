#!/usr/bin/env bash
# Soak test for `watch --file` (not part of the default test run): appends 1 M real-format lines
# (the sample-logs files, repeated) to a log that is rotated by rename every ROTATE_LINES, and
# samples the watcher's peak RSS (VmHWM) once it has read 100 k lines and once it has read 1 M.
# Fails when the two differ by more than 10 %, or when the watcher's counts differ from
# `report` over the same files. Prints lines/s and signals/s.
#
#   scripts/soak.sh                 # uses target/release/ba-index-advisor (builds it if absent)
#   LINES=200000 scripts/soak.sh    # a shorter run
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${BIN:-$root/target/release/ba-index-advisor}"
if [[ ! -x "$bin" ]]; then
  (cd "$root" && cargo build --release --quiet)
fi
work="$(mktemp -d)"
trap 'kill "$watch_pid" 2>/dev/null || true; [[ -n "${KEEP:-}" ]] && echo "kept $work" || rm -rf "$work"' EXIT
export LINES="${LINES:-1000000}" FIRST="${FIRST:-100000}" ROTATE_LINES="${ROTATE_LINES:-150000}"

cd "$work"
: > app.log
"$bin" watch --file app.log --format json --save watch.json > watch.ndjson 2> watch.err &
watch_pid=$!
# It opens the file at its end: write nothing before it says it follows it.
for _ in $(seq 100); do grep -q "following app.log" watch.err && break; sleep 0.1; done

python3 - "$root/sample-logs" "$watch_pid" <<'PY'
import glob, os, sys, time

samples, pid = sys.argv[1], int(sys.argv[2])
total_lines, first, rotate_every = (int(os.environ[k]) for k in ("LINES", "FIRST", "ROTATE_LINES"))

# One cycle: every single-line or line-framed sample, whole, so no record is cut.
cycle = b""
for path in sorted(glob.glob(samples + "/*")):
    if path.endswith((".gz", ".json")):
        continue
    data = open(path, "rb").read()
    cycle += data if data.endswith(b"\n") else data + b"\n"
cycle_lines = cycle.count(b"\n")

def proc(field, file):
    for line in open(f"/proc/{pid}/{file}"):
        if line.startswith(field):
            return int(line.split()[1])
    raise SystemExit(f"{field} not in /proc/{pid}/{file}")

def wait_until_read(written):
    deadline = time.time() + 120
    while (read := proc("rchar:", "io")) < written:
        if time.time() > deadline:
            raise SystemExit(f"the watcher stopped reading: {read} of {written} bytes read")
        time.sleep(0.02)

log = open("app.log", "ab")
lines = written = rotations = lines_in_file = 0
marks = {}
start = time.time()
for target in (first, total_lines):
    while lines < target:
        if lines_in_file >= rotate_every:
            # Like `tail -F`, the watcher reopens the path once it has drained the renamed file;
            # a file rotated away before that is never seen. Real rotation happens at sizes the
            # watcher reads in well under a second, so let it catch up first.
            wait_until_read(written)
            log.close()
            rotations += 1
            os.rename("app.log", f"app.log.{rotations}")
            log = open("app.log", "ab")
            lines_in_file = 0
        log.write(cycle)
        log.flush()
        lines += cycle_lines
        lines_in_file += cycle_lines
        written += len(cycle)
    wait_until_read(written)
    elapsed = time.time() - start
    time.sleep(0.3)
    marks[target] = (lines, elapsed, proc("VmHWM:", "status"), proc("VmRSS:", "status"))
log.close()

(l1, t1, hwm1, rss1), (l2, t2, hwm2, rss2) = marks[first], marks[total_lines]
print(f"lines written: {l2} in {rotations + 1} files ({rotations} rotations), {written / 1e6:.0f} MB")
print(f"at {l1} lines: VmHWM {hwm1} kB, VmRSS {rss1} kB")
print(f"at {l2} lines: VmHWM {hwm2} kB, VmRSS {rss2} kB")
print(f"lines/s: {l2 / t2:,.0f} (until the watcher had read all {l2} lines, {t2:.1f} s)")
growth = (hwm2 - hwm1) / hwm1
print(f"peak RSS growth from {l1} to {l2} lines: {growth:+.1%}")
with open("figures", "w") as f:
    f.write(f"{l1} {hwm1} {l2} {hwm2} {t2}\n")
if abs(growth) > 0.10:
    raise SystemExit("FAIL: peak RSS grew by more than 10%")
PY

kill -INT "$watch_pid"
wait "$watch_pid" || true
read -r _ _ lines _ secs < figures
# The watcher must have counted what `report` counts over the same files.
"$bin" report $(ls app.log.* | sort -t. -k3 -n) app.log --format json > report.json || true
python3 - "$lines" "$secs" <<'PY'
import json, sys
lines, secs = int(sys.argv[1]), float(sys.argv[2])
watch, report = json.load(open("watch.json")), json.load(open("report.json"))
key = lambda s: (s["table"], tuple(s["fields"]))
w = {key(s): s["count"] for s in watch["suggestions"]}
r = {key(s): s["count"] for s in report["suggestions"]}
signals = sum(w.values())
print(f"signals: watch {signals}, report {sum(r.values())}; signals/s: {signals / secs:,.0f}")
print(f"watch stats: lines {watch['stats']['lines']}, errors {len(watch['stats']['errors'])}")
if w != r:
    raise SystemExit(f"FAIL: watch and report disagree:\n{w}\n{r}")
print("PASS")
PY
