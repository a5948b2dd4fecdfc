#!/usr/bin/env bash
# The steps of the GitHub Action (action.yml), one function each; action.yml passes the inputs
# as environment variables, never spliced into the script. Runnable outside Actions with the
# same variables (tests/suite/npm_package.rs does).
#
#   steps.sh resolve   INPUT_VERSION → outputs version, dir, cache-key
#   steps.sh install   BA_VERSION, BA_INSTALL_DIR, BA_CACHE_HIT → npm install into BA_INSTALL_DIR
#   steps.sh pr        BA_INSTALL_DIR, INPUT_LOGS, INPUT_SCHEMA_DIR, INPUT_FAIL_ON_SUGGESTIONS,
#                      INPUT_ARGS, GITHUB_TOKEN → ba-index-advisor pr …
#
# Runner variables used: GITHUB_ACTION_PATH, GITHUB_OUTPUT, GITHUB_PATH, RUNNER_TEMP; `pr` reads
# GITHUB_REPOSITORY, GITHUB_EVENT_PATH, GITHUB_API_URL and GITHUB_STEP_SUMMARY itself.
set -euo pipefail

PACKAGE=ba-index-advisor
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
action_path="${GITHUB_ACTION_PATH:-$here/..}"

fail() {
  echo "::error title=ba-index-advisor::$*"
  exit 2
}

output() {
  echo "$1=$2" >>"${GITHUB_OUTPUT:?GITHUB_OUTPUT is not set}"
}

need_node() {
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    fail "the action installs ba-index-advisor with npm: add actions/setup-node (Node.js 18+) before it"
  fi
}

resolve() {
  need_node
  local version="${INPUT_VERSION:-}"
  if [[ -z "$version" ]]; then
    # The version this copy of the action was released with (scripts/npm-version.mjs keeps it
    # equal to Cargo.toml's).
    version="$(node -p 'require(process.argv[1]).version' \
      "$action_path/npm/ba-index-advisor/package.json")"
  fi
  if [[ ! "$version" =~ ^v?[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]]; then
    # A dist-tag or a range: the cache is keyed by the exact version it means today.
    local spec="$version" found errors
    errors="$(mktemp)"
    if ! found="$(npm view "$PACKAGE@$spec" version --json 2>"$errors")"; then
      fail "could not look up $PACKAGE@$spec: $(grep -m1 'npm error' "$errors" || tail -n1 "$errors")"
    fi
    rm -f "$errors"
    # One version prints as a string, several as an array (the newest last).
    version="$(node -e 'try { console.log([].concat(JSON.parse(process.argv[1])).pop() ?? "") } catch { }' "$found")"
    [[ -n "$version" ]] || fail "no published $PACKAGE version matches '$spec'"
  fi
  version="${version#v}"
  # The platform package npm picks (its os/cpu/libc fields) is part of what is cached.
  local platform
  platform="$(node -e '
    const { detectLibc } = require(process.argv[1]);
    console.log([process.platform, process.arch, detectLibc()].filter(Boolean).join("-"));
  ' "$action_path/npm/ba-index-advisor/lib/platform.js")"
  output version "$version"
  output dir "${RUNNER_TEMP:?RUNNER_TEMP is not set}/ba-index-advisor/$version"
  output cache-key "ba-index-advisor-npm-$version-$platform"
  echo "ba-index-advisor $version for $platform"
}

install() {
  local dir="${BA_INSTALL_DIR:?}" version="${BA_VERSION:?}"
  local bin="$dir/node_modules/.bin/$PACKAGE"
  if [[ "${BA_CACHE_HIT:-}" == true && -e "$bin" ]]; then
    echo "ba-index-advisor $version restored from the cache"
  else
    need_node
    mkdir -p "$dir"
    [[ -f "$dir/package.json" ]] || echo '{ "private": true }' >"$dir/package.json"
    # --include=optional: the binary is in an optional dependency (the platform package), and a
    # runner's npm config may omit those.
    npm install --prefix "$dir" --no-save --no-package-lock --no-audit --no-fund \
      --include=optional --loglevel=error "$PACKAGE@$version"
  fi
  "$bin" --version
  # Later steps of the job can run `ba-index-advisor` too (`apply`, `report`).
  echo "$dir/node_modules/.bin" >>"${GITHUB_PATH:?GITHUB_PATH is not set}"
}

pr() {
  local bin="${BA_INSTALL_DIR:?}/node_modules/.bin/$PACKAGE"
  local -a args=(pr) logs=() extra=()
  # Unquoted on purpose: split on spaces and newlines, expand globs (a pattern that matches
  # nothing stays as written, and `pr` says the file is missing).
  # shellcheck disable=SC2206
  logs=(${INPUT_LOGS:-})
  [[ ${#logs[@]} -gt 0 ]] || fail "the logs input is empty: name the log files to read"
  args+=("${logs[@]}")
  if [[ -n "${INPUT_SCHEMA_DIR:-}" ]]; then
    args+=(--schema-dir "$INPUT_SCHEMA_DIR")
  fi
  case "${INPUT_FAIL_ON_SUGGESTIONS:-false}" in
    true | True | TRUE) args+=(--fail-on-suggestions) ;;
    false | False | FALSE | "") ;;
    *) fail "fail-on-suggestions must be true or false, not '$INPUT_FAIL_ON_SUGGESTIONS'" ;;
  esac
  set -f # extra arguments are split, never globbed
  # shellcheck disable=SC2206
  extra=(${INPUT_ARGS:-})
  set +f
  args+=("${extra[@]}")
  echo "ba-index-advisor ${args[*]}"
  exec "$bin" "${args[@]}"
}

case "${1:-}" in
  resolve | install | pr) "$1" ;;
  *)
    echo "usage: steps.sh resolve|install|pr (the steps of action.yml)" >&2
    exit 2
    ;;
esac
