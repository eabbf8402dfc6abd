#!/usr/bin/env bash
# Tests the Python package as a user gets it: checks the generated stubs are
# fresh, builds the tally binary, installs ./python offline into a fresh venv
# (Debian's grpcio and protobuf through --system-site-packages), runs pytest
# against real coordinators and workers, then the seed benchmark briefly.
#   scripts/python-test.sh           (TALLY_BENCH_QUICK=0 for the full benchmark)
# Needs: apt-get install python3-grpcio python3-pytest
#   python3-pytest-benchmark python3-venv python3-setuptools python3-wheel protobuf-compiler
#   protobuf-compiler-grpc
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
py=/usr/bin/python3

scripts/gen-python.sh --check
go build -o bin/tally ./cmd/tally
export TALLY_BINARY=$repo/bin/tally
unset TALLY_COORDINATOR TALLY_TOKEN

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Installed from a copy: pip's in-tree build leaves build/ and *.egg-info behind.
cp -r python "$tmp/src"
rm -rf "$tmp/src/build" "$tmp/src"/*.egg-info
"$py" -m venv --system-site-packages "$tmp/venv"
"$tmp/venv/bin/pip" install -q --no-build-isolation --no-index "$tmp/src"

# Run from the temporary directory, so that "import tally" is the installed
# package and not the source tree.
cd "$tmp"
installed=$("$tmp/venv/bin/python" -c 'import tally; print(tally.__file__)')
[[ $installed == "$tmp/venv/"* ]] || { echo "python-test: imported tally from $installed, not the venv" >&2; exit 1; }
"$tmp/venv/bin/python" -m pytest -p no:cacheprovider -q "$repo/python/tests"
TALLY_BENCH_QUICK=${TALLY_BENCH_QUICK:-1} "$tmp/venv/bin/python" -m pytest -p no:cacheprovider -q \
	"$repo/python/benchmarks" --benchmark-sort=mean --benchmark-columns=min,mean,max,rounds \
	| sed -u "s/.*\r//" # pytest-benchmark rewrites its progress line with \r, for a terminal
