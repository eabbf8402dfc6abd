#!/usr/bin/env bash
# Another Go module imports tally's client by its module path, as a service
# would: a tiny module made in a temporary directory (with a replace line to
# this checkout) builds against it, `go list -deps` shows that the import
# brings no counting kernel, memberlist or metrics library, and the program
# counts files through a coordinator and worker on loopback with the same
# answers as Python's text.split().count(t).
#   scripts/external-client.sh [BIN]     (default bin/tally, built if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/cluster.sh
root=$PWD
bin=${1:-bin/tally}
[ -x "$bin" ] || go build -o "$bin" ./cmd/tally
mod=$(go list -m)
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
passed=0 failed=0
check() { if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: $*"; fi; }

mkdir "$tmp/wordcount"
cat >"$tmp/wordcount/go.mod" <<MOD
module example.com/wordcount

go $(go list -m -f '{{.GoVersion}}')

require $mod v0.0.0-00010101000000-000000000000

replace $mod => $root
MOD
cat >"$tmp/wordcount/main.go" <<GO
// wordcount counts each target in each file through a tally cluster and
// prints one line per file: the name, then the counts.
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"strings"

	"$mod/client"
	"$mod/query"
)

func main() {
	addr, targets, paths := os.Args[1], strings.Split(os.Args[2], ","), os.Args[3:]
	c, err := client.Dial(addr)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	docs, err := client.FileDocuments(paths, nil, client.FileOptions{})
	if err != nil {
		log.Fatal(err)
	}
	job := client.Job{
		Query:     query.Job{Spec: query.Spec{Count: &query.Count{Mode: query.Token, Targets: targets}}},
		Documents: docs,
	}
	res, err := c.Run(context.Background(), job, nil)
	if err != nil {
		log.Fatal(err)
	}
	for _, d := range res.Documents {
		fmt.Println(d.Name, strings.Trim(fmt.Sprint(d.Counts), "[]"))
	}
	// A typed error to branch on: no such job.
	if _, err := c.GetJob(context.Background(), "no-such-job"); !errors.Is(err, client.ErrNotFound) {
		log.Fatalf("GetJob of a missing job: got %v, want client.ErrNotFound", err)
	}
}
GO
(cd "$tmp/wordcount" && go mod tidy && go build -o wordcount .)
echo "external module example.com/wordcount builds against $mod/client"

# What the import costs: none of these may be among its dependencies.
deps=$(cd "$tmp/wordcount" && go list -deps .)
echo "$(grep -c . <<<"$deps") packages in its build, $(grep -c "^$mod/" <<<"$deps") of them tally's: $(grep "^$mod/" <<<"$deps" | sed "s#^$mod/##" | tr '\n' ' ')"
for banned in github.com/hashicorp/memberlist github.com/prometheus "$mod/count" "$mod/worker" "$mod/coordinator" "$mod/metrics" "$mod/cluster"; do
	check bash -c '! grep -q "^$1\(/\|$\)" <<<"$2" || { echo "the client import pulls in $1"; false; }' _ "$banned" "$deps"
done

"$bin" coordinator --listen 127.0.0.1:0 --gossip 127.0.0.1:0 --log-level warn >"$tmp/coord.out" 2>"$tmp/coord.err" &
pids+=($!)
coordinator_addrs "$tmp/coord.out" || { echo "coordinator did not start"; cat "$tmp/coord.err"; exit 1; }
addr=$ADDR gossip=$GOSSIP
"$bin" worker --join "$gossip" --log-level warn >/dev/null 2>"$tmp/worker.err" &
pids+=($!)
wait_ready "$bin" "$addr" || { echo "no worker became ready"; cat "$tmp/worker.err"; exit 1; }

targets=the,Alice,and,rabbit
books=(testdata/text/*.txt)
"$tmp/wordcount/wordcount" "$addr" "$targets" "${books[@]}" >"$tmp/got"
cat "$tmp/got"
check python3 - "$targets" "$tmp/got" "${books[@]}" <<'PY'
import sys
targets, got, paths = sys.argv[1].split(","), sys.argv[2], sys.argv[3:]
want = []
for p in paths:
    text = open(p, encoding="utf-8", errors="surrogateescape").read()
    want.append(p + " " + " ".join(str(text.split().count(t)) for t in targets))
lines = open(got).read().splitlines()
if lines != want:
    print("got:", lines, "want:", want, sep="\n")
    sys.exit(1)
PY
echo "external-client: $passed passed, $failed failed"
[ "$failed" = 0 ]
