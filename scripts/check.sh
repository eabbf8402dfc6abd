#!/usr/bin/env bash
# Static checks CI runs besides the tests: formatting, vet, buf lint, and that
# the generated protobuf code is exactly what the pinned generators produce.
set -euo pipefail
cd "$(dirname "$0")/.."

unformatted=$(gofmt -l $(git ls-files '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi
go vet ./...

go tool -modfile=scripts/buf.mod buf lint
go tool -modfile=scripts/buf.mod buf generate
if ! git diff --exit-code -- proto/ || [ -n "$(git ls-files --others --exclude-standard proto/)" ]; then
  echo "generated code in proto/ is stale: run scripts/gen.sh and commit the result"; exit 1
fi
# The Python stubs too, where Debian's generator is installed; CI installs
# it and checks them in scripts/python-test.sh either way.
if command -v protoc >/dev/null && command -v grpc_python_plugin >/dev/null; then
  scripts/gen-python.sh --check
else
  echo "check: Python stubs not checked (apt-get install protobuf-compiler protobuf-compiler-grpc); scripts/python-test.sh checks them"
fi
echo "check: gofmt, vet, buf lint and generated code are clean"
