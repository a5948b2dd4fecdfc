#!/usr/bin/env bash
# Benchmark: the cost of joining each execution's usage to its warnings. The same `--jsonl`
# dump is reported with its `usageStats` (every Completion entry parsed and joined by request id)
# and without them (the baseline), alternating runs, medians of 5; plus peak RSS of both.
#   bash benches/impact.sh [SIZE_MIB]   (default 128)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
size="${1:-128}"
data="$root/bench-data"
mkdir -p "$data"
command -v /usr/bin/time >/dev/null || apt-get install -y time >/dev/null
cargo build --release --quiet --manifest-path "$root/Cargo.toml"
bin="$root/target/release/ba-index-advisor"
with="$data/jsonl-${size}MiB.jsonl"
without="$data/jsonl-${size}MiB-without-usage.jsonl"
[[ -f "$with" ]] || python3 "$root/benches/make_jsonl_dump.py" "$with" "$size"
[[ -f "$without" ]] || python3 "$root/benches/make_jsonl_dump.py" "$without" "$size" --without-usage
cat "$with" "$without" > /dev/null  # warm the page cache for both

seconds() {
  local start end
  start=$(date +%s.%N)
  "$bin" report "$1" --format json > /dev/null
  end=$(date +%s.%N)
  echo "$end - $start" | bc
}
with_times=(); without_times=()
for _ in 1 2 3 4 5; do
  without_times+=("$(seconds "$without")")
  with_times+=("$(seconds "$with")")
done
median() { printf '%s\n' "$@" | sort -n | sed -n 3p; }
t_without=$(median "${without_times[@]}")
t_with=$(median "${with_times[@]}")
rss() { /usr/bin/time -f '%M' "$bin" report "$1" --format json 2>&1 >/dev/null | tail -1 | awk '{ printf "%.1f", $1 / 1024 }'; }
lines=$(wc -l < "$with")
printf 'jsonl %s MiB, %s entries\n' "$size" "$lines"
printf '  without usage (baseline): %.3f s, peak RSS %s MiB\n' "$t_without" "$(rss "$without")"
printf '  with usage (joined):      %.3f s, peak RSS %s MiB\n' "$t_with" "$(rss "$with")"
printf '  ratio: %.2fx\n' "$(echo "$t_with / $t_without" | bc -l)"
