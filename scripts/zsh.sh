#!/usr/bin/env bash
# Prints the path of a zsh for the completion tests (tests/suite/completions_shell.rs),
# installing Debian's zsh package first when the machine has none: CI and the developers'
# machines run as root and reach Debian's packages. Idempotent.
set -euo pipefail
if ! command -v zsh >/dev/null 2>&1; then
  if [[ "$(id -u)" -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    echo "zsh is missing, and installing it needs root and apt-get" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  # The package lists may be missing or stale on a fresh machine.
  apt-get install -y -q zsh >&2 || { apt-get update -q >&2 && apt-get install -y -q zsh >&2; }
fi
command -v zsh
