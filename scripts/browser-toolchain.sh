#!/usr/bin/env bash
# What the `serve` page test drives a real browser with: Debian's chromium (scripts/chromium.sh)
# and `playwright-core` from the npm registry (no browser download of its own), installed with
# the Node toolchain's npm into .toolchain/browser/ (git-ignored). Idempotent. Prints the
# folder on stdout.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/chromium.sh" >/dev/null
toolchain="$(bash "$root/scripts/node-toolchain.sh")"
dir="$toolchain/browser"
stamp="$dir/.installed-v1"
if [[ ! -f "$stamp" ]]; then
  mkdir -p "$dir"
  cat > "$dir/package.json" <<'JSON'
{
  "name": "ba-index-advisor-browser",
  "private": true,
  "dependencies": {
    "playwright-core": "1.65.1"
  }
}
JSON
  (cd "$dir" && PATH="$toolchain/node_modules/.bin:$PATH" \
    npm install --no-audit --no-fund --loglevel=error >&2)
  touch "$stamp"
fi
echo "$dir"
