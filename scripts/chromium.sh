#!/usr/bin/env bash
# Installs Debian's `chromium` (the browser the serve page test drives headless) when
# /usr/bin/chromium is missing, non-interactively; CI runs it through the test's set-up. Needs
# root or passwordless sudo. Prints the browser's path on stdout.
set -euo pipefail
browser=/usr/bin/chromium
if [[ ! -x "$browser" ]]; then
  sudo=()
  if [[ "$(id -u)" != 0 ]]; then sudo=(sudo -n); fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq >&2
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends chromium >&2
fi
"$browser" --version >&2
echo "$browser"
