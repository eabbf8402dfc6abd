#!/usr/bin/env bash
# Straggler check: one worker slowed 10x out of 3 must cost at most 1.5x the
# job time without it.
#
#   scripts/straggler.sh
#
# It builds bin/tally, starts a coordinator and 3 workers on 127.0.0.1 with
# --threads 1 --throttle 20MB (so the job is I/O-bound by design, not bound by
# this machine's cores), times a count job over ~60 MB (../shared/corpora
# concatenated, or generated text if absent) RUNS times and takes the median;
# then does the same with worker 3 at --throttle 2MB. It prints a table and the
# ratio, and exits 1 if the ratio is above LIMIT.
#
# Environment: RUNS (3), SIZE_MB (60), FAST (20MB), SLOW (2MB), LIMIT (1.5).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/cluster.sh

runs=${RUNS:-3}
size_mb=${SIZE_MB:-60}
fast=${FAST:-20MB}
slow=${SLOW:-2MB}
limit=${LIMIT:-1.5}
bin=bin/tally

work=$(mktemp -d "${TMPDIR:-/tmp}/tally-straggler-XXXXXX")
pids=()

cleanup() {
  stop_all
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "straggler: building $bin"
go build -o "$bin" ./cmd/tally

# The corpus: ~SIZE_MB MB in one file.
data=$work/corpus.txt
want=$((size_mb * 1000 * 1000))
if compgen -G "../shared/corpora/*.txt" >/dev/null; then
  src="../shared/corpora/*.txt"
  while [ "$(stat -c %s "$data" 2>/dev/null || echo 0)" -lt "$want" ]; do
    cat ../shared/corpora/*.txt >>"$data"
  done
else
  src="generated text"
  awk 'BEGIN { srand(1); split("the of and to a in that is was he for it with as his on be at by I Holmes sand whale", w, " ");
               while (n < '"$want"') { line = ""; k = 1 + int(rand() * 12);
                 for (i = 0; i < k; i++) line = line w[1 + int(rand() * 22)] " "; print line; n += length(line) + 1 } }' >"$data"
fi
head -c "$want" "$data" >"$data.cut" && mv "$data.cut" "$data"
echo "straggler: corpus $(($(stat -c %s "$data") / 1000000)) MB from $src"

# wait_line FILE prints FILE's first line once it has one (30 s at most).
wait_line() {
  local n=0
  while ! [ -s "$1" ] || ! head -1 "$1" | grep -q .; do
    sleep 0.05
    n=$((n + 1))
    if [ $n -gt 600 ]; then
      echo "straggler: no first line in $1" >&2
      return 1
    fi
  done
  head -1 "$1"
}

# start_cluster THROTTLE3 starts a coordinator and w1, w2 at $fast and w3 at THROTTLE3.
start_cluster() {
  "$bin" coordinator --listen 127.0.0.1:0 --gossip 127.0.0.1:0 >"$work/coordinator.out" 2>"$work/coordinator.err" &
  pids+=($!)
  local line
  line=$(wait_line "$work/coordinator.out")
  addr=$(sed -E 's/^coordinator listening on ([^,]+), gossip on (.*)$/\1/' <<<"$line")
  gossip=$(sed -E 's/^coordinator listening on ([^,]+), gossip on (.*)$/\2/' <<<"$line")
  local i throttle
  for i in 1 2 3; do
    throttle=$fast
    [ $i = 3 ] && throttle=$1
    "$bin" worker --join "$gossip" --listen 127.0.0.1:0 --gossip 127.0.0.1:0 --threads 1 --name "w$i" --throttle "$throttle" \
      >"$work/w$i.out" 2>"$work/w$i.err" &
    pids+=($!)
    wait_line "$work/w$i.out" >/dev/null
  done
  local n=0
  # cluster --json is one line: count the ready states, not the lines.
  until [ "$("$bin" cluster --json --coordinator "$addr" | grep -o '"state": *"ready"' | wc -l)" = 3 ]; do
    sleep 0.1
    n=$((n + 1))
    if [ $n -gt 300 ]; then
      echo "straggler: 3 workers not ready after 30s" >&2
      return 1
    fi
  done
}

# time_jobs LABEL runs the job $runs times and sets median to the median wall time in seconds.
time_jobs() {
  local times=() i t0 t1 out
  for ((i = 1; i <= runs; i++)); do
    out=$work/$1-$i.json
    t0=$(date +%s.%N)
    "$bin" count -e the -e Holmes -e sand -e whale --json --coordinator "$addr" "$data" >"$out"
    t1=$(date +%s.%N)
    times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')")
    # Every run must give the same answer (the job id, workers and time aside).
    sed -E 's/"job":"[^"]*"|"workers":[0-9]+|"elapsed_seconds":[0-9.e+-]+//g' "$out" >"$out.answer"
    if [ -f "$work/first.answer" ]; then
      cmp -s "$work/first.answer" "$out.answer" || { echo "straggler: $1 run $i: answer differs from the first run's" >&2; exit 1; }
    else
      cp "$out.answer" "$work/first.answer"
    fi
    echo "straggler: $1 run $i: ${times[-1]} s"
  done
  median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
  all_times="${times[*]}"
}

start_cluster "$fast"
time_jobs even
even=$median even_all=$all_times
stop_all

start_cluster "$slow"
time_jobs straggler
straggler=$median straggler_all=$all_times
stop_all

ratio=$(awk -v a="$straggler" -v b="$even" 'BEGIN { printf "%.2f", a / b }')
echo
printf '%-44s %8s   %s\n' "config (3 workers, --threads 1)" "median s" "runs"
printf '%-44s %8s   %s\n' "all at $fast/s" "$even" "$even_all"
printf '%-44s %8s   %s\n' "w3 at $slow/s (the straggler)" "$straggler" "$straggler_all"
echo "ratio: $ratio (limit $limit)"
if awk -v r="$ratio" -v l="$limit" 'BEGIN { exit !(r > l) }'; then
  echo "straggler: FAIL: one slow worker costs ${ratio}x, more than ${limit}x"
  exit 1
fi
echo "straggler: ok"
