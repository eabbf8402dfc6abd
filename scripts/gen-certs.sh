#!/usr/bin/env bash
# Makes the credentials of a secure cluster: a development CA, a certificate
# per role (coordinator, worker, client: the role is a URI SAN,
# spiffe://tally/ROLE) and a random gossip key (gossip.key):
#   scripts/gen-certs.sh [DIR]    (default: certs/)
# The keys are unencrypted and readable by their owner only: for
# development and tests, not production.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-certs}
go run ./scripts/gencerts -dir "$dir"
if [[ ! -f $dir/gossip.key ]]; then
	(umask 077 && head -c 32 /dev/urandom | base64 >"$dir/gossip.key")
	echo "wrote $dir/gossip.key"
fi
