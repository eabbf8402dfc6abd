#!/usr/bin/env bash
# Generates the Python stubs of the client API (proto/tally/v1/common.proto and
# coordinator.proto) into python/tally/v1/, where protoc's
# "from tally.v1 import common_pb2" resolves inside the tally package:
#   scripts/gen-python.sh           write them
#   scripts/gen-python.sh --check   regenerate into a temporary directory and
#                                   fail if the committed ones differ
#
# The generator is Debian's protoc (protobuf-compiler) with its gRPC Python
# plugin (protobuf-compiler-grpc), the versions that match Debian's runtime
# (python3-protobuf 3.21.12, python3-grpcio 1.51.1). Debian's grpc_tools
# (python3-grpc-tools 1.14.1) bundles protoc 3.5.1, which predates proto3
# "optional" (Stats.lines and Stats.tokens) and refuses these files.
set -euo pipefail
cd "$(dirname "$0")/.."

want_protoc="libprotoc 3.21.12"
want_plugin="1.51.1"
apt_hint="apt-get install protobuf-compiler protobuf-compiler-grpc"

protoc=$(command -v protoc) || { echo "gen-python: protoc not found: $apt_hint" >&2; exit 1; }
plugin=$(command -v grpc_python_plugin) || { echo "gen-python: grpc_python_plugin not found: $apt_hint" >&2; exit 1; }
got_protoc=$("$protoc" --version)
if [[ $got_protoc != "$want_protoc" ]]; then
	echo "gen-python: expected $want_protoc, found $got_protoc: the stubs may differ from the committed ones" >&2
	exit 1
fi
got_plugin=$(dpkg-query -W -f='${Version}' protobuf-compiler-grpc 2>/dev/null || echo unknown)
if [[ $got_plugin != "$want_plugin"* ]]; then
	echo "gen-python: expected protobuf-compiler-grpc $want_plugin, found $got_plugin: the stubs may differ from the committed ones" >&2
	exit 1
fi

out=python/tally/v1
generate() { # into directory $1
	"$protoc" -Iproto -I/usr/include --python_out="$1" --grpc_out="$1" \
		--plugin=protoc-gen-grpc="$plugin" proto/tally/v1/common.proto proto/tally/v1/coordinator.proto
	rm "$1/tally/v1/common_pb2_grpc.py" # common.proto has no service: an empty module
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
generate "$tmp"
if [[ ${1:-} == --check ]]; then
	stale=0
	for f in "$tmp"/tally/v1/*.py; do
		if ! cmp -s "$f" "$out/$(basename "$f")"; then
			echo "gen-python: $out/$(basename "$f") is stale" >&2
			stale=1
		fi
	done
	for f in "$out"/*_pb2*.py; do
		[[ -e $tmp/tally/v1/$(basename "$f") ]] || { echo "gen-python: $f is not generated any more" >&2; stale=1; }
	done
	if ((stale)); then
		echo "gen-python: run scripts/gen-python.sh and commit the result" >&2
		exit 1
	fi
	echo "gen-python: python/tally/v1 is fresh"
	exit 0
fi
rm -f "$out"/*_pb2*.py
cp "$tmp"/tally/v1/*.py "$out"/
echo "gen-python: wrote $(cd "$out" && ls *_pb2*.py | tr '\n' ' ')"
