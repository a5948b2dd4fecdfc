#!/usr/bin/env bash
# Builds the CLI with the `dist` profile for the platforms this machine can build and packs the
# npm packages of npm/ into OUTDIR: the main package `ba-index-advisor` (the launcher) and one
# `@ba-index-advisor/cli-<platform>` package per binary, ready for `npm install OUTDIR/*.tgz` or
# `npm publish`.
#
#   scripts/npm-pack.sh OUTDIR
#       builds the host's platform (linux-x64 here), plus linux-x64-musl when
#       `rustup target list --installed` has x86_64-unknown-linux-musl; never installs a target.
#       Then `npm install OUTDIR/*.tgz` installs it, unless OUTDIR holds a package for another
#       platform (the musl one on glibc): npm refuses that one, so name the main package and this
#       platform's (the script prints the command)
#   scripts/npm-pack.sh --no-build --binary linux-x64=target/debug/ba-index-advisor OUTDIR
#       packs a binary that is built already (the tests pack the debug binary; the release
#       workflow packs the binaries its runners built)
#
# Options:
#   --binary KEY=PATH   use PATH as the binary of platform KEY (npm/cli-KEY); KEY is not built
#   --no-build          build nothing: pack the main package and the --binary platforms only
#   --repository URL    write `repository` into every package.json (npm's provenance check
#                       compares it with the repository that built the package)
# Environment: NPM (default npm), CARGO (default cargo), NODE (default node), CARGO_TARGET_DIR.
# shellcheck disable=SC2016 # the node -e programs are JavaScript, single-quoted on purpose
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
npm="${NPM:-npm}"
cargo="${CARGO:-cargo}"
node="${NODE:-node}"

usage() {
  sed -n '2,/^# shellcheck/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//' >&2
  exit 2
}

declare -A given=()
build=1
repository=""
out=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --binary)
      [[ $# -ge 2 && "$2" == *=* ]] || usage
      given["${2%%=*}"]="${2#*=}"
      shift 2
      ;;
    --no-build) build=0; shift ;;
    --repository)
      [[ $# -ge 2 ]] || usage
      repository="$2"
      shift 2
      ;;
    -h | --help) usage ;;
    -*) echo "npm-pack: unknown option $1" >&2; usage ;;
    *)
      [[ -z "$out" ]] || usage
      out="$1"
      shift
      ;;
  esac
done
[[ -n "$out" ]] || usage

# The platform table lives in the launcher (npm/ba-index-advisor/lib/platform.js): key → Rust target.
platforms="$("$node" -e '
  const { PLATFORMS } = require(process.argv[1]);
  for (const [key, p] of Object.entries(PLATFORMS)) console.log(`${key} ${p.target} ${p.os}`);
' "$root/npm/ba-index-advisor/lib/platform.js")"
declare -A target_of=() os_of=()
known=()
while read -r key target os; do
  known+=("$key")
  target_of["$key"]="$target"
  os_of["$key"]="$os"
done <<<"$platforms"

for key in "${!given[@]}"; do
  [[ -n "${target_of[$key]:-}" ]] || {
    echo "npm-pack: unknown platform '$key' (known: ${known[*]})" >&2
    exit 2
  }
  [[ -f "${given[$key]}" ]] || {
    echo "npm-pack: --binary $key=${given[$key]}: no such file" >&2
    exit 2
  }
done

"$node" "$root/scripts/npm-version.mjs" --check >&2

# What to build: the host's platform, and x64 musl Linux when its target is installed.
declare -A binaries=()
for key in "${!given[@]}"; do binaries["$key"]="${given[$key]}"; done
if [[ $build == 1 ]]; then
  host="$(rustc -vV | sed -n 's/^host: //p')"
  wanted=()
  for key in "${known[@]}"; do
    [[ "${target_of[$key]}" == "$host" ]] && wanted+=("$key")
  done
  if [[ "$host" == x86_64-unknown-linux-gnu ]] &&
    rustup target list --installed 2>/dev/null | grep -qx x86_64-unknown-linux-musl; then
    wanted+=(linux-x64-musl)
  fi
  target_dir="$("$cargo" metadata --format-version 1 --no-deps --manifest-path "$root/Cargo.toml" |
    "$node" -e 'console.log(JSON.parse(require("fs").readFileSync(0, "utf8")).target_directory)')"
  for key in "${wanted[@]}"; do
    [[ -z "${binaries[$key]:-}" ]] || continue
    target="${target_of[$key]}"
    exe=ba-index-advisor
    [[ "${os_of[$key]}" == win32 ]] && exe=ba-index-advisor.exe
    if [[ "$target" == "$host" ]]; then
      "$cargo" build --locked --profile dist --manifest-path "$root/Cargo.toml" >&2
      binaries["$key"]="$target_dir/dist/$exe"
    else
      "$cargo" build --locked --profile dist --target "$target" --manifest-path "$root/Cargo.toml" >&2
      binaries["$key"]="$target_dir/$target/dist/$exe"
    fi
  done
fi
if [[ ${#binaries[@]} -eq 0 ]]; then
  echo "npm-pack: no binary to pack (this host's platform is not one of: ${known[*]})" >&2
  exit 2
fi

mkdir -p "$out"
out="$(cd "$out" && pwd)"
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT

# Writes `repository` into a staged package.json when --repository was given.
stamp() {
  [[ -n "$repository" ]] || return 0
  "$node" -e '
    const fs = require("fs");
    const [file, url] = process.argv.slice(1);
    const manifest = JSON.parse(fs.readFileSync(file, "utf8"));
    manifest.repository = { type: "git", url: url.startsWith("git+") ? url : `git+${url}.git` };
    fs.writeFileSync(file, `${JSON.stringify(manifest, null, 2)}\n`);
  ' "$1/package.json" "$repository"
}

pack() {
  (cd "$1" && npm_config_update_notifier=false "$npm" pack --pack-destination "$out" --loglevel=warn) |
    tail -n 1
}

packed=()
for key in $(printf '%s\n' "${!binaries[@]}" | sort); do
  dir="$stage/cli-$key"
  mkdir -p "$dir/bin"
  cp "$root/npm/cli-$key/package.json" "$dir/"
  exe=ba-index-advisor
  [[ "${os_of[$key]}" == win32 ]] && exe=ba-index-advisor.exe
  cp "${binaries[$key]}" "$dir/bin/$exe"
  chmod 0755 "$dir/bin/$exe"
  cat >"$dir/README.md" <<EOF
# @ba-index-advisor/cli-$key

The \`ba-index-advisor\` binary for $key (Rust target \`${target_of[$key]}\`).

Do not install this package directly: install \`ba-index-advisor\`, which lists it as an optional
dependency (npm picks the one for your platform) and runs it: \`npx ba-index-advisor --help\`.
EOF
  stamp "$dir"
  packed+=("$(pack "$dir")")
done

main="$stage/ba-index-advisor"
mkdir -p "$main"
cp -R "$root/npm/ba-index-advisor/." "$main/"
stamp "$main"
packed+=("$(pack "$main")")

for file in "${packed[@]}"; do echo "$out/$file"; done

# npm refuses another platform's package named on its command line (EBADPLATFORM), so with more
# than this machine's platform packed, `npm install OUTDIR/*.tgz` fails: say what to install.
if [[ ${#binaries[@]} -gt 1 ]]; then
  here="$("$node" -e '
    const p = require(process.argv[1]);
    const machine = { platform: process.platform, arch: process.arch, libc: p.detectLibc() };
    console.log(p.candidates(machine).find((key) => process.argv.slice(2).includes(key)) ?? "");
  ' "$root/npm/ba-index-advisor/lib/platform.js" "${!binaries[@]}")"
  if [[ -n "$here" ]]; then
    version="$("$node" -p 'require(process.argv[1]).version' "$root/npm/ba-index-advisor/package.json")"
    echo "npm-pack: to install on this machine: npm install $out/ba-index-advisor-$version.tgz" \
      "$out/ba-index-advisor-cli-$here-$version.tgz" >&2
  fi
fi
