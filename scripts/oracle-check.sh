#!/usr/bin/env bash
# Cross-checks a tally binary against Python's builtins, the oracle of SPEC.md,
# on the shared corpora and on generated adversarial text. CI runs it where
# python3 exists:
#
#     scripts/oracle-check.sh bin/tally [oracle_check.py options]
#
# It prints one line per check and ends with "oracle-check: N passed, M failed";
# it exits non-zero on any mismatch. See scripts/oracle_check.py --help.
set -euo pipefail

if [ $# -lt 1 ]; then
  echo "usage: $0 BIN [options]" >&2
  exit 2
fi
bin=$1
shift
if [ ! -x "$bin" ]; then
  echo "oracle-check: $bin is not an executable (build it: go build -o bin/tally ./cmd/tally)" >&2
  exit 2
fi
if ! command -v python3 >/dev/null 2>&1; then
  echo "oracle-check: python3 not found; skipped"
  exit 0
fi
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
root=$(cd "$(dirname "$0")/.." && pwd)
exec python3 "$root/scripts/oracle_check.py" --bin "$bin" --root "$root" "$@"
