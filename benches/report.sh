#!/usr/bin/env bash
# Benchmark: `report` against ripgrep counting the same warnings, on the same file, in the same
# run (so machine noise hits both). Prints medians of 5 runs, the ratios, and peak RSS.
#   bash benches/report.sh [SIZE_MIB]   (default 512)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
size="${1:-512}"
data="$root/bench-data"
mkdir -p "$data"
command -v rg >/dev/null || apt-get install -y ripgrep >/dev/null
command -v /usr/bin/time >/dev/null || apt-get install -y time >/dev/null
cargo build --release --quiet --manifest-path "$root/Cargo.toml"
bin="$root/target/release/ba-index-advisor"
dump="$data/dump-${size}MiB.log"
[[ -f "$dump" ]] || python3 "$root/benches/make_dump.py" "$dump" "$size"
[[ -f "$dump.gz" ]] || gzip -1 -c "$dump" > "$dump.gz"
cat "$dump" "$dump.gz" > /dev/null  # warm the page cache for both

# median_seconds CMD... : runs CMD 5 times, prints the median wall time.
median_seconds() {
  local times=()
  for _ in 1 2 3 4 5; do
    local start end
    start=$(date +%s.%N)
    "$@" > /dev/null
    end=$(date +%s.%N)
    times+=("$(echo "$end - $start" | bc)")
  done
  printf '%s\n' "${times[@]}" | sort -n | sed -n 3p
}
peak_rss_mib() {
  /usr/bin/time -f '%M' "$@" 2>&1 >/dev/null | tail -1 | awk '{ printf "%.1f", $1 / 1024 }'
}
rg_text() { rg -c -F 'Querying without an index' "$dump"; }
rg_gz() { zcat "$dump.gz" | rg -c -F 'Querying without an index'; }
report_text() { "$bin" report "$dump" --format json; }
report_gz() { "$bin" report "$dump.gz" --format json; }

t_rg=$(median_seconds rg_text)
t_report=$(median_seconds report_text)
t_rg_gz=$(median_seconds rg_gz)
t_report_gz=$(median_seconds report_gz)
rss_text=$(peak_rss_mib "$bin" report "$dump" --format json)
rss_gz=$(peak_rss_mib "$bin" report "$dump.gz" --format json)
rss_small=$(peak_rss_mib "$bin" report "$root/sample-logs/convex-logs.txt" --format json)

echo "input: $(du -m "$dump" | cut -f1) MiB text, $(du -m "$dump.gz" | cut -f1) MiB gzip; warnings: $(rg_text)"
printf 'text: rg %.3fs, report %.3fs, ratio %.2fx (target <= 1.5x)\n' "$t_rg" "$t_report" "$(echo "$t_report / $t_rg" | bc -l)"
printf 'gzip: zcat|rg %.3fs, report %.3fs, ratio %.2fx (target <= 1.2x)\n' "$t_rg_gz" "$t_report_gz" "$(echo "$t_report_gz / $t_rg_gz" | bc -l)"
echo "peak RSS: report text ${rss_text} MiB, gzip ${rss_gz} MiB, a 7 KiB sample ${rss_small} MiB (target <= 32 MiB)"
