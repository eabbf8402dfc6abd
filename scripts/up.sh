#!/usr/bin/env bash
# Builds the static tally binary and the scratch image, then starts the
# cluster with N workers (default 3):  scripts/up.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
workers=${1:-3}
CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o bin/tally-static ./cmd/tally
docker build -q -t tally:latest . >/dev/null
compose=(docker-compose)
command -v docker-compose >/dev/null || compose=(docker compose)
"${compose[@]}" up -d --scale worker="$workers"
echo "tally cluster up: ${workers} workers; coordinator on ${TALLY_PORT:-127.0.0.1:7070}"
echo "try: bin/tally-static cluster --coordinator 127.0.0.1:7070"
