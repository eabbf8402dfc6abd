#!/usr/bin/env bash
# Builds the S3 service's image (versitygw, pinned in scripts/versitygw.mod,
# in a scratch image) the way docker-compose does, and tags it:
#   scripts/s3-image.sh [TAG]     (default tally-s3:latest)
# The compose file's build-only services cacerts and go come first: the
# image is built FROM tally-go (see docker-compose.yml and s3.Dockerfile).
set -euo pipefail
cd "$(dirname "$0")/.."
tag=${1:-tally-s3:latest}
if [[ -z ${GOROOT:-} ]] && command -v go >/dev/null; then
	GOROOT=$(go env GOROOT)
	export GOROOT
fi
# Quiet unless it fails (the legacy builder warns on every build).
if ! out=$(TALLY_TAG=latest docker-compose build -q cacerts go s3 2>&1); then
	printf '%s\n' "$out" >&2
	exit 1
fi
[[ $tag == tally-s3:latest ]] || docker tag tally-s3:latest "$tag"
