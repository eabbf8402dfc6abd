#!/usr/bin/env bash
# Builds the S3 service's image: versitygw (pinned in scripts/versitygw.mod)
# as a static binary in a scratch image, from a build context of its own.
#   scripts/s3-image.sh [TAG]     (default tally-s3:latest)
set -euo pipefail
cd "$(dirname "$0")/.."
tag=${1:-tally-s3:latest}
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
mkdir -p bin "$ctx/data"
if [[ ! -x bin/versitygw-static || scripts/versitygw.mod -nt bin/versitygw-static ]]; then
	CGO_ENABLED=0 go build -modfile=scripts/versitygw.mod -trimpath -ldflags='-s -w' \
		-o bin/versitygw-static github.com/versity/versitygw/cmd/versitygw
fi
cp bin/versitygw-static "$ctx/"
docker build -q -f s3.Dockerfile -t "$tag" "$ctx" >/dev/null
