#!/usr/bin/env bash
# Regenerates the Go code in proto/ from the .proto files with the pinned buf and plugins.
set -euo pipefail
cd "$(dirname "$0")/.."
go tool -modfile=scripts/buf.mod buf lint
go tool -modfile=scripts/buf.mod buf generate
