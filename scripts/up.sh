#!/usr/bin/env bash
# Builds the static binaries and the scratch images (tally, and the S3
# service tally-s3: versitygw pinned in scripts/versitygw.mod), writes
# random S3 keys to .env once (kept out of git), then starts the cluster
# with N workers (default 3):  scripts/up.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
workers=${1:-3}
CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o bin/tally-static ./cmd/tally
docker build -q -t tally:latest . >/dev/null
scripts/s3-image.sh tally-s3:latest
if [[ ! -f .env ]]; then
	umask 077
	printf 'TALLY_S3_ACCESS_KEY=tally%s\nTALLY_S3_SECRET_KEY=%s\n' \
		"$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')" "$(head -c 24 /dev/urandom | base64 | tr -d '/+=\n')" >.env
	echo "wrote .env with new S3 keys (kept out of git)"
fi
compose=(docker-compose)
command -v docker-compose >/dev/null || compose=(docker compose)
"${compose[@]}" up -d --scale worker="$workers"
echo "tally cluster up: ${workers} workers; coordinator on ${TALLY_PORT:-127.0.0.1:7070}, S3 on ${TALLY_S3_PORT:-127.0.0.1:9000}"
echo "try: bin/tally-static cluster --coordinator 127.0.0.1:7070"
