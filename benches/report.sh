#!/usr/bin/env bash
# The scan benchmark now covers text, dense, JSONL and gzip dumps: see benches/scan.sh.
#   bash benches/report.sh [SIZE_MIB] [RUNS]
exec bash "$(dirname "${BASH_SOURCE[0]}")/scan.sh" "$@"
