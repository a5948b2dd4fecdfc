#!/usr/bin/env bash
# Installs pinned Better Auth packages (better-auth, the plugin packages published apart from it,
# and the Convex component @convex-dev/better-auth with convex) from the npm registry into
# .toolchain/better-auth/ (git-ignored): the installed code `predict` reads, and the component
# whose real `findIndex` the tests judge predictions with. Peer dependencies are not installed
# (`--legacy-peer-deps`): nothing here runs Better Auth, only reads it. Idempotent: a second run
# with everything present does nothing. Prints the install directory on stdout.
# With `1.7`: better-auth 1.7.29 beside the same component, which peers better-auth <1.7.0 (the
# pair `predict` and `doctor` must call unsupported), in .toolchain/better-auth-1.7/.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [[ "${1:-}" == "1.7" ]]; then
  dir="$root/.toolchain/better-auth-1.7"
  manifest='{
  "name": "ba-index-advisor-better-auth-1-7",
  "private": true,
  "dependencies": {
    "better-auth": "1.7.29",
    "@convex-dev/better-auth": "0.12.5",
    "convex": "1.51.0"
  }
}'
else
  dir="$root/.toolchain/better-auth"
  manifest='{
  "name": "ba-index-advisor-better-auth",
  "private": true,
  "dependencies": {
    "better-auth": "1.6.33",
    "@better-auth/api-key": "1.6.33",
    "@better-auth/passkey": "1.6.33",
    "@better-auth/oauth-provider": "1.6.33",
    "@better-auth/sso": "1.6.29",
    "@better-auth/stripe": "1.6.31",
    "@convex-dev/better-auth": "0.12.5",
    "convex": "1.49.0"
  }
}'
fi
stamp="$dir/.installed-v1"
if [[ ! -f "$stamp" ]]; then
  mkdir -p "$dir"
  printf '%s\n' "$manifest" > "$dir/package.json"
  (cd "$dir" && npm install --no-audit --no-fund --legacy-peer-deps --ignore-scripts --loglevel=error >&2)
  touch "$stamp"
fi
echo "$dir"
