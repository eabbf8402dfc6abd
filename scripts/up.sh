#!/usr/bin/env bash
# Starts the docker-compose cluster with N workers (default 3):  scripts/up.sh [N]
# It is `docker-compose up -d --build` (which builds every image from source
# and makes certs/ once: see docker-compose.yml) plus what a developer wants
# around it: random S3 keys in .env (kept out of git) instead of the compose
# file's defaults, the team's corpora when they are beside the checkout, the
# CLI copied out of the image into bin/tally-static, and the line that points
# this shell's CLI at the cluster.
set -euo pipefail
cd "$(dirname "$0")/.."
workers=${1:-3}
if [[ ! -f .env ]]; then
	(umask 077 && printf 'TALLY_S3_ACCESS_KEY=tally%s\nTALLY_S3_SECRET_KEY=%s\n' \
		"$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')" "$(head -c 24 /dev/urandom | base64 | tr -d '/+=\n')" >.env)
	echo "wrote .env with new S3 keys (kept out of git)"
fi
# The Go installation the images are built with (the compose file's default
# is /usr/local/go).
if [[ -z ${GOROOT:-} ]] && command -v go >/dev/null; then
	GOROOT=$(go env GOROOT)
	export GOROOT
fi
# The texts the cluster serves: $TALLY_CORPORA, else the team's corpora beside
# the checkout when they are there, else the repository's own testdata/text.
if [[ -z ${TALLY_CORPORA:-} && -d ../shared/corpora ]]; then
	export TALLY_CORPORA=$(cd ../shared/corpora && pwd)
fi
echo "serving ${TALLY_CORPORA:-./testdata/text} as /data and as the S3 bucket corpora"
compose=(docker-compose)
command -v docker-compose >/dev/null || compose=(docker compose)
"${compose[@]}" up -d --build --scale worker="$workers"
mkdir -p bin
docker cp "$("${compose[@]}" ps -q coordinator)":/tally bin/tally-static
echo "tally cluster up: ${workers} workers; coordinator on ${TALLY_PORT:-127.0.0.1:7070}, S3 on ${TALLY_S3_PORT:-127.0.0.1:9000}; the CLI is bin/tally-static"
port=${TALLY_PORT:-127.0.0.1:7070}
echo "to use it from this shell (without TALLY_COORDINATOR, tally counts in its own process):"
echo "  export TALLY_COORDINATOR=${port} TALLY_TLS_CA=certs/ca.pem TALLY_TLS_CERT=certs/client.pem TALLY_TLS_KEY=certs/client-key.pem"
echo "  bin/tally-static cluster && bin/tally-static count -e Holmes -e sand --server-path ."
