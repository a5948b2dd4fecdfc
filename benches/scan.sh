#!/usr/bin/env bash
# Benchmark: `report` against ripgrep counting the warning literal in the same file, on three
# generated dumps (CLI text with 2% warning lines, CLI text with dense warnings, `--jsonl`) and
# the gzip of the first against `zcat | rg -c`. hyperfine runs each pair in one invocation (so
# machine noise hits both) and gives the medians; /usr/bin/time gives report's peak RSS at one
# thread and at all threads.
#   bash benches/scan.sh [SIZE_MIB] [RUNS]   (defaults: 512, 5)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
size="${1:-512}"
runs="${2:-5}"
data="$root/bench-data"
mkdir -p "$data"
need() { command -v "$1" >/dev/null || apt-get install -y "$2" >/dev/null; }
need rg ripgrep
need hyperfine hyperfine
need /usr/bin/time time
target="${CARGO_TARGET_DIR:-$root/target}"
cargo build --release --quiet --manifest-path "$root/Cargo.toml"
bin="$target/release/ba-index-advisor"
threads="$(nproc)"
needle='Querying without an index'

sparse="$data/dump-${size}MiB.log"
dense="$data/dense-${size}MiB.log"
jsonl="$data/dump-${size}MiB.jsonl"
[[ -f "$sparse" ]] || python3 "$root/benches/make_dump.py" "$sparse" "$size"
[[ -f "$dense" ]] || python3 "$root/benches/make_dump.py" "$dense" "$size" 0.07
[[ -f "$jsonl" ]] || python3 "$root/benches/make_jsonl_dump.py" "$jsonl" "$size"
[[ -f "$sparse.gz" ]] || gzip -1 -c "$sparse" > "$sparse.gz"
cat "$sparse" "$dense" "$jsonl" "$sparse.gz" > /dev/null # warm the page cache

results="$(mktemp -d)"
trap 'rm -rf "$results"' EXIT
# pair NAME RG_COMMAND REPORT_COMMAND: medians of both, in one hyperfine run.
pair() {
  hyperfine --style none --warmup 1 --runs "$runs" --export-json "$results/$1.json" \
    -n rg "$2" -n report "$3" > /dev/null
}
pair text "rg -c -F '$needle' '$sparse'" "'$bin' report '$sparse' --format json"
pair dense "rg -c -F '$needle' '$dense'" "'$bin' report '$dense' --format json"
pair jsonl "rg -c -F '$needle' '$jsonl'" "'$bin' report '$jsonl' --format json"
pair gzip "zcat '$sparse.gz' | rg -c -F '$needle'" "'$bin' report '$sparse.gz' --format json"

peak_rss_mib() {
  /usr/bin/time -v "$@" 2>&1 >/dev/null | awk -F': ' '/Maximum resident set size/ { printf "%.1f", $2 / 1024 }'
}
for dump in text:"$sparse" dense:"$dense" jsonl:"$jsonl" gzip:"$sparse.gz"; do
  name="${dump%%:*}"
  file="${dump#*:}"
  echo "$(peak_rss_mib "$bin" report "$file" --format json --threads 1) $(peak_rss_mib "$bin" report "$file" --format json)" > "$results/$name.rss"
done

python3 - "$results" "$threads" "$sparse" "$dense" "$jsonl" <<'EOF'
import json, os, sys
results, threads = sys.argv[1], sys.argv[2]
sizes = {n: os.path.getsize(p) >> 20 for n, p in zip(["text", "dense", "jsonl"], sys.argv[3:6])}
targets = {"text": 1.0, "dense": 1.0, "jsonl": 1.2, "gzip": 0.5}
print(f"| dump | rg median | report median | ratio | target | peak RSS (1 thread / {threads}) |")
print("|---|---|---|---|---|---|")
for name in ["text", "dense", "jsonl", "gzip"]:
    runs = {r["command"]: r for r in json.load(open(f"{results}/{name}.json"))["results"]}
    rg, report = runs["rg"]["median"], runs["report"]["median"]
    one, all_ = open(f"{results}/{name}.rss").read().split()
    label = {"text": "text, 2% warnings", "dense": "text, dense warnings", "jsonl": "JSONL", "gzip": "gzip (text, 2%) vs zcat \\| rg"}[name]
    print(f"| {label} | {rg:.3f} s | {report:.3f} s | {report / rg:.2f}x | <= {targets[name]}x | {one} / {all_} MiB |")
EOF
