#!/usr/bin/env bash
# Builds the static binaries and the scratch images (tally, and the S3
# service tally-s3: versitygw pinned in scripts/versitygw.mod), makes the
# cluster's credentials once (certs/: a CA, a certificate per role and a
# gossip key) and random S3 keys in .env (both kept out of git), then
# starts the cluster with N workers (default 3):  scripts/up.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
workers=${1:-3}
CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o bin/tally-static ./cmd/tally
docker build -q -t tally:latest . >/dev/null
scripts/s3-image.sh tally-s3:latest
if [[ ! -f certs/gossip.key ]]; then
	scripts/gen-certs.sh certs
fi
if [[ ! -f .env ]]; then
	umask 077
	printf 'TALLY_S3_ACCESS_KEY=tally%s\nTALLY_S3_SECRET_KEY=%s\nTALLY_UID=%s\nTALLY_GID=%s\n' \
		"$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')" "$(head -c 24 /dev/urandom | base64 | tr -d '/+=\n')" "$(id -u)" "$(id -g)" >.env
	echo "wrote .env with new S3 keys (kept out of git)"
fi
# The containers run as the owner of certs/, whose keys only it may read.
grep -q '^TALLY_UID=' .env || printf 'TALLY_UID=%s\nTALLY_GID=%s\n' "$(id -u)" "$(id -g)" >>.env
# The texts the cluster serves: $TALLY_CORPORA, else the team's corpora beside
# the checkout when they are there, else the repository's own testdata/text.
if [[ -z ${TALLY_CORPORA:-} && -d ../shared/corpora ]]; then
	export TALLY_CORPORA=$(cd ../shared/corpora && pwd)
fi
echo "serving ${TALLY_CORPORA:-./testdata/text} as /data and as the S3 bucket corpora"
compose=(docker-compose)
command -v docker-compose >/dev/null || compose=(docker compose)
"${compose[@]}" up -d --scale worker="$workers"
echo "tally cluster up: ${workers} workers; coordinator on ${TALLY_PORT:-127.0.0.1:7070}, S3 on ${TALLY_S3_PORT:-127.0.0.1:9000}"
port=${TALLY_PORT:-127.0.0.1:7070}
echo "to use it from this shell (without TALLY_COORDINATOR, tally counts in its own process):"
echo "  export TALLY_COORDINATOR=${port} TALLY_TLS_CA=certs/ca.pem TALLY_TLS_CERT=certs/client.pem TALLY_TLS_KEY=certs/client-key.pem"
echo "  bin/tally-static cluster && bin/tally-static count -e Holmes -e sand --server-path ."
