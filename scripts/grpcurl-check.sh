#!/usr/bin/env bash
# Calls a running coordinator with the pinned grpcurl (scripts/grpcurl.mod):
# lists the services through reflection, calls the unary CountTexts, and
# compares the counts with Python's text.split().count(t) (the oracle).
#   scripts/grpcurl-check.sh [BIN]     (default bin/tally, built if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/cluster.sh
bin=${1:-bin/tally}
[ -x "$bin" ] || go build -o "$bin" ./cmd/tally
grpcurl=(go tool -modfile=scripts/grpcurl.mod grpcurl)
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

"$bin" coordinator --listen 127.0.0.1:0 --gossip 127.0.0.1:0 --log-level warn >"$tmp/coord.out" 2>"$tmp/coord.err" &
pids+=($!)
coordinator_addrs "$tmp/coord.out" || { echo "coordinator did not start"; cat "$tmp/coord.err"; exit 1; }
addr=$ADDR gossip=$GOSSIP
"$bin" worker --join "$gossip" --log-level warn >/dev/null 2>"$tmp/worker.err" &
pids+=($!)

passed=0 failed=0
check() { if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: $*"; fi; }

services=$("${grpcurl[@]}" -plaintext "$addr" list)
echo "$services"
check grep -qx tally.v1.CoordinatorService <<<"$services"
check grep -qx grpc.health.v1.Health <<<"$services"
methods=$("${grpcurl[@]}" -plaintext "$addr" list tally.v1.CoordinatorService)
check grep -qx tally.v1.CoordinatorService.CountTexts <<<"$methods"

texts='["The Zen of Python\nBeautiful is better than ugly.\nthe the", "is is\u00a0is\u3000is\nthe end", ""]'
targets='["the", "is", "The"]'
request=$(python3 -c "import json,sys; print(json.dumps({'texts': json.loads(sys.argv[1]), 'query': {'mode': 'MODE_TOKEN', 'targets': json.loads(sys.argv[2])}}))" "$texts" "$targets")
wait_ready "$bin" "$addr" || { echo "no worker became ready"; cat "$tmp/worker.err"; exit 1; }
response=$("${grpcurl[@]}" -plaintext -d "$request" "$addr" tally.v1.CoordinatorService/CountTexts)
echo "$response"
check python3 - "$texts" "$targets" "$response" <<'PY'
import json, sys
texts, targets, resp = json.loads(sys.argv[1]), json.loads(sys.argv[2]), json.loads(sys.argv[3])
ok = True
for i, text in enumerate(texts):
    want = [text.split().count(t) for t in targets]
    got = [int(c) for c in resp["documents"][i].get("counts", [])] or [0] * len(targets)
    if got != want:
        print(f"text {i}: got {got}, want {want}"); ok = False
total = [sum(t.split().count(x) for t in texts) for x in targets]
if [int(c) for c in resp["total"]["counts"]] != total:
    print(f"total: got {resp['total']['counts']}, want {total}"); ok = False
sys.exit(0 if ok else 1)
PY
echo "grpcurl-check: $passed passed, $failed failed"
[ "$failed" = 0 ]
