#!/usr/bin/env bash
# Screenshots of the coordinator's status page on a real local cluster:
#
#   scripts/status-screenshots.sh [OUTDIR]      (default: docs)
#
# It builds bin/tally, starts a coordinator (with --metrics-listen, which
# serves the page) and 3 workers on 127.0.0.1, each slowed to THROTTLE
# bytes per second and thread (so that the job lasts), and runs a count job
# over SIZE_MB MB of text in 8 documents (../shared/corpora if present, else
# generated). It writes, with headless Chromium:
#
#   OUTDIR/status-running-job.png   the job's page, running on 3 workers
#   OUTDIR/status-worker-killed.png the cluster page after one worker was
#                                   killed (SIGKILL): suspect, then left
#   OUTDIR/status-redispatched.png  the job's page after that: the chunks the
#                                   dead worker held, sent again ("lost")
#
# Environment: SIZE_MB (120), THROTTLE (2MB), CHROMIUM (chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/cluster.sh

out=${1:-docs}
size_mb=${SIZE_MB:-120}
throttle=${THROTTLE:-2MB}
chromium=${CHROMIUM:-chromium}
bin=bin/tally
command -v "$chromium" >/dev/null || { echo "status-screenshots: no $chromium (apt-get install chromium)" >&2; exit 1; }
mkdir -p "$out"

work=$(mktemp -d "${TMPDIR:-/tmp}/tally-status-XXXXXX")
pids=()
cleanup() {
  stop_all
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { echo "status-screenshots: $*"; }

# until_true SECONDS CMD...: runs CMD every 0.2 s until it succeeds.
until_true() {
  local limit=$(($1 * 5)) n=0
  shift
  until "$@"; do
    sleep 0.2
    n=$((n + 1))
    if [ $n -gt $limit ]; then return 1; fi
  done
}

say "building $bin"
go build -o "$bin" ./cmd/tally

# The text: SIZE_MB MB in 8 documents.
corpus=$work/corpus.txt
want=$((size_mb * 1000 * 1000))
if compgen -G "../shared/corpora/*.txt" >/dev/null; then
  while [ "$(stat -c %s "$corpus" 2>/dev/null || echo 0)" -lt "$want" ]; do cat ../shared/corpora/*.txt >>"$corpus"; done
else
  awk 'BEGIN { srand(1); split("the of and to a in that is was he for it with as his on be at by I Holmes sand whale", w, " ");
               while (n < '"$want"') { line = ""; k = 1 + int(rand() * 12);
                 for (i = 0; i < k; i++) line = line w[1 + int(rand() * 22)] " "; print line; n += length(line) + 1 } }' >"$corpus"
fi
mkdir -p "$work/books"
head -c "$want" "$corpus" >"$corpus.cut"
split -n l/8 -d --additional-suffix=.txt "$corpus.cut" "$work/books/part-"
rm "$corpus" "$corpus.cut"
mv "$work/books/part-07.txt" "$work/books/notes <draft> & more.txt" # a name that must be escaped

# first_line FILE: FILE's first line, once it has one.
first_line() { until_true 30 grep -q . "$1" && head -1 "$1"; }

say "starting a coordinator and 3 workers (--throttle $throttle, one thread each)"
"$bin" coordinator --listen 127.0.0.1:0 --gossip 127.0.0.1:0 --metrics-listen 127.0.0.1:0 \
  >"$work/coordinator.out" 2>"$work/coordinator.err" &
pids+=($!)
line=$(first_line "$work/coordinator.out")
grpc=$(echo "$line" | sed -n 's/coordinator listening on \([^,]*\), gossip on \(.*\)$/\1/p')
gossip=$(echo "$line" | sed -n 's/coordinator listening on \([^,]*\), gossip on \(.*\)$/\2/p')
page=$(sed -n 's/.*serving the status page.*addr=\(http:[^ ]*\).*/\1/p' "$work/coordinator.err" | head -1)
[ -n "$page" ] || { say "no status page address in the coordinator's log"; cat "$work/coordinator.err" >&2; exit 1; }
say "coordinator $grpc, status page $page"

worker_pids=()
for i in 1 2 3; do
  "$bin" worker --join "$gossip" --name "worker-$i" --threads 1 --throttle "$throttle" \
    >"$work/worker-$i.out" 2>"$work/worker-$i.err" &
  pids+=($!)
  worker_pids+=($!)
done

# workers_in STATE N: the cluster page lists N workers in STATE.
workers_in() { [ "$(curl -fsS "${page}api/cluster" | grep -o "\"state\":\"$1\"" | wc -l)" -eq "$2" ]; }
until_true 30 workers_in alive 3 || { say "the workers did not all join"; exit 1; }

say "running a count job over $size_mb MB"
TALLY_COORDINATOR=$grpc "$bin" count -e the -e whale -e Holmes --chunk-size 1MB "$work/books"/* >"$work/count.out" 2>"$work/count.err" &
count_pid=$!
job_running() { curl -fsS "${page}api/jobs" | grep -q '"state":"running"'; }
until_true 30 job_running || { say "no job running"; exit 1; }
job=$(curl -fsS "${page}api/jobs" | sed -n 's/^{"jobs":\[{"id":"\([0-9a-f]*\)".*/\1/p')

# shot FILE URL HEIGHT: a screenshot of URL once its script has polled.
shot() {
  "$chromium" --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size="1200,$3" \
    --virtual-time-budget=3000 --screenshot="$1" "$2" >/dev/null 2>&1
  say "wrote $1"
}

sleep 6 # a few samples for the chart
shot "$out/status-running-job.png" "${page}jobs/$job" 1350

say "killing worker-3 (SIGKILL)"
kill -KILL "${worker_pids[2]}"
{ wait "${worker_pids[2]}"; } 2>/dev/null || true # bash would report "Killed"
until_true 20 workers_in suspect 1 || until_true 20 workers_in left 1 || true
until_true 40 workers_in left 1 || say "worker-3 not declared dead yet: the page shows it as suspect"
shot "$out/status-worker-killed.png" "$page" 800
shot "$out/status-redispatched.png" "${page}jobs/$job" 1500

wait "$count_pid" || { say "the count failed"; cat "$work/count.err" >&2; exit 1; }
say "the job finished on the 2 workers left:"
cat "$work/count.out"
