#!/usr/bin/env bash
# Makes a development CA and certificates for a secure cluster (TLS + mTLS):
#   scripts/gen-certs.sh [DIR]    (default: certs/)
# The keys are unencrypted: for development and tests, not production.
set -euo pipefail
cd "$(dirname "$0")/.."
go run ./scripts/gencerts -dir "${1:-certs}"
