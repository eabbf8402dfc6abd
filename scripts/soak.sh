#!/usr/bin/env bash
# Soak test: runs jobs on a local cluster (a coordinator and 4 workers on
# 127.0.0.1) for DURATION while workers are killed, stopped, terminated and
# restarted at random, and checks that every job is exact or fails cleanly.
# Some jobs read s3:// documents from a real S3 server (versitygw, pinned in
# scripts/versitygw.mod, built into bin/versitygw if missing).
#
#   scripts/soak.sh [DURATION] [BIN]     # defaults: 60s, bin/tally (built if missing)
#
# Extra soak flags can be passed in SOAK_FLAGS, e.g. SOAK_FLAGS="-seed 7 -v".
# The last line is "soak: N passed, M failed"; the exit status is non-zero
# when a job answered wrongly, hung or failed uncleanly.
set -euo pipefail
cd "$(dirname "$0")/.."

duration=${1:-60s}
bin=${2:-bin/tally}
if [ ! -x "$bin" ]; then
  echo "soak: building $bin"
  go build -o "$bin" ./cmd/tally
fi
if [ ! -x bin/versitygw ] || [ scripts/versitygw.mod -nt bin/versitygw ]; then
  echo "soak: building bin/versitygw"
  go build -modfile=scripts/versitygw.mod -o bin/versitygw github.com/versity/versitygw/cmd/versitygw
fi
# shellcheck disable=SC2086 # SOAK_FLAGS is split on purpose
exec go run ./scripts/soak -duration "$duration" -bin "$bin" -versitygw bin/versitygw ${SOAK_FLAGS:-}
